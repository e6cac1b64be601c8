import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { cidrContains, cidrsOverlap, parseCidr } from "../../plan/cidr.js";
import { GCP_HEALTH_CHECK_RANGES, GKE_SECONDARY_RANGES, gcpNetworkLayout, LOAD_BALANCER_BACKEND_TAG, type GcpNetworkLayout } from "../../plan/gcp.js";
import type { LandingZonePlan } from "../../plan/types.js";

/** Arguments of {@link Network}. */
export interface NetworkArgs {
  /** Region of the subnet, router and NAT. */
  readonly region: string;
  /**
   * IPv4 range of the VPC; the layout is carved from it.
   * @default "10.0.0.0/16"
   */
  readonly cidr?: string;
  /**
   * Secondary range for GKE pods.
   * @default "100.64.0.0/14"
   */
  readonly podsCidr?: string;
  /**
   * Secondary range for GKE Services.
   * @default "100.68.0.0/20"
   */
  readonly servicesCidr?: string;
  /**
   * Address plan: subnet, secondary ranges, private service access and control-plane ranges.
   * @default - `gcpNetworkLayout({ cidr, podsCidr, servicesCidr })`
   */
  readonly layout?: GcpNetworkLayout;
  /**
   * A Cloud Router with Cloud NAT, so VMs and nodes without external addresses reach the internet.
   * Cost: Cloud NAT bills per hour per VM using it and per GB processed.
   * @default true
   */
  readonly nat?: boolean;
  /**
   * VPC flow logs on the subnet (every flow, 5-second aggregation, all metadata).
   * Cost: flow logs bill per GB written to Cloud Logging.
   * @default true
   */
  readonly flowLogs?: boolean;
  /**
   * Peer the private service access range with Google's service producers (Memorystore, Cloud SQL).
   * @default true
   */
  readonly privateServiceAccess?: boolean;
  /**
   * TCP ports Google's load balancers and health checkers may reach on instances tagged LOAD_BALANCER_BACKEND_TAG.
   * @default - none: no rule admits the load balancer
   */
  readonly loadBalancerPorts?: readonly number[];
  /**
   * TCP ports Google's health checkers (alone: no load balancer routes there) probe on instances
   * tagged LOAD_BALANCER_BACKEND_TAG, e.g. the services' own ports that autohealing checks on VMs.
   * @default - none: no rule admits the health checkers beyond `loadBalancerPorts`
   */
  readonly healthCheckPorts?: readonly number[];
  /**
   * Keep the private service connection on delete (Google refuses to delete it while a producer still uses it).
   * @default true
   */
  readonly abandonPrivateServiceConnection?: boolean;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: {
    readonly network?: (args: gcp.compute.NetworkArgs) => void;
    readonly subnet?: (args: gcp.compute.SubnetworkArgs) => void;
    readonly router?: (args: gcp.compute.RouterArgs) => void;
    readonly nat?: (args: gcp.compute.RouterNatArgs) => void;
    /** Called for each firewall rule with its suffix (deny-all-ingress, allow-internal, allow-load-balancer, allow-health-check). */
    readonly firewall?: (args: gcp.compute.FirewallArgs, rule: string) => void;
    readonly privateServiceRange?: (args: gcp.compute.GlobalAddressArgs) => void;
  };
}

/** The raw children of a {@link Network}. */
export interface NetworkNodes {
  readonly network: gcp.compute.Network;
  readonly subnet: gcp.compute.Subnetwork;
  readonly router?: gcp.compute.Router;
  readonly nat?: gcp.compute.RouterNat;
  readonly firewalls: Readonly<Record<string, gcp.compute.Firewall>>;
  readonly privateServiceRange?: gcp.compute.GlobalAddress;
  readonly privateServiceConnection?: gcp.servicenetworking.Connection;
}

/**
 * Maps a plan to {@link NetworkArgs}: its region, ranges, NAT choice, flow logs, the ports Google's
 * load balancers reach (the exposed services', or the edge proxies' in front of them) and, on VMs,
 * every service's own port for the health checks autohealing (and any internal load balancer) runs.
 */
export function networkArgsFromPlan(plan: LandingZonePlan): NetworkArgs {
  const sorted = (ports: readonly number[]) => [...new Set(ports)].sort((a, b) => a - b);
  return {
    region: plan.region,
    cidr: plan.network.cidr,
    podsCidr: plan.network.podsCidr,
    servicesCidr: plan.network.servicesCidr,
    nat: plan.network.natGateways > 0,
    flowLogs: plan.network.flowLogs,
    // Behind edge proxies the load balancer reaches only the proxies' port; the services' ports stay closed to it.
    loadBalancerPorts: sorted([...plan.services.filter((s) => s.expose && !plan.edgeProxy).map((s) => s.port), ...(plan.edgeProxy ? [plan.edgeProxy.port] : [])]),
    // Every managed instance group autoheals on an HTTP check of the service's own port, exposed or not.
    healthCheckPorts: plan.tier === "iaas" ? sorted(plan.services.map((s) => s.port)) : [],
  };
}

/**
 * A custom-mode VPC with one regional subnet (secondary ranges for GKE pods and Services, Private
 * Google Access, flow logs), a Cloud Router with Cloud NAT, firewall rules that deny ingress by
 * default and admit only internal traffic and Google's load balancer ranges, and a private service
 * access range peered with Google's managed services.
 *
 * @example
 * const network = new Network("shop", { region: "asia-northeast3", cidr: "10.0.0.0/16", loadBalancerPorts: [8080] });
 * export const subnet = network.subnetworkId;
 */
export class Network extends pulumi.ComponentResource {
  readonly networkId: pulumi.Output<string>;
  readonly networkSelfLink: pulumi.Output<string>;
  /** Network name, as Memorystore's and App Engine's `network` fields want it. */
  readonly networkName: pulumi.Output<string>;
  readonly subnetworkId: pulumi.Output<string>;
  readonly subnetworkSelfLink: pulumi.Output<string>;
  readonly subnetworkName: pulumi.Output<string>;
  /** Secondary range names for GKE's ipAllocationPolicy. */
  readonly podsRangeName: string;
  readonly servicesRangeName: string;
  /** Name of the private service access range (Memorystore `reservedIpRange`, Cloud SQL `allocatedIpRange`); undefined when off. */
  readonly privateServiceRangeName?: pulumi.Output<string>;
  /** Resources a private-IP data store waits for (the peering); empty when private service access is off. */
  readonly privateServiceAccess: readonly pulumi.Resource[];
  readonly region: string;
  readonly layout: GcpNetworkLayout;
  readonly nodes: NetworkNodes;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    // Bad input is rejected before anything is registered.
    const layout = args.layout ?? gcpNetworkLayout({ cidr: args.cidr ?? "10.0.0.0/16", podsCidr: args.podsCidr ?? "100.64.0.0/14", servicesCidr: args.servicesCidr ?? "100.68.0.0/20" });
    checkLayout(name, args.cidr ?? "10.0.0.0/16", layout);
    for (const key of ["loadBalancerPorts", "healthCheckPorts"] as const) {
      for (const port of args[key] ?? []) {
        if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`Network ${name}: ${key} has ${port}. Fix: use TCP ports from 1 to 65535`);
      }
    }
    super("msa:gcp:Network", name, {}, opts);
    const parent = { parent: this };
    this.region = args.region;
    this.layout = layout;

    const networkArgs: gcp.compute.NetworkArgs = { autoCreateSubnetworks: false, routingMode: "REGIONAL", description: `VPC of ${name}` };
    args.transform?.network?.(networkArgs);
    const network = new gcp.compute.Network(`${name}-vpc`, networkArgs, parent);

    const subnetArgs: gcp.compute.SubnetworkArgs = {
      network: network.id,
      region: args.region,
      ipCidrRange: layout.subnet,
      secondaryIpRanges: [
        { rangeName: GKE_SECONDARY_RANGES.pods, ipCidrRange: layout.pods },
        { rangeName: GKE_SECONDARY_RANGES.services, ipCidrRange: layout.services },
      ],
      // Google APIs (Artifact Registry, Secret Manager, Pub/Sub) stay reachable without external addresses.
      privateIpGoogleAccess: true,
      ...(args.flowLogs ?? true ? { logConfig: { aggregationInterval: "INTERVAL_5_SEC", flowSampling: 1, metadata: "INCLUDE_ALL_METADATA" } } : {}),
    };
    args.transform?.subnet?.(subnetArgs);
    const subnet = new gcp.compute.Subnetwork(`${name}-subnet`, subnetArgs, parent);

    let router: gcp.compute.Router | undefined;
    let nat: gcp.compute.RouterNat | undefined;
    if (args.nat ?? true) {
      const routerArgs: gcp.compute.RouterArgs = { network: network.id, region: args.region };
      args.transform?.router?.(routerArgs);
      router = new gcp.compute.Router(`${name}-router`, routerArgs, parent);
      const natArgs: gcp.compute.RouterNatArgs = {
        router: router.name,
        region: args.region,
        natIpAllocateOption: "AUTO_ONLY",
        // Nodes, VMs and pods (secondary ranges) all egress through the NAT.
        sourceSubnetworkIpRangesToNat: "ALL_SUBNETWORKS_ALL_IP_RANGES",
        enableDynamicPortAllocation: true,
        enableEndpointIndependentMapping: false,
        logConfig: { enable: true, filter: "ERRORS_ONLY" },
      };
      args.transform?.nat?.(natArgs);
      nat = new gcp.compute.RouterNat(`${name}-nat`, natArgs, parent);
    }

    const firewalls: Record<string, gcp.compute.Firewall> = {};
    const firewall = (rule: string, ruleArgs: gcp.compute.FirewallArgs) => {
      args.transform?.firewall?.(ruleArgs, rule);
      firewalls[rule] = new gcp.compute.Firewall(`${name}-${rule}`, ruleArgs, parent);
    };
    // Below every allow rule and above GCP's implied deny, so denied attempts are logged.
    firewall("deny-all-ingress", {
      network: network.id,
      direction: "INGRESS",
      priority: 65534,
      sourceRanges: ["0.0.0.0/0"],
      denies: [{ protocol: "all" }],
      logConfig: { metadata: "INCLUDE_ALL_METADATA" },
      description: "Deny all ingress not allowed by a rule above",
    });
    firewall("allow-internal", {
      network: network.id,
      direction: "INGRESS",
      priority: 1000,
      sourceRanges: [layout.subnet, layout.pods],
      allows: [{ protocol: "tcp" }, { protocol: "udp" }, { protocol: "icmp" }],
      description: "Nodes, VMs and pods of the subnet reach each other; NetworkPolicies narrow it inside GKE",
    });
    const ports = args.loadBalancerPorts ?? [];
    if (ports.length > 0) {
      firewall("allow-load-balancer", {
        network: network.id,
        direction: "INGRESS",
        priority: 1000,
        sourceRanges: [...GCP_HEALTH_CHECK_RANGES],
        targetTags: [LOAD_BALANCER_BACKEND_TAG],
        allows: [{ protocol: "tcp", ports: ports.map(String) }],
        description: "Google's load balancer proxies and health checkers reach the services' ports",
      });
    }
    const probed = args.healthCheckPorts ?? [];
    if (probed.length > 0) {
      firewall("allow-health-check", {
        network: network.id,
        direction: "INGRESS",
        priority: 1000,
        sourceRanges: [...GCP_HEALTH_CHECK_RANGES],
        targetTags: [LOAD_BALANCER_BACKEND_TAG],
        allows: [{ protocol: "tcp", ports: probed.map(String) }],
        description: "Google's health checkers probe the services' own ports (autohealing, internal load balancers); no load balancer routes there",
      });
    }

    let privateServiceRange: gcp.compute.GlobalAddress | undefined;
    let privateServiceConnection: gcp.servicenetworking.Connection | undefined;
    if (args.privateServiceAccess ?? true) {
      const rangeArgs: gcp.compute.GlobalAddressArgs = {
        network: network.id,
        purpose: "VPC_PEERING",
        addressType: "INTERNAL",
        address: layout.privateServiceAccess.address,
        prefixLength: layout.privateServiceAccess.prefixLength,
        description: `Private service access range of ${name} (Memorystore, Cloud SQL)`,
      };
      args.transform?.privateServiceRange?.(rangeArgs);
      privateServiceRange = new gcp.compute.GlobalAddress(`${name}-private-services`, rangeArgs, parent);
      privateServiceConnection = new gcp.servicenetworking.Connection(
        `${name}-private-services`,
        {
          network: network.id,
          service: "servicenetworking.googleapis.com",
          reservedPeeringRanges: [privateServiceRange.name],
          ...(args.abandonPrivateServiceConnection ?? true ? { deletionPolicy: "ABANDON" } : {}),
        },
        parent,
      );
      this.privateServiceRangeName = privateServiceRange.name;
    }

    this.networkId = network.id;
    this.networkSelfLink = network.selfLink;
    this.networkName = network.name;
    this.subnetworkId = subnet.id;
    this.subnetworkSelfLink = subnet.selfLink;
    this.subnetworkName = subnet.name;
    this.podsRangeName = GKE_SECONDARY_RANGES.pods;
    this.servicesRangeName = GKE_SECONDARY_RANGES.services;
    this.privateServiceAccess = privateServiceConnection ? [privateServiceConnection] : [];
    this.nodes = {
      network,
      subnet,
      firewalls,
      ...(router ? { router } : {}),
      ...(nat ? { nat } : {}),
      ...(privateServiceRange ? { privateServiceRange } : {}),
      ...(privateServiceConnection ? { privateServiceConnection } : {}),
    };
    this.registerOutputs({ networkId: this.networkId, subnetworkId: this.subnetworkId });
  }
}

function checkLayout(name: string, cidr: string, layout: GcpNetworkLayout): void {
  const vpc = parseCidr(cidr);
  for (const key of ["subnet", "controlPlane"] as const) {
    if (!cidrContains(vpc, parseCidr(layout[key]))) throw new Error(`Network ${name}: layout.${key} ${layout[key]} is outside the VPC range ${cidr}. Fix: pick a range inside ${cidr}`);
  }
  const ranges = { subnet: layout.subnet, pods: layout.pods, services: layout.services, privateServiceAccess: layout.privateServiceAccess.cidr, controlPlane: layout.controlPlane };
  const entries = Object.entries(ranges);
  entries.forEach(([a, x], i) =>
    entries.slice(i + 1).forEach(([b, y]) => {
      if (cidrsOverlap(parseCidr(x), parseCidr(y))) throw new Error(`Network ${name}: layout.${b} ${y} overlaps layout.${a} ${x}. Fix: give every range its own addresses`);
    }),
  );
}
