import { App, Stack, type CfnElement } from "aws-cdk-lib";
import type { IConstruct } from "constructs";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { KubernetesPlatform } from "../../lib/cdk/kubernetes-platform.js";
import { MessageBroker, type MessageBrokerKind } from "../../lib/cdk/message-broker.js";
import { ServiceWorkload } from "../../lib/cdk/service-workload.js";
import { eventSource } from "../../lib/plan/messaging.js";
import { pascalCase } from "../../lib/plan/naming.js";
import { planLandingZone } from "../../lib/plan/planner.js";

const plan = planLandingZone({
  name: "shop",
  environment: "prod",
  gateway: { auth: "jwt" },
  pipelines: { perService: false },
  services: [
    { name: "orders", publishes: ["order-placed"] },
    { name: "payments", subscribes: ["order-placed"] },
  ],
});

/** A token as the tests name it: `${Ref:<id>}` or `${<id>.<attribute>}`. */
function flatten(value: unknown): string {
  if (typeof value === "string") return value;
  const v = value as Record<string, unknown>;
  if (v["Fn::Join"]) {
    const [separator, parts] = v["Fn::Join"] as [string, unknown[]];
    return parts.map(flatten).join(separator);
  }
  if (v["Ref"]) return `\${Ref:${v["Ref"] as string}}`;
  if (v["Fn::GetAtt"]) return `\${${(v["Fn::GetAtt"] as string[]).join(".")}}`;
  throw new Error(`unexpected token ${JSON.stringify(value)}`);
}

function configMaps(kind: MessageBrokerKind) {
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), "Shop", { env: { account: "111111111111", region: "eu-west-1" } });
  const target = KubernetesPlatform.fromPlatformAttributes(stack, "Platform", { clusterName: "shop-prod", kubectlServiceToken: "arn:aws:lambda:eu-west-1:111111111111:function:kubectl", namespace: "shop" });
  const broker = new MessageBroker(stack, "Broker", {
    kind,
    topics: plan.broker!.topics.map((t) => ({ ...t, sources: t.publishers.map((p) => eventSource(plan.name, p)) })),
    restrictToServices: true,
  });
  for (const serviceName of ["orders", "payments"]) new ServiceWorkload(stack, pascalCase(serviceName), { target, plan, serviceName, broker });
  const template = Template.fromStack(stack);
  const data = (service: string): Record<string, string> => {
    const [manifest] = Object.entries(template.findResources("Custom::AWSCDK-EKS-KubernetesResource")).filter(([id]) => id.startsWith(`Platform${pascalCase(service)}Workload`));
    const objects = JSON.parse(flatten(manifest![1].Properties.Manifest)) as { kind: string; data: Record<string, string> }[];
    return objects.find((o) => o.kind === "ConfigMap")!.data;
  };
  const id = (resource: IConstruct) => stack.getLogicalId(resource.node.defaultChild as CfnElement);
  return { data, id, broker };
}

describe("a CaaS workload's messaging env (CDK)", () => {
  it("names the publisher's topic and the subscriber's queue by ARN, as the Pulumi engine does", () => {
    const { data, id, broker } = configMaps("sns-sqs");
    expect(data("orders")).toMatchObject({ TOPIC_ORDER_PLACED_ARN: `\${Ref:${id(broker.topic("order-placed"))}}` });
    expect(data("payments")).toMatchObject({ QUEUE_PAYMENTS_ORDER_PLACED_ARN: `\${${id(broker.queue("payments_order-placed"))}.Arn}` });
    expect(Object.keys(data("orders")).filter((k) => /^(TOPIC|QUEUE|EVENT)_/.test(k))).toEqual(["TOPIC_ORDER_PLACED_ARN"]);
    expect(Object.keys(data("payments")).filter((k) => /^(TOPIC|QUEUE|EVENT)_/.test(k))).toEqual(["QUEUE_PAYMENTS_ORDER_PLACED_ARN"]);
  });

  it("names the bus and the publisher's source instead of topics on EventBridge", () => {
    const { data, id, broker } = configMaps("eventbridge");
    expect(data("orders")).toMatchObject({ EVENT_BUS_ARN: `\${${id(broker.eventBus!)}.Arn}`, EVENT_SOURCE: "shop.orders" });
    expect(Object.keys(data("orders")).filter((k) => k.startsWith("TOPIC_"))).toEqual([]);
    expect(data("payments")).toMatchObject({ QUEUE_PAYMENTS_ORDER_PLACED_ARN: `\${${id(broker.queue("payments_order-placed"))}.Arn}` });
  });
});
