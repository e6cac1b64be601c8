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
    const scaleSets = changed.filter((k) => k.startsWith("azure-native:compute:VirtualMachineScaleSet::"));
    // Delivery changes nothing that was there. Service discovery does (lib/pulumi/azure/service-discovery.ts): the shared
    // load balancer gains the service's pool, the BFFs' addresses follow the services in plan order, and every instance gets the new URL.
    expect(changed.filter((k) => !scaleSets.includes(k))).toEqual([
      "azure-native:network:LoadBalancer::shop-discovery-load-balancer",
      "azure-native:privatedns:PrivateRecordSet::shop-discovery-web",
      "azure-native:privatedns:PrivateRecordSet::shop-discovery-mobile",
      "azure-native:applicationinsights:Workbook::shop-monitoring-workbook",
    ]);
    for (const key of scaleSets) {
      const [before, after] = pairs.get(key)!.map((r) => r.inputs as { virtualMachineProfile: { osProfile: { customData: string } } });
      const lines = (inputs: typeof before) => Buffer.from(inputs!.virtualMachineProfile.osProfile.customData, "base64").toString("utf8").split("\n");
      expect(lines(after).filter((l) => !lines(before).includes(l)).map((l) => l.trim())).toEqual([`SERVICE_${NEW_SERVICE.toUpperCase()}_URL=http://${NEW_SERVICE}.shop.internal:8080`]);
      expect(lines(before).filter((l) => !lines(after).includes(l))).toEqual([]);
      const strip = (inputs: typeof before) => JSON.stringify({ ...inputs, virtualMachineProfile: { ...inputs!.virtualMachineProfile, osProfile: { ...inputs!.virtualMachineProfile.osProfile, customData: "" } } });
      expect(strip(after)).toBe(strip(before));
    }
    expect(added.every((r) => r.name.includes(NEW_SERVICE))).toBe(true);
    expect(added.filter((r) => r.parent === `shop-${NEW_SERVICE}-delivery`).map((r) => r.type)).toEqual([
      "azure-native:managedidentity:UserAssignedIdentity",
      "azure-native:managedidentity:FederatedIdentityCredential",
      "azure-native:authorization:RoleAssignment",
      "azure-native:authorization:RoleDefinition",
      "azure-native:authorization:RoleAssignment",
      "azure-native:authorization:RoleAssignment",
    ]);
    expect(added.map((r) => `${r.type}::${r.name}`)).toEqual(expect.arrayContaining([`azure-native:appconfiguration:KeyValue::shop-releases-${NEW_SERVICE}`, `azure-native:compute:VirtualMachineScaleSet::shop-${NEW_SERVICE}-scale-set`]));
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
