/**
 * Where services export OTLP, decided once for every target. On GCP App Engine no collector can run
 * beside a flexible service (App Engine runs only the app's container and ESP), so the zone runs one
 * central collector on the logging cluster it already has there, behind an internal passthrough load
 * balancer at a fixed private address of the subnet the flexible instances join. Pure: no engine import.
 */

import type { LandingZoneSpec } from "../spec/types.js";
import { formatCidr, parseCidr } from "./cidr.js";
import { gcpNetworkLayout } from "./gcp.js";
import { collectorEndpoint } from "./tracing.js";
import type { NetworkPlan } from "./types.js";

/** Port of OTLP over gRPC, the protocol every service is told to use. */
const OTLP_GRPC_PORT = 4317;

/** The central collector's in-cluster place on the logging cluster: the Helm release and its ServiceAccount share the name. */
export const CENTRAL_COLLECTOR = { name: "otel-collector", namespace: "observability" } as const;

/** Whether a spec's services export to a central collector on the logging cluster (GCP App Engine). */
export function usesCentralCollector(spec: Pick<LandingZoneSpec, "cloud" | "tier">): boolean {
  return spec.cloud === "gcp" && spec.tier === "paas";
}

/**
 * The central collector's private address: the last address of the services' subnet Google lets a
 * resource hold (it keeps the second-to-last and the broadcast address), so it is known before
 * anything is deployed and is the last an automatic allocation would hand out.
 */
export function centralCollectorAddress(network: Pick<NetworkPlan, "cidr" | "podsCidr" | "servicesCidr">): string {
  const subnet = parseCidr(gcpNetworkLayout(network).subnet);
  const last = subnet.base + 2 ** (32 - subnet.prefix) - 3;
  return formatCidr({ base: last >>> 0, prefix: 32 }).replace(/\/32$/, "");
}

/** The OTLP endpoint every service of the plan gets: the central collector on App Engine, else the tier's collector. */
export function planCollectorEndpoint(spec: LandingZoneSpec, network: Pick<NetworkPlan, "cidr" | "podsCidr" | "servicesCidr">): string {
  return usesCentralCollector(spec) ? `http://${centralCollectorAddress(network)}:${OTLP_GRPC_PORT}` : collectorEndpoint(spec.tier);
}

/** Spec problems of the central collector, with their fix; empty when it is not used or not asked for. */
export function centralCollectorProblems(spec: LandingZoneSpec): string[] {
  if (!usesCentralCollector(spec) || spec.tracing.backend === "none" || spec.logging.stack === "elk") return [];
  return [
    `tracing.backend: "${spec.tracing.backend}" on gcp/paas exports through a collector on the logging cluster, but logging.stack is "${spec.logging.stack}", so there is none. Fix: set logging.stack: elk, or tracing.backend: none`,
  ];
}
