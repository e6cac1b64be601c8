import { Cluster } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { Service } from "kubernetes-models/v1/Service";
import { z } from "zod";
import { RELATIONAL } from "../plan/data.js";
import type { DatabasePlan, LandingZonePlan, ServicePlan } from "../plan/types.js";
import { customResourceMetadata, validatedCustomResource } from "./custom-resource.js";
import {
  CLOUDNATIVE_PG_NAMESPACE,
  CLOUDNATIVE_PG_RELEASE,
  CLOUDNATIVE_PG_STATUS_PORT,
  CNPG_API,
  databaseClusterName,
  databaseCredentialsSecretName,
  dataNamespace,
  instancesOf,
  postgresServices,
} from "./database.js";
import { DATA_CA_FILE } from "./data-ca.js";
import { CERT_MANAGER_ADD_ON, dataCaManifests, dataServerCertificate, keyValueServices } from "./key-value.js";
import { labelsFor, MANAGED_BY, selectorFor } from "./labels.js";
import { workloadNamespace } from "./namespace.js";
import { validatedManifest } from "./render.js";
import type { AddOn, HelmReleaseSpec, ManifestObject } from "./types.js";

/** FerretDB (Apache-2.0, MongoDB wire protocol), pinned to the release its PostgreSQL image is built for. */
export const FERRETDB_IMAGE = "ghcr.io/ferretdb/ferretdb:2.7.0";
/** PostgreSQL 17 with the DocumentDB extension, FerretDB's storage engine, pinned to the full tag FerretDB recommends. */
export const DOCUMENTDB_POSTGRES_IMAGE = "ghcr.io/ferretdb/postgres-documentdb:17-0.107.0-ferretdb-2.7.0";
/** FerretDB's TLS listener, the only one reachable from outside its pod. */
export const DOCUMENT_PORT = 27018;
/** The libraries DocumentDB needs loaded at start (pg_cron runs its background jobs). */
export const DOCUMENTDB_PRELOAD_LIBRARIES = ["pg_cron", "pg_documentdb_core", "pg_documentdb"] as const;
/** UID/GID of the postgres user in FerretDB's image (built on the official image, not CloudNativePG's UID 26). */
const DOCUMENTDB_POSTGRES_UID = 999;
/** FerretDB is one static binary: any unprivileged UID runs it. */
const FERRETDB_UID = 65532;
const TLS_DIRECTORY = "/etc/ferretdb/tls";
const POSTGRES_CA_DIRECTORY = "/etc/ferretdb/postgres-ca";

/** The CloudNativePG `Cluster` fields a document database sets (strict: a misspelt field fails at synthesis). */
export const DOCUMENT_CLUSTER_SCHEMA = z.strictObject({
  apiVersion: z.literal(CNPG_API),
  kind: z.literal("Cluster"),
  metadata: customResourceMetadata,
  spec: z.strictObject({
    instances: z.number().int().positive(),
    imageName: z.string().regex(/^[\w./-]+:[\w.-]+$/),
    postgresUID: z.number().int().positive(),
    postgresGID: z.number().int().positive(),
    storage: z.strictObject({ size: z.string().regex(/^\d+Gi$/) }),
    enableSuperuserAccess: z.literal(false),
    bootstrap: z.strictObject({
      initdb: z.strictObject({
        database: z.string().regex(/^\w+$/),
        owner: z.string().regex(/^\w+$/),
        secret: z.strictObject({ name: z.string().min(1) }),
        postInitApplicationSQL: z.array(z.string().min(1)).min(1),
      }),
    }),
    postgresql: z.strictObject({
      shared_preload_libraries: z.array(z.string().min(1)).min(1),
      parameters: z.record(z.string(), z.string()),
      pg_hba: z.array(z.string().regex(/^(host|hostssl|hostnossl) \S+ \S+ \S+ (trust|reject|scram-sha-256)$/)).min(1),
    }),
    affinity: z.strictObject({ topologyKey: z.string().min(1) }),
    resources: z.strictObject({ requests: z.record(z.string(), z.string()), limits: z.record(z.string(), z.string()) }),
  }),
});

type OwningService = ServicePlan & { readonly database: DatabasePlan };

/** The services owning a document database on the cluster. */
export function documentServices(plan: LandingZonePlan): OwningService[] {
  return plan.services.filter((s): s is OwningService => s.database?.engine === "document");
}

/** Name of a service's FerretDB (Deployment, Service, TLS Secret prefix); its PostgreSQL is `databaseClusterName`. */
export function documentGatewayName(service: string): string {
  return `${service}-ferretdb`;
}

/** The Service reaching a service's FerretDB, TLS only, from the owner's pods only. */
export function documentHost(plan: LandingZonePlan, service: string): string {
  return `${documentGatewayName(service)}.${dataNamespace(plan)}.svc.cluster.local`;
}

/**
 * The owner's MongoDB connection URI (a secret: it carries the password): TLS to FerretDB verified
 * against the data CA mounted at `DATA_CA_FILE` (`dataTrustAddOn`), SCRAM-SHA-256 against the
 * owner's PostgreSQL role, its own database by default.
 */
export function documentConnectionUri(plan: LandingZonePlan, service: OwningService, password: string): string {
  const db = service.database;
  return `mongodb://${encodeURIComponent(db.serviceUser)}:${encodeURIComponent(password)}@${documentHost(plan, service.name)}:${DOCUMENT_PORT}/${db.databaseName}?tls=true&tlsCAFile=${DATA_CA_FILE}&authMechanism=SCRAM-SHA-256&authSource=admin`;
}

/**
 * A document database per service with `database.engine: document`: FerretDB (MongoDB wire
 * protocol) in front of its own PostgreSQL with the DocumentDB extension, run by the same pinned
 * CloudNativePG operator as the postgres databases. Per service:
 * - a CloudNativePG `Cluster` on FerretDB's `postgres-documentdb` image (instances and volume from
 *   the plan, no superuser access, TLS-only connections but loopback, where DocumentDB connects to
 *   itself), the owner created from its credentials Secret and granted `documentdb_admin_role`,
 *   the role DocumentDB's API schemas belong to;
 * - a FerretDB Deployment (non-root, read-only root filesystem, no capabilities) speaking TLS on
 *   {@link DOCUMENT_PORT} with a certificate from the data namespace's CA, its plain listener on
 *   loopback only, reaching PostgreSQL as the owner over TLS verified against CloudNativePG's CA,
 *   the password from the Secret by reference;
 * - NetworkPolicies: only the owner's pods reach its FerretDB; only its FerretDB (and the
 *   instances, the operator) reach its PostgreSQL.
 * The operator comes from the postgres add-on when it exists, from this one otherwise; the data CA
 * from the key-value add-on when it exists; cert-manager from `clusterCertManagerAddOn` or the
 * cluster's own (all named in `dependsOn`). Undefined without a document database.
 * The credentials Secret and the data namespace (`dataNamespaceManifests`) come first.
 * Cost note: each database runs its PostgreSQL instances and volumes plus FerretDB pods (0.1 CPU, 128 MiB requested each).
 *
 * @example
 * const addOn = documentAddOn(plan); // apply after dataNamespaceManifests(plan), the credentials Secrets and the add-ons in addOn.dependsOn
 */
export function documentAddOn(plan: LandingZonePlan): AddOn | undefined {
  const services = documentServices(plan);
  if (services.length === 0) return undefined;
  const sharedOperator = postgresServices(plan).length > 0;
  const sharedCa = keyValueServices(plan).length > 0;
  const helmReleases: HelmReleaseSpec[] = sharedOperator ? [] : [CLOUDNATIVE_PG_RELEASE];
  return {
    name: "document",
    namespace: CLOUDNATIVE_PG_NAMESPACE,
    helmReleases,
    manifests: [...(sharedCa ? [] : dataCaManifests(plan)), ...services.flatMap((service) => documentManifests(plan, service))],
    dependsOn: [CERT_MANAGER_ADD_ON, ...(sharedOperator ? ["databases"] : []), ...(sharedCa ? ["key-value"] : [])],
  };
}

/** One service's document database: its PostgreSQL, FerretDB's certificate, Deployment and Service, and both NetworkPolicies. */
function documentManifests(plan: LandingZonePlan, service: OwningService): ManifestObject[] {
  const db = service.database;
  const namespace = dataNamespace(plan);
  const cluster = databaseClusterName(service.name);
  const gateway = documentGatewayName(service.name);
  const tlsSecretName = `${gateway}-tls`;
  const postgresPort = RELATIONAL.postgres.port;
  const instances = instancesOf(db);
  const owner = db.serviceUser;
  const clusterLabels = { "app.kubernetes.io/name": cluster, "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY };
  const labels = { ...labelsFor(plan, gateway), "app.kubernetes.io/component": "ferretdb" };
  const selector = selectorFor(plan, gateway);
  const instancePods = { "cnpg.io/cluster": cluster };

  const postgres = validatedCustomResource(
    DOCUMENT_CLUSTER_SCHEMA,
    new Cluster({
      metadata: { name: cluster, namespace, labels: clusterLabels },
      spec: {
        instances,
        imageName: DOCUMENTDB_POSTGRES_IMAGE,
        postgresUID: DOCUMENTDB_POSTGRES_UID,
        postgresGID: DOCUMENTDB_POSTGRES_UID,
        storage: { size: `${db.storageGiB}Gi` },
        enableSuperuserAccess: false,
        bootstrap: {
          initdb: {
            database: db.databaseName,
            owner,
            secret: { name: databaseCredentialsSecretName(service.name) },
            // CloudNativePG skips the image's init scripts: the extension and the owner's role are set here.
            postInitApplicationSQL: ["CREATE EXTENSION IF NOT EXISTS documentdb CASCADE", `GRANT documentdb_admin_role TO ${owner}`],
          },
        },
        postgresql: {
          shared_preload_libraries: [...DOCUMENTDB_PRELOAD_LIBRARIES],
          // pg_cron only runs in this database, where the extension lives.
          parameters: { "cron.database_name": db.databaseName },
          // DocumentDB opens password-less loopback connections to itself; everything else must be TLS.
          pg_hba: [`host ${db.databaseName} all 127.0.0.1/32 trust`, `host ${db.databaseName} all ::1/128 trust`, "hostnossl all all 0.0.0.0/0 reject", "hostnossl all all ::/0 reject"],
        },
        affinity: { topologyKey: "topology.kubernetes.io/zone" },
        resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } },
      },
    }),
  );

  const certificate = dataServerCertificate(plan, tlsSecretName, gateway, [gateway, `${gateway}.${namespace}.svc`, `${gateway}.${namespace}.svc.cluster.local`]);
  const postgresUrl = `postgres://${owner}@${cluster}-rw.${namespace}.svc:${postgresPort}/${db.databaseName}?sslmode=verify-full&sslrootcert=${POSTGRES_CA_DIRECTORY}/ca.crt`;
  const deployment = validatedManifest(
    new Deployment({
      metadata: { name: gateway, namespace, labels },
      spec: {
        replicas: instances,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: FERRETDB_UID, runAsGroup: FERRETDB_UID, fsGroup: FERRETDB_UID, seccompProfile: { type: "RuntimeDefault" } },
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } }],
            containers: [
              {
                name: "ferretdb",
                image: FERRETDB_IMAGE,
                ports: [{ name: "mongodb-tls", containerPort: DOCUMENT_PORT, protocol: "TCP" }],
                env: [
                  // pgx reads the password from PGPASSWORD, so it never appears in the URL or the spec.
                  { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: databaseCredentialsSecretName(service.name), key: "password" } } },
                  { name: "FERRETDB_POSTGRESQL_URL", value: postgresUrl },
                  { name: "FERRETDB_LISTEN_ADDR", value: "127.0.0.1:27017" },
                  { name: "FERRETDB_LISTEN_TLS", value: `:${DOCUMENT_PORT}` },
                  { name: "FERRETDB_LISTEN_TLS_CERT_FILE", value: `${TLS_DIRECTORY}/tls.crt` },
                  { name: "FERRETDB_LISTEN_TLS_KEY_FILE", value: `${TLS_DIRECTORY}/tls.key` },
                  { name: "FERRETDB_DEBUG_ADDR", value: "127.0.0.1:8088" },
                  { name: "FERRETDB_STATE_DIR", value: "/state" },
                  { name: "FERRETDB_TELEMETRY", value: "disable" },
                ],
                resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                readinessProbe: { tcpSocket: { port: DOCUMENT_PORT }, periodSeconds: 10, timeoutSeconds: 3 },
                livenessProbe: { tcpSocket: { port: DOCUMENT_PORT }, initialDelaySeconds: 15, periodSeconds: 20, timeoutSeconds: 3 },
                securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                volumeMounts: [
                  { name: "tls", mountPath: TLS_DIRECTORY, readOnly: true },
                  { name: "postgres-ca", mountPath: POSTGRES_CA_DIRECTORY, readOnly: true },
                  { name: "state", mountPath: "/state" },
                ],
              },
            ],
            volumes: [
              { name: "tls", secret: { secretName: tlsSecretName, defaultMode: 0o440 } },
              // Only the public certificate of CloudNativePG's CA; its key stays in the Secret.
              { name: "postgres-ca", secret: { secretName: `${cluster}-ca`, items: [{ key: "ca.crt", path: "ca.crt" }], defaultMode: 0o440 } },
              { name: "state", emptyDir: { sizeLimit: "64Mi" } },
            ],
          },
        },
      },
    }),
  );
  const serviceObject = validatedManifest(
    new Service({
      metadata: { name: gateway, namespace, labels },
      spec: { type: "ClusterIP", selector, ports: [{ name: "mongodb-tls", port: DOCUMENT_PORT, targetPort: "mongodb-tls", protocol: "TCP" }] },
    }),
  );
  const gatewayPolicy = validatedManifest(
    new NetworkPolicy({
      metadata: { name: `${gateway}-owner-only`, namespace, labels },
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": workloadNamespace(plan) } }, podSelector: { matchLabels: selectorFor(plan, service.name) } }],
            ports: [{ protocol: "TCP", port: DOCUMENT_PORT }],
          },
        ],
      },
    }),
  );
  const postgresPolicy = validatedManifest(
    new NetworkPolicy({
      metadata: { name: `${cluster}-ferretdb-only`, namespace, labels: clusterLabels },
      spec: {
        podSelector: { matchLabels: instancePods },
        policyTypes: ["Ingress"],
        ingress: [
          { from: [{ podSelector: { matchLabels: selector } }], ports: [{ protocol: "TCP", port: postgresPort }] },
          { from: [{ podSelector: { matchLabels: instancePods } }], ports: [{ protocol: "TCP", port: postgresPort }, { protocol: "TCP", port: CLOUDNATIVE_PG_STATUS_PORT }] },
          {
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": CLOUDNATIVE_PG_NAMESPACE } } }],
            ports: [{ protocol: "TCP", port: postgresPort }, { protocol: "TCP", port: CLOUDNATIVE_PG_STATUS_PORT }],
          },
        ],
      },
    }),
  );
  return [postgres, certificate, deployment, serviceObject, gatewayPolicy, postgresPolicy];
}
