import { AuthorizationPolicy, RequestAuthentication } from "@kubernetes-models/istio/security.istio.io/v1";
import { describe, expect, it } from "vitest";
import { jwtPolicies } from "../../lib/kubernetes/index.js";
import { noMeshPlan, prodPlan, single } from "./fixtures.js";

const issuer = { issuer: "https://securetoken.google.com/p", jwksUri: "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com", audiences: ["p"] };
const orders = prodPlan.services.find((s) => s.name === "orders")!;

describe("jwtPolicies", () => {
  const objects = jwtPolicies(prodPlan, orders, issuer);

  it("validates tokens of the issuer for its audience on the service's pods", () => {
    const request = single(objects, "RequestAuthentication");
    new RequestAuthentication(request as never).validate();
    expect(request.spec).toEqual({
      selector: { matchLabels: { "app.kubernetes.io/name": "orders", "app.kubernetes.io/part-of": "shop" } },
      jwtRules: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: ["p"], forwardOriginalToken: true }],
    });
  });

  it("admits only token holders, mesh peers of the namespace and the health check", () => {
    const policy = single(objects, "AuthorizationPolicy");
    new AuthorizationPolicy(policy as never).validate();
    expect(policy.spec.action).toBe("ALLOW");
    expect(policy.spec.rules).toEqual([
      { from: [{ source: { requestPrincipals: ["https://securetoken.google.com/p/*"] } }] },
      { from: [{ source: { namespaces: ["shop"] } }] },
      { to: [{ operation: { methods: ["GET"], paths: ["/health"] } }] },
    ]);
  });

  it("refuses to run without a mesh, with a plain-HTTP issuer or without audiences", () => {
    expect(() => jwtPolicies(noMeshPlan, noMeshPlan.services[0]!, issuer)).toThrow(/plan.mesh is undefined/);
    expect(() => jwtPolicies(prodPlan, orders, { ...issuer, issuer: "http://idp" })).toThrow(/is not an https URL/);
    expect(() => jwtPolicies(prodPlan, orders, { ...issuer, audiences: [] })).toThrow(/audiences: empty/);
  });
});
