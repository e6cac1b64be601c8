import { Validations } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { ManagedRedis, type ManagedRedisProps } from "./managed-redis.js";

/**
 * Props of a session store: those of `ManagedRedis` without the description, which names the
 * capability. Every prop keeps `ManagedRedis`'s default (one replica, Multi-AZ, retained).
 */
export type SessionStoreProps = Omit<ManagedRedisProps, "description">;

/**
 * The sessions capability: an ElastiCache Redis replication group, private, TLS-only, encrypted at
 * rest and guarded by an AUTH token kept in Secrets Manager. Cost note: ElastiCache nodes are billed
 * hourly, two by default (primary and a replica in another zone).
 *
 * @example
 * const sessions = new SessionStore(stack, "Sessions", { vpc, allowFrom: [cluster] });
 * sessions.authToken.grantRead(appRole);
 */
export class SessionStore extends ManagedRedis {
  constructor(scope: Construct, id: string, props: SessionStoreProps) {
    super(scope, id, { ...props, description: "Session store" });
    if ((props.snapshotRetentionDays ?? 1) < 15) {
      Validations.of(this.replicationGroup).acknowledge({
        id: "NIST.800.53.R5::NIST.800.53.R5-ElastiCacheRedisClusterAutomaticBackup",
        reason: "Sessions expire within hours and are recreated by signing in again; snapshots older than a few days would restore only expired sessions while keeping their tokens at rest longer.",
      });
    }
  }
}
