import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appEngineAppYaml, appEngineReleaseFile, appEngineSettingsDigest, appEngineVersionId, appEngineVersionSettings } from "../../lib/plan/app-engine-version.js";
import { appEngineReleaseScript, appEngineReleaseSteps, instanceGroupReleaseScript, instanceGroupReleaseSteps } from "../../lib/plan/cloud-build.js";
import { GCP_GITHUB_ROLES, githubPoolId, planGcpGithubDelivery } from "../../lib/plan/gcp-github-delivery.js";
import { planLandingZone } from "../../lib/plan/planner.js";
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

describe("GitHub Actions delivery plan on GCP App Engine (paas)", () => {
  const plan = planLandingZone(github(offOnVms("paas")), { engine: "pulumi" });
  const gcp = planGcpGithubDelivery(plan)!;
  const orders = plan.delivery!.services.find((s) => s.service === "orders")!;
  const run = serviceWorkflow(plan, orders).jobs.deploy.steps[1]!.run!;
  const settings = appEngineVersionSettings(plan, "orders", {
    serviceAccount: "shop-orders@shop-prod.iam.gserviceaccount.com",
    envVariables: { SERVICE_NAME: "orders", PRICE: "$5 'net'" },
    network: { name: "shop-prod", subnetwork: "shop-prod-services" },
  });
  const PUSHED = `asia-northeast3-docker.pkg.dev/shop-prod/orders/orders@sha256:${"1".repeat(64)}`;

  /** Runs the deploy job's script with bash against a fake gcloud that serves `appYaml` as the secret and records its calls. */
  function runRelease(appYaml: string, failing?: string): { status: number; calls: string[]; deployedYaml: string } {
    const dir = mkdtempSync(join(tmpdir(), "gh-app-engine-"));
    writeFileSync(join(dir, "secret"), appYaml);
    writeFileSync(
      join(dir, "gcloud"),
      [
        "#!/bin/bash",
        `DIR=${dir}`,
        'if [[ "$*" == "secrets versions add"* ]]; then echo "gcloud $* <<< $(cat)" >> "$DIR/calls"; else echo "gcloud $*" >> "$DIR/calls"; fi',
        ...(failing ? [`if [[ "$*" == *"${failing}"* ]]; then exit 1; fi`] : []),
        'if [[ "$*" == "secrets versions access"* ]]; then cat "$DIR/secret"; fi',
        'if [[ "$*" == "app deploy"* ]]; then cp app.yaml "$DIR/deployed.yaml"; fi',
        'if [[ "$*" == "app versions list"* ]]; then echo v-previous; fi',
        'if [[ "$*" == "app versions describe"* ]]; then echo SERVING; fi',
        "exit 0",
        "",
      ].join("\n"),
    );
    chmodSync(join(dir, "gcloud"), 0o755);
    let status = 0;
    try {
      // GitHub runs a step with `bash -e`.
      execFileSync("bash", ["-e", "-c", run], { cwd: dir, env: { ...process.env, PATH: `${dir}:${process.env["PATH"]}`, IMAGE: PUSHED }, stdio: "pipe" });
    } catch (error) {
      status = (error as { status: number }).status;
    }
    const read = (file: string) => {
      try {
        return readFileSync(join(dir, file), "utf8");
      } catch {
        return "";
      }
    };
    return { status, calls: read("calls").trim().split("\n").filter(Boolean), deployedYaml: read("deployed.yaml") };
  }

  it("plans no custom role, and per service the App Engine service and the app.yaml secret the workflow names", () => {
    expect(gcp.deployerRoleId).toBeUndefined();
    expect(gcp.services.find((s) => s.service === "orders")).toEqual({
      service: "orders",
      publishAccountId: "shop-orders-pub",
      publishSubject: "repo:acme/orders:ref:refs/heads/release/v1",
      deployAccountId: "shop-orders-dep",
      deploySubject: "repo:acme/orders:environment:prod",
      namespace: orders.deploy.namespace,
      deployment: orders.deploy.deployment,
      releaseSecret: "shop-prod-orders-release",
      // The plan's first service is App Engine's default service.
      appEngineService: "default",
      appYamlSecret: "shop-prod-orders-appyaml",
    });
    expect(gcp.services.find((s) => s.service === "payments")!.appEngineService).toBe("payments");
    // Cloud Build's App Engine account holds exactly these predefined roles too.
    expect([GCP_GITHUB_ROLES.appEngineDeploy, GCP_GITHUB_ROLES.appEngineTraffic, GCP_GITHUB_ROLES.runtimeUser, GCP_GITHUB_ROLES.readAppYaml]).toEqual(["roles/appengine.deployer", "roles/appengine.serviceAdmin", "roles/iam.serviceAccountUser", "roles/secretmanager.secretAccessor"]);
  });

  it("builds, then in the prod environment signs in as the deploy account, fetches the app.yaml and runs the release script Cloud Build runs", () => {
    const workflow = serviceWorkflow(plan, orders);
    expect(workflow.jobs.deploy).toMatchObject({ needs: "build", environment: "prod", permissions: { "id-token": "write" }, env: { IMAGE: "${{ needs.build.outputs.image }}" } });
    expect(workflow.jobs.deploy.steps.map((s) => s.name)).toEqual(["Google Cloud credentials (Workload Identity Federation)", "Release to App Engine"]);
    expect(workflow.jobs.deploy.steps[0]!.with).toEqual({ workload_identity_provider: "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}", service_account: "${{ vars.GCP_DEPLOY_SERVICE_ACCOUNT }}" });
    const service = gcp.services.find((s) => s.service === "orders")!.appEngineService!;
    const shared = appEngineReleaseScript({ service, releaseSecret: "shop-prod-orders-release" }, "$IMAGE", "$DIGEST").join("\n");
    expect(run.startsWith('gcloud secrets versions access latest --secret "shop-prod-orders-appyaml" > app.yaml\n')).toBe(true);
    expect(run.endsWith(`\n${shared}`)).toBe(true);
    // Cloud Build's deploy step runs the same script after writing its app.yaml, once its substitutions are set and its $$ are bash's $.
    const digest = appEngineSettingsDigest(settings);
    const cloudBuild = appEngineReleaseSteps({ testCommand: "npm test", appYaml: appEngineAppYaml(settings), settingsDigest: digest })
      .find((s) => s.id === "deploy")!
      .args[1].replaceAll("${_SERVICE}", service)
      .replaceAll("${_RELEASE_SECRET}", "shop-prod-orders-release")
      .replaceAll("$$", "$");
    expect(cloudBuild.endsWith(`\n${appEngineReleaseScript({ service, releaseSecret: "shop-prod-orders-release" }, "$IMAGE", digest).join("\n")}`)).toBe(true);
  });

  it("deploys the stored app.yaml under the version id Pulumi computes, promotes it and records the image", () => {
    const service = gcp.services.find((s) => s.service === "orders")!.appEngineService!;
    const result = runRelease(appEngineReleaseFile(settings));
    expect(result.status).toBe(0);
    const version = appEngineVersionId(PUSHED, settings);
    expect(result.calls).toEqual([
      "gcloud secrets versions access latest --secret shop-prod-orders-appyaml",
      `gcloud app versions list --service ${service} --filter traffic_split>0.5 --format value(id) --limit 1`,
      `gcloud app deploy app.yaml --image-url ${PUSHED} --version ${version} --no-promote --quiet`,
      `gcloud app versions describe ${version} --service ${service} --format value(servingStatus)`,
      `gcloud app services set-traffic ${service} --splits ${version}=1 --quiet`,
      `gcloud secrets versions add shop-prod-orders-release --data-file=- <<< ${PUSHED}`,
    ]);
    expect(result.deployedYaml).toBe(appEngineReleaseFile(settings));
  });

  it("sends traffic back to the previous version and fails when the promotion fails", () => {
    const service = gcp.services.find((s) => s.service === "orders")!.appEngineService!;
    const result = runRelease(appEngineReleaseFile(settings), "--splits v-");
    expect(result.status).toBe(1);
    expect(result.calls.at(-1)).toBe(`gcloud app services set-traffic ${service} --splits v-previous=1 --quiet`);
    expect(result.calls.some((c) => c.startsWith("gcloud secrets versions add"))).toBe(false);
  });

  it("refuses an app.yaml without the settings' digest before deploying anything", () => {
    const result = runRelease(appEngineAppYaml(settings));
    expect(result.status).toBe(1);
    expect(result.calls).toEqual(["gcloud secrets versions access latest --secret shop-prod-orders-appyaml"]);
  });

  it("deploys without approval outside prod, in the dev environment, and writes every service's workflow", () => {
    const dev = planLandingZone(github({ ...offOnVms("paas"), environment: "dev" }), { engine: "pulumi" });
    const workflow = serviceWorkflow(dev, dev.delivery!.services[0]!);
    expect(workflow.jobs.deploy.environment).toBe("dev");
    expect(workflow.jobs.deploy.steps[1]!.run).toContain(`--secret "shop-dev-${dev.delivery!.services[0]!.service}-appyaml"`);
    expect(githubWorkflowFiles(plan, "landing-zone.yaml").filter((f) => f.path.startsWith(".github/workflows/")).length).toBeGreaterThanOrEqual(plan.delivery!.services.length);
  });
});
