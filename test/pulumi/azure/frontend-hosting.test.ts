import { beforeAll, describe, expect, it } from "vitest";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { FrontendHosting } from "../../../lib/pulumi/azure/frontend-hosting.js";
import { LandingZone } from "../../../lib/pulumi/azure/landing-zone.js";
import { AZURE_ROLES } from "../../../lib/pulumi/azure/roles.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { byType, runProgram, single, type RegisteredResource } from "../harness.js";

const SPEC: LandingZoneInput = {
  name: "shop",
  cloud: "azure",
  region: "koreacentral",
  tier: "paas",
  environment: "prod",
  gateway: { auth: "none", waf: true },
  mesh: { kind: "none" },
  tracing: { backend: "none" },
  monitoring: { dashboards: false, alarms: false },
  logging: { stack: "none", buffer: "none" },
  auth: { sessions: "none", tokens: "none" },
  pipelines: { perService: false, repositoryOwner: "acme" },
  bffs: ["web"],
  frontends: { shell: "web", fragments: ["catalog", "cart"] },
  services: [{ name: "orders" }],
};
const APPS = ["web", "catalog", "cart"];
const ROLE = "azure-native:authorization:RoleAssignment";
const CONTAINER = "azure-native:storage:BlobContainer";
const ROUTE = "azure-native:cdn:Route";

async function zone(spec: LandingZoneInput): Promise<RegisteredResource[]> {
  return (await runProgram(() => void new LandingZone("shop", { spec }))).resources;
}
const under = (resources: RegisteredResource[], component: string) => resources.filter((r) => r.path.split("/").includes(component));
const roleOf = (r: RegisteredResource) => String(r.inputs["roleDefinitionId"]).split("/").pop();
const idOf = (r: RegisteredResource) => String(r.outputs["id"]);

describe("FrontendHosting in the Azure landing zone (prod)", () => {
  let resources: RegisteredResource[];
  let hosting: RegisteredResource[];
  const outputs: Record<string, unknown> = {};
  beforeAll(async () => {
    ({ resources } = await runProgram(() => {
      const lz = new LandingZone("shop", { spec: SPEC });
      for (const [key, output] of Object.entries(lz.outputs)) output.apply((v) => (outputs[key] = v));
    }));
    hosting = under(resources, "shop-frontends");
  });

  it("keeps one private container per app in a keyless, TLS 1.2, protected storage account with versioning and soft delete", () => {
    const account = single(hosting, "azure-native:storage:StorageAccount");
    expect(account.inputs).toMatchObject({
      kind: "StorageV2",
      sku: { name: "Standard_ZRS" },
      enableHttpsTrafficOnly: true,
      minimumTlsVersion: "TLS1_2",
      allowBlobPublicAccess: false,
      allowSharedKeyAccess: false,
      defaultToOAuthAuthentication: true,
    });
    expect(account.protect).toBe(true);
    const containers = byType(hosting, CONTAINER);
    expect(containers.map((c) => [c.name, c.inputs["containerName"], c.inputs["publicAccess"], c.inputs["accountName"]])).toEqual(APPS.map((a) => [`shop-frontends-${a}`, a, "None", account.outputs["name"]]));
    for (const container of containers) expect(container.protect).toBe(true);
    expect(single(hosting, "azure-native:storage:BlobServiceProperties").inputs).toMatchObject({ isVersioningEnabled: true, deleteRetentionPolicy: { enabled: true, days: 30 } });
    // Storage access logs and Front Door logs reach Log Analytics.
    const diagnostics = byType(hosting, "azure-native:monitor:DiagnosticSetting").map((d) => d.inputs["resourceUri"]);
    expect(diagnostics).toEqual([`${idOf(account)}/blobServices/default`, idOf(single(hosting, "azure-native:cdn:Profile"))]);
  });

  it("routes each fragment by prefix to its own origin, the shell as /*, and the shell BFF's routes to the gateway's public endpoint", () => {
    const routes = byType(hosting, ROUTE);
    const groupOf = (route: RegisteredResource) => (route.inputs["originGroup"] as { id: string }).id;
    expect(routes.map((r) => [r.inputs["routeName"], r.inputs["patternsToMatch"], r.inputs["originPath"]])).toEqual([
      ["web", ["/*"], "/web"],
      ["catalog", ["/catalog/*"], "/catalog"],
      ["cart", ["/cart/*"], "/cart"],
      ["api", ["/web", "/web/*"], undefined],
    ]);
    const groups = byType(hosting, "azure-native:cdn:AFDOriginGroup");
    for (const app of APPS) {
      const group = single(hosting, "azure-native:cdn:AFDOriginGroup", `shop-frontends-${app}`);
      expect(groupOf(single(hosting, ROUTE, `shop-frontends-${app}`))).toBe(idOf(group));
      const origin = single(hosting, "azure-native:cdn:AFDOrigin", `shop-frontends-${app}`);
      expect(origin.inputs).toMatchObject({ originGroupName: group.outputs["name"], hostName: expect.stringMatching(/^[a-z0-9]+\.blob\.core\.windows\.net$/), enforceCertificateNameCheck: true });
    }
    expect(groups).toHaveLength(APPS.length + 1);
    const gatewayIp = single(resources, "azure-native:network:PublicIPAddress", "shop-gateway-ip").outputs["ipAddress"];
    expect(single(hosting, "azure-native:cdn:AFDOrigin", "shop-frontends-api").inputs).toMatchObject({ hostName: gatewayIp });
    expect(groupOf(single(hosting, ROUTE, "shop-frontends-api"))).toBe(idOf(single(hosting, "azure-native:cdn:AFDOriginGroup", "shop-frontends-api")));
    for (const route of routes) expect(route.inputs).toMatchObject({ httpsRedirect: "Enabled", supportedProtocols: ["Http", "Https"] });
    // Files are fetched over HTTPS; the BFF's answers are never cached.
    for (const app of APPS) expect(single(hosting, ROUTE, `shop-frontends-${app}`).inputs).toMatchObject({ forwardingProtocol: "HttpsOnly", cacheConfiguration: { queryStringCachingBehavior: "IgnoreQueryString" } });
    expect(single(hosting, ROUTE, "shop-frontends-api").inputs["cacheConfiguration"]).toBeUndefined();
    expect(outputs["frontendsUrl"]).toBe(`https://${String(single(hosting, "azure-native:cdn:AFDEndpoint").outputs["hostName"])}`);
  });

  it("reads the containers as Front Door's own identity, granted Storage Blob Data Reader on the app containers only", () => {
    const identity = single(hosting, "azure-native:managedidentity:UserAssignedIdentity", "shop-frontends-cdn-identity");
    expect(single(hosting, "azure-native:cdn:Profile").inputs["identity"]).toEqual({ type: "UserAssigned", userAssignedIdentities: [idOf(identity)] });
    const reads = byType(hosting, ROLE).filter((r) => r.inputs["principalId"] === identity.outputs["principalId"]);
    expect(reads.map((r) => [roleOf(r), r.inputs["scope"]])).toEqual(APPS.map((a) => [AZURE_ROLES.storageBlobDataReader, idOf(single(hosting, CONTAINER, `shop-frontends-${a}`))]));
    for (const app of APPS) {
      expect(single(hosting, "azure-native:cdn:AFDOriginGroup", `shop-frontends-${app}`).inputs["authentication"]).toEqual({
        type: "UserAssignedIdentity",
        scope: "https://storage.azure.com/.default",
        userAssignedIdentity: { id: idOf(identity) },
      });
    }
  });

  it("adds the security headers through a rule set on every route, and guards the endpoint with a Premium WAF policy", () => {
    const ruleSet = single(hosting, "azure-native:cdn:RuleSet");
    for (const route of byType(hosting, ROUTE)) expect(route.inputs["ruleSets"]).toEqual([{ id: idOf(ruleSet) }]);
    const actions = single(hosting, "azure-native:cdn:Rule").inputs["actions"] as { name: string; parameters: { headerAction: string; headerName: string; value: string } }[];
    expect(actions.every((a) => a.name === "ModifyResponseHeader" && a.parameters.headerAction === "Overwrite")).toBe(true);
    expect(Object.fromEntries(actions.map((a) => [a.parameters.headerName, a.parameters.value]))).toEqual({
      "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
      "Content-Security-Policy": expect.stringContaining("frame-ancestors 'none'"),
      "X-Content-Type-Options": "nosniff",
      "X-Frame-Options": "DENY",
      "Referrer-Policy": "strict-origin-when-cross-origin",
    });
    const waf = single(hosting, "azure-native:frontdoor:Policy");
    expect(waf.inputs).toMatchObject({ sku: { name: "Premium_AzureFrontDoor" }, policySettings: { enabledState: "Enabled", mode: "Prevention" } });
    expect((waf.inputs["managedRules"] as { managedRuleSets: { ruleSetType: string }[] }).managedRuleSets.map((r) => r.ruleSetType)).toEqual(["Microsoft_DefaultRuleSet", "Microsoft_BotManagerRuleSet"]);
    expect(single(hosting, "azure-native:cdn:Profile").inputs["sku"]).toEqual({ name: "Premium_AzureFrontDoor" });
    expect(single(hosting, "azure-native:cdn:SecurityPolicy").inputs["parameters"]).toEqual({
      type: "WebApplicationFirewall",
      wafPolicy: { id: idOf(waf) },
      associations: [{ domains: [{ id: idOf(single(hosting, "azure-native:cdn:AFDEndpoint")) }], patternsToMatch: ["/*"] }],
    });
  });

  it("gives each app a deploy identity with Storage Blob Data Contributor on its own container and the purge role on the endpoint, nothing else", () => {
    const endpoint = idOf(single(hosting, "azure-native:cdn:AFDEndpoint"));
    const purge = single(hosting, "azure-native:authorization:RoleDefinition", "shop-frontends-purge");
    const resourceGroupId = endpoint.split("/providers/")[0];
    expect(purge.inputs).toMatchObject({
      scope: resourceGroupId,
      permissions: [{ actions: ["Microsoft.Cdn/profiles/afdendpoints/read", "Microsoft.Cdn/profiles/afdendpoints/purge/action"] }],
      assignableScopes: [resourceGroupId],
    });
    for (const app of APPS) {
      const deployer = single(hosting, "azure-native:managedidentity:UserAssignedIdentity", `shop-frontends-${app}-deploy`);
      const grants = byType(resources, ROLE).filter((r) => r.inputs["principalId"] === deployer.outputs["principalId"]);
      expect(grants.map((g) => [g.inputs["roleDefinitionId"], g.inputs["scope"]])).toEqual([
        [`/providers/Microsoft.Authorization/roleDefinitions/${AZURE_ROLES.storageBlobDataContributor}`, idOf(single(hosting, CONTAINER, `shop-frontends-${app}`))],
        [idOf(purge), endpoint],
      ]);
      // Only the app's own repository, in this environment, signs in as it.
      expect(single(hosting, "azure-native:managedidentity:FederatedIdentityCredential", `shop-frontends-${app}-github`).inputs).toMatchObject({
        resourceName: deployer.outputs["name"],
        issuer: "https://token.actions.githubusercontent.com",
        subject: `repo:acme/${app}-ui:environment:prod`,
        audiences: ["api://AzureADTokenExchange"],
      });
    }
  });

  it("exports what each app's workflow signs in as and uploads to: its deploy identity's client id and the storage account", () => {
    expect(outputs["frontendDeployClientIds"]).toEqual(
      Object.fromEntries(APPS.map((app) => [app, single(hosting, "azure-native:managedidentity:UserAssignedIdentity", `shop-frontends-${app}-deploy`).outputs["clientId"]])),
    );
    expect(outputs["frontendStorageAccount"]).toBe(single(hosting, "azure-native:storage:StorageAccount").outputs["name"]);
    expect(outputs["frontendStorageAccount"]).toMatch(/^shopprodui[0-9a-f]+$/);
  });
});

describe("FrontendHosting on Azure, other settings", () => {
  it("exports no deploy client ids or storage account for workflows when no repository may deploy the apps (no repository owner)", async () => {
    const outputs: Record<string, unknown> = {};
    await runProgram(() => {
      const lz = new LandingZone("shop", { spec: { ...SPEC, pipelines: { perService: false } } });
      for (const [key, output] of Object.entries(lz.outputs)) output.apply((v) => (outputs[key] = v));
    });
    expect(outputs["frontendsUrl"]).toBeDefined();
    expect(Object.keys(outputs)).not.toContain("frontendDeployClientIds");
    expect(Object.keys(outputs)).not.toContain("frontendStorageAccount");
  });

  it("in dev: Standard Front Door without WAF, nothing protected; a custom domain gets a managed TLS 1.2 certificate on every route", async () => {
    const resources = await zone({ ...SPEC, environment: "dev", gateway: { auth: "none", waf: false }, frontends: { shell: "web", fragments: ["catalog"], domainName: "shop.example.com" } });
    expect(single(resources, "azure-native:cdn:Profile").inputs["sku"]).toEqual({ name: "Standard_AzureFrontDoor" });
    expect(byType(resources, "azure-native:frontdoor:Policy")).toEqual([]);
    expect(byType(resources, "azure-native:cdn:SecurityPolicy")).toEqual([]);
    for (const r of byType(resources, CONTAINER)) expect(r.protect).toBe(false);
    const domain = single(resources, "azure-native:cdn:AFDCustomDomain");
    expect(domain.inputs).toMatchObject({ hostName: "shop.example.com", tlsSettings: { certificateType: "ManagedCertificate", minimumTlsVersion: "TLS12" } });
    for (const route of byType(resources, ROUTE)) expect(route.inputs["customDomains"]).toEqual([{ id: idOf(domain) }]);
  });

  it("refuses API routes without a gateway, and a profile name Front Door cannot take, before registering anything; forwards over HTTPS to a gateway with a certificate", async () => {
    const plan = planLandingZone(SPEC, { engine: "pulumi" });
    const base = { frontends: plan.frontends!, resourceGroupName: "rg", location: "koreacentral", storageAccountName: "shopui" };
    const run = await runProgram(() => {
      expect(() => new FrontendHosting("no-api", base)).toThrow(/api is undefined, but the shell's BFF routes \(\/web, \/web\/\*\) go to the gateway/);
      expect(() => new FrontendHosting("bad", { ...base, api: { hostName: "1.2.3.4", protocol: "Http" }, profileName: "shop_frontends" })).toThrow(/profileName "shop_frontends" cannot name a Front Door profile/);
      const ownerless = planLandingZone({ ...SPEC, pipelines: { perService: false } }, { engine: "pulumi" }).frontends!;
      expect(() => new FrontendHosting("ownerless", { ...base, frontends: ownerless, api: { hostName: "1.2.3.4", protocol: "Http" }, githubDeploy: true })).toThrow(/app "web" has no GitHub subject because pipelines.repositoryOwner is undefined/);
      new FrontendHosting("tls", { ...base, api: { hostName: "api.example.com", protocol: "Https" } });
    });
    expect(run.resources.some((r) => r.name.startsWith("no-api") || r.name.startsWith("bad") || r.name.startsWith("ownerless"))).toBe(false);
    expect(byType(run.resources, "azure-native:managedidentity:FederatedIdentityCredential")).toEqual([]);
    expect(single(run.resources, "azure-native:cdn:AFDOrigin", "tls-api").inputs).toMatchObject({ hostName: "api.example.com", enforceCertificateNameCheck: true });
    expect(single(run.resources, ROUTE, "tls-api").inputs["forwardingProtocol"]).toBe("HttpsOnly");
  });
});

describe("independence (Pulumi, Azure frontends)", () => {
  const signature = (resources: RegisteredResource[]) => new Map(resources.map((r) => [`${r.type}::${r.name}`, JSON.stringify(r.inputs)]));

  it("adding a fragment adds its container, origin, route, identities and grants (its purge grant included), and changes no other resource", async () => {
    const beforeResources = await zone(SPEC);
    const afterResources = await zone({ ...SPEC, frontends: { shell: "web", fragments: ["catalog", "cart", "account"] } });
    const [before, after] = [signature(beforeResources), signature(afterResources)];
    expect([...before.keys()].filter((k) => !after.has(k))).toEqual([]);
    expect([...before.keys()].filter((k) => before.get(k) !== after.get(k))).toEqual([]);
    const added = afterResources.filter((r) => !before.has(`${r.type}::${r.name}`));
    expect(added.every((r) => r.name.startsWith("shop-frontends-account"))).toBe(true);
    expect(added.map((r) => r.type).sort()).toEqual(
      [CONTAINER, ROLE, ROLE, ROLE, "azure-native:managedidentity:UserAssignedIdentity", "azure-native:managedidentity:FederatedIdentityCredential", "azure-native:cdn:AFDOriginGroup", "azure-native:cdn:AFDOrigin", ROUTE].sort(),
    );
    expect(single(afterResources, ROUTE, "shop-frontends-account").inputs["patternsToMatch"]).toEqual(["/account/*"]);
  });
});
