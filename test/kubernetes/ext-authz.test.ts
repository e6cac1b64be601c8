import { AuthorizationPolicy } from "@kubernetes-models/istio/security.istio.io/v1";
import { describe, expect, it } from "vitest";
import { AUTH_SERVICE_PROVIDER, authServiceMeshValues, authServicePolicy } from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import { prodPlan, shopSpec, single } from "./fixtures.js";

const plan = planLandingZone({ ...shopSpec, gateway: { auth: "authorizer" }, auth: { service: "payments" } });

describe("auth service delegation (ext-authz)", () => {
  it("registers the auth service as the mesh's HTTP ext-authz provider", () => {
    expect(authServiceMeshValues(plan)).toEqual({
      meshConfig: { extensionProviders: [{ name: AUTH_SERVICE_PROVIDER, envoyExtAuthzHttp: { service: "payments.shop.svc.cluster.local", port: 80, includeRequestHeadersInCheck: ["authorization", "cookie"] } }] },
    });
  });

  it("checks every request from outside the namespace, except health checks, with the auth service", () => {
    const orders = plan.services.find((s) => s.name === "orders")!;
    const policy = single(authServicePolicy(plan, orders), "AuthorizationPolicy");
    new AuthorizationPolicy(policy as never).validate();
    expect(policy.spec).toEqual({
      selector: { matchLabels: { "app.kubernetes.io/name": "orders", "app.kubernetes.io/part-of": "shop" } },
      action: "CUSTOM",
      provider: { name: AUTH_SERVICE_PROVIDER },
      rules: [{ from: [{ source: { notNamespaces: ["shop"] } }], to: [{ operation: { notPaths: ["/health"] } }] }],
    });
    expect(authServicePolicy(plan, plan.services.find((s) => s.name === "payments")!)).toEqual([]);
  });

  it("needs a declared auth service", () => {
    expect(() => authServicePolicy(prodPlan, prodPlan.services[0]!)).toThrow(/authService is unset/);
  });
});
