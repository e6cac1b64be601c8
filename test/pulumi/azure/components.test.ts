import * as pulumi from "@pulumi/pulumi";
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { AKS_SYSTEM_POOL, azureUniqueName, postgresServerSize, redisSku } from "../../../lib/plan/azure.js";
import { errorRateQuery, routeFilter, workbookDefinition } from "../../../lib/plan/azure-monitoring.js";
import { keyVaultSecretName } from "../../../lib/plan/azure-key-vault.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { ApiGateway, type ApiGatewayArgs } from "../../../lib/pulumi/azure/api-gateway.js";
import { ContainerRegistry } from "../../../lib/pulumi/azure/container-registry.js";
import { azureSecretProviderClass } from "../../../lib/kubernetes/secrets-store.js";
import { ServiceWorkload as KubernetesServiceWorkload } from "../../../lib/pulumi/kubernetes/service-workload.js";
import { dnsServiceIp, KubernetesPlatform, withKubeloginMode } from "../../../lib/pulumi/azure/kubernetes-platform.js";
import { MessageBroker } from "../../../lib/pulumi/azure/message-broker.js";
import { AZURE_ROLES, guidFrom } from "../../../lib/pulumi/azure/roles.js";
import { SessionStore } from "../../../lib/pulumi/azure/session-store.js";
import { byType, runProgram, single } from "../harness.js";

const plan = planLandingZone({
  name: "shop",
  cloud: "azure",
  environment: "prod",
  services: [
    { name: "orders", publishes: ["order-placed"] },
    { name: "payments", subscribes: ["order-placed"] },
  ],
});

describe("Azure plan helpers", () => {
  it("names global resources after the zone, environment and a hash of the subscription scope", () => {
    const a = azureUniqueName("azureRegistry", "shop", "prod", "registry", "sub-a/rg");
    expect(a).toMatch(/^shopprodregistry[0-9a-f]{6}$/);
    expect(azureUniqueName("azureRegistry", "shop", "prod", "registry", "sub-b/rg")).not.toBe(a);
    expect(azureUniqueName("azureKeyVault", "a-very-long-landing-zone", "prod", "vault", "s").length).toBeLessThanOrEqual(24);
  });

  it("reads Redis sizes and refuses what Azure Cache for Redis does not sell", () => {
    expect(redisSku("Premium_P1")).toEqual({ name: "Premium", family: "P", capacity: 1 });
    expect(() => redisSku("Standard_P1")).toThrow(/sessions.nodeType: "Standard_P1" is not an Azure Cache for Redis size. Fix:/);
  });

  it("reads a service's gateway traffic by its exact route prefixes", () => {
    expect(routeFilter(["/api/v1.0", "/web/"])).toBe(String.raw`AGWAccessLogs | where RequestUri matches regex "^(/api/v1\\.0|/web)(/|\\?|$)"`);
    expect(errorRateQuery(["/orders"])).toMatch(/countif\(HttpStatus >= 500\).*extend rate = iff\(total == 0, 0\.0, 100\.0 \* errors \/ total\)/);
    expect(() => routeFilter([])).toThrow(/a service without routes has no gateway traffic/);
    const workbook = JSON.parse(workbookDefinition("shop", [{ name: "orders", paths: ["/orders"], saturation: { kind: "container", container: "orders" } }])) as { version: string; items: { name: string; content: { query?: string } }[] };
    expect(workbook.version).toBe("Notebook/1.0");
    expect(workbook.items.find((i) => i.name === "orders-saturation")!.content.query).toMatch(/InstanceName endswith "\/orders" \| summarize cpu = avg\(CounterValue\) \/ 10000000\.0 by bin\(TimeGenerated, 1m\)$/);

    // An internal service has no access-log rows: saturation only, and the workbook still renders.
    const internal = JSON.parse(workbookDefinition("shop", [{ name: "ledger", paths: [], saturation: { kind: "container", container: "ledger" } }])) as { items: { name: string; content: { json?: string } }[] };
    expect(internal.items.map((i) => i.name)).toEqual(["title", "ledger-title", "ledger-saturation"]);
    expect(internal.items[1]!.content.json).toMatch(/Internal: no gateway route/);
  });

  it("sizes PostgreSQL flexible servers from the plan and refuses other sizes", () => {
    expect(postgresServerSize("Standard_B1ms", 20)).toEqual({ sku: { name: "Standard_B1ms", tier: "Burstable" }, storageGiB: 32 });
    expect(postgresServerSize("Standard_D4ds_v5", 100).storageGiB).toBe(128);
    expect(() => postgresServerSize("db.t4g.micro", 20)).toThrow(/database.instanceClass: "db.t4g.micro" is not a PostgreSQL flexible server size/);
  });

  it("derives stable role-assignment names and the cluster DNS address", () => {
    expect(guidFrom("scope|principal|role")).toBe(guidFrom("scope|principal|role"));
    expect(guidFrom("scope|principal|role")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(dnsServiceIp("100.68.0.0/20")).toBe("100.68.0.10");
  });

  it("makes kubelogin sign in without a device code", () => {
    const kubeconfig = [
      "apiVersion: v1",
      "users:",
      "- name: clusterUser",
      "  user:",
      "    exec:",
      "      command: kubelogin",
      "      args: [get-token, --login, devicecode, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]",
    ].join("\n");
    const users = (parse(withKubeloginMode(kubeconfig, "workloadidentity")) as { users: { user: { exec: { args: string[] } } }[] }).users;
    expect(users[0]!.user.exec.args).toEqual(["get-token", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630", "--login", "workloadidentity"]);
  });
});

describe("azure-native imports", () => {
  it("load one service module each, never the package root (which loads all 270 and doubles the type-check)", () => {
    for (const file of readdirSync("lib/pulumi/azure").filter((f) => f.endsWith(".ts"))) {
      const imports = [...readFileSync(`lib/pulumi/azure/${file}`, "utf8").matchAll(/from "(@pulumi\/azure-native[^"]*)"/g)].map((m) => m[1]!);
      for (const specifier of imports) expect(specifier, file).toMatch(/^@pulumi\/azure-native\/(?:[a-z]+\/index|types\/input)\.js$/);
    }
  });
});

describe("Key Vault secrets on AKS", () => {
  const withSecrets = planLandingZone({ name: "shop", cloud: "azure", services: [{ name: "orders", secrets: ["SIGNING_KEY", "API_TOKEN"] }] });
  const orders = withSecrets.services[0]!;

  it("refuses a SecretProviderClass that leaves a declared secret out", () => {
    expect(() => azureSecretProviderClass(withSecrets, orders, "orders-secrets", { clientId: "c", keyVaultName: "kv", tenantId: "t", secrets: [{ key: "SIGNING_KEY", secretName: "orders-signing-key" }] })).toThrow(
      /services\[orders\]: no Key Vault secret for \[API_TOKEN\]/,
    );
  });

  it("refuses a provider class beside engine-written secret values", async () => {
    const providerClass = azureSecretProviderClass(withSecrets, orders, "orders-secrets", {
      clientId: "c",
      keyVaultName: "kv",
      tenantId: "t",
      secrets: orders.secrets.map((key) => ({ key, secretName: key.toLowerCase() })),
    });
    await expect(
      runProgram(() => void new KubernetesServiceWorkload("orders", { plan: withSecrets, service: "orders", provider: undefined as never, secretProviderClass: providerClass, secretValues: { SIGNING_KEY: "x" } })),
    ).rejects.toThrow(/args.secretProviderClass: given for orders, which also has secretValues or extraSecrets/);
  });
});

describe("KubernetesPlatform input checks", () => {
  const base = {
    cluster: plan.cluster!,
    resourceGroupName: "rg",
    location: "eastus",
    subnetId: "subnet",
    zones: ["1", "2", "3"],
    podsCidr: "100.64.0.0/14",
    servicesCidr: "100.68.0.0/20",
    systemPool: AKS_SYSTEM_POOL.prod,
  };
  const attempt = (args: Partial<typeof base> & Record<string, unknown>) => runProgram(() => void new KubernetesPlatform("aks", { ...base, ...args }));

  it("names the bad prop and the fix before anything is created", async () => {
    await expect(attempt({ zones: ["eastus-1"] })).rejects.toThrow(/KubernetesPlatform aks: zones \[eastus-1\] are not Azure zone numbers. Fix: use "1", "2" and "3"/);
    await expect(
      runProgram(() => void new ContainerRegistry("acr", { resourceGroupName: "rg", location: "eastus", registryName: "acr", sku: "Standard", privateEndpoint: { subnetId: "s", privateDnsZoneId: "z" } })),
    ).rejects.toThrow(/ContainerRegistry acr: sku "Standard" has no private endpoints. Fix: use sku Premium/);
    await expect(attempt({ systemPool: { ...AKS_SYSTEM_POOL.prod, min: 0 } })).rejects.toThrow(/systemPool min 0 \/ max 6 are invalid/);
  });
});

describe("ApiGateway", () => {
  const args: ApiGatewayArgs = {
    resourceGroupName: "shop-prod",
    location: "eastus",
    gatewayName: "shop-prod-gateway",
    subnetId: "gateway-subnet",
    gateway: { waf: false, rateLimit: { requestsPerSecond: 10, burst: 20 }, accessLogs: true },
    zones: ["1", "2"],
    backends: [
      { name: "orders", port: 8080, protocol: "Http", healthPath: "/health" },
      { name: "web", addresses: [{ fqdn: "web.azurewebsites.net" }], port: 443, protocol: "Https", healthPath: "/health", useBackendHostName: true },
    ],
    routes: [
      { path: "/orders", backend: "orders" },
      { path: "/web", backend: "web" },
    ],
    certificate: { keyVaultSecretId: "https://kv.vault.azure.net/secrets/tls", keyVaultId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv" },
  };

  it("serves HTTPS with the Key Vault certificate through its own identity and redirects HTTP", async () => {
    const { resources } = await runProgram(() => void new ApiGateway("api", args));
    const gateway = single(resources, "azure-native:network:ApplicationGateway");
    const identity = single(resources, "azure-native:managedidentity:UserAssignedIdentity");
    expect(gateway.inputs).toMatchObject({
      identity: { type: "UserAssigned", userAssignedIdentities: [identity.outputs["id"]] },
      sslCertificates: [{ name: "default", keyVaultSecretId: args.certificate!.keyVaultSecretId }],
      sslPolicy: { policyType: "Predefined", policyName: "AppGwSslPolicy20220101S" },
    });
    const read = single(resources, "azure-native:authorization:RoleAssignment");
    // On the certificate's secret alone, as every service's secret is granted, not on the whole vault.
    expect(read.inputs).toMatchObject({ scope: `${String(args.certificate!.keyVaultId)}/secrets/tls`, principalId: identity.outputs["principalId"] });
    expect(String(read.inputs["roleDefinitionId"]).endsWith(AZURE_ROLES.keyVaultSecretsUser)).toBe(true);
    expect(gateway.dependsOn).toEqual([read.name]);
    const rules = gateway.inputs["requestRoutingRules"] as { name: string; redirectConfiguration?: { id: string }; urlPathMap?: { id: string } }[];
    expect(rules.map((r) => r.name)).toEqual(["http", "https"]);
    expect(rules[0]!.redirectConfiguration!.id).toMatch(/\/applicationGateways\/shop-prod-gateway\/redirectConfigurations\/to-https$/);
    expect(rules[1]!.urlPathMap!.id).toMatch(/\/urlPathMaps\/routes$/);
    const settings = gateway.inputs["backendHttpSettingsCollection"] as { name: string; pickHostNameFromBackendAddress: boolean; protocol: string }[];
    expect(settings.find((s) => s.name === "web")).toMatchObject({ pickHostNameFromBackendAddress: true, protocol: "Https" });
    const map = (gateway.inputs["urlPathMaps"] as { defaultBackendAddressPool: { id: string }; pathRules: { paths: string[]; backendAddressPool: { id: string } }[] }[])[0]!;
    expect(map.defaultBackendAddressPool.id).toMatch(/\/backendAddressPools\/unrouted$/);
    expect(map.pathRules.map((r) => [r.paths, r.backendAddressPool.id.split("/").pop()])).toEqual([
      [["/orders", "/orders/*"], "orders"],
      [["/web", "/web/*"], "web"],
    ]);
    // waf: false still blocks floods: the policy only logs managed-rule matches.
    const policy = single(resources, "azure-native:network:WebApplicationFirewallPolicy");
    expect(policy.inputs["policySettings"]).toMatchObject({ mode: "Detection" });
    expect((policy.inputs["customRules"] as { rateLimitThreshold: number }[])[0]!.rateLimitThreshold).toBe(600);
  });

  it("grants the certificate's secret by name whether the id is versioned, versionless or still resolving", async () => {
    const vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv";
    for (const keyVaultSecretId of ["https://kv.vault.azure.net/secrets/gateway-tls/0123456789abcdef0123456789abcdef", "https://kv.vault.azure.net/secrets/gateway-tls/", pulumi.output("https://kv.vault.azure.net/secrets/gateway-tls")]) {
      const { resources } = await runProgram(() => void new ApiGateway("api", { ...args, certificate: { keyVaultSecretId, keyVaultId: vault } }));
      expect(single(resources, "azure-native:authorization:RoleAssignment").inputs["scope"]).toBe(`${vault}/secrets/gateway-tls`);
    }
  });

  it("refuses a certificate id that names no secret, naming the value and the fix", async () => {
    expect(keyVaultSecretName("https://kv.vault.azure.cn/secrets/tls/abc123")).toBe("tls");
    for (const bad of ["https://kv.vault.azure.net/certificates/tls", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/secrets/tls", "https://kv.vault.azure.net/secrets/"]) {
      expect(() => keyVaultSecretName(bad), bad).toThrow(/is not a Key Vault secret identifier. Fix: use https:\/\/<vault>\.vault\.azure\.net\/secrets\/<name>/);
    }
    const certificate = { keyVaultSecretId: "https://kv.vault.azure.net/certificates/tls", keyVaultId: args.certificate!.keyVaultId };
    // A plain string is refused before anything is registered (an output is checked by the same parse when the grant's scope resolves).
    const { resources } = await runProgram(() => {
      expect(() => new ApiGateway("api", { ...args, certificate })).toThrow(/ApiGateway api certificate.keyVaultSecretId: "https:\/\/kv.vault.azure.net\/certificates\/tls" is not a Key Vault secret identifier/);
    });
    expect(resources).toEqual([]);
  });

  it("sends the access logs when access logs are on or monitoring reads them, the firewall log always", async () => {
    const logsOf = async (accessLogs: boolean, monitored?: boolean) => {
      const { resources } = await runProgram(() => void new ApiGateway("api", { ...args, gateway: { ...args.gateway, accessLogs }, logWorkspaceId: "workspace", ...(monitored === undefined ? {} : { monitored }) }));
      return single(resources, "azure-native:monitor:DiagnosticSetting").inputs["logs"];
    };
    expect(await logsOf(true)).toEqual([{ categoryGroup: "allLogs", enabled: true }]);
    expect(await logsOf(false)).toEqual([{ category: "ApplicationGatewayFirewallLog", enabled: true }]);
    expect(await logsOf(false, true)).toEqual([
      { category: "ApplicationGatewayAccessLog", enabled: true },
      { category: "ApplicationGatewayFirewallLog", enabled: true },
    ]);
  });

  it("refuses routes to unknown backends and reserved names", async () => {
    await expect(runProgram(() => void new ApiGateway("api", { ...args, routes: [{ path: "/x", backend: "nope" }] }))).rejects.toThrow(/route \/x targets "nope", which is not a backend \(orders, web\)/);
    await expect(runProgram(() => void new ApiGateway("api", { ...args, backends: [{ name: "unrouted", port: 80, protocol: "Http", healthPath: "/" }], routes: [] }))).rejects.toThrow(/"unrouted" is reserved/);
  });
});

describe("SessionStore and MessageBroker input checks", () => {
  it("refuses sizes and options Azure does not offer", async () => {
    const endpoint = { subnetId: "s", privateDnsZoneId: "z" };
    await expect(
      runProgram(() => void new SessionStore("s", { resourceGroupName: "rg", location: "eastus", cacheName: "c", sessions: { ...plan.sessions!, nodeType: "Basic_C0", replicas: 1 }, privateEndpoint: endpoint })),
    ).rejects.toThrow(/sessions.nodeType Basic_C0 has no replicas. Fix: use a Standard or Premium size/);
    await expect(runProgram(() => void new MessageBroker("b", { resourceGroupName: "rg", location: "eastus", namespaceName: "n", broker: plan.broker!, privateEndpoint: endpoint }))).rejects.toThrow(
      /sku Standard has no private endpoints. Fix: use sku Premium/,
    );
    await expect(runProgram(() => void new MessageBroker("b", { resourceGroupName: "rg", location: "eastus", namespaceName: "n", broker: { ...plan.broker!, implementation: "event-hubs-kafka" } }))).rejects.toThrow(
      /broker.implementation "event-hubs-kafka" is not Service Bus/,
    );
  });

  it("creates a topic per event and a dead-lettering subscription per subscriber", async () => {
    const { resources } = await runProgram(() => void new MessageBroker("b", { resourceGroupName: "rg", location: "eastus", namespaceName: "shop-bus", broker: plan.broker! }));
    expect(byType(resources, "azure-native:servicebus:Topic").map((t) => t.inputs)).toEqual([
      expect.objectContaining({ topicName: "order-placed", requiresDuplicateDetection: true, defaultMessageTimeToLive: "P4D" }),
    ]);
    expect(single(resources, "azure-native:servicebus:Subscription").inputs).toMatchObject({ topicName: "order-placed", subscriptionName: "payments", maxDeliveryCount: 5, deadLetteringOnMessageExpiration: true });
  });
});
