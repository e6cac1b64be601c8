import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CLOUD_BUILD_IMAGES, CLOUD_BUILD_ROLES, INSTANCE_GROUP_ROLLER_PERMISSIONS } from "../../../lib/plan/cloud-build.js";
import { appEngineServiceName } from "../../../lib/plan/gcp.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { LandingZone } from "../../../lib/pulumi/gcp/landing-zone.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { byType, GCP_CONFIG, MOCK_GCP_PROJECT, runProgram, single, type RegisteredResource } from "../harness.js";

const TRIGGER = "gcp:cloudbuild/trigger:Trigger";
const ACCOUNT = "gcp:serviceaccount/account:Account";
const REGION = "asia-northeast3";
const RELEASED = `${REGION}-docker.pkg.dev/${MOCK_GCP_PROJECT}/released/released@sha256:${"0".repeat(64)}`;
type Step = { id: string; name: string; args: string[]; waitFors?: string[] };
type Build = { steps: Step[]; options: { workerPool?: string } };

/** The GCP example on VMs or App Engine (what GCP does not build there turned off), with a pipeline per service from acme's repositories. */
function withPipelines(tier: "iaas" | "paas", environment: "prod" | "dev"): LandingZoneSpec {
  const spec = loadSpecFile("examples/gcp/landing-zone.yaml");
  return {
    ...spec,
    tier,
    environment,
    mesh: { ...spec.mesh, kind: "none" },
    logging: { ...spec.logging, stack: "none", buffer: "none" },
    gateway: { ...spec.gateway, auth: "none" },
    auth: { ...spec.auth, tokens: "none" },
    tracing: { ...spec.tracing, backend: "none" },
    pipelines: { ...spec.pipelines, perService: true, repositoryOwner: "acme" },
  };
}

const member = (account: string) => `serviceAccount:${account}@${MOCK_GCP_PROJECT}.iam.gserviceaccount.com`;
const releaseSecret = (service: string, environment = "prod") => `projects/${MOCK_GCP_PROJECT}/secrets/shop-${environment}-${service}-release`;
/** What every release account holds on any tier: its repository, its release secret (add and read), its logs. */
const buildGrants = (service: { readonly name: string; readonly repository: string }) => [
  ["RepositoryIamMember", CLOUD_BUILD_ROLES.artifactWriter, repositoryName(service.repository), undefined],
  ["SecretIamMember", "roles/secretmanager.secretVersionAdder", releaseSecret(service.name), undefined],
  ["SecretIamMember", "roles/secretmanager.secretAccessor", releaseSecret(service.name), undefined],
  ["IAMMember", "roles/logging.logWriter", MOCK_GCP_PROJECT, undefined],
];
const repositoryName = (repository: string) => `projects/${MOCK_GCP_PROJECT}/locations/${REGION}/repositories/${repository}`;
/** Each grant to `principal`: type, role, what it is on, and its condition. */
const grantsOf = (resources: readonly RegisteredResource[], principal: string) =>
  resources
    .filter((r) => r.inputs["member"] === principal)
    .map((r) => [r.type.split(":").pop(), r.inputs["role"], r.inputs["repository"] ?? r.inputs["secretId"] ?? r.inputs["serviceAccountId"] ?? r.inputs["project"], (r.inputs["condition"] as { expression?: string } | undefined)?.expression]);

describe("LandingZone on GCP VMs with Cloud Build pipelines, prod", () => {
  const spec = withPipelines("iaas", "prod");
  const plan = planLandingZone(spec, { engine: "pulumi" });
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG }));
  });
  const groupName = (service: string) => single(resources, "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager", `shop-${service}-group`).outputs["name"];

  it("builds one trigger and one account per service and BFF, with approval in prod, in Cloud Build's default pool", () => {
    expect(byType(resources, "msa:gcp:ServiceDelivery").map((r) => r.name)).toEqual(plan.services.map((s) => `shop-${s.name}-delivery`));
    expect(byType(resources, ACCOUNT).filter((r) => r.parentType === "msa:gcp:ServiceDelivery").map((r) => r.inputs["accountId"])).toEqual(plan.services.map((s) => `shop-${s.name}-cd`));
    for (const trigger of byType(resources, TRIGGER)) {
      expect(trigger.inputs["approvalConfig"]).toEqual({ approvalRequired: true });
      expect((trigger.inputs["build"] as Build).options.workerPool).toBeUndefined();
    }
    expect(byType(resources, "gcp:cloudbuild/workerPool:WorkerPool")).toHaveLength(0);
  });

  it("tests, builds, pushes and replaces only the service's own group, with its own image and release secret", () => {
    for (const service of plan.services) {
      const trigger = single(resources, TRIGGER, `shop-${service.name}-delivery-trigger`);
      const build = trigger.inputs["build"] as Build;
      expect(build.steps.map((s) => [s.id, s.name, s.waitFors ?? []])).toEqual([
        ["test", CLOUD_BUILD_IMAGES.docker, []],
        ["build", CLOUD_BUILD_IMAGES.docker, ["test"]],
        ["push", CLOUD_BUILD_IMAGES.docker, ["build"]],
        ["deploy", CLOUD_BUILD_IMAGES.cloudCli, ["push"]],
      ]);
      expect(build.steps[3]!.args[1]).toContain(`--max-surge ${plan.network.availabilityZones.length} --max-unavailable 0`);
      // Cloud Build reads the created group's name, so existing groups keep their generated name (a new name would replace them).
      expect(single(resources, "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager", `shop-${service.name}-group`).inputs["name"]).toBeUndefined();
      expect(trigger.inputs["substitutions"]).toEqual({
        _IMAGE: `${REGION}-docker.pkg.dev/${MOCK_GCP_PROJECT}/${service.repository}/${service.repository}`,
        _RELEASE_SECRET: `shop-prod-${service.name}-release`,
        _GROUP: groupName(service.name),
        _REGION: REGION,
      });
    }
  });

  it("holds one instance-group custom role with exactly the group permissions a replace and its wait need", () => {
    const role = single(resources, "gcp:projects/iAMCustomRole:IAMCustomRole", "shop-mig-roller");
    expect(role.inputs["roleId"]).toBe("shop_prod_mig_roller");
    expect(role.inputs["permissions"]).toEqual([...INSTANCE_GROUP_ROLLER_PERMISSIONS]);
    expect(INSTANCE_GROUP_ROLLER_PERMISSIONS).toEqual(["compute.instanceGroupManagers.get", "compute.instanceGroupManagers.update"]);
  });

  it("grants each account its repository, its release secret, logs, and the custom role on its own group only", () => {
    for (const service of plan.services) {
      expect(grantsOf(resources, member(`shop-${service.name}-cd`))).toEqual([
        ...buildGrants(service),
        ["IAMMember", `projects/${MOCK_GCP_PROJECT}/roles/shop_prod_mig_roller`, MOCK_GCP_PROJECT, `resource.name == "projects/${MOCK_GCP_PROJECT}/regions/${REGION}/instanceGroupManagers/${groupName(service.name)}"`],
      ]);
    }
    expect(resources.some((r) => ["roles/compute.instanceAdmin.v1", "roles/compute.admin", "roles/editor"].includes(r.inputs["role"] as string))).toBe(false);
  });

  it("boots the VMs on the released image, read from their own release secret, which only their account (and their pipeline) may read", () => {
    for (const service of plan.services) {
      const readers = resources.filter((r) => r.type === "gcp:secretmanager/secretIamMember:SecretIamMember" && r.inputs["secretId"] === releaseSecret(service.name) && r.inputs["role"] === "roles/secretmanager.secretAccessor");
      expect(readers.map((r) => r.inputs["member"]).sort()).toEqual([member(`shop-${service.name}`), member(`shop-${service.name}-cd`)].sort());
      // No VM account reads another service's release.
      const vmReads = resources.filter((r) => r.inputs["member"] === member(`shop-${service.name}`) && String(r.inputs["secretId"] ?? "").endsWith("-release"));
      expect(vmReads.map((r) => r.inputs["secretId"])).toEqual([releaseSecret(service.name)]);
      const template = single(resources, "gcp:compute/instanceTemplate:InstanceTemplate", `shop-${service.name}-template`);
      const userData = (template.inputs["metadata"] as Record<string, string>)["user-data"]!;
      const files = (parse(userData) as { write_files: { path: string; content: string }[] }).write_files;
      const unit = files.find((f) => f.path === `/etc/systemd/system/${service.name}.service`)!.content;
      const fetch = files.find((f) => f.path === `/etc/msa/${service.name}/fetch-secrets.sh`)!.content;
      expect(fetch).toContain(`image=$(fetch ${releaseSecret(service.name)})`);
      // Only the first image or the repository the pipeline pushes to may run.
      expect(fetch).toContain(`"${REGION}-docker.pkg.dev/${MOCK_GCP_PROJECT}/${service.repository}/${service.repository}"@sha256:*`);
      // The unit runs what the secret names: a release changes the secret, not the template.
      expect(unit).toContain(`"$$(cat /run/msa/${service.name}/image)"`);
      expect(unit).not.toContain(`/${service.repository}:`);
      const first = single(resources, "gcp:secretmanager/secretVersion:SecretVersion", `shop-${service.name}-release`);
      expect(first.inputs["secretData"]).toBe(`${REGION}-docker.pkg.dev/${MOCK_GCP_PROJECT}/${service.repository}/${service.image}`);
    }
  });
});

describe("LandingZone on GCP App Engine with Cloud Build pipelines, prod", () => {
  const spec = withPipelines("paas", "prod");
  const plan = planLandingZone(spec, { engine: "pulumi" });
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG }));
  });

  it("builds one trigger and one account per service, deploying only its own App Engine service with its own image", () => {
    expect(byType(resources, "msa:gcp:ServiceDelivery").map((r) => r.name)).toEqual(plan.services.map((s) => `shop-${s.name}-delivery`));
    for (const service of plan.services) {
      const trigger = single(resources, TRIGGER, `shop-${service.name}-delivery-trigger`);
      expect(trigger.inputs["approvalConfig"]).toEqual({ approvalRequired: true });
      expect((trigger.inputs["build"] as Build).steps.map((s) => s.id)).toEqual(["test", "build", "push", "deploy"]);
      expect(trigger.inputs["substitutions"]).toEqual({
        _IMAGE: `${REGION}-docker.pkg.dev/${MOCK_GCP_PROJECT}/${service.repository}/${service.repository}`,
        _RELEASE_SECRET: `shop-prod-${service.name}-release`,
        _SERVICE: appEngineServiceName(plan, service.name),
      });
    }
  });

  it("grants App Engine deployer and service admin, and acting as only the service's own runtime account", () => {
    for (const service of plan.services) {
      expect(grantsOf(resources, member(`shop-${service.name}-cd`))).toEqual([
        ...buildGrants(service),
        ["IAMMember", "roles/appengine.deployer", MOCK_GCP_PROJECT, undefined],
        ["IAMMember", "roles/appengine.serviceAdmin", MOCK_GCP_PROJECT, undefined],
        ["IAMMember", "roles/iam.serviceAccountUser", `projects/${MOCK_GCP_PROJECT}/serviceAccounts/shop-${service.name}@${MOCK_GCP_PROJECT}.iam.gserviceaccount.com`, undefined],
      ]);
    }
    expect(resources.some((r) => r.inputs["role"] === "roles/iam.serviceAccountUser" && r.type === "gcp:projects/iAMMember:IAMMember")).toBe(false);
  });

  it("runs the released image under the version id the pipeline gives it, with the app.yaml settings Pulumi's version uses", () => {
    for (const service of plan.services) {
      const version = single(resources, "gcp:appengine/flexibleAppVersion:FlexibleAppVersion", `shop-${service.name}-version`);
      expect(version.inputs["deployment"]).toEqual({ container: { image: RELEASED } });
      const deploy = (single(resources, TRIGGER, `shop-${service.name}-delivery-trigger`).inputs["build"] as Build).steps[3]!.args[1];
      const appYaml = parse(Buffer.from(/printf '%s' '([A-Za-z0-9+/=]+)' \| base64 -d > app\.yaml/.exec(deploy)![1]!, "base64").toString("utf8")) as Record<string, unknown>;
      expect(appYaml["service"]).toBe(version.inputs["service"]);
      expect(appYaml["service_account"]).toBe(version.inputs["serviceAccount"]);
      expect(appYaml["env_variables"]).toEqual(version.inputs["envVariables"]);
      expect((appYaml["automatic_scaling"] as Record<string, number>)["min_num_instances"]).toBe((version.inputs["automaticScaling"] as Record<string, number>)["minTotalInstances"]);
      expect((appYaml["network"] as Record<string, string>)["subnetwork_name"]).toBe((version.inputs["network"] as Record<string, string>)["subnetwork"]);
      // The pipeline's rule (bash) on the released image gives the version Pulumi keeps: no new version after a release.
      const digest = /"\$\$IMAGE" "([0-9a-f]{64})" \| sha256sum \| cut -c1-12/.exec(deploy)![1]!;
      expect(version.inputs["versionId"]).toBe(`v-${createHash("sha256").update(`${RELEASED}\n${digest}`).digest("hex").slice(0, 12)}`);
    }
  });
});

describe("LandingZone on GCP VMs and App Engine with Cloud Build pipelines, dev", () => {
  for (const tier of ["iaas", "paas"] as const) {
    it(`asks for no approval on ${tier}`, async () => {
      const spec = withPipelines(tier, "dev");
      const { resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG });
      const triggers = byType(resources, TRIGGER);
      expect(triggers.length).toBe(planLandingZone(spec, { engine: "pulumi" }).services.length);
      for (const trigger of triggers) expect(trigger.inputs["approvalConfig"]).toEqual({ approvalRequired: false });
    });
  }
});
