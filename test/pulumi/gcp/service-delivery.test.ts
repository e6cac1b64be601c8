import { beforeAll, describe, expect, it } from "vitest";
import { CLOUD_BUILD_IMAGES, CLOUD_BUILD_ROLES, gkeRolloutSteps } from "../../../lib/plan/cloud-build.js";
import { gcpNetworkLayout } from "../../../lib/plan/gcp.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { LandingZone } from "../../../lib/pulumi/gcp/landing-zone.js";
import { ServiceDelivery } from "../../../lib/pulumi/gcp/service-delivery.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { byType, GCP_CONFIG, MOCK_GCP_PROJECT, runProgram, single, type RegisteredResource } from "../harness.js";

const TRIGGER = "gcp:cloudbuild/trigger:Trigger";
const ACCOUNT = "gcp:serviceaccount/account:Account";
type Step = { id: string; name: string; entrypoint: string; args: string[]; waitFors?: string[] };
type Build = { steps: Step[]; timeout: string; options: { logging: string; substitutionOption: string; workerPool?: string } };
type Obj = { kind: string; metadata: { name: string; namespace: string }; rules?: unknown; subjects?: unknown; roleRef?: unknown };

/** The GCP example (caas) with a pipeline per service from acme's repositories, in `environment`. */
function withPipelines(environment: "prod" | "dev"): LandingZoneSpec {
  const spec = loadSpecFile("examples/gcp/landing-zone.yaml");
  return { ...spec, environment, pipelines: { ...spec.pipelines, perService: true, repositoryOwner: "acme", branch: "release/v1" } };
}

const REGION = "asia-northeast3";
const repositoryName = (repository: string) => `projects/${MOCK_GCP_PROJECT}/locations/${REGION}/repositories/${repository}`;
const imageOf = (repository: string) => `${REGION}-docker.pkg.dev/${MOCK_GCP_PROJECT}/${repository}/${repository}`;

describe("LandingZone on GCP with Cloud Build pipelines, prod (private GKE endpoint)", () => {
  const spec = withPipelines("prod");
  const plan = planLandingZone(spec, { engine: "pulumi" });
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG }));
  });

  it("builds one trigger and one account per service and BFF, and nothing for any other", () => {
    expect(plan.delivery?.services.map((s) => s.service)).toEqual(plan.services.map((s) => s.name));
    expect(byType(resources, "msa:gcp:ServiceDelivery").map((r) => r.name)).toEqual(plan.services.map((s) => `shop-${s.name}-delivery`));
    expect(byType(resources, TRIGGER).map((r) => r.name)).toEqual(plan.services.map((s) => `shop-${s.name}-delivery-trigger`));
    expect(byType(resources, ACCOUNT).filter((r) => r.parentType === "msa:gcp:ServiceDelivery").map((r) => r.inputs["accountId"])).toEqual(plan.services.map((s) => `shop-${s.name}-cd`));
  });

  it("triggers on pushes to the service's own repository and branch, as its own account, with approval in prod", () => {
    const trigger = single(resources, TRIGGER, "shop-payments-delivery-trigger");
    const account = single(resources, ACCOUNT, "shop-payments-delivery-account");
    expect(trigger.inputs["github"]).toEqual({ owner: "acme", name: "payments", push: { branch: "^release/v1$" } });
    expect(trigger.inputs["serviceAccount"]).toBe(`projects/${MOCK_GCP_PROJECT}/serviceAccounts/shop-payments-cd@${MOCK_GCP_PROJECT}.iam.gserviceaccount.com`);
    expect(account.inputs["accountId"]).toBe("shop-payments-cd");
    expect(trigger.inputs["approvalConfig"]).toEqual({ approvalRequired: true });
    expect(trigger.inputs["location"]).toBe(REGION);
  });

  it("runs test, build, push and deploy in order, in the private pool, and rolls only the service's own Deployment and image", () => {
    for (const service of plan.services) {
      const trigger = single(resources, TRIGGER, `shop-${service.name}-delivery-trigger`);
      const build = trigger.inputs["build"] as Build;
      expect(build.steps.map((s) => [s.id, s.name, s.waitFors ?? []])).toEqual([
        ["test", CLOUD_BUILD_IMAGES.docker, []],
        ["build", CLOUD_BUILD_IMAGES.docker, ["test"]],
        ["push", CLOUD_BUILD_IMAGES.docker, ["build"]],
        ["deploy", CLOUD_BUILD_IMAGES.cloudCli, ["push"]],
      ]);
      expect(build.steps[0]!.args).toEqual(["-c", "docker build --target test ."]);
      expect(build.steps[3]!.args[1]).toContain('--location "${_LOCATION}" --internal-ip');
      expect(build.options).toEqual({ logging: "CLOUD_LOGGING_ONLY", substitutionOption: "MUST_MATCH", workerPool: `projects/${MOCK_GCP_PROJECT}/locations/${REGION}/workerPools/shop-prod-builds` });
      expect(trigger.inputs["substitutions"]).toEqual({
        _IMAGE: imageOf(service.repository),
        _CLUSTER: plan.cluster!.name,
        _LOCATION: REGION,
        _NAMESPACE: plan.cluster!.namespace,
        _DEPLOYMENT: service.name,
        _CONTAINER: service.name,
        _RELEASE_SECRET: `shop-prod-${service.name}-release`,
      });
    }
  });

  it("grants each account writer on its own repository, version adder on its own release secret, log writer and cluster viewer, and nothing else", () => {
    for (const service of plan.services) {
      const member = `serviceAccount:shop-${service.name}-cd@${MOCK_GCP_PROJECT}.iam.gserviceaccount.com`;
      const grants = resources.filter((r) => r.inputs["member"] === member).map((r) => [r.type, r.inputs["role"], r.inputs["repository"] ?? r.inputs["secretId"] ?? r.inputs["project"]]);
      expect(grants).toEqual([
        ["gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", CLOUD_BUILD_ROLES.artifactWriter, repositoryName(service.repository)],
        ["gcp:secretmanager/secretIamMember:SecretIamMember", "roles/secretmanager.secretVersionAdder", `projects/${MOCK_GCP_PROJECT}/secrets/shop-prod-${service.name}-release`],
        ["gcp:projects/iAMMember:IAMMember", "roles/logging.logWriter", MOCK_GCP_PROJECT],
        ["gcp:projects/iAMMember:IAMMember", "roles/container.clusterViewer", MOCK_GCP_PROJECT],
      ]);
    }
    expect(resources.some((r) => r.inputs["role"] === "roles/editor" || r.inputs["role"] === "roles/owner")).toBe(false);
  });

  it("binds each account, as a GKE user, to a Role that may only read and patch its own Deployment", () => {
    const group = single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-orders-delivery-rbac");
    const [role, binding] = group.inputs["objs"] as Obj[];
    expect(role).toMatchObject({ kind: "Role", metadata: { name: "orders-deployer", namespace: plan.cluster!.namespace } });
    expect(role!.rules).toEqual([{ apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["orders"], verbs: ["get", "list", "watch", "patch"] }]);
    expect(binding!.subjects).toEqual([{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: `shop-orders-cd@${MOCK_GCP_PROJECT}.iam.gserviceaccount.com` }]);
    expect(binding!.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "orders-deployer" });
    // The trigger exists only once the account can push, log and roll.
    expect(single(resources, TRIGGER, "shop-orders-delivery-trigger").dependsOn).toEqual(
      expect.arrayContaining(["shop-orders-delivery-push", "shop-orders-delivery-release-writer", "shop-orders-delivery-logs", "shop-orders-delivery-cluster", "shop-orders-delivery-rbac"]),
    );
  });

  it("deploys the release the pipeline recorded, so an infrastructure update keeps it", () => {
    const secret = single(resources, "gcp:secretmanager/secret:Secret", "shop-orders-delivery-release");
    const first = single(resources, "gcp:secretmanager/secretVersion:SecretVersion", "shop-orders-delivery-release");
    expect(secret.inputs["secretId"]).toBe("shop-prod-orders-release");
    // Pulumi writes the planned image once; later versions belong to the pipeline.
    expect(first.inputs["secretData"]).toBe(`${imageOf(plan.services.find((s) => s.name === "orders")!.repository)}:latest`);
    expect(first.secretInputs).toContain("secretData");
    const workload = single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-orders-workload");
    const deployment = (workload.inputs["objs"] as Array<{ kind: string; spec: { template: { spec: { containers: { name: string; image: string }[] } } } }>).find((o) => o.kind === "Deployment")!;
    expect(deployment.spec.template.spec.containers.find((c) => c.name === "orders")!.image).toBe(`${REGION}-docker.pkg.dev/${MOCK_GCP_PROJECT}/released/released@sha256:${"0".repeat(64)}`);
  });

  it("shares one private pool with no external address whose traffic all goes through the subnet the private endpoint authorizes", () => {
    const pool = single(resources, "gcp:cloudbuild/workerPool:WorkerPool");
    const attachment = single(resources, "gcp:compute/networkAttachment:NetworkAttachment");
    const subnet = single(resources, "gcp:compute/subnetwork:Subnetwork");
    expect(pool.inputs["workerConfig"]).toMatchObject({ noExternalIp: true });
    expect(pool.inputs["privateServiceConnect"]).toEqual({ networkAttachment: `projects/${MOCK_GCP_PROJECT}/regions/${REGION}/networkAttachments/shop-prod-builds-psc`, routeAllTraffic: true });
    expect(pool.inputs["networkConfig"]).toBeUndefined();
    expect(attachment.inputs["subnetworks"]).toEqual([subnet.outputs["id"]]);
    const cluster = single(resources, "gcp:container/cluster:Cluster", "shop-platform-cluster");
    const authorized = (cluster.inputs["masterAuthorizedNetworksConfig"] as { cidrBlocks: { cidrBlock: string }[] }).cidrBlocks.map((b) => b.cidrBlock);
    expect(subnet.inputs["ipCidrRange"]).toBe(gcpNetworkLayout(plan.network).subnet);
    expect(authorized).toContain(subnet.inputs["ipCidrRange"]);
    expect((cluster.inputs["privateClusterConfig"] as { enablePrivateEndpoint: boolean }).enablePrivateEndpoint).toBe(true);
  });
});

describe("LandingZone on GCP with Cloud Build pipelines, dev (public GKE endpoint)", () => {
  const spec = withPipelines("dev");
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG }));
  });

  it("asks for no approval, runs in the default pool and reaches the public endpoint", () => {
    expect(byType(resources, "gcp:cloudbuild/workerPool:WorkerPool")).toHaveLength(0);
    for (const trigger of byType(resources, TRIGGER)) {
      expect(trigger.inputs["approvalConfig"]).toEqual({ approvalRequired: false });
      const build = trigger.inputs["build"] as Build;
      expect(build.options.workerPool).toBeUndefined();
      expect(build.steps[3]!.args[1]).not.toContain("--internal-ip");
    }
  });
});

describe("Cloud Build delivery refuses what it cannot build", () => {
  it("refuses a private endpoint without a private pool", () => {
    expect(
      () =>
        new ServiceDelivery("orders", {
          serviceName: "orders",
          accountId: "shop-orders-cd",
          triggerName: "shop-prod-orders-build",
          region: REGION,
          source: { owner: "acme", repository: "orders" },
          repository: { name: repositoryName("orders"), location: REGION },
          image: imageOf("orders"),
          release: { secretId: "shop-prod-orders-release", initialImage: `${imageOf("orders")}:latest` },
          deploy: { clusterName: "shop", location: REGION, privateEndpoint: true, namespace: "shop", deployment: "orders" },
        }),
    ).toThrow(/deploy.privateEndpoint is true.*Fix: pass workerPool/);
  });

  it("plans the same steps the component runs", () => {
    expect(gkeRolloutSteps({ testCommand: "make test", privateEndpoint: false }).map((s) => s.id)).toEqual(["test", "build", "push", "deploy"]);
  });
});
