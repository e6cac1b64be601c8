import { DestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule";
import { VirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import { PeerAuthentication } from "@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication";
import type { LandingZonePlan, ServicePlan } from "../plan/types.js";
import { extAuthzProvider } from "./gateway-auth.js";
import { MANAGED_BY, labelsFor } from "./labels.js";
import { workloadNamespace } from "./namespace.js";
import { validatedManifest } from "./render.js";
import type { AddOn, HelmReleaseSpec, ManifestObject } from "./types.js";
import { SERVICE_PORT, serviceHost } from "./workload.js";

export const ISTIO_NAMESPACE = "istio-system";
export const ISTIO_CHART_REPOSITORY = "https://istio-release.storage.googleapis.com/charts";

/**
 * Istio (charts `base` then `istiod`, version from the plan) and a mesh-wide PeerAuthentication
 * with the plan's mTLS mode; undefined when the plan has no mesh.
 */
export function meshAddOn(plan: LandingZonePlan): AddOn | undefined {
  const mesh = plan.mesh;
  if (!mesh) return undefined;
  const release = (name: string, values: Record<string, unknown>): HelmReleaseSpec => ({
    name: name === "base" ? "istio-base" : name,
    namespace: ISTIO_NAMESPACE,
    chart: name,
    repository: ISTIO_CHART_REPOSITORY,
    version: mesh.version,
    values,
    createNamespace: true,
  });
  const prod = plan.environment === "prod";
  const authProvider = plan.decisions.some((d) => d.capability === "authService" && d.implementation.includes("ext-authz")) ? extAuthzProvider(plan) : undefined;
  return {
    name: "istio",
    namespace: ISTIO_NAMESPACE,
    helmReleases: [
      release("base", { defaultRevision: "default" }),
      release("istiod", {
        // Two control-plane replicas in prod so a node drain never stops certificate issuance.
        pilot: { autoscaleMin: prod ? 2 : 1, replicaCount: prod ? 2 : 1 },
        meshConfig: {
          // Envoy access logs on stdout reach the log pipeline with every other container log.
          accessLogFile: "/dev/stdout",
          // A gateway delegating to the auth service through the mesh (ext-authz) needs it as a provider.
          ...(authProvider ? { extensionProviders: [authProvider] } : {}),
        },
      }),
    ],
    manifests: [
      validatedManifest(
        new PeerAuthentication({
          // A PeerAuthentication named default in the root namespace applies to the whole mesh.
          metadata: { name: "default", namespace: ISTIO_NAMESPACE, labels: { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY } },
          spec: { mtls: { mode: mesh.mtls } },
        }),
      ),
    ],
    dependsOn: [],
  };
}

/**
 * A service's circuit breaker (DestinationRule outlier detection and connection pool, mutual TLS)
 * and retries/timeout (VirtualService), from the plan's mesh settings; [] without a mesh.
 */
export function servicePolicies(plan: LandingZonePlan, service: ServicePlan): ManifestObject[] {
  const mesh = plan.mesh;
  if (!mesh) return [];
  const namespace = workloadNamespace(plan);
  const host = serviceHost(plan, service.name);
  const labels = labelsFor(plan, service.name);
  const breaker = mesh.circuitBreaker;
  return [
    validatedManifest(
      new DestinationRule({
        metadata: { name: service.name, namespace, labels },
        spec: {
          host,
          trafficPolicy: {
            connectionPool: { tcp: { maxConnections: breaker.maxConnections }, http: { http1MaxPendingRequests: breaker.maxPendingRequests } },
            outlierDetection: {
              consecutive5xxErrors: breaker.consecutiveErrors,
              interval: "10s",
              baseEjectionTime: `${breaker.ejectSeconds}s`,
              maxEjectionPercent: breaker.maxEjectionPercent,
            },
            tls: { mode: "ISTIO_MUTUAL" },
          },
        },
      }),
    ),
    validatedManifest(
      new VirtualService({
        metadata: { name: service.name, namespace, labels },
        spec: {
          hosts: [host],
          http: [
            {
              route: [{ destination: { host, port: { number: SERVICE_PORT } } }],
              retries: {
                attempts: mesh.retries.attempts,
                perTryTimeout: `${mesh.retries.perTryTimeoutSeconds}s`,
                // Istio's default conditions without 5xx, so the mesh does not re-run a failed non-idempotent call.
                retryOn: "connect-failure,refused-stream,unavailable,cancelled",
              },
              timeout: `${mesh.timeoutSeconds}s`,
            },
          ],
        },
      }),
    ),
  ];
}
