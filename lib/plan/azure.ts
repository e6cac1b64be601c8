/** Azure decisions of the plan: subnet roles, SKUs and globally unique names. Pure: no engine imports. */

import type { Environment } from "../spec/types.js";
import { parseCidr, formatCidr, subdivide } from "./cidr.js";
import { physicalName, shortHash, type NameKind } from "./naming.js";
import { regionalSubnets } from "./regional-subnets.js";
import type { DatabasePlan, NetworkPlan, ServicePlan } from "./types.js";

/**
 * The VNet's subnets by role. Azure subnets span every zone, so each role gets one subnet:
 * the Application Gateway's own subnet (public block), the workloads (private half: AKS nodes,
 * scale sets, App Service VNet integration), private endpoints and delegated database servers
 * (the isolated quarter, halved).
 */
export interface AzureSubnetLayout {
  readonly gateway: string;
  readonly workloads: string;
  readonly endpoints: string;
  readonly databases: string;
  /** The App Service tier's logging cluster: the upper half of the private block, whose lower half stays delegated to App Service. */
  readonly logging?: string;
}

export type AzureSubnetRole = keyof AzureSubnetLayout;
/** The roles every layout has; `logging` exists only when asked for. */
export const AZURE_SUBNET_ROLES: readonly Exclude<AzureSubnetRole, "logging">[] = ["gateway", "workloads", "endpoints", "databases"];

export function azureSubnetLayout(network: Pick<NetworkPlan, "cidr">, options: { readonly loggingSubnet?: boolean } = {}): AzureSubnetLayout {
  const vnet = parseCidr(network.cidr);
  // Application Gateway v2 needs a /26 of its own; delegated PostgreSQL servers a /28.
  if (vnet.prefix > 24) {
    throw new Error(`network.cidr: ${network.cidr} is too small for an Azure VNet layout (the gateway subnet would be smaller than /26). Fix: use a /24 or larger range`);
  }
  const blocks = regionalSubnets(network.cidr);
  const isolated = parseCidr(blocks.isolated);
  const base = {
    gateway: blocks.public,
    workloads: blocks.private,
    endpoints: formatCidr(subdivide(isolated, isolated.prefix + 1, 0)),
    databases: formatCidr(subdivide(isolated, isolated.prefix + 1, 1)),
  };
  if (!options.loggingSubnet) return base;
  // A delegated subnet cannot hold AKS nodes, so the logging cluster takes the private block's upper half.
  const workloads = parseCidr(blocks.private);
  return { ...base, workloads: formatCidr(subdivide(workloads, workloads.prefix + 1, 0)), logging: formatCidr(subdivide(workloads, workloads.prefix + 1, 1)) };
}

/** Tag naming why an Event Hubs namespace keeps local (SAS) authentication; the policy pack accepts only {@link LOGSTASH_LOCAL_AUTH}. */
export const LOCAL_AUTH_TAG = "msa:local-auth";
/** Logstash's azure_event_hubs input signs in with connection strings only. */
export const LOGSTASH_LOCAL_AUTH = "logstash-azure-event-hubs";

/** The AKS system node pool (CoreDNS, metrics, konnectivity), kept apart from the services' user pool. */
export const AKS_SYSTEM_POOL: Readonly<Record<Environment, { readonly vmSize: string; readonly min: number; readonly max: number; readonly diskGiB: number }>> = {
  dev: { vmSize: "Standard_D2s_v5", min: 1, max: 3, diskGiB: 64 },
  prod: { vmSize: "Standard_D4s_v5", min: 3, max: 6, diskGiB: 128 },
};

/**
 * Container Registry SKU: Premium in prod for private endpoints, zone redundancy and retention;
 * Standard in dev, reached over its public endpoint with Entra ID tokens only (no admin user).
 * Cost: Premium bills about 5x Standard per day.
 */
export function registrySku(environment: Environment): "Premium" | "Standard" {
  return environment === "prod" ? "Premium" : "Standard";
}

/**
 * Service Bus tier: Premium in prod (private endpoint, zone redundancy, isolation), Standard in
 * dev (topics need Standard at least; public endpoint, Entra ID only). Cost: a Premium messaging unit bills hourly.
 */
export function serviceBusSku(environment: Environment): { readonly name: "Premium" | "Standard"; readonly capacity?: number } {
  return environment === "prod" ? { name: "Premium", capacity: 1 } : { name: "Standard" };
}

/** Azure Cache for Redis SKU from a plan node type such as `Standard_C0` or `Premium_P1`. */
export function redisSku(nodeType: string): { readonly name: "Basic" | "Standard" | "Premium"; readonly family: "C" | "P"; readonly capacity: number } {
  const match = /^(Basic|Standard|Premium)_([CP])(\d)$/.exec(nodeType);
  if (!match || (match[1] === "Premium") !== (match[2] === "P")) {
    throw new Error(`sessions.nodeType: "${nodeType}" is not an Azure Cache for Redis size. Fix: use Basic_C<n>, Standard_C<n> or Premium_P<n>, e.g. Standard_C1`);
  }
  return { name: match[1] as "Basic" | "Standard" | "Premium", family: match[2] as "C" | "P", capacity: Number(match[3]) };
}

/** App Service plan SKU tier from a plan instance type such as `P1v3`. */
export function appServiceTier(instanceType: string): string {
  const tiers: Record<string, string> = { B: "Basic", S: "Standard", P: "PremiumV3", I: "IsolatedV2" };
  const match = /^([BSPI])\d+(v[23])?$/.exec(instanceType);
  if (!match) throw new Error(`paas.instanceType: "${instanceType}" is not an App Service plan size. Fix: use a size such as P0v3 or P1v3`);
  if (match[1] === "P" && match[2] === "v2") return "PremiumV2";
  return tiers[match[1]!]!;
}

/** Ubuntu LTS image of the scale sets; the image decides the cloud-init and Docker packages used. */
export const VM_IMAGE = { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" } as const;

/**
 * A globally unique Azure name: the zone, environment and part, then a short hash of `scope`
 * (the subscription and resource group), as ARM's uniqueString(resourceGroup().id) does, so two
 * subscriptions deploying the same spec never collide and one deployment always gets the same name.
 */
export function azureUniqueName(kind: Extract<NameKind, `azure${string}`>, zone: string, environment: string, part: string, scope: string): string {
  return physicalName(kind, zone, environment, part, shortHash(scope, 6));
}

/**
 * Static private addresses handed out from the end of the workloads subnet (nodes and instances
 * take addresses from its start; Azure keeps the last one): index 0 is the in-cluster ingress's
 * internal load balancer on CaaS and the log buffer on IaaS (`logBufferPrivateIp`).
 */
export function reservedPrivateIp(workloadsCidr: string, index: number): string {
  const subnet = parseCidr(workloadsCidr);
  const size = 2 ** (32 - subnet.prefix);
  // Azure reserves the first four and the last address; keep half the subnet for instances.
  if (!Number.isInteger(index) || index < 0 || 6 + index > size / 2) {
    throw new Error(`reservedPrivateIp: index ${index} does not fit in ${workloadsCidr}. Fix: use a larger network.cidr or fewer services`);
  }
  return formatCidr({ base: subnet.base + size - 6 - index, prefix: 32 }).replace(/\/32$/, "");
}

/** The in-cluster ingress's internal load-balancer address on CaaS. */
export function ingressPrivateIp(workloadsCidr: string): string {
  return reservedPrivateIp(workloadsCidr, 0);
}

/** Private DNS zone the IaaS services are registered in, `<zone>.internal`. */
export function discoveryZone(zone: string): string {
  return `${zone}.internal`;
}

/** Environment variable carrying an App Service app's URL to the others (`SERVICE_ORDER_HISTORY_URL`); VMs use `SERVICE_DISCOVERY_DOMAIN` instead. */
export function serviceUrlEnv(service: string): string {
  return `SERVICE_${service.toUpperCase().replace(/-/g, "_")}_URL`;
}

/** Storage sizes (GiB) a PostgreSQL flexible server takes; a request is rounded up to the next. */
export const POSTGRES_STORAGE_SIZES_GIB = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767] as const;

/** The PostgreSQL flexible-server SKU (name and tier) of a plan instance class and its storage size. */
export function postgresServerSize(instanceClass: string, storageGiB: number): { readonly sku: { readonly name: string; readonly tier: "Burstable" | "GeneralPurpose" | "MemoryOptimized" }; readonly storageGiB: number } {
  const family = /^Standard_([BDE])\d+[a-z]*(_v\d)?$/.exec(instanceClass)?.[1];
  if (!family) throw new Error(`database.instanceClass: "${instanceClass}" is not a PostgreSQL flexible server size. Fix: use Standard_B<n>ms, Standard_D<n>ds_v5 or Standard_E<n>ds_v5`);
  const size = POSTGRES_STORAGE_SIZES_GIB.find((s) => s >= storageGiB);
  if (size === undefined) throw new Error(`database.storageGiB: ${storageGiB} is above the ${POSTGRES_STORAGE_SIZES_GIB.at(-1)} GiB a flexible server holds. Fix: use a smaller size`);
  const tier = family === "B" ? "Burstable" : family === "D" ? "GeneralPurpose" : "MemoryOptimized";
  return { sku: { name: instanceClass, tier }, storageGiB: size };
}

/** Private DNS zone of the landing zone's VNet-integrated PostgreSQL servers (it must end in `.postgres.database.azure.com`). */
export function postgresDnsZone(zone: string, environment: string): string {
  return `${zone}-${environment}.private.postgres.database.azure.com`;
}

/**
 * The store of a CQRS read model on Azure: a Cosmos DB database of its own (`<service>_read`),
 * filled by the read service from its broker subscriptions to the source services' events.
 */
export function readModelDatabase(service: Pick<ServicePlan, "name">, environment: Environment, backupRetentionDays: number): DatabasePlan {
  const databaseName = `${service.name.replace(/-/g, "_")}_read`;
  return {
    engine: "document",
    implementation: "cosmosdb",
    engineVersion: "",
    instanceClass: environment === "prod" ? "provisioned" : "serverless",
    storageGiB: 0,
    multiAz: environment === "prod",
    backupRetentionDays,
    databaseName,
    // A Cosmos DB database's physical name is its id; the service signs in with its identity, no user or port.
    identifier: databaseName,
    port: 0,
    adminUser: "",
    serviceUser: databaseName,
  };
}
