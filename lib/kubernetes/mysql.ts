import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { z } from "zod";
import { RELATIONAL } from "../plan/data.js";
import type { DatabasePlan, LandingZonePlan, ServicePlan } from "../plan/types.js";
import { customResourceMetadata, validatedCustomResource } from "./custom-resource.js";
import { databaseClusterName, databaseCredentialsSecretName, dataNamespace, instancesOf } from "./database.js";
import { MANAGED_BY, selectorFor } from "./labels.js";
import { workloadNamespace } from "./namespace.js";
import { validatedManifest } from "./render.js";
import type { AddOn, ManifestObject } from "./types.js";

/** The mariadb-operator charts (CRDs apart, so removing the operator never deletes a database), pinned. */
export const MARIADB_OPERATOR_CHART = { chart: "mariadb-operator", repository: "https://helm.mariadb.com/mariadb-operator", version: "25.10.4" } as const;
export const MARIADB_OPERATOR_CRDS_CHART = { ...MARIADB_OPERATOR_CHART, chart: "mariadb-operator-crds" } as const;
/** Namespace of the mariadb-operator. */
export const MARIADB_OPERATOR_NAMESPACE = "mariadb-operator";
/** The server image repository; the tag is the plan's pinned `engineVersion` (MariaDB LTS speaks the MySQL protocol). */
export const MARIADB_IMAGE_REPOSITORY = "docker-registry1.mariadb.com/library/mariadb";
/** Port of the operator's agent beside each instance (replication, backups). */
export const MARIADB_AGENT_PORT = 5555;
/** UID/GID of the mysql user in the MariaDB image. */
const MARIADB_UID = 999;
const MARIADB_API = "k8s.mariadb.com/v1alpha1";

/**
 * What the owner may do in its own database: its data and its schema (migrations), but no
 * `GRANT OPTION`, no `ALL PRIVILEGES` and nothing outside the database.
 */
export const MYSQL_OWNER_PRIVILEGES = [
  "SELECT",
  "INSERT",
  "UPDATE",
  "DELETE",
  "CREATE",
  "ALTER",
  "DROP",
  "INDEX",
  "REFERENCES",
  "CREATE VIEW",
  "SHOW VIEW",
  "TRIGGER",
  "CREATE TEMPORARY TABLES",
  "LOCK TABLES",
] as const;

const ref = z.strictObject({ name: z.string().min(1) });
const secretKeyRef = z.strictObject({ name: z.string().min(1), key: z.string().min(1), generate: z.boolean().optional() });
const mariaDbSchema = z.strictObject({
  apiVersion: z.literal(MARIADB_API),
  kind: z.literal("MariaDB"),
  metadata: customResourceMetadata,
  spec: z.strictObject({
    image: z.string().regex(/:[\w.-]+$/),
    port: z.number().int().positive(),
    replicas: z.number().int().positive(),
    replication: z.strictObject({ enabled: z.boolean() }).optional(),
    rootPasswordSecretKeyRef: secretKeyRef,
    storage: z.strictObject({ size: z.string().regex(/^\d+Gi$/) }),
    tls: z.strictObject({ enabled: z.literal(true), required: z.literal(true) }),
    myCnf: z.string(),
    resources: z.strictObject({ requests: z.record(z.string(), z.string()), limits: z.record(z.string(), z.string()) }),
    podSecurityContext: z.record(z.string(), z.unknown()),
    securityContext: z.record(z.string(), z.unknown()),
    topologySpreadConstraints: z.array(z.record(z.string(), z.unknown())),
  }),
});
const cleanupPolicy = z.enum(["Skip", "Delete"]);
const databaseSchema = z.strictObject({
  apiVersion: z.literal(MARIADB_API),
  kind: z.literal("Database"),
  metadata: customResourceMetadata,
  spec: z.strictObject({ mariaDbRef: ref, name: z.string().regex(/^\w+$/), characterSet: z.string(), collate: z.string(), cleanupPolicy }),
});
const userSchema = z.strictObject({
  apiVersion: z.literal(MARIADB_API),
  kind: z.literal("User"),
  metadata: customResourceMetadata,
  spec: z.strictObject({ mariaDbRef: ref, name: z.string().regex(/^\w+$/), passwordSecretKeyRef: secretKeyRef, host: z.string(), maxUserConnections: z.number().int().positive(), cleanupPolicy }),
});
const grantSchema = z.strictObject({
  apiVersion: z.literal(MARIADB_API),
  kind: z.literal("Grant"),
  metadata: customResourceMetadata,
  spec: z.strictObject({
    mariaDbRef: ref,
    privileges: z.array(z.string()).min(1),
    database: z.string().regex(/^\w+$/),
    table: z.literal("*"),
    username: z.string().regex(/^\w+$/),
    host: z.string(),
    grantOption: z.literal(false),
    cleanupPolicy,
  }),
});

/** The services owning a MySQL database on the cluster. */
export function mysqlServices(plan: LandingZonePlan): (ServicePlan & { readonly database: DatabasePlan })[] {
  return plan.services.filter((s): s is ServicePlan & { database: DatabasePlan } => s.database?.engine === "mysql");
}

/** The Service reaching a MySQL database's primary (`<name>-primary` once replicated, the instance itself alone). */
export function mysqlHost(plan: LandingZonePlan, service: ServicePlan & { readonly database: DatabasePlan }): string {
  const name = databaseClusterName(service.name);
  return `${instancesOf(service.database) > 1 ? `${name}-primary` : name}.${dataNamespace(plan)}.svc.cluster.local`;
}

/**
 * MySQL for every service with a mysql database, through the mariadb-operator: chosen over
 * Oracle's MySQL operator because it declares the owner, its database and its grants as
 * resources (`User`, `Database`, `Grant`) instead of a root-run SQL job, issues and rotates the
 * instances' TLS certificates itself (no cert-manager needed) and is released monthly. Per
 * service: a `MariaDB` (instances from the plan's sizing, asynchronous replication when more than
 * one, TLS required on every connection, a generated root password the services never see,
 * volumes from the plan), the database, the owner (password from its credentials Secret in the
 * data namespace) with {@link MYSQL_OWNER_PRIVILEGES} on its database only, and a NetworkPolicy
 * admitting only the owner's pods on 3306, the instances and the operator. Undefined without a
 * mysql database. The credentials Secret and the data namespace (`dataNamespaceManifests`) come first.
 *
 * @example
 * const addOn = mysqlAddOn(plan); // apply after dataNamespaceManifests(plan) and the credentials Secrets
 */
export function mysqlAddOn(plan: LandingZonePlan): AddOn | undefined {
  const services = mysqlServices(plan);
  if (services.length === 0) return undefined;
  const namespace = dataNamespace(plan);
  const port = RELATIONAL.mysql.port;
  // Deleting a Database or User resource drops the data or the login only where the plan does not retain.
  const cleanup = plan.protection.retain ? "Skip" : "Delete";
  const manifests = services.flatMap((service): ManifestObject[] => {
    const db = service.database;
    const name = databaseClusterName(service.name);
    const labels = { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY };
    const metadata = (suffix = "") => ({ name: `${name}${suffix}`, namespace, labels: { ...labels, "app.kubernetes.io/name": name } });
    const mariaDbRef = { name };
    const instances = instancesOf(db);
    const podLabels = { "app.kubernetes.io/name": "mariadb", "app.kubernetes.io/instance": name };
    const server = validatedCustomResource(mariaDbSchema, {
      apiVersion: MARIADB_API,
      kind: "MariaDB",
      metadata: metadata(),
      spec: {
        image: `${MARIADB_IMAGE_REPOSITORY}:${db.engineVersion}`,
        port,
        replicas: instances,
        ...(instances > 1 ? { replication: { enabled: true } } : {}),
        // The operator generates the root password into this Secret; no service reads it.
        rootPasswordSecretKeyRef: { name: `${name}-root`, key: "password", generate: true },
        storage: { size: `${db.storageGiB}Gi` },
        tls: { enabled: true, required: true },
        myCnf: ["[mariadb]", "bind-address=*", "default_storage_engine=InnoDB", "binlog_format=row", "innodb_autoinc_lock_mode=2", "max_allowed_packet=256M"].join("\n"),
        resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } },
        podSecurityContext: { runAsNonRoot: true, runAsUser: MARIADB_UID, runAsGroup: MARIADB_UID, fsGroup: MARIADB_UID, seccompProfile: { type: "RuntimeDefault" } },
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: podLabels } }],
      },
    });
    const database = validatedCustomResource(databaseSchema, {
      apiVersion: MARIADB_API,
      kind: "Database",
      metadata: metadata("-database"),
      spec: { mariaDbRef, name: db.databaseName, characterSet: "utf8mb4", collate: "utf8mb4_unicode_ci", cleanupPolicy: cleanup },
    });
    const user = validatedCustomResource(userSchema, {
      apiVersion: MARIADB_API,
      kind: "User",
      metadata: metadata("-owner"),
      spec: { mariaDbRef, name: db.serviceUser, passwordSecretKeyRef: { name: databaseCredentialsSecretName(service.name), key: "password" }, host: "%", maxUserConnections: 100, cleanupPolicy: cleanup },
    });
    const grant = validatedCustomResource(grantSchema, {
      apiVersion: MARIADB_API,
      kind: "Grant",
      metadata: metadata("-owner-grant"),
      spec: { mariaDbRef, privileges: [...MYSQL_OWNER_PRIVILEGES], database: db.databaseName, table: "*", username: db.serviceUser, host: "%", grantOption: false, cleanupPolicy: cleanup },
    });
    const policy = validatedManifest(
      new NetworkPolicy({
        metadata: { name: `${name}-owner-only`, namespace, labels: metadata().labels },
        spec: {
          podSelector: { matchLabels: podLabels },
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": workloadNamespace(plan) } }, podSelector: { matchLabels: selectorFor(plan, service.name) } }],
              ports: [{ protocol: "TCP", port }],
            },
            { from: [{ podSelector: { matchLabels: podLabels } }], ports: [{ protocol: "TCP", port }, { protocol: "TCP", port: MARIADB_AGENT_PORT }] },
            {
              from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": MARIADB_OPERATOR_NAMESPACE } } }],
              ports: [{ protocol: "TCP", port }, { protocol: "TCP", port: MARIADB_AGENT_PORT }],
            },
          ],
        },
      }),
    );
    return [server, database, user, grant, policy];
  });
  const release = (chart: typeof MARIADB_OPERATOR_CHART | typeof MARIADB_OPERATOR_CRDS_CHART, values: Record<string, unknown>) => ({
    name: chart.chart,
    namespace: MARIADB_OPERATOR_NAMESPACE,
    chart: chart.chart,
    repository: chart.repository,
    version: chart.version,
    createNamespace: true,
    values,
  });
  return {
    name: "mysql",
    namespace: MARIADB_OPERATOR_NAMESPACE,
    helmReleases: [
      release(MARIADB_OPERATOR_CRDS_CHART, {}),
      release(MARIADB_OPERATOR_CHART, { resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } } }),
    ],
    manifests,
    dependsOn: [],
  };
}
