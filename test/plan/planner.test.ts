import { describe, expect, it } from "vitest";
import { CATALOG, MAX_RULES_PER_LOAD_BALANCER, PlanError, planLandingZone, requestedCapabilities } from "../../lib/plan/index.js";
import { parseSpec, type LandingZoneInput } from "../../lib/spec/index.js";

const shop: LandingZoneInput = {
  name: "shop",
  region: "ap-northeast-2",
  environment: "prod",
  bffs: ["web", "mobile"],
  gateway: { auth: "none" },
  mesh: { kind: "none" },
  tracing: { backend: "none" },
  monitoring: { dashboards: false, alarms: false },
  pipelines: { perService: false },
  services: [
    { name: "orders", publishes: ["order-placed"], subscribes: ["payment-completed"] },
    { name: "payments", publishes: ["payment-completed"], subscribes: ["order-placed"] },
    { name: "order-history", readModel: { from: ["orders", "payments"] } },
  ],
};

describe("planLandingZone", () => {
  it("decides every requested capability once", () => {
    const plan = planLandingZone(shop);
    const capabilities = plan.decisions.map((d) => d.capability);
    expect(new Set(capabilities).size).toBe(capabilities.length);
    expect(capabilities).toEqual(expect.arrayContaining(["network", "compute", "gateway", "sessions", "logging", "broker", "bff"]));
    expect(plan.decisions.find((d) => d.capability === "compute")!.implementation).toBe("eks");
  });

  it("sizes prod for availability", () => {
    const plan = planLandingZone(shop);
    expect(plan.sessions).toMatchObject({ multiAz: true, replicas: 2 });
    expect(plan.logging!.search).toMatchObject({ instanceCount: 3, dedicatedMasters: 3, zoneAwareness: true });
    expect(plan.protection).toEqual({ retain: true, deletionProtection: true, backupRetentionDays: 14 });
    expect(plan.network.subnets.private).toHaveLength(3);
  });

  it("gives the log pipeline its own Redis buffer, separate from the session store", () => {
    const plan = planLandingZone(shop);
    expect(plan.logging!.buffer).toBeDefined();
    expect(plan.logging!.buffer).not.toBe(plan.sessions);
    expect(plan.logging!.shipper).toBe("filebeat");
  });

  it("plans a topic per event with a subscription per subscriber, read models included", () => {
    const broker = planLandingZone(shop).broker!;
    expect(broker.implementation).toBe("sns-sqs");
    expect(broker.topics.map((t) => t.event)).toEqual(["order-placed", "payment-completed"]);
    const placed = broker.topics.find((t) => t.event === "order-placed")!;
    expect(placed.publishers).toEqual(["orders"]);
    expect(placed.subscriptions.map((s) => s.name)).toEqual(["payments_order-placed", "order-history_order-placed"]);
  });

  it("routes services and BFFs through the gateway", () => {
    const plan = planLandingZone(shop);
    expect(plan.gateway.routes.map((r) => [r.path, r.target, r.kind])).toEqual([
      ["/orders", "orders", "service"],
      ["/payments", "payments", "service"],
      ["/order-history", "order-history", "service"],
      ["/web", "web", "bff"],
      ["/mobile", "mobile", "bff"],
    ]);
    expect(plan.services.filter((s) => s.kind === "bff").map((s) => s.channel)).toEqual(["web", "mobile"]);
  });

  it("splits routes across load balancers before a listener runs out of rules", () => {
    const services = Array.from({ length: 200 }, (_, i) => ({ name: `svc-${i}` }));
    const plan = planLandingZone({ ...shop, bffs: [], services });
    expect(plan.gateway.loadBalancers).toHaveLength(Math.ceil(200 / MAX_RULES_PER_LOAD_BALANCER));
    for (const lb of plan.gateway.loadBalancers) {
      expect(lb.routes.length).toBeLessThanOrEqual(MAX_RULES_PER_LOAD_BALANCER);
      expect(new Set(lb.routes.map((r) => r.priority)).size).toBe(lb.routes.length);
    }
  });

  it("keeps existing route priorities when a service is appended", () => {
    const before = planLandingZone(shop).gateway.routes;
    const after = planLandingZone({ ...shop, services: [...shop.services!, { name: "inventory" }] }).gateway.routes;
    for (const route of before.filter((r) => r.kind === "service")) {
      expect(after.find((r) => r.target === route.target)!.priority).toBe(route.priority);
    }
  });

  it("rejects what a cloud does not offer, naming the fix", () => {
    expect(() => planLandingZone({ name: "a", cloud: "kubernetes", region: "local", tier: "iaas" })).toThrowError(/compute \(asked by tier\) is not offered on kubernetes\/iaas; it is on kubernetes\/caas\. Fix: set tier to caas/);
    expect(() => planLandingZone({ ...shop, cloud: "gcp", region: "asia-northeast3", messaging: { broker: "sns-sqs" } })).toThrowError(/messaging.broker "sns-sqs" is not offered on gcp/);
  });

  it("rejects what the chosen engine does not implement yet instead of dropping it", () => {
    const error = (() => {
      try {
        planLandingZone({ ...shop, cloud: "azure", region: "koreacentral" }, { engine: "cdk" });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PlanError);
    expect((error as PlanError).problems[0]).toMatch(/not supported yet on azure\/caas by the cdk engine/);
  });

  it("asks for a capability only when the spec uses it", () => {
    const asked = requestedCapabilities(parseSpec({ name: "a", auth: { sessions: "none" }, logging: { stack: "none", buffer: "none" } }));
    expect(asked.has("sessions")).toBe(false);
    expect(asked.has("logging")).toBe(false);
    expect(asked.has("broker")).toBe(false);
  });

  it("has an implementation for every capability on every managed cloud's Kubernetes tier", () => {
    for (const cloud of ["aws", "gcp", "azure"] as const) {
      for (const [capability, tiers] of Object.entries(CATALOG[cloud])) expect(tiers.caas, `${cloud}/${capability}`).toBeTruthy();
    }
  });
});
