import { AuthorizationPolicy, RequestAuthentication } from "@kubernetes-models/istio/security.istio.io/v1";
import type { LandingZonePlan, ServicePlan } from "../plan/types.js";
import { labelsFor, selectorFor } from "./labels.js";
import { workloadNamespace } from "./namespace.js";
import { validatedManifest } from "./render.js";
import type { ManifestObject } from "./types.js";

/** The identity provider whose JWTs a service accepts (any OIDC issuer: Identity Platform, Entra ID, Cognito, Keycloak). */
export interface JwtIssuer {
  /** `iss` claim, e.g. https://securetoken.google.com/<project>. */
  readonly issuer: string;
  /** Where the signing keys are published. */
  readonly jwksUri: string;
  /** Accepted `aud` values. */
  readonly audiences: readonly string[];
}

/**
 * Client-token checks in the mesh, for clouds whose load balancer cannot validate JWTs itself: a
 * RequestAuthentication rejecting any token not signed by `issuer` for `audiences`, and an
 * AuthorizationPolicy admitting only callers with a valid token, mesh peers of the same namespace
 * (mutual TLS identities) and health checks of the service's health path. Needs a mesh.
 */
export function jwtPolicies(plan: LandingZonePlan, service: ServicePlan, issuer: JwtIssuer): ManifestObject[] {
  if (!plan.mesh) throw new Error(`jwtPolicies: plan.mesh is undefined, but Istio enforces the token checks. Fix: set mesh.kind: istio, or validate tokens elsewhere`);
  if (!/^https:\/\/[^\s/]+(\/\S*)?$/.test(issuer.issuer)) throw new Error(`jwtPolicies issuer.issuer: "${issuer.issuer}" is not an https URL. Fix: pass the issuer's iss claim, e.g. https://securetoken.google.com/<project>`);
  if (!/^https:\/\/\S+$/.test(issuer.jwksUri)) throw new Error(`jwtPolicies issuer.jwksUri: "${issuer.jwksUri}" is not an https URL. Fix: pass the issuer's JWKS URL`);
  if (issuer.audiences.length === 0) throw new Error(`jwtPolicies issuer.audiences: empty, so any audience would pass. Fix: list the audiences the tokens are issued for`);
  const namespace = workloadNamespace(plan);
  const labels = labelsFor(plan, service.name);
  const selector = { matchLabels: selectorFor(plan, service.name) };
  return [
    validatedManifest(
      new RequestAuthentication({
        metadata: { name: `${service.name}-jwt`, namespace, labels },
        spec: { selector, jwtRules: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: [...issuer.audiences], forwardOriginalToken: true }] },
      }),
    ),
    validatedManifest(
      new AuthorizationPolicy({
        metadata: { name: `${service.name}-require-jwt`, namespace, labels },
        spec: {
          selector,
          action: "ALLOW",
          rules: [
            { from: [{ source: { requestPrincipals: [`${issuer.issuer}/*`] } }] },
            { from: [{ source: { namespaces: [namespace] } }] },
            { to: [{ operation: { methods: ["GET"], paths: [service.healthPath] } }] },
          ],
        },
      }),
    ),
  ];
}
