import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
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
