import * as redis from "@pulumi/azure-native/redis/index.js";
import * as pulumi from "@pulumi/pulumi";
import { PLATFORM_ENV } from "../../kubernetes/workload.js";
import { redisSku } from "../../plan/azure.js";
import type { RedisPlan } from "../../plan/types.js";
import { sendDiagnostics } from "./diagnostics.js";
import { privateEndpoint } from "./private-endpoint.js";
import type { ServiceAccess } from "./service-workload.js";

/** TLS port of Azure Cache for Redis; the plain port is closed. */
export const REDIS_TLS_PORT = 6380;
/** The built-in access policy services get: read and write data, no administrative commands (FLUSHALL, CONFIG...). */
export const REDIS_ACCESS_POLICY = "Data Contributor";
/** How services authenticate to the store: with their own identity's Entra ID token, not a password (beside the shared session-store contract). */
export const SESSION_STORE_AUTH_ENV = "SESSION_STORE_AUTH";

/** Arguments of {@link SessionStore}. */
export interface SessionStoreArgs {
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /** Globally unique cache name (the host is `<name>.redis.cache.windows.net`). */
  readonly cacheName: pulumi.Input<string>;
  /** Size and replicas (`plan.sessions`): node type `Standard_C<n>` or `Premium_P<n>`, replicas, multi-zone. */
  readonly sessions: RedisPlan;
  /** The only way in: public network access is disabled. */
  readonly privateEndpoint: { readonly subnetId: pulumi.Input<string>; readonly privateDnsZoneId: pulumi.Input<string> };
  /**
   * Zones a Premium cache spreads its nodes over when `sessions.multiAz`.
   * @default - no zone pinning
   */
  readonly zones?: readonly string[];
  /**
   * Log Analytics workspace of the cache's logs and metrics.
   * @default - no diagnostics
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /**
   * Protect the cache and keep it when the stack is destroyed.
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on the cache and its endpoint.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches the cache's args before it is created.
   * @default - none
   */
  readonly transform?: { readonly cache?: (args: redis.RedisArgs) => void };
}

/**
 * The central session store scaled-out services share: Azure Cache for Redis reachable only
 * through a private endpoint, TLS 1.2+ on 6380 with the plain port closed, and Entra ID
 * authentication only (access keys disabled): each service's identity gets the Data Contributor
 * access policy, so there is no shared password to hand out or rotate.
 *
 * Cost: the cache bills hourly by size; Premium (prod) per shard and replica.
 *
 * @example
 * const sessions = new SessionStore("sessions", { resourceGroupName: group.name, location: "eastus", cacheName: "shop-prod-sessions-1a2b3c",
 *   sessions: plan.sessions!, privateEndpoint: { subnetId: network.subnetIds.endpoints, privateDnsZoneId: zoneId } });
 */
export class SessionStore extends pulumi.ComponentResource implements ServiceAccess {
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  /** `<host>:6380`. */
  readonly endpoint: pulumi.Output<string>;
  readonly cacheId: pulumi.Output<string>;
  readonly nodes: { readonly cache: redis.Redis };
  private readonly cacheName: pulumi.Output<string>;
  private readonly resourceGroupName: pulumi.Input<string>;
  private lastGrant?: pulumi.Resource;

  constructor(name: string, args: SessionStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    const sku = redisSku(args.sessions.nodeType);
    if (args.sessions.engine !== "redis") {
      throw new Error(`SessionStore ${name}: sessions.engine "${args.sessions.engine}" is not offered by Azure Cache for Redis. Fix: use auth.sessions: redis`);
    }
    if (sku.name === "Basic" && args.sessions.replicas > 0) {
      throw new Error(`SessionStore ${name}: sessions.nodeType ${args.sessions.nodeType} has no replicas. Fix: use a Standard or Premium size`);
    }
    super("msa:azure:SessionStore", name, {}, opts);
    const tags = { ...args.tags };
    const premium = sku.name === "Premium";
    const cacheArgs: redis.RedisArgs = {
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      name: args.cacheName,
      sku: { ...sku },
      redisVersion: "6",
      enableNonSslPort: false,
      minimumTlsVersion: "1.2",
      publicNetworkAccess: "Disabled",
      // Entra ID tokens only: no access key exists that could leak or need rotating.
      disableAccessKeyAuthentication: true,
      // Sessions carry a TTL; under memory pressure the ones closest to expiry go first.
      redisConfiguration: { aadEnabled: "true", maxmemoryPolicy: "volatile-lru" },
      ...(premium ? { replicasPerPrimary: Math.max(1, args.sessions.replicas) } : {}),
      ...(premium && args.sessions.multiAz && args.zones ? { zones: [...args.zones] } : {}),
      tags,
    };
    args.transform?.cache?.(cacheArgs);
    const cache = new redis.Redis(`${name}-cache`, cacheArgs, { parent: this, ...(args.retain ? { protect: true, retainOnDelete: true } : {}) });
    privateEndpoint(`${name}-endpoint`, { resourceGroupName: args.resourceGroupName, subnetId: args.privateEndpoint.subnetId, resourceId: cache.id, group: "redisCache", privateDnsZoneId: args.privateEndpoint.privateDnsZoneId, tags }, this);
    if (args.logWorkspaceId) sendDiagnostics(`${name}-diagnostics`, cache.id, args.logWorkspaceId, this);

    this.cacheName = cache.name;
    this.resourceGroupName = args.resourceGroupName;
    this.cacheId = cache.id;
    this.host = cache.hostName;
    this.port = pulumi.output(REDIS_TLS_PORT);
    this.endpoint = pulumi.interpolate`${cache.hostName}:${REDIS_TLS_PORT}`;
    this.nodes = { cache };
    this.registerOutputs({ host: this.host, port: this.port, endpoint: this.endpoint });
  }

  /** The service's identity gets the Data Contributor access policy, nothing more. */
  grantAccess(service: string, principalId: pulumi.Input<string>, parent: pulumi.Resource): pulumi.Resource[] {
    const assignment = new redis.AccessPolicyAssignment(
      `${service}-sessions-access`,
      { resourceGroupName: this.resourceGroupName, cacheName: this.cacheName, accessPolicyAssignmentName: service, accessPolicyName: REDIS_ACCESS_POLICY, objectId: principalId, objectIdAlias: service },
      // The cache takes one access-policy change at a time.
      { parent, ...(this.lastGrant ? { dependsOn: [this.lastGrant] } : {}) },
    );
    this.lastGrant = assignment;
    return [assignment];
  }

  /** The shared session-store contract (endpoint, TLS) and the authentication mode; there is no password to hand out. */
  environment(): Record<string, pulumi.Input<string>> {
    return { [PLATFORM_ENV.sessionStoreEndpoint]: this.endpoint, [PLATFORM_ENV.sessionStoreTls]: "true", [SESSION_STORE_AUTH_ENV]: "entra-id" };
  }
}
