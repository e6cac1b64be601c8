/**
 * Service discovery of Azure VM scale sets (iaas): how services find each other and which private
 * addresses of the workloads subnet are fixed. Every value here is independent of the other
 * services, so adding a service changes nothing that another service's instances run with.
 * Pure: no engine imports.
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
