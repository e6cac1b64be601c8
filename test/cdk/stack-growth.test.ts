import { App } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { benchSpec } from "../../bench/spec.js";
import { LandingZone } from "../../lib/cdk/landing-zone.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";

/** Stack name → resource type → count. */
type Counts = Map<string, Record<string, number>>;

/** Synthesizes without CloudFormation's schema validation: this is about sizes, which every synth checks itself. */
function counts(spec: LandingZoneInput): Counts {
  const app = new App({ builtinCloudFormationValidation: false });
  new LandingZone(app, "Zone", { spec, account: "111111111111" });
  const result: Counts = new Map();
  for (const stack of app.synth().stacks) {
    const byType: Record<string, number> = {};
    for (const { Type } of Object.values((stack.template as { Resources: Record<string, { Type: string }> }).Resources)) byType[Type] = (byType[Type] ?? 0) + 1;
    result.set(stack.stackName, byType);
  }
  return result;
}

const total = (byType: Record<string, number>) => Object.values(byType).reduce((a, b) => a + b, 0);
const isShared = (stackName: string) => !/-(svc|delivery)-/.test(stackName);
/** Events of the generated spec: one per even service. */
const events = (n: number) => Math.ceil(n / 2);

/** The bench's generated landing zone (caas, sns-sqs, ~1.25 subscriptions per service), varied per case. */
function spec(n: number, variant: Partial<LandingZoneInput> = {}): LandingZoneInput {
  const base = benchSpec(n);
  return { ...base, ...variant, ...(variant.tier && variant.tier !== "caas" ? { mesh: { kind: "none" } } : {}) };
}

describe("stack sizes as the landing zone grows", () => {
  it("keeps every template of 120 services under 450 resources, whatever the service count", () => {
    const templates = counts(spec(120));
    expect(templates.size).toBe(4 + 2 * 122);
    const largest = [...templates].map(([name, byType]) => [name, total(byType)] as const).sort((a, b) => b[1] - a[1]);
    for (const [name, resources] of largest) expect(resources, name).toBeLessThan(450);
    // The messaging stack holds 3 resources per event (topic, policy, parameter) and no queue.
    expect(templates.get("bench-prod-messaging")).toEqual({ "AWS::KMS::Key": 1, "AWS::SSM::Parameter": 1 + events(120), "AWS::SNS::Topic": events(120), "AWS::SNS::TopicPolicy": events(120) });
    expect(templates.get("bench-prod-platform")!["AWS::ECR::Repository"]).toBeUndefined();
  }, 120_000);

  it.each([
    ["caas, sns-sqs, pipelines and monitoring", { pipelines: { perService: true, repositoryOwner: "acme" }, monitoring: { dashboards: true, alarms: true } }],
    ["caas, eventbridge", { messaging: { broker: "eventbridge" } }],
    ["iaas, sns-sqs, monitoring", { tier: "iaas", monitoring: { dashboards: true, alarms: true } }],
    ["paas, sns-sqs", { tier: "paas" }],
  ] as [string, Partial<LandingZoneInput>][])("grows no shared stack but by its events, and no service's stack at all, from 20 to 40 or 60 services (%s)", (_, variant) => {
    // A paas load balancer holds 44 environments (a host and a path rule each), so 40 stay on one; the
    // planner adds load balancers past that (template-limits.test.ts).
    const size = variant.tier === "paas" ? 40 : 60;
    const [small, large] = [counts(spec(20, variant)), counts(spec(size, variant))];
    const eventBridge = variant.messaging?.broker === "eventbridge";
    for (const [name, byType] of small) {
      if (!isShared(name)) continue;
      const grown = large.get(name)!;
      if (name.endsWith("-messaging")) {
        // Per added event a topic, its policy and its parameter, or the bus policy's statement admitting its publishers; nothing per subscription.
        const perEvent = eventBridge ? ["AWS::Events::EventBusPolicy"] : ["AWS::SNS::Topic", "AWS::SNS::TopicPolicy", "AWS::SSM::Parameter"];
        expect(grown, name).toEqual({ ...byType, ...Object.fromEntries(perEvent.map((type) => [type, byType[type]! + events(size) - events(20)])) });
      } else {
        expect(grown, name).toEqual(byType);
      }
    }
    expect([...large.keys()].filter(isShared).sort()).toEqual([...small.keys()].filter(isShared).sort());
    // A given service's stacks do not change with the number of others.
    for (const stack of ["svc-svc-0003", "delivery-svc-0003", "svc-svc-0008", "svc-web"]) expect(large.get(`bench-prod-${stack}`), stack).toEqual(small.get(`bench-prod-${stack}`));
    // Each subscription's queue, dead-letter queue, their policies and its subscription or rule are in the subscriber's stack.
    expect(small.get("bench-prod-svc-svc-0003")).toMatchObject({ "AWS::SQS::Queue": 4, "AWS::SQS::QueuePolicy": 4, ...(eventBridge ? { "AWS::Events::Rule": 2 } : { "AWS::SNS::Subscription": 2 }) });
  }, 120_000);
});
