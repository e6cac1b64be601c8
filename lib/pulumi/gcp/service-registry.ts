import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { projectOf } from "./project.js";

/** Where a service registers itself, handed from {@link ServiceRegistry} to each service component. */
export interface RegistryLink {
  /** Service Directory namespace id (`projects/<p>/locations/<region>/namespaces/<id>`). */
  readonly namespaceId: pulumi.Input<string>;
  /** The VPC as Service Directory names it (`projects/<number>/locations/global/networks/<name>`), for endpoints with private addresses. */
  readonly network: pulumi.Input<string>;
  /** DNS suffix under which registered services resolve, e.g. `shop-prod.internal`. */
  readonly domain: string;
}

/** Arguments of {@link ServiceRegistry}. */
export interface ServiceRegistryArgs {
  /** Region of the namespace. */
  readonly region: string;
  /** Namespace id and DNS label, e.g. the landing zone and environment (`shop-prod`). */
  readonly namespace: string;
  /** The VPC whose resolvers answer for the registry's DNS zone. */
  readonly network: { readonly id: pulumi.Input<string>; readonly name: pulumi.Input<string> };
  /**
   * Labels on the namespace and the zone.
   * @default - none
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly zone?: (args: gcp.dns.ManagedZoneArgs) => void;
  };
}

/**
 * The service registry of VM and App Engine services (GKE uses cluster DNS): a Service Directory
 * namespace the services register in, and a private Cloud DNS zone `<namespace>.internal.` bound to
 * it, so every service registered with an address resolves as `<service>.<namespace>.internal`
 * inside the VPC. Registration is each service's own (its component creates its entry).
 *
 * Cost: Service Directory bills per registered service beyond the free tier; the private zone per month.
 *
 * @example
 * const registry = new ServiceRegistry("registry", { region, namespace: "shop-prod", network: { id: network.networkId, name: network.networkName } });
 * new InstanceGroupService("orders", { ..., discovery: registry.link });
 */
export class ServiceRegistry extends pulumi.ComponentResource {
  readonly link: RegistryLink;
  readonly namespace: gcp.servicedirectory.Namespace;
  readonly zone: gcp.dns.ManagedZone;

  constructor(name: string, args: ServiceRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(args.namespace)) throw new Error(`ServiceRegistry ${name}: namespace "${args.namespace}" is not a DNS label. Fix: use lowercase letters, digits and '-'`);
    super("msa:gcp:ServiceRegistry", name, {}, opts);
    const parent = { parent: this };
    const project = projectOf(this);
    const domain = `${args.namespace}.internal`;
    this.namespace = new gcp.servicedirectory.Namespace(`${name}-namespace`, { namespaceId: args.namespace, location: args.region, labels: { ...args.labels } }, parent);
    const zoneArgs: gcp.dns.ManagedZoneArgs = {
      dnsName: `${domain}.`,
      description: `Services of ${args.namespace}, answered from Service Directory`,
      visibility: "private",
      privateVisibilityConfig: { networks: [{ networkUrl: args.network.id }] },
      serviceDirectoryConfig: { namespace: { namespaceUrl: this.namespace.id } },
      labels: { ...args.labels },
    };
    args.transform?.zone?.(zoneArgs);
    this.zone = new gcp.dns.ManagedZone(`${name}-zone`, zoneArgs, parent);
    this.link = { namespaceId: this.namespace.id, network: pulumi.interpolate`projects/${project.number}/locations/global/networks/${args.network.name}`, domain };
    this.registerOutputs({ namespaceId: this.namespace.id, domain });
  }
}
