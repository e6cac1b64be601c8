import { describe, expect, it } from "vitest";
import { benchSpec } from "../../bench/spec.js";
import { planTopicStacks, TOPIC_STACK_RESOURCES, topicStack } from "../../lib/plan/messaging.js";
import { PlanError, planLandingZone } from "../../lib/plan/planner.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";

const events = (n: number) => Array.from({ length: n }, (_, i) => `event-${i}`);

/** Event → index of its topic stack. */
const placement = (list: readonly string[], stacks: number) => new Map(planTopicStacks("shop", "prod", list, stacks).flatMap((s) => s.events.map((e) => [e, s.index] as const)));

describe("topic stacks (messaging.topicStacks)", () => {
  it("keeps every topic in one `-messaging` stack by default", () => {
    const plan = planLandingZone({ name: "shop", services: [{ name: "orders", publishes: ["order-placed", "order-paid"] }, { name: "payments", subscribes: ["order-placed"] }] }, { engine: "cdk" });
    expect(plan.broker!.topicStacks).toEqual([{ index: 0, stackName: "shop-dev-messaging", events: ["order-paid", "order-placed"], resources: 2 + 3 * 2 }]);
  });

  it("places each event by a hash of its name: adding or removing events never moves another", () => {
    const all = events(300);
    const before = placement(all, 4);
    const added = placement([...all, "late-1", "late-2", "late-3"], 4);
    const removed = placement(all.filter((_, i) => i % 7 !== 0), 4);
    for (const [event, index] of before) {
      expect(added.get(event), event).toBe(index);
      if (removed.has(event)) expect(removed.get(event), event).toBe(index);
    }
    // Every stack gets a share of the events, and every event is in exactly one stack.
    const shards = planTopicStacks("shop", "prod", all, 4);
    expect(shards.map((s) => s.stackName)).toEqual(["shop-prod-messaging", "shop-prod-messaging-1", "shop-prod-messaging-2", "shop-prod-messaging-3"]);
    expect(shards.flatMap((s) => s.events).sort()).toEqual([...all].sort());
    for (const s of shards) expect(s.events.length, s.stackName).toBeGreaterThan(40);
    expect(shards[0]!.resources).toBe(TOPIC_STACK_RESOURCES.shared + 3 * shards[0]!.events.length);
    expect(shards[1]!.resources).toBe(3 * shards[1]!.events.length);
  });

  it("depends on the event name only, not on the zone or the other events", () => {
    expect(topicStack("order-placed", 5)).toBe(placement(["order-placed"], 5).get("order-placed"));
    expect(placement(["order-placed"], 5).get("order-placed")).toBe(placement(["order-placed", ...events(50)], 5).get("order-placed"));
    expect(topicStack("order-placed", 1)).toBe(0);
  });

  it("refuses, before synth, a CDK topic stack at 80% of CloudFormation's resource limit, naming a value that fits", () => {
    const spec = (n: number, topicStacks: number): LandingZoneInput => ({ ...benchSpec(n), messaging: { broker: "sns-sqs", topicStacks } });
    // 300 services: 150 events, 452 resources in one stack.
    expect(() => planLandingZone(spec(300, 1), { engine: "cdk" })).toThrow(PlanError);
    expect(() => planLandingZone(spec(300, 1), { engine: "cdk" })).toThrow(/messaging.topicStacks is 1: stack bench-prod-messaging would hold 452 resources \(150 topics\), 80% of CloudFormation's limit of 500 or more. Fix: set messaging.topicStacks to 2/);
    expect(planLandingZone(spec(300, 2), { engine: "cdk" }).broker!.topicStacks!.map((s) => s.stackName)).toEqual(["bench-prod-messaging", "bench-prod-messaging-1"]);
    // Pulumi has no per-template limit: the same spec plans.
    expect(planLandingZone(spec(300, 1), { engine: "pulumi" }).broker!.topics).toHaveLength(150);
  });

  it("gives the bench's zone up to 1,000 services topic stacks that all stay under 80% of the limit", () => {
    for (const n of [10, 50, 200, 265, 1000]) {
      const shards = planLandingZone(benchSpec(n), { engine: "cdk" }).broker!.topicStacks!;
      for (const s of shards) expect(s.resources, `${n} services, ${s.stackName}`).toBeLessThan(400);
    }
  });

  it("has no topic stacks for eventbridge, whose events add no per-event stack", () => {
    const plan = planLandingZone({ name: "shop", messaging: { broker: "eventbridge" }, services: [{ name: "orders", publishes: ["order-placed"] }] }, { engine: "cdk" });
    expect(plan.broker!.topicStacks).toBeUndefined();
  });
});
