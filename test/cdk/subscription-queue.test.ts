import { App, RemovalPolicy, Stack, aws_events as events, aws_iam as iam, aws_kms as kms, aws_sns as sns } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { MessageBroker } from "../../lib/cdk/message-broker.js";
import { SubscriptionQueue, type SubscriptionQueueProps } from "../../lib/cdk/subscription-queue.js";

const TOPIC_ARN = "arn:aws:sns:ap-northeast-2:111111111111:order-placed";
const KEY_ARN = "arn:aws:kms:ap-northeast-2:111111111111:key/0f9c2a1e-1b2c-4d5e-8f90-123456789abc";
const BUS_ARN = "arn:aws:events:ap-northeast-2:111111111111:event-bus/shop";

/** A subscriber's own stack: the topic or bus and the key come by reference, as a service stack reads them from SSM. */
function subscriberStack(props: (stack: Stack) => Partial<SubscriptionQueueProps>) {
  const app = new App({ context: { "@aws-cdk/core:validateAgainstDefaultRules": true, "@aws-cdk/core:strictCfnValidateErrors": true } });
  const stack = new Stack(app, "Payments", { env: { account: "111111111111", region: "ap-northeast-2" } });
  const queue = new SubscriptionQueue(stack, "OrderPlaced", {
    event: "order-placed",
    subscriber: "payments",
    encryptionKey: kms.Key.fromKeyArn(stack, "Key", KEY_ARN),
    ...props(stack),
  });
  const role = new iam.Role(stack, "Role", { assumedBy: new iam.ServicePrincipal("pods.eks.amazonaws.com") });
  queue.grantConsume(role);
  app.synth();
  return { stack, queue, template: Template.fromStack(stack) };
}

describe("SubscriptionQueue on its own", () => {
  it("subscribes a queue with its dead-letter queue to a topic of another stack, admitting only that topic", () => {
    const { stack, queue, template } = subscriberStack((s) => ({ topic: sns.Topic.fromTopicArn(s, "Topic", TOPIC_ARN), maxReceiveCount: 3, retentionDays: 7, restrictToSubscriber: true }));
    const queueArn = stack.resolve(queue.queue.queueArn);
    template.resourceCountIs("AWS::SQS::Queue", 2);
    template.hasResource("AWS::SQS::Queue", {
      DeletionPolicy: "Retain",
      Properties: { KmsMasterKeyId: KEY_ARN, MessageRetentionPeriod: 7 * 86400, RedrivePolicy: { deadLetterTargetArn: stack.resolve(queue.deadLetterQueue.queueArn), maxReceiveCount: 3 } },
    });
    template.hasResourceProperties("AWS::SQS::Queue", { KmsMasterKeyId: KEY_ARN, MessageRetentionPeriod: 14 * 86400, RedrivePolicy: Match.absent() });
    template.hasResourceProperties("AWS::SNS::Subscription", { TopicArn: TOPIC_ARN, Protocol: "sqs", Endpoint: queueArn, RawMessageDelivery: true });
    template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      Queues: [stack.resolve(queue.queue.queueUrl)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Action: "sqs:*", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
          { Effect: "Deny", Principal: { AWS: "*" }, Action: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"], Resource: queueArn, Condition: { StringNotEquals: { "aws:PrincipalTag/msa:service": "payments" } } },
          { Effect: "Allow", Principal: { Service: "sns.amazonaws.com" }, Action: "sqs:SendMessage", Resource: queueArn, Condition: { ArnEquals: { "aws:SourceArn": TOPIC_ARN } } },
        ]),
      },
    });
    // The consumer's grant: its queue and the key, both named exactly.
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: [
          { Effect: "Allow", Action: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"], Resource: queueArn },
          { Effect: "Allow", Action: "kms:Decrypt", Resource: KEY_ARN },
        ],
      },
    });
    expect(queue.rule).toBeUndefined();
  });

  it("routes an EventBridge rule of another stack's bus into the queue, and only that rule may send", () => {
    const { stack, queue, template } = subscriberStack((s) => ({ eventBus: events.EventBus.fromEventBusArn(s, "Bus", BUS_ARN), sources: ["shop.orders"], removalPolicy: RemovalPolicy.DESTROY }));
    template.hasResourceProperties("AWS::Events::Rule", {
      EventBusName: "shop",
      EventPattern: { "detail-type": ["order-placed"], source: ["shop.orders"] },
      Targets: [Match.objectLike({ Arn: stack.resolve(queue.queue.queueArn), DeadLetterConfig: { Arn: stack.resolve(queue.deadLetterQueue.queueArn) } })],
    });
    for (const target of [queue.queue, queue.deadLetterQueue]) {
      template.hasResourceProperties("AWS::SQS::QueuePolicy", {
        Queues: [stack.resolve(target.queueUrl)],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: "events.amazonaws.com" }, Condition: { ArnEquals: { "aws:SourceArn": stack.resolve(queue.rule!.ruleArn) } } })]) },
      });
    }
    template.allResources("AWS::SQS::Queue", { DeletionPolicy: "Delete" });
    template.resourceCountIs("AWS::SNS::Subscription", 0);
  });

  it("refuses a source that is not exactly one topic or bus, sources on a topic, and queue settings SQS rejects", () => {
    const stack = new Stack(new App(), "S");
    const encryptionKey = kms.Key.fromKeyArn(stack, "Key", KEY_ARN);
    const topic = sns.Topic.fromTopicArn(stack, "Topic", TOPIC_ARN);
    const eventBus = events.EventBus.fromEventBusArn(stack, "Bus", BUS_ARN);
    const base = { event: "order-placed", subscriber: "payments", encryptionKey };
    expect(() => new SubscriptionQueue(stack, "Neither", base)).toThrow(/SubscriptionQueue S\/Neither: give exactly one of topic \(sns-sqs\) and eventBus \(eventbridge\); neither is set/);
    expect(() => new SubscriptionQueue(stack, "Both", { ...base, topic, eventBus })).toThrow(/both are set/);
    expect(() => new SubscriptionQueue(stack, "Sources", { ...base, topic, sources: ["shop.orders"] })).toThrow(/sources is set but the queue subscribes to an SNS topic\. Fix: drop sources, or pass eventBus/);
    expect(() => new SubscriptionQueue(stack, "Receives", { ...base, topic, maxReceiveCount: 0 })).toThrow(/SubscriptionQueue S\/Receives maxReceiveCount is 0; SQS accepts 1 to 1000/);
    expect(() => new SubscriptionQueue(stack, "Days", { ...base, topic, retentionDays: 15 })).toThrow(/retentionDays is 15; SQS keeps messages 1 to 14 days/);
    expect(() => new SubscriptionQueue(stack, "Name", { ...base, topic, subscriber: "pay ments" })).toThrow(/subscriber is "pay ments"; use 1 to 64 letters/);
  });

  it("is what MessageBroker builds for its own subscriptions, and a broker given none holds topics only", () => {
    const stack = new Stack(new App(), "S");
    const broker = new MessageBroker(stack, "Broker", { topics: [{ event: "order-placed", subscriptions: [{ subscriber: "payments", name: "payments_order-placed" }] }] });
    expect(broker.subscriptionQueue("payments_order-placed")).toBeInstanceOf(SubscriptionQueue);
    expect(broker.subscriptionQueue("payments_order-placed").node.path).toBe("S/Broker/order-placed/payments");
    expect(broker.queue("payments_order-placed")).toBe(broker.subscriptionQueue("payments_order-placed").queue);
    const topicsOnly = new Stack(new App(), "T");
    new MessageBroker(topicsOnly, "Broker", { topics: [{ event: "order-placed", subscriptions: [] }] });
    Template.fromStack(topicsOnly).resourceCountIs("AWS::SQS::Queue", 0);
    Template.fromStack(topicsOnly).resourceCountIs("AWS::SNS::Topic", 1);
  });
});
