import { AuthorizationPolicy } from "@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy";
import { RequestAuthentication } from "@kubernetes-models/istio/security.istio.io/v1/RequestAuthentication";
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

/** The identity provider whose JWTs the mesh accepts (any OIDC issuer: Identity Platform, Entra ID, Keycloak). */
export interface JwtIssuer {
  /** `iss` claim, an https URL. */
  readonly issuer: string;
  /**
   * Where the signing keys are published.
   * @default - found through the issuer's OpenID discovery document
   */
  readonly jwksUri?: string;
  /** Accepted `aud` values; empty accepts any audience. */
  readonly audiences: readonly string[];
}

/**
 * Where the gateway's calls enter the workloads namespace:
 * - `in-cluster`: through an ingress controller whose sidecar gives it the identity of `namespace`;
 * - `load-balancer`: straight from a cloud load balancer to the pods (GKE NEGs), with no mesh
 *   identity, so calls from outside the namespace are the gateway's, except the balancer's health checks.
 */
export type GatewayEntry = { readonly kind: "in-cluster"; readonly namespace: string } | { readonly kind: "load-balancer" };

export interface GatewayAuthOptions {
  /**
   * The token issuer, when the landing zone creates it and knows it only at deployment (Identity Platform).
   * @default - plan.auth.tokens' issuer (`auth.issuer` in the spec)
   */
  readonly issuer?: JwtIssuer;
}

/**
 * The gateway's checks as mesh policies in the workloads namespace, for calls entering through the
 * gateway; calls between services stay under mutual TLS alone.
 * - tokens: a RequestAuthentication for the issuer, and a DENY policy for gateway calls without a valid token;
 * - authorizer: a CUSTOM policy delegating gateway calls to the auth service (the mesh's
 *   `extAuthzProvider`), except its own routes (sign-in).
 * A load balancer's health checks (the services' health paths) pass without either.
 */
export function gatewayAuthPolicies(plan: LandingZonePlan, entry: GatewayEntry, options: GatewayAuthOptions = {}): ManifestObject[] {
  const auth = plan.auth;
  if (!auth) return [];
  if (!plan.mesh) {
    throw new Error(`gatewayAuthPolicies: plan.auth asks the gateway to check callers, but plan.mesh is undefined and these checks are Istio policies. Fix: set mesh.kind: istio, or gateway.auth: none`);
  }
  const namespace = workloadNamespace(plan);
  const labels = { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY };
  const source = entry.kind === "in-cluster" ? { namespaces: [entry.namespace] } : { notNamespaces: [namespace] };
  const healthChecks = entry.kind === "load-balancer" ? [...new Set(plan.services.filter((s) => s.expose).map((s) => s.healthPath))] : [];
  const unchecked = (paths: readonly string[]) => (paths.length > 0 ? { to: [{ operation: { notPaths: [...paths] } }] } : {});
  const objects: ManifestObject[] = [];
  if (auth.tokens) {
    const issuer = options.issuer ?? (auth.tokens.issuer ? { issuer: auth.tokens.issuer, ...(auth.tokens.jwksUri ? { jwksUri: auth.tokens.jwksUri } : {}), audiences: auth.tokens.audiences } : undefined);
    if (!issuer) {
      throw new Error(`gatewayAuthPolicies: plan.auth.tokens has no issuer; Istio validates tokens against the issuer's keys. Fix: set auth.issuer in the spec, or pass options.issuer`);
    }
    if (!/^https:\/\/[^\s/]+(\/\S*)?$/.test(issuer.issuer)) throw new Error(`gatewayAuthPolicies issuer: "${issuer.issuer}" is not an https URL. Fix: use the issuer's iss claim, e.g. https://login.example.com`);
    objects.push(
      validatedManifest(
        new RequestAuthentication({
          metadata: { name: "gateway-jwt", namespace, labels },
          spec: { jwtRules: [{ issuer: issuer.issuer, ...(issuer.jwksUri ? { jwksUri: issuer.jwksUri } : {}), ...(issuer.audiences.length > 0 ? { audiences: [...issuer.audiences] } : {}), forwardOriginalToken: true }] },
        }),
      ),
      validatedManifest(
        new AuthorizationPolicy({
          metadata: { name: "gateway-require-jwt", namespace, labels },
          // An invalid token is already rejected by the RequestAuthentication; this denies a missing one.
          spec: { action: "DENY", rules: [{ from: [{ source: { ...source, notRequestPrincipals: ["*"] } }], ...unchecked(healthChecks) }] },
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
          spec: { action: "CUSTOM", provider: { name: extAuthzProviderName(plan) }, rules: [{ from: [{ source }], ...unchecked([...own, ...healthChecks]) }] },
        }),
      ),
    );
  }
  return objects;
}
