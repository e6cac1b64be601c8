import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { azureUniqueName } from "../../../lib/plan/azure.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { AZURE_ROLES } from "../../../lib/pulumi/azure/roles.js";
import { ServiceDelivery } from "../../../lib/pulumi/azure/service-delivery.js";
import { createLandingZone } from "../../../lib/pulumi/index.js";
import { MOCK_DEPLOYER_OBJECT_ID, MOCK_SUBSCRIPTION, mockReleasedImage } from "../../../lib/pulumi/testing/azure-mocks.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { azureDevOpsShop } from "../../fixtures/azure-devops.js";
import { byType, childrenOf, runProgram, single, type RegisteredResource } from "../harness.js";

const idOf = (r: RegisteredResource) => String(r.outputs["id"]);
const storeName = azureUniqueName("azureResource", "shop", "prod", "config", `${MOCK_SUBSCRIPTION}/shop-prod`);
const writerRoleOf = (resources: readonly RegisteredResource[]) => single(resources, "azure-native:authorization:RoleDefinition", "shop-releases-writer");
const deploymentImages = (resources: readonly RegisteredResource[], service: string) =>
  (single(resources, "kubernetes:yaml/v2:ConfigGroup", `shop-${service}-workload-workload`).inputs["objs"] as { kind: string; spec?: { template: { spec: { containers: { image: string }[] } } } }[])
    .filter((o) => o.kind === "Deployment")
    .map((o) => o.spec!.template.spec.containers[0]!.image);
const grantsOf = (resources: readonly RegisteredResource[], parent: string) =>
  childrenOf(resources, parent)
    .filter((r) => r.type === "azure-native:authorization:RoleAssignment")
    .map((r) => ({ role: String(r.inputs["roleDefinitionId"]).split("/").pop(), scope: r.inputs["scope"], principalId: r.inputs["principalId"], principalType: r.inputs["principalType"] }));

describe("Azure DevOps delivery on AKS", async () => {
  const spec = azureDevOpsShop("caas");
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));
  const registry = single(resources, "azure-native:containerregistry:Registry");
  const cluster = single(resources, "azure-native:containerservice:ManagedCluster");

  it("creates one ServiceDelivery per service and BFF", () => {
    expect(byType(resources, "msa:azure:ServiceDelivery").map((r) => r.name)).toEqual(plan.services.map((s) => `shop-${s.name}-delivery`));
  });

  it("federates each identity to its own service connection only", () => {
    for (const service of plan.azureDelivery!.services) {
      const parent = `shop-${service.service}-delivery`;
      const identity = single(childrenOf(resources, parent), "azure-native:managedidentity:UserAssignedIdentity");
      expect(identity.inputs["resourceName"]).toBe(service.identityName);
      const federation = single(childrenOf(resources, parent), "azure-native:managedidentity:FederatedIdentityCredential");
      expect(federation.inputs).toMatchObject({
        resourceName: service.identityName,
        issuer: service.federation.issuer,
        subject: `sc://acme/shop/shop-prod-${service.service}`,
        audiences: ["api://AzureADTokenExchange"],
      });
    }
  });

  it("grants exactly AcrPush on the registry and AKS run command on the cluster, and Kubernetes RBAC on its own Deployment", () => {
    const runCommand = single(resources, "azure-native:authorization:RoleDefinition", "shop-aks-run-command");
    const resourceGroupId = idOf(cluster).split("/providers/")[0];
    expect(runCommand.inputs).toMatchObject({
      scope: resourceGroupId,
      assignableScopes: [resourceGroupId],
      permissions: [{ actions: ["Microsoft.ContainerService/managedClusters/read", "Microsoft.ContainerService/managedClusters/runcommand/action", "Microsoft.ContainerService/managedClusters/commandResults/read"] }],
    });
    for (const service of plan.azureDelivery!.services) {
      const parent = `shop-${service.service}-delivery`;
      const principalId = single(childrenOf(resources, parent), "azure-native:managedidentity:UserAssignedIdentity").outputs["principalId"];
      expect(grantsOf(resources, parent)).toEqual([
        { role: AZURE_ROLES.acrPush, scope: idOf(registry), principalId, principalType: "ServicePrincipal" },
        { role: idOf(runCommand).split("/").pop(), scope: idOf(cluster), principalId, principalType: "ServicePrincipal" },
        { role: idOf(writerRoleOf(resources)).split("/").pop(), scope: idOf(single(resources, "azure-native:appconfiguration:ConfigurationStore")), principalId, principalType: "ServicePrincipal" },
      ]);
      const objs = single(childrenOf(resources, parent), "kubernetes:yaml/v2:ConfigGroup").inputs["objs"] as { kind: string; metadata: { namespace: string }; rules?: unknown; subjects?: unknown }[];
      expect(objs.map((o) => o.kind)).toEqual(["Role", "RoleBinding"]);
      expect(objs[0]!.metadata.namespace).toBe(plan.cluster!.namespace);
      expect(objs[0]!.rules).toEqual([{ apiGroups: ["apps"], resources: ["deployments"], resourceNames: [service.service], verbs: ["get", "list", "watch", "patch"] }]);
      expect(objs[1]!.subjects).toEqual([{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: principalId }]);
    }
  });

  it("seeds each service's release record once with its planned image; later updates leave the value to the pipeline", () => {
    const records = byType(childrenOf(resources, "shop-releases"), "azure-native:appconfiguration:KeyValue");
    const writer = single(resources, "azure-native:authorization:RoleAssignment", "shop-releases-deployer-writes-settings");
    expect(records.map((r) => r.inputs["keyValueName"])).toEqual(plan.azureDelivery!.services.map((s) => s.releaseKey));
    for (const service of plan.services) {
      const record = records.find((r) => r.inputs["keyValueName"] === `${service.name}-released-image`)!;
      expect(record.inputs).toMatchObject({ configStoreName: storeName, value: `${String(registry.outputs["loginServer"])}/${service.image}`, contentType: "text/plain" });
      expect(record.ignoreChanges).toEqual(["value"]);
      // ARM passes the deployer through to the data plane, so its write waits for the deployer's grant.
      expect(record.dependsOn).toEqual([writer.name]);
    }
    expect(writer.inputs).toMatchObject({ principalId: MOCK_DEPLOYER_OBJECT_ID, roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${AZURE_ROLES.appConfigurationDataOwner}` });
  });

  it("creates the private store the pipelines compute on CaaS, where the landing zone has none for settings", () => {
    const store = single(resources, "azure-native:appconfiguration:ConfigurationStore");
    expect(store.parent).toBe("shop-releases");
    expect(store.inputs).toMatchObject({
      configStoreName: storeName,
      disableLocalAuth: true,
      publicNetworkAccess: "Disabled",
      dataPlaneProxy: { authenticationMode: "Pass-through", privateLinkDelegation: "Enabled" },
      enablePurgeProtection: true,
    });
    expect(store.protect).toBe(true);
    const endpoint = byType(resources, "azure-native:network:PrivateEndpoint").find((e) => e.name === "shop-releases-store-endpoint")!;
    expect(endpoint.inputs["privateLinkServiceConnections"]).toMatchObject([{ privateLinkServiceId: idOf(store), groupIds: ["configurationStores"] }]);
  });

  it("lets only the deploy identities write the store, through a role of key-value read and write alone", () => {
    const role = writerRoleOf(resources);
    const resourceGroupId = idOf(cluster).split("/providers/")[0];
    const actions = ["Microsoft.AppConfiguration/configurationStores/keyValues/read", "Microsoft.AppConfiguration/configurationStores/keyValues/write"];
    expect(role.inputs).toMatchObject({ scope: resourceGroupId, assignableScopes: [resourceGroupId], permissions: [{ actions, dataActions: actions }] });
    const store = idOf(single(resources, "azure-native:appconfiguration:ConfigurationStore"));
    const onStore = byType(resources, "azure-native:authorization:RoleAssignment").filter((r) => r.inputs["scope"] === store);
    const deployers = plan.services.map((s) => single(childrenOf(resources, `shop-${s.name}-delivery`), "azure-native:managedidentity:UserAssignedIdentity").outputs["principalId"]);
    expect(onStore.map((r) => [r.inputs["principalId"], String(r.inputs["roleDefinitionId"]).split("/").pop()])).toEqual([
      [MOCK_DEPLOYER_OBJECT_ID, AZURE_ROLES.appConfigurationDataOwner],
      ...deployers.map((principal) => [principal, idOf(role).split("/").pop()]),
    ]);
  });

  it("runs the image the release record names in each Deployment, not the planned one", () => {
    for (const service of plan.services) expect(deploymentImages(resources, service.name)).toEqual([mockReleasedImage(`${service.name}-released-image`)]);
  });
});

describe("Azure DevOps delivery on App Service", async () => {
  const spec = azureDevOpsShop("paas");
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));
  const registry = single(resources, "azure-native:containerregistry:Registry");

  it("grants exactly AcrPush on the registry and Website Contributor on the service's own app, the one its pipeline names", () => {
    for (const service of plan.azureDelivery!.services) {
      const parent = `shop-${service.service}-delivery`;
      const principalId = single(childrenOf(resources, parent), "azure-native:managedidentity:UserAssignedIdentity").outputs["principalId"];
      const app = single(childrenOf(resources, `shop-${service.service}`), "azure-native:web:WebApp");
      // The generated pipeline computes the app's name from the subscription; the engine must agree.
      expect(app.inputs["name"]).toBe(azureUniqueName("azureResource", "shop", "prod", service.service, `${MOCK_SUBSCRIPTION}/shop-prod`));
      expect(grantsOf(resources, parent)).toEqual([
        { role: AZURE_ROLES.acrPush, scope: idOf(registry), principalId, principalType: "ServicePrincipal" },
        { role: AZURE_ROLES.websiteContributor, scope: idOf(app), principalId, principalType: "ServicePrincipal" },
        { role: idOf(writerRoleOf(resources)).split("/").pop(), scope: idOf(single(resources, "azure-native:appconfiguration:ConfigurationStore")), principalId, principalType: "ServicePrincipal" },
      ]);
      expect(childrenOf(resources, parent).some((r) => r.type.startsWith("kubernetes:"))).toBe(false);
    }
  });

  it("keeps the release records in the landing zone's settings store and runs the image each record names", () => {
    const stores = byType(resources, "azure-native:appconfiguration:ConfigurationStore");
    expect(stores.map((s) => [s.parent, s.inputs["configStoreName"]])).toEqual([["shop-config", storeName]]);
    const records = byType(childrenOf(resources, "shop-releases"), "azure-native:appconfiguration:KeyValue");
    expect(records.map((r) => r.dependsOn)).toEqual(plan.services.map(() => ["shop-config-deployer-writes-settings"]));
    for (const service of plan.services) {
      const app = single(childrenOf(resources, `shop-${service.name}`), "azure-native:web:WebApp");
      expect((app.inputs["siteConfig"] as { linuxFxVersion: string }).linuxFxVersion).toBe(`DOCKER|${mockReleasedImage(`${service.name}-released-image`)}`);
    }
  });

  it("builds no deploy identity and no release record without pipelines, and runs the planned images", async () => {
    const { resources: none } = await runProgram(async () => void (await createLandingZone("shop", { spec: { ...spec, pipelines: { perService: false } } })));
    expect(byType(none, "msa:azure:ServiceDelivery")).toEqual([]);
    expect(byType(none, "msa:azure:ReleaseRecords")).toEqual([]);
    const noneRegistry = single(none, "azure-native:containerregistry:Registry");
    for (const service of plan.services) {
      const app = single(childrenOf(none, `shop-${service.name}`), "azure-native:web:WebApp");
      expect((app.inputs["siteConfig"] as { linuxFxVersion: string }).linuxFxVersion).toBe(`DOCKER|${String(noneRegistry.outputs["loginServer"])}/${service.image}`);
    }
  });
});

describe("Azure DevOps delivery on VM scale sets", async () => {
  const spec = azureDevOpsShop("iaas");
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));
  const registry = single(resources, "azure-native:containerregistry:Registry");
  const store = single(resources, "azure-native:appconfiguration:ConfigurationStore");
  const scaleSetOf = (service: string) => single(childrenOf(resources, `shop-${service}`), "azure-native:compute:VirtualMachineScaleSet");
  const cloudConfigOf = (service: string) =>
    parse(Buffer.from((scaleSetOf(service).inputs["virtualMachineProfile"] as { osProfile: { customData: string } }).osProfile.customData, "base64").toString("utf8").replace(/^#cloud-config\n/, "")) as {
      write_files: { path: string; content: string }[];
    };

  it("names each scale set as its pipeline does, and lets the deploy identity only list, reimage and watch that one", () => {
    for (const service of plan.azureDelivery!.services) {
      const parent = `shop-${service.service}-delivery`;
      const scaleSet = scaleSetOf(service.service);
      expect(scaleSet.inputs["vmScaleSetName"]).toBe(`shop-prod-${service.service}-vmss`);
      const principalId = single(childrenOf(resources, parent), "azure-native:managedidentity:UserAssignedIdentity").outputs["principalId"];
      const role = single(childrenOf(resources, parent), "azure-native:authorization:RoleDefinition");
      const resourceGroupId = idOf(scaleSet).split("/providers/")[0];
      expect(role.inputs).toMatchObject({
        scope: resourceGroupId,
        assignableScopes: [resourceGroupId],
        permissions: [
          {
            actions: [
              "Microsoft.Compute/virtualMachineScaleSets/read",
              "Microsoft.Compute/virtualMachineScaleSets/reimage/action",
              "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read",
              "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/reimage/action",
              "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/instanceView/read",
            ],
          },
        ],
      });
      expect(grantsOf(resources, parent)).toEqual([
        { role: AZURE_ROLES.acrPush, scope: idOf(registry), principalId, principalType: "ServicePrincipal" },
        { role: idOf(role).split("/").pop(), scope: idOf(scaleSet), principalId, principalType: "ServicePrincipal" },
        { role: idOf(writerRoleOf(resources)).split("/").pop(), scope: idOf(store), principalId, principalType: "ServicePrincipal" },
      ]);
    }
  });

  it("boots each scale set's instances from its own release record, with no image in the model for pulumi up to put back", () => {
    const endpoint = String(store.outputs["endpoint"]);
    for (const service of plan.services) {
      const files = cloudConfigOf(service.name).write_files;
      const fetch = files.find((f) => f.path === "/usr/local/bin/msa-fetch-image")!.content;
      expect(fetch).toContain(`"${endpoint}/kv/${service.name}-released-image?api-version=1.0"`);
      expect(fetch).toContain(`case "$image" in ${String(registry.outputs["loginServer"])}/*)`);
      for (const other of plan.services.filter((s) => s.name !== service.name)) expect(fetch).not.toContain(`${other.name}-released-image`);
      expect(JSON.stringify(files)).not.toContain(service.image);
    }
    const records = byType(childrenOf(resources, "shop-releases"), "azure-native:appconfiguration:KeyValue");
    expect(records.map((r) => r.inputs["keyValueName"])).toEqual(plan.services.map((s) => `${s.name}-released-image`));
    expect(records.every((r) => JSON.stringify(r.ignoreChanges) === JSON.stringify(["value"]))).toBe(true);
  });

  const reader = `/providers/Microsoft.Authorization/roleDefinitions/${AZURE_ROLES.appConfigurationDataReader}`;
  const readersOf = (all: readonly RegisteredResource[], service: string) =>
    childrenOf(all, `shop-${service}`).filter((r) => r.type === "azure-native:authorization:RoleAssignment" && r.inputs["roleDefinitionId"] === reader);

  it("lets each instance identity read the settings store holding the records through its one settings grant, before its instances boot", () => {
    for (const service of plan.services) {
      const identity = single(childrenOf(resources, `shop-${service.name}`), "azure-native:managedidentity:UserAssignedIdentity");
      const readers = readersOf(resources, service.name);
      // One assignment per principal, role and scope: the settings grant already covers the records.
      expect(readers.map((r) => [r.name, r.inputs["scope"], r.inputs["principalId"]])).toEqual([[`${service.name}-read-settings`, idOf(store), identity.outputs["principalId"]]]);
      expect(scaleSetOf(service.name).dependsOn).toContain(readers[0]!.name);
    }
  });

  it("grants App Configuration Data Reader on the store to instances with no settings there, once (App Configuration authorizes no narrower scope)", async () => {
    const { config: _config, ...bare } = spec as LandingZoneInput & { config?: unknown };
    const noSettingsPlan = planLandingZone(bare as LandingZoneInput, { engine: "pulumi" });
    const { resources: noSettings } = await runProgram(async () => void (await createLandingZone("shop", { spec: bare as LandingZoneInput })));
    const recordsStore = single(noSettings, "azure-native:appconfiguration:ConfigurationStore");
    const withSecrets = noSettingsPlan.services.filter((s) => s.secrets.length > 0).map((s) => s.name);
    expect(withSecrets.length).toBeGreaterThan(0);
    expect(withSecrets.length).toBeLessThan(noSettingsPlan.services.length);
    for (const service of noSettingsPlan.services) {
      const identity = single(childrenOf(noSettings, `shop-${service.name}`), "azure-native:managedidentity:UserAssignedIdentity");
      // Services with secrets read the store for them already; the others only for their record.
      const name = withSecrets.includes(service.name) ? `${service.name}-read-settings` : `${service.name}-reads-release`;
      expect(readersOf(noSettings, service.name).map((r) => [r.name, r.inputs["scope"], r.inputs["principalId"]])).toEqual([[name, idOf(recordsStore), identity.outputs["principalId"]]]);
      expect(single(childrenOf(noSettings, `shop-${service.name}`), "azure-native:compute:VirtualMachineScaleSet").dependsOn).toContain(name);
    }
  });

  it("refuses a scale-set target without a release record, naming the fix", async () => {
    await expect(
      runProgram(async () => {
        new ServiceDelivery("orders-delivery", {
          resourceGroupName: "shop-prod",
          location: "koreacentral",
          identityName: "shop-prod-orders-deploy",
          federation: { issuer: "https://vstoken.dev.azure.com/x", subject: "sc://acme/shop/shop-prod-orders" },
          registryId: pulumi.output("/registries/r"),
          target: { kind: "scale-set", scaleSetId: "/virtualMachineScaleSets/orders" },
        });
      }),
    ).rejects.toThrow(/ServiceDelivery orders-delivery: target.kind is scale-set.*args.release is undefined. Fix: pass release: \{ storeId, writerRoleId \}/);
  });
});
