import type { LandingZonePlan } from "../plan/types.js";
import { DATA_CA_KEY } from "./data-ca.js";
import { workloadNamespace } from "./namespace.js";
import { REDIS_PORT } from "./redis.js";
import { redisTlsSecretName } from "./redis-tls.js";
import { PLATFORM_ENV, SESSION_CA_DIRECTORY } from "./workload.js";

/** Name of the landing zone's session Redis (StatefulSet and the Service reaching its primary) on an existing cluster. */
export const SESSION_STORE_NAME = "sessions";
/** The file `SESSION_STORE_CA_FILE` names in a service's pods. */
export const SESSION_CA_FILE = `${SESSION_CA_DIRECTORY}/${DATA_CA_KEY}`;

/** Whether the landing zone runs its session store inside the cluster: Redis sessions on an existing cluster. */
export function clusterSessionStore(plan: LandingZonePlan): boolean {
  return plan.cloud === "kubernetes" && plan.sessions?.engine === "redis";
}

/** The Secret whose `ca.crt` every service mounts to verify the in-cluster session store (`WorkloadOptions.sessionCaSecret`); none without one. */
export function clusterSessionCaSecret(plan: LandingZonePlan): string | undefined {
  return clusterSessionStore(plan) ? redisTlsSecretName(SESSION_STORE_NAME) : undefined;
}

/**
 * The session store's half of the platform contract on an existing cluster: its endpoint, TLS only,
 * and the CA file to verify it with (mounted from {@link clusterSessionCaSecret}); the password goes
 * through the service's Secret. Empty without an in-cluster session store.
 */
export function clusterSessionStoreEnv(plan: LandingZonePlan): Record<string, string> {
  if (!clusterSessionStore(plan)) return {};
  return {
    [PLATFORM_ENV.sessionStoreEndpoint]: `${SESSION_STORE_NAME}.${workloadNamespace(plan)}.svc.cluster.local:${REDIS_PORT}`,
    [PLATFORM_ENV.sessionStoreTls]: "true",
    [PLATFORM_ENV.sessionStoreCaFile]: SESSION_CA_FILE,
  };
}
