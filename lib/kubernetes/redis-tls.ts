import type { LandingZonePlan } from "../plan/types.js";
import { certificateAuthorityManifests, serverCertificate } from "./key-value.js";
import { assertKubernetesName } from "./labels.js";
import { redisDnsNames } from "./redis.js";
import type { ManifestObject } from "./types.js";

/** The `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`, `ca.crt`) a TLS Redis reads (`RedisOptions.tlsSecretName`). */
export function redisTlsSecretName(name: string): string {
  return `${name}-tls`;
}

/** The CA (Secret and Issuer) that signs a TLS Redis's certificate, beside it in its namespace. */
export function redisCaName(name: string): string {
  return `${name}-ca`;
}

/**
 * What a TLS-only Redis `name` outside the data namespace needs from cert-manager: its own CA in
 * its namespace (`certificateAuthorityManifests`; a namespaced Issuer cannot sign for another
 * namespace, and copying the data CA's key here would let this namespace forge every data store's
 * certificate) and its server certificate (`serverCertificate`, the key and lifetime the data
 * stores' share) for `redisDnsNames`, into {@link redisTlsSecretName}, whose `ca.crt` clients verify with.
 *
 * @example
 * const tls = redisTlsManifests(plan, { name: "sessions", namespace: "shop" });
 * const redis = redisManifests(plan, { name: "sessions", namespace: "shop", passwordSecretName: "sessions-password", memoryGiB: 1, replicas: 1, tlsSecretName: redisTlsSecretName("sessions") });
 */
export function redisTlsManifests(plan: LandingZonePlan, options: { readonly name: string; readonly namespace: string }): ManifestObject[] {
  const { name, namespace } = options;
  assertKubernetesName("redisTlsManifests options.name", name);
  assertKubernetesName("redisTlsManifests options.namespace", namespace);
  return [
    ...certificateAuthorityManifests(plan, namespace, redisCaName(name)),
    serverCertificate(plan, { namespace, issuerName: redisCaName(name), secretName: redisTlsSecretName(name), owner: name, dnsNames: redisDnsNames(name, namespace) }),
  ];
}
