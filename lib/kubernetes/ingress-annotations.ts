import type { LandingZonePlan } from "../plan/types.js";
import { serviceHost } from "./workload.js";

/**
 * Annotations of every Ingress on the landing zone's ingress-nginx controller: the gateway's
 * per-client rate limit and, for a `meshTarget` Service of the workloads namespace with a mesh,
 * calls to it by its cluster name so the controller's sidecar applies mutual TLS.
 */
export function gatewayIngressAnnotations(plan: LandingZonePlan, meshTarget?: string): Record<string, string> {
  const { rateLimit } = plan.gateway;
  const burstMultiplier = Math.max(1, Math.ceil(rateLimit.burst / rateLimit.requestsPerSecond));
  return {
    // Per client address, as nginx limits: requests per second and the burst above it.
    "nginx.ingress.kubernetes.io/limit-rps": String(rateLimit.requestsPerSecond),
    "nginx.ingress.kubernetes.io/limit-burst-multiplier": String(burstMultiplier),
    ...(plan.mesh && meshTarget ? { "nginx.ingress.kubernetes.io/service-upstream": "true", "nginx.ingress.kubernetes.io/upstream-vhost": serviceHost(plan, meshTarget) } : {}),
  };
}
