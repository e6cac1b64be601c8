import type { LandingZonePlan } from "../plan/types.js";
import { dataTrustAddOn, trustManagerInstalled } from "./data-trust.js";
import { documentServices } from "./document.js";
import { CERT_MANAGER_ADD_ON, CERT_MANAGER_NAMESPACE, certManagerReleases, keyValueServices } from "./key-value.js";
import { clusterSessionStore } from "./session-store.js";
import type { AddOn } from "./types.js";

/**
 * cert-manager, installed once for everything on the cluster that needs it: the data CA and the
 * store certificates of key-value and document stores, the session store's certificate, and
 * trust-manager's webhook certificate (its chart renders a cert-manager Issuer and Certificate).
 * Undefined when nothing needs it, or when the spec reuses the cluster's own
 * (`kubernetes.certManager.install: false`, whose CRDs must then exist). Apply it before every
 * add-on naming {@link CERT_MANAGER_ADD_ON} in `dependsOn` and before the session store.
 * Cost note: cert-manager requests 50m CPU and 64 MiB.
 *
 * @example
 * const certManager = clusterCertManagerAddOn(plan); // apply first; key-value, document and data-trust wait for it
 */
export function clusterCertManagerAddOn(plan: LandingZonePlan): AddOn | undefined {
  const trustManager = trustManagerInstalled(plan) && dataTrustAddOn(plan) !== undefined;
  const needed = trustManager || keyValueServices(plan).length > 0 || documentServices(plan).length > 0 || clusterSessionStore(plan);
  const helmReleases = needed ? certManagerReleases(plan) : [];
  if (helmReleases.length === 0) return undefined;
  return { name: CERT_MANAGER_ADD_ON, namespace: CERT_MANAGER_NAMESPACE, helmReleases, manifests: [], dependsOn: [] };
}
