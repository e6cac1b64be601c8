import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { INSTANCE_GROUP_ROLLER_PERMISSIONS } from "../../../lib/plan/cloud-build.js";
import { APP_ENGINE_DIGEST_LINE, appEngineSettingsDigest, type AppEngineVersionSettings } from "../../../lib/plan/app-engine-version.js";
import { GKE_DEPLOYER_PERMISSIONS } from "../../../lib/plan/gcp-github-delivery.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { GitHubServiceDelivery } from "../../../lib/pulumi/gcp/github-service-delivery.js";
import { LandingZone } from "../../../lib/pulumi/gcp/landing-zone.js";
import { createLandingZone } from "../../../lib/pulumi/index.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { byType, GCP_CONFIG, MOCK_GCP_PROJECT, MOCK_GCP_PROJECT_NUMBER, runProgram, single, type RegisteredResource } from "../harness.js";

const REGION = "asia-northeast3";
const POOL = `projects/${MOCK_GCP_PROJECT_NUMBER}/locations/global/workloadIdentityPools/gh-shop-prod`;
type Obj = { kind: string; metadata: { name: string; namespace: string }; rules?: unknown; subjects?: unknown; roleRef?: unknown };

/** The GCP example (GKE) whose services build and deploy from acme's GitHub workflows. */
function withGithub(environment: "prod" | "dev" = "prod"): LandingZoneSpec {
  const spec = loadSpecFile("examples/gcp/landing-zone.yaml");
  return { ...spec, environment, frontends: undefined, pipelines: { ...spec.pipelines, perService: true, provider: "github-actions", repositoryOwner: "acme", branch: "release/v1" } };
}

const email = (account: string) => `${account}@${MOCK_GCP_PROJECT}.iam.gserviceaccount.com`;
const member = (account: string) => `serviceAccount:${email(account)}`;
const accountName = (account: string) => `projects/${MOCK_GCP_PROJECT}/serviceAccounts/${email(account)}`;
const repositoryName = (repository: string) => `projects/${MOCK_GCP_PROJECT}/locations/${REGION}/repositories/${repository}`;
/** Each grant to `principal`: type, role, what it is on. */
const grantsOf = (resources: readonly RegisteredResource[], principal: string) =>
  resources.filter((r) => r.inputs["member"] === principal).map((r) => [r.type.split(":").pop(), r.inputs["role"], r.inputs["repository"] ?? r.inputs["secretId"] ?? r.inputs["serviceAccountId"] ?? r.inputs["project"]]);

describe("LandingZone on GCP with GitHub Actions delivery, prod (GKE)", () => {
  const spec = withGithub();
  const plan = planLandingZone(spec, { engine: "pulumi" });
  let resources: RegisteredResource[];
  const outputs: Record<string, unknown> = {};
  beforeAll(async () => {
    ({ resources } = await runProgram(
      () => {
        const lz = new LandingZone("shop", { spec });
        for (const [key, output] of Object.entries(lz.outputs)) output.apply((v) => (outputs[key] = v));
      },
      { config: GCP_CONFIG },
    ));
  });

  it("creates no Cloud Build trigger, account or pool, and one GitHub delivery per service and BFF", () => {
    expect(byType(resources, "gcp:cloudbuild/trigger:Trigger")).toEqual([]);
    expect(byType(resources, "msa:gcp:ServiceDelivery")).toEqual([]);
    expect(byType(resources, "gcp:cloudbuild/workerPool:WorkerPool")).toEqual([]);
    expect(byType(resources, "msa:gcp:GitHubServiceDelivery").map((r) => r.name)).toEqual(plan.services.map((s) => `shop-${s.name}-github`));
  });

  it("signs in through one pool whose provider admits only the owner's repositories", () => {
    expect(single(resources, "gcp:iam/workloadIdentityPool:WorkloadIdentityPool", "shop-github-pool").inputs).toMatchObject({ workloadIdentityPoolId: "gh-shop-prod" });
    expect(single(resources, "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider", "shop-github-provider").inputs).toMatchObject({ attributeCondition: "assertion.repository_owner == 'acme'" });
    expect(byType(resources, "gcp:iam/workloadIdentityPool:WorkloadIdentityPool")).toHaveLength(1);
  });

  it("lets only the branch's workflow act as the publish account and only the repository's environment act as the deploy account", () => {
    for (const service of plan.services) {
      const repository = plan.delivery!.services.find((s) => s.service === service.name)!.source.name;
      const impersonations = byType(resources, "gcp:serviceaccount/iAMMember:IAMMember").filter((r) => r.name.startsWith(`shop-${service.name}-github-`));
      expect(impersonations.map((r) => r.inputs)).toEqual([
        { serviceAccountId: accountName(`shop-${service.name}-pub`), role: "roles/iam.workloadIdentityUser", member: `principal://iam.googleapis.com/${POOL}/subject/repo:acme/${repository}:ref:refs/heads/release/v1` },
        { serviceAccountId: accountName(`shop-${service.name}-dep`), role: "roles/iam.workloadIdentityUser", member: `principal://iam.googleapis.com/${POOL}/subject/repo:acme/${repository}:environment:prod` },
      ]);
    }
    // No key, and no pool-wide or repository-wide principal set.
    expect(byType(resources, "gcp:serviceaccount/key:Key")).toEqual([]);
    expect(resources.some((r) => String(r.inputs["member"] ?? "").startsWith("principalSet://"))).toBe(false);
  });

  it("lets the publish account write only its own repository, and nothing else", () => {
    for (const service of plan.services) {
      expect(grantsOf(resources, member(`shop-${service.name}-pub`))).toEqual([["RepositoryIamMember", "roles/artifactregistry.writer", repositoryName(service.repository)]]);
      expect(single(resources, "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", `shop-${service.name}-github-push`).inputs["location"]).toBe(REGION);
    }
  });

  it("gives the deploy account the deployer role (get, credentials, connect) and version adder on its own release secret only", () => {
    const role = single(resources, "gcp:projects/iAMCustomRole:IAMCustomRole", "shop-gke-deployer");
    expect(role.inputs["roleId"]).toBe("shop_prod_gke_deployer");
    expect(role.inputs["permissions"]).toEqual(["container.clusters.connect", "container.clusters.get", "container.clusters.getCredentials"]);
    expect(GKE_DEPLOYER_PERMISSIONS).toEqual(role.inputs["permissions"]);
    for (const service of plan.services) {
      expect(grantsOf(resources, member(`shop-${service.name}-dep`))).toEqual([
        ["IAMMember", `projects/${MOCK_GCP_PROJECT}/roles/shop_prod_gke_deployer`, MOCK_GCP_PROJECT],
        ["SecretIamMember", "roles/secretmanager.secretVersionAdder", `projects/${MOCK_GCP_PROJECT}/secrets/shop-prod-${service.name}-release`],
      ]);
    }
    expect(resources.some((r) => ["roles/container.developer", "roles/container.admin", "roles/editor", "roles/owner"].includes(r.inputs["role"] as string))).toBe(false);
  });

  it("binds each deploy account, as a GKE user, to a Role on its own Deployment only", () => {
    const group = single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-orders-github-rbac");
    const [role, binding] = group.inputs["objs"] as Obj[];
    expect(role).toMatchObject({ kind: "Role", metadata: { name: "orders-deployer", namespace: plan.cluster!.namespace } });
    expect(role!.rules).toEqual([{ apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["orders"], verbs: ["get", "list", "watch", "patch"] }]);
    expect(binding!.subjects).toEqual([{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: email("shop-orders-dep") }]);
  });

  it("keeps the release secret (prod) and deploys the Deployment from it", () => {
    const secret = single(resources, "gcp:secretmanager/secret:Secret", "shop-orders-github-release");
    expect(secret.inputs["secretId"]).toBe("shop-prod-orders-release");
    expect([secret.protect, secret.retainOnDelete]).toEqual([true, true]);
  });

  it("opens the cluster's IAM-authorized DNS endpoint for GitHub's runners", () => {
    const cluster = byType(resources, "gcp:container/cluster:Cluster")[0]!;
    expect(cluster.inputs["controlPlaneEndpointsConfig"]).toMatchObject({ dnsEndpointConfig: { allowExternalTraffic: true } });
  });

  it("publishes each service repository's variables: the provider, the registry and both accounts", () => {
    expect(outputs["githubWorkloadIdentityProvider"]).toBe(`${POOL}/providers/github`);
    expect(outputs["publishServiceAccounts"]).toEqual(Object.fromEntries(plan.services.map((s) => [s.name, email(`shop-${s.name}-pub`)])));
    expect(outputs["deployServiceAccounts"]).toEqual(Object.fromEntries(plan.services.map((s) => [s.name, email(`shop-${s.name}-dep`)])));
    expect(outputs["artifactRegistries"]).toEqual(Object.fromEntries(plan.services.map((s) => [s.name, `${REGION}-docker.pkg.dev/${MOCK_GCP_PROJECT}/${s.repository}`])));
  });
});

describe("LandingZone on GCP VMs (iaas) with GitHub Actions delivery, prod", () => {
  const base = withGithub();
  const spec: LandingZoneSpec = {
    ...base,
    tier: "iaas",
    mesh: { ...base.mesh, kind: "none" },
    logging: { ...base.logging, stack: "none", buffer: "none" },
    gateway: { ...base.gateway, auth: "none" },
    auth: { ...base.auth, tokens: "none" },
    tracing: { ...base.tracing, backend: "none" },
  };
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const releaseSecret = (service: string) => `projects/${MOCK_GCP_PROJECT}/secrets/shop-prod-${service}-release`;
  let resources: RegisteredResource[];
  const outputs: Record<string, unknown> = {};
  beforeAll(async () => {
    ({ resources } = await runProgram(
      () => {
        const lz = new LandingZone("shop", { spec });
        for (const [key, output] of Object.entries(lz.outputs)) output.apply((v) => (outputs[key] = v));
      },
      { config: GCP_CONFIG },
    ));
  });

  it("creates one GitHub delivery per service, no Cloud Build, and names each group as the workflow does", () => {
    expect(byType(resources, "msa:gcp:GitHubServiceDelivery").map((r) => r.name)).toEqual(plan.services.map((s) => `shop-${s.name}-github`));
    expect(byType(resources, "gcp:cloudbuild/trigger:Trigger")).toEqual([]);
    expect(byType(resources, "msa:gcp:ServiceDelivery")).toEqual([]);
    for (const service of plan.services) {
      expect(single(resources, "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager", `shop-${service.name}-group`).inputs["name"]).toBe(`shop-prod-${service.name}-vms`);
    }
  });

  it("holds one roller role with exactly the group permissions, and no GKE deployer role", () => {
    const role = single(resources, "gcp:projects/iAMCustomRole:IAMCustomRole", "shop-mig-roller");
    expect(role.inputs).toMatchObject({ roleId: "shop_prod_mig_roller", permissions: [...INSTANCE_GROUP_ROLLER_PERMISSIONS] });
    expect(String(role.inputs["description"])).toContain("GitHub deploy account");
    expect(byType(resources, "gcp:projects/iAMCustomRole:IAMCustomRole").map((r) => r.name)).toEqual(["shop-mig-roller"]);
  });

  it("lets the publish account write only its repository, and the deploy account replace only its own group and add and read only its own release", () => {
    for (const service of plan.services) {
      expect(grantsOf(resources, member(`shop-${service.name}-pub`))).toEqual([["RepositoryIamMember", "roles/artifactregistry.writer", repositoryName(service.repository)]]);
      const deploy = resources.filter((r) => r.inputs["member"] === member(`shop-${service.name}-dep`));
      expect(deploy.map((r) => [r.type.split(":").pop(), r.inputs["role"], r.inputs["secretId"] ?? r.inputs["project"], (r.inputs["condition"] as { expression?: string } | undefined)?.expression])).toEqual([
        ["IAMMember", `projects/${MOCK_GCP_PROJECT}/roles/shop_prod_mig_roller`, MOCK_GCP_PROJECT, `resource.name == "projects/${MOCK_GCP_PROJECT}/regions/${REGION}/instanceGroupManagers/shop-prod-${service.name}-vms"`],
        ["SecretIamMember", "roles/secretmanager.secretVersionAdder", releaseSecret(service.name), undefined],
        ["SecretIamMember", "roles/secretmanager.secretAccessor", releaseSecret(service.name), undefined],
      ]);
    }
    expect(resources.some((r) => ["roles/compute.instanceAdmin.v1", "roles/compute.admin", "roles/editor", "roles/container.clusterViewer"].includes(r.inputs["role"] as string))).toBe(false);
  });

  it("lets only the branch's workflow publish and only the prod environment deploy", () => {
    for (const service of plan.services) {
      const repository = plan.delivery!.services.find((s) => s.service === service.name)!.source.name;
      const impersonations = byType(resources, "gcp:serviceaccount/iAMMember:IAMMember").filter((r) => r.name.startsWith(`shop-${service.name}-github-`));
      expect(impersonations.map((r) => [r.inputs["serviceAccountId"], r.inputs["member"]])).toEqual([
        [accountName(`shop-${service.name}-pub`), `principal://iam.googleapis.com/${POOL}/subject/repo:acme/${repository}:ref:refs/heads/release/v1`],
        [accountName(`shop-${service.name}-dep`), `principal://iam.googleapis.com/${POOL}/subject/repo:acme/${repository}:environment:prod`],
      ]);
    }
  });

  it("keeps one release secret per service, created (and retained) with the VMs that read it, which only the VMs and the deploy account read", () => {
    for (const service of plan.services) {
      const secrets = byType(resources, "gcp:secretmanager/secret:Secret").filter((r) => r.inputs["secretId"] === `shop-prod-${service.name}-release`);
      expect(secrets.map((r) => [r.parentType, r.protect, r.retainOnDelete])).toEqual([["msa:gcp:InstanceGroupService", true, true]]);
      const readers = resources.filter((r) => r.type === "gcp:secretmanager/secretIamMember:SecretIamMember" && r.inputs["secretId"] === releaseSecret(service.name) && r.inputs["role"] === "roles/secretmanager.secretAccessor");
      expect(readers.map((r) => r.inputs["member"]).sort()).toEqual([member(`shop-${service.name}`), member(`shop-${service.name}-dep`)].sort());
    }
  });

  it("publishes each service repository's variables", () => {
    expect(outputs["deployServiceAccounts"]).toEqual(Object.fromEntries(plan.services.map((s) => [s.name, email(`shop-${s.name}-dep`)])));
    expect(outputs["artifactRegistries"]).toEqual(Object.fromEntries(plan.services.map((s) => [s.name, `${REGION}-docker.pkg.dev/${MOCK_GCP_PROJECT}/${s.repository}`])));
  });
});

describe("LandingZone on GCP App Engine (paas) with GitHub Actions delivery, prod", () => {
  const base = withGithub();
  const spec: LandingZoneSpec = { ...base, tier: "paas", mesh: { ...base.mesh, kind: "none" } };
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const releaseSecret = (service: string) => `projects/${MOCK_GCP_PROJECT}/secrets/shop-prod-${service}-release`;
  const appYamlSecret = (service: string) => `projects/${MOCK_GCP_PROJECT}/secrets/shop-prod-${service}-appyaml`;
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG }));
  });

  it("creates one GitHub delivery per service, no Cloud Build and no custom role", () => {
    expect(byType(resources, "msa:gcp:GitHubServiceDelivery").map((r) => r.name)).toEqual(plan.services.map((s) => `shop-${s.name}-github`));
    expect(byType(resources, "gcp:cloudbuild/trigger:Trigger")).toEqual([]);
    expect(byType(resources, "msa:gcp:ServiceDelivery")).toEqual([]);
    expect(byType(resources, "gcp:projects/iAMCustomRole:IAMCustomRole")).toEqual([]);
  });

  it("gives the deploy account exactly Cloud Build's App Engine rights, plus reading its own app.yaml, and the publish account only its repository", () => {
    for (const service of plan.services) {
      expect(grantsOf(resources, member(`shop-${service.name}-pub`))).toEqual([["RepositoryIamMember", "roles/artifactregistry.writer", repositoryName(service.repository)]]);
      expect(grantsOf(resources, member(`shop-${service.name}-dep`))).toEqual([
        ["IAMMember", "roles/iam.serviceAccountUser", accountName(`shop-${service.name}`)],
        ["SecretIamMember", "roles/secretmanager.secretAccessor", appYamlSecret(service.name)],
        ["IAMMember", "roles/appengine.deployer", MOCK_GCP_PROJECT],
        ["IAMMember", "roles/appengine.serviceAdmin", MOCK_GCP_PROJECT],
        ["SecretIamMember", "roles/secretmanager.secretVersionAdder", releaseSecret(service.name)],
        ["SecretIamMember", "roles/secretmanager.secretAccessor", releaseSecret(service.name)],
      ]);
    }
    expect(resources.some((r) => r.type === "gcp:projects/iAMMember:IAMMember" && ["roles/iam.serviceAccountUser", "roles/appengine.appAdmin", "roles/editor"].includes(r.inputs["role"] as string))).toBe(false);
  });

  it("stores each service's app.yaml as a secret version: the digest line, then the app.yaml of the settings Pulumi's version runs", () => {
    for (const service of plan.services) {
      const secret = single(resources, "gcp:secretmanager/secret:Secret", `shop-${service.name}-github-app-yaml`);
      expect(secret.inputs["secretId"]).toBe(`shop-prod-${service.name}-appyaml`);
      expect(secret.parentType).toBe("msa:gcp:GitHubServiceDelivery");
      const version = single(resources, "gcp:secretmanager/secretVersion:SecretVersion", `shop-${service.name}-github-app-yaml`);
      expect(version.secretInputs).toContain("secretData");
      const [digestLine, ...rest] = String(version.inputs["secretData"]).split("\n");
      const appYaml = parse(rest.join("\n")) as Record<string, unknown>;
      const running = single(resources, "gcp:appengine/flexibleAppVersion:FlexibleAppVersion", `shop-${service.name}-version`).inputs;
      expect(appYaml["service"]).toBe(running["service"]);
      expect(appYaml["service_account"]).toBe(running["serviceAccount"]);
      expect(appYaml["env_variables"]).toEqual(running["envVariables"]);
      expect((appYaml["network"] as Record<string, string>)["subnetwork_name"]).toBe((running["network"] as Record<string, string>)["subnetwork"]);
      expect(digestLine).toMatch(new RegExp(`^${APP_ENGINE_DIGEST_LINE}[0-9a-f]{64}$`));
      // Only the deploy account reads it.
      expect(resources.filter((r) => r.inputs["secretId"] === appYamlSecret(service.name)).map((r) => [r.inputs["role"], r.inputs["member"]])).toEqual([["roles/secretmanager.secretAccessor", member(`shop-${service.name}-dep`)]]);
    }
  });
});

describe("GitHubServiceDelivery on its own", () => {
  const args = {
    serviceName: "orders",
    workloadIdentityPoolName: POOL,
    publish: { accountId: "shop-orders-pub", subject: "repo:acme/orders:ref:refs/heads/main" },
    deploy: { accountId: "shop-orders-dep", subject: "repo:acme/orders:environment:dev" },
    repository: { name: "shop-orders", location: REGION },
    deployerRole: `projects/${MOCK_GCP_PROJECT}/roles/deployer`,
    release: { secretId: "shop-dev-orders-release", initialImage: "img" },
    target: { namespace: "shop", deployment: "orders" },
  };

  it("does not retain the release secret outside prod and applies no RBAC without a provider", async () => {
    const { resources } = await runProgram(() => void new GitHubServiceDelivery("orders", args), { config: GCP_CONFIG });
    const secret = single(resources, "gcp:secretmanager/secret:Secret", "orders-release");
    expect([secret.protect, secret.retainOnDelete]).toEqual([false, false]);
    expect(byType(resources, "kubernetes:yaml/v2:ConfigGroup")).toEqual([]);
  });

  it("on an instance group with an existing release secret creates no secret and grants the roller role on that group only", async () => {
    const secret = `projects/${MOCK_GCP_PROJECT}/secrets/shop-dev-orders-release`;
    const { resources } = await runProgram(
      () => void new GitHubServiceDelivery("orders", { ...args, release: { secret }, target: { kind: "instance-group", instanceGroupManager: "shop-dev-orders-vms", region: REGION } }),
      { config: GCP_CONFIG },
    );
    expect(byType(resources, "gcp:secretmanager/secret:Secret")).toEqual([]);
    expect(byType(resources, "kubernetes:yaml/v2:ConfigGroup")).toEqual([]);
    expect(single(resources, "gcp:projects/iAMMember:IAMMember", "orders-instance-group").inputs["condition"]).toEqual({
      title: "replace-orders",
      description: "Only the managed instance group of orders",
      expression: `resource.name == "projects/${MOCK_GCP_PROJECT}/regions/${REGION}/instanceGroupManagers/shop-dev-orders-vms"`,
    });
    expect(byType(resources, "gcp:secretmanager/secretIamMember:SecretIamMember").map((r) => [r.inputs["secretId"], r.inputs["role"]])).toEqual([
      [secret, "roles/secretmanager.secretVersionAdder"],
      [secret, "roles/secretmanager.secretAccessor"],
    ]);
  });

  it("on App Engine stores the settings' app.yaml with their digest, and refuses a missing deployer role elsewhere", async () => {
    const settings: AppEngineVersionSettings = {
      service: "default",
      serviceAccount: email("shop-orders"),
      envVariables: { PORT: "8080" },
      network: { name: "shop-dev", subnetwork: "shop-dev-services" },
      resources: { cpu: 1, memoryGb: 1 },
      scaling: { minInstances: 1, maxInstances: 2, coolDownSeconds: 120, cpuTarget: 0.7 },
      healthPath: "/health",
      liveness: { checkIntervalSeconds: 30, failureThreshold: 4, initialDelaySeconds: 300 },
      readiness: { checkIntervalSeconds: 5, failureThreshold: 2, appStartTimeoutSeconds: 300 },
    };
    const { deployerRole: _unused, ...withoutRole } = args;
    const secret = `projects/${MOCK_GCP_PROJECT}/secrets/shop-dev-orders-release`;
    const { resources } = await runProgram(
      () => void new GitHubServiceDelivery("orders", { ...withoutRole, release: { secret }, target: { kind: "app-engine", settings, runtimeAccount: accountName("shop-orders"), appYamlSecretId: "shop-dev-orders-appyaml" } }),
      { config: GCP_CONFIG },
    );
    const data = String(single(resources, "gcp:secretmanager/secretVersion:SecretVersion", "orders-app-yaml").inputs["secretData"]);
    expect(data.split("\n")[0]).toBe(`${APP_ENGINE_DIGEST_LINE}${appEngineSettingsDigest(settings)}`);
    expect(parse(data)).toMatchObject({ service: "default", service_account: email("shop-orders"), runtime: "custom", env: "flex" });
    expect(single(resources, "gcp:serviceaccount/iAMMember:IAMMember", "orders-runtime-user").inputs).toEqual({ serviceAccountId: accountName("shop-orders"), role: "roles/iam.serviceAccountUser", member: member("shop-orders-dep") });
    expect(() => new GitHubServiceDelivery("x", withoutRole)).toThrow(/deployerRole is missing.*Fix: pass the GKE deployer or instance group roller/);
    expect(() => new GitHubServiceDelivery("x", { ...withoutRole, release: { secret }, target: { kind: "app-engine", settings, runtimeAccount: "a", appYamlSecretId: "bad id" } })).toThrow(/target.appYamlSecretId "bad id" is invalid/);
  });

  it("refuses an invalid account id or a subject that is not one exact workflow", () => {
    expect(() => new GitHubServiceDelivery("x", { ...args, deploy: { ...args.deploy, accountId: "Bad" } })).toThrow(/deploy.accountId "Bad" is invalid. Fix:/);
    expect(() => new GitHubServiceDelivery("x", { ...args, publish: { ...args.publish, subject: "repo:acme/*" } })).toThrow(/publish.subject "repo:acme\/\*" is not a GitHub OIDC subject. Fix:/);
  });
});

describe("the shop spec on gcp/caas with pipelines.provider: github-actions", () => {
  it("builds, with the micro-frontends, one pool and a publish and deploy account per service and BFF", async () => {
    const shop = parse(readFileSync("examples/shop/landing-zone.yaml", "utf8")) as LandingZoneInput;
    const spec: LandingZoneInput = { ...shop, cloud: "gcp", region: REGION, tier: "caas", pipelines: { ...shop.pipelines, provider: "github-actions" } };
    const plan = planLandingZone(spec, { engine: "pulumi" });
    const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })), { config: GCP_CONFIG });
    expect(byType(resources, "msa:gcp:GitHubServiceDelivery").map((r) => r.name).sort()).toEqual(plan.services.map((s) => `shop-${s.name}-github`).sort());
    expect(byType(resources, "msa:gcp:ServiceDelivery")).toEqual([]);
    expect(byType(resources, "gcp:iam/workloadIdentityPool:WorkloadIdentityPool")).toHaveLength(1);
    // The apps' deploy accounts and the services' accounts sign in through that one pool.
    const principals = byType(resources, "gcp:serviceaccount/iAMMember:IAMMember").filter((r) => r.inputs["role"] === "roles/iam.workloadIdentityUser").map((r) => String(r.inputs["member"])).filter((m) => m.startsWith("principal://"));
    expect(principals).toHaveLength(plan.services.length * 2 + 1 + plan.frontends!.fragments.length);
    expect(principals.every((p) => p.startsWith(`principal://iam.googleapis.com/projects/${MOCK_GCP_PROJECT_NUMBER}/locations/global/workloadIdentityPools/gh-shop-prod/subject/repo:acme-shop/`))).toBe(true);
  });
});
