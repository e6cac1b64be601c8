import { Duration, RemovalPolicy, aws_events as events, aws_iam as iam, type aws_kms as kms, aws_sns as sns, aws_sqs as sqs } from "aws-cdk-lib";
import { Construct } from "constructs";
import { EVENTBRIDGE_RETRY, QUEUE_CONSUME_ACTIONS, RESTRICTED_CONSUME_ACTIONS, SERVICE_TAG_KEY } from "../plan/messaging.js";

export interface SubscriptionQueueProps {
  /** The event the queue receives; an EventBridge rule matches it as the detail-type. */
  readonly event: string;
  /** The service consuming the queue (named in descriptions, and in the policy with `restrictToSubscriber`). */
  readonly subscriber: string;
  /**
   * The SNS topic of the event (sns-sqs), e.g. `sns.Topic.fromTopicArn` of the broker's parameter. Give this or `eventBus`.
   * @default - none: `eventBus` is used
   */
  readonly topic?: sns.ITopic;
  /**
   * The EventBridge bus carrying the event; a rule on it delivers into the queue. Give this or `topic`.
   * @default - none: `topic` is used
   */
  readonly eventBus?: events.IEventBus;
  /**
   * EventBridge `source` values the rule matches (eventbridge only).
   * @default - any source
   */
  readonly sources?: readonly string[];
  /**
   * The broker's key: it encrypts both queues. Its policy must let SNS (topics of the account) or
   * EventBridge (the bus's rules) use it, as `MessageBroker` does for its own key.
   */
  readonly encryptionKey: kms.IKey;
  /**
   * Receives of a message before it moves to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Days a message is kept (SQS allows 1 to 14); the dead-letter queue keeps 14.
   * @default 4
   */
  readonly retentionDays?: number;
  /**
   * The queue's policy denies consuming to principals not tagged `msa:service` = `subscriber`, beside the IAM grants.
   * @default false
   */
  readonly restrictToSubscriber?: boolean;
  /**
   * What happens to both queues when the stack deletes them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * One subscriber's queue of one event: an SQS queue with its dead-letter queue (after
 * `maxReceiveCount` receives), both encrypted with the broker's key and reachable over TLS only,
 * fed by an SNS subscription (raw delivery) or an EventBridge rule (retried for a day, then the
 * dead-letter queue). The queue policy admits only that topic or that rule. It takes the topic or
 * bus and the key by reference, so it lives in the subscribing service's stack while the topics
 * stay in the broker's; `MessageBroker` creates the same construct for the subscriptions it is given.
 * Cost: SQS bills per request; the queues themselves are free.
 *
 * @example
 * const queue = new SubscriptionQueue(stack, "OrderPlaced", {
 *   event: "order-placed", subscriber: "payments",
 *   topic: sns.Topic.fromTopicArn(stack, "Topic", topicArn), encryptionKey: kms.Key.fromKeyArn(stack, "Key", keyArn),
 * });
 * queue.grantConsume(paymentsRole);
 */
export class SubscriptionQueue extends Construct {
  readonly event: string;
  readonly subscriber: string;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly encryptionKey: kms.IKey;
  /** The SNS subscription (sns-sqs). */
  readonly subscription?: sns.Subscription;
  /** The EventBridge rule delivering into the queue (eventbridge). */
  readonly rule?: events.Rule;

  constructor(scope: Construct, id: string, props: SubscriptionQueueProps) {
    super(scope, id);
    const where = `SubscriptionQueue ${this.node.path}`;
    if ((props.topic === undefined) === (props.eventBus === undefined)) {
      throw new Error(`${where}: give exactly one of topic (sns-sqs) and eventBus (eventbridge); ${props.topic ? "both are" : "neither is"} set. Fix: pass the event's topic or the bus`);
    }
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(props.event)) throw new Error(`${where}: event is "${props.event}"; use 1 to 64 letters, digits, '-' or '_'`);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(props.subscriber)) throw new Error(`${where}: subscriber is "${props.subscriber}"; use 1 to 64 letters, digits, '-' or '_'`);
    if (props.sources && props.topic) throw new Error(`${where}: sources is set but the queue subscribes to an SNS topic. Fix: drop sources, or pass eventBus`);
    const { maxReceiveCount, retentionDays } = checkQueueSettings(where, props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.event = props.event;
    this.subscriber = props.subscriber;
    this.encryptionKey = props.encryptionKey;

    this.deadLetterQueue = new sqs.Queue(this, "DeadLetterQueue", { encryptionMasterKey: props.encryptionKey, enforceSSL: true, retentionPeriod: Duration.days(14), removalPolicy });
    this.queue = new sqs.Queue(this, "Queue", {
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(retentionDays),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
      removalPolicy,
    });
    if (props.restrictToSubscriber) {
      this.queue.addToResourcePolicy(
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: [...RESTRICTED_CONSUME_ACTIONS],
          resources: [this.queue.queueArn],
          conditions: { StringNotEquals: { [`aws:PrincipalTag/${SERVICE_TAG_KEY}`]: props.subscriber } },
        }),
      );
    }
    if (props.topic) this.subscription = this.subscribeTo(props.topic);
    else this.rule = this.ruleOn(props.eventBus!, props.sources);
  }

  /** Lets a grantee receive, delete and extend messages of the queue, and decrypt them. */
  grantConsume(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipalOrResource({ grantee, actions: [...QUEUE_CONSUME_ACTIONS], resourceArns: [this.queue.queueArn], resource: this.queue }).combine(
      iam.Grant.addToPrincipalOrResource({ grantee, actions: ["kms:Decrypt"], resourceArns: [this.encryptionKey.keyArn], resource: this.encryptionKey }),
    );
  }

  private subscribeTo(topic: sns.ITopic): sns.Subscription {
    const policy = this.queue.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal("sns.amazonaws.com")],
        actions: ["sqs:SendMessage"],
        resources: [this.queue.queueArn],
        conditions: { ArnEquals: { "aws:SourceArn": topic.topicArn } },
      }),
    );
    const subscription = new sns.Subscription(this, "Subscription", { topic, protocol: sns.SubscriptionProtocol.SQS, endpoint: this.queue.queueArn, rawMessageDelivery: true });
    // SNS checks it may send before it confirms the subscription.
    if (policy.policyDependable) subscription.node.addDependency(policy.policyDependable);
    return subscription;
  }

  private ruleOn(eventBus: events.IEventBus, sources: readonly string[] | undefined): events.Rule {
    const rule = new events.Rule(this, "Rule", {
      eventBus,
      description: `${this.event} to ${this.subscriber}`,
      eventPattern: { detailType: [this.event], ...(sources ? { source: [...sources] } : {}) },
    });
    const { queue, deadLetterQueue } = this;
    // Delivery failures share the subscription's dead-letter queue with processing failures.
    rule.addTarget({
      bind: () => ({
        arn: queue.queueArn,
        targetResource: queue,
        deadLetterConfig: { arn: deadLetterQueue.queueArn },
        retryPolicy: { maximumRetryAttempts: EVENTBRIDGE_RETRY.maximumRetryAttempts, maximumEventAgeInSeconds: EVENTBRIDGE_RETRY.maximumEventAgeSeconds },
      }),
    });
    // Only this rule may send, unlike the SQS target's account-wide grant.
    for (const target of [queue, deadLetterQueue]) {
      target.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal("events.amazonaws.com")],
          actions: ["sqs:SendMessage"],
          resources: [target.queueArn],
          conditions: { ArnEquals: { "aws:SourceArn": rule.ruleArn } },
        }),
      );
    }
    return rule;
  }
}

/** The queue settings with their defaults, or an error naming `owner`, the value and SQS's range. */
export function checkQueueSettings(owner: string, settings: { readonly maxReceiveCount?: number | undefined; readonly retentionDays?: number | undefined }): { maxReceiveCount: number; retentionDays: number } {
  const maxReceiveCount = settings.maxReceiveCount ?? 5;
  const retentionDays = settings.retentionDays ?? 4;
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
    throw new Error(`${owner} maxReceiveCount is ${maxReceiveCount}; SQS accepts 1 to 1000`);
  }
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 14) {
    throw new Error(`${owner} retentionDays is ${retentionDays}; SQS keeps messages 1 to 14 days`);
  }
  return { maxReceiveCount, retentionDays };
}
