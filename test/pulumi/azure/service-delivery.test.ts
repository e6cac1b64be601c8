import { describe, expect, it } from "vitest";
import { azureUniqueName } from "../../../lib/plan/azure.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { AZURE_ROLES } from "../../../lib/pulumi/azure/roles.js";
import { createLandingZone } from "../../../lib/pulumi/index.js";
import { MOCK_DEPLOYER_OBJECT_ID, MOCK_SUBSCRIPTION, mockReleasedImage } from "../../../lib/pulumi/testing/azure-mocks.js";
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
