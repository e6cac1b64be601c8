import { describe, expect, it } from "vitest";
import type { TopicPlan } from "../../../lib/plan/types.js";
import { MessageBroker, type MessageBrokerArgs } from "../../../lib/pulumi/aws/message-broker.js";
import { byType, jsonInput, runProgram, single, type RegisteredResource } from "../harness.js";
import * as pulumi from "@pulumi/pulumi";

const topics: TopicPlan[] = [
  {
    event: "order-placed",
    publishers: ["orders"],
    subscriptions: [
      { subscriber: "payments", name: "payments_order-placed" },
      { subscriber: "order-history", name: "order-history_order-placed" },
    ],
  },
  { event: "payment-completed", publishers: ["payments"], subscriptions: [{ subscriber: "orders", name: "orders_payment-completed" }] },
];

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}
const statements = (r: RegisteredResource, key = "policy") => (jsonInput(r, key) as { Statement: Statement[] }).Statement;
const settled = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));

async function broker(args: Partial<MessageBrokerArgs> = {}, inspect?: (b: MessageBroker) => Promise<void>) {
  const { resources } = await runProgram(async () => {
    const b = new MessageBroker("events", { topics, ...args });
    await inspect?.(b);
  });
  return resources;
}

const TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:events-order-placed";
const QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:events-payments_order-placed";

describe("MessageBroker (Pulumi, AWS, sns-sqs)", () => {
  it("creates a KMS-encrypted topic per event and a queue plus DLQ per subscription, parented to the component", async () => {
    const resources = await broker();
    const key = single(resources, "aws:kms/key:Key");
    expect(key.inputs["enableKeyRotation"]).toBe(true);
    const topicResources = byType(resources, "aws:sns/topic:Topic");
    expect(topicResources.map((t) => t.inputs["name"])).toEqual(["events-order-placed", "events-payment-completed"]);
    expect(topicResources.every((t) => t.inputs["kmsMasterKeyId"] === key.outputs["arn"])).toBe(true);
    const queues = byType(resources, "aws:sqs/queue:Queue");
    expect(queues.map((q) => q.inputs["name"]).sort()).toEqual(
      [
        "events-order-history_order-placed",
        "events-order-history_order-placed-dlq",
        "events-orders_payment-completed",
        "events-orders_payment-completed-dlq",
        "events-payments_order-placed",
        "events-payments_order-placed-dlq",
      ].sort(),
    );
    expect(queues.every((q) => q.inputs["kmsMasterKeyId"] === key.outputs["arn"])).toBe(true);
    const children = resources.filter((r) => r.type !== "msa:aws:MessageBroker" && !r.type.startsWith("pulumi:providers:"));
    expect(children.every((r) => r.parent === "events" && r.parentType === "msa:aws:MessageBroker")).toBe(true);
  });

  it("redrives to the dead-letter queue after maxReceiveCount and lets only the source queue redrive", async () => {
    const resources = await broker({ maxReceiveCount: 3, retentionDays: 7 });
    const queue = single(resources, "aws:sqs/queue:Queue", "events-payments_order-placed");
    expect(jsonInput(queue, "redrivePolicy")).toEqual({ deadLetterTargetArn: `${QUEUE_ARN}-dlq`, maxReceiveCount: 3 });
    expect(queue.inputs["messageRetentionSeconds"]).toBe(7 * 86_400);
    const allow = single(resources, "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy", "events-payments_order-placed-dlq");
    expect(jsonInput(allow, "redriveAllowPolicy")).toEqual({ redrivePermission: "byQueue", sourceQueueArns: [QUEUE_ARN] });
  });

  it("admits only its topic into each queue and denies non-TLS requests", async () => {
    const resources = await broker();
    const policy = statements(single(resources, "aws:sqs/queuePolicy:QueuePolicy", "events-payments_order-placed"));
    const allow = policy.find((s) => s.Effect === "Allow")!;
    expect(allow).toMatchObject({ Principal: { Service: "sns.amazonaws.com" }, Action: "sqs:SendMessage", Resource: QUEUE_ARN });
    expect(allow.Condition).toEqual({ ArnEquals: { "aws:SourceArn": TOPIC_ARN } });
    const deny = policy.find((s) => s.Effect === "Deny")!;
    expect(deny.Condition).toEqual({ Bool: { "aws:SecureTransport": "false" } });
    expect(deny.Resource).toBe(QUEUE_ARN);
    const topicPolicy = statements(single(resources, "aws:sns/topicPolicy:TopicPolicy", "events-order-placed"));
    expect(topicPolicy.find((s) => s.Effect === "Deny")?.Condition).toEqual({ Bool: { "aws:SecureTransport": "false" } });
    expect(topicPolicy.filter((s) => s.Effect === "Allow").every((s) => s.Principal !== "*")).toBe(true);
    const dlqPolicy = statements(single(resources, "aws:sqs/queuePolicy:QueuePolicy", "events-payments_order-placed-dlq"));
    expect(dlqPolicy).toHaveLength(1);
    expect(dlqPolicy[0]!.Effect).toBe("Deny");
  });

  it("subscribes each queue to its topic with raw delivery, after the queue policy", async () => {
    const resources = await broker();
    const subscription = single(resources, "aws:sns/topicSubscription:TopicSubscription", "events-payments_order-placed");
    expect(subscription.inputs).toMatchObject({ topic: TOPIC_ARN, protocol: "sqs", endpoint: QUEUE_ARN, rawMessageDelivery: true });
    expect(subscription.dependsOn).toEqual(["events-payments_order-placed"]);
    expect(byType(resources, "aws:sns/topicSubscription:TopicSubscription")).toHaveLength(3);
  });

  it("exposes topic and queue maps and least-privilege policy documents", async () => {
    let topicArns: Record<string, string> = {};
    let queueUrls: Record<string, string> = {};
    let publish: Statement[] = [];
    let consume: Statement[] = [];
    let service: Statement[] = [];
    await broker({}, async (b) => {
      topicArns = await settled(b.topicArns);
      queueUrls = await settled(b.queueUrls);
      publish = JSON.parse(await settled(b.publishPolicyDocument("order-placed"))).Statement;
      consume = JSON.parse(await settled(b.consumePolicyDocument("payments_order-placed"))).Statement;
      service = JSON.parse(await settled(b.servicePolicyDocument("payments")!)).Statement;
      expect(b.servicePolicyDocument("nobody")).toBeUndefined();
      expect(() => b.publishPolicyDocument("nope")).toThrow(/event "nope" has no topic\. Fix: use one of order-placed, payment-completed/);
      expect(() => b.consumePolicyDocument("nope")).toThrow(/subscription "nope" does not exist/);
    });
    expect(topicArns["order-placed"]).toBe(TOPIC_ARN);
    expect(queueUrls["payments_order-placed"]).toBe("https://sqs.us-east-1.amazonaws.com/123456789012/events-payments_order-placed");
    expect(publish[0]).toEqual({ Effect: "Allow", Action: ["sns:Publish"], Resource: [TOPIC_ARN] });
    expect(consume[0]!.Resource).toEqual([QUEUE_ARN]);
    expect(consume[0]!.Action).toContain("sqs:ReceiveMessage");
    expect(consume[0]!.Action).not.toContain("sqs:*");
    for (const statement of [...publish, ...consume, ...service]) {
      expect(statement.Resource).not.toContain("*");
      expect([statement.Action].flat().some((a) => a.endsWith(":*"))).toBe(false);
    }
    // payments publishes payment-completed and consumes order-placed.
    expect(service.flatMap((s) => s.Resource)).toEqual(
      expect.arrayContaining(["arn:aws:sns:us-east-1:123456789012:events-payment-completed", QUEUE_ARN]),
    );
  });

  it("with restrictToServices, denies consuming a queue to all but its subscriber and publishing to all but the publishers", async () => {
    const resources = await broker({ restrictToServices: true });
    const queuePolicy = statements(single(resources, "aws:sqs/queuePolicy:QueuePolicy", "events-payments_order-placed"));
    expect(queuePolicy).toContainEqual({
      Sid: "OnlyDeclaredServices",
      Effect: "Deny",
      Principal: "*",
      Action: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"],
      Resource: QUEUE_ARN,
      Condition: { StringNotEquals: { "aws:PrincipalTag/msa:service": ["payments"] } },
    });
    const topicPolicy = statements(single(resources, "aws:sns/topicPolicy:TopicPolicy", "events-order-placed"));
    expect(topicPolicy).toContainEqual(expect.objectContaining({ Effect: "Deny", Action: ["sns:Publish"], Resource: TOPIC_ARN, Condition: { StringNotEquals: { "aws:PrincipalTag/msa:service": ["orders"] } } }));
  });

  it("leaves out of a service's policy the events it does not publish itself", async () => {
    let narrowed: Statement[] = [];
    await broker({}, async (b) => {
      narrowed = JSON.parse(await settled(b.servicePolicyDocument("payments", [])!)).Statement;
    });
    expect(narrowed.flatMap((s) => [s.Action].flat())).not.toContain("sns:Publish");
    expect(narrowed.flatMap((s) => s.Resource)).toContain(QUEUE_ARN);
  });

  it("puts events on a bus (eventbridge), publishers limited to their detail-type and source", async () => {
    let service: Statement[] = [];
    let busArn = "";
    const resources = await broker({ kind: "eventbridge", eventSource: (s) => `shop.${s}` }, async (b) => {
      service = JSON.parse(await settled(b.servicePolicyDocument("orders")!)).Statement;
      busArn = await settled(b.eventBus!.arn);
    });
    expect(byType(resources, "aws:cloudwatch/eventRule:EventRule").map((r) => JSON.parse(r.inputs["eventPattern"] as string))).toEqual([
      { "detail-type": ["order-placed"], source: ["shop.orders"] },
      { "detail-type": ["order-placed"], source: ["shop.orders"] },
      { "detail-type": ["payment-completed"], source: ["shop.payments"] },
    ]);
    expect(service[0]).toEqual({ Effect: "Allow", Action: ["events:PutEvents"], Resource: [busArn], Condition: { StringEquals: { "events:detail-type": ["order-placed"], "events:source": ["shop.orders"] } } });
    const queuePolicy = statements(single(resources, "aws:sqs/queuePolicy:QueuePolicy", "events-payments_order-placed"));
    const rule = single(resources, "aws:cloudwatch/eventRule:EventRule", "events-payments_order-placed");
    expect(queuePolicy[0]).toMatchObject({ Principal: { Service: "events.amazonaws.com" }, Action: "sqs:SendMessage", Condition: { ArnEquals: { "aws:SourceArn": rule.outputs["arn"] } } });
    // The rule's delivery failures may land in the dead-letter queue.
    expect(statements(single(resources, "aws:sqs/queuePolicy:QueuePolicy", "events-payments_order-placed-dlq")).map((s) => s.Effect)).toEqual(["Deny", "Allow"]);
  });

  it("protects and retains the key only when retain is true", async () => {
    const kept = single(await broker({ retain: true }), "aws:kms/key:Key");
    expect([kept.protect, kept.retainOnDelete]).toEqual([true, true]);
    const dropped = single(await broker({ retain: false }), "aws:kms/key:Key");
    expect([dropped.protect, dropped.retainOnDelete]).toEqual([false, false]);
  });

  it("applies transforms and rejects bad input", async () => {
    const resources = await broker({ transform: { queue: (args, name) => void (args.visibilityTimeoutSeconds = name.startsWith("orders") ? 120 : 30) } });
    expect(single(resources, "aws:sqs/queue:Queue", "events-orders_payment-completed").inputs["visibilityTimeoutSeconds"]).toBe(120);
    await expect(broker({ retentionDays: 30 })).rejects.toThrow(/retentionDays is 30; SQS keeps messages 1 to 14 days/);
    await expect(broker({ maxReceiveCount: 0 })).rejects.toThrow(/maxReceiveCount is 0/);
    await expect(broker({ topics: [topics[0]!, topics[0]!] })).rejects.toThrow(/event "order-placed" twice/);
  });
});

describe("MessageBroker (Pulumi, AWS, kafka)", () => {
  const kafka = { vpcId: "vpc-1", subnetIds: ["subnet-a", "subnet-b", "subnet-c"], allowedSecurityGroupIds: ["sg-nodes"], brokerNodes: 3, volumeGiB: 200 };

  it("creates a private MSK cluster with IAM auth, TLS and KMS encryption, and a topic per event", async () => {
    const resources = await broker({ kind: "kafka", kafka, retain: true });
    expect(byType(resources, "aws:sns/topic:Topic")).toHaveLength(0);
    const cluster = single(resources, "aws:msk/cluster:Cluster");
    const key = single(resources, "aws:kms/key:Key");
    expect(cluster.inputs).toMatchObject({
      numberOfBrokerNodes: 3,
      kafkaVersion: "3.8.x",
      clientAuthentication: { sasl: { iam: true }, unauthenticated: false },
      encryptionInfo: { encryptionAtRestKmsKeyArn: key.outputs["arn"], encryptionInTransit: { clientBroker: "TLS", inCluster: true } },
      brokerNodeGroupInfo: { clientSubnets: kafka.subnetIds, securityGroups: ["sg-events-kafka-sg"], storageInfo: { ebsStorageInfo: { volumeSize: 200 } } },
    });
    expect([cluster.protect, cluster.retainOnDelete]).toEqual([true, true]);
    const rules = byType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    expect(rules.find((r) => r.inputs["referencedSecurityGroupId"] === "sg-nodes")?.inputs).toMatchObject({ fromPort: 9098, toPort: 9098, ipProtocol: "tcp" });
    expect(rules.some((r) => "cidrIpv4" in r.inputs)).toBe(false);
    const kafkaTopics = byType(resources, "aws:msk/topic:Topic");
    expect(kafkaTopics.map((t) => t.inputs["name"])).toEqual(["order-placed", "payment-completed"]);
    expect(kafkaTopics[0]!.inputs).toMatchObject({ partitionCount: 3, replicationFactor: 3 });
  });

  it("scopes Kafka policies to the topic and the subscriber's consumer group", async () => {
    let consume: Statement[] = [];
    await broker({ kind: "kafka", kafka }, async (b) => {
      consume = JSON.parse(await settled(b.consumePolicyDocument("payments_order-placed"))).Statement;
    });
    expect(consume.flatMap((s) => s.Resource)).toEqual([
      "arn:aws:kafka:us-east-1:123456789012:cluster/events-kafka/uuid",
      "arn:aws:kafka:us-east-1:123456789012:topic/events-kafka/uuid/order-placed",
      "arn:aws:kafka:us-east-1:123456789012:group/events-kafka/uuid/payments",
    ]);
  });

  it("rejects a broker count that is not a multiple of the subnets", async () => {
    await expect(broker({ kind: "kafka", kafka: { ...kafka, brokerNodes: 4 } })).rejects.toThrow(/kafka\.brokerNodes is 4 for 3 subnets\. Fix: use a multiple of 3/);
    await expect(broker({ kind: "kafka" })).rejects.toThrow(/kind "kafka" without kafka/);
  });
});
