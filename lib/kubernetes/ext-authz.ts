import { AuthorizationPolicy } from "@kubernetes-models/istio/security.istio.io/v1";
import type { LandingZonePlan, ServicePlan } from "../plan/types.js";
import { labelsFor, selectorFor } from "./labels.js";
import { workloadNamespace } from "./namespace.js";
import { validatedManifest } from "./render.js";
import type { ManifestObject } from "./types.js";
import { SERVICE_PORT, serviceHost } from "./workload.js";

/** Name of the mesh's extension provider that delegates checks to the dedicated auth service. */
export const AUTH_SERVICE_PROVIDER = "auth-service";
/** Request headers the auth service sees; it answers 2xx to admit, anything else to refuse. */
export const AUTH_SERVICE_CHECKED_HEADERS = ["authorization", "cookie"] as const;

/**
 * The istiod Helm values that register the plan's dedicated auth service (`plan.gateway.authService`)
 * as an HTTP ext-authz provider; deep-merge them over the mesh add-on's `istiod` values.
 */
export function authServiceMeshValues(plan: LandingZonePlan): Record<string, unknown> {
  const auth = authServiceOf(plan);
  return {
    meshConfig: {
      extensionProviders: [{ name: AUTH_SERVICE_PROVIDER, envoyExtAuthzHttp: { service: serviceHost(plan, auth.name), port: SERVICE_PORT, includeRequestHeadersInCheck: [...AUTH_SERVICE_CHECKED_HEADERS] } }],
    },
  };
}

/**
 * The seed's third auth design on a mesh: every request reaching `service` from outside its
 * namespace (the load balancer, other namespaces) is first checked by the dedicated auth service;
 * mesh peers of the namespace and the health checks pass without it. The auth service itself is not
 * guarded by its own check.
 */
export function authServicePolicy(plan: LandingZonePlan, service: ServicePlan): ManifestObject[] {
  const auth = authServiceOf(plan);
  if (service.name === auth.name) return [];
  const namespace = workloadNamespace(plan);
  return [
    validatedManifest(
      new AuthorizationPolicy({
        metadata: { name: `${service.name}-auth-service`, namespace, labels: labelsFor(plan, service.name) },
        spec: {
          selector: { matchLabels: selectorFor(plan, service.name) },
          action: "CUSTOM",
          provider: { name: AUTH_SERVICE_PROVIDER },
          rules: [{ from: [{ source: { notNamespaces: [namespace] } }], to: [{ operation: { notPaths: [service.healthPath] } }] }],
        },
      }),
    ),
  ];
}

function authServiceOf(plan: LandingZonePlan): ServicePlan {
  if (!plan.mesh) throw new Error(`authServicePolicy: plan.mesh is undefined, but Istio delegates the checks. Fix: set mesh.kind: istio`);
  const name = plan.gateway.authService;
  const auth = plan.services.find((s) => s.name === name);
  if (!auth) throw new Error(`authServicePolicy: plan.gateway.authService is ${name === undefined ? "unset" : `"${name}", which is not a service`}. Fix: set auth.service to one of your services`);
  return auth;
}
