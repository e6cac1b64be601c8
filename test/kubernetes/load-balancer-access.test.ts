import { describe, expect, it } from "vitest";
import { loadBalancerAccess } from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import { noMeshPlan, prodPlan, revalidate, shopSpec, single } from "./fixtures.js";

const RANGES = ["35.191.0.0/16", "130.211.0.0/22"];

describe("loadBalancerAccess", () => {
  const orders = prodPlan.services.find((s) => s.name === "orders")!;

  it("admits only the balancer's ranges, only on the container port, only to the service's pods", () => {
    const objects = loadBalancerAccess(prodPlan, orders, RANGES);
    objects.forEach(revalidate);
    const policy = single(objects, "NetworkPolicy");
    expect(policy.metadata).toMatchObject({ name: "orders-from-load-balancer", namespace: "shop" });
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "orders", "app.kubernetes.io/part-of": "shop" } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ ipBlock: { cidr: "35.191.0.0/16" } }, { ipBlock: { cidr: "130.211.0.0/22" } }], ports: [{ protocol: "TCP", port: orders.port }] }],
    });
  });

  it("keeps the mesh's mTLS mode on every other port and relaxes only the container port", () => {
    const peer = single(loadBalancerAccess(prodPlan, orders, RANGES), "PeerAuthentication");
    expect(peer.spec).toEqual({
      selector: { matchLabels: { "app.kubernetes.io/name": "orders", "app.kubernetes.io/part-of": "shop" } },
      mtls: { mode: "STRICT" },
      portLevelMtls: { [String(orders.port)]: { mode: "PERMISSIVE" } },
    });
    expect(loadBalancerAccess(noMeshPlan, noMeshPlan.services[0]!, RANGES).map((o) => o.kind)).toEqual(["NetworkPolicy"]);
  });

  it("refuses unexposed services, no ranges and malformed ranges", () => {
    const hidden = planLandingZone({ ...shopSpec, services: [{ name: "worker", expose: false }] }).services[0]!;
    expect(() => loadBalancerAccess(prodPlan, hidden, RANGES)).toThrow(/expose: false/);
    expect(() => loadBalancerAccess(prodPlan, orders, [])).toThrow(/sourceRanges: empty/);
    expect(() => loadBalancerAccess(prodPlan, orders, ["35.191.0.1/16"])).toThrow(/host bits set/);
  });
});
