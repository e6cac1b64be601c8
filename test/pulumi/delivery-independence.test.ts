import { describe, expect, it } from "vitest";
import { createLandingZone } from "../../lib/pulumi/index.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import type { LandingZoneSpec } from "../../lib/spec/types.js";
import { azureDevOpsShop } from "../fixtures/azure-devops.js";
import { GCP_CONFIG, runProgram, type RegisteredResource } from "./harness.js";

/**
 * Issue 7's promise on the Pulumi clouds beside AWS: adding a service to the spec adds its registry
 * and pipeline (and its workload), and changes no resource that was already there.
 */
type Spec = LandingZoneInput | LandingZoneSpec;
const NEW_SERVICE = "shipping";
const key = (r: RegisteredResource) => `${r.type}::${r.name}`;

async function zone(spec: Spec, config?: Readonly<Record<string, string>>): Promise<RegisteredResource[]> {
  const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })), config ? { config } : {});
  return resources;
}

/** What adding an internal service with nothing but a name changes: removed and changed keys, and the added resources. */
async function addService(spec: Spec, config?: Readonly<Record<string, string>>) {
  const beforeResources = await zone(spec, config);
  const afterResources = await zone({ ...spec, services: [...(spec.services ?? []), { name: NEW_SERVICE, expose: false }] } as Spec, config);
  const before = new Map(beforeResources.map((r) => [key(r), r]));
  const after = new Map(afterResources.map((r) => [key(r), r]));
  const changed = [...before.keys()].filter((k) => after.has(k) && JSON.stringify(before.get(k)!.inputs) !== JSON.stringify(after.get(k)!.inputs));
  return {
    removed: [...before.keys()].filter((k) => !after.has(k)),
    changed,
    /** key → [before, after] of each changed resource. */
    pairs: new Map(changed.map((k) => [k, [before.get(k)!, after.get(k)!] as const])),
    added: afterResources.filter((r) => !before.has(key(r))),
  };
}

const typesOf = (resources: readonly RegisteredResource[]) => new Set(resources.map((r) => r.type));

describe("adding a service adds its registry and pipeline, and changes nothing else", () => {
  it("GCP (Cloud Build on GKE)", async () => {
    const example = loadSpecFile("examples/gcp/landing-zone.yaml");
    const { removed, changed, added } = await addService({ ...example, pipelines: { ...example.pipelines, perService: true, repositoryOwner: "acme" } }, GCP_CONFIG);
    expect(removed).toEqual([]);
    expect(changed).toEqual([]);
    expect(added.every((r) => r.name.includes(NEW_SERVICE))).toBe(true);
    expect([...typesOf(added)]).toEqual(expect.arrayContaining(["msa:gcp:ServiceDelivery", "gcp:cloudbuild/trigger:Trigger", "gcp:artifactregistry/repository:Repository"]));
  });

  it("GCP (GitHub Actions on GKE)", async () => {
    const example = loadSpecFile("examples/gcp/landing-zone.yaml");
    const { removed, changed, added } = await addService({ ...example, pipelines: { ...example.pipelines, perService: true, provider: "github-actions", repositoryOwner: "acme" } }, GCP_CONFIG);
    expect(removed).toEqual([]);
    expect(changed).toEqual([]);
    expect(added.every((r) => r.name.includes(NEW_SERVICE))).toBe(true);
    expect([...typesOf(added)]).toEqual(expect.arrayContaining(["msa:gcp:GitHubServiceDelivery", "gcp:serviceaccount/account:Account", "gcp:serviceaccount/iAMMember:IAMMember", "gcp:artifactregistry/repository:Repository"]));
    const accounts = added.filter((r) => r.type === "gcp:serviceaccount/account:Account").map((r) => r.inputs["accountId"]);
    expect(accounts).toEqual(expect.arrayContaining([`shop-${NEW_SERVICE}-pub`, `shop-${NEW_SERVICE}-dep`]));
  });

  it("GCP (GitHub Actions on VMs)", async () => {
    const example = loadSpecFile("examples/gcp/landing-zone.yaml");
    const spec = { ...example, tier: "iaas", mesh: { ...example.mesh, kind: "none" }, pipelines: { ...example.pipelines, perService: true, provider: "github-actions", repositoryOwner: "acme" } } as Spec;
    const { removed, changed, added } = await addService(spec, GCP_CONFIG);
    expect(removed).toEqual([]);
    expect(changed).toEqual([]);
    expect(added.every((r) => r.name.includes(NEW_SERVICE))).toBe(true);
    expect([...typesOf(added)]).toEqual(expect.arrayContaining(["msa:gcp:GitHubServiceDelivery", "msa:gcp:InstanceGroupService", "gcp:projects/iAMMember:IAMMember", "gcp:artifactregistry/repository:Repository"]));
    const accounts = added.filter((r) => r.type === "gcp:serviceaccount/account:Account").map((r) => r.inputs["accountId"]);
    expect(accounts).toEqual(expect.arrayContaining([`shop-${NEW_SERVICE}-pub`, `shop-${NEW_SERVICE}-dep`]));
    // The new deploy account may replace only the new service's group.
    const grant = added.find((r) => r.type === "gcp:projects/iAMMember:IAMMember" && r.name === `shop-${NEW_SERVICE}-github-instance-group`)!;
    expect((grant.inputs["condition"] as { expression: string }).expression).toMatch(new RegExp(`/instanceGroupManagers/shop-prod-${NEW_SERVICE}-vms"$`));
  });

  it("GCP (GitHub Actions on App Engine)", async () => {
    const example = loadSpecFile("examples/gcp/landing-zone.yaml");
    const spec = { ...example, tier: "paas", mesh: { ...example.mesh, kind: "none" }, pipelines: { ...example.pipelines, perService: true, provider: "github-actions", repositoryOwner: "acme" } } as Spec;
    const { removed, changed, added } = await addService(spec, GCP_CONFIG);
    expect(removed).toEqual([]);
    // The one sink exporting App Engine's logs gains the service's module, as with Cloud Build; nothing else changes.
    expect(changed).toEqual(["gcp:logging/projectSink:ProjectSink::shop-logging-app-engine-logs"]);
    expect(added.every((r) => r.name.includes(NEW_SERVICE))).toBe(true);
    expect([...typesOf(added)]).toEqual(expect.arrayContaining(["msa:gcp:GitHubServiceDelivery", "msa:gcp:AppEngineService", "gcp:secretmanager/secretVersion:SecretVersion", "gcp:artifactregistry/repository:Repository"]));
    const accounts = added.filter((r) => r.type === "gcp:serviceaccount/account:Account").map((r) => r.inputs["accountId"]);
    expect(accounts).toEqual(expect.arrayContaining([`shop-${NEW_SERVICE}-pub`, `shop-${NEW_SERVICE}-dep`]));
    // The new deploy account may act as the new service's runtime account only.
    const runtimeUser = added.find((r) => r.name === `shop-${NEW_SERVICE}-github-runtime-user`)!;
    expect(String(runtimeUser.inputs["serviceAccountId"])).toMatch(new RegExp(`/serviceAccounts/shop-${NEW_SERVICE}@`));
  });

  it.each(["iaas", "paas"] as const)("GCP (Cloud Build on %s)", async (tier) => {
    const example = loadSpecFile("examples/gcp/landing-zone.yaml");
    const { removed, changed, pairs, added } = await addService({ ...example, tier, mesh: { ...example.mesh, kind: "none" }, pipelines: { ...example.pipelines, perService: true, repositoryOwner: "acme" } }, GCP_CONFIG);
    expect(removed).toEqual([]);
    if (tier === "paas") {
      // The one sink exporting App Engine's logs to the ELK buffer gains the service's module; nothing else changes.
      const sink = "gcp:logging/projectSink:ProjectSink::shop-logging-app-engine-logs";
      expect(changed).toEqual([sink]);
      const [before, after] = pairs.get(sink)!.map((r) => /module_id=\((.*)\)$/.exec(String(r.inputs["filter"]))![1]!.split(" OR ").sort());
      expect(after).toEqual([...before!, `"${NEW_SERVICE}"`].sort());
    } else {
      expect(changed).toEqual([]);
    }
    expect(added.every((r) => r.name.includes(NEW_SERVICE))).toBe(true);
    expect([...typesOf(added)]).toEqual(expect.arrayContaining(["msa:gcp:ServiceDelivery", "gcp:cloudbuild/trigger:Trigger", "gcp:artifactregistry/repository:Repository"]));
  });

  it.each(["iaas", "caas", "paas"] as const)("AWS (CodePipeline on %s)", async (tier) => {
    const shop = loadSpecFile("examples/shop/landing-zone.yaml");
    const { removed, changed, added } = await addService({ ...shop, tier, mesh: { ...shop.mesh, kind: tier === "caas" ? "istio" : "none" } });
    expect(removed).toEqual([]);
    expect(changed).toEqual([]);
    expect(added.every((r) => r.name.includes(NEW_SERVICE))).toBe(true);
    expect([...typesOf(added)]).toEqual(expect.arrayContaining(["msa:aws:ServiceDelivery", "aws:ecr/repository:Repository", "aws:codepipeline/pipeline:Pipeline"]));
  });

  it("Azure (Azure DevOps on AKS)", async () => {
    const { removed, changed, pairs, added } = await addService(azureDevOpsShop("caas"));
    expect(removed).toEqual([]);
    // The one shared dashboard gains the service's section; every section it had stays as it was.
    const workbook = "azure-native:applicationinsights:Workbook::shop-monitoring-workbook";
    expect(changed).toEqual([workbook]);
    const [before, after] = pairs.get(workbook)!.map((r) => (JSON.parse(String(r.inputs["serializedData"])) as { items: { name: string }[] }).items.map((i) => JSON.stringify(i)));
    expect(before!.filter((i) => !after!.includes(i))).toEqual([]);
    expect(after!.filter((i) => !before!.includes(i)).map((i) => (JSON.parse(i) as { name: string }).name)).toEqual([`${NEW_SERVICE}-title`, `${NEW_SERVICE}-saturation`]);
    expect(added.every((r) => r.name.includes(NEW_SERVICE))).toBe(true);
    expect([...typesOf(added)]).toEqual(expect.arrayContaining(["msa:azure:ServiceDelivery", "azure-native:managedidentity:FederatedIdentityCredential"]));
  });

  it("Azure (Azure DevOps on VM scale sets)", async () => {
    const { removed, changed, pairs, added } = await addService(azureDevOpsShop("iaas"));
    expect(removed).toEqual([]);
    // Only the two shared lists grow: the discovery load balancer gains the service's frontend, pool, probe and rule, the dashboard
    // its section. No scale set changes (no per-service URL in the instances' model), and no other record moves (dynamic frontends).
    const loadBalancer = "azure-native:network:LoadBalancer::shop-discovery-load-balancer";
    const workbook = "azure-native:applicationinsights:Workbook::shop-monitoring-workbook";
    expect(changed).toEqual([loadBalancer, workbook]);
    const [lbBefore, lbAfter] = pairs.get(loadBalancer)!.map((r) => r.inputs);
    const { frontendIPConfigurations, backendAddressPools, probes, loadBalancingRules, ...rest } = lbAfter!;
    const { frontendIPConfigurations: f0, backendAddressPools: b0, probes: p0, loadBalancingRules: r0, ...restBefore } = lbBefore!;
    expect(rest).toEqual(restBefore);
    for (const [before, after] of [[f0, frontendIPConfigurations], [b0, backendAddressPools], [p0, probes], [r0, loadBalancingRules]] as const) {
      const entries = (list: unknown) => (list as { name: string }[]).map((e) => JSON.stringify(e));
      // Every entry it had stays as it was (ARM matches sub-resources by name, not position); the one new entry is the service's.
      expect(entries(before).filter((e) => !entries(after).includes(e))).toEqual([]);
      expect(entries(after).filter((e) => !entries(before).includes(e)).map((e) => (JSON.parse(e) as { name: string }).name)).toEqual([NEW_SERVICE]);
    }
    const [before, after] = pairs.get(workbook)!.map((r) => (JSON.parse(String(r.inputs["serializedData"])) as { items: { name: string }[] }).items.map((i) => JSON.stringify(i)));
    expect(before!.filter((i) => !after!.includes(i))).toEqual([]);
    expect(added.every((r) => r.name.includes(NEW_SERVICE))).toBe(true);
    expect(added.filter((r) => r.parent === `shop-${NEW_SERVICE}-delivery`).map((r) => r.type)).toEqual([
      "azure-native:managedidentity:UserAssignedIdentity",
      "azure-native:managedidentity:FederatedIdentityCredential",
      "azure-native:authorization:RoleAssignment",
      "azure-native:authorization:RoleDefinition",
      "azure-native:authorization:RoleAssignment",
      "azure-native:authorization:RoleAssignment",
    ]);
    expect(added.map((r) => `${r.type}::${r.name}`)).toEqual(
      expect.arrayContaining([
        `azure-native:appconfiguration:KeyValue::shop-releases-${NEW_SERVICE}`,
        `azure-native:compute:VirtualMachineScaleSet::shop-${NEW_SERVICE}-scale-set`,
        `azure-native:privatedns:PrivateRecordSet::shop-discovery-${NEW_SERVICE}`,
      ]),
    );
  });

  it("Azure (Azure DevOps on App Service)", async () => {
    const { removed, changed, pairs, added } = await addService(azureDevOpsShop("paas"));
    expect(removed).toEqual([]);
    // Only the dashboard grows; no web app changes (their settings name the registry, not the other apps), so none restarts.
    const workbook = "azure-native:applicationinsights:Workbook::shop-monitoring-workbook";
    expect(changed).toEqual([workbook]);
    const [before, after] = pairs.get(workbook)!.map((r) => (JSON.parse(String(r.inputs["serializedData"])) as { items: { name: string }[] }).items.map((i) => JSON.stringify(i)));
    expect(before!.filter((i) => !after!.includes(i))).toEqual([]);
    expect(added.every((r) => r.name.includes(NEW_SERVICE))).toBe(true);
    const addedKeys = added.map((r) => `${r.type}::${r.name}`);
    expect(addedKeys).toEqual(
      expect.arrayContaining([
        // Its own registry entry, its own reader grant on the store, its app, its release record and its pipeline's identity.
        `azure-native:appconfiguration:KeyValue::shop-config-discovery-${NEW_SERVICE}`,
        `azure-native:authorization:RoleAssignment::${NEW_SERVICE}-read-settings`,
        `azure-native:web:WebApp::shop-${NEW_SERVICE}-app`,
        `azure-native:appconfiguration:KeyValue::shop-releases-${NEW_SERVICE}`,
        "msa:azure:ServiceDelivery::shop-shipping-delivery",
      ]),
    );
  });

  it("Azure VM scale sets keep their name when pipelines are turned on, so no fleet is replaced", async () => {
    const withPipelines = azureDevOpsShop("iaas");
    const names = async (spec: Spec) =>
      Object.fromEntries((await zone(spec)).filter((r) => r.type === "azure-native:compute:VirtualMachineScaleSet").map((r) => [r.name, r.inputs["vmScaleSetName"]]));
    const on = await names(withPipelines);
    const off = await names({ ...withPipelines, pipelines: { ...withPipelines.pipelines, perService: false } } as Spec);
    expect(off).toEqual(on);
    expect(on["shop-orders-scale-set"]).toBe("shop-prod-orders-vmss");
  });

  it("an existing cluster (Argo CD)", async () => {
    const { removed, changed, pairs, added } = await addService(loadSpecFile("examples/kubernetes/landing-zone.yaml"));
    expect(removed).toEqual([]);
    // The GitOps group gains the service's Argo CD project and Application (child objects of their own); the objects it had stay as they were.
    const gitOps = "kubernetes:yaml/v2:ConfigGroup::shop-gitops-manifests";
    expect(changed).toEqual([gitOps]);
    type Obj = { kind: string; metadata: { name: string } };
    const [before, after] = pairs.get(gitOps)!.map((r) => r.inputs["objs"] as Obj[]);
    expect(after!.filter((o) => before!.some((b) => JSON.stringify(b) === JSON.stringify(o)))).toHaveLength(before!.length);
    expect(after!.filter((o) => !before!.some((b) => JSON.stringify(b) === JSON.stringify(o))).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([`AppProject/shop-${NEW_SERVICE}`, `Application/shop-${NEW_SERVICE}`]);
    expect(added.every((r) => r.name.includes(NEW_SERVICE))).toBe(true);
    // Its image comes from its own repository's deploy/ folder: the Application above; here its workload.
    expect(added.map((r) => r.type)).toContain("msa:kubernetes:ServiceWorkload");
  });
});
