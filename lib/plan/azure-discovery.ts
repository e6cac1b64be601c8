/**
 * Service discovery on Azure: VM scale sets (iaas) through private DNS, with the fixed private
 * addresses of the workloads subnet, and App Service apps (paas) through a registry of key-values in
 * the landing zone's App Configuration store. Every value a service runs with here is independent of
 * the other services, so adding a service changes nothing that another service's instances or apps
 * run with. Pure: no engine imports.
 */

import type { Environment } from "../spec/types.js";
import { AKS_SYSTEM_POOL, azureSubnetLayout, discoveryZone, reservedPrivateIp } from "./azure.js";
import { parseCidr } from "./cidr.js";
import type { LandingZonePlan } from "./types.js";

/** Port every discovery frontend answers on, so `http://<service>.<domain>` reaches any service whatever port it listens on. */
export const DISCOVERY_PORT = 80;

/** Environment variable naming the private DNS zone services are registered in: one value for every service. */
export const SERVICE_DISCOVERY_DOMAIN_ENV = "SERVICE_DISCOVERY_DOMAIN";

/** What every VM service gets to reach the others: `http://<service>.${SERVICE_DISCOVERY_DOMAIN}` (port {@link DISCOVERY_PORT}). */
export function discoveryEnvironment(zone: string): Readonly<Record<string, string>> {
  return { [SERVICE_DISCOVERY_DOMAIN_ENV]: discoveryZone(zone) };
}

/** Host name of a service in the discovery zone, e.g. `orders.shop.internal`. */
export function discoveryHost(zone: string, service: string): string {
  return `${service}.${discoveryZone(zone)}`;
}

/** URL of a service through its discovery frontend, e.g. `http://orders.shop.internal`. */
export function discoveryUrl(zone: string, service: string): string {
  return `http://${discoveryHost(zone, service)}`;
}

/** App Configuration key prefix of the App Service registry: `discovery:<service>` holds the service's URL. */
export const DISCOVERY_KEY_PREFIX = "discovery:";

/** App setting naming the registry's key prefix: one value for every app. */
export const SERVICE_DISCOVERY_PREFIX_ENV = "SERVICE_DISCOVERY_PREFIX";

/** App setting naming the registry's label (the environment, as for the services' settings): one value for every app. */
export const SERVICE_DISCOVERY_LABEL_ENV = "SERVICE_DISCOVERY_LABEL";

/** The registry key of a service on App Service, e.g. `discovery:orders`. */
export function discoveryKey(service: string): string {
  return `${DISCOVERY_KEY_PREFIX}${service}`;
}

/** Host name of an App Service app, e.g. `shop-prod-orders-1a2b3c.azurewebsites.net` (its private endpoint inside the VNet). */
export function appServiceHost(appName: string): string {
  return `${appName}.azurewebsites.net`;
}

/** URL a service on App Service is reached at: the value of its registry key. */
export function appServiceUrl(appName: string): string {
  return `https://${appServiceHost(appName)}`;
}

/** True when the plan's App Service apps find each other through the registry in App Configuration (azure/paas with discovery). */
export function usesAppServiceRegistry(plan: Pick<LandingZonePlan, "cloud" | "tier" | "decisions">): boolean {
  return plan.cloud === "azure" && plan.tier === "paas" && plan.decisions.some((d) => d.capability === "discovery");
}

/**
 * What every App Service app gets to reach the others: the registry's key prefix and label, read with
 * its identity from the store at `APP_CONFIGURATION_ENDPOINT`. The same for every app, so a new
 * service's key changes no app's settings (App Service restarts an app whenever they change).
 */
export function appServiceDiscoveryEnvironment(environment: Environment): Readonly<Record<string, string>> {
  return { [SERVICE_DISCOVERY_PREFIX_ENV]: DISCOVERY_KEY_PREFIX, [SERVICE_DISCOVERY_LABEL_ENV]: environment };
}

/**
 * Fixed address of the VM logging cluster's buffer: the first reserved address of the workloads
 * subnet (the one the ingress takes on caas), since the discovery frontends take dynamic addresses.
 */
export function logBufferPrivateIp(workloadsCidr: string): string {
  return reservedPrivateIp(workloadsCidr, 0);
}

/** Nodes a logging cluster can reach at most: the system pool and the cluster's pool at their maximum, each plus the node an AKS upgrade surges. */
function logClusterNodes(environment: Environment, maxNodes: number): number {
  return AKS_SYSTEM_POOL[environment].max + 1 + maxNodes + 1;
}

/**
 * Addresses the workloads subnet hands out dynamically on azure/iaas at most: every service's
 * instances at `replicas.max` (scale sets upgrade in place, without surge), one discovery frontend
 * per service, and the logging cluster's nodes.
 */
export function azureIaasDynamicAddresses(plan: Pick<LandingZonePlan, "environment" | "services" | "decisions" | "logging">): number {
  const instances = plan.services.reduce((sum, s) => sum + s.replicas.max, 0);
  const frontends = plan.decisions.some((d) => d.capability === "discovery") ? plan.services.length : 0;
  const logNodes = plan.logging?.cluster ? logClusterNodes(plan.environment, plan.logging.cluster.maxNodes) : 0;
  return instances + frontends + logNodes;
}

/**
 * Refuses an azure/iaas plan whose dynamic addresses could reach the reserved upper half of the
 * workloads subnet, where the log buffer's fixed address lives (Azure hands dynamic addresses out
 * from the start of the subnet and keeps its first four).
 */
export function azureIaasAddressProblems(plan: Pick<LandingZonePlan, "cloud" | "tier" | "environment" | "network" | "services" | "decisions" | "logging">): string[] {
  if (plan.cloud !== "azure" || plan.tier !== "iaas") return [];
  const workloads = azureSubnetLayout(plan.network).workloads;
  const available = 2 ** (32 - parseCidr(workloads).prefix) / 2 - 4;
  const needed = azureIaasDynamicAddresses(plan);
  if (needed <= available) return [];
  return [
    `network.cidr: ${plan.network.cidr} leaves ${available} dynamic addresses in the workloads subnet ${workloads}, but the services' instances at replicas.max, their discovery frontends and the logging cluster's nodes need up to ${needed}, which would reach the log buffer's fixed address ${logBufferPrivateIp(workloads)}. Fix: use a larger network.cidr, or lower services[].replicas.max`,
  ];
}
