/** GCP decisions the Pulumi GCP components share (address layout, names, versions); pure, no engine import. */

import { formatCidr, parseCidr, subdivide } from "./cidr.js";
import { physicalName } from "./naming.js";
import type { NetworkPlan, ServicePlan } from "./types.js";

/** Source ranges of Google's load balancer proxies and health checkers; firewalls admit them to backends. */
export const GCP_HEALTH_CHECK_RANGES = ["35.191.0.0/16", "130.211.0.0/22"] as const;
/** The only port App Engine flexible sends requests to in a custom runtime's container. */
export const APP_ENGINE_PORT = 8080;
/** Memorystore's nearest release to VERSIONS.redis (Memorystore offers 6.x, 7.0 and 7.2). */
export const MEMORYSTORE_REDIS_VERSION = "REDIS_7_2";
/** Names of the subnet's secondary ranges GKE allocates pod and Service addresses from. */
export const GKE_SECONDARY_RANGES = { pods: "pods", services: "services" } as const;
/** Network tag on every VM and GKE node the external load balancer sends traffic and health checks to. */
export const LOAD_BALANCER_BACKEND_TAG = "msa-lb-backend";
/** Smallest private-service-access allocation Cloud SQL and Memorystore accept. */
const MIN_PRIVATE_SERVICE_ACCESS_PREFIX = 24;

/** Address plan of a landing zone's VPC on GCP, carved from the same halves and quarters as on AWS. */
export interface GcpNetworkLayout {
  /** Primary range of the regional subnet (nodes, VMs, internal load balancers): the private half of the VPC range. */
  readonly subnet: string;
  /** Secondary range for GKE pods. */
  readonly pods: string;
  /** Secondary range for GKE Services. */
  readonly services: string;
  /** Range Google's managed services (Memorystore, Cloud SQL) are peered into: the isolated quarter, so data stores sit apart from workloads. */
  readonly privateServiceAccess: { readonly address: string; readonly prefixLength: number; readonly cidr: string };
  /** /28 for the private GKE control plane, the first block of the public quarter (GCP load balancers need no public subnet). */
  readonly controlPlane: string;
}

/**
 * Lays out a VPC range for GCP: subnets are regional, so one subnet takes the private half; the
 * isolated quarter goes to private service access and the public quarter's first /28 to the GKE
 * control plane. Throws when the range is too small for a /24 service allocation.
 */
export function gcpNetworkLayout(network: Pick<NetworkPlan, "cidr" | "podsCidr" | "servicesCidr">): GcpNetworkLayout {
  const vpc = parseCidr(network.cidr);
  const isolatedQuarter = subdivide(vpc, vpc.prefix + 2, 3);
  if (isolatedQuarter.prefix > MIN_PRIVATE_SERVICE_ACCESS_PREFIX) {
    throw new Error(
      `network.cidr: ${network.cidr} is too small on GCP: its isolated quarter ${formatCidr(isolatedQuarter)} is smaller than the /${MIN_PRIVATE_SERVICE_ACCESS_PREFIX} private service access needs. Fix: use a /22 or larger range`,
    );
  }
  const publicQuarter = subdivide(vpc, vpc.prefix + 2, 2);
  return {
    subnet: formatCidr(subdivide(vpc, vpc.prefix + 1, 0)),
    pods: network.podsCidr,
    services: network.servicesCidr,
    privateServiceAccess: { address: formatCidr(isolatedQuarter).split("/")[0]!, prefixLength: isolatedQuarter.prefix, cidr: formatCidr(isolatedQuarter) },
    controlPlane: formatCidr(subdivide(publicQuarter, 28, 0)),
  };
}

/**
 * A service account id (6-30 characters, lowercase, leading letter) for one part of a landing
 * zone; hashed when long, padded when short.
 */
export function gcpServiceAccountId(zone: string, part: string): string {
  const id = physicalName("gcpServiceAccount", zone, part);
  // The shortest joined id is three characters ("a-b"); "-sa" brings it to the minimum of six.
  return id.length >= 6 ? id : `${id}-sa`;
}

/** App Engine location of a Compute region: us-central1 and europe-west1 keep their legacy App Engine names. */
export function appEngineLocation(region: string): string {
  const legacy: Record<string, string> = { "us-central1": "us-central", "europe-west1": "europe-west" };
  return legacy[region] ?? region;
}

/**
 * The App Engine service a plan's service becomes: App Engine needs a `default` service before any
 * other, so the first service of the plan (spec order, services before BFFs) is deployed as `default`.
 */
export function appEngineServiceName(plan: { readonly services: readonly { readonly name: string }[] }, service: string): string {
  if (!plan.services.some((s) => s.name === service)) {
    throw new Error(`appEngineServiceName: "${service}" is not in plan.services. Fix: use one of ${plan.services.map((s) => s.name).join(", ")}`);
  }
  return plan.services[0]!.name === service ? "default" : service;
}

/** Pub/Sub topic of an event; prefixed with the landing zone so several zones share a project. */
export function pubsubTopicName(zone: string, event: string): string {
  return `${zone}-${event}`;
}

/** Pub/Sub subscription of a plan subscription (`<subscriber>_<event>`), prefixed like its topic. */
export function pubsubSubscriptionName(zone: string, subscription: string): string {
  return `${zone}-${subscription}`;
}

/**
 * The image a service runs on GCP: the plan's image under its Artifact Registry repository
 * (`<region>-docker.pkg.dev/<project>/<repository>/<image>`), or the spec's own image unchanged.
 */
export function gcpImage(service: Pick<ServicePlan, "image" | "repository">, repositoryUrl: string): string {
  return service.image.startsWith(`${service.repository}:`) ? `${repositoryUrl}/${service.image}` : service.image;
}

/**
 * Tags as GCP labels: keys and values lowercase letters, digits, '_' and '-' (at most 63), keys
 * starting with a letter; other characters become '_' (`msa:landing-zone` → `msa_landing-zone`).
 */
export function gcpLabels(tags: Readonly<Record<string, string>>): Record<string, string> {
  const clean = (text: string) => text.toLowerCase().replace(/[^a-z0-9_-]/g, "_").slice(0, 63);
  return Object.fromEntries(
    Object.entries(tags).map(([key, value]) => {
      const k = clean(key);
      return [/^[a-z]/.test(k) ? k : `x${k}`.slice(0, 63), clean(value)];
    }),
  );
}
