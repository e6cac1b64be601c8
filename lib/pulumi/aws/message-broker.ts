import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EVENTBRIDGE_RETRY, eventSource, QUEUE_CONSUME_ACTIONS, RESTRICTED_CONSUME_ACTIONS, SERVICE_TAG_KEY } from "../../plan/messaging.js";
import { physicalName } from "../../plan/naming.js";
import type { BrokerPlan, SubscriptionPlan, TopicPlan } from "../../plan/types.js";
import { denyUntagged } from "./policy-document.js";

export type MessageBrokerKind = "sns-sqs" | "eventbridge" | "kafka";

/** Placement and size of the MSK cluster (kind "kafka"). */
export interface KafkaClusterArgs {
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets, one per broker zone; the broker count must be a multiple of their number. */
  readonly subnetIds: readonly pulumi.Input<string>[];
  /**
   * Security groups allowed to reach the brokers on the IAM/TLS port 9098.
   * @default - none: add rules to `kafkaSecurityGroup` yourself
   */
  readonly allowedSecurityGroupIds?: readonly pulumi.Input<string>[];
  /**
   * Kafka version.
   * @default "3.8.x"
   */
  readonly version?: string;
  /**
   * Broker count. Cost: each broker is billed hourly plus its storage.
   * @default - one per subnet
   */
  readonly brokerNodes?: number;
  /**
   * Broker instance type.
   * @default "kafka.m7g.large"
   */
  readonly instanceType?: string;
  /**
   * EBS storage per broker, GiB.
   * @default 100
   */
  readonly volumeGiB?: number;
  /**
   * Partitions per topic.
   * @default - the broker count, so leaders spread over every broker
   */
  readonly partitions?: number;
}

/** Arguments of {@link MessageBroker}. */
export interface MessageBrokerArgs {
  /**
   * "sns-sqs": an SNS topic per event and an SQS queue (with a dead-letter queue) per subscription;
   * "eventbridge": a custom event bus and a rule per subscription into its queue;
   * "kafka": an MSK cluster with a topic per event.
   * @default "sns-sqs"
   */
  readonly kind?: MessageBrokerKind;
  /**
   * Resource policies deny publishing to principals not tagged `msa:service` with a declared
   * publisher, and consuming a queue to principals not tagged with its subscriber (sns-sqs, eventbridge).
   * @default false
   */
  readonly restrictToServices?: boolean;
  /**
   * EventBridge `source` of a publishing service's events (eventbridge).
   * @default - `<namePrefix>.<service>`
   */
  readonly eventSource?: (service: string) => string;
  /** Events with their publishers and subscriptions, as the plan lists them. */
  readonly topics: readonly TopicPlan[];
  /**
   * Receives before a message moves to the dead-letter queue (sns-sqs).
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Days a message is kept: SQS retention (at most 14) or Kafka `retention.ms`.
   * @default 4
   */
  readonly retentionDays?: number;
  /**
   * Prefix of the physical topic and queue names, so landing zones sharing an account do not collide.
   * @default - the component name
   */
  readonly namePrefix?: string;
  /**
   * The MSK cluster; required for kind "kafka".
   * @default - none
   */
  readonly kafka?: KafkaClusterArgs;
  /**
   * Keep the KMS key and the MSK cluster when the stack is destroyed, and protect them from deletion.
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags added to every resource.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: {
    readonly key?: (args: aws.kms.KeyArgs) => void;
    readonly topic?: (args: aws.sns.TopicArgs, topic: TopicPlan) => void;
    readonly queue?: (args: aws.sqs.QueueArgs, subscription: string) => void;
    readonly deadLetterQueue?: (args: aws.sqs.QueueArgs, subscription: string) => void;
    readonly subscription?: (args: aws.sns.TopicSubscriptionArgs, subscription: string) => void;
    readonly cluster?: (args: aws.msk.ClusterArgs) => void;
    readonly kafkaTopic?: (args: aws.msk.TopicArgs, topic: TopicPlan) => void;
  };
}

/** Maps a plan's broker entry to {@link MessageBrokerArgs}; Kafka placement comes from the caller. */
export function messageBrokerArgsFromPlan(
  plan: BrokerPlan,
  options: {
    readonly namePrefix: string;
    readonly retain: boolean;
    /** The landing zone's name: EventBridge sources are `<zone>.<service>`. */
    readonly zone?: string;
    readonly kafka?: Pick<KafkaClusterArgs, "vpcId" | "subnetIds" | "allowedSecurityGroupIds">;
  },
): MessageBrokerArgs {
  const common = { topics: plan.topics, maxReceiveCount: plan.maxReceiveCount, retentionDays: plan.retentionDays, namePrefix: options.namePrefix, retain: options.retain };
  const zone = options.zone;
  const sources = zone ? { eventSource: (service: string) => eventSource(zone, service) } : {};
  if (plan.implementation === "sns-sqs") return { ...common, kind: "sns-sqs", restrictToServices: true };
  if (plan.implementation === "eventbridge") return { ...common, kind: "eventbridge", restrictToServices: true, ...sources };
  if (plan.implementation === "msk" && plan.kafka) {
    if (!options.kafka) throw new Error(`MessageBroker: broker "msk" needs options.kafka (vpcId, subnetIds). Fix: pass the private subnets of the network`);
    const { version, brokerNodes, instanceType, volumeGiB } = plan.kafka;
    return { ...common, kind: "kafka", kafka: { ...options.kafka, version, brokerNodes, instanceType, volumeGiB } };
  }
  throw new Error(`MessageBroker: broker implementation "${plan.implementation}" is not built by this component. Fix: use messaging.broker sns-sqs, eventbridge or kafka`);
}

const SQS_MAX_RETENTION_DAYS = 14;
const KAFKA_IAM_PORT = 9098;

/**
 * The event bus services publish to and consume from.
 *
 * kind "sns-sqs": a KMS key with rotation; an encrypted SNS topic per event; per subscription an encrypted SQS
 * queue with a dead-letter queue, a queue policy admitting only its topic, and a raw-delivery subscription.
 * Every topic and queue policy denies requests without TLS.
 * kind "eventbridge": a custom event bus; per subscription an encrypted queue with a dead-letter queue and a
 * rule matching the event's detail-type and its publishers' sources, retrying delivery for a day before the
 * dead-letter queue; only the rule may send to the queue.
 * With `restrictToServices`, topic, bus and queue policies also deny publishing and consuming to principals
 * whose `msa:service` tag is not a declared publisher or the subscriber.
 * kind "kafka": an MSK cluster in private subnets with IAM authentication, TLS in transit and KMS at rest,
 * and an MSK topic per event.
 *
 * Cost: SNS/SQS bill per request; MSK bills per broker-hour and storage.
 *
 * @example
 * const broker = new MessageBroker("events", { topics: plan.broker.topics });
 * new aws.iam.RolePolicy("orders-events", { role: ordersRole.id, policy: broker.servicePolicyDocument("orders") });
 */
export class MessageBroker extends pulumi.ComponentResource {
  readonly kind: MessageBrokerKind;
  readonly kmsKey: aws.kms.Key;
  /** Topic ARN by event name (SNS topics, MSK topic ARNs, or the event bus for every event). */
  readonly topicArns: pulumi.Output<Record<string, string>>;
  /** Queue URL by subscription name (sns-sqs only; empty for kafka). */
  readonly queueUrls: pulumi.Output<Record<string, string>>;
  /** Queue ARN by subscription name (sns-sqs only; empty for kafka). */
  readonly queueArns: pulumi.Output<Record<string, string>>;
  /** Dead-letter queue ARN by subscription name (sns-sqs only). */
  readonly deadLetterQueueArns: pulumi.Output<Record<string, string>>;
  /** The MSK cluster (kafka only). */
  readonly kafkaCluster?: aws.msk.Cluster;
  readonly kafkaSecurityGroup?: aws.ec2.SecurityGroup;
  /** IAM/TLS bootstrap brokers (kafka only). */
  readonly bootstrapBrokers?: pulumi.Output<string>;
  /** The event bus (eventbridge only). */
  readonly eventBus?: aws.cloudwatch.EventBus;

  private readonly topicPlans: readonly TopicPlan[];
  private readonly sourceOf: (service: string) => string;
  private readonly topicArnByEvent = new Map<string, pulumi.Output<string>>();
  private readonly queueArnByName = new Map<string, pulumi.Output<string>>();
  private readonly queueUrlByName = new Map<string, pulumi.Output<string>>();
  private readonly deadLetterArnByName = new Map<string, pulumi.Output<string>>();

  constructor(name: string, args: MessageBrokerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("msa:aws:MessageBroker", name, {}, opts);
    this.kind = args.kind ?? "sns-sqs";
    this.topicPlans = args.topics;
    validateBrokerArgs(this.kind, args);
    const tags = { ...args.tags };
    const prefix = args.namePrefix ?? name;
    this.sourceOf = args.eventSource ?? ((service) => `${prefix}.${service}`);
    const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const accountRoot = pulumi.interpolate`arn:${partition}:iam::${account}:root`;
    const kept = args.retain ? { parent: this, protect: true, retainOnDelete: true } : { parent: this };

    const keyArgs: aws.kms.KeyArgs = {
      description: `${name} messages at rest`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          { Sid: "AccountAdministers", Effect: "Allow", Principal: { AWS: accountRoot }, Action: "kms:*", Resource: "*" },
          // SNS encrypts what it delivers into the encrypted queues, for this account's topics only.
          {
            Sid: "SnsDeliversToEncryptedQueues",
            Effect: "Allow",
            Principal: { Service: "sns.amazonaws.com" },
            Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
            Resource: "*",
            Condition: { StringEquals: { "aws:SourceAccount": account } },
          },
          // EventBridge encrypts what its rules deliver into the encrypted queues, for this account's rules only.
          {
            Sid: "EventBridgeDeliversToEncryptedQueues",
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
            Resource: "*",
            Condition: { StringEquals: { "aws:SourceAccount": account } },
          },
        ],
      }),
      tags,
    };
    args.transform?.key?.(keyArgs);
    this.kmsKey = new aws.kms.Key(`${name}-key`, keyArgs, kept);

    if (this.kind === "sns-sqs") {
      this.createQueues(name, prefix, args, tags, accountRoot);
    } else if (this.kind === "eventbridge") {
      this.eventBus = this.createBus(name, prefix, args, tags);
    } else {
      const cluster = this.createKafka(name, prefix, args, tags, kept);
      this.kafkaCluster = cluster.cluster;
      this.kafkaSecurityGroup = cluster.securityGroup;
      this.bootstrapBrokers = cluster.cluster.bootstrapBrokersSaslIam;
    }
    this.topicArns = record(this.topicArnByEvent);
    this.queueArns = record(this.queueArnByName);
    this.queueUrls = record(this.queueUrlByName);
    this.deadLetterQueueArns = record(this.deadLetterArnByName);
    this.registerOutputs({ topicArns: this.topicArns, queueUrls: this.queueUrls, queueArns: this.queueArns });
  }

  private createQueues(name: string, prefix: string, args: MessageBrokerArgs, tags: Record<string, string>, accountRoot: pulumi.Output<string>): void {
    const parent = { parent: this };
    for (const topicPlan of args.topics) {
      const topicArgs: aws.sns.TopicArgs = { name: physicalName("queue", prefix, topicPlan.event), kmsMasterKeyId: this.kmsKey.arn, tags };
      args.transform?.topic?.(topicArgs, topicPlan);
      const topic = new aws.sns.Topic(`${name}-${topicPlan.event}`, topicArgs, parent);
      this.topicArnByEvent.set(topicPlan.event, topic.arn);
      new aws.sns.TopicPolicy(
        `${name}-${topicPlan.event}`,
        {
          arn: topic.arn,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [
              // Principals of this account still need an IAM policy granting sns:Publish (see publishPolicyDocument).
              {
                Sid: "AccountUses",
                Effect: "Allow",
                Principal: { AWS: accountRoot },
                Action: ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"],
                Resource: topic.arn,
              },
              denyInsecureTransport("sns:*", topic.arn),
              ...(args.restrictToServices ? [denyUntagged(["sns:Publish"], topic.arn, SERVICE_TAG_KEY, topicPlan.publishers)] : []),
            ],
          }),
        },
        parent,
      );

      for (const subscription of topicPlan.subscriptions) {
        const { queue, queuePolicy } = this.createSubscriptionQueue(name, prefix, subscription, args, tags, (queueArn) => [
          {
            Sid: "TopicDelivers",
            Effect: "Allow",
            Principal: { Service: "sns.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: queueArn,
            Condition: { ArnEquals: { "aws:SourceArn": topic.arn } },
          },
        ]);
        const subscriptionArgs: aws.sns.TopicSubscriptionArgs = {
          topic: topic.arn,
          protocol: "sqs",
          endpoint: queue.arn,
          // Consumers get the event body as published, not wrapped in an SNS envelope.
          rawMessageDelivery: true,
        };
        args.transform?.subscription?.(subscriptionArgs, subscription.name);
        new aws.sns.TopicSubscription(`${name}-${subscription.name}`, subscriptionArgs, { parent: this, dependsOn: [queuePolicy] });
      }
    }
  }

  /**
   * A subscriber's queue and dead-letter queue; `delivery` lists who may send (its topic or rule).
   * The queue's policy refuses plain HTTP and, with restrictToServices, consumers other than the subscriber.
   */
  private createSubscriptionQueue(
    name: string,
    prefix: string,
    subscription: SubscriptionPlan,
    args: MessageBrokerArgs,
    tags: Record<string, string>,
    delivery: (queueArn: pulumi.Output<string>) => object[],
  ): { queue: aws.sqs.Queue; deadLetter: aws.sqs.Queue; queuePolicy: aws.sqs.QueuePolicy } {
    const parent = { parent: this };
    // Queues hold messages in flight: retained and protected like any other data.
    const kept = args.retain ? { parent: this, protect: true, retainOnDelete: true } : parent;
    const deadLetterArgs: aws.sqs.QueueArgs = {
      name: physicalName("queue", prefix, `${subscription.name}-dlq`),
      kmsMasterKeyId: this.kmsKey.arn,
      messageRetentionSeconds: SQS_MAX_RETENTION_DAYS * 86_400,
      tags,
    };
    args.transform?.deadLetterQueue?.(deadLetterArgs, subscription.name);
    const deadLetter = new aws.sqs.Queue(`${name}-${subscription.name}-dlq`, deadLetterArgs, kept);

    const queueArgs: aws.sqs.QueueArgs = {
      name: physicalName("queue", prefix, subscription.name),
      kmsMasterKeyId: this.kmsKey.arn,
      messageRetentionSeconds: (args.retentionDays ?? 4) * 86_400,
      visibilityTimeoutSeconds: 30,
      receiveWaitTimeSeconds: 20,
      redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount: args.maxReceiveCount ?? 5 }),
      tags,
    };
    args.transform?.queue?.(queueArgs, subscription.name);
    const queue = new aws.sqs.Queue(`${name}-${subscription.name}`, queueArgs, kept);
    this.queueArnByName.set(subscription.name, queue.arn);
    this.queueUrlByName.set(subscription.name, queue.url);
    this.deadLetterArnByName.set(subscription.name, deadLetter.arn);

    // Only the source queue may move messages into its dead-letter queue.
    new aws.sqs.RedriveAllowPolicy(
      `${name}-${subscription.name}-dlq`,
      { queueUrl: deadLetter.url, redriveAllowPolicy: pulumi.jsonStringify({ redrivePermission: "byQueue", sourceQueueArns: [queue.arn] }) },
      parent,
    );
    const eventBridge = this.kind === "eventbridge";
    new aws.sqs.QueuePolicy(
      `${name}-${subscription.name}-dlq`,
      // A rule's delivery failures land in the same dead-letter queue as the consumer's.
      { queueUrl: deadLetter.url, policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: [denyInsecureTransport("sqs:*", deadLetter.arn), ...(eventBridge ? delivery(deadLetter.arn) : [])] }) },
      parent,
    );
    const queuePolicy = new aws.sqs.QueuePolicy(
      `${name}-${subscription.name}`,
      {
        queueUrl: queue.url,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            ...delivery(queue.arn),
            denyInsecureTransport("sqs:*", queue.arn),
            ...(args.restrictToServices ? [denyUntagged(RESTRICTED_CONSUME_ACTIONS, queue.arn, SERVICE_TAG_KEY, [subscription.subscriber])] : []),
          ],
        }),
      },
      parent,
    );
    return { queue, deadLetter, queuePolicy };
  }

  private createBus(name: string, prefix: string, args: MessageBrokerArgs, tags: Record<string, string>): aws.cloudwatch.EventBus {
    const parent = { parent: this };
    const bus = new aws.cloudwatch.EventBus(`${name}-bus`, { name: physicalName("queue", prefix), description: `Events of ${prefix}`, tags }, parent);
    if (args.restrictToServices) {
      new aws.cloudwatch.EventBusPolicy(
        `${name}-bus-policy`,
        {
          eventBusName: bus.name,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: args.topics.map((topic) => ({
              ...denyUntagged(["events:PutEvents"], bus.arn, SERVICE_TAG_KEY, topic.publishers),
              Sid: `OnlyPublishersOf${topic.event.replace(/[^A-Za-z0-9]/g, "")}`,
              Condition: { StringEquals: { "events:detail-type": topic.event }, StringNotEquals: { [`aws:PrincipalTag/${SERVICE_TAG_KEY}`]: [...topic.publishers] } },
            })),
          }),
        },
        parent,
      );
    }
    for (const topic of args.topics) {
      this.topicArnByEvent.set(topic.event, bus.arn);
      for (const subscription of topic.subscriptions) {
        const rule = new aws.cloudwatch.EventRule(
          `${name}-${subscription.name}`,
          {
            eventBusName: bus.name,
            description: `${topic.event} to ${subscription.subscriber}`,
            eventPattern: JSON.stringify({ "detail-type": [topic.event], ...(topic.publishers.length > 0 ? { source: topic.publishers.map(this.sourceOf) } : {}) }),
            tags,
          },
          parent,
        );
        const { queue, deadLetter, queuePolicy } = this.createSubscriptionQueue(name, prefix, subscription, args, tags, (queueArn) => [
          { Sid: "RuleDelivers", Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sqs:SendMessage", Resource: queueArn, Condition: { ArnEquals: { "aws:SourceArn": rule.arn } } },
        ]);
        new aws.cloudwatch.EventTarget(
          `${name}-${subscription.name}`,
          {
            rule: rule.name,
            eventBusName: bus.name,
            arn: queue.arn,
            deadLetterConfig: { arn: deadLetter.arn },
            retryPolicy: { maximumEventAgeInSeconds: EVENTBRIDGE_RETRY.maximumEventAgeSeconds, maximumRetryAttempts: EVENTBRIDGE_RETRY.maximumRetryAttempts },
          },
          { parent: this, dependsOn: [queuePolicy] },
        );
      }
    }
    return bus;
  }

  private createKafka(
    name: string,
    prefix: string,
    args: MessageBrokerArgs,
    tags: Record<string, string>,
    kept: pulumi.CustomResourceOptions,
  ): { cluster: aws.msk.Cluster; securityGroup: aws.ec2.SecurityGroup } {
    const kafka = args.kafka!;
    const parent = { parent: this };
    const brokerNodes = kafka.brokerNodes ?? kafka.subnetIds.length;
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-kafka-sg`,
      { vpcId: kafka.vpcId, description: `${name} MSK: IAM-authenticated TLS clients only`, tags: { ...tags, Name: `${name}-kafka` } },
      parent,
    );
    (kafka.allowedSecurityGroupIds ?? []).forEach(
      (source, i) =>
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-kafka-ingress-${i}`,
          { securityGroupId: securityGroup.id, referencedSecurityGroupId: source, ipProtocol: "tcp", fromPort: KAFKA_IAM_PORT, toPort: KAFKA_IAM_PORT, description: "Kafka clients (IAM, TLS)" },
          parent,
        ),
    );
    // Brokers replicate to each other inside the group.
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-kafka-brokers`,
      { securityGroupId: securityGroup.id, referencedSecurityGroupId: securityGroup.id, ipProtocol: "tcp", fromPort: 9092, toPort: 9098, description: "Broker to broker" },
      parent,
    );
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-kafka-logs`, { retentionInDays: 90, kmsKeyId: this.kmsKey.arn, tags }, parent);
    const clusterArgs: aws.msk.ClusterArgs = {
      clusterName: physicalName("cluster", prefix, "kafka"),
      kafkaVersion: kafka.version ?? "3.8.x",
      numberOfBrokerNodes: brokerNodes,
      brokerNodeGroupInfo: {
        clientSubnets: [...kafka.subnetIds],
        instanceType: kafka.instanceType ?? "kafka.m7g.large",
        securityGroups: [securityGroup.id],
        storageInfo: { ebsStorageInfo: { volumeSize: kafka.volumeGiB ?? 100 } },
      },
      clientAuthentication: { sasl: { iam: true }, unauthenticated: false },
      encryptionInfo: { encryptionAtRestKmsKeyArn: this.kmsKey.arn, encryptionInTransit: { clientBroker: "TLS", inCluster: true } },
      loggingInfo: { brokerLogs: { cloudwatchLogs: { enabled: true, logGroup: logGroup.name } } },
      tags,
    };
    args.transform?.cluster?.(clusterArgs);
    const cluster = new aws.msk.Cluster(`${name}-kafka`, clusterArgs, kept);
    const retentionMs = (args.retentionDays ?? 4) * 86_400_000;
    for (const topicPlan of args.topics) {
      const topicArgs: aws.msk.TopicArgs = {
        clusterArn: cluster.arn,
        name: topicPlan.event,
        partitionCount: kafka.partitions ?? brokerNodes,
        replicationFactor: Math.min(3, brokerNodes),
        configs: JSON.stringify({ "retention.ms": String(retentionMs), "min.insync.replicas": String(Math.max(1, Math.min(3, brokerNodes) - 1)) }),
      };
      args.transform?.kafkaTopic?.(topicArgs, topicPlan);
      new aws.msk.Topic(`${name}-${topicPlan.event}`, topicArgs, parent);
      this.topicArnByEvent.set(topicPlan.event, kafkaArn(cluster.arn, "topic", topicPlan.event));
    }
    return { cluster, securityGroup };
  }

  /** Least-privilege IAM policy document to publish `event` (sns:Publish, or Kafka write on its topic). */
  publishPolicyDocument(event: string): pulumi.Output<string> {
    return policyDocument(this.publishStatements(event));
  }

  /**
   * Least-privilege IAM policy document to consume the subscription `subscriptionName` (`<subscriber>_<event>`):
   * receive and delete on its queue, or Kafka read on the event's topic with the subscriber's consumer group.
   */
  consumePolicyDocument(subscriptionName: string): pulumi.Output<string> {
    return policyDocument(this.consumeStatements(subscriptionName));
  }

  /**
   * One IAM policy document with everything `service` publishes and consumes according to the topics, or
   * undefined when it does neither. `publishes` narrows the events it publishes itself (those an event store
   * forwards reach the broker from the store).
   */
  servicePolicyDocument(service: string, publishes?: readonly string[]): pulumi.Output<string> | undefined {
    const events = this.topicPlans.filter((t) => t.publishers.includes(service) && (publishes === undefined || publishes.includes(t.event))).map((t) => t.event);
    const statements = [
      ...(this.kind === "eventbridge"
        ? events.length > 0
          ? [this.putEventsStatement(events, [this.sourceOf(service)])]
          : []
        : events.flatMap((event) => this.publishStatements(event))),
      ...this.topicPlans.flatMap((t) => t.subscriptions.filter((s) => s.subscriber === service)).flatMap((s) => this.consumeStatements(s.name)),
    ];
    return statements.length > 0 ? policyDocument(statements) : undefined;
  }

  private putEventsStatement(events: readonly string[], sources: readonly string[]): PolicyStatement {
    return {
      Effect: "Allow",
      Action: ["events:PutEvents"],
      Resource: [this.eventBus!.arn],
      Condition: { StringEquals: { "events:detail-type": [...events], "events:source": [...sources] } },
    };
  }

  private publishStatements(event: string): PolicyStatement[] {
    const topicArn = this.topicArnByEvent.get(event);
    if (!topicArn) throw new Error(`MessageBroker.publishPolicyDocument: event "${event}" has no topic. Fix: use one of ${[...this.topicArnByEvent.keys()].join(", ")}`);
    if (this.kind === "eventbridge") return [this.putEventsStatement([event], this.topicPlans.find((t) => t.event === event)!.publishers.map(this.sourceOf))];
    if (this.kind === "kafka") {
      const clusterArn = this.kafkaCluster!.arn;
      return [
        { Effect: "Allow", Action: ["kafka-cluster:Connect"], Resource: [clusterArn] },
        { Effect: "Allow", Action: ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"], Resource: [topicArn] },
      ];
    }
    return [
      { Effect: "Allow", Action: ["sns:Publish"], Resource: [topicArn] },
      { Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: [this.kmsKey.arn] },
    ];
  }

  private consumeStatements(subscriptionName: string): PolicyStatement[] {
    const topic = this.topicPlans.find((t) => t.subscriptions.some((s) => s.name === subscriptionName));
    if (!topic) {
      const names = this.topicPlans.flatMap((t) => t.subscriptions.map((s) => s.name));
      throw new Error(`MessageBroker.consumePolicyDocument: subscription "${subscriptionName}" does not exist. Fix: use one of ${names.join(", ") || "(none)"}`);
    }
    if (this.kind === "kafka") {
      const clusterArn = this.kafkaCluster!.arn;
      const subscriber = topic.subscriptions.find((s) => s.name === subscriptionName)!.subscriber;
      return [
        { Effect: "Allow", Action: ["kafka-cluster:Connect"], Resource: [clusterArn] },
        { Effect: "Allow", Action: ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"], Resource: [this.topicArnByEvent.get(topic.event)!] },
        // The consumer group is named after the subscriber, so one service cannot read another's offsets.
        { Effect: "Allow", Action: ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"], Resource: [kafkaArn(clusterArn, "group", subscriber)] },
      ];
    }
    return [
      { Effect: "Allow", Action: [...QUEUE_CONSUME_ACTIONS], Resource: [this.queueArnByName.get(subscriptionName)!] },
      { Effect: "Allow", Action: ["kms:Decrypt"], Resource: [this.kmsKey.arn] },
    ];
  }
}

interface PolicyStatement {
  readonly Effect: "Allow";
  readonly Action: readonly string[];
  readonly Resource: readonly pulumi.Input<string>[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

function policyDocument(statements: readonly PolicyStatement[]): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
}

function denyInsecureTransport(action: string, resource: pulumi.Input<string>) {
  return { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: action, Resource: resource, Condition: { Bool: { "aws:SecureTransport": "false" } } };
}

/** MSK topic and group ARNs share the cluster's name and id: `arn:...:topic/<cluster>/<uuid>/<topic>`. */
function kafkaArn(clusterArn: pulumi.Output<string>, kind: "topic" | "group", resource: string): pulumi.Output<string> {
  return clusterArn.apply((arn) => `${arn.replace(":cluster/", `:${kind}/`)}/${resource}`);
}

function record(entries: Map<string, pulumi.Output<string>>): pulumi.Output<Record<string, string>> {
  return pulumi.output(Object.fromEntries(entries)) as pulumi.Output<Record<string, string>>;
}

function validateBrokerArgs(kind: MessageBrokerKind, args: MessageBrokerArgs): void {
  const events = new Set<string>();
  for (const topic of args.topics) {
    if (events.has(topic.event)) throw new Error(`MessageBroker: topics lists event "${topic.event}" twice. Fix: give each event one entry`);
    events.add(topic.event);
  }
  const maxReceiveCount = args.maxReceiveCount ?? 5;
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
    throw new Error(`MessageBroker: maxReceiveCount is ${maxReceiveCount}. Fix: use an integer from 1 to 1000`);
  }
  const retentionDays = args.retentionDays ?? 4;
  if (kind === "sns-sqs" && (retentionDays < 1 || retentionDays > SQS_MAX_RETENTION_DAYS)) {
    throw new Error(`MessageBroker: retentionDays is ${retentionDays}; SQS keeps messages 1 to ${SQS_MAX_RETENTION_DAYS} days. Fix: use a value in that range`);
  }
  if (kind === "kafka") {
    if (!args.kafka) throw new Error(`MessageBroker: kind "kafka" without kafka. Fix: pass kafka: { vpcId, subnetIds } (private subnets)`);
    const subnets = args.kafka.subnetIds.length;
    const brokers = args.kafka.brokerNodes ?? subnets;
    if (subnets < 2 || subnets > 3) throw new Error(`MessageBroker: kafka.subnetIds has ${subnets} subnet(s). Fix: MSK needs 2 or 3 subnets in different zones`);
    if (!Number.isInteger(brokers) || brokers < 1 || brokers % subnets !== 0) {
      throw new Error(`MessageBroker: kafka.brokerNodes is ${brokers} for ${subnets} subnets. Fix: use a multiple of ${subnets}`);
    }
  }
}
