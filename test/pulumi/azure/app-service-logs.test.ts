import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { AZURE_EVENT_HUBS_SECRET_KEYS } from "../../../lib/kubernetes/log-pipeline.js";
import { azureSubnetLayout } from "../../../lib/plan/azure.js";
import { formatCidr, parseCidr, subdivide } from "../../../lib/plan/cidr.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { AppServiceLogExport, APP_SERVICE_LOG_CATEGORIES } from "../../../lib/pulumi/azure/app-service-log-export.js";
import { DIAGNOSTIC_SETTING_NAME } from "../../../lib/pulumi/azure/diagnostics.js";
import { createLandingZone } from "../../../lib/pulumi/index.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { byType, childrenOf, runProgram, single, type RegisteredResource } from "../harness.js";

type Obj = { kind: string; metadata: { name: string; namespace?: string }; data?: Record<string, string>; spec?: Record<string, unknown> };
type Rule = { name: string; sourceAddressPrefix: string; destinationAddressPrefix: string; destinationPortRange?: string; destinationPortRanges?: string[] };

/** The Azure example on App Service with its ELK pipeline kept; Istio (clusters only) turned off. */
function shopOnAppService(): LandingZoneInput {
  const example = parse(readFileSync("examples/azure/landing-zone.yaml", "utf8")) as LandingZoneInput;
  return { ...example, tier: "paas", mesh: { kind: "none" } };
}
const idOf = (r: RegisteredResource) => String(r.outputs["id"]);

describe("Azure PaaS with ELK: App Service logs through an event hub into a logging cluster's Logstash", async () => {
  const spec = shopOnAppService();
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const layout = azureSubnetLayout(plan.network, { loggingSubnet: true });
  const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));
  const namespace = single(resources, "azure-native:eventhub:Namespace", "shop-app-logs-namespace");
  const hub = single(resources, "azure-native:eventhub:EventHub", "shop-app-logs-hub");
  const account = single(resources, "azure-native:storage:StorageAccount", "shop-app-logs-checkpoints");
  const monitorRule = single(resources, "azure-native:eventhub:NamespaceAuthorizationRule");
  const apps = byType(resources, "azure-native:web:WebApp");

  it("gives the logging cluster the private block's upper half; App Service keeps the delegated lower half", () => {
    const privateBlock = parseCidr(azureSubnetLayout(plan.network).workloads);
    expect(layout.workloads).toBe(formatCidr(subdivide(privateBlock, privateBlock.prefix + 1, 0)));
    expect(layout.logging).toBe(formatCidr(subdivide(privateBlock, privateBlock.prefix + 1, 1)));
    const workloads = single(resources, "azure-native:network:Subnet", "shop-network-workloads");
    const logging = single(resources, "azure-native:network:Subnet", "shop-network-logging");
    expect(workloads.inputs).toMatchObject({ addressPrefix: layout.workloads, delegations: [{ serviceName: "Microsoft.Web/serverFarms" }] });
    expect(logging.inputs).toMatchObject({ addressPrefix: layout.logging, defaultOutboundAccess: false });
    expect(logging.inputs["delegations"]).toBeUndefined();
    const cluster = single(resources, "azure-native:containerservice:ManagedCluster");
    expect(cluster.inputs).toMatchObject({ apiServerAccessProfile: { enablePrivateCluster: true } });
    expect(JSON.stringify(cluster.inputs["agentPoolProfiles"])).toContain(idOf(logging));
    expect(JSON.stringify(cluster.inputs["agentPoolProfiles"])).not.toContain(idOf(workloads));
    expect(single(resources, "msa:azure:LogCluster").parent).toBe("shop");
  });

  it("lets only the logging cluster's subnet and pods into itself, and lets it reach the private endpoints", () => {
    const rules = (nsg: string) => single(resources, "azure-native:network:NetworkSecurityGroup", nsg).inputs["securityRules"] as Rule[];
    const logging = rules("shop-network-logging-nsg");
    expect(logging.map((r) => r.name)).toEqual(["AllowLoggingNodes", "AllowPods", "AllowPodsToPods", "AllowNodesToPods", "AllowAzureLoadBalancer", "DenyAllInbound"]);
    expect(logging[0]).toMatchObject({ sourceAddressPrefix: layout.logging, destinationAddressPrefix: layout.logging });
    expect(logging[1]).toMatchObject({ sourceAddressPrefix: plan.network.podsCidr, destinationAddressPrefix: layout.logging });
    expect(logging[2]).toMatchObject({ sourceAddressPrefix: plan.network.podsCidr, destinationAddressPrefix: plan.network.podsCidr });
    expect(logging[3]).toMatchObject({ sourceAddressPrefix: layout.logging, destinationAddressPrefix: plan.network.podsCidr });
    const endpoints = rules("shop-network-endpoints-nsg").find((r) => r.name === "AllowLoggingCluster")!;
    expect(endpoints).toMatchObject({ sourceAddressPrefix: layout.logging, destinationAddressPrefix: layout.endpoints });
    expect(endpoints.destinationPortRanges).toEqual(expect.arrayContaining(["443", "5671-5672"]));
  });

  it("streams exactly the console, HTTP and application logs of every app into the hub, beside the Log Analytics setting", () => {
    expect(apps.length).toBe(plan.services.length);
    const settings = byType(resources, "azure-native:monitor:DiagnosticSetting");
    for (const app of apps) {
      const mine = settings.filter((s) => s.inputs["resourceUri"] === idOf(app));
      expect(mine.map((s) => s.inputs["name"]).sort()).toEqual([DIAGNOSTIC_SETTING_NAME, "msa-landing-zone-elk"]);
      const elk = mine.find((s) => s.inputs["name"] === "msa-landing-zone-elk")!;
      expect(elk.parent).toBe("shop-app-logs");
      expect(elk.inputs).toMatchObject({ eventHubName: hub.outputs["name"], eventHubAuthorizationRuleId: idOf(monitorRule), metrics: [] });
      expect(elk.inputs["workspaceId"]).toBeUndefined();
      expect(elk.inputs["logs"]).toEqual(APP_SERVICE_LOG_CATEGORIES.map((category) => ({ category, enabled: true })));
      expect(APP_SERVICE_LOG_CATEGORIES).toEqual(["AppServiceConsoleLogs", "AppServiceHTTPLogs", "AppServiceAppLogs"]);
    }
  });

  it("takes no public traffic into the namespace: private endpoint for Logstash, trusted-service bypass for Azure Monitor", () => {
    expect(namespace.inputs).toMatchObject({ sku: { name: "Standard" }, publicNetworkAccess: "Disabled", minimumTlsVersion: "1.2", location: plan.region });
    // SAS stays for Logstash's input only, named so the policy pack accepts it.
    expect(namespace.inputs).toMatchObject({ disableLocalAuth: false, tags: { "msa:local-auth": "logstash-azure-event-hubs" } });
    expect(single(resources, "azure-native:eventhub:NamespaceNetworkRuleSet").inputs).toMatchObject({
      namespaceName: namespace.outputs["name"],
      publicNetworkAccess: "Disabled",
      defaultAction: "Deny",
      trustedServiceAccessEnabled: true,
      ipRules: [],
      virtualNetworkRules: [],
    });
    const endpoints = byType(resources, "azure-native:network:PrivateEndpoint").filter((e) => e.parent === "shop-app-logs");
    const target = (group: string) => endpoints.find((e) => JSON.stringify(e.inputs["privateLinkServiceConnections"]).includes(`"${group}"`))!;
    expect(JSON.stringify(target("namespace").inputs["privateLinkServiceConnections"])).toContain(idOf(namespace));
    expect(JSON.stringify(target("blob").inputs["privateLinkServiceConnections"])).toContain(idOf(account));
    for (const e of endpoints) expect((e.inputs["subnet"] as { id: string }).id).toBe(idOf(single(resources, "azure-native:network:Subnet", "shop-network-endpoints")));
    expect(byType(resources, "azure-native:privatedns:PrivateZone").map((z) => z.inputs["privateZoneName"])).toEqual(
      expect.arrayContaining(["privatelink.servicebus.windows.net", "privatelink.blob.core.windows.net"]),
    );
  });

  it("scopes the SAS rules: Logstash may only listen on the hub; Azure Monitor's namespace rule has the rights diagnostic settings require", () => {
    expect(hub.inputs).toMatchObject({ eventHubName: "app-service-logs", partitionCount: 4, messageRetentionInDays: 7 });
    expect(single(resources, "azure-native:eventhub:ConsumerGroup", "shop-app-logs-logstash").inputs).toMatchObject({ eventHubName: hub.outputs["name"], consumerGroupName: "logstash" });
    expect(single(resources, "azure-native:eventhub:EventHubAuthorizationRule").inputs).toMatchObject({ eventHubName: hub.outputs["name"], authorizationRuleName: "logstash-listen", rights: ["Listen"] });
    expect(monitorRule.inputs["rights"]).toEqual(["Manage", "Send", "Listen"]);
  });

  it("keeps checkpoints in a private TLS 1.2 account with no anonymous access", () => {
    expect(account.inputs).toMatchObject({
      kind: "StorageV2",
      enableHttpsTrafficOnly: true,
      minimumTlsVersion: "TLS1_2",
      allowBlobPublicAccess: false,
      publicNetworkAccess: "Disabled",
      networkRuleSet: { defaultAction: "Deny", bypass: "None" },
    });
    expect(single(resources, "azure-native:storage:BlobContainer", "shop-app-logs-checkpoints").inputs).toMatchObject({ accountName: account.outputs["name"], containerName: "logstash-checkpoints", publicAccess: "None" });
  });

  it("retains the namespace and the account in prod", () => {
    expect(plan.protection.retain).toBe(true);
    for (const r of [namespace, hub, account]) expect([r.protect, r.retainOnDelete], r.name).toEqual([true, true]);
  });

  it("hands the connection strings to Logstash only as a Pulumi secret in a Kubernetes Secret, which the pipeline names by reference", () => {
    const secret = single(resources, "kubernetes:core/v1:Secret", "shop-logging-pipeline-app-service-log-export");
    expect(secret.provider).toBe("shop-logging-platform-k8s");
    expect(secret.secretInputs).toContain("stringData");
    expect(secret.inputs["metadata"]).toMatchObject({ name: "app-service-log-export", namespace: plan.logging!.namespace });
    const data = secret.inputs["stringData"] as Record<string, string>;
    expect(data[AZURE_EVENT_HUBS_SECRET_KEYS.eventHub]).toBe(
      `Endpoint=sb://${String(namespace.outputs["name"])}.servicebus.windows.net/;SharedAccessKeyName=logstash-listen;SharedAccessKey=mock-key-logstash-listen;EntityPath=app-service-logs`,
    );
    expect(data[AZURE_EVENT_HUBS_SECRET_KEYS.storage]).toBe(
      `DefaultEndpointsProtocol=https;AccountName=${String(account.outputs["name"])};AccountKey=mock-account-key-${String(account.outputs["name"])};EndpointSuffix=core.windows.net`,
    );
    // No other resource carries a key.
    for (const r of resources.filter((r) => r !== secret)) expect(JSON.stringify(r.inputs), r.name).not.toMatch(/mock-key-|mock-account-key-/);

    const objs = single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-logging-pipeline-manifests").inputs["objs"] as Obj[];
    const conf = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === "logstash-pipeline")!.data!["logstash.conf"]!;
    expect(conf).toContain('consumer_group => "logstash"');
    expect(conf).toContain('event_hub_connections => ["${AZURE_EVENT_HUB_CONNECTION_0}"]');
    expect(conf).toContain("  redis {");
    const deployment = objs.find((o) => o.kind === "Deployment" && o.metadata.name === "logstash")!;
    expect(JSON.stringify(deployment.spec)).toContain('"secretKeyRef":{"key":"event-hub-connection","name":"app-service-log-export"}');
  });

  it("exposes no buffer to hosts: no internal load balancer and no vault copy of its password", () => {
    expect(resources.find((r) => r.name === "shop-logging-buffer-exposure")).toBeUndefined();
    expect(resources.find((r) => r.name === "shop-logging-buffer-auth")).toBeUndefined();
    expect(childrenOf(resources, "shop-logging").map((r) => r.type)).toEqual(expect.arrayContaining(["msa:azure:KubernetesPlatform", "msa:kubernetes:LogPipeline"]));
  });
});

describe("AppServiceLogExport on its own", () => {
  const base = {
    resourceGroupName: "rg",
    location: "koreacentral",
    namespaceName: "shop-dev-logs",
    storageAccountName: "shopdevlogs",
    privateEndpoints: { subnetId: "endpoints", namespaceDnsZoneId: "ns-zone", blobDnsZoneId: "blob-zone" },
  };

  it("refuses no apps and a retention Event Hubs Standard cannot keep", () => {
    expect(() => new AppServiceLogExport("logs", { ...base, apps: {} })).toThrow(/AppServiceLogExport logs: apps is empty\. Fix/);
    expect(() => new AppServiceLogExport("logs", { ...base, apps: { orders: "app-id" }, retentionDays: 8 })).toThrow(/retentionDays 8 is outside the 1-7 days .* Fix: use 1 to 7/);
  });

  it("creates one setting per app and keeps nothing without retain", async () => {
    const { resources } = await runProgram(() => void new AppServiceLogExport("logs", { ...base, apps: { orders: "orders-id", payments: "payments-id" } }));
    expect(byType(resources, "azure-native:monitor:DiagnosticSetting").map((s) => [s.name, s.inputs["resourceUri"]])).toEqual([
      ["logs-orders", "orders-id"],
      ["logs-payments", "payments-id"],
    ]);
    expect(single(resources, "azure-native:eventhub:Namespace").protect).toBeFalsy();
  });
});
