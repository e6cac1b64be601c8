import type { DatabasePlan, LandingZonePlan, ServicePlan } from "../plan/types.js";
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

/** The operators and databases the plan asks for, each an add-on, keyed by the name its resources carry. */
export function clusterDatabaseAddOns(plan: LandingZonePlan): { readonly key: string; readonly addOn: AddOn }[] {
  return [
    { key: "databases", addOn: databaseAddOn(plan) },
    { key: "mysql", addOn: mysqlAddOn(plan) },
  ].filter((entry): entry is { key: string; addOn: AddOn } => entry.addOn !== undefined);
}
