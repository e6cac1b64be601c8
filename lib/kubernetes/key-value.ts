import { Certificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate";
import { Issuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { z } from "zod";
import type { DatabasePlan, LandingZonePlan, ServicePlan } from "../plan/types.js";
import { customResourceMetadata, validatedCustomResource } from "./custom-resource.js";
import { databaseCredentialsSecretName, dataNamespace, instancesOf } from "./database.js";
import { assertKubernetesName, MANAGED_BY, selectorFor } from "./labels.js";
import { workloadNamespace } from "./namespace.js";
import { REDIS_PORT, redisDnsNames, redisManifests } from "./redis.js";
import { validatedManifest } from "./render.js";
import type { AddOn, HelmReleaseSpec, ManifestObject } from "./types.js";

/** cert-manager (with its CRDs, kept when the release goes), pinned; it issues the data namespace's TLS certificates. */
export const CERT_MANAGER_CHART = { chart: "cert-manager", repository: "https://charts.jetstack.io", version: "1.19.1" } as const;
export const CERT_MANAGER_NAMESPACE = "cert-manager";
/** Name of the cert-manager add-on (`clusterCertManagerAddOn`), and the key the add-ons whose certificates it issues name in `dependsOn`. */
export const CERT_MANAGER_ADD_ON = "cert-manager";
/** The CA of the data namespace: a Secret and the Issuer signing with it. */
export const DATA_CA_NAME = "data-ca";
/** Memory of each key-value pod; Redis keeps 75% of it for data. */
export const KEY_VALUE_MEMORY_GIB = 1;
/** The user a key-value store's password belongs to (Redis `requirepass`). */
export const KEY_VALUE_USER = "default";
const CERT_MANAGER_API = "cert-manager.io/v1";

const issuerRef = z.strictObject({ name: z.string().min(1), kind: z.literal("Issuer"), group: z.literal("cert-manager.io") });
const privateKey = z.strictObject({ algorithm: z.literal("ECDSA"), size: z.literal(256), rotationPolicy: z.literal("Always") });
/** The `Issuer` fields the landing zone sets (strict): a self-signed root or a CA signing with a Secret. */
export const CERT_MANAGER_ISSUER_SCHEMA = z.strictObject({
  apiVersion: z.literal(CERT_MANAGER_API),
  kind: z.literal("Issuer"),
  metadata: customResourceMetadata,
  spec: z.union([z.strictObject({ selfSigned: z.strictObject({}) }), z.strictObject({ ca: z.strictObject({ secretName: z.string().min(1) }) })]),
});
/** The `Certificate` fields the landing zone sets (strict): ECDSA keys rotated on renewal, an Issuer in the same namespace. */
export const CERT_MANAGER_CERTIFICATE_SCHEMA = z.strictObject({
  apiVersion: z.literal(CERT_MANAGER_API),
  kind: z.literal("Certificate"),
  metadata: customResourceMetadata,
  spec: z.strictObject({
    secretName: z.string().min(1),
    isCA: z.boolean(),
    commonName: z.string().min(1).optional(),
    dnsNames: z.array(z.string().min(1)).optional(),
    duration: z.string().regex(/^\d+h$/),
    renewBefore: z.string().regex(/^\d+h$/),
    privateKey,
    usages: z.array(z.enum(["server auth", "client auth", "cert sign", "crl sign", "digital signature", "key encipherment"])).min(1),
    issuerRef,
  }),
});

/** The pinned cert-manager release (CRDs kept when it goes) issuing the data namespace's certificates. */
export const CERT_MANAGER_RELEASE: HelmReleaseSpec = {
  name: "cert-manager",
  namespace: CERT_MANAGER_NAMESPACE,
  chart: CERT_MANAGER_CHART.chart,
  repository: CERT_MANAGER_CHART.repository,
  version: CERT_MANAGER_CHART.version,
  createNamespace: true,
  values: { crds: { enabled: true, keep: true }, resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } } },
};

/** Whether the landing zone installs cert-manager: not when the spec reuses the cluster's own (`kubernetes.certManager.install: false`; its CRDs must exist). */
export function certManagerInstalled(plan: LandingZonePlan): boolean {
  return plan.spec.kubernetes?.certManager.install ?? true;
}

/** cert-manager's release where the landing zone installs it; none when the cluster's own is reused, so nothing waits for it. */
export function certManagerReleases(plan: LandingZonePlan): HelmReleaseSpec[] {
  return certManagerInstalled(plan) ? [CERT_MANAGER_RELEASE] : [];
}

const DATA_KEY = { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" } as const;
const issuer = (name: string) => ({ name, kind: "Issuer" as const, group: "cert-manager.io" as const });

/** The data namespace's own CA: a self-signed root, its 10-year certificate and the `data-ca` Issuer signing with it. */
export function dataCaManifests(plan: LandingZonePlan): ManifestObject[] {
  return certificateAuthorityManifests(plan, dataNamespace(plan), DATA_CA_NAME);
}

/**
 * A private CA in `namespace`: a self-signed root Issuer `<caName>-root`, the CA's 10-year
 * certificate into the Secret `caName` and the Issuer `caName` signing with it (an Issuer signs
 * only in its own namespace, so its key never has to leave it).
 */
export function certificateAuthorityManifests(plan: LandingZonePlan, namespace: string, caName: string): ManifestObject[] {
  assertKubernetesName("certificateAuthorityManifests namespace", namespace);
  assertKubernetesName("certificateAuthorityManifests caName", caName);
  const labels = { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY };
  const selfSigned = `${caName}-root`;
  return [
    validatedCustomResource(CERT_MANAGER_ISSUER_SCHEMA, new Issuer({ metadata: { name: selfSigned, namespace, labels }, spec: { selfSigned: {} } })),
    validatedCustomResource(
      CERT_MANAGER_CERTIFICATE_SCHEMA,
      new Certificate({
        metadata: { name: caName, namespace, labels },
        spec: { secretName: caName, isCA: true, commonName: `${plan.name}-${caName}`, duration: "87600h", renewBefore: "720h", privateKey: DATA_KEY, usages: ["cert sign", "crl sign"], issuerRef: issuer(selfSigned) },
      }),
    ),
    validatedCustomResource(CERT_MANAGER_ISSUER_SCHEMA, new Issuer({ metadata: { name: caName, namespace, labels }, spec: { ca: { secretName: caName } } })),
  ];
}

/**
 * A server certificate from the data CA into the `kubernetes.io/tls` Secret `secretName` (with
 * `ca.crt`) for `dnsNames`: a year, renewed a month ahead; servers reading it at start pick it up
 * at their next rollout.
 */
export function dataServerCertificate(plan: LandingZonePlan, secretName: string, owner: string, dnsNames: readonly string[]): ManifestObject {
  return serverCertificate(plan, { namespace: dataNamespace(plan), issuerName: DATA_CA_NAME, secretName, owner, dnsNames });
}

/** Where {@link serverCertificate} puts a certificate and which CA Issuer (in the same namespace) signs it. */
export interface ServerCertificateOptions {
  readonly namespace: string;
  /** The CA Issuer in `namespace`, e.g. one of {@link certificateAuthorityManifests}. */
  readonly issuerName: string;
  /** The Certificate and the `kubernetes.io/tls` Secret it writes. */
  readonly secretName: string;
  /** The server it is for (`app.kubernetes.io/name`). */
  readonly owner: string;
  readonly dnsNames: readonly string[];
}

/** A server certificate (the key, lifetime and renewal every in-cluster store's certificate shares) from a namespace's CA Issuer. */
export function serverCertificate(plan: LandingZonePlan, options: ServerCertificateOptions): ManifestObject {
  const { namespace, issuerName, secretName, owner, dnsNames } = options;
  return validatedCustomResource(
    CERT_MANAGER_CERTIFICATE_SCHEMA,
    new Certificate({
      metadata: { name: secretName, namespace, labels: { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY, "app.kubernetes.io/name": owner } },
      spec: {
        secretName,
        isCA: false,
        dnsNames: [...dnsNames],
        duration: "8760h",
        renewBefore: "720h",
        privateKey: DATA_KEY,
        usages: ["server auth", "client auth", "digital signature"],
        issuerRef: issuer(issuerName),
      },
    }),
  );
}

/** The services owning a key-value store on the cluster. */
export function keyValueServices(plan: LandingZonePlan): (ServicePlan & { readonly database: DatabasePlan })[] {
  return plan.services.filter((s): s is ServicePlan & { database: DatabasePlan } => s.database?.engine === "key-value");
}

/** Name of a service's Redis (StatefulSet and the Service reaching its primary). */
export function keyValueStoreName(service: string): string {
  return `${service}-kv`;
}

/** The Service reaching a key-value store's primary. */
export function keyValueHost(plan: LandingZonePlan, service: string): string {
  return `${keyValueStoreName(service)}.${dataNamespace(plan)}.svc.cluster.local`;
}

/**
 * A key-value store per service with a `key-value` database: a dedicated Redis (the StatefulSet of
 * `redisManifests`, as the session store, rather than an operator: one primary with replicas
 * needs no controller, and the image is the one the platform already pins), TLS only with a
 * certificate cert-manager issues from the data namespace's own CA, the password from the owner's
 * credentials Secret, append-only persistence on a volume of the plan's storage size kept in prod,
 * replicas from the plan's sizing, and a NetworkPolicy admitting only the owner's pods and the
 * store's own pods (replication). cert-manager comes first, from `clusterCertManagerAddOn` (named
 * in `dependsOn`) or the cluster's own. Undefined without a key-value database. The credentials Secret
 * and the data namespace (`dataNamespaceManifests`) come first too.
 * Cost note: each store reserves 1 GiB of memory per pod and its volumes.
 *
 * @example
 * const addOn = keyValueAddOn(plan); // apply after dataNamespaceManifests(plan), the credentials Secrets and cert-manager
 */
export function keyValueAddOn(plan: LandingZonePlan): AddOn | undefined {
  const services = keyValueServices(plan);
  if (services.length === 0) return undefined;
  const namespace = dataNamespace(plan);
  const labels = { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY };
  const stores = services.flatMap((service): ManifestObject[] => {
    const name = keyValueStoreName(service.name);
    const tlsSecretName = `${name}-tls`;
    const certificate = dataServerCertificate(plan, tlsSecretName, name, redisDnsNames(name, namespace));
    const redis = redisManifests(plan, {
      name,
      namespace,
      passwordSecretName: databaseCredentialsSecretName(service.name),
      memoryGiB: KEY_VALUE_MEMORY_GIB,
      replicas: instancesOf(service.database) - 1,
      tlsSecretName,
      volumeGiB: service.database.storageGiB,
    });
    const selector = selectorFor(plan, name);
    const policy = validatedManifest(
      new NetworkPolicy({
        metadata: { name: `${name}-owner-only`, namespace, labels: { ...labels, "app.kubernetes.io/name": name } },
        spec: {
          podSelector: { matchLabels: selector },
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": workloadNamespace(plan) } }, podSelector: { matchLabels: selectorFor(plan, service.name) } }],
              ports: [{ protocol: "TCP", port: REDIS_PORT }],
            },
            { from: [{ podSelector: { matchLabels: selector } }], ports: [{ protocol: "TCP", port: REDIS_PORT }] },
          ],
        },
      }),
    );
    return [certificate, ...redis, policy];
  });
  return {
    name: "key-value",
    namespace: CERT_MANAGER_NAMESPACE,
    helmReleases: [],
    manifests: [...dataCaManifests(plan), ...stores],
    // The data CA and the stores' certificates are cert-manager resources.
    dependsOn: [CERT_MANAGER_ADD_ON],
  };
}
