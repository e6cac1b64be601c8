import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as network from "@pulumi/azure-native/network/index.js";
import * as privatedns from "@pulumi/azure-native/privatedns/index.js";
import * as pulumi from "@pulumi/pulumi";
import { DISCOVERY_PORT } from "../../plan/azure-discovery.js";

/** TTL of the discovery records: a frontend keeps its address as long as it exists, so clients may cache them a while. */
export const DISCOVERY_TTL_SECONDS = 300;

/** A service registered for discovery: its name, the port its instances listen on and its health path. */
export interface DiscoveredService {
  readonly name: string;
  readonly port: number;
  readonly healthPath: string;
}

/** Arguments of {@link ServiceDiscovery}. */
export interface ServiceDiscoveryArgs {
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /** Name of the internal load balancer (unique in its resource group); sub-resource ids are built from it. */
  readonly loadBalancerName: string;
  /** Private DNS zone the services are registered in, e.g. `shop.internal`. */
  readonly zoneName: string;
  /** VNet the zone is linked to. */
  readonly virtualNetworkId: pulumi.Input<string>;
  /** Subnet of the frontends (the workloads subnet). */
  readonly subnetId: pulumi.Input<string>;
  /** Zones the frontends are redundant across. */
  readonly zones: readonly string[];
  /** The services to register. */
  readonly services: readonly DiscoveredService[];
  /**
   * Port every frontend answers on, whatever port its instances listen on.
   * @default DISCOVERY_PORT (80), so `http://<service>.<zone>` needs no port
   */
  readonly frontendPort?: number;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Service registry and discovery for services on virtual machines, as private DNS: an internal
 * Standard load balancer with a zone-redundant frontend, a backend pool, an HTTP health probe on the
 * health path and a rule per service (every frontend on one port, forwarding to the service's own),
 * and a private DNS zone linked to the VNet with an A record `<service>.<zone>` per frontend.
 * Instances join their service's pool when they start and leave it when they stop or fail the
 * probe, which is Eureka's register/deregister without an agent.
 *
 * Frontends take dynamic addresses and each record takes the address its frontend got, so adding
 * a service adds a frontend and a record and leaves the others' addresses as they are (Azure keeps a
 * frontend's address for as long as the frontend exists); nothing depends on a service's position.
 *
 * Cost: the Standard load balancer bills hourly per rule, plus per GB processed.
 *
 * @example
 * const discovery = new ServiceDiscovery("shop", { resourceGroupName: group.name, location: "eastus", loadBalancerName: "shop-prod-discovery",
 *   zoneName: "shop.internal", virtualNetworkId: network.virtualNetworkId, subnetId: network.subnetIds.workloads, zones: ["1", "2", "3"],
 *   services: [{ name: "orders", port: 8080, healthPath: "/health" }] });
 * // Other services call http://orders.shop.internal (port 80), which the load balancer forwards to 8080.
 */
export class ServiceDiscovery extends pulumi.ComponentResource {
  /** Backend pool id by service name; the service's instances join it. */
  readonly backendPoolIds: Readonly<Record<string, pulumi.Output<string>>>;
  /** `http://<service>.<zone>` by service name (with `:<frontendPort>` when it is not 80). */
  readonly urls: Readonly<Record<string, string>>;
  /** The private DNS zone every service is registered in, the one value callers need: `http://<service>.<domain>`. */
  readonly domain: string;
  /** The address each service's frontend got, by service name. */
  readonly privateIps: Readonly<Record<string, pulumi.Output<string>>>;
  readonly nodes: { readonly loadBalancer: network.LoadBalancer; readonly zone: privatedns.PrivateZone; readonly records: readonly privatedns.PrivateRecordSet[] };

  constructor(name: string, args: ServiceDiscoveryArgs, opts?: pulumi.ComponentResourceOptions) {
    const names = args.services.map((s) => s.name);
    if (new Set(names).size !== names.length) throw new Error(`ServiceDiscovery ${name}: services repeat a name (${names.join(", ")}). Fix: register each service once`);
    if (args.services.length === 0) throw new Error(`ServiceDiscovery ${name}: services is empty. Fix: register at least one service, or do not create ServiceDiscovery`);
    const frontendPort = args.frontendPort ?? DISCOVERY_PORT;
    if (!Number.isInteger(frontendPort) || frontendPort < 1 || frontendPort > 65535) throw new Error(`ServiceDiscovery ${name}: frontendPort ${frontendPort} is not a TCP port. Fix: use an integer from 1 to 65535, or leave it unset for ${DISCOVERY_PORT}`);
    super("msa:azure:ServiceDiscovery", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const { resourceGroupName } = args;
    const subscriptionId = authorization.getClientConfigOutput(parent).subscriptionId;
    const loadBalancerId = pulumi.interpolate`/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}/providers/Microsoft.Network/loadBalancers/${args.loadBalancerName}`;
    const ref = (kind: string, child: string) => ({ id: pulumi.interpolate`${loadBalancerId}/${kind}/${child}` });

    const loadBalancer = new network.LoadBalancer(
      `${name}-load-balancer`,
      {
        resourceGroupName,
        location: args.location,
        loadBalancerName: args.loadBalancerName,
        sku: { name: "Standard", tier: "Regional" },
        // Dynamic: Azure picks a free address; a static one would have to be allocated against the other services.
        frontendIPConfigurations: args.services.map((s) => ({ name: s.name, subnet: { id: args.subnetId }, privateIPAllocationMethod: "Dynamic", privateIPAddressVersion: "IPv4", zones: [...args.zones] })),
        backendAddressPools: args.services.map((s) => ({ name: s.name })),
        probes: args.services.map((s) => ({ name: s.name, protocol: "Http", port: s.port, requestPath: s.healthPath, intervalInSeconds: 15, numberOfProbes: 2 })),
        loadBalancingRules: args.services.map((s) => ({
          name: s.name,
          frontendIPConfiguration: ref("frontendIPConfigurations", s.name),
          backendAddressPool: ref("backendAddressPools", s.name),
          probe: ref("probes", s.name),
          protocol: "Tcp",
          frontendPort,
          backendPort: s.port,
          enableTcpReset: true,
          idleTimeoutInMinutes: 4,
          // Outbound traffic leaves through the NAT gateway, never through this load balancer.
          disableOutboundSnat: true,
        })),
        tags,
      },
      parent,
    );
    const zone = new privatedns.PrivateZone(`${name}-zone`, { resourceGroupName, privateZoneName: args.zoneName, location: "Global", tags }, parent);
    new privatedns.VirtualNetworkLink(
      `${name}-zone-link`,
      { resourceGroupName, privateZoneName: zone.name, virtualNetworkLinkName: `${name}-vnet`, location: "Global", virtualNetwork: { id: args.virtualNetworkId }, registrationEnabled: false, tags },
      parent,
    );
    const privateIps = Object.fromEntries(
      args.services.map((s) => [
        s.name,
        loadBalancer.frontendIPConfigurations.apply((frontends) => {
          const address = frontends?.find((f) => f.name === s.name)?.privateIPAddress;
          if (!address) throw new Error(`ServiceDiscovery ${name}: the load balancer returned no address for frontend ${s.name}. Fix: check the subnet has free addresses`);
          return address;
        }),
      ]),
    );
    const records = args.services.map(
      (s) => new privatedns.PrivateRecordSet(`${name}-${s.name}`, { resourceGroupName, privateZoneName: zone.name, recordType: "A", relativeRecordSetName: s.name, ttl: DISCOVERY_TTL_SECONDS, aRecords: [{ ipv4Address: privateIps[s.name]! }] }, parent),
    );

    this.backendPoolIds = Object.fromEntries(args.services.map((s) => [s.name, ref("backendAddressPools", s.name).id]));
    this.urls = Object.fromEntries(args.services.map((s) => [s.name, `http://${s.name}.${args.zoneName}${frontendPort === 80 ? "" : `:${frontendPort}`}`]));
    this.domain = args.zoneName;
    this.privateIps = privateIps;
    this.nodes = { loadBalancer, zone, records };
    this.registerOutputs({ urls: this.urls, domain: this.domain, privateIps });
  }
}
