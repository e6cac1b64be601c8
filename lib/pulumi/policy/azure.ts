import type { StackValidationArgs } from "@pulumi/policy";
import { LOCAL_AUTH_TAG, LOGSTASH_LOCAL_AUTH } from "../../plan/azure.js";
import { isStatefulPulumiType } from "../../plan/stateful.js";
import { expectValue, get, listOf, resourceRule, stackRule, type LandingZonePolicy } from "./rules.js";

/** Built-in roles that grant everything (or the right to grant everything) on their scope. */
const BROAD_ROLES: Readonly<Record<string, string>> = {
  "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
  "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
  "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
};

/** Data stores whose data plane must be closed to the internet. */
const PRIVATE_DATA_TYPES: Readonly<Record<string, readonly string[]>> = {
  "azure-native:redis:Redis": ["publicNetworkAccess"],
  "azure-native:keyvault:Vault": ["properties", "publicNetworkAccess"],
  "azure-native:appconfiguration:ConfigurationStore": ["publicNetworkAccess"],
  "azure-native:dbforpostgresql:Server": ["network", "publicNetworkAccess"],
  "azure-native:cosmosdb:DatabaseAccount": ["publicNetworkAccess"],
  "azure-native:web:WebApp": ["publicNetworkAccess"],
};

const encryptionAtRest: LandingZonePolicy[] = [
  resourceRule("azure-vmss-encryption-at-host", "encryption-at-rest", "Scale-set instances encrypt their OS and temporary disks and caches at the host.", ["azure-native:compute:VirtualMachineScaleSet"], (p) =>
    expectValue(get(p, "virtualMachineProfile", "securityProfile", "encryptionAtHost"), true, "virtualMachineProfile.securityProfile.encryptionAtHost"),
  ),
  resourceRule("azure-aks-encryption-at-host", "encryption-at-rest", "AKS node pools encrypt their disks and caches at the host.", ["azure-native:containerservice:ManagedCluster", "azure-native:containerservice:AgentPool"], (p, args) =>
    args.type === "azure-native:containerservice:AgentPool"
      ? expectValue(p["enableEncryptionAtHost"], true, "enableEncryptionAtHost")
      : listOf(p["agentPoolProfiles"]).filter((pool) => pool["enableEncryptionAtHost"] !== true).map((pool) => `agentPoolProfiles ${String(pool["name"])} must set enableEncryptionAtHost`),
  ),
];

const encryptionInTransit: LandingZonePolicy[] = [
  resourceRule("azure-redis-tls", "encryption-in-transit", "Azure Cache for Redis takes TLS 1.2+ only; the plain port stays closed.", ["azure-native:redis:Redis"], (p) => [
    ...(p["enableNonSslPort"] === true ? ["enableNonSslPort must not be true"] : []),
    ...expectValue(p["minimumTlsVersion"], "1.2", "minimumTlsVersion"),
  ]),
  resourceRule("azure-storage-tls", "encryption-in-transit", "Storage accounts take HTTPS with TLS 1.2+ only.", ["azure-native:storage:StorageAccount"], (p) => [
    ...expectValue(p["enableHttpsTrafficOnly"], true, "enableHttpsTrafficOnly"),
    ...expectValue(p["minimumTlsVersion"], "TLS1_2", "minimumTlsVersion"),
  ]),
  resourceRule("azure-messaging-tls", "encryption-in-transit", "Service Bus and Event Hubs namespaces take TLS 1.2+ only.", ["azure-native:servicebus:Namespace", "azure-native:eventhub:Namespace"], (p) =>
    expectValue(p["minimumTlsVersion"], "1.2", "minimumTlsVersion"),
  ),
  resourceRule("azure-front-door-tls", "encryption-in-transit", "Front Door routes redirect HTTP to HTTPS, and custom domains take TLS 1.2 or later.", ["azure-native:cdn:Route", "azure-native:cdn:AFDCustomDomain"], (p, args) =>
    args.type === "azure-native:cdn:Route"
      ? expectValue(p["httpsRedirect"], "Enabled", "httpsRedirect")
      : ["TLS12", "TLS13"].includes(String(get(p, "tlsSettings", "minimumTlsVersion")))
        ? []
        : [`tlsSettings.minimumTlsVersion must be TLS12 or TLS13, is ${JSON.stringify(get(p, "tlsSettings", "minimumTlsVersion") ?? "unset")}`],
  ),
  resourceRule("azure-webapp-tls", "encryption-in-transit", "Web apps take HTTPS only with TLS 1.2+, and no FTP.", ["azure-native:web:WebApp"], (p) => [
    ...expectValue(p["httpsOnly"], true, "httpsOnly"),
    ...expectValue(get(p, "siteConfig", "minTlsVersion"), "1.2", "siteConfig.minTlsVersion"),
    ...expectValue(get(p, "siteConfig", "ftpsState"), "Disabled", "siteConfig.ftpsState"),
  ]),
];

const noPublicData: LandingZonePolicy[] = [
  resourceRule("azure-data-private", "no-public-data", "Caches, vaults, configuration stores, databases and web apps are closed to the internet (private endpoints only).", Object.keys(PRIVATE_DATA_TYPES), (p, args) =>
    expectValue(get(p, ...PRIVATE_DATA_TYPES[args.type]!), "Disabled", PRIVATE_DATA_TYPES[args.type]!.join(".")),
  ),
  resourceRule("azure-registry-no-anonymous", "no-public-data", "Container registries have no admin user and no anonymous pull.", ["azure-native:containerregistry:Registry"], (p) => [
    ...expectValue(p["adminUserEnabled"], false, "adminUserEnabled"),
    ...(p["anonymousPullEnabled"] === true ? ["anonymousPullEnabled must not be true"] : []),
  ]),
  resourceRule("azure-storage-no-public-blobs", "no-public-data", "Storage accounts allow no anonymous blob access.", ["azure-native:storage:StorageAccount"], (p) => expectValue(p["allowBlobPublicAccess"], false, "allowBlobPublicAccess")),
  resourceRule("azure-containers-private", "no-public-data", "Blob containers allow no anonymous access.", ["azure-native:storage:BlobContainer"], (p) =>
    p["publicAccess"] === undefined || p["publicAccess"] === "None" ? [] : [`publicAccess must be None, is ${JSON.stringify(p["publicAccess"])}`],
  ),
  resourceRule("azure-vm-no-public-ip", "no-public-data", "Scale-set instances get no public IP address.", ["azure-native:compute:VirtualMachineScaleSet"], (p) =>
    listOf(get(p, "virtualMachineProfile", "networkProfile", "networkInterfaceConfigurations"))
      .flatMap((nic) => listOf(nic["ipConfigurations"]))
      .filter((ip) => ip["publicIPAddressConfiguration"] !== undefined)
      .map((ip) => `ipConfigurations ${String(ip["name"])} must not have a publicIPAddressConfiguration`),
  ),
  resourceRule("azure-nsg-no-open-ingress", "no-public-data", "NSGs admit the internet on 80 and 443 only.", ["azure-native:network:NetworkSecurityGroup"], (p) =>
    listOf(p["securityRules"])
      .filter((r) => r["direction"] === "Inbound" && r["access"] === "Allow" && ["*", "Internet", "0.0.0.0/0"].includes(String(r["sourceAddressPrefix"])))
      .filter((r) => ![r["destinationPortRange"], ...((r["destinationPortRanges"] as unknown[] | undefined) ?? [])].filter((x) => x !== undefined).every((port) => port === "80" || port === "443"))
      .map((r) => `rule ${String(r["name"])} admits the internet beyond ports 80 and 443`),
  ),
];

const leastPrivilege: LandingZonePolicy[] = [
  resourceRule("azure-no-broad-roles", "least-privilege", "No role assignment grants Owner, Contributor or User Access Administrator, or any role on a whole subscription or resource group.", ["azure-native:authorization:RoleAssignment"], (p) => {
    const role = String(p["roleDefinitionId"]).split("/").pop()!;
    return [
      ...(BROAD_ROLES[role] ? [`grants ${BROAD_ROLES[role]}`] : []),
      ...(/^\/subscriptions\/[^/]+(\/resourceGroups\/[^/]+)?\/?$/i.test(String(p["scope"])) ? [`is scoped to ${String(p["scope"])}; scope it to the resource it is for`] : []),
    ];
  }),
  resourceRule(
    "azure-no-shared-keys",
    "least-privilege",
    `Entra ID identities only: no SAS keys, access keys or local cluster accounts anyone could share. One exception: an Event Hubs namespace tagged ${LOCAL_AUTH_TAG}=${LOGSTASH_LOCAL_AUTH} (the log export Logstash reads, whose input has no Entra ID sign-in) keeps SAS but must be closed to public networks.`,
    ["azure-native:servicebus:Namespace", "azure-native:eventhub:Namespace", "azure-native:appconfiguration:ConfigurationStore", "azure-native:redis:Redis", "azure-native:containerservice:ManagedCluster"],
    (p, args) =>
      args.type === "azure-native:redis:Redis"
        ? expectValue(p["disableAccessKeyAuthentication"], true, "disableAccessKeyAuthentication")
        : args.type === "azure-native:containerservice:ManagedCluster"
          ? expectValue(p["disableLocalAccounts"], true, "disableLocalAccounts")
          : args.type === "azure-native:eventhub:Namespace" && get(p, "tags", LOCAL_AUTH_TAG) === LOGSTASH_LOCAL_AUTH
            ? expectValue(p["publicNetworkAccess"], "Disabled", "publicNetworkAccess")
            : expectValue(p["disableLocalAuth"], true, "disableLocalAuth"),
  ),
  resourceRule(
    "azure-logic-trigger-entra",
    "least-privilege",
    "A Logic App started over HTTP admits only named Entra ID callers (an authorization policy with issuer and caller claims), not whoever holds a SAS URL.",
    ["azure-native:logic:Workflow"],
    (p) => {
      const triggers = Object.values((get(p, "definition", "triggers") ?? {}) as Record<string, { type?: string }>);
      if (!triggers.some((t) => t.type === "Request")) return [];
      const policies = Object.values((get(p, "accessControl", "triggers", "openAuthenticationPolicies", "policies") ?? {}) as Record<string, { type?: string; claims?: { name?: string }[] }>);
      const pinned = policies.length > 0 && policies.every((policy) => policy.type === "AAD" && (policy.claims ?? []).some((c) => c.name === "iss") && (policy.claims ?? []).some((c) => c.name === "appid" || c.name === "oid"));
      return pinned ? [] : ["has a Request trigger without an Entra ID authorization policy naming its callers (iss and appid or oid claims)"];
    },
  ),
  resourceRule("azure-keyvault-rbac", "least-privilege", "Key Vaults authorize with Azure RBAC, per secret, not with vault-wide access policies.", ["azure-native:keyvault:Vault"], (p) => [
    ...expectValue(get(p, "properties", "enableRbacAuthorization"), true, "properties.enableRbacAuthorization"),
    ...(listOf(get(p, "properties", "accessPolicies")).length > 0 ? ["properties.accessPolicies must be empty"] : []),
  ]),
];

const logging: LandingZonePolicy[] = [
  stackRule("azure-diagnostics", "logging", "Clusters, gateways, VNets, NSGs, vaults, brokers and Logic Apps send their logs to Log Analytics.", (args: StackValidationArgs) => {
    const watched = new Set(["azure-native:containerservice:ManagedCluster", "azure-native:network:ApplicationGateway", "azure-native:network:VirtualNetwork", "azure-native:network:NetworkSecurityGroup", "azure-native:keyvault:Vault", "azure-native:servicebus:Namespace", "azure-native:logic:Workflow"]);
    const targets = new Set(args.resources.filter((r) => r.type === "azure-native:monitor:DiagnosticSetting" && r.props["workspaceId"]).map((r) => String(r.props["resourceUri"])));
    return args.resources.filter((r) => watched.has(r.type) && !targets.has(String(r.props["id"]))).map((r) => [`${r.type} ${r.name} has no diagnostic setting to a Log Analytics workspace`, r.urn] as const);
  }),
  stackRule("azure-vnet-flow-logs", "logging", "Every VNet records flow logs.", (args) => {
    const flowLogs = args.resources.filter((r) => r.type === "azure-native:network:FlowLog");
    return args.resources
      .filter((r) => r.type === "azure-native:network:VirtualNetwork")
      .filter((vnet) => !flowLogs.some((f) => f.props["targetResourceId"] === vnet.props["id"]))
      .map((vnet) => [`VNet ${vnet.name} has no flow log`, vnet.urn] as const);
  }),
];

const workloadHardening: LandingZonePolicy[] = [
  resourceRule("azure-vm-no-password", "workload-hardening", "Linux instances accept no password login.", ["azure-native:compute:VirtualMachineScaleSet"], (p) =>
    expectValue(get(p, "virtualMachineProfile", "osProfile", "linuxConfiguration", "disablePasswordAuthentication"), true, "linuxConfiguration.disablePasswordAuthentication"),
  ),
  resourceRule("azure-aks-entra-rbac", "workload-hardening", "AKS authenticates with Entra ID and authorizes with Azure RBAC.", ["azure-native:containerservice:ManagedCluster"], (p) => [
    ...expectValue(get(p, "aadProfile", "enableAzureRBAC"), true, "aadProfile.enableAzureRBAC"),
    ...(get(p, "networkProfile", "networkPolicy") === undefined ? ["networkProfile.networkPolicy must be set, or NetworkPolicies are not enforced"] : []),
  ]),
];

const dataProtection: LandingZonePolicy[] = [
  resourceRule(
    "azure-prod-stateful-protected",
    "data-protection",
    "In prod (tag msa:environment=prod), Azure resources that hold data are protected from deletion.",
    (type) => type.startsWith("azure-native:") && isStatefulPulumiType(type),
    (p, args) => (get(p, "tags", "msa:environment") === "prod" && !args.opts.protect ? ["holds data in prod but is not protected; set protect (and retainOnDelete)"] : []),
  ),
];

/** The Azure rules of the landing zone's Pulumi policy pack, each mandatory. */
export const azurePolicies: readonly LandingZonePolicy[] = [...encryptionAtRest, ...encryptionInTransit, ...noPublicData, ...leastPrivilege, ...logging, ...workloadHardening, ...dataProtection];
