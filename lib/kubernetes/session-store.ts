import type { LandingZonePlan } from "../plan/types.js";
import { DATA_CA_KEY } from "./data-ca.js";
import { documentServices } from "./document.js";
import { CERT_MANAGER_NAMESPACE, certManagerReleases, keyValueServices } from "./key-value.js";
import { workloadNamespace } from "./namespace.js";
import { REDIS_PORT } from "./redis.js";
import { redisTlsSecretName } from "./redis-tls.js";
import type { AddOn } from "./types.js";
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

/**
 * cert-manager for the session store's certificate, where nothing else installs it: undefined when a
 * key-value or document store's add-on already brings it (one release per cluster), when the spec
 * reuses the cluster's own (`kubernetes.certManager.install: false`) or without an in-cluster session store.
 * Cost note: cert-manager requests 50m CPU and 64 MiB.
 *
 * @example
 * const certManager = sessionCertManagerAddOn(plan); // apply before the session store's certificate
 */
export function sessionCertManagerAddOn(plan: LandingZonePlan): AddOn | undefined {
  if (!clusterSessionStore(plan) || keyValueServices(plan).length > 0 || documentServices(plan).length > 0) return undefined;
  const helmReleases = certManagerReleases(plan);
  if (helmReleases.length === 0) return undefined;
  return { name: "cert-manager", namespace: CERT_MANAGER_NAMESPACE, helmReleases, manifests: [], dependsOn: [] };
}
