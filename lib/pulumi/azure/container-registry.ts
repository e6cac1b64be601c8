import type * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as containerregistry from "@pulumi/azure-native/containerregistry/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { ServicePlan } from "../../plan/types.js";
import { sendDiagnostics } from "./diagnostics.js";
import { privateEndpoint } from "./private-endpoint.js";
import { grantRole } from "./roles.js";

/** Days untagged manifests stay in a Premium registry. */
export const REGISTRY_UNTAGGED_RETENTION_DAYS = 30;

/** A service's planned image: its repository in the registry, or the plan's image as it is when it names another registry. */
export function plannedImage(service: Pick<ServicePlan, "image" | "repository">, loginServer: pulumi.Input<string>): pulumi.Output<string> {
  return service.image.startsWith(`${service.repository}:`) ? pulumi.interpolate`${loginServer}/${service.image}` : pulumi.output(service.image);
}

/** Arguments of {@link ContainerRegistry}. */
export interface ContainerRegistryArgs {
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /** Globally unique registry name (5-50 letters and digits); the host is `<name>.azurecr.io`. */
  readonly registryName: pulumi.Input<string>;
  /** Premium allows private endpoints, zone redundancy and retention; Standard is reached over its public endpoint with Entra ID only. */
  readonly sku: "Premium" | "Standard";
  /**
   * A private endpoint (Premium only); the registry's public endpoint is then disabled.
   * @default - none
   */
  readonly privateEndpoint?: { readonly subnetId: pulumi.Input<string>; readonly privateDnsZoneId: pulumi.Input<string> };
  /**
   * Log Analytics workspace of the registry's login and repository events.
   * @default - no diagnostics
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /**
   * Protect the registry and keep it (and its images) when the stack is destroyed.
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on the registry and its endpoint.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches the registry's args before it is created.
   * @default - none
   */
  readonly transform?: { readonly registry?: (args: containerregistry.RegistryArgs) => void };
}

/**
 * The Azure Container Registry of the services' images (one repository per service, created on
 * first push): Entra ID tokens only (no admin user, no anonymous pull), private in prod (Premium,
 * private endpoint, no export), zone-redundant with untagged-manifest retention on Premium. Only
 * the identities given `grantPull` may pull; pushes belong to the delivery pipelines.
 *
 * Cost: the registry bills daily by SKU (Premium about 5x Standard), plus storage beyond the included quota.
 *
 * @example
 * const registry = new ContainerRegistry("images", { resourceGroupName: group.name, location: "eastus", registryName: "shopprodimages", sku: "Standard" });
 * registry.grantPull("kubelet-pull", kubeletPrincipalId, registry);
 */
export class ContainerRegistry extends pulumi.ComponentResource {
  /** `<name>.azurecr.io`. */
  readonly loginServer: pulumi.Output<string>;
  readonly registryId: pulumi.Output<string>;
  readonly nodes: { readonly registry: containerregistry.Registry };

  constructor(name: string, args: ContainerRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    if (args.privateEndpoint && args.sku !== "Premium") {
      throw new Error(`ContainerRegistry ${name}: sku "${args.sku}" has no private endpoints. Fix: use sku Premium or drop privateEndpoint`);
    }
    super("msa:azure:ContainerRegistry", name, {}, opts);
    const tags = { ...args.tags };
    const premium = args.sku === "Premium";
    const isPrivate = args.privateEndpoint !== undefined;
    const registryArgs: containerregistry.RegistryArgs = {
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      registryName: args.registryName,
      sku: { name: args.sku },
      // Entra ID tokens only: no shared admin password, no anonymous pulls.
      adminUserEnabled: false,
      anonymousPullEnabled: false,
      publicNetworkAccess: isPrivate ? "Disabled" : "Enabled",
      networkRuleBypassOptions: "AzureServices",
      ...(premium
        ? {
            zoneRedundancy: "Enabled",
            policies: {
              retentionPolicy: { days: REGISTRY_UNTAGGED_RETENTION_DAYS, status: "enabled" },
              // Images cannot be exported out of a registry that is closed to the internet.
              ...(isPrivate ? { exportPolicy: { status: "disabled" } } : {}),
            },
          }
        : {}),
      tags,
    };
    args.transform?.registry?.(registryArgs);
    const registry = new containerregistry.Registry(`${name}-registry`, registryArgs, { parent: this, ...(args.retain ? { protect: true, retainOnDelete: true } : {}) });
    if (args.privateEndpoint) {
      privateEndpoint(`${name}-endpoint`, { resourceGroupName: args.resourceGroupName, subnetId: args.privateEndpoint.subnetId, resourceId: registry.id, group: "registry", privateDnsZoneId: args.privateEndpoint.privateDnsZoneId, tags }, this);
    }
    if (args.logWorkspaceId) sendDiagnostics(`${name}-diagnostics`, registry.id, args.logWorkspaceId, this);
    this.loginServer = registry.loginServer;
    this.registryId = registry.id;
    this.nodes = { registry };
    this.registerOutputs({ loginServer: this.loginServer, registryId: this.registryId });
  }

  /** AcrPull (pull only) on this registry for one principal, as a child of `parent`. */
  grantPull(name: string, principalId: pulumi.Input<string>, parent: pulumi.Resource): authorization.RoleAssignment {
    return grantRole(name, { role: "acrPull", scope: this.registryId, principalId }, { parent });
  }
}
