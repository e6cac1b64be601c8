import type * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { serviceWorkflow } from "../../../lib/plan/workflows.js";
import { AZURE_ROLES } from "../../../lib/pulumi/azure/roles.js";
import { createLandingZone } from "../../../lib/pulumi/index.js";
import { MOCK_SUBSCRIPTION } from "../../../lib/pulumi/testing/azure-mocks.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { azureDevOpsShop } from "../../fixtures/azure-devops.js";
import { byType, childrenOf, runProgram, single, type RegisteredResource } from "../harness.js";

const idOf = (r: RegisteredResource) => String(r.outputs["id"]);
const roleOf = (r: RegisteredResource) => idOf(r).split("/").pop();
/** The Azure example building and deploying from GitHub Actions. */
const githubShop = (tier: "caas" | "paas"): LandingZoneInput => ({ ...azureDevOpsShop(tier), pipelines: { provider: "github-actions", repositoryOwner: "acme" } }) as LandingZoneInput;
const grantsTo = (resources: readonly RegisteredResource[], principalId: unknown) =>
  byType(resources, "azure-native:authorization:RoleAssignment")
    .filter((r) => r.inputs["principalId"] === principalId)
    .map((r) => ({ role: String(r.inputs["roleDefinitionId"]).split("/").pop(), scope: r.inputs["scope"] }));

/** The deploy and publish identities of a service, and what each trusts. */
function identitiesOf(resources: readonly RegisteredResource[], service: string) {
  const parent = `shop-${service}-delivery`;
  const children = childrenOf(resources, parent);
  const identity = (name: string) => single(children, "azure-native:managedidentity:UserAssignedIdentity", name);
  const federation = (name: string) => single(children, "azure-native:managedidentity:FederatedIdentityCredential", name).inputs;
  return {
    deploy: identity(`${parent}-identity`),
    publish: identity(`${parent}-publish-identity`),
    deployTrust: federation(`${parent}-federation`),
    publishTrust: federation(`${parent}-publish-federation`),
  };
}

describe("GitHub Actions delivery on Azure", () => {
  it("trusts the repository's environment for the deploy identity and its branch for the publish identity, nothing else", async () => {
    const spec = githubShop("caas");
    const plan = planLandingZone(spec, { engine: "pulumi" });
    let outputs: Readonly<Record<string, pulumi.Output<unknown>>> = {};
    const { resources } = await runProgram(async () => void (outputs = (await createLandingZone("shop", { spec })).outputs));
    expect(byType(resources, "msa:azure:ServiceDelivery").map((r) => r.name)).toEqual(plan.services.map((s) => `shop-${s.name}-delivery`));
    // What the workflows' repository variables are set from.
    const valueOf = (output: pulumi.Output<unknown>) => new Promise((resolve) => output.apply(resolve));
    const clientIds = (parent: string) => Object.fromEntries(plan.services.map((s) => [s.name, single(childrenOf(resources, `shop-${s.name}-delivery`), "azure-native:managedidentity:UserAssignedIdentity", `shop-${s.name}-delivery-${parent}`).outputs["clientId"]]));
    expect(await valueOf(outputs["deployClientIds"]!)).toEqual(clientIds("identity"));
    expect(await valueOf(outputs["publishClientIds"]!)).toEqual(clientIds("publish-identity"));
    expect(await valueOf(outputs["releaseStoreName"]!)).toBe(single(resources, "azure-native:appconfiguration:ConfigurationStore").inputs["configStoreName"]);
    const { deploy, publish, deployTrust, publishTrust } = identitiesOf(resources, "orders");
    expect(deploy.inputs["resourceName"]).toBe("shop-prod-orders-deploy");
    expect(publish.inputs["resourceName"]).toBe("shop-prod-orders-publish");
    const github = { federatedIdentityCredentialResourceName: "github", issuer: "https://token.actions.githubusercontent.com", audiences: ["api://AzureADTokenExchange"] };
    expect(deployTrust).toMatchObject({ ...github, resourceName: "shop-prod-orders-deploy", subject: "repo:acme/orders:environment:prod" });
    expect(publishTrust).toMatchObject({ ...github, resourceName: "shop-prod-orders-publish", subject: "repo:acme/orders:ref:refs/heads/main" });
  });

  it("on AKS, lets the deploy identity only run commands on the cluster as itself, roll its own Deployment and record it; only the publish identity pushes", async () => {
    const spec = githubShop("caas");
    const plan = planLandingZone(spec, { engine: "pulumi" });
    const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));
    const registry = single(resources, "azure-native:containerregistry:Registry");
    const cluster = single(resources, "azure-native:containerservice:ManagedCluster");
    const store = single(resources, "azure-native:appconfiguration:ConfigurationStore");
    const runCommand = roleOf(single(resources, "azure-native:authorization:RoleDefinition", "shop-aks-run-command"));
    const writer = roleOf(single(resources, "azure-native:authorization:RoleDefinition", "shop-releases-writer"));
    for (const service of plan.services) {
      const { deploy, publish } = identitiesOf(resources, service.name);
      expect(grantsTo(resources, deploy.outputs["principalId"])).toEqual([
        { role: runCommand, scope: idOf(cluster) },
        { role: writer, scope: idOf(store) },
      ]);
      expect(grantsTo(resources, publish.outputs["principalId"])).toEqual([{ role: AZURE_ROLES.acrPush, scope: idOf(registry) }]);
      const objs = single(childrenOf(resources, `shop-${service.name}-delivery`), "kubernetes:yaml/v2:ConfigGroup").inputs["objs"] as { kind: string; rules?: unknown; subjects?: unknown }[];
      expect(objs[0]!.rules).toEqual([{ apiGroups: ["apps"], resources: ["deployments"], resourceNames: [service.name], verbs: ["get", "list", "watch", "patch"] }]);
      expect(objs[1]!.subjects).toEqual([{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: deploy.outputs["principalId"] }]);
    }
  });

  it("on App Service, lets the deploy identity change only the app its workflow names and record the release; only the publish identity pushes", async () => {
    const spec = githubShop("paas");
    const plan = planLandingZone(spec, { engine: "pulumi" });
    const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));
    const registry = single(resources, "azure-native:containerregistry:Registry");
    const store = single(resources, "azure-native:appconfiguration:ConfigurationStore");
    const writer = roleOf(single(resources, "azure-native:authorization:RoleDefinition", "shop-releases-writer"));
    for (const service of plan.delivery!.services) {
      const { deploy, publish } = identitiesOf(resources, service.service);
      const app = single(childrenOf(resources, `shop-${service.service}`), "azure-native:web:WebApp");
      expect(grantsTo(resources, deploy.outputs["principalId"])).toEqual([
        { role: AZURE_ROLES.websiteContributor, scope: idOf(app) },
        { role: writer, scope: idOf(store) },
      ]);
      expect(grantsTo(resources, publish.outputs["principalId"])).toEqual([{ role: AZURE_ROLES.acrPush, scope: idOf(registry) }]);
      expect(childrenOf(resources, `shop-${service.service}-delivery`).some((r) => r.type.startsWith("kubernetes:"))).toBe(false);
      // The workflow's release names exactly this app.
      const release = serviceWorkflow(plan, service, { azureSubscriptionId: MOCK_SUBSCRIPTION }).jobs.deploy.steps.find((s) => s.name === "Release to the app")!;
      expect(release.run).toContain(` --name ${String(app.inputs["name"])} `);
    }
  });
});
