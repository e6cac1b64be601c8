import { Cluster } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { RELATIONAL } from "../plan/data.js";
import type { DatabasePlan, LandingZonePlan, ServicePlan } from "../plan/types.js";
import { MANAGED_BY, selectorFor } from "./labels.js";
import { isolatedNamespaceManifests, workloadNamespace } from "./namespace.js";
import { validatedManifest } from "./render.js";
import type { AddOn, HelmReleaseSpec, ManifestObject } from "./types.js";

export const CLOUDNATIVE_PG_CHART = { chart: "cloudnative-pg", repository: "https://cloudnative-pg.github.io/charts", version: "0.26.1" } as const;
/** Namespace of the CloudNativePG operator. */
export const CLOUDNATIVE_PG_NAMESPACE = "cnpg-system";
/** Port of CloudNativePG's instance manager, which the operator polls for status. */
export const CLOUDNATIVE_PG_STATUS_PORT = 8000;
export const CNPG_API = "postgresql.cnpg.io/v1";

/** The pinned CloudNativePG operator release, shared by every engine it runs (postgres, document). */
export const CLOUDNATIVE_PG_RELEASE: HelmReleaseSpec = {
  name: "cloudnative-pg",
  namespace: CLOUDNATIVE_PG_NAMESPACE,
  chart: CLOUDNATIVE_PG_CHART.chart,
  repository: CLOUDNATIVE_PG_CHART.repository,
  version: CLOUDNATIVE_PG_CHART.version,
  createNamespace: true,
  values: { resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } } },
};

/**
 * The namespace holding the services' databases: apart from the workloads so the workloads
 * namespace's allow-same-namespace policy never reaches them, and without sidecar injection.
 */
export function dataNamespace(plan: LandingZonePlan): string {
  return `${workloadNamespace(plan)}-data`;
}

/** The services owning a PostgreSQL database on the cluster. */
export function postgresServices(plan: LandingZonePlan): (ServicePlan & { readonly database: DatabasePlan })[] {
  return plan.services.filter((s): s is ServicePlan & { database: DatabasePlan } => s.database?.engine === "postgres");
}

/** Name of a service's database cluster (CloudNativePG `Cluster`, `MariaDB`). */
export function databaseClusterName(service: string): string {
  return `${service}-db`;
}

/** The `kubernetes.io/basic-auth` Secret (in the data namespace) the operator creates the owner with. */
export function databaseCredentialsSecretName(service: string): string {
  return `${service}-db-credentials`;
}

/** The read-write Service of a service's CloudNativePG database, reachable from the owner's pods only. */
export function databaseHost(plan: LandingZonePlan, service: string): string {
  return `${databaseClusterName(service)}-rw.${dataNamespace(plan)}.svc.cluster.local`;
}

/** The data namespace (restricted Pod Security, no sidecars) and its default-deny ingress policy. */
export function dataNamespaceManifests(plan: LandingZonePlan): ManifestObject[] {
  return isolatedNamespaceManifests(plan, dataNamespace(plan));
}

/**
 * CloudNativePG for every service with a postgres database: the pinned operator, and per service a
 * `Cluster` (instances from the plan's sizing, TLS-only connections, no superuser access, the
 * owner created from its credentials Secret) with a NetworkPolicy admitting only the owner's pods
 * on 5432, the instances to each other and the operator. Undefined without a postgres database.
 * The credentials Secret and the data namespace (`dataNamespaceManifests`) come first.
 */
export function databaseAddOn(plan: LandingZonePlan): AddOn | undefined {
  const services = postgresServices(plan);
  if (services.length === 0) return undefined;
  const namespace = dataNamespace(plan);
  const port = RELATIONAL.postgres.port;
  const manifests = services.flatMap((service): ManifestObject[] => {
    const db = service.database;
    const name = databaseClusterName(service.name);
    const labels = { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY };
    const cluster = validatedManifest(
      new Cluster({
        metadata: { name, namespace, labels },
        spec: {
          instances: instancesOf(db),
          imageName: `ghcr.io/cloudnative-pg/postgresql:${db.engineVersion}`,
          storage: { size: `${db.storageGiB}Gi` },
          enableSuperuserAccess: false,
          bootstrap: { initdb: { database: db.databaseName, owner: db.serviceUser, secret: { name: databaseCredentialsSecretName(service.name) } } },
          // Plain-text connections are refused; CloudNativePG serves TLS with its own CA.
          postgresql: { pg_hba: ["hostnossl all all 0.0.0.0/0 reject", "hostnossl all all ::/0 reject"] },
          affinity: { topologyKey: "topology.kubernetes.io/zone" },
          resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } },
        },
      }),
    );
    const policy = validatedManifest(
      new NetworkPolicy({
        metadata: { name: `${name}-owner-only`, namespace, labels },
        spec: {
          podSelector: { matchLabels: { "cnpg.io/cluster": name } },
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": workloadNamespace(plan) } }, podSelector: { matchLabels: selectorFor(plan, service.name) } }],
              ports: [{ protocol: "TCP", port }],
            },
            { from: [{ podSelector: { matchLabels: { "cnpg.io/cluster": name } } }], ports: [{ protocol: "TCP", port }, { protocol: "TCP", port: CLOUDNATIVE_PG_STATUS_PORT }] },
            {
              from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": CLOUDNATIVE_PG_NAMESPACE } } }],
              ports: [{ protocol: "TCP", port }, { protocol: "TCP", port: CLOUDNATIVE_PG_STATUS_PORT }],
            },
          ],
        },
      }),
    );
    return [cluster, policy];
  });
  return {
    name: "databases",
    namespace: CLOUDNATIVE_PG_NAMESPACE,
    helmReleases: [CLOUDNATIVE_PG_RELEASE],
    manifests,
    dependsOn: [],
  };
}

/** Instances per cluster from the plan's sizing (`1-instance`, `3-instances`). */
export function instancesOf(db: DatabasePlan): number {
  const instances = Number.parseInt(db.instanceClass, 10);
  if (!Number.isInteger(instances) || instances < 1) throw new Error(`databaseAddOn: instanceClass "${db.instanceClass}" names no instance count. Fix: plan the database for cloud kubernetes`);
  return instances;
}
