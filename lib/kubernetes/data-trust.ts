import { Bundle } from "@kubernetes-models/cert-manager/trust.cert-manager.io/v1alpha1/Bundle";
import { z } from "zod";
import { VERSIONS } from "../plan/sizing.js";
import type { DatabasePlan, LandingZonePlan, ServicePlan } from "../plan/types.js";
import { DATA_CA_FILE, DATA_CA_KEY } from "./data-ca.js";
import { databaseClusterName, dataNamespace } from "./database.js";
import { CERT_MANAGER_NAMESPACE, DATA_CA_NAME } from "./key-value.js";
import { MANAGED_BY } from "./labels.js";
import { workloadNamespace } from "./namespace.js";
import { validatedCustomResource } from "./custom-resource.js";
import type { AddOn, HelmReleaseSpec, ManifestObject } from "./types.js";

/** trust-manager (jetstack), pinned in VERSIONS; it copies CA certificates from its trust namespace into ConfigMaps of selected namespaces. */
export const TRUST_MANAGER_CHART = { chart: "trust-manager", repository: "https://charts.jetstack.io", version: VERSIONS.trustManager } as const;
export const TRUST_API = "trust.cert-manager.io/v1alpha1";

/** The environment a data store's owner gets to verify the server (chain and host name), read by the drivers. */
export const DATA_TRUST_ENV = {
  /** PEM file of the CAs signing the owner's data store, for every engine (Redis, MongoDB, MySQL clients take a CA file). */
  caFile: "DATABASE_CA_FILE",
  /** libpq (and pgx, psycopg, JDBC's PGJDBC through `sslmode`) verification mode. */
  pgSslMode: "PGSSLMODE",
  /** libpq's CA file. */
  pgSslRootCert: "PGSSLROOTCERT",
} as const;

type OwningService = ServicePlan & { readonly database: DatabasePlan };

/** trust-manager's release, unless the spec reuses the cluster's own (`kubernetes.trustManager.install: false`). */
export function trustManagerInstalled(plan: LandingZonePlan): boolean {
  return plan.spec.kubernetes?.trustManager.install ?? true;
}

/** The `Bundle` fields the landing zone sets (strict, beside trust-manager's own schema): only Secret sources' `ca.crt`, a selected target. */
export const TRUST_BUNDLE_SCHEMA = z.strictObject({
  apiVersion: z.literal(TRUST_API),
  kind: z.literal("Bundle"),
  // Bundles are cluster-scoped: a name (DNS subdomain) and labels, no namespace.
  metadata: z.strictObject({ name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/).max(253), labels: z.record(z.string(), z.string()) }),
  spec: z.strictObject({
    // Only a Secret's ca.crt: never tls.key or ca.key, never the default public CAs.
    sources: z.array(z.strictObject({ secret: z.strictObject({ name: z.string().min(1), key: z.literal(DATA_CA_KEY) }) })).min(1),
    target: z.strictObject({
      configMap: z.strictObject({ key: z.literal(DATA_CA_KEY) }),
      namespaceSelector: z.strictObject({ matchLabels: z.record(z.string(), z.string()).refine((labels) => Object.keys(labels).length > 0, "must select by at least one label") }),
    }),
  }),
});

/** The services owning a data store on the cluster whose server certificate their pods must verify, in plan order. */
export function dataTrustClients(plan: LandingZonePlan): OwningService[] {
  return plan.services.filter((s): s is OwningService => s.database !== undefined && ["postgres", "mysql", "key-value", "document"].includes(s.database.engine));
}

/**
 * The Secret (in the data namespace) whose `ca.crt` holds the CA that signs the server certificate of
 * a service's data store: CloudNativePG's own CA, mariadb-operator's CA bundle (old and new CA
 * during a renewal), or the landing zone's data CA from cert-manager (key-value and document stores).
 */
export function dataCaSourceSecret(service: OwningService): string {
  switch (service.database.engine) {
    case "postgres":
      return `${databaseClusterName(service.name)}-ca`;
    case "mysql":
      return `${databaseClusterName(service.name)}-ca-bundle`;
    case "key-value":
    case "document":
      return DATA_CA_NAME;
  }
}

/** The Bundle, and the ConfigMap it writes into the workloads namespace (key {@link DATA_CA_KEY}), of a service's data store CA. */
export function dataCaConfigMapName(plan: LandingZonePlan, service: string): string {
  return `${plan.name}-${service}-data-ca`;
}

/** The pinned trust-manager release, reading its sources from the data namespace only. */
export function trustManagerRelease(plan: LandingZonePlan): HelmReleaseSpec {
  return {
    name: "trust-manager",
    namespace: CERT_MANAGER_NAMESPACE,
    chart: TRUST_MANAGER_CHART.chart,
    repository: TRUST_MANAGER_CHART.repository,
    version: TRUST_MANAGER_CHART.version,
    createNamespace: true,
    values: {
      crds: { enabled: true, keep: true },
      // Every CA a client needs is in the data namespace; cert-manager already reads its Secrets, trust-manager only reads them there.
      app: { trust: { namespace: dataNamespace(plan) } },
      // Clients trust only their own store's CA, never the public roots: no default package image, no Secret targets.
      defaultPackage: { enabled: false },
      secretTargets: { enabled: false },
      resources: { requests: { cpu: "25m", memory: "64Mi" }, limits: { memory: "256Mi" } },
    },
  };
}

/**
 * The CA certificates of the services' data stores, handed to their clients: trust-manager (unless
 * `kubernetes.trustManager.install` is false) with a `Bundle` per service owning a postgres, mysql,
 * key-value or document store, copying only `ca.crt` of the Secret in {@link dataCaSourceSecret}
 * into the ConfigMap {@link dataCaConfigMapName} of the workloads namespace only (selected by its
 * immutable `kubernetes.io/metadata.name` label), so each client trusts its own store's CA and no
 * other, and no private key ever leaves the data namespace. Undefined without such a store.
 * Apply it after the databases' add-ons (its sources are their Secrets) and cert-manager
 * (trust-manager's webhook certificate comes from it); the data namespace must exist first.
 * Cost note: trust-manager requests 25m CPU and 64 MiB.
 *
 * @example
 * const trust = dataTrustAddOn(plan); // then serviceWorkload(plan, service, { dataCaConfigMap: dataCaConfigMapName(plan, service.name) })
 */
export function dataTrustAddOn(plan: LandingZonePlan): AddOn | undefined {
  const clients = dataTrustClients(plan);
  if (clients.length === 0) return undefined;
  const bundles: ManifestObject[] = clients.map((service) =>
    validatedCustomResource(
      TRUST_BUNDLE_SCHEMA,
      new Bundle({
        metadata: {
          name: dataCaConfigMapName(plan, service.name),
          labels: { "app.kubernetes.io/name": service.name, "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY },
        },
        spec: {
          sources: [{ secret: { name: dataCaSourceSecret(service), key: DATA_CA_KEY } }],
          target: { configMap: { key: DATA_CA_KEY }, namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": workloadNamespace(plan) } } },
        },
      }),
    ),
  );
  return {
    name: "data-trust",
    namespace: CERT_MANAGER_NAMESPACE,
    helmReleases: trustManagerInstalled(plan) ? [trustManagerRelease(plan)] : [],
    manifests: bundles,
    dependsOn: [],
  };
}

/**
 * What a data store's owner is told to verify its server with (the file is mounted from
 * {@link dataCaConfigMapName}): the CA file for every engine, and libpq's `verify-full` for
 * postgres; a document store's URI carries `tlsCAFile` itself.
 */
export function dataTrustEnv(service: OwningService): Record<string, string> {
  return {
    [DATA_TRUST_ENV.caFile]: DATA_CA_FILE,
    ...(service.database.engine === "postgres" ? { [DATA_TRUST_ENV.pgSslMode]: "verify-full", [DATA_TRUST_ENV.pgSslRootCert]: DATA_CA_FILE } : {}),
  };
}
