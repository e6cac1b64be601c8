/**
 * The gateway's token check on App Engine flexible: Google's Extensible Service Proxy (ESP), which
 * App Engine runs beside the app in every instance of a version that names a Cloud Endpoints service
 * (`endpoints_api_service`). ESP takes the requests App Engine's front end would give the app and
 * validates their JWT against the OpenAPI 2.0 document of that service. Pure: no engine import.
 *
 * Why ESP: the load balancer reaches App Engine through a serverless NEG, so no proxy of ours can
 * stand between them; ESP is the one proxy App Engine flexible itself places in front of the app
 * (ESPv2 does not run there). One Endpoints service per exposed service, not one shared: each
 * version names exactly one service, each service's unchecked paths differ (its health path), and a
 * rollout of one service's document then never reaches another.
 */

import type { LandingZoneSpec } from "../spec/types.js";
import { publicPaths } from "./edge-proxy.js";
import { physicalName } from "./naming.js";
import { CLOUD_TRACE_ROLE } from "./tracing.js";
import type { LandingZonePlan, ServicePlan } from "./types.js";

/** The Endpoints proxies of a landing zone on App Engine with `gateway.auth: jwt`; absent elsewhere. */
export interface EndpointsProxyPlan {
  /** Exposed services and BFFs, each of which gets its Endpoints service and ESP. */
  readonly services: readonly string[];
}

/** An issuer ESP validates tokens of. */
export interface EndpointsIssuer {
  /** `iss` claim, an https URL. */
  readonly issuer: string;
  /**
   * Where its signing keys are published.
   * @default - ESP reads the issuer's OpenID discovery document
   */
  readonly jwksUri?: string;
  /** Accepted `aud` values; ESP needs at least one (without any it accepts only the Endpoints service's own name). */
  readonly audiences: readonly string[];
}

/**
 * What ESP needs of the runtime account beyond the app's own grants: Service Control check and
 * report on its own Endpoints service only, and writing the spans ESP samples to Cloud Trace
 * (granted on the project, the lowest level that role applies to).
 */
export const ESP_SERVICE_ROLE = "roles/servicemanagement.serviceController";
export const ESP_PROJECT_ROLES = [CLOUD_TRACE_ROLE] as const;

/** Name of the security definition every checked path requires. */
export const ESP_SECURITY_DEFINITION = "gateway_jwt";
/** The HTTP methods an OpenAPI 2.0 path item can hold: all of them, so no method passes unchecked. */
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch"] as const;

/** The Endpoints proxies when the gateway validates tokens on GCP App Engine; undefined elsewhere. */
export function planEndpointsProxy(spec: LandingZoneSpec, services: readonly ServicePlan[]): EndpointsProxyPlan | undefined {
  if (spec.cloud !== "gcp" || spec.tier !== "paas" || spec.gateway.auth !== "jwt") return undefined;
  return { services: services.filter((s) => s.expose).map((s) => s.name) };
}

/** Spec problems ESP would hit, with their fix; empty when it is not planned. */
export function endpointsProxyProblems(spec: LandingZoneSpec): string[] {
  if (spec.cloud !== "gcp" || spec.tier !== "paas" || spec.gateway.auth !== "jwt") return [];
  if (spec.auth.issuer && spec.auth.audiences.length === 0) {
    return [`auth.audiences: empty, but on gcp/paas the Endpoints proxy (ESP) accepts tokens of "${spec.auth.issuer}" only for the audiences it is given. Fix: set auth.audiences to the aud values your issuer puts in its tokens`];
  }
  return [];
}

/** The DNS label of a service's Endpoints service: `<label>.endpoints.<project>.cloud.goog`. */
export function endpointsServiceLabel(plan: LandingZonePlan, service: string): string {
  // A DNS label, as a Kubernetes name is; a deleted Endpoints name stays reserved for 30 days, so it is stable.
  return physicalName("kubernetes", plan.name, plan.environment, service);
}

/** The full Endpoints service name of a service in a project. */
export function endpointsServiceName(plan: LandingZonePlan, service: string, projectId: string): string {
  return `${endpointsServiceLabel(plan, service)}.endpoints.${projectId}.cloud.goog`;
}

/**
 * The OpenAPI 2.0 document of a service's Endpoints service: every method of every path (`/**`)
 * requires a JWT of `issuer` (its keys, its audiences), except the service's {@link publicPaths},
 * which carry an empty security requirement. ESP's path trie matches a literal segment before the
 * `**` wildcard (cloudendpoints/esp path_matcher_node.cc), so the public paths win where both match.
 */
export function endpointsOpenApi(plan: LandingZonePlan, service: ServicePlan, issuer: EndpointsIssuer, serviceName: string): Record<string, unknown> {
  const proxy = plan.endpointsProxy;
  if (!proxy) throw new Error(`endpointsOpenApi: plan.endpointsProxy is undefined (cloud ${plan.cloud}, tier ${plan.tier}, gateway.auth ${plan.spec.gateway.auth}). Fix: use it only for gcp paas with gateway.auth: jwt`);
  if (!proxy.services.includes(service.name)) throw new Error(`endpointsOpenApi: service "${service.name}" is not exposed, so no Endpoints service stands in front of it. Fix: use one of ${proxy.services.join(", ")}`);
  if (!/^https:\/\/[^\s/]+(\/\S*)?$/.test(issuer.issuer)) throw new Error(`endpointsOpenApi issuer.issuer: "${issuer.issuer}" is not an https URL. Fix: use the issuer's iss claim`);
  if (issuer.jwksUri !== undefined && !issuer.jwksUri.startsWith("https://")) throw new Error(`endpointsOpenApi issuer.jwksUri: "${issuer.jwksUri}" is not https. Fix: use the issuer's https jwks_uri`);
  if (issuer.audiences.length === 0) throw new Error(`endpointsOpenApi issuer.audiences: empty, and ESP would then accept only tokens for "${serviceName}". Fix: pass the audiences the issuer's tokens carry (auth.audiences)`);

  const operations = (id: string, open: boolean) =>
    Object.fromEntries(METHODS.map((method) => [method, { operationId: `${method}${id}`, ...(open ? { security: [] } : {}), responses: { default: { description: "Any response of the service" } } }]));
  const paths: Record<string, unknown> = {};
  publicPaths(plan, service).forEach((match, i) => {
    const path = "path" in match ? match.path : `${match.prefix}**`;
    paths[path] = operations(`Public${i}`, true);
  });
  paths["/**"] = operations("Checked", false);
  return {
    swagger: "2.0",
    info: { title: `${plan.name} ${service.name}`, description: `Gateway token check of ${service.name} (msa-landing-zone)`, version: "1.0.0" },
    host: serviceName,
    basePath: "/",
    schemes: ["https"],
    // Only the paths above reach the app ("configured" is ESP's default, said here so no one flips it).
    "x-google-allow": "configured",
    paths,
    securityDefinitions: {
      [ESP_SECURITY_DEFINITION]: {
        type: "oauth2",
        flow: "implicit",
        authorizationUrl: "",
        "x-google-issuer": issuer.issuer,
        ...(issuer.jwksUri ? { "x-google-jwks_uri": issuer.jwksUri } : {}),
        "x-google-audiences": issuer.audiences.join(","),
      },
    },
    security: [{ [ESP_SECURITY_DEFINITION]: [] }],
  };
}
