import { describe, expect, it } from "vitest";
import { githubPoolId, planGcpGithubDelivery } from "../../lib/plan/gcp-github-delivery.js";
import { PlanError, planLandingZone } from "../../lib/plan/planner.js";
import { githubDeploysToCluster } from "../../lib/plan/workflows.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../lib/spec/types.js";

const example = loadSpecFile("examples/gcp/landing-zone.yaml");
const github = (overrides: Partial<LandingZoneSpec> = {}): LandingZoneSpec => ({
  ...example,
  ...overrides,
  pipelines: { ...example.pipelines, perService: true, provider: "github-actions", repositoryOwner: "acme", branch: "release/v1" },
});

describe("GitHub Actions delivery plan on GCP", () => {
  it("trusts, per service, the branch for publishing and the GitHub environment for deploying: the subjects every cloud uses", () => {
    const plan = planLandingZone(github(), { engine: "pulumi" });
    const gcp = planGcpGithubDelivery(plan)!;
    expect(gcp.poolId).toBe("gh-shop-prod");
    expect(gcp.deployerRoleId).toBe("shop_prod_gke_deployer");
    const orders = gcp.services.find((s) => s.service === "orders")!;
    expect(orders).toEqual({
      service: "orders",
      publishAccountId: "shop-orders-pub",
      publishSubject: "repo:acme/orders:ref:refs/heads/release/v1",
      deployAccountId: "shop-orders-dep",
      deploySubject: "repo:acme/orders:environment:prod",
      namespace: plan.cluster!.namespace,
      deployment: "orders",
      releaseSecret: "shop-prod-orders-release",
    });
    // Decided once: the same subjects as the delivery plan's, which AWS and Azure trust too.
    for (const service of plan.delivery!.services) {
      const planned = gcp.services.find((s) => s.service === service.service)!;
      expect([planned.publishSubject, planned.deploySubject]).toEqual([service.github.publishSubject, service.github.deploySubject]);
    }
    expect(gcp.services.map((s) => s.service)).toEqual(plan.services.map((s) => s.name));
    expect(githubDeploysToCluster(plan)).toBe(true);
  });

  it("shares its pool with the micro-frontends' deploys", () => {
    const plan = planLandingZone(github(), { engine: "pulumi" });
    expect(githubPoolId("shop", "prod")).toBe(planGcpGithubDelivery(plan)!.poolId);
    expect(plan.frontends!.gcp.githubPoolId).toBe(planGcpGithubDelivery(plan)!.poolId);
  });

  it("is absent with Cloud Build, and off gcp", () => {
    expect(planGcpGithubDelivery(planLandingZone({ ...example, pipelines: { ...example.pipelines, perService: true, repositoryOwner: "acme" } }, { engine: "pulumi" }))).toBeUndefined();
  });

  it("refuses GitHub delivery to VMs and App Engine in the planner, naming the path, the value and the fix", () => {
    for (const tier of ["iaas", "paas"] as const) {
      const spec = github({ tier, mesh: { ...example.mesh, kind: "none" }, logging: { ...example.logging, stack: "none", buffer: "none" }, gateway: { ...example.gateway, auth: "none" }, auth: { ...example.auth, tokens: "none" }, tracing: { ...example.tracing, backend: "none" } });
      expect(() => planLandingZone(spec, { engine: "pulumi" })).toThrow(PlanError);
      expect(() => planLandingZone(spec, { engine: "pulumi" })).toThrow(new RegExp(`pipelines.provider "github-actions" is not built on gcp/${tier}.*Fix: set pipelines.provider: native`));
      // A draft plan (no engine) still shows.
      expect(planLandingZone(spec).delivery?.provider).toBe("github-actions");
    }
  });
});
