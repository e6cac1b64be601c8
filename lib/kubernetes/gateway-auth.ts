import { AuthorizationPolicy, RequestAuthentication } from "@kubernetes-models/istio/security.istio.io/v1";
import { AUTHORIZATION_HEADER } from "../plan/auth.js";
import type { LandingZonePlan } from "../plan/types.js";
import { MANAGED_BY } from "./labels.js";
import { workloadNamespace } from "./namespace.js";
import { validatedManifest } from "./render.js";
import type { ManifestObject } from "./types.js";
import { SERVICE_PORT, serviceHost } from "./workload.js";

/** Name of the mesh's ext-authz provider for the zone's auth service. */
export function extAuthzProviderName(plan: LandingZonePlan): string {
  return `${plan.name}-auth-service`;
}

/**
 * The istiod `meshConfig.extensionProviders` entry for `gateway.auth: authorizer`: an HTTP ext-authz
 * call to the auth service's Service, asking `<authorizePath><original path>` with the caller's
 * Authorization header (the same request the AWS gateway's authorizer makes). Undefined without one.
 */
export function extAuthzProvider(plan: LandingZonePlan): Record<string, unknown> | undefined {
  const authorizer = plan.auth?.authorizer;
  if (!authorizer) return undefined;
  return {
    name: extAuthzProviderName(plan),
    envoyExtAuthzHttp: {
      service: serviceHost(plan, authorizer.service),
      port: SERVICE_PORT,
      pathPrefix: authorizer.authorizePath,
      includeRequestHeadersInCheck: [AUTHORIZATION_HEADER],
      timeout: `${authorizer.timeoutSeconds}s`,
    },
  };
}

/**
 * The gateway's checks as mesh policies in the workloads namespace, for calls coming in through the
 * in-cluster gateway (whose sidecar gives it the identity of `gatewayNamespace`); calls between
 * services stay under mutual TLS alone.
 * - tokens: a RequestAuthentication for the issuer, and a DENY policy for gateway calls without a valid token;
 * - authorizer: a CUSTOM policy delegating gateway calls to the auth service, except its own routes (sign-in).
 */
export function gatewayAuthPolicies(plan: LandingZonePlan, gatewayNamespace: string): ManifestObject[] {
  const auth = plan.auth;
  if (!auth) return [];
  if (!plan.mesh) {
    throw new Error(`gatewayAuthPolicies: plan.auth asks the gateway to check callers, but plan.mesh is undefined and these checks are Istio policies. Fix: set mesh.kind: istio, or gateway.auth: none`);
  }
  const namespace = workloadNamespace(plan);
  const labels = { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY };
  const fromGateway = { source: { namespaces: [gatewayNamespace] } };
  const objects: ManifestObject[] = [];
  if (auth.tokens) {
    const { issuer, jwksUri, audiences } = auth.tokens;
    if (!issuer) {
      throw new Error(`gatewayAuthPolicies: plan.auth.tokens has no issuer; Istio validates tokens against the issuer's keys. Fix: set auth.issuer in the spec`);
    }
    objects.push(
      validatedManifest(
        new RequestAuthentication({
          metadata: { name: "gateway-jwt", namespace, labels },
          spec: { jwtRules: [{ issuer, ...(jwksUri ? { jwksUri } : {}), ...(audiences.length > 0 ? { audiences: [...audiences] } : {}), forwardOriginalToken: true }] },
        }),
      ),
      validatedManifest(
        new AuthorizationPolicy({
          metadata: { name: "gateway-require-jwt", namespace, labels },
          // An invalid token is already rejected by the RequestAuthentication; this denies a missing one.
          spec: { action: "DENY", rules: [{ from: [{ source: { ...fromGateway.source, notRequestPrincipals: ["*"] } }] }] },
        }),
      ),
    );
  }
  if (auth.authorizer) {
    const own = auth.authorizer.servicePath === "/" ? [] : [auth.authorizer.servicePath, `${auth.authorizer.servicePath}/*`];
    objects.push(
      validatedManifest(
        new AuthorizationPolicy({
          metadata: { name: "gateway-ext-authz", namespace, labels },
          spec: {
            action: "CUSTOM",
            provider: { name: extAuthzProviderName(plan) },
            rules: [{ from: [fromGateway], ...(own.length > 0 ? { to: [{ operation: { notPaths: own } }] } : {}) }],
          },
        }),
      ),
    );
  }
  return objects;
}
