/**
 * Realistic azure-native provider state for the Pulumi harness: ARM resource ids built from the
 * resource's name inputs, and the endpoints, client ids and keys Azure computes.
 */
import { createHash } from "node:crypto";

export const MOCK_SUBSCRIPTION = "00000000-0000-4000-8000-000000000001";
export const MOCK_TENANT = "00000000-0000-4000-8000-0000000000aa";
/** Object id of the principal running `pulumi up` (getClientConfig). */
export const MOCK_DEPLOYER_OBJECT_ID = "00000000-0000-4000-8000-0000000000de";
export const MOCK_LOCATION = "eastus";

/** A deterministic GUID from a seed, so ids and client ids are stable across runs. */
export function mockGuid(seed: string): string {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A private address near the start of 10.0.0.0/17 (the example workloads subnet, where Azure hands dynamic addresses out) derived from `seed`, past its reserved first four. */
export function mockPrivateIp(seed: string): string {
  const n = createHash("sha256").update(seed).digest().readUInt16BE(0) % (2 ** 13 - 8);
  return `10.0.${Math.floor((n + 4) / 256)}.${(n + 4) % 256}`;
}

const RG = "/subscriptions/{sub}/resourceGroups/{resourceGroupName}/providers";

/** ARM id templates; `{key}` is the input of that name (or the logical name when unset). */
const ID_TEMPLATES: Record<string, string> = {
  "azure-native:resources:ResourceGroup": "/subscriptions/{sub}/resourceGroups/{resourceGroupName}",
  "azure-native:operationalinsights:Workspace": `${RG}/Microsoft.OperationalInsights/workspaces/{workspaceName}`,
  "azure-native:network:VirtualNetwork": `${RG}/Microsoft.Network/virtualNetworks/{virtualNetworkName}`,
  "azure-native:network:Subnet": `${RG}/Microsoft.Network/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}`,
  "azure-native:network:NetworkSecurityGroup": `${RG}/Microsoft.Network/networkSecurityGroups/{networkSecurityGroupName}`,
  "azure-native:network:NatGateway": `${RG}/Microsoft.Network/natGateways/{natGatewayName}`,
  "azure-native:network:PublicIPAddress": `${RG}/Microsoft.Network/publicIPAddresses/{publicIpAddressName}`,
  "azure-native:network:FlowLog": `${RG}/Microsoft.Network/networkWatchers/{networkWatcherName}/flowLogs/{flowLogName}`,
  "azure-native:network:PrivateEndpoint": `${RG}/Microsoft.Network/privateEndpoints/{privateEndpointName}`,
  "azure-native:network:PrivateDnsZoneGroup": `${RG}/Microsoft.Network/privateEndpoints/{privateEndpointName}/privateDnsZoneGroups/{privateDnsZoneGroupName}`,
  "azure-native:network:ApplicationGateway": `${RG}/Microsoft.Network/applicationGateways/{applicationGatewayName}`,
  "azure-native:network:WebApplicationFirewallPolicy": `${RG}/Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/{policyName}`,
  "azure-native:network:LoadBalancer": `${RG}/Microsoft.Network/loadBalancers/{loadBalancerName}`,
  "azure-native:privatedns:PrivateZone": `${RG}/Microsoft.Network/privateDnsZones/{privateZoneName}`,
  "azure-native:privatedns:VirtualNetworkLink": `${RG}/Microsoft.Network/privateDnsZones/{privateZoneName}/virtualNetworkLinks/{virtualNetworkLinkName}`,
  "azure-native:privatedns:PrivateRecordSet": `${RG}/Microsoft.Network/privateDnsZones/{privateZoneName}/{recordType}/{relativeRecordSetName}`,
  "azure-native:storage:StorageAccount": `${RG}/Microsoft.Storage/storageAccounts/{accountName}`,
  "azure-native:managedidentity:UserAssignedIdentity": `${RG}/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}`,
  "azure-native:managedidentity:FederatedIdentityCredential": `${RG}/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}/federatedIdentityCredentials/{federatedIdentityCredentialResourceName}`,
  "azure-native:authorization:RoleAssignment": "{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}",
  "azure-native:monitor:DiagnosticSetting": "{resourceUri}/providers/Microsoft.Insights/diagnosticSettings/{name}",
  "azure-native:containerservice:ManagedCluster": `${RG}/Microsoft.ContainerService/managedClusters/{resourceName}`,
  "azure-native:containerservice:AgentPool": `${RG}/Microsoft.ContainerService/managedClusters/{resourceName}/agentPools/{agentPoolName}`,
  "azure-native:containerregistry:Registry": `${RG}/Microsoft.ContainerRegistry/registries/{registryName}`,
  "azure-native:redis:Redis": `${RG}/Microsoft.Cache/redis/{name}`,
  "azure-native:redis:AccessPolicyAssignment": `${RG}/Microsoft.Cache/redis/{cacheName}/accessPolicyAssignments/{accessPolicyAssignmentName}`,
  "azure-native:servicebus:Namespace": `${RG}/Microsoft.ServiceBus/namespaces/{namespaceName}`,
  "azure-native:servicebus:Topic": `${RG}/Microsoft.ServiceBus/namespaces/{namespaceName}/topics/{topicName}`,
  "azure-native:servicebus:Subscription": `${RG}/Microsoft.ServiceBus/namespaces/{namespaceName}/topics/{topicName}/subscriptions/{subscriptionName}`,
  "azure-native:servicebus:Queue": `${RG}/Microsoft.ServiceBus/namespaces/{namespaceName}/queues/{queueName}`,
  "azure-native:logic:Workflow": `${RG}/Microsoft.Logic/workflows/{workflowName}`,
  "azure-native:compute:VirtualMachineScaleSet": `${RG}/Microsoft.Compute/virtualMachineScaleSets/{vmScaleSetName}`,
  "azure-native:web:AppServicePlan": `${RG}/Microsoft.Web/serverfarms/{name}`,
  "azure-native:web:WebApp": `${RG}/Microsoft.Web/sites/{name}`,
  "azure-native:keyvault:Vault": `${RG}/Microsoft.KeyVault/vaults/{vaultName}`,
  "azure-native:keyvault:Secret": `${RG}/Microsoft.KeyVault/vaults/{vaultName}/secrets/{secretName}`,
  "azure-native:appconfiguration:ConfigurationStore": `${RG}/Microsoft.AppConfiguration/configurationStores/{configStoreName}`,
  "azure-native:appconfiguration:KeyValue": `${RG}/Microsoft.AppConfiguration/configurationStores/{configStoreName}/keyValues/{keyValueName}`,
  "azure-native:applicationinsights:Component": `${RG}/Microsoft.Insights/components/{resourceName}`,
  "azure-native:monitor:ActionGroup": `${RG}/Microsoft.Insights/actionGroups/{actionGroupName}`,
  "azure-native:monitor:MetricAlert": `${RG}/Microsoft.Insights/metricAlerts/{ruleName}`,
  "azure-native:dbforpostgresql:Server": `${RG}/Microsoft.DBforPostgreSQL/flexibleServers/{serverName}`,
  "azure-native:cosmosdb:DatabaseAccount": `${RG}/Microsoft.DocumentDB/databaseAccounts/{accountName}`,
  "azure-native:cosmosdb:SqlResourceSqlDatabase": `${RG}/Microsoft.DocumentDB/databaseAccounts/{accountName}/sqlDatabases/{databaseName}`,
  "azure-native:cosmosdb:SqlResourceSqlContainer": `${RG}/Microsoft.DocumentDB/databaseAccounts/{accountName}/sqlDatabases/{databaseName}/containers/{containerName}`,
  "azure-native:cosmosdb:SqlResourceSqlRoleAssignment": `${RG}/Microsoft.DocumentDB/databaseAccounts/{accountName}/sqlRoleAssignments/{roleAssignmentId}`,
  "azure-native:dbforpostgresql:Database": `${RG}/Microsoft.DBforPostgreSQL/flexibleServers/{serverName}/databases/{databaseName}`,
  "azure-native:dbforpostgresql:Configuration": `${RG}/Microsoft.DBforPostgreSQL/flexibleServers/{serverName}/configurations/{configurationName}`,
  "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra": `${RG}/Microsoft.DBforPostgreSQL/flexibleServers/{serverName}/administrators/{objectId}`,
  "azure-native:eventhub:Namespace": `${RG}/Microsoft.EventHub/namespaces/{namespaceName}`,
  "azure-native:eventhub:EventHub": `${RG}/Microsoft.EventHub/namespaces/{namespaceName}/eventhubs/{eventHubName}`,
  "azure-native:storage:BlobServiceProperties": `${RG}/Microsoft.Storage/storageAccounts/{accountName}/blobServices/default`,
  "azure-native:storage:BlobContainer": `${RG}/Microsoft.Storage/storageAccounts/{accountName}/blobServices/default/containers/{containerName}`,
  "azure-native:cdn:Profile": `${RG}/Microsoft.Cdn/profiles/{profileName}`,
  "azure-native:cdn:AFDEndpoint": `${RG}/Microsoft.Cdn/profiles/{profileName}/afdEndpoints/{endpointName}`,
  "azure-native:cdn:AFDOriginGroup": `${RG}/Microsoft.Cdn/profiles/{profileName}/originGroups/{originGroupName}`,
  "azure-native:cdn:AFDOrigin": `${RG}/Microsoft.Cdn/profiles/{profileName}/originGroups/{originGroupName}/origins/{originName}`,
  "azure-native:cdn:AFDCustomDomain": `${RG}/Microsoft.Cdn/profiles/{profileName}/customDomains/{customDomainName}`,
  "azure-native:cdn:Route": `${RG}/Microsoft.Cdn/profiles/{profileName}/afdEndpoints/{endpointName}/routes/{routeName}`,
  "azure-native:cdn:RuleSet": `${RG}/Microsoft.Cdn/profiles/{profileName}/ruleSets/{ruleSetName}`,
  "azure-native:cdn:Rule": `${RG}/Microsoft.Cdn/profiles/{profileName}/ruleSets/{ruleSetName}/rules/{ruleName}`,
  "azure-native:cdn:SecurityPolicy": `${RG}/Microsoft.Cdn/profiles/{profileName}/securityPolicies/{securityPolicyName}`,
  "azure-native:frontdoor:Policy": `${RG}/Microsoft.Network/frontdoorWebApplicationFirewallPolicies/{policyName}`,
};

function armId(type: string, name: string, inputs: Record<string, unknown>): string {
  const template = ID_TEMPLATES[type];
  if (!template) {
    const [, module, resource] = type.split(":");
    return `/subscriptions/${MOCK_SUBSCRIPTION}/resourceGroups/${String(inputs["resourceGroupName"] ?? "rg")}/providers/Microsoft.${module}/${resource}/${name}`;
  }
  return template.replace(/\{(\w+)\}/g, (_, key: string) => (key === "sub" ? MOCK_SUBSCRIPTION : typeof inputs[key] === "string" ? (inputs[key] as string) : name));
}

/** Last segment of an ARM id: the resource's own name. */
function lastSegment(id: string): string {
  return id.split("/").pop()!;
}

/** State of an azure-native resource: its inputs, its ARM id and name, and what Azure computes. */
export function azureMockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const id = armId(type, name, inputs);
  const resourceName = lastSegment(id);
  const base: Record<string, unknown> = { ...inputs, id, name: resourceName, azureApiVersion: "mock" };
  switch (type) {
    case "azure-native:managedidentity:UserAssignedIdentity":
      return { ...base, clientId: mockGuid(`client:${id}`), principalId: mockGuid(`principal:${id}`), tenantId: MOCK_TENANT };
    case "azure-native:operationalinsights:Workspace":
      return { ...base, customerId: mockGuid(`workspace:${id}`) };
    case "azure-native:containerservice:ManagedCluster":
      return {
        ...base,
        fqdn: `${resourceName}-dns-abc123.hcp.${MOCK_LOCATION}.azmk8s.io`,
        privateFQDN: `${resourceName}-dns-abc123.privatelink.${MOCK_LOCATION}.azmk8s.io`,
        oidcIssuerProfile: { enabled: true, issuerURL: `https://${MOCK_LOCATION}.oic.prod-aks.azure.com/${MOCK_TENANT}/${mockGuid(`oidc:${id}`)}/` },
        nodeResourceGroup: `MC_${String(inputs["resourceGroupName"])}_${resourceName}_${MOCK_LOCATION}`,
      };
    case "azure-native:containerregistry:Registry":
      return { ...base, loginServer: `${resourceName}.azurecr.io` };
    case "azure-native:redis:Redis":
      return { ...base, hostName: `${resourceName}.redis.cache.windows.net`, sslPort: 6380, port: 6379 };
    case "azure-native:servicebus:Namespace":
      return { ...base, serviceBusEndpoint: `https://${resourceName}.servicebus.windows.net:443/` };
    case "azure-native:logic:Workflow":
      // The endpoint names the workflow by an internal id Azure assigns, not by its name.
      return { ...base, accessEndpoint: `https://prod-00.${MOCK_LOCATION}.logic.azure.com:443/workflows/${mockGuid(`workflow:${id}`).replace(/-/g, "")}` };
    case "azure-native:eventhub:Namespace":
      return { ...base, serviceBusEndpoint: `https://${resourceName}.servicebus.windows.net:443/` };
    case "azure-native:storage:StorageAccount":
      return { ...base, primaryEndpoints: { blob: `https://${resourceName}.blob.core.windows.net/`, web: `https://${resourceName}.z13.web.core.windows.net/` } };
    case "azure-native:cdn:AFDEndpoint":
      return { ...base, hostName: `${resourceName}-c3d4e5f6a7b8c9d0.z01.azurefd.net` };
    case "azure-native:cdn:AFDCustomDomain":
      return { ...base, validationProperties: { validationToken: mockGuid(`validation:${id}`) } };
    case "azure-native:keyvault:Vault":
      return { ...base, properties: { ...(inputs["properties"] as object), vaultUri: `https://${resourceName}.vault.azure.net/` } };
    case "azure-native:keyvault:Secret": {
      const vault = String(inputs["vaultName"]);
      return { ...base, properties: { ...(inputs["properties"] as object), secretUri: `https://${vault}.vault.azure.net/secrets/${resourceName}`, secretUriWithVersion: `https://${vault}.vault.azure.net/secrets/${resourceName}/0123456789abcdef` } };
    }
    case "azure-native:web:WebApp":
      return { ...base, defaultHostName: `${resourceName}.azurewebsites.net`, identity: { ...(inputs["identity"] as object) } };
    case "azure-native:network:LoadBalancer": {
      // A dynamic frontend gets an address of its own, whatever the other frontends are, as Azure keeps it for the frontend's life.
      const frontends = (inputs["frontendIPConfigurations"] as Record<string, unknown>[] | undefined) ?? [];
      return { ...base, frontendIPConfigurations: frontends.map((f) => ({ ...f, privateIPAddress: f["privateIPAddress"] ?? mockPrivateIp(`${id}/${String(f["name"])}`) })) };
    }
    case "azure-native:network:PublicIPAddress":
      return { ...base, ipAddress: "20.51.0.10" };
    case "azure-native:applicationinsights:Component": {
      const key = mockGuid(`ikey:${id}`);
      return { ...base, instrumentationKey: key, connectionString: `InstrumentationKey=${key};IngestionEndpoint=https://${MOCK_LOCATION}-8.in.applicationinsights.azure.com/` };
    }
    case "azure-native:appconfiguration:ConfigurationStore":
      return { ...base, endpoint: `https://${resourceName}.azconfig.io` };
    case "azure-native:dbforpostgresql:Server":
      return { ...base, fullyQualifiedDomainName: `${resourceName}.postgres.database.azure.com` };
    case "azure-native:cosmosdb:DatabaseAccount":
      return { ...base, documentEndpoint: `https://${resourceName}.documents.azure.com:443/` };
    default:
      return base;
  }
}

/** What a pipeline released, as the mocked release record returns it: never the planned image, so tests see which one a workload runs. */
export function mockReleasedImage(keyValueName: string): string {
  return `released.azurecr.io/${keyValueName}@sha256:${"0".repeat(64)}`;
}

/** Results of the azure-native functions the components call; undefined for any other token. */
export function azureMockCall(token: string, inputs: Record<string, unknown>): Record<string, unknown> | undefined {
  switch (token) {
    case "azure-native:authorization:getClientConfig":
      return { clientId: mockGuid("deployer-client"), objectId: MOCK_DEPLOYER_OBJECT_ID, subscriptionId: MOCK_SUBSCRIPTION, tenantId: MOCK_TENANT };
    case "azure-native:containerservice:listManagedClusterUserCredentials": {
      const cluster = String(inputs["resourceName"]);
      const kubeconfig = [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{ name: ${cluster}, cluster: { server: "https://${cluster}.hcp.${MOCK_LOCATION}.azmk8s.io:443", certificate-authority-data: bW9jaw== } }]`,
        `users: [{ name: clusterUser, user: { exec: { apiVersion: client.authentication.k8s.io/v1beta1, command: kubelogin, args: [get-token, --login, azurecli, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630] } } }]`,
        `contexts: [{ name: ${cluster}, context: { cluster: ${cluster}, user: clusterUser } }]`,
        `current-context: ${cluster}`,
      ].join("\n");
      return { kubeconfigs: [{ name: "clusterUser", value: Buffer.from(kubeconfig).toString("base64") }] };
    }
    case "azure-native:eventhub:listEventHubKeys": {
      const key = `mock-key-${String(inputs["authorizationRuleName"])}`;
      const connection = `Endpoint=sb://${String(inputs["namespaceName"])}.servicebus.windows.net/;SharedAccessKeyName=${String(inputs["authorizationRuleName"])};SharedAccessKey=${key};EntityPath=${String(inputs["eventHubName"])}`;
      return { keyName: inputs["authorizationRuleName"], primaryKey: key, primaryConnectionString: connection };
    }
    case "azure-native:appconfiguration:getKeyValue":
      return { key: inputs["keyValueName"], value: mockReleasedImage(String(inputs["keyValueName"])), id: `${String(inputs["configStoreName"])}/keyValues/${String(inputs["keyValueName"])}` };
    case "azure-native:storage:listStorageAccountKeys":
      return { keys: [{ keyName: "key1", permissions: "FULL", value: `mock-account-key-${String(inputs["accountName"])}` }] };
    default:
      return undefined;
  }
}
