import * as network from "@pulumi/azure-native/network/index.js";
import * as privatedns from "@pulumi/azure-native/privatedns/index.js";
import * as storage from "@pulumi/azure-native/storage/index.js";
import * as pulumi from "@pulumi/pulumi";
import { AZURE_SUBNET_ROLES, azureSubnetLayout, type AzureSubnetLayout, type AzureSubnetRole } from "../../plan/azure.js";
import { cidrContains, cidrsOverlap, parseCidr } from "../../plan/cidr.js";
import { sendDiagnostics } from "./diagnostics.js";

/** Delegations a workloads or databases subnet may carry. */
export type SubnetDelegation = "Microsoft.Web/serverFarms" | "Microsoft.DBforPostgreSQL/flexibleServers";

/** Priority of the rule that denies all other inbound traffic, after every allow rule and before Azure's AllowVnetInBound (65000). */
export const DENY_ALL_INBOUND_PRIORITY = 4096;

/** The ports the services listen on and the gateway reaches, as NSG port ranges (e.g. "80", "8080-8090"). */
export type PortRange = string;

/** VNet flow logs: written to a storage account and analysed into a Log Analytics workspace. */
export interface FlowLogsArgs {
  /** Resource id of the Log Analytics workspace Traffic Analytics writes to. */
  readonly workspaceResourceId: pulumi.Input<string>;
  /** Workspace (customer) id of that workspace. */
  readonly workspaceId: pulumi.Input<string>;
  /** Globally unique name of the storage account the raw flow logs go to (3-24 lowercase letters and digits). */
  readonly storageAccountName: pulumi.Input<string>;
  /**
   * Days the raw flow logs are kept.
   * @default 365
   */
  readonly retentionDays?: number;
  /**
   * The region's Network Watcher; Azure creates one per region and subscription.
   * @default - Azure's automatic one: `NetworkWatcher_<location>` in `NetworkWatcherRG`
   */
  readonly networkWatcher?: { readonly name: string; readonly resourceGroupName: string };
  /**
   * Keep the storage account (and its logs) when the stack is destroyed, and protect it.
   * @default true
   */
  readonly retain?: boolean;
}

/** Arguments of {@link Network}. */
export interface NetworkArgs {
  /** Resource group of the VNet and everything in it. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `eastus`; names the Network Watcher and places the flow logs. */
  readonly location: string;
  /**
   * Address space of the VNet.
   * @default "10.0.0.0/16"
   */
  readonly cidr?: string;
  /**
   * Range of each subnet role.
   * @default - `azureSubnetLayout(cidr)`: gateway (public block), workloads (private half), endpoints and databases (isolated quarter)
   */
  readonly subnetCidrs?: AzureSubnetLayout;
  /**
   * Create the databases subnet, delegated to PostgreSQL flexible servers.
   * @default false
   */
  readonly databaseSubnet?: boolean;
  /**
   * Delegate the workloads subnet to a service (App Service VNet integration needs `Microsoft.Web/serverFarms`).
   * @default - no delegation (AKS nodes, scale sets)
   */
  readonly workloadsDelegation?: Extract<SubnetDelegation, "Microsoft.Web/serverFarms">;
  /**
   * Ports the gateway subnet may reach in the workloads subnet; none for App Service integration subnets.
   * @default ["80"]
   */
  readonly workloadPorts?: readonly PortRange[];
  /**
   * Ports the workloads (and the gateway, for 443) may reach on private endpoints.
   * @default ["443", "5671-5672", "6380"] (HTTPS APIs, AMQP over TLS, Redis TLS)
   */
  readonly endpointPorts?: readonly PortRange[];
  /**
   * Pod range of an AKS overlay network; its pods reach each other across nodes with these addresses.
   * @default - none (no Kubernetes pods in the VNet)
   */
  readonly podsCidr?: string;
  /**
   * Ports the Internet may reach on the gateway subnet.
   * @default ["80", "443"] - the gateway's HTTP listener (which redirects to HTTPS once it has a certificate) and its HTTPS listener
   */
  readonly publicPorts?: readonly PortRange[];
  /**
   * A NAT gateway (Standard, static public IP) for the workloads subnet's outbound traffic; Azure
   * allows one per subnet. Without it the subnets have no outbound internet access at all.
   * Cost: the NAT gateway and its public IP bill hourly, plus per GB processed.
   * @default true
   */
  readonly natGateway?: boolean;
  /**
   * Log Analytics workspace the NSGs' and the VNet's diagnostic logs and metrics go to.
   * @default - no diagnostic settings
   */
  readonly diagnosticsWorkspaceId?: pulumi.Input<string>;
  /**
   * VNet flow logs (the successor of NSG flow logs, which Azure retires in 2027).
   * Cost: the storage account, flow-log volume and Traffic Analytics processing bill per GB.
   * @default - none
   */
  readonly flowLogs?: FlowLogsArgs;
  /**
   * Private DNS zones to create and link to the VNet (e.g. `privatelink.azurecr.io`), for private endpoints.
   * @default - none
   */
  readonly privateDnsZones?: readonly string[];
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: {
    readonly virtualNetwork?: (args: network.VirtualNetworkArgs) => void;
    readonly subnet?: (args: network.SubnetArgs, role: AzureSubnetRole) => void;
    readonly securityGroup?: (args: network.NetworkSecurityGroupArgs, role: AzureSubnetRole) => void;
    readonly natGateway?: (args: network.NatGatewayArgs) => void;
    readonly flowLogStorage?: (args: storage.StorageAccountArgs) => void;
    readonly flowLog?: (args: network.FlowLogArgs) => void;
  };
}

/** The raw children of a {@link Network}. */
export interface NetworkNodes {
  readonly virtualNetwork: network.VirtualNetwork;
  readonly subnets: Readonly<Partial<Record<AzureSubnetRole, network.Subnet>>>;
  readonly securityGroups: Readonly<Partial<Record<AzureSubnetRole, network.NetworkSecurityGroup>>>;
  readonly natGateway?: network.NatGateway;
  readonly natPublicIp?: network.PublicIPAddress;
  readonly flowLogStorage?: storage.StorageAccount;
  readonly flowLog?: network.FlowLog;
  readonly privateDnsZones: Readonly<Record<string, privatedns.PrivateZone>>;
}

type SecurityRule = Omit<network.SecurityRuleArgs, "networkSecurityGroupName" | "resourceGroupName"> & { readonly name: string };

/**
 * The landing zone's VNet: a subnet per role (Application Gateway, workloads, private endpoints and,
 * when asked, delegated databases), each with its own NSG that admits only the traffic its role needs
 * and denies all other inbound traffic (including the rest of the VNet), no default outbound access,
 * a NAT gateway for the workloads' egress, VNet flow logs with Traffic Analytics, diagnostic settings
 * and the private DNS zones of the private endpoints.
 *
 * Cost: the NAT gateway and its public IP bill hourly; flow logs bill per GB.
 *
 * @example
 * const net = new Network("shop", { resourceGroupName: group.name, location: "eastus", cidr: "10.0.0.0/16" });
 * export const workloadsSubnetId = net.subnetIds.workloads;
 */
export class Network extends pulumi.ComponentResource {
  readonly virtualNetworkId: pulumi.Output<string>;
  readonly virtualNetworkName: pulumi.Output<string>;
  /** Subnet id by role; `databases` only when asked for. */
  readonly subnetIds: Readonly<Record<Exclude<AzureSubnetRole, "databases" | "logging">, pulumi.Output<string>>> & { readonly databases?: pulumi.Output<string>; readonly logging?: pulumi.Output<string> };
  /** Subnet range by role, as created. */
  readonly subnetCidrs: AzureSubnetLayout;
  /** Private DNS zone id by zone name. */
  readonly privateDnsZoneIds: Readonly<Record<string, pulumi.Output<string>>>;
  /** Public IP the workloads' outbound traffic leaves through, when there is a NAT gateway. */
  readonly egressIp?: pulumi.Output<string | undefined>;
  readonly nodes: NetworkNodes;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    const cidr = args.cidr ?? "10.0.0.0/16";
    const layout = validateNetworkArgs(name, cidr, args);
    super("msa:azure:Network", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const { resourceGroupName } = args;
    const roles: AzureSubnetRole[] = [...AZURE_SUBNET_ROLES.filter((role) => role !== "databases" || args.databaseSubnet === true), ...(layout.logging ? (["logging"] as const) : [])];

    const vnetArgs: network.VirtualNetworkArgs = { resourceGroupName, location: args.location, addressSpace: { addressPrefixes: [cidr] }, tags };
    args.transform?.virtualNetwork?.(vnetArgs);
    const virtualNetwork = new network.VirtualNetwork(`${name}-vnet`, vnetArgs, parent);

    let natGateway: network.NatGateway | undefined;
    let natPublicIp: network.PublicIPAddress | undefined;
    if (args.natGateway ?? true) {
      natPublicIp = new network.PublicIPAddress(
        `${name}-nat-ip`,
        { resourceGroupName, location: args.location, sku: { name: "Standard", tier: "Regional" }, publicIPAllocationMethod: "Static", publicIPAddressVersion: "IPv4", tags },
        parent,
      );
      const natArgs: network.NatGatewayArgs = {
        resourceGroupName,
        location: args.location,
        sku: { name: "Standard" },
        publicIpAddresses: [{ id: natPublicIp.id }],
        idleTimeoutInMinutes: 4,
        tags,
      };
      args.transform?.natGateway?.(natArgs);
      natGateway = new network.NatGateway(`${name}-nat`, natArgs, parent);
    }

    const rules = securityRules(layout, args);
    const securityGroups: Partial<Record<AzureSubnetRole, network.NetworkSecurityGroup>> = {};
    const subnets: Partial<Record<AzureSubnetRole, network.Subnet>> = {};
    let previous: network.Subnet | undefined;
    for (const role of roles) {
      const groupArgs: network.NetworkSecurityGroupArgs = {
        resourceGroupName,
        location: args.location,
        securityRules: rules[role]!.map((rule) => ({ ...rule })),
        tags,
      };
      args.transform?.securityGroup?.(groupArgs, role);
      const group = new network.NetworkSecurityGroup(`${name}-${role}-nsg`, groupArgs, parent);
      securityGroups[role] = group;
      if (args.diagnosticsWorkspaceId) sendDiagnostics(`${name}-${role}-nsg-diagnostics`, group.id, args.diagnosticsWorkspaceId, this, { metrics: false });

      const delegation = role === "workloads" ? args.workloadsDelegation : role === "databases" ? "Microsoft.DBforPostgreSQL/flexibleServers" : undefined;
      const subnetArgs: network.SubnetArgs = {
        resourceGroupName,
        virtualNetworkName: virtualNetwork.name,
        subnetName: role,
        addressPrefix: layout[role]!,
        networkSecurityGroup: { id: group.id },
        // Private by default: nothing leaves for the internet except through the NAT gateway.
        defaultOutboundAccess: false,
        ...((role === "workloads" || role === "logging") && natGateway ? { natGateway: { id: natGateway.id } } : {}),
        // NSG rules apply to private endpoints only when the subnet says so.
        ...(role === "endpoints" ? { privateEndpointNetworkPolicies: "Enabled" } : {}),
        ...(delegation ? { delegations: [{ name: delegation.split("/")[0]!.replace(/\./g, "-"), serviceName: delegation }] } : {}),
      };
      args.transform?.subnet?.(subnetArgs, role);
      // One subnet operation at a time: Azure rejects concurrent changes to one VNet.
      const subnet: network.Subnet = new network.Subnet(`${name}-${role}`, subnetArgs, { parent: this, ...(previous ? { dependsOn: [previous] } : {}) });
      subnets[role] = subnet;
      previous = subnet;
    }

    if (args.diagnosticsWorkspaceId) sendDiagnostics(`${name}-vnet-diagnostics`, virtualNetwork.id, args.diagnosticsWorkspaceId, this);

    const privateDnsZones: Record<string, privatedns.PrivateZone> = {};
    for (const zoneName of [...new Set(args.privateDnsZones ?? [])]) {
      const key = zoneName.replace(/\./g, "-");
      const zone = new privatedns.PrivateZone(`${name}-${key}`, { resourceGroupName, privateZoneName: zoneName, location: "Global", tags }, parent);
      new privatedns.VirtualNetworkLink(
        `${name}-${key}-link`,
        { resourceGroupName, privateZoneName: zone.name, virtualNetworkLinkName: `${name}-vnet`, location: "Global", virtualNetwork: { id: virtualNetwork.id }, registrationEnabled: false, tags },
        parent,
      );
      privateDnsZones[zoneName] = zone;
    }

    let flowLogStorage: storage.StorageAccount | undefined;
    let flowLog: network.FlowLog | undefined;
    if (args.flowLogs) [flowLogStorage, flowLog] = this.createFlowLogs(name, args, args.flowLogs, virtualNetwork, tags);

    this.virtualNetworkId = virtualNetwork.id;
    this.virtualNetworkName = virtualNetwork.name;
    this.subnetIds = {
      gateway: subnets.gateway!.id,
      workloads: subnets.workloads!.id,
      endpoints: subnets.endpoints!.id,
      ...(subnets.databases ? { databases: subnets.databases.id } : {}),
      ...(subnets.logging ? { logging: subnets.logging.id } : {}),
    };
    this.subnetCidrs = layout;
    this.privateDnsZoneIds = Object.fromEntries(Object.entries(privateDnsZones).map(([zone, resource]) => [zone, resource.id]));
    if (natPublicIp) this.egressIp = natPublicIp.ipAddress;
    this.nodes = {
      virtualNetwork,
      subnets,
      securityGroups,
      privateDnsZones,
      ...(natGateway ? { natGateway } : {}),
      ...(natPublicIp ? { natPublicIp } : {}),
      ...(flowLogStorage ? { flowLogStorage } : {}),
      ...(flowLog ? { flowLog } : {}),
    };
    this.registerOutputs({ virtualNetworkId: this.virtualNetworkId, subnetIds: this.subnetIds });
  }

  private createFlowLogs(name: string, args: NetworkArgs, flowLogs: FlowLogsArgs, virtualNetwork: network.VirtualNetwork, tags: Record<string, string>): [storage.StorageAccount, network.FlowLog] {
    const retain = flowLogs.retain ?? true;
    const storageArgs: storage.StorageAccountArgs = {
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      accountName: flowLogs.storageAccountName,
      kind: "StorageV2",
      sku: { name: "Standard_LRS" },
      enableHttpsTrafficOnly: true,
      minimumTlsVersion: "TLS1_2",
      allowBlobPublicAccess: false,
      // Only trusted Azure services (Network Watcher among them) write; no other network reaches the account.
      networkRuleSet: { defaultAction: "Deny", bypass: "AzureServices" },
      encryption: { keySource: "Microsoft.Storage", requireInfrastructureEncryption: true, services: { blob: { enabled: true, keyType: "Account" } } },
      tags,
    };
    args.transform?.flowLogStorage?.(storageArgs);
    const account = new storage.StorageAccount(`${name}-flow-logs`, storageArgs, { parent: this, ...(retain ? { protect: true, retainOnDelete: true } : {}) });
    const watcher = flowLogs.networkWatcher ?? { name: `NetworkWatcher_${args.location}`, resourceGroupName: "NetworkWatcherRG" };
    const flowLogArgs: network.FlowLogArgs = {
      networkWatcherName: watcher.name,
      resourceGroupName: watcher.resourceGroupName,
      location: args.location,
      targetResourceId: virtualNetwork.id,
      storageId: account.id,
      enabled: true,
      format: { type: "JSON", version: 2 },
      retentionPolicy: { enabled: true, days: flowLogs.retentionDays ?? 365 },
      flowAnalyticsConfiguration: {
        networkWatcherFlowAnalyticsConfiguration: {
          enabled: true,
          workspaceResourceId: flowLogs.workspaceResourceId,
          workspaceId: flowLogs.workspaceId,
          workspaceRegion: args.location,
          trafficAnalyticsInterval: 10,
        },
      },
      tags,
    };
    args.transform?.flowLog?.(flowLogArgs);
    return [account, new network.FlowLog(`${name}-flow-log`, flowLogArgs, { parent: this })];
  }
}

/** The NSG rules of each subnet role: the allow rules the role needs, then a deny of everything else. */
export function securityRules(
  layout: AzureSubnetLayout,
  args: Pick<NetworkArgs, "workloadPorts" | "endpointPorts" | "publicPorts" | "podsCidr">,
): Record<Exclude<AzureSubnetRole, "logging">, SecurityRule[]> & { logging?: SecurityRule[] } {
  const allow = (name: string, priority: number, source: string, ports: readonly PortRange[], destination: string): SecurityRule => ({
    name,
    priority,
    direction: "Inbound",
    access: "Allow",
    protocol: "Tcp",
    sourceAddressPrefix: source,
    sourcePortRange: "*",
    destinationAddressPrefix: destination,
    ...(ports.length === 1 ? { destinationPortRange: ports[0]! } : { destinationPortRanges: [...ports] }),
  });
  const denyAll: SecurityRule = {
    name: "DenyAllInbound",
    priority: DENY_ALL_INBOUND_PRIORITY,
    direction: "Inbound",
    access: "Deny",
    protocol: "*",
    sourceAddressPrefix: "*",
    sourcePortRange: "*",
    destinationAddressPrefix: "*",
    destinationPortRange: "*",
  };
  const loadBalancer = (priority: number, destination: string) => allow("AllowAzureLoadBalancer", priority, "AzureLoadBalancer", ["*"], destination);
  // Azure CNI Overlay does not encapsulate pod traffic, so the subnet's rules see pod addresses: pods
  // reach nodes and each other (DNS, the mesh, cross-node Services), and nodes reach pods (Service routing).
  const podRules = (nodes: string, pods: string): SecurityRule[] => [
    { ...allow("AllowPods", 120, pods, ["*"], nodes), protocol: "*" },
    { ...allow("AllowPodsToPods", 121, pods, ["*"], pods), protocol: "*" },
    { ...allow("AllowNodesToPods", 122, nodes, ["*"], pods), protocol: "*" },
  ];
  return {
    gateway: [
      // Application Gateway v2 fails to provision without its infrastructure ports open to GatewayManager.
      allow("AllowGatewayManager", 100, "GatewayManager", ["65200-65535"], "*"),
      allow("AllowPublicListeners", 110, "Internet", args.publicPorts ?? ["80", "443"], layout.gateway),
      loadBalancer(120, "*"),
      denyAll,
    ],
    workloads: [
      // App Service integration subnets take no inbound traffic at all: the gateway reaches apps through private endpoints.
      ...((args.workloadPorts ?? ["80"]).length > 0 ? [allow("AllowGateway", 100, layout.gateway, args.workloadPorts ?? ["80"], layout.workloads)] : []),
      // Nodes and scale-set instances talk among themselves (kubelet, overlay, cluster traffic).
      { ...allow("AllowWorkloads", 110, layout.workloads, ["*"], layout.workloads), protocol: "*" },
      ...(args.podsCidr ? podRules(layout.workloads, args.podsCidr) : []),
      loadBalancer(130, layout.workloads),
      denyAll,
    ],
    endpoints: [
      allow("AllowWorkloads", 100, layout.workloads, args.endpointPorts ?? ["443", "5671-5672", "6380"], layout.endpoints),
      // The gateway reaches App Service apps through their private endpoints.
      allow("AllowGatewayHttps", 110, layout.gateway, ["443"], layout.endpoints),
      ...(args.podsCidr ? [allow("AllowPods", 120, args.podsCidr, args.endpointPorts ?? ["443", "5671-5672", "6380"], layout.endpoints)] : []),
      // The logging cluster reads the log export's event hub and checkpoint blobs.
      ...(layout.logging ? [allow("AllowLoggingCluster", 130, layout.logging, args.endpointPorts ?? ["443", "5671-5672", "6380"], layout.endpoints)] : []),
      denyAll,
    ],
    databases: [
      allow("AllowWorkloadsPostgres", 100, layout.workloads, ["5432"], layout.databases),
      // A zone-redundant server replicates to its standby inside the delegated subnet.
      allow("AllowDatabasesReplication", 110, layout.databases, ["5432"], layout.databases),
      denyAll,
    ],
    ...(layout.logging
      ? {
          logging: [
            // The logging cluster's nodes and pods talk among themselves; nothing else reaches them.
            { ...allow("AllowLoggingNodes", 110, layout.logging, ["*"], layout.logging), protocol: "*" },
            ...(args.podsCidr ? podRules(layout.logging, args.podsCidr) : []),
            loadBalancer(130, layout.logging),
            denyAll,
          ],
        }
      : {}),
  };
}

function validateNetworkArgs(name: string, cidr: string, args: NetworkArgs): AzureSubnetLayout {
  const vnet = parseCidr(cidr);
  const layout = args.subnetCidrs ?? azureSubnetLayout({ cidr });
  const seen: Array<{ role: string; cidr: string }> = [];
  for (const role of [...AZURE_SUBNET_ROLES, ...(layout.logging ? (["logging"] as const) : [])]) {
    const subnet = parseCidr(layout[role]!);
    if (!cidrContains(vnet, subnet)) throw new Error(`Network ${name}: subnetCidrs.${role} ${layout[role]} is outside the VNet range ${cidr}. Fix: pick a range inside ${cidr}`);
    const clash = seen.find((other) => cidrsOverlap(parseCidr(other.cidr), subnet));
    if (clash) throw new Error(`Network ${name}: subnetCidrs.${role} ${layout[role]} overlaps the ${clash.role} subnet ${clash.cidr}. Fix: give every subnet its own range`);
    seen.push({ role, cidr: layout[role]! });
  }
  if (parseCidr(layout.gateway).prefix > 26) throw new Error(`Network ${name}: subnetCidrs.gateway ${layout.gateway} is smaller than the /26 Application Gateway v2 needs. Fix: use a /26 or larger range`);
  if (args.podsCidr && cidrsOverlap(parseCidr(args.podsCidr), vnet)) {
    throw new Error(`Network ${name}: podsCidr ${args.podsCidr} overlaps the VNet range ${cidr}. Fix: use a range outside the VNet, e.g. 100.64.0.0/14`);
  }
  const retention = args.flowLogs?.retentionDays ?? 365;
  if (!Number.isInteger(retention) || retention < 1 || retention > 365) {
    throw new Error(`Network ${name}: flowLogs.retentionDays is ${retention}. Fix: use an integer from 1 to 365`);
  }
  return layout;
}
