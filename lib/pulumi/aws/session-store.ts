import * as pulumi from "@pulumi/pulumi";
import type { RedisPlan } from "../../plan/types.js";
import { ManagedRedis, managedRedisArgsFromPlan, type ManagedRedisArgs, type RedisPlacement } from "./managed-redis.js";

/** Arguments of {@link SessionStore}: those of the managed Redis it is made of. */
export type SessionStoreArgs = ManagedRedisArgs;

/** Maps a plan's sessions entry plus its placement to {@link SessionStoreArgs}. */
export function sessionStoreArgsFromPlan(plan: RedisPlan, placement: RedisPlacement, retain: boolean): SessionStoreArgs {
  return { ...managedRedisArgsFromPlan(plan, placement, retain), description: "Session store" };
}

/**
 * The session store services and the gateway share: ElastiCache Redis with TLS required, an auth token in
 * Secrets Manager, encryption at rest, reachable only from `allowedSecurityGroupIds`.
 *
 * Cost: ElastiCache nodes are billed hourly, (1 + replicas) × nodeType.
 *
 * @example
 * const sessions = new SessionStore("sessions", {
 *   vpcId: network.vpcId,
 *   subnetIds: network.isolatedSubnetIds,
 *   allowedSecurityGroupIds: [cluster.nodeSecurityGroupId],
 *   retain: true,
 * });
 */
export class SessionStore extends pulumi.ComponentResource {
  /** The underlying cache; its children are the escape hatch. */
  readonly redis: ManagedRedis;
  readonly endpoint: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly securityGroupId: pulumi.Output<string>;
  readonly authTokenSecretArn: pulumi.Output<string>;
  /** The auth token, as a Pulumi secret. */
  readonly authToken: pulumi.Output<string>;

  constructor(name: string, args: SessionStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("msa:aws:SessionStore", name, {}, opts);
    this.redis = new ManagedRedis(`${name}-cache`, { description: `${name} sessions`, ...args }, { parent: this });
    this.endpoint = this.redis.endpoint;
    this.port = this.redis.port;
    this.securityGroupId = this.redis.securityGroupId;
    this.authTokenSecretArn = this.redis.authTokenSecretArn;
    this.authToken = this.redis.authToken;
    this.registerOutputs({
      endpoint: this.endpoint,
      port: this.port,
      securityGroupId: this.securityGroupId,
      authTokenSecretArn: this.authTokenSecretArn,
    });
  }

  /** An IAM policy document that lets a principal read the session store's auth token. */
  readAuthTokenPolicyDocument(): pulumi.Output<string> {
    return this.redis.readAuthTokenPolicyDocument();
  }
}
