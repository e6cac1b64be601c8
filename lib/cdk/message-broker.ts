import {
  ArnFormat,
  Fn,
  Names,
  RemovalPolicy,
  Stack,
  aws_ec2 as ec2,
  aws_events as events,
  aws_iam as iam,
  aws_kms as kms,
  aws_msk as msk,
  aws_sns as sns,
  aws_sqs as sqs,
} from "aws-cdk-lib";
import { Construct } from "constructs";
import { SERVICE_TAG_KEY } from "../plan/messaging.js";
import { SIZING, VERSIONS } from "../plan/sizing.js";
import { SubscriptionQueue, checkQueueSettings } from "./subscription-queue.js";

/** One event and the services subscribed to it (the shape of the plan's `TopicPlan`). */
export interface BrokerTopic {
  readonly event: string;
  /**
   * Services allowed to publish the event; needed by `restrictToServices`.
   * @default - any principal the IAM grants allow
   */
  readonly publishers?: readonly string[];
  /**
   * EventBridge `source` values of the event (eventbridge only): rules match them and publishers may send only them.
   * @default - any source
   */
  readonly sources?: readonly string[];
  /**
   * `name` is the queue (sns-sqs, eventbridge) or consumer group (kafka) of one subscriber. Leave it
   * empty to create the queues elsewhere, e.g. a `SubscriptionQueue` in each subscriber's own stack.
   */
  readonly subscriptions: readonly { readonly subscriber: string; readonly name: string }[];
}

/** MSK cluster size. */
export interface KafkaSizing {
  /**
   * Kafka version.
   * @default VERSIONS.kafka
   */
  readonly version?: string;
  /**
   * Broker nodes; a multiple of the zones of the client subnets.
   * @default - one per zone
   */
  readonly brokerNodes?: number;
  /**
   * Broker instance type. Cost note: brokers are billed hourly.
   * @default "kafka.t3.small"
   */
  readonly instanceType?: string;
  /**
   * EBS storage per broker, in GiB.
   * @default 20
   */
  readonly volumeGiB?: number;
}

export interface MessageBrokerProps {
  /** Events and their subscriptions. */
  readonly topics: readonly BrokerTopic[];
  /**
   * Receives of a message before it moves to the subscription's dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Days a message is kept (SQS allows 1 to 14).
   * @default 4
   */
  readonly retentionDays?: number;
  /**
   * `sns-sqs`: a topic per event and a queue per subscription. `eventbridge`: a custom event bus
   * with a rule per subscription into its queue. `kafka`: an MSK cluster.
   * @default "sns-sqs"
   */
  readonly kind?: MessageBrokerKind;
  /**
   * Resource policies deny publishing to principals not tagged `msa:service` with a declared
   * publisher, and consuming a queue to principals not tagged with its subscriber, beside the IAM
   * grants (sns-sqs and eventbridge). Every topic then needs `publishers`.
   * @default false
   */
  readonly restrictToServices?: boolean;
  /**
   * VPC of the MSK cluster; required for kafka.
   * @default - none
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Client subnets of the MSK cluster, one per zone.
   * @default - the VPC's private subnets
   */
  readonly subnets?: ec2.SubnetSelection;
  /**
   * MSK cluster size (kafka only).
   * @default - the dev sizing: kafka.t3.small, 20 GiB, one broker per zone
   */
  readonly kafka?: KafkaSizing;
  /**
   * Peers admitted to the brokers' IAM/TLS port (kafka only); more with `allowFrom`.
   * @default - none
   */
  readonly allowFrom?: readonly ec2.IConnectable[];
  /**
   * An existing key for the topics (sns-sqs only), e.g. another stack's broker key when the topics are
   * split over several stacks; that key's policy must already let SNS use it for this account's topics
   * (as a `MessageBroker` that creates its key does).
   * @default - a new rotating key
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to queues, the cluster and the key when the stack deletes them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export type MessageBrokerKind = "sns-sqs" | "eventbridge" | "kafka";

/** Port of MSK's TLS listener with IAM client authentication. */
export const MSK_IAM_PORT = 9098;

interface Subscription {
  readonly event: string;
  readonly queue?: SubscriptionQueue;
}

/**
 * The event bus between services. `sns-sqs`: an SNS topic per event fanning out to one SQS queue
 * per subscriber (a `SubscriptionQueue`: raw delivery, dead-letter queue after `maxReceiveCount`
 * receives), every topic and queue encrypted with one rotating KMS key and reachable over TLS only.
 * `eventbridge`: a custom event bus and, per subscription, a rule matching the event's detail-type (and sources) that
 * delivers into the subscriber's queue, retrying for a day before the dead-letter queue.
 * `kafka`: an MSK cluster in private subnets with TLS, IAM authentication and encryption at rest.
 *
 * @example
 * const broker = new MessageBroker(stack, "Broker", {
 *   topics: [{ event: "order-placed", subscriptions: [{ subscriber: "payments", name: "payments_order-placed" }] }],
 * });
 * broker.grantPublish("order-placed", ordersRole);
 * broker.grantConsume("payments_order-placed", paymentsRole);
 */
export class MessageBroker extends Construct {
  readonly kind: MessageBrokerKind;
  /** The event bus (eventbridge only). */
  readonly eventBus?: events.EventBus;
  /** Encrypts every topic and queue, or the MSK volumes. */
  readonly encryptionKey: kms.IKey;
  /** The MSK cluster (kafka only). */
  readonly cluster?: msk.CfnCluster;
  /** Security group of the brokers (kafka only). */
  readonly securityGroup?: ec2.SecurityGroup;
  private readonly topics = new Map<string, sns.Topic | undefined>();
  private readonly topicProps = new Map<string, BrokerTopic>();
  private readonly subscriptions = new Map<string, Subscription>();

  constructor(scope: Construct, id: string, props: MessageBrokerProps) {
    super(scope, id);
    this.kind = props.kind ?? "sns-sqs";
    const { maxReceiveCount, retentionDays } = checkQueueSettings("MessageBroker", props);
    checkTopics(props.topics);
    const restrict = props.restrictToServices ?? false;
    if (restrict && this.kind === "kafka") {
      throw new Error(`MessageBroker restrictToServices is true but kind is "kafka", whose access is per-user IAM. Fix: drop restrictToServices`);
    }
    props.topics.forEach((topic, i) => {
      this.topicProps.set(topic.event, topic);
      if (restrict && (topic.publishers ?? []).length === 0) {
        throw new Error(`MessageBroker topics[${i}].publishers is empty but restrictToServices is true. Fix: list the services publishing "${topic.event}"`);
      }
    });
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (props.encryptionKey && this.kind !== "sns-sqs") {
      throw new Error(`MessageBroker encryptionKey is set but kind is "${this.kind}", which creates its own key. Fix: drop encryptionKey, or use kind "sns-sqs"`);
    }
    const ownKey = props.encryptionKey ? undefined : new kms.Key(this, "Key", { description: `Encrypts the messages of ${this.node.path}`, enableKeyRotation: true, removalPolicy });
    this.encryptionKey = props.encryptionKey ?? ownKey!;

    if (this.kind === "kafka") {
      if (!props.vpc) throw new Error(`MessageBroker kind is "kafka" but vpc is undefined. Fix: pass the VPC whose private subnets hold the brokers`);
      const { cluster, securityGroup } = this.createKafka(props, props.vpc, removalPolicy);
      this.cluster = cluster;
      this.securityGroup = securityGroup;
      for (const topic of props.topics) {
        this.topics.set(topic.event, undefined);
        for (const subscription of topic.subscriptions) this.subscriptions.set(subscription.name, { event: topic.event });
      }
      for (const peer of props.allowFrom ?? []) this.allowFrom(peer);
      return;
    }
    if (props.allowFrom && props.allowFrom.length > 0) {
      throw new Error(`MessageBroker allowFrom is set but kind is "${this.kind}", which has no network endpoint to open. Fix: drop allowFrom, and grant access with grantPublish/grantConsume`);
    }
    const queueOptions = { encryptionKey: this.encryptionKey, maxReceiveCount, retentionDays, removalPolicy, restrictToSubscriber: restrict };

    if (this.kind === "eventbridge") {
      const bus = new events.EventBus(this, "Bus", { description: `Events of ${this.node.path}` });
      this.eventBus = bus;
      // EventBridge encrypts deliveries into the queues with the key, for this bus's rules only (wherever they live).
      ownKey!.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal("events.amazonaws.com")],
          actions: ["kms:Decrypt", "kms:GenerateDataKey"],
          resources: ["*"],
          conditions: { ArnLike: { "aws:SourceArn": Stack.of(this).formatArn({ service: "events", resource: "rule", resourceName: `${bus.eventBusName}/*` }) } },
        }),
      );
      for (const topic of props.topics) {
        this.topics.set(topic.event, undefined);
        const group = new Construct(this, topic.event);
        for (const { subscriber, name } of topic.subscriptions) {
          const queue = new SubscriptionQueue(group, subscriber, { ...queueOptions, event: topic.event, subscriber, eventBus: bus, ...(topic.sources ? { sources: topic.sources } : {}) });
          this.subscriptions.set(name, { event: topic.event, queue });
        }
      }
      if (restrict) {
        for (const topic of props.topics) {
          bus.addToResourcePolicy(
            new iam.PolicyStatement({
              sid: `OnlyPublishersOf${topic.event.replace(/[^A-Za-z0-9]/g, "")}`,
              effect: iam.Effect.DENY,
              principals: [new iam.AnyPrincipal()],
              actions: ["events:PutEvents"],
              resources: [bus.eventBusArn],
              conditions: { StringEquals: { "events:detail-type": topic.event }, StringNotEquals: { [`aws:PrincipalTag/${SERVICE_TAG_KEY}`]: [...topic.publishers!] } },
            }),
          );
        }
      }
      return;
    }

    // SNS encrypts deliveries to the queues with the shared key. Naming each topic's ARN would make the
    // key depend on topics that depend on the key, so the condition admits this account's topics
    // (those of other stacks sharing the key too).
    ownKey?.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal("sns.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey"],
        resources: ["*"],
        conditions: { ArnLike: { "aws:SourceArn": Stack.of(this).formatArn({ service: "sns", resource: "*", arnFormat: ArnFormat.NO_RESOURCE_NAME }) } },
      }),
    );
    for (const { event, subscriptions, publishers } of props.topics) {
      const group = new Construct(this, event);
      const topic = new sns.Topic(group, "Topic", { masterKey: this.encryptionKey, enforceSSL: true });
      this.topics.set(event, topic);
      if (restrict) {
        topic.addToResourcePolicy(
          new iam.PolicyStatement({
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: ["sns:Publish"],
            resources: [topic.topicArn],
            conditions: { StringNotEquals: { [`aws:PrincipalTag/${SERVICE_TAG_KEY}`]: [...publishers!] } },
          }),
        );
      }
      for (const { subscriber, name } of subscriptions) {
        this.subscriptions.set(name, { event, queue: new SubscriptionQueue(group, subscriber, { ...queueOptions, event, subscriber, topic }) });
      }
    }
  }

  /** The SNS topic of an event (sns-sqs only). */
  topic(event: string): sns.ITopic {
    const topic = this.lookUpTopic(event);
    if (!topic) throw new Error(`MessageBroker.topic("${event}"): kind is "${this.kind}", which has no SNS topics. Fix: use grantPublish, or kind "sns-sqs"`);
    return topic;
  }

  /** The queue of a subscription (sns-sqs and eventbridge). */
  queue(subscriptionName: string): sqs.IQueue {
    return this.sqsOf(subscriptionName, "queue").queue;
  }

  /** The dead-letter queue of a subscription (sns-sqs and eventbridge). */
  deadLetterQueue(subscriptionName: string): sqs.IQueue {
    return this.sqsOf(subscriptionName, "deadLetterQueue").deadLetterQueue;
  }

  /** The queue construct of a subscription, with its dead-letter queue and its SNS subscription or rule (sns-sqs and eventbridge). */
  subscriptionQueue(subscriptionName: string): SubscriptionQueue {
    return this.sqsOf(subscriptionName, "subscriptionQueue");
  }

  /**
   * Lets a grantee publish an event: `sns:Publish` on its topic and `kms:GenerateDataKey`/`kms:Decrypt`
   * on the key (sns-sqs), `events:PutEvents` on the bus for the event's detail-type and sources only
   * (eventbridge), or connect and write to its Kafka topic (kafka).
   */
  grantPublish(event: string, grantee: iam.IGrantable): iam.Grant {
    const topic = this.lookUpTopic(event);
    if (this.eventBus) {
      const sources = this.topicProps.get(event)!.sources;
      return iam.Grant.addToPrincipal({
        grantee,
        actions: ["events:PutEvents"],
        resourceArns: [this.eventBus.eventBusArn],
        conditions: { StringEquals: { "events:detail-type": event, ...(sources ? { "events:source": [...sources] } : {}) } },
      });
    }
    if (!topic) {
      return this.grantKafka(grantee, [["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"], [this.kafkaArn("topic", event)]]);
    }
    return iam.Grant.addToPrincipalOrResource({ grantee, actions: ["sns:Publish"], resourceArns: [topic.topicArn], resource: topic }).combine(
      iam.Grant.addToPrincipalOrResource({ grantee, actions: ["kms:GenerateDataKey", "kms:Decrypt"], resourceArns: [this.encryptionKey.keyArn], resource: this.encryptionKey }),
    );
  }

  /**
   * Lets a grantee consume a subscription: receive, delete and extend messages of its queue and
   * decrypt them (sns-sqs), or read its Kafka topic as the consumer group `subscriptionName` (kafka).
   */
  grantConsume(subscriptionName: string, grantee: iam.IGrantable): iam.Grant {
    const subscription = this.subscriptionOf(subscriptionName);
    if (!subscription.queue) {
      return this.grantKafka(
        grantee,
        [["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"], [this.kafkaArn("topic", subscription.event)]],
        [["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"], [this.kafkaArn("group", subscriptionName)]],
      );
    }
    return subscription.queue.grantConsume(grantee);
  }

  /** Admits a peer to the brokers' IAM/TLS port (kafka only). */
  allowFrom(peer: ec2.IConnectable): void {
    if (!this.securityGroup) throw new Error(`MessageBroker.allowFrom: kind is "sns-sqs", which has no network endpoint. Fix: grant access with grantPublish/grantConsume`);
    this.securityGroup.connections.allowFrom(peer, ec2.Port.tcp(MSK_IAM_PORT), `Kafka clients of ${this.node.path}`);
  }

  private createKafka(props: MessageBrokerProps, vpc: ec2.IVpc, removalPolicy: RemovalPolicy): { cluster: msk.CfnCluster; securityGroup: ec2.SecurityGroup } {
    const subnets = vpc.selectSubnets({ ...(props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }), onePerAz: true });
    const zones = subnets.subnetIds.length;
    if (zones < 2 || zones > 3) {
      throw new Error(`MessageBroker subnets span ${zones} zone(s); MSK needs client subnets in 2 or 3 zones. Fix: select private subnets in two or three zones`);
    }
    const sizing = SIZING.aws.dev.kafka;
    const brokerNodes = props.kafka?.brokerNodes ?? zones;
    if (!Number.isInteger(brokerNodes) || brokerNodes < zones || brokerNodes % zones !== 0) {
      throw new Error(`MessageBroker kafka.brokerNodes is ${brokerNodes}; MSK needs a multiple of the ${zones} zones. Fix: use ${zones}, ${2 * zones}, ...`);
    }
    const securityGroup = new ec2.SecurityGroup(this, "SecurityGroup", { vpc, description: "MSK brokers: Kafka clients only", allowAllOutbound: false });
    const cluster = new msk.CfnCluster(this, "Cluster", {
      clusterName: Names.uniqueResourceName(this, { maxLength: 64, separator: "-" }),
      kafkaVersion: props.kafka?.version ?? VERSIONS.kafka,
      numberOfBrokerNodes: brokerNodes,
      brokerNodeGroupInfo: {
        clientSubnets: subnets.subnetIds,
        instanceType: props.kafka?.instanceType ?? sizing.type,
        securityGroups: [securityGroup.securityGroupId],
        storageInfo: { ebsStorageInfo: { volumeSize: props.kafka?.volumeGiB ?? sizing.volumeGiB } },
      },
      encryptionInfo: {
        encryptionAtRest: { dataVolumeKmsKeyId: this.encryptionKey.keyArn },
        encryptionInTransit: { clientBroker: "TLS", inCluster: true },
      },
      clientAuthentication: { sasl: { iam: { enabled: true } }, unauthenticated: { enabled: false } },
    });
    cluster.applyRemovalPolicy(removalPolicy);
    return { cluster, securityGroup };
  }

  /** `arn:…:kafka:…:topic|group/<cluster name>/<cluster uuid>/<name>`, from the cluster ARN. */
  private kafkaArn(kind: "topic" | "group", name: string): string {
    const [clusterName, clusterUuid] = [1, 2].map((i) => Fn.select(i, Fn.split("/", this.cluster!.attrArn)));
    return Stack.of(this).formatArn({ service: "kafka", resource: kind, resourceName: `${clusterName}/${clusterUuid}/${name}` });
  }

  private grantKafka(grantee: iam.IGrantable, ...statements: [actions: string[], resources: string[]][]): iam.Grant {
    return statements.reduce(
      (grant, [actions, resourceArns]) => grant.combine(iam.Grant.addToPrincipal({ grantee, actions, resourceArns })),
      iam.Grant.addToPrincipal({ grantee, actions: ["kafka-cluster:Connect"], resourceArns: [this.cluster!.attrArn] }),
    );
  }

  private lookUpTopic(event: string): sns.Topic | undefined {
    if (!this.topics.has(event)) {
      throw new Error(`MessageBroker: no topic for event "${event}"; known events: ${[...this.topics.keys()].join(", ") || "none"}. Fix: add it to topics`);
    }
    return this.topics.get(event);
  }

  private subscriptionOf(name: string): Subscription {
    const subscription = this.subscriptions.get(name);
    if (!subscription) {
      throw new Error(`MessageBroker: no subscription "${name}"; known subscriptions: ${[...this.subscriptions.keys()].join(", ") || "none"}. Fix: add it to a topic's subscriptions`);
    }
    return subscription;
  }

  private sqsOf(name: string, member: "queue" | "deadLetterQueue" | "subscriptionQueue"): SubscriptionQueue {
    const { queue } = this.subscriptionOf(name);
    if (!queue) throw new Error(`MessageBroker.${member}("${name}"): kind is "kafka", which has consumer groups, not queues. Fix: use grantConsume, or kind "sns-sqs" or "eventbridge"`);
    return queue;
  }
}

function checkTopics(topics: readonly BrokerTopic[]): void {
  const events = new Set<string>();
  const names = new Set<string>();
  topics.forEach((topic, i) => {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(topic.event)) {
      throw new Error(`MessageBroker topics[${i}].event is "${topic.event}"; use 1 to 64 letters, digits, '-' or '_'`);
    }
    if (events.has(topic.event)) throw new Error(`MessageBroker topics[${i}].event "${topic.event}" appears twice. Fix: list each event once with all its subscriptions`);
    events.add(topic.event);
    const subscribers = new Set<string>();
    topic.subscriptions.forEach((subscription, j) => {
      const path = `MessageBroker topics[${i}].subscriptions[${j}]`;
      if (!/^[A-Za-z0-9_-]{1,80}$/.test(subscription.name)) throw new Error(`${path}.name is "${subscription.name}"; use 1 to 80 letters, digits, '-' or '_'`);
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(subscription.subscriber)) throw new Error(`${path}.subscriber is "${subscription.subscriber}"; use 1 to 64 letters, digits, '-' or '_'`);
      if (names.has(subscription.name)) throw new Error(`${path}.name "${subscription.name}" is used twice. Fix: give every subscription its own name`);
      if (subscribers.has(subscription.subscriber)) throw new Error(`${path}.subscriber "${subscription.subscriber}" subscribes to "${topic.event}" twice. Fix: keep one subscription`);
      names.add(subscription.name);
      subscribers.add(subscription.subscriber);
    });
  });
}
