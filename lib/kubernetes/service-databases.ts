import { DATA_ENV } from "../plan/data.js";
import type { DatabasePlan, LandingZonePlan, ServicePlan } from "../plan/types.js";
import type { DatabaseEngine } from "../spec/types.js";
import { databaseAddOn, databaseHost, postgresServices } from "./database.js";
import { dataCaConfigMapName, dataTrustAddOn, dataTrustEnv } from "./data-trust.js";
import { DOCUMENT_PORT, documentAddOn, documentConnectionUri, documentHost, documentServices } from "./document.js";
import { CERT_MANAGER_ADD_ON, KEY_VALUE_USER, keyValueAddOn, keyValueHost, keyValueServices } from "./key-value.js";
import { mysqlAddOn, mysqlHost, mysqlServices } from "./mysql.js";
import { REDIS_PORT } from "./redis.js";
import type { AddOn } from "./types.js";

type OwningService = ServicePlan & { readonly database: DatabasePlan };

/** The services owning a database on the cluster, each with a generated password (postgres, mysql, key-value, document), in plan order. */
export function clusterDatabaseServices(plan: LandingZonePlan): OwningService[] {
  const owners = new Set([...postgresServices(plan), ...mysqlServices(plan), ...keyValueServices(plan), ...documentServices(plan)].map((s) => s.name));
  return plan.services.filter((s): s is OwningService => owners.has(s.name));
}

/** Where a service's own database answers, whichever operator runs it. */
export function clusterDatabaseHost(plan: LandingZonePlan, service: OwningService): string {
  if (service.database.engine === "mysql") return mysqlHost(plan, service);
  if (service.database.engine === "key-value") return keyValueHost(plan, service.name);
  if (service.database.engine === "document") return documentHost(plan, service.name);
  return databaseHost(plan, service.name);
}

/** The user the service's generated password belongs to: its own for the relational engines, Redis' `default` for key-value. */
export function clusterDatabaseUser(service: OwningService): string {
  return service.database.engine === "key-value" ? KEY_VALUE_USER : service.database.serviceUser;
}

/**
 * The non-secret half of the `DATA_ENV` contract on a cluster (the secret half is
 * {@link clusterDatabaseSecretEnv}); a key-value store has no database name, a document store also
 * names the collection it owns (`TABLE_NAME`, its table on the clouds). With it, the settings that
 * make the driver verify the server against the CA the workload mounts (`dataTrustEnv`).
 */
export function clusterDatabaseEnv(plan: LandingZonePlan, service: OwningService): Record<string, string> {
  const db = service.database;
  const keyValue = db.engine === "key-value";
  const document = db.engine === "document";
  return {
    [DATA_ENV.databaseEngine]: db.engine,
    [DATA_ENV.databaseHost]: clusterDatabaseHost(plan, service),
    [DATA_ENV.databasePort]: String(keyValue ? REDIS_PORT : document ? DOCUMENT_PORT : db.port),
    ...(keyValue ? {} : { [DATA_ENV.databaseName]: db.databaseName }),
    [DATA_ENV.databaseUser]: clusterDatabaseUser(service),
    ...(document ? { [DATA_ENV.tableName]: db.identifier } : {}),
    ...dataTrustEnv(service),
  };
}

/**
 * The secret half of the contract, for the owner's Secret only: its generated password and, for a
 * document store, the MongoDB connection URI carrying it.
 */
export function clusterDatabaseSecretEnv(plan: LandingZonePlan, service: OwningService, password: string): Record<string, string> {
  return {
    [DATA_ENV.databasePassword]: password,
    ...(service.database.engine === "document" ? { [DATA_ENV.databaseUri]: documentConnectionUri(plan, service, password) } : {}),
  };
}

/** An operator and the databases of one engine, keyed by the name its resources carry. */
export interface ClusterDatabaseAddOn {
  readonly key: string;
  readonly engine: DatabaseEngine;
  readonly addOn: AddOn;
}

/** The operators and databases the plan asks for, one add-on per engine; an add-on names those it shares an operator with in `addOn.dependsOn` (keys). */
export function clusterDatabaseAddOns(plan: LandingZonePlan): ClusterDatabaseAddOn[] {
  const entries: { key: string; engine: DatabaseEngine; addOn: AddOn | undefined }[] = [
    { key: "databases", engine: "postgres", addOn: databaseAddOn(plan) },
    { key: "mysql", engine: "mysql", addOn: mysqlAddOn(plan) },
    { key: "key-value", engine: "key-value", addOn: keyValueAddOn(plan) },
    { key: "document", engine: "document", addOn: documentAddOn(plan) },
  ];
  return entries.filter((entry): entry is ClusterDatabaseAddOn => entry.addOn !== undefined);
}

/**
 * trust-manager and the clients' CA Bundles (`dataTrustAddOn`), after every database add-on (their CA
 * Secrets are its sources) and cert-manager (trust-manager's webhook certificate is a cert-manager Certificate).
 */
export function clusterDataTrustAddOn(plan: LandingZonePlan): AddOn | undefined {
  const trust = dataTrustAddOn(plan);
  return trust ? { ...trust, dependsOn: [CERT_MANAGER_ADD_ON, ...clusterDatabaseAddOns(plan).map((entry) => entry.key)] } : undefined;
}

/** The ConfigMap of CA certificates a service's workload mounts (`WorkloadOptions.dataCaConfigMap`): its own data store's, or none without one. */
export function clusterDataCaConfigMap(plan: LandingZonePlan, service: Pick<ServicePlan, "name">): string | undefined {
  return clusterDatabaseServices(plan).some((s) => s.name === service.name) ? dataCaConfigMapName(plan, service.name) : undefined;
}
