import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { ingressPrivateIp, azureSubnetLayout } from "../../../lib/plan/azure.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { createLandingZone } from "../../../lib/pulumi/index.js";
import { AZURE_ROLES } from "../../../lib/pulumi/azure/roles.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import { MOCK_DEPLOYER_OBJECT_ID } from "../../../lib/pulumi/testing/azure-mocks.js";
import { byType, childrenOf, runProgram, single, type RegisteredResource } from "../harness.js";

const EXAMPLE = "examples/azure/landing-zone.yaml";
const ROLE = "azure-native:authorization:RoleAssignment";
type Obj = { kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec?: Record<string, unknown>; data?: Record<string, string> } & Record<string, unknown>;

const roleOf = (r: RegisteredResource) => String(r.inputs["roleDefinitionId"]).split("/").pop();
const idOf = (r: RegisteredResource) => String(r.outputs["id"]);

describe("Azure LandingZone (examples/azure, CaaS, prod) through createLandingZone", async () => {
  const spec = loadSpecFile(EXAMPLE);
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const outputs: Record<string, unknown> = {};
  const { resources } = await runProgram(async () => {
    const zone = await createLandingZone("shop", { spec });
    for (const [key, value] of Object.entries(zone.outputs)) value.apply((v) => (outputs[key] = v));
  });

  it("registers the landing zone's parts under msa:azure:LandingZone, everything below it", () => {
    expect(single(resources, "msa:azure:LandingZone").name).toBe("shop");
    expect(childrenOf(resources, "shop").map((r) => r.type)).toEqual(
      expect.arrayContaining([
        "azure-native:resources:ResourceGroup",
        "msa:azure:LogWorkspace",
        "msa:azure:Network",
        "msa:azure:KubernetesPlatform",
        "msa:kubernetes:Ingress",
        "msa:azure:ApiGateway",
        "msa:azure:SessionStore",
        "msa:azure:MessageBroker",
        "msa:kubernetes:LogPipeline",
        "msa:azure:ServiceWorkload",
      ]),
    );
    for (const r of resources.filter((x) => x.type !== "msa:azure:LandingZone" && x.custom && !x.type.startsWith("pulumi:providers:"))) {
      expect(r.path.startsWith("shop/"), r.path).toBe(true);
      if (r.type.startsWith("kubernetes:")) expect(r.provider, r.name).toBe("shop-platform-k8s");
    }
    expect(resources.some((r) => r.type.startsWith("aws:") || r.type.startsWith("gcp:"))).toBe(false);
    const group = single(resources, "azure-native:resources:ResourceGroup");
    expect(group.inputs).toMatchObject({ resourceGroupName: "shop-prod", location: "koreacentral", tags: { "msa:landing-zone": "shop", "msa:environment": "prod" } });
  });

  it("runs a private AKS cluster with user-assigned identities, Azure CNI Overlay + Cilium, Entra ID RBAC and workload identity", () => {
    const cluster = single(resources, "azure-native:containerservice:ManagedCluster");
    expect(cluster.parent).toBe("shop-platform");
    const identities = byType(resources, "azure-native:managedidentity:UserAssignedIdentity");
    const controlPlane = identities.find((i) => i.name === "shop-platform-control-plane")!;
    const kubelet = identities.find((i) => i.name === "shop-platform-kubelet")!;
    expect(cluster.inputs).toMatchObject({
      resourceName: plan.cluster!.name,
      kubernetesVersion: "1.34",
      sku: { name: "Base", tier: "Standard" },
      identity: { type: "UserAssigned", userAssignedIdentities: [idOf(controlPlane)] },
      identityProfile: { kubeletidentity: { resourceId: idOf(kubelet), clientId: kubelet.outputs["clientId"], objectId: kubelet.outputs["principalId"] } },
      networkProfile: {
        networkPlugin: "azure",
        networkPluginMode: "overlay",
        networkDataplane: "cilium",
        networkPolicy: "cilium",
        podCidr: "100.64.0.0/14",
        serviceCidr: "100.68.0.0/20",
        dnsServiceIP: "100.68.0.10",
        outboundType: "userAssignedNATGateway",
      },
      apiServerAccessProfile: { enablePrivateCluster: true, privateDNSZone: "system", enablePrivateClusterPublicFQDN: false },
      aadProfile: { managed: true, enableAzureRBAC: true },
      disableLocalAccounts: true,
      oidcIssuerProfile: { enabled: true },
      securityProfile: { workloadIdentity: { enabled: true } },
      autoUpgradeProfile: { upgradeChannel: "patch", nodeOSUpgradeChannel: "NodeImage" },
      addonProfiles: { omsagent: { enabled: true, config: { logAnalyticsWorkspaceResourceID: idOf(single(resources, "azure-native:operationalinsights:Workspace")), useAADAuth: "true" } } },
    });
    expect(cluster.protect).toBe(true);
    const workloadsSubnet = byType(resources, "azure-native:network:Subnet").find((s) => s.inputs["subnetName"] === "workloads")!;
    const [system] = cluster.inputs["agentPoolProfiles"] as Record<string, unknown>[];
    expect(system).toMatchObject({ name: "system", mode: "System", enableAutoScaling: true, minCount: 3, maxCount: 6, availabilityZones: ["1", "2", "3"], vnetSubnetID: idOf(workloadsSubnet), enableEncryptionAtHost: true, enableNodePublicIP: false, nodeTaints: ["CriticalAddonsOnly=true:NoSchedule"] });
    const pool = single(resources, "azure-native:containerservice:AgentPool");
    expect(pool.inputs).toMatchObject({ agentPoolName: "services", mode: "User", enableAutoScaling: true, minCount: plan.cluster!.minNodes, maxCount: plan.cluster!.maxNodes, vmSize: "Standard_D8s_v5", enableEncryptionAtHost: true, enableNodePublicIP: false, vnetSubnetID: idOf(workloadsSubnet) });
    // The cluster waits for the identity grants it needs to attach the kubelet identity and join the subnet.
    expect([...cluster.dependsOn].sort()).toEqual(["shop-platform-assign-kubelet", "shop-platform-join-subnet"]);
    const grant = (name: string) => single(resources, ROLE, name);
    expect(grant("shop-platform-assign-kubelet").inputs).toMatchObject({ scope: idOf(kubelet), principalId: controlPlane.outputs["principalId"], principalType: "ServicePrincipal" });
    expect(roleOf(grant("shop-platform-assign-kubelet"))).toBe(AZURE_ROLES.managedIdentityOperator);
    expect(grant("shop-platform-join-subnet").inputs["scope"]).toBe(idOf(workloadsSubnet));
    expect(roleOf(grant("shop-platform-join-subnet"))).toBe(AZURE_ROLES.networkContributor);
    expect(grant("shop-platform-deployer-admin").inputs).toMatchObject({ scope: idOf(cluster), principalId: MOCK_DEPLOYER_OBJECT_ID });
    expect(roleOf(grant("shop-platform-deployer-admin"))).toBe(AZURE_ROLES.aksRbacClusterAdmin);
  });

  it("keeps a Premium registry private, with AcrPull granted to the kubelet identity only", () => {
    const registry = single(resources, "azure-native:containerregistry:Registry");
    expect(registry.inputs).toMatchObject({ sku: { name: "Premium" }, adminUserEnabled: false, anonymousPullEnabled: false, publicNetworkAccess: "Disabled", zoneRedundancy: "Enabled" });
    expect(String(registry.inputs["registryName"])).toMatch(/^shopprodregistry[0-9a-f]{6}$/);
    expect(registry.protect && registry.retainOnDelete).toBe(true);
    const pulls = byType(resources, ROLE).filter((r) => roleOf(r) === AZURE_ROLES.acrPull);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]!.inputs).toMatchObject({ scope: idOf(registry), principalId: single(resources, "azure-native:managedidentity:UserAssignedIdentity", "shop-platform-kubelet").outputs["principalId"] });
    const endpoint = byType(resources, "azure-native:network:PrivateEndpoint").find((e) => e.name === "shop-registry-endpoint")!;
    expect(endpoint.inputs["privateLinkServiceConnections"]).toEqual([expect.objectContaining({ privateLinkServiceId: idOf(registry), groupIds: ["registry"] })]);
  });

  it("installs Istio and the workloads namespace, then one workload per service and BFF with its own federated identity", () => {
    const releases = byType(resources, "kubernetes:helm.sh/v3:Release").map((r) => r.inputs["chart"]);
    expect(releases).toEqual(expect.arrayContaining(["base", "istiod", "ingress-nginx", "eck-operator"]));
    const workloads = byType(resources, "msa:azure:ServiceWorkload").map((r) => r.name);
    expect(workloads).toEqual(plan.services.map((s) => `shop-${s.name}`));
    const cluster = single(resources, "azure-native:containerservice:ManagedCluster");
    const federation = single(resources, "azure-native:managedidentity:FederatedIdentityCredential", "shop-orders-federation");
    expect(federation.inputs).toMatchObject({
      issuer: (cluster.outputs["oidcIssuerProfile"] as { issuerURL: string }).issuerURL,
      subject: "system:serviceaccount:shop:orders",
      audiences: ["api://AzureADTokenExchange"],
      resourceName: single(resources, "azure-native:managedidentity:UserAssignedIdentity", "shop-orders-identity").outputs["name"],
    });
    const objs = single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-orders-workload-workload").inputs["objs"] as Obj[];
    const account = objs.find((o) => o.kind === "ServiceAccount")!;
    expect(account.metadata.annotations).toEqual({ "azure.workload.identity/client-id": single(resources, "azure-native:managedidentity:UserAssignedIdentity", "shop-orders-identity").outputs["clientId"] });
    const deployment = objs.find((o) => o.kind === "Deployment")! as unknown as { spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: { image: string }[] } } } };
    expect(deployment.spec.template.metadata.labels["azure.workload.identity/use"]).toBe("true");
    expect(deployment.spec.template.spec.containers[0]!.image).toMatch(/^shopprodregistry[0-9a-f]{6}\.azurecr\.io\/shop-orders:latest$/);
    const config = objs.find((o) => o.kind === "ConfigMap")!.data!;
    // The shared session-store contract, without a password: services sign in with their identity.
    expect(config).toMatchObject({ SESSION_STORE_TLS: "true", SESSION_STORE_AUTH: "entra-id" });
    expect(config["SESSION_STORE_ENDPOINT"]).toMatch(/^shop-prod-sessions-[0-9a-f]{6}\.redis\.cache\.windows\.net:6380$/);
    expect(config["SESSION_STORE_PASSWORD"]).toBeUndefined();
    expect(config["SERVICE_BUS_NAMESPACE"]).toMatch(/^shop-prod-bus-[0-9a-f]{6}\.servicebus\.windows\.net$/);
    expect(objs.map((o) => o.kind)).toEqual(expect.arrayContaining(["DestinationRule", "VirtualService"]));
    expect(single(resources, "msa:azure:ServiceWorkload", "shop-orders").dependsOn).toEqual(expect.arrayContaining(["shop-platform-services", "shop-platform-deployer-admin", "shop-platform-istio-istiod"]));
  });

  it("grants each service Service Bus send on its own topics and receive on its own subscriptions, and nothing else", () => {
    const topics = Object.fromEntries(byType(resources, "azure-native:servicebus:Topic").map((t) => [t.inputs["topicName"], idOf(t)]));
    const subscriptions = byType(resources, "azure-native:servicebus:Subscription");
    const serviceGrants = (service: string) =>
      byType(resources, ROLE)
        .filter((r) => r.parent === `shop-${service}` && [AZURE_ROLES.serviceBusDataSender, AZURE_ROLES.serviceBusDataReceiver].includes(roleOf(r) as never))
        .map((r) => `${roleOf(r) === AZURE_ROLES.serviceBusDataSender ? "send" : "receive"} ${String(r.inputs["scope"]).split("/topics/")[1] ?? `queue ${String(r.inputs["scope"]).split("/queues/")[1]}`}`)
        .sort();
    // orders also takes the place-order saga's commands from its own queue.
    expect(serviceGrants("orders")).toEqual(["receive payment-completed/subscriptions/orders", "receive queue orders_saga_place-order", "receive stock-reserved/subscriptions/orders", "send order-placed"]);
    expect(serviceGrants("order-history")).toEqual(["receive order-placed/subscriptions/order-history", "receive payment-completed/subscriptions/order-history"]);
    expect(serviceGrants("web")).toEqual([]);
    const principal = single(resources, "azure-native:managedidentity:UserAssignedIdentity", "shop-orders-identity").outputs["principalId"];
    const send = byType(resources, ROLE).find((r) => r.parent === "shop-orders" && roleOf(r) === AZURE_ROLES.serviceBusDataSender)!;
    expect(send.inputs).toMatchObject({ scope: topics["order-placed"], principalId: principal, principalType: "ServicePrincipal" });
    for (const sub of subscriptions) expect(sub.inputs).toMatchObject({ maxDeliveryCount: 5, deadLetteringOnMessageExpiration: true, deadLetteringOnFilterEvaluationExceptions: true });
    expect(subscriptions.map((s) => `${s.inputs["topicName"]}/${s.inputs["subscriptionName"]}`).sort()).toEqual(
      plan.broker!.topics.flatMap((t) => t.subscriptions.map((s) => `${t.event}/${s.subscriber}`)).sort(),
    );
    const namespace = single(resources, "azure-native:servicebus:Namespace", "shop-broker-namespace");
    expect(namespace.inputs).toMatchObject({ sku: { name: "Premium", tier: "Premium", capacity: 1 }, disableLocalAuth: true, minimumTlsVersion: "1.2", publicNetworkAccess: "Disabled" });
    expect(namespace.protect).toBe(true);
  });

  it("keeps the session cache private, TLS-only and keyless, with a Data Contributor policy per service", () => {
    const cache = single(resources, "azure-native:redis:Redis");
    expect(cache.inputs).toMatchObject({
      sku: { name: "Premium", family: "P", capacity: 1 },
      enableNonSslPort: false,
      minimumTlsVersion: "1.2",
      publicNetworkAccess: "Disabled",
      disableAccessKeyAuthentication: true,
      redisConfiguration: { aadEnabled: "true" },
      zones: ["1", "2", "3"],
      replicasPerPrimary: 1,
    });
    const policies = byType(resources, "azure-native:redis:AccessPolicyAssignment");
    expect(policies.map((p) => p.inputs["objectIdAlias"])).toEqual(plan.services.map((s) => s.name));
    for (const policy of policies) expect(policy.inputs["accessPolicyName"]).toBe("Data Contributor");
    // One access-policy change at a time: each assignment waits for the one before.
    expect(policies.slice(1).map((p) => p.dependsOn)).toEqual(policies.slice(0, -1).map((p) => [p.name]));
    const endpoint = byType(resources, "azure-native:network:PrivateEndpoint").find((e) => e.name === "shop-sessions-endpoint")!;
    const endpointsSubnet = byType(resources, "azure-native:network:Subnet").find((s) => s.inputs["subnetName"] === "endpoints")!;
    expect(endpoint.inputs["subnet"]).toMatchObject({ id: idOf(endpointsSubnet) });
    const dns = single(resources, "azure-native:network:PrivateDnsZoneGroup", "shop-sessions-endpoint-dns");
    const zone = byType(resources, "azure-native:privatedns:PrivateZone").find((z) => z.inputs["privateZoneName"] === "privatelink.redis.cache.windows.net")!;
    expect(dns.inputs["privateDnsZoneConfigs"]).toEqual([{ name: "privatelink-redis-cache-windows-net", privateDnsZoneId: idOf(zone) }]);
  });

  it("generates every secret into a private RBAC Key Vault, readable only by its own service, reaching pods by reference", () => {
    const vault = single(resources, "azure-native:keyvault:Vault");
    expect(vault.inputs["properties"]).toMatchObject({ enableRbacAuthorization: true, enableSoftDelete: true, enablePurgeProtection: true, publicNetworkAccess: "Disabled", networkAcls: { defaultAction: "Deny" } });
    expect(vault.protect && vault.retainOnDelete).toBe(true);
    expect((vault.inputs["properties"] as { accessPolicies?: unknown[] }).accessPolicies).toBeUndefined();
    const secrets = byType(resources, "azure-native:keyvault:Secret");
    expect(secrets.map((s) => s.inputs["secretName"]).sort()).toEqual(["orders-database-admin", "orders-signing-key", "payments-provider-api-key"]);
    for (const secret of secrets) expect(secret.secretInputs).toContain("properties");
    const readers = byType(resources, ROLE).filter((r) => roleOf(r) === AZURE_ROLES.keyVaultSecretsUser);
    expect(readers.map((r) => `${r.parent} -> ${String(r.inputs["scope"]).split("/").pop()}`).sort()).toEqual(["shop-orders -> orders-signing-key", "shop-payments -> payments-provider-api-key"]);
    const signing = secrets.find((s) => s.inputs["secretName"] === "orders-signing-key")!;
    const value = (signing.inputs["properties"] as { value: string }).value;
    // No value passes through the engine to the cluster: the pods mount their secrets from Key Vault with
    // their own identity (the AKS Key Vault provider), which mirrors them into the Secret their env vars read.
    expect(byType(resources, "kubernetes:core/v1:Secret").map((s) => (s.inputs["metadata"] as { name: string }).name)).not.toContain("orders-secrets");
    expect((single(resources, "azure-native:containerservice:ManagedCluster").inputs["addonProfiles"] as Record<string, unknown>)["azureKeyvaultSecretsProvider"]).toEqual({
      enabled: true,
      config: { enableSecretRotation: "true", rotationPollInterval: "2m" },
    });
    const objs = single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-orders-workload-workload").inputs["objs"] as Obj[];
    expect(objs[0]!.kind).toBe("SecretProviderClass");
    const identity = single(resources, "azure-native:managedidentity:UserAssignedIdentity", "shop-orders-identity");
    const parameters = (objs[0]!.spec as { provider: string; parameters: Record<string, string>; secretObjects: { secretName: string }[] });
    expect(parameters.provider).toBe("azure");
    expect(parameters.parameters).toMatchObject({ usePodIdentity: "false", clientID: identity.outputs["clientId"], keyvaultName: vault.outputs["name"] });
    expect((JSON.parse(parameters.parameters["objects"]!) as { array: string[] }).array.map((o) => JSON.parse(o))).toEqual([{ objectName: "orders-signing-key", objectType: "secret", objectAlias: "SIGNING_KEY" }]);
    expect(parameters.secretObjects[0]!.secretName).toBe("orders-secrets");
    const deployment = objs.find((o) => o.kind === "Deployment")! as unknown as { spec: { template: { spec: { volumes: { name: string; csi?: { volumeAttributes: Record<string, string> } }[]; containers: { env: unknown[] }[] } } } };
    expect(deployment.spec.template.spec.volumes.find((v) => v.name === "secrets-store")!.csi!.volumeAttributes).toEqual({ secretProviderClass: "orders-secrets" });
    expect(deployment.spec.template.spec.containers[0]!.env).toEqual([{ name: "SIGNING_KEY", valueFrom: { secretKeyRef: { name: "orders-secrets", key: "SIGNING_KEY" } } }]);
    expect(JSON.stringify(objs)).not.toContain(value);
    expect(objs.find((o) => o.kind === "ConfigMap")!.data!["LOG_LEVEL"]).toBe("info");
  });

  it("gives orders its own private PostgreSQL server that only orders' identity signs in to", () => {
    const server = single(resources, "azure-native:dbforpostgresql:Server");
    const subnet = byType(resources, "azure-native:network:Subnet").find((s) => s.inputs["subnetName"] === "databases")!;
    const zone = byType(resources, "azure-native:privatedns:PrivateZone").find((z) => z.inputs["privateZoneName"] === "shop-prod.private.postgres.database.azure.com")!;
    expect(server.parent).toBe("shop-orders-database");
    expect(server.inputs).toMatchObject({
      version: "16",
      sku: { name: "Standard_D4ds_v5", tier: "GeneralPurpose" },
      storage: { storageSizeGB: 32, autoGrow: "Enabled" },
      backup: { backupRetentionDays: 14, geoRedundantBackup: "Enabled" },
      highAvailability: { mode: "ZoneRedundant" },
      network: { delegatedSubnetResourceId: idOf(subnet), privateDnsZoneArmResourceId: idOf(zone), publicNetworkAccess: "Disabled" },
      authConfig: { activeDirectoryAuth: "Enabled" },
    });
    expect(server.secretInputs).toContain("administratorLoginPassword");
    expect(server.protect && server.retainOnDelete).toBe(true);
    expect(single(resources, "azure-native:dbforpostgresql:Configuration").inputs).toMatchObject({ configurationName: "require_secure_transport", value: "on" });
    const identity = single(resources, "azure-native:managedidentity:UserAssignedIdentity", "shop-orders-identity");
    const admins = byType(resources, "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra");
    expect(admins.map((a) => [a.parent, a.inputs["objectId"], a.inputs["principalName"], a.inputs["principalType"]])).toEqual([["shop-orders", identity.outputs["principalId"], identity.outputs["name"], "ServicePrincipal"]]);
    // The administrator password is break-glass: in Key Vault, readable by no service.
    const adminSecret = single(resources, "azure-native:keyvault:Secret", "shop-orders-database-admin-password");
    expect(byType(resources, ROLE).filter((r) => r.inputs["scope"] === idOf(adminSecret))).toEqual([]);
    const config = (single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-orders-workload-workload").inputs["objs"] as Obj[]).find((o) => o.kind === "ConfigMap")!.data!;
    expect(config).toMatchObject({ DATABASE_HOST: `${String(server.inputs["serverName"])}.postgres.database.azure.com`, DATABASE_NAME: "orders", DATABASE_AUTH: "entra-id" });
    const paymentsConfig = (single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-payments-workload-workload").inputs["objs"] as Obj[]).find((o) => o.kind === "ConfigMap")!.data!;
    expect(paymentsConfig["DATABASE_HOST"]).toBeUndefined();
    // Orders signs in with its token as the role its Entra administrator is named after; no other service gets a user.
    expect(identity.outputs["name"]).toBe("shop-orders-identity");
    expect(config).toMatchObject({ DATABASE_ENGINE: "postgres", DATABASE_USER: identity.outputs["name"] });
    expect(config["DATABASE_USER"]).toBe(admins[0]!.inputs["principalName"]);
    expect(paymentsConfig["DATABASE_USER"]).toBeUndefined();
    const inventoryConfig = (single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-inventory-workload-workload").inputs["objs"] as Obj[]).find((o) => o.kind === "ConfigMap")!.data!;
    expect(inventoryConfig["DATABASE_ENGINE"]).toBe("document");
    expect(inventoryConfig["DATABASE_USER"]).toBeUndefined();
  });

  it("gives inventory its own Cosmos DB database, with the data role scoped to that database for inventory alone", () => {
    const account = single(resources, "azure-native:cosmosdb:DatabaseAccount");
    expect(account.inputs).toMatchObject({
      disableLocalAuth: true,
      publicNetworkAccess: "Disabled",
      minimalTlsVersion: "Tls12",
      backupPolicy: { type: "Continuous", continuousModeProperties: { tier: "Continuous30Days" } },
      locations: [{ locationName: "koreacentral", isZoneRedundant: true }],
    });
    expect(single(resources, "azure-native:cosmosdb:SqlResourceSqlContainer", "shop-inventory-database-container").inputs).toMatchObject({ containerName: "items", resource: { partitionKey: { paths: ["/id"] } } });
    const grants = byType(resources, "azure-native:cosmosdb:SqlResourceSqlRoleAssignment").filter((g) => String(g.inputs["scope"]).endsWith("/dbs/inventory"));
    expect(grants).toHaveLength(1);
    expect(grants[0]!.parent).toBe("shop-inventory");
    expect(grants[0]!.inputs).toMatchObject({
      scope: `${idOf(account)}/dbs/inventory`,
      roleDefinitionId: `${idOf(account)}/sqlRoleDefinitions/00000000-0000-0000-0000-000000000002`,
      principalId: single(resources, "azure-native:managedidentity:UserAssignedIdentity", "shop-inventory-identity").outputs["principalId"],
    });
  });

  it("keeps payments' events in an append-only store streamed on Event Hubs, which only payments writes and its consumers read", () => {
    const container = single(resources, "azure-native:cosmosdb:SqlResourceSqlContainer", "shop-events-payments-container");
    expect(container.inputs).toMatchObject({ containerName: "events", resource: { partitionKey: { paths: ["/aggregateId"] }, uniqueKeyPolicy: { uniqueKeys: [{ paths: ["/sequence"] }] } } });
    expect(container.protect && container.retainOnDelete).toBe(true);
    const namespace = single(resources, "azure-native:eventhub:Namespace");
    expect(namespace.inputs).toMatchObject({ disableLocalAuth: true, minimumTlsVersion: "1.2", publicNetworkAccess: "Disabled" });
    const hub = single(resources, "azure-native:eventhub:EventHub");
    expect(hub.inputs).toMatchObject({ eventHubName: "payments-events", partitionCount: 4 });
    expect(byType(resources, "azure-native:eventhub:ConsumerGroup").map((g) => g.inputs["consumerGroupName"]).sort()).toEqual(["order-history", "orders"]);
    const hubGrants = byType(resources, ROLE).filter((r) => r.inputs["scope"] === idOf(hub));
    expect(hubGrants.map((g) => `${g.parent} ${roleOf(g) === AZURE_ROLES.eventHubsDataSender ? "send" : "receive"}`).sort()).toEqual(["shop-order-history receive", "shop-orders receive", "shop-payments send"]);
    const store = byType(resources, "azure-native:cosmosdb:SqlResourceSqlRoleAssignment").filter((g) => String(g.inputs["scope"]).endsWith("/dbs/payments_events"));
    expect(store.map((g) => g.parent)).toEqual(["shop-payments"]);
    // Append-only: payments creates and reads events through a custom role that cannot replace, upsert or delete them.
    const account = idOf(single(resources, "azure-native:cosmosdb:DatabaseAccount"));
    const role = single(resources, "azure-native:cosmosdb:SqlResourceSqlRoleDefinition");
    expect(role.parent).toBe("shop-events");
    expect(role.inputs).toMatchObject({ type: "CustomRole", roleDefinitionId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/), assignableScopes: [`${account}/dbs/payments_events`] });
    const dataActions = (role.inputs["permissions"] as { dataActions: string[] }[]).flatMap((p) => p.dataActions);
    expect(dataActions).toEqual([
      "Microsoft.DocumentDB/databaseAccounts/readMetadata",
      "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/create",
      "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/read",
      "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/executeQuery",
      "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/readChangeFeed",
    ]);
    expect(dataActions.filter((a) => /\/(delete|replace|upsert|\*)$/.test(a))).toEqual([]);
    expect(store[0]!.inputs).toMatchObject({
      roleDefinitionId: idOf(role),
      scope: `${account}/dbs/payments_events`,
      principalId: single(resources, "azure-native:managedidentity:UserAssignedIdentity", "shop-payments-identity").outputs["principalId"],
    });
    expect(store[0]!.inputs["roleDefinitionId"]).not.toContain("00000000-0000-0000-0000-000000000002");
    // The private endpoints admit Event Hubs' Kafka port and Cosmos DB's direct-mode ports from the workloads only.
    const endpointsNsg = byType(resources, "azure-native:network:NetworkSecurityGroup").find((g) => g.name === "shop-network-endpoints-nsg")!;
    const fromWorkloads = (endpointsNsg.inputs["securityRules"] as { name: string; destinationPortRanges?: string[] }[]).find((r) => r.name === "AllowWorkloads")!;
    expect(fromWorkloads.destinationPortRanges).toEqual(["443", "5671-5672", "6380", "9093", "10250-10256"]);
  });

  it("gives the order-history read model a Cosmos DB read store and subscriptions to its sources' events", () => {
    expect(single(resources, "azure-native:cosmosdb:SqlResourceSqlDatabase", "shop-order-history-database-database").inputs["databaseName"]).toBe("order_history_read");
    const subscriptions = byType(resources, "azure-native:servicebus:Subscription").filter((s) => s.inputs["subscriptionName"] === "order-history");
    expect(subscriptions.map((s) => s.inputs["topicName"]).sort()).toEqual(plan.services.find((s) => s.name === "order-history")!.readModel!.events.slice().sort());
  });

  it("fronts the services with a WAF_v2 gateway routing every planned path to the internal ingress", () => {
    const gateway = single(resources, "azure-native:network:ApplicationGateway");
    const ingressIp = ingressPrivateIp(azureSubnetLayout(plan.network).workloads);
    expect(gateway.inputs).toMatchObject({ sku: { name: "WAF_v2", tier: "WAF_v2" }, zones: ["1", "2", "3"], autoscaleConfiguration: { minCapacity: 2, maxCapacity: 10 } });
    const pools = gateway.inputs["backendAddressPools"] as { name: string; backendAddresses: { ipAddress?: string }[] }[];
    expect(pools).toEqual([{ name: "unrouted", backendAddresses: [] }, { name: "ingress", backendAddresses: [{ ipAddress: ingressIp }] }]);
    const rules = (gateway.inputs["urlPathMaps"] as { pathRules: { paths: string[] }[] }[])[0]!.pathRules;
    expect(rules.map((r) => r.paths[0])).toEqual(plan.gateway.routes.map((r) => r.path));
    const policy = single(resources, "azure-native:network:WebApplicationFirewallPolicy");
    expect(policy.inputs).toMatchObject({ policySettings: { state: "Enabled", mode: "Prevention" }, managedRules: { managedRuleSets: expect.arrayContaining([{ ruleSetType: "OWASP", ruleSetVersion: "3.2" }]) } });
    expect((policy.inputs["customRules"] as { ruleType: string; rateLimitThreshold: number }[])[0]).toMatchObject({ ruleType: "RateLimitRule", rateLimitThreshold: 200 * 60 });
    const ingress = single(resources, "kubernetes:helm.sh/v3:Release", "shop-ingress-shop-ingress-nginx");
    const controller = (ingress.inputs["values"] as { controller: { service: { annotations: Record<string, string> }; config: Record<string, string> } }).controller;
    expect(controller.service.annotations).toMatchObject({ "service.beta.kubernetes.io/azure-load-balancer-internal": "true", "service.beta.kubernetes.io/azure-load-balancer-ipv4": ingressIp });
    expect(controller.config).toMatchObject({ "use-forwarded-headers": "true", "proxy-real-ip-cidr": azureSubnetLayout(plan.network).gateway });
    // The WAF runs once, at the gateway.
    expect(controller.config["enable-modsecurity"]).toBeUndefined();
  });

  it("traces through the shared OpenTelemetry collector into a workspace-based Application Insights, its connection string by reference", () => {
    const insights = single(resources, "azure-native:applicationinsights:Component");
    expect(insights.inputs).toMatchObject({ workspaceResourceId: idOf(single(resources, "azure-native:operationalinsights:Workspace")), ingestionMode: "LogAnalytics" });
    const secret = single(resources, "kubernetes:core/v1:Secret", "shop-tracing-connection");
    expect(secret.secretInputs).toContain("stringData");
    expect(secret.inputs).toMatchObject({ metadata: { name: "application-insights", namespace: "observability" }, stringData: { "connection-string": insights.outputs["connectionString"] } });
    const collector = single(resources, "kubernetes:helm.sh/v3:Release", "shop-tracing-otel-collector");
    const values = collector.inputs["values"] as { extraEnvs: unknown[]; config: { exporters: Record<string, unknown> } };
    expect(values.extraEnvs).toEqual([{ name: "APPLICATIONINSIGHTS_CONNECTION_STRING", valueFrom: { secretKeyRef: { name: "application-insights", key: "connection-string" } } }]);
    expect(Object.keys(values.config.exporters)).toEqual(["azuremonitor"]);
    expect(collector.dependsOn).toContain("shop-tracing-connection");
    const config = (single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-orders-workload-workload").inputs["objs"] as Obj[]).find((o) => o.kind === "ConfigMap")!.data!;
    expect(config["OTEL_EXPORTER_OTLP_ENDPOINT"]).toBe(plan.tracing!.collectorEndpoint);
  });

  it("alerts on each service's 5xx rate and p99 latency and on unhealthy gateway backends, every alert notifying the action group", () => {
    const group = single(resources, "azure-native:monitor:ActionGroup");
    expect(group.inputs).toMatchObject({ enabled: true, groupShortName: "shop-prod", emailReceivers: [{ name: "operators", emailAddress: "ops@example.com", useCommonAlertSchema: true }] });
    const workspace = idOf(single(resources, "azure-native:operationalinsights:Workspace"));
    const rules = byType(resources, "azure-native:monitor:ScheduledQueryRule");
    expect(rules.map((r) => r.name).sort()).toEqual(plan.services.flatMap((s) => [`shop-monitoring-${s.name}-errors`, `shop-monitoring-${s.name}-latency`]).sort());
    for (const rule of rules) {
      expect(rule.inputs).toMatchObject({ scopes: [workspace], actions: { actionGroups: [idOf(group)] }, enabled: true });
    }
    const history = rules.find((r) => r.name === "shop-monitoring-order-history-errors")!;
    const condition = (history.inputs["criteria"] as { allOf: { query: string; threshold: number; metricMeasureColumn: string }[] }).allOf[0]!;
    expect(condition).toMatchObject({ threshold: 5, metricMeasureColumn: "rate" });
    expect(condition.query).toContain(String.raw`AGWAccessLogs | where RequestUri matches regex "^(/history)(/|\\?|$)"`);
    const gatewayAlert = single(resources, "azure-native:monitor:MetricAlert");
    expect(gatewayAlert.inputs).toMatchObject({ scopes: [idOf(single(resources, "azure-native:network:ApplicationGateway"))], actions: [{ actionGroupId: idOf(group) }] });
    const workbook = JSON.parse(String(single(resources, "azure-native:applicationinsights:Workbook").inputs["serializedData"])) as { items: { name: string }[] };
    for (const service of plan.services) {
      expect(workbook.items.map((i) => i.name)).toEqual(expect.arrayContaining([`${service.name}-requests`, `${service.name}-errors`, `${service.name}-latency`, `${service.name}-saturation`]));
    }
  });

  it("runs the ELK pipeline on AKS with its in-cluster Redis buffer", () => {
    const pipeline = single(resources, "msa:kubernetes:LogPipeline");
    expect(pipeline.parent).toBe("shop");
    expect(single(resources, "msa:kubernetes:InClusterRedis").parent).toBe("shop-logging");
    expect(pipeline.dependsOn).toEqual(expect.arrayContaining(["shop-platform-services"]));
  });

  it("exports the gateway URL, resource group, cluster, registry, session, Service Bus and Kibana addresses, the frontends' URL and the saga workflows", () => {
    expect(Object.keys(outputs).sort()).toEqual(["clusterName", "frontendsUrl", "gatewayUrl", "kibanaService", "registryLoginServer", "resourceGroupName", "sagaWorkflowIds", "serviceBusNamespace", "sessionEndpoint"]);
    expect(outputs["frontendsUrl"]).toMatch(/^https:\/\/shop-prod-frontends-[0-9a-f]+\.z01\.azurefd\.net$/);
    expect(outputs["gatewayUrl"]).toBe("http://20.51.0.10");
    expect(outputs["resourceGroupName"]).toBe("shop-prod");
    expect(String(outputs["sessionEndpoint"])).toMatch(/^shop-prod-sessions-[0-9a-f]{6}\.redis\.cache\.windows\.net:6380$/);
  });
});

describe("Azure LandingZone in dev", async () => {
  // The example as written, so every environment default (retention, sizes, zones) follows dev; access logs off, monitoring on.
  const example = parse(readFileSync(EXAMPLE, "utf8")) as LandingZoneInput;
  const spec: LandingZoneInput = { ...example, environment: "dev", network: { cidr: "10.1.0.0/16", zones: 2 }, gateway: { ...example.gateway, accessLogs: false } };
  const { resources } = await runProgram(async () => {
    await createLandingZone("shop", { spec });
  });

  it("uses a public API server, Standard registry and Service Bus without private endpoints, and nothing protected", () => {
    const cluster = single(resources, "azure-native:containerservice:ManagedCluster");
    expect(cluster.inputs["apiServerAccessProfile"]).toEqual({});
    expect(cluster.inputs["sku"]).toEqual({ name: "Base", tier: "Free" });
    expect(single(resources, "azure-native:containerregistry:Registry").inputs).toMatchObject({ sku: { name: "Standard" }, publicNetworkAccess: "Enabled", adminUserEnabled: false });
    expect(single(resources, "azure-native:servicebus:Namespace").inputs).toMatchObject({ sku: { name: "Standard" }, publicNetworkAccess: "Enabled", disableLocalAuth: true });
    // Only the data stores that hold data stay private in dev: the session cache and the vault.
    expect(byType(resources, "azure-native:network:PrivateEndpoint").map((e) => e.name)).toEqual(["shop-sessions-endpoint", "shop-config-vault-endpoint", "shop-documents-endpoint", "shop-events-endpoint"]);
    expect(resources.filter((r) => r.protect).map((r) => r.name)).toEqual([]);
    expect(single(resources, "azure-native:redis:Redis").inputs).toMatchObject({ sku: { name: "Standard", family: "C", capacity: 0 }, publicNetworkAccess: "Disabled", enableNonSslPort: false });
  });

  it("still sends the gateway's access logs with gateway.accessLogs false, since its alerts and workbook query them", () => {
    const gateway = idOf(single(resources, "azure-native:network:ApplicationGateway"));
    const diagnostics = byType(resources, "azure-native:monitor:DiagnosticSetting").find((d) => d.inputs["resourceUri"] === gateway)!;
    expect(diagnostics.inputs["logs"]).toEqual([
      { category: "ApplicationGatewayAccessLog", enabled: true },
      { category: "ApplicationGatewayFirewallLog", enabled: true },
    ]);
    const errors = byType(resources, "azure-native:monitor:ScheduledQueryRule").find((r) => r.name === "shop-monitoring-orders-errors")!;
    expect((errors.inputs["criteria"] as { allOf: { query: string }[] }).allOf[0]!.query).toMatch(/^AGWAccessLogs /);
  });
});

describe("Azure LandingZone input checks", () => {
  it("rejects a service on the App Service edge proxy's port before anything is created, naming the key", async () => {
    const example = parse(readFileSync(EXAMPLE, "utf8")) as LandingZoneInput;
    const services = example.services!.map((s, i) => (i === 0 ? { ...s, port: 80 } : s));
    const spec: LandingZoneInput = { ...example, tier: "paas", mesh: { kind: "none" }, logging: { stack: "none", buffer: "none" }, gateway: { auth: "jwt" }, auth: { sessions: "redis", issuer: ENTRA, audiences: ["api://shop"] }, services };
    const { resources } = await runProgram(async () => {
      await expect(createLandingZone("shop", { spec })).rejects.toThrow(/services\[0\]\.port: 80 is a port of the edge proxy that checks callers on App Service\. Fix: use another port/);
    });
    expect(resources).toEqual([]);
  });

  it("asks for the Entra ID issuer before checking tokens, since it cannot register an application", () => {
    expect(() => planLandingZone({ name: "shop", cloud: "azure", gateway: { auth: "jwt" } })).toThrow(/auth.issuer: the landing zone cannot register an Entra ID application.*Fix: set auth.issuer/s);
    expect(planLandingZone({ name: "shop", cloud: "azure" }).spec.gateway.auth).toBe("none");
  });
});

const ENTRA = "https://login.microsoftonline.com/00000000-0000-4000-8000-0000000000aa/v2.0";

describe("Azure LandingZone gateway checks on AKS", () => {
  const example = parse(readFileSync(EXAMPLE, "utf8")) as LandingZoneInput;
  const policiesOf = async (spec: LandingZoneInput) => {
    const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));
    const group = resources.find((r) => r.name === "shop-gateway-auth")!;
    return { resources, objs: group.inputs["objs"] as Obj[], group };
  };

  it("validates Entra ID tokens in the services' sidecars for calls through the ingress, and denies calls without one", async () => {
    const { objs, group } = await policiesOf({ ...example, gateway: { auth: "jwt" }, auth: { sessions: "redis", issuer: ENTRA, audiences: ["api://shop"] } });
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["RequestAuthentication/gateway-jwt", "AuthorizationPolicy/gateway-require-jwt"]);
    expect(objs[0]!.spec).toMatchObject({ jwtRules: [{ issuer: ENTRA, audiences: ["api://shop"] }] });
    expect(objs[1]!.spec).toEqual({ action: "DENY", rules: [{ from: [{ source: { namespaces: ["shop-ingress"], notRequestPrincipals: ["*"] } }] }] });
    expect(group.parent).toBe("shop");
    expect(group.dependsOn).toEqual(expect.arrayContaining(["shop-platform-istio-istiod"]));
  });

  it("delegates calls through the ingress to the auth service over Istio ext-authz", async () => {
    const { resources, objs } = await policiesOf({ ...example, gateway: { auth: "authorizer" }, auth: { sessions: "redis", service: "payments" } });
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["AuthorizationPolicy/gateway-ext-authz"]);
    expect(objs[0]!.spec).toMatchObject({ action: "CUSTOM", provider: { name: "shop-auth-service" } });
    const istiod = single(resources, "kubernetes:helm.sh/v3:Release", "shop-platform-istio-istiod");
    const providers = (istiod.inputs["values"] as { meshConfig: { extensionProviders: { name: string; envoyExtAuthzHttp: { service: string } }[] } }).meshConfig.extensionProviders;
    expect(providers).toEqual([expect.objectContaining({ name: "shop-auth-service", envoyExtAuthzHttp: expect.objectContaining({ service: "payments.shop.svc.cluster.local" }) })]);
  });
});
