import { describe, expect, it } from "vitest";
import { instanceGroupReleaseScript, instanceGroupReleaseSteps } from "../../lib/plan/cloud-build.js";
import { githubPoolId, planGcpGithubDelivery } from "../../lib/plan/gcp-github-delivery.js";
import { PlanError, planLandingZone } from "../../lib/plan/planner.js";
import { githubDeploysToCluster, githubWorkflowFiles, serviceWorkflow } from "../../lib/plan/workflows.js";
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

  it("refuses GitHub delivery to App Engine in the planner and in mlz workflows, naming the path, the value and the fix", () => {
    const spec = github(offOnVms("paas"));
    expect(() => planLandingZone(spec, { engine: "pulumi" })).toThrow(PlanError);
    expect(() => planLandingZone(spec, { engine: "pulumi" })).toThrow(/pipelines.provider "github-actions" is not built on gcp\/paas.*Fix: set pipelines.provider: native \(Cloud Build\), tier: caas or iaas/);
    // A draft plan (no engine) still shows, but writes no workflow.
    const draft = planLandingZone(spec);
    expect(draft.delivery?.provider).toBe("github-actions");
    expect(() => githubWorkflowFiles(draft, "landing-zone.yaml")).toThrow(/not built on gcp\/paas/);
  });
});

/** What GCP does not build on VMs and App Engine, turned off. */
const offOnVms = (tier: "iaas" | "paas"): Partial<LandingZoneSpec> => ({
  tier,
  mesh: { ...example.mesh, kind: "none" },
  logging: { ...example.logging, stack: "none", buffer: "none" },
  gateway: { ...example.gateway, auth: "none" },
  auth: { ...example.auth, tokens: "none" },
  tracing: { ...example.tracing, backend: "none" },
});

describe("GitHub Actions delivery plan on GCP VMs (iaas)", () => {
  const plan = planLandingZone(github(offOnVms("iaas")), { engine: "pulumi" });
  const gcp = planGcpGithubDelivery(plan)!;

  it("names each service's managed instance group at plan time and gives the deploy accounts the instance group roller role", () => {
    expect(gcp.deployerRoleId).toBe("shop_prod_mig_roller");
    expect(gcp.services.find((s) => s.service === "orders")).toMatchObject({ deployAccountId: "shop-orders-dep", deploySubject: "repo:acme/orders:environment:prod", releaseSecret: "shop-prod-orders-release", instanceGroup: "shop-prod-orders-vms" });
    expect(gcp.services.map((s) => s.instanceGroup)).toEqual(plan.services.map((s) => `shop-prod-${s.name}-vms`));
    // Only VMs have a group to name.
    expect(planGcpGithubDelivery(planLandingZone(github(), { engine: "pulumi" }))!.services.every((s) => s.instanceGroup === undefined)).toBe(true);
  });

  it("builds, then in the prod environment signs in as the deploy account and runs the release script Cloud Build runs", () => {
    const orders = plan.delivery!.services.find((s) => s.service === "orders")!;
    const workflow = serviceWorkflow(plan, orders);
    expect(workflow.jobs.build.steps.map((s) => s.name)).toEqual(["Check out", "Unit tests", "Google Cloud credentials (Workload Identity Federation)", "Artifact Registry login", "Build and push"]);
    // Pushed where Cloud Build pushes and the VMs accept: <repository url>/<repository>.
    expect(workflow.jobs.build.steps[4]!.env).toEqual({ IMAGE_REPOSITORY: `\${{ vars.GCP_ARTIFACT_REGISTRY }}/${orders.registry}` });
    expect(workflow.jobs.deploy).toMatchObject({ needs: "build", environment: "prod", permissions: { "id-token": "write" }, env: { IMAGE: "${{ needs.build.outputs.image }}" } });
    const steps = workflow.jobs.deploy.steps;
    expect(steps.map((s) => s.name)).toEqual(["Google Cloud credentials (Workload Identity Federation)", "Release to the instance group"]);
    expect(steps[0]!.with).toEqual({ workload_identity_provider: "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}", service_account: "${{ vars.GCP_DEPLOY_SERVICE_ACCOUNT }}" });
    const run = steps[1]!.run!;
    expect(run.split("\n")).toEqual([
      'PREVIOUS="$(gcloud secrets versions access latest --secret "shop-prod-orders-release")"',
      "release() {",
      `  printf '%s' "$1" | gcloud secrets versions add "shop-prod-orders-release" --data-file=- &&`,
      `  gcloud compute instance-groups managed rolling-action replace "shop-prod-orders-vms" --region "asia-northeast3" --max-surge ${plan.network.availabilityZones.length} --max-unavailable 0 &&`,
      '  gcloud compute instance-groups managed wait-until "shop-prod-orders-vms" --region "asia-northeast3" --stable --timeout 600',
      "}",
      'if release "$IMAGE"; then exit 0; fi',
      'echo "Release of $IMAGE failed: rolling shop-prod-orders-vms back to $PREVIOUS"',
      'release "$PREVIOUS" || echo "Rolling shop-prod-orders-vms back failed too: check the group by hand"',
      "exit 1",
    ]);
    // The same commands as Cloud Build's deploy step, once its substitutions are set and its $$ are bash's $.
    const deploy = instanceGroupReleaseSteps({ testCommand: "npm test", zoneCount: plan.network.availabilityZones.length }).find((s) => s.id === "deploy")!.args[1];
    const cloudBuild = deploy
      .replaceAll("${_GROUP}", "shop-prod-orders-vms")
      .replaceAll("${_REGION}", "asia-northeast3")
      .replaceAll("${_RELEASE_SECRET}", "shop-prod-orders-release")
      .replaceAll("$$", "$");
    expect(cloudBuild.endsWith(`\n${run}`)).toBe(true);
    expect(run).toBe(instanceGroupReleaseScript({ group: "shop-prod-orders-vms", region: "asia-northeast3", releaseSecret: "shop-prod-orders-release", zoneCount: plan.network.availabilityZones.length }, "$IMAGE").join("\n"));
  });

  it("deploys without approval outside prod, in the dev environment", () => {
    const dev = planLandingZone(github({ ...offOnVms("iaas"), environment: "dev" }), { engine: "pulumi" });
    const workflow = serviceWorkflow(dev, dev.delivery!.services[0]!);
    expect(workflow.jobs.deploy.environment).toBe("dev");
    expect(workflow.jobs.deploy.steps[1]!.run).toContain(`rolling-action replace "shop-dev-${dev.delivery!.services[0]!.service}-vms"`);
  });
});
