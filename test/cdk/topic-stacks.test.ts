import { readFileSync } from "node:fs";
import { App } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { benchSpec } from "../../bench/spec.js";
import { LandingZone } from "../../lib/cdk/landing-zone.js";
import { topicStack } from "../../lib/plan/messaging.js";
import { planLandingZone } from "../../lib/plan/planner.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import { MessagingStack, TopicStack } from "../../stacks/messaging-stack.js";

/** The context `cdk synth` runs with: recommended flags plus the strict validation keys. */
const CDK_CONTEXT = (JSON.parse(readFileSync("cdk.json", "utf8")) as { context: Record<string, unknown> }).context;
const STRICT = { ...CDK_CONTEXT, "@aws-cdk/core:validateAgainstDefaultRules": true, "@aws-cdk/core:strictCfnValidateErrors": true };

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;
interface CfnTemplate {
  Resources: Resources;
  Parameters?: Record<string, { Type: string; Default?: string }>;
}

const EVENTS = ["order-placed", "order-paid", "order-shipped", "stock-reserved", "stock-released", "payment-failed"];

function spec(topicStacks?: number): LandingZoneInput {
  return {
    name: "shop",
    tier: "paas",
    ...(topicStacks ? { messaging: { broker: "sns-sqs", topicStacks } } : {}),
    services: [
      { name: "orders", publishes: EVENTS.slice(0, 3), subscribes: ["payment-failed", "stock-reserved"] },
      { name: "inventory", publishes: ["stock-reserved", "stock-released"], subscribes: ["order-placed"] },
      { name: "payments", publishes: ["payment-failed"], subscribes: ["order-placed", "order-shipped"] },
    ],
  };
}

function synth(input: LandingZoneInput) {
  const app = new App({ context: STRICT });
  const zone = new LandingZone(app, "Shop", { spec: input, account: "111111111111" });
  const templates = new Map<string, CfnTemplate>(app.synth().stacks.map((s) => [s.stackName, s.template as CfnTemplate]));
  return { zone, templates };
}

const ofType = (t: CfnTemplate, type: string) => Object.values(t.Resources).filter((r) => r.Type === type);
const parameterNames = (t: CfnTemplate) => ofType(t, "AWS::SSM::Parameter").map((r) => r.Properties!["Name"] as string);

describe("topic stacks (messaging.topicStacks)", () => {
  it("splits the topics over two stacks, each topic in exactly one, sharing stack 0's key and leaving the service stacks unchanged", () => {
    // The fixture's events land in both stacks.
    expect(new Set(EVENTS.map((e) => topicStack(e, 2)))).toEqual(new Set([0, 1]));
    const one = synth(spec());
    const two = synth(spec(2));
    const [first, second] = [two.templates.get("shop-dev-messaging")!, two.templates.get("shop-dev-messaging-1")!];
    expect(two.zone.topicStacks.map((s) => s.stackName)).toEqual(["shop-dev-messaging-1"]);
    expect(one.zone.topicStacks).toEqual([]);

    // Every event's topic, policy and ARN parameter exactly once, under the same parameter names as with one stack.
    const topicParameters = (t: CfnTemplate) => parameterNames(t).filter((n) => n.startsWith("/msa/shop/dev/messaging/topics/"));
    expect([...topicParameters(first), ...topicParameters(second)].sort()).toEqual(topicParameters(one.templates.get("shop-dev-messaging")!).sort());
    expect(topicParameters(second).sort()).toEqual(EVENTS.filter((e) => topicStack(e, 2) === 1).map((e) => `/msa/shop/dev/messaging/topics/${e}`).sort());
    for (const [t, index] of [[first, 0], [second, 1]] as const) {
      const own = EVENTS.filter((e) => topicStack(e, 2) === index).length;
      expect(ofType(t, "AWS::SNS::Topic")).toHaveLength(own);
      expect(ofType(t, "AWS::SNS::TopicPolicy")).toHaveLength(own);
    }

    // Stack 0 keeps the key and its parameter; stack 1 has no key and encrypts with the one it reads from that parameter.
    expect(ofType(first, "AWS::KMS::Key")).toHaveLength(1);
    expect(parameterNames(first)).toContain("/msa/shop/dev/messaging/key-arn");
    expect(ofType(second, "AWS::KMS::Key")).toHaveLength(0);
    expect(Object.keys(second.Resources)).toHaveLength(3 * topicParameters(second).length);
    const keyParameter = Object.entries(second.Parameters!).find(([, p]) => p.Default === "/msa/shop/dev/messaging/key-arn")![0];
    for (const topic of ofType(second, "AWS::SNS::Topic")) expect(topic.Properties!["KmsMasterKeyId"]).toEqual({ Ref: keyParameter });
    // Publishing stays reserved to the declared publishers in stack 1 too.
    const policies = JSON.stringify(ofType(second, "AWS::SNS::TopicPolicy"));
    expect(policies).toContain('"aws:PrincipalTag/msa:service"');

    // Stack 0's resources keep their construct IDs: its logical IDs are a subset of the single stack's.
    const single = one.templates.get("shop-dev-messaging")!;
    for (const id of Object.keys(first.Resources)) expect(single.Resources[id], id).toEqual(first.Resources[id]);
    for (const id of Object.keys(second.Resources)) expect(Object.keys(single.Resources), id).toContain(id);

    // Deploy order: stack 1 after stack 0; a service after the topic stacks of the events it publishes or consumes.
    const [shard] = two.zone.topicStacks;
    expect(shard!.dependencies).toContain(two.zone.messagingStack);
    for (const [service, events] of [["orders", [...EVENTS.slice(0, 3), "payment-failed", "stock-reserved"]], ["inventory", ["stock-reserved", "stock-released", "order-placed"]], ["payments", ["payment-failed", "order-placed", "order-shipped"]]] as const) {
      expect(two.zone.serviceStacks.get(service)!.dependencies.includes(shard!), service).toBe(events.some((e) => topicStack(e, 2) === 1));
    }
    // The service stacks read the same parameters and build the same resources.
    for (const name of ["shop-dev-svc-orders", "shop-dev-svc-inventory", "shop-dev-svc-payments"]) expect(two.templates.get(name), name).toEqual(one.templates.get(name));
  }, 120_000);

  it("keeps every topic stack of the bench's zone under 80% of CloudFormation's limits up to 1,000 services", () => {
    for (const n of [265, 1000]) {
      const plan = planLandingZone(benchSpec(n), { engine: "cdk" });
      const app = new App({ builtinCloudFormationValidation: false });
      const env = { region: plan.region, account: "111111111111" };
      new MessagingStack(app, "Messaging", { plan, env, stackName: plan.broker!.topicStacks![0]!.stackName });
      for (const shard of plan.broker!.topicStacks!.slice(1)) new TopicStack(app, `Messaging${shard.index}`, { plan, env, stackName: shard.stackName, index: shard.index });
      // Synthesis itself fails at 80% of a limit (TemplateLimitsSynthesizer).
      const stacks = app.synth().stacks;
      expect(stacks.map((s) => s.stackName)).toEqual(plan.broker!.topicStacks!.map((s) => s.stackName));
      for (const stack of stacks) {
        const resources = Object.keys((stack.template as CfnTemplate).Resources).length;
        expect(resources, stack.stackName).toBe(plan.broker!.topicStacks!.find((s) => s.stackName === stack.stackName)!.resources);
        expect(resources, stack.stackName).toBeLessThan(400);
      }
    }
  }, 120_000);

  it("refuses a topic stack index the plan does not have", () => {
    const plan = planLandingZone(spec(2), { engine: "cdk" });
    expect(() => new TopicStack(new App(), "Messaging5", { plan, index: 5 })).toThrow(/TopicStack: index 5 is not one of the plan's 2 topic stack\(s\). Fix: use 1 to 1/);
  });
});
