import type { DatabasePlan, LandingZonePlan, ServicePlan } from "../plan/types.js";
import type { DatabaseEngine } from "../spec/types.js";
import { databaseAddOn, databaseHost, postgresServices } from "./database.js";
import { mysqlAddOn, mysqlHost, mysqlServices } from "./mysql.js";
import type { AddOn } from "./types.js";

type OwningService = ServicePlan & { readonly database: DatabasePlan };

/** The services owning a database on the cluster, each with a generated password (postgres, mysql), in plan order. */
export function clusterDatabaseServices(plan: LandingZonePlan): OwningService[] {
  const owners = new Set([...postgresServices(plan), ...mysqlServices(plan)].map((s) => s.name));
  return plan.services.filter((s): s is OwningService => owners.has(s.name));
}

/** Where a service's own database answers, whichever operator runs it. */
export function clusterDatabaseHost(plan: LandingZonePlan, service: OwningService): string {
  if (service.database.engine === "mysql") return mysqlHost(plan, service);
  return databaseHost(plan, service.name);
}

/** An operator and the databases of one engine, keyed by the name its resources carry. */
export interface ClusterDatabaseAddOn {
  readonly key: string;
  readonly engine: DatabaseEngine;
  readonly addOn: AddOn;
}

/** The operators and databases the plan asks for, one add-on per engine. */
export function clusterDatabaseAddOns(plan: LandingZonePlan): ClusterDatabaseAddOn[] {
  const entries: { key: string; engine: DatabaseEngine; addOn: AddOn | undefined }[] = [
    { key: "databases", engine: "postgres", addOn: databaseAddOn(plan) },
    { key: "mysql", engine: "mysql", addOn: mysqlAddOn(plan) },
  ];
  return entries.filter((entry): entry is ClusterDatabaseAddOn => entry.addOn !== undefined);
}
