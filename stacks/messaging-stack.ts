import { RemovalPolicy, aws_kms as kms, aws_ssm as ssm } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { MessageBroker } from "../lib/cdk/message-broker.js";
import { eventSource } from "../lib/plan/messaging.js";
import { pascalCase } from "../lib/plan/naming.js";
import type { BrokerPlan, LandingZonePlan } from "../lib/plan/types.js";
import { PlanStack, type PlanStackProps } from "./plan-stack.js";
import { readParameter, sharedParameters } from "./shared-parameters.js";

export type MessagingStackProps = PlanStackProps;

/** The broker implementations the CDK stacks wire into services. */
const BUILT = { "sns-sqs": "sns-sqs", eventbridge: "eventbridge" } as const;

/**
 * `<name>-<env>-messaging`: the broker's key and a topic per event (sns-sqs) or the event bus
 * (eventbridge), only declared publishers admitted. Publishes the topic or bus and key ARNs as SSM
 * parameters; each subscriber's queue (with its dead-letter queue and its subscription or rule) is a
 * `SubscriptionQueue` in the subscriber's own stack, so this stack grows with the events, not with
 * the services. With `messaging.topicStacks` > 1 it holds only the topics of stack 0 of
 * `plan.broker.topicStacks`; the others are `TopicStack`s.
 */
export class MessagingStack extends PlanStack {
  /** The key and topics or bus; each subscriber's queue is in its service stack (`ServiceStack.subscriptionQueues`). */
  readonly broker: MessageBroker;

  constructor(scope: Construct, id: string, props: MessagingStackProps) {
    super(scope, id, props);
    const { broker, publishTopicArns } = topicBroker(this, props.plan, 0);
    this.broker = broker;
    const publish = (id: string, parameterName: string, stringValue: string) => new ssm.StringParameter(this, id, { parameterName, stringValue });
    publish("KeyArnParameter", sharedParameters.brokerKeyArn(props.plan), broker.encryptionKey.keyArn);
    if (broker.eventBus) publish("EventBusArnParameter", sharedParameters.eventBusArn(props.plan), broker.eventBus.eventBusArn);
    publishTopicArns();
  }
}

/**
 * `<name>-<env>-messaging-<n>` (sns-sqs, `messaging.topicStacks` > 1): the topics, policies and ARN
 * parameters of stack `n` of `plan.broker.topicStacks`, encrypted with the key of the
 * `MessagingStack`, read from its SSM parameter (so deploy it after that stack). Its topics' ARN
 * parameters have the same names as in the `MessagingStack`, so service stacks read them unchanged.
 */
export class TopicStack extends PlanStack {
  /** Index of this stack in `plan.broker.topicStacks`. */
  readonly index: number;
  /** The topics of this stack, under the shared key. */
  readonly broker: MessageBroker;

  constructor(scope: Construct, id: string, props: TopicStackProps) {
    super(scope, id, props);
    this.index = props.index;
    const key = kms.Key.fromKeyArn(this, "BrokerKey", readParameter(this, sharedParameters.brokerKeyArn(props.plan)));
    const { broker, publishTopicArns } = topicBroker(this, props.plan, props.index, key);
    this.broker = broker;
    publishTopicArns();
  }
}

export interface TopicStackProps extends PlanStackProps {
  /** Index of the stack in `plan.broker.topicStacks`, 1 or more (0 is the `MessagingStack`). */
  readonly index: number;
}

/** The broker of topic stack `index` (all topics and the bus for eventbridge), and what publishes its topics' ARN parameters. */
function topicBroker(stack: PlanStack, plan: LandingZonePlan, index: number, encryptionKey?: kms.IKey): { broker: MessageBroker; publishTopicArns: () => void } {
  const name = index === 0 ? "MessagingStack" : "TopicStack";
  const broker = plan.broker;
  if (!broker) throw new Error(`${name}: plan.broker is undefined. Fix: let a service publish an event, or leave this stack out`);
  const kind = BUILT[broker.implementation as keyof typeof BUILT];
  if (!kind) {
    throw new Error(`${name}: messaging.broker implementation "${broker.implementation}" has no service wiring in the CDK stacks yet. Fix: set messaging.broker: sns-sqs or eventbridge`);
  }
  const events = eventsOf(broker, index, name);
  const topics = broker.topics.filter((t) => events.has(t.event));
  const brokerConstruct = new MessageBroker(stack, "Broker", {
    kind,
    // Topics only: the queues are created by the subscribers' stacks.
    topics: topics.map((t) => ({ ...t, subscriptions: [], sources: t.publishers.map((p) => eventSource(plan.name, p)) })),
    restrictToServices: true,
    maxReceiveCount: broker.maxReceiveCount,
    retentionDays: broker.retentionDays,
    removalPolicy: plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    ...(encryptionKey ? { encryptionKey } : {}),
  });
  const publishTopicArns = () => {
    if (kind !== "sns-sqs") return;
    for (const topic of topics) {
      new ssm.StringParameter(stack, `${pascalCase(topic.event)}TopicParameter`, { parameterName: sharedParameters.topicArn(plan, topic.event), stringValue: brokerConstruct.topic(topic.event).topicArn });
    }
  };
  return { broker: brokerConstruct, publishTopicArns };
}

function eventsOf(broker: BrokerPlan, index: number, name: string): Set<string> {
  if (!broker.topicStacks) {
    if (index !== 0) throw new Error(`${name}: ${broker.implementation} has no topic stacks. Fix: build only the MessagingStack`);
    return new Set(broker.topics.map((t) => t.event));
  }
  const own = broker.topicStacks[index];
  if (!own) throw new Error(`${name}: index ${index} is not one of the plan's ${broker.topicStacks.length} topic stack(s). Fix: use 1 to ${broker.topicStacks.length - 1}`);
  return new Set(own.events);
}
