import { beforeAll, describe, expect, it } from "vitest";
import { LandingZone } from "../../../lib/pulumi/aws/landing-zone.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { runProgram, single, type RegisteredResource } from "../harness.js";

const SPEC: LandingZoneInput = {
  name: "shop",
  environment: "prod",
  gateway: { auth: "jwt" },
  pipelines: { perService: false },
  services: [
    { name: "orders", publishes: ["order-placed"], database: { engine: "postgres" } },
    { name: "payments", subscribes: ["order-placed"] },
  ],
};

type Obj = { kind: string; data?: Record<string, string> };
const configMap = (resources: RegisteredResource[], service: string) =>
  (single(resources, "kubernetes:yaml/v2:ConfigGroup", `shop-${service}-workload`).inputs["objs"] as Obj[]).find((o) => o.kind === "ConfigMap")!.data!;
const messagingKeys = (data: Record<string, string>) => Object.keys(data).filter((k) => /^(TOPIC|QUEUE|EVENT)_/.test(k));

describe("a CaaS workload's messaging env (Pulumi)", () => {
  let snsSqs: RegisteredResource[];
  let eventBridge: RegisteredResource[];
  beforeAll(async () => {
    ({ resources: snsSqs } = await runProgram(() => {
      new LandingZone("shop", { spec: SPEC });
    }));
    ({ resources: eventBridge } = await runProgram(() => {
      new LandingZone("shop", { spec: { ...SPEC, messaging: { broker: "eventbridge" } } });
    }));
  });

  it("names the publisher's topic and the subscriber's queue by ARN, as the CDK engine does", () => {
    const topic = single(snsSqs, "aws:sns/topic:Topic", "shop-broker-order-placed");
    const queue = single(snsSqs, "aws:sqs/queue:Queue", "shop-broker-payments_order-placed");
    expect([topic.outputs["arn"], queue.outputs["arn"]]).toEqual([expect.stringMatching(/^arn:aws:sns:/), expect.stringMatching(/^arn:aws:sqs:/)]);
    expect(configMap(snsSqs, "orders")).toMatchObject({ TOPIC_ORDER_PLACED_ARN: topic.outputs["arn"] });
    expect(configMap(snsSqs, "payments")).toMatchObject({ QUEUE_PAYMENTS_ORDER_PLACED_ARN: queue.outputs["arn"] });
    expect(messagingKeys(configMap(snsSqs, "orders"))).toEqual(["TOPIC_ORDER_PLACED_ARN"]);
    expect(messagingKeys(configMap(snsSqs, "payments"))).toEqual(["QUEUE_PAYMENTS_ORDER_PLACED_ARN"]);
  });

  it("names the bus and the publisher's source instead of topics on EventBridge", () => {
    const bus = single(eventBridge, "aws:cloudwatch/eventBus:EventBus");
    const queue = single(eventBridge, "aws:sqs/queue:Queue", "shop-broker-payments_order-placed");
    expect([bus.outputs["arn"], queue.outputs["arn"]]).toEqual([expect.stringMatching(/^arn:aws:events:/), expect.stringMatching(/^arn:aws:sqs:/)]);
    expect(configMap(eventBridge, "orders")).toMatchObject({ EVENT_BUS_ARN: bus.outputs["arn"], EVENT_SOURCE: "shop.orders" });
    expect(messagingKeys(configMap(eventBridge, "orders"))).toEqual(["EVENT_BUS_ARN", "EVENT_SOURCE"]);
    expect(configMap(eventBridge, "payments")).toMatchObject({ QUEUE_PAYMENTS_ORDER_PLACED_ARN: queue.outputs["arn"] });
  });

  it("starts the pods only once their role's policies exist and the cluster enforces NetworkPolicies", () => {
    const workload = single(snsSqs, "kubernetes:yaml/v2:ConfigGroup", "shop-orders-workload");
    // Pod Identity, the CSI mount and the first calls need the role and what it may do.
    expect(workload.dependsOn).toEqual(expect.arrayContaining(["shop-orders-identity", "shop-orders-policy", "shop-orders-database", "shop-platform-vpc-cni"]));
  });
});
