import { RemovalPolicy, aws_ssm as ssm } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { MessageBroker } from "../lib/cdk/message-broker.js";
import { eventSource } from "../lib/plan/messaging.js";
import { pascalCase } from "../lib/plan/naming.js";
import { PlanStack, type PlanStackProps } from "./plan-stack.js";
import { sharedParameters } from "./shared-parameters.js";

export type MessagingStackProps = PlanStackProps;

/** The broker implementations the CDK stacks wire into services. */
const BUILT = { "sns-sqs": "sns-sqs", eventbridge: "eventbridge" } as const;

/**
 * `<name>-<env>-messaging`: a topic (sns-sqs) or rule (eventbridge) per event and a queue (with
 * dead-letter queue) per subscription, only declared publishers and subscribers admitted. Publishes
 * topic or bus, queue and key ARNs as SSM parameters for the service stacks.
 */
export class MessagingStack extends PlanStack {
  readonly broker: MessageBroker;

  constructor(scope: Construct, id: string, props: MessagingStackProps) {
    super(scope, id, props);
    const { plan } = props;
    const broker = plan.broker;
    if (!broker) throw new Error(`MessagingStack: plan.broker is undefined. Fix: let a service publish an event, or leave this stack out`);
    const kind = BUILT[broker.implementation as keyof typeof BUILT];
    if (!kind) {
      throw new Error(`MessagingStack: messaging.broker implementation "${broker.implementation}" has no service wiring in the CDK stacks yet. Fix: set messaging.broker: sns-sqs or eventbridge`);
    }
    this.broker = new MessageBroker(this, "Broker", {
      kind,
      topics: broker.topics.map((t) => ({ ...t, sources: t.publishers.map((p) => eventSource(plan.name, p)) })),
      restrictToServices: true,
      maxReceiveCount: broker.maxReceiveCount,
      retentionDays: broker.retentionDays,
      removalPolicy: plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    const publish = (id: string, parameterName: string, stringValue: string) => new ssm.StringParameter(this, id, { parameterName, stringValue });
    publish("KeyArnParameter", sharedParameters.brokerKeyArn(plan), this.broker.encryptionKey.keyArn);
    if (this.broker.eventBus) publish("EventBusArnParameter", sharedParameters.eventBusArn(plan), this.broker.eventBus.eventBusArn);
    for (const topic of broker.topics) {
      if (kind === "sns-sqs") publish(`${pascalCase(topic.event)}TopicParameter`, sharedParameters.topicArn(plan, topic.event), this.broker.topic(topic.event).topicArn);
      for (const subscription of topic.subscriptions) {
        publish(`${pascalCase(subscription.name)}QueueParameter`, sharedParameters.queueArn(plan, subscription.name), this.broker.queue(subscription.name).queueArn);
      }
    }
  }
}
