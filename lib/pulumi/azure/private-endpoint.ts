import * as network from "@pulumi/azure-native/network/index.js";
import type * as pulumi from "@pulumi/pulumi";

/** Private DNS zone of each private-link service the landing zone uses, keyed by the endpoint's group id. */
export const PRIVATE_DNS_ZONES = {
  registry: "privatelink.azurecr.io",
  redisCache: "privatelink.redis.cache.windows.net",
  vault: "privatelink.vaultcore.azure.net",
  namespace: "privatelink.servicebus.windows.net",
  sites: "privatelink.azurewebsites.net",
  configurationStores: "privatelink.azconfig.io",
  Sql: "privatelink.documents.azure.com",
  blob: "privatelink.blob.core.windows.net",
} as const;

export type PrivateLinkGroup = keyof typeof PRIVATE_DNS_ZONES;

export interface PrivateEndpointArgs {
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Subnet the endpoint's network interface goes in. */
  readonly subnetId: pulumi.Input<string>;
  /** The resource reached through the endpoint. */
  readonly resourceId: pulumi.Input<string>;
  /** Sub-resource (group id) of the service, which also picks the private DNS zone. */
  readonly group: PrivateLinkGroup;
  /** Id of the private DNS zone of `group`, linked to the VNet, where the endpoint registers its A record. */
  readonly privateDnsZoneId: pulumi.Input<string>;
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * A private endpoint of a PaaS resource in the endpoints subnet, registered in the service's
 * private DNS zone so the resource's usual host name resolves to the private address inside the
 * VNet. Children of `parent`; shared by every component with a private data plane.
 */
export function privateEndpoint(name: string, args: PrivateEndpointArgs, parent: pulumi.Resource): network.PrivateEndpoint {
  const endpoint = new network.PrivateEndpoint(
    name,
    {
      resourceGroupName: args.resourceGroupName,
      subnet: { id: args.subnetId },
      privateLinkServiceConnections: [{ name, privateLinkServiceId: args.resourceId, groupIds: [args.group] }],
      ...(args.tags ? { tags: { ...args.tags } } : {}),
    },
    { parent },
  );
  new network.PrivateDnsZoneGroup(
    `${name}-dns`,
    {
      resourceGroupName: args.resourceGroupName,
      privateEndpointName: endpoint.name,
      privateDnsZoneGroupName: "default",
      privateDnsZoneConfigs: [{ name: PRIVATE_DNS_ZONES[args.group].replace(/\./g, "-"), privateDnsZoneId: args.privateDnsZoneId }],
    },
    { parent },
  );
  return endpoint;
}
