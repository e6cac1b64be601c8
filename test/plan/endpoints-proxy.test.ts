import { describe, expect, it } from "vitest";
import { endpointsOpenApi, endpointsServiceLabel, endpointsServiceName, ESP_PROJECT_ROLES, ESP_SECURITY_DEFINITION, ESP_SERVICE_ROLE, PlanError, planLandingZone } from "../../lib/plan/index.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import { edgeAuthShop, IDENTITY_PLATFORM_ISSUER } from "../fixtures/edge-auth.js";

const base = { ...edgeAuthShop("paas"), gateway: { auth: "jwt" } } satisfies LandingZoneInput;
const issuer = IDENTITY_PLATFORM_ISSUER;
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch"];

type Json = Record<string, any>;

describe("Endpoints proxy (ESP) plan", () => {
  it("is planned on GCP App Engine with gateway.auth: jwt, in front of every exposed service only", () => {
    expect(planLandingZone(base).endpointsProxy).toEqual({ services: ["orders", "auth", "web"] });
    expect(planLandingZone(base).edgeProxy).toBeUndefined();
  });

  it("is not planned without a token check, with an auth service, or off App Engine", () => {
    expect(planLandingZone({ ...base, gateway: { auth: "none" } }).endpointsProxy).toBeUndefined();
    expect(planLandingZone({ ...base, gateway: { auth: "authorizer" }, auth: { service: "auth" } }).endpointsProxy).toBeUndefined();
    expect(planLandingZone({ ...base, tier: "iaas" }).endpointsProxy).toBeUndefined();
    expect(planLandingZone({ ...base, tier: "caas", mesh: { kind: "istio" } }).endpointsProxy).toBeUndefined();
  });

  it("refuses an external issuer without audiences, naming auth.audiences and the fix", () => {
    const plan = () => planLandingZone({ ...base, auth: { issuer: "https://issuer.example.com/" } });
    expect(plan).toThrow(PlanError);
    expect(plan).toThrow(/auth\.audiences: empty, but on gcp\/paas the Endpoints proxy \(ESP\) accepts tokens of "https:\/\/issuer\.example\.com\/" only for the audiences it is given\. Fix: set auth\.audiences/);
    expect(planLandingZone({ ...base, auth: { issuer: "https://issuer.example.com/", audiences: ["shop-api"] } }).endpointsProxy?.services).toContain("orders");
  });

  it("names one Endpoints service per service under the project's cloud.goog domain, as a DNS label", () => {
    const plan = planLandingZone(base);
    expect(endpointsServiceName(plan, "orders", "p-1")).toBe("shop-dev-orders.endpoints.p-1.cloud.goog");
    const long = planLandingZone({ ...base, name: `shop-${"x".repeat(15)}`, services: [{ name: `orders-${"y".repeat(33)}` }] });
    expect(endpointsServiceLabel(long, long.services[0]!.name)).toMatch(/^[a-z][a-z0-9-]{0,61}[a-z0-9]$/);
    expect(endpointsServiceLabel(long, long.services[0]!.name)).toHaveLength(63);
  });

  it("grants ESP Service Control on its own service and Cloud Trace, nothing else", () => {
    expect(ESP_SERVICE_ROLE).toBe("roles/servicemanagement.serviceController");
    expect(ESP_PROJECT_ROLES).toEqual(["roles/cloudtrace.agent"]);
  });
});

describe("endpointsOpenApi", () => {
  const plan = planLandingZone(base);
  const orders = plan.services.find((s) => s.name === "orders")!;
  const doc = endpointsOpenApi(plan, orders, issuer, "shop-dev-orders.endpoints.p-1.cloud.goog") as Json;

  it("is an OpenAPI 2.0 document for the Endpoints service, serving only the paths it lists", () => {
    expect(doc).toMatchObject({ swagger: "2.0", host: "shop-dev-orders.endpoints.p-1.cloud.goog", basePath: "/", "x-google-allow": "configured" });
  });

  it("validates the issuer's tokens with its keys and audiences", () => {
    expect(doc["securityDefinitions"]).toEqual({
      [ESP_SECURITY_DEFINITION]: {
        type: "oauth2",
        flow: "implicit",
        authorizationUrl: "",
        "x-google-issuer": "https://securetoken.google.com/p-1",
        "x-google-jwks_uri": issuer.jwksUri,
        "x-google-audiences": "p-1",
      },
    });
    expect(doc["security"]).toEqual([{ [ESP_SECURITY_DEFINITION]: [] }]);
    const two = endpointsOpenApi(plan, orders, { issuer: "https://issuer.example.com/", audiences: ["a", "b"] }, "h") as Json;
    expect(two["securityDefinitions"][ESP_SECURITY_DEFINITION]["x-google-audiences"]).toBe("a,b");
    expect(two["securityDefinitions"][ESP_SECURITY_DEFINITION]["x-google-jwks_uri"]).toBeUndefined();
  });

  it("requires a token on every method of every path, except the service's health path", () => {
    expect(Object.keys(doc["paths"])).toEqual(["/ready", "/**"]);
    for (const method of METHODS) {
      expect(doc["paths"]["/**"][method].security, method).toBeUndefined();
      expect(doc["paths"]["/ready"][method].security, method).toEqual([]);
    }
    const ids = Object.values(doc["paths"] as Record<string, Record<string, Json>>).flatMap((item) => Object.values(item).map((op) => op["operationId"]));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("refuses what ESP cannot use, naming the argument and the fix", () => {
    const worker = plan.services.find((s) => s.name === "worker")!;
    expect(() => endpointsOpenApi(plan, worker, issuer, "h")).toThrow(/service "worker" is not exposed.*Fix: use one of orders, auth, web/);
    expect(() => endpointsOpenApi(plan, orders, { ...issuer, issuer: "http://insecure" }, "h")).toThrow(/issuer\.issuer: "http:\/\/insecure" is not an https URL/);
    expect(() => endpointsOpenApi(plan, orders, { ...issuer, jwksUri: "http://keys" }, "h")).toThrow(/issuer\.jwksUri: "http:\/\/keys" is not https/);
    expect(() => endpointsOpenApi(plan, orders, { ...issuer, audiences: [] }, "h")).toThrow(/issuer\.audiences: empty.*Fix: pass the audiences/);
    expect(() => endpointsOpenApi(planLandingZone({ ...base, tier: "iaas" }), orders, issuer, "h")).toThrow(/plan\.endpointsProxy is undefined.*Fix: use it only for gcp paas/);
  });
});
