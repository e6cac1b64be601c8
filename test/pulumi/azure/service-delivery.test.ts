import { describe, expect, it } from "vitest";
import { azureUniqueName } from "../../../lib/plan/azure.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { AZURE_ROLES } from "../../../lib/pulumi/azure/roles.js";
import { createLandingZone } from "../../../lib/pulumi/index.js";
import { MOCK_SUBSCRIPTION } from "../../../lib/pulumi/testing/azure-mocks.js";
import { azureDevOpsShop } from "../../fixtures/azure-devops.js";
import { byType, childrenOf, runProgram, single, type RegisteredResource } from "../harness.js";

const idOf = (r: RegisteredResource) => String(r.outputs["id"]);
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
      ]);
      const objs = single(childrenOf(resources, parent), "kubernetes:yaml/v2:ConfigGroup").inputs["objs"] as { kind: string; metadata: { namespace: string }; rules?: unknown; subjects?: unknown }[];
      expect(objs.map((o) => o.kind)).toEqual(["Role", "RoleBinding"]);
      expect(objs[0]!.metadata.namespace).toBe(plan.cluster!.namespace);
      expect(objs[0]!.rules).toEqual([{ apiGroups: ["apps"], resources: ["deployments"], resourceNames: [service.service], verbs: ["get", "list", "watch", "patch"] }]);
      expect(objs[1]!.subjects).toEqual([{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: principalId }]);
    }
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
      ]);
      expect(childrenOf(resources, parent).some((r) => r.type.startsWith("kubernetes:"))).toBe(false);
    }
  });

  it("builds no deploy identity without pipelines", async () => {
    const { resources: none } = await runProgram(async () => void (await createLandingZone("shop", { spec: { ...spec, pipelines: { perService: false } } })));
    expect(byType(none, "msa:azure:ServiceDelivery")).toEqual([]);
  });
});
