import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { pubsubSubscriptionName, pubsubTopicName } from "../../plan/gcp.js";
import type { BrokerPlan } from "../../plan/types.js";
import { projectOf, serviceAgent } from "./project.js";
import type { PubSubGrants } from "./service-identity.js";

/** Delivery attempts Pub/Sub allows before dead-lettering: 5 to 100. */
export const PUBSUB_DELIVERY_ATTEMPTS = { min: 5, max: 100 } as const;
/** Longest retention a Pub/Sub subscription accepts: 7 days. */
export const PUBSUB_MAX_SUBSCRIPTION_RETENTION_DAYS = 7;
/** Redelivery back-off between attempts. */
export const PUBSUB_RETRY_POLICY = { minimumBackoff: "10s", maximumBackoff: "600s" } as const;
/** Seconds a subscriber has to acknowledge before redelivery. */
export const PUBSUB_ACK_DEADLINE_SECONDS = 60;

/** Arguments of {@link MessageBroker}. */
export interface MessageBrokerArgs {
  /** Topics, subscriptions, delivery attempts and retention (`plan.broker`, implementation `pubsub`). */
  readonly broker: BrokerPlan;
  /** Prefix of every topic and subscription name (the landing zone's name), so several zones share a project. */
  readonly namePrefix: string;
  /**
   * Protect the subscriptions and dead-letter subscriptions, which hold undelivered messages (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Labels on every topic and subscription.
   * @default - none
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly topic?: (args: gcp.pubsub.TopicArgs, event: string) => void;
    readonly subscription?: (args: gcp.pubsub.SubscriptionArgs, subscription: string) => void;
  };
}

/**
 * The event bus on Pub/Sub: a topic per event and, per subscriber, a subscription with a retry
 * policy and a dead-letter topic (plus a subscription keeping the dead letters for inspection).
 * Pub/Sub's service agent may publish only to the dead-letter topics and acknowledge only on the
 * subscriptions it forwards from; services get nothing here: {@link grantsFor} tells a service's
 * identity exactly which topics it may publish to and which subscriptions it may consume.
 *
 * Cost: Pub/Sub bills per TiB delivered and per GiB-month of retained messages.
 *
 * @example
 * const broker = new MessageBroker("events", { broker: plan.broker!, namePrefix: "shop" });
 * new ServiceIdentity("orders", { plan, service: "orders", pubsub: broker.grantsFor("orders") });
 */
export class MessageBroker extends pulumi.ComponentResource {
  /** Topic ids by event. */
  readonly topicIds: Readonly<Record<string, pulumi.Output<string>>>;
  /** Topic names by event. */
  readonly topicNames: Readonly<Record<string, string>>;
  /** Subscription ids by plan subscription name (`<subscriber>_<event>`). */
  readonly subscriptionIds: Readonly<Record<string, pulumi.Output<string>>>;
  readonly nodes: {
    readonly topics: Readonly<Record<string, gcp.pubsub.Topic>>;
    readonly subscriptions: Readonly<Record<string, gcp.pubsub.Subscription>>;
    readonly deadLetterTopics: Readonly<Record<string, gcp.pubsub.Topic>>;
    readonly deadLetterSubscriptions: Readonly<Record<string, gcp.pubsub.Subscription>>;
  };
  private readonly plan: BrokerPlan;
  private readonly prefix: string;

  constructor(name: string, args: MessageBrokerArgs, opts?: pulumi.ComponentResourceOptions) {
    const { broker } = args;
    if (broker.implementation !== "pubsub") {
      throw new Error(`MessageBroker ${name}: broker.implementation "${broker.implementation}" is not Pub/Sub. Fix: set messaging.broker: pubsub (or auto) on gcp`);
    }
    const { min, max } = PUBSUB_DELIVERY_ATTEMPTS;
    if (broker.maxReceiveCount < min || broker.maxReceiveCount > max) {
      throw new Error(`MessageBroker ${name}: maxReceiveCount ${broker.maxReceiveCount} is outside Pub/Sub's ${min}-${max} delivery attempts. Fix: set messaging.maxReceiveCount between ${min} and ${max}`);
    }
    super("msa:gcp:MessageBroker", name, {}, opts);
    this.plan = broker;
    this.prefix = args.namePrefix;
    const parent = { parent: this };
    const kept = { parent: this, protect: args.retain ?? false, retainOnDelete: args.retain ?? false };
    const labels = { ...args.labels };
    const agent = serviceAgent(projectOf(this), "gcp-sa-pubsub.iam.gserviceaccount.com");
    const seconds = (days: number) => `${days * 86400}s`;
    const subscriptionRetention = seconds(Math.min(broker.retentionDays, PUBSUB_MAX_SUBSCRIPTION_RETENTION_DAYS));

    const topics: Record<string, gcp.pubsub.Topic> = {};
    const subscriptions: Record<string, gcp.pubsub.Subscription> = {};
    const deadLetterTopics: Record<string, gcp.pubsub.Topic> = {};
    const deadLetterSubscriptions: Record<string, gcp.pubsub.Subscription> = {};
    const names: Record<string, string> = {};
    for (const topicPlan of broker.topics) {
      const topicArgs: gcp.pubsub.TopicArgs = { name: pubsubTopicName(args.namePrefix, topicPlan.event), messageRetentionDuration: seconds(broker.retentionDays), labels };
      args.transform?.topic?.(topicArgs, topicPlan.event);
      const topic = new gcp.pubsub.Topic(`${name}-${topicPlan.event}`, topicArgs, parent);
      topics[topicPlan.event] = topic;
      names[topicPlan.event] = topicArgs.name as string;

      for (const subscriptionPlan of topicPlan.subscriptions) {
        const base = pubsubSubscriptionName(args.namePrefix, subscriptionPlan.name);
        const logical = `${name}-${subscriptionPlan.name.replace(/_/g, "-")}`;
        const deadLetterTopic = new gcp.pubsub.Topic(`${logical}-dead-letter`, { name: `${base}-dead-letter`, messageRetentionDuration: seconds(broker.retentionDays), labels }, parent);
        // Without a subscription, dead letters published to the topic would be dropped.
        const deadLetterSubscription = new gcp.pubsub.Subscription(
          `${logical}-dead-letter`,
          { name: `${base}-dead-letter`, topic: deadLetterTopic.id, messageRetentionDuration: seconds(PUBSUB_MAX_SUBSCRIPTION_RETENTION_DAYS), expirationPolicy: { ttl: "" }, labels },
          kept,
        );
        const subscriptionArgs: gcp.pubsub.SubscriptionArgs = {
          name: base,
          topic: topic.id,
          ackDeadlineSeconds: PUBSUB_ACK_DEADLINE_SECONDS,
          messageRetentionDuration: subscriptionRetention,
          retryPolicy: { ...PUBSUB_RETRY_POLICY },
          deadLetterPolicy: { deadLetterTopic: deadLetterTopic.id, maxDeliveryAttempts: broker.maxReceiveCount },
          // An idle subscriber must not lose its subscription.
          expirationPolicy: { ttl: "" },
          labels,
        };
        args.transform?.subscription?.(subscriptionArgs, subscriptionPlan.name);
        const subscription = new gcp.pubsub.Subscription(logical, subscriptionArgs, kept);
        // Pub/Sub forwards undeliverable messages as its service agent: publish on the dead-letter topic, acknowledge on the source.
        new gcp.pubsub.TopicIAMMember(`${logical}-dead-letter-publisher`, { topic: deadLetterTopic.id, role: "roles/pubsub.publisher", member: agent }, parent);
        new gcp.pubsub.SubscriptionIAMMember(`${logical}-dead-letter-forwarder`, { subscription: subscription.id, role: "roles/pubsub.subscriber", member: agent }, parent);
        subscriptions[subscriptionPlan.name] = subscription;
        deadLetterTopics[subscriptionPlan.name] = deadLetterTopic;
        deadLetterSubscriptions[subscriptionPlan.name] = deadLetterSubscription;
      }
    }
    this.topicIds = Object.fromEntries(Object.entries(topics).map(([event, topic]) => [event, topic.id]));
    this.topicNames = names;
    this.subscriptionIds = Object.fromEntries(Object.entries(subscriptions).map(([subscription, s]) => [subscription, s.id]));
    this.nodes = { topics, subscriptions, deadLetterTopics, deadLetterSubscriptions };
    this.registerOutputs({ topicIds: pulumi.all(this.topicIds), subscriptionIds: pulumi.all(this.subscriptionIds) });
  }

  /** What `service` may do: publish to the topics of its `publishes`, consume the subscriptions it owns. */
  grantsFor(service: string): PubSubGrants {
    return {
      publish: this.plan.topics.filter((t) => t.publishers.includes(service)).map((t) => ({ event: t.event, topicId: this.topicIds[t.event]! })),
      consume: this.plan.topics.flatMap((t) =>
        t.subscriptions.filter((s) => s.subscriber === service).map((s) => ({ subscription: s.name, subscriptionId: this.subscriptionIds[s.name]! })),
      ),
    };
  }

  /** Environment a service reads its Pub/Sub names from: `PUBSUB_TOPICS` (event → topic it publishes to) and `PUBSUB_SUBSCRIPTIONS` (event → its subscription), as JSON. */
  environmentFor(service: string): Record<string, string> {
    const publish = Object.fromEntries(this.plan.topics.filter((t) => t.publishers.includes(service)).map((t) => [t.event, this.topicNames[t.event]!]));
    const consume = Object.fromEntries(
      this.plan.topics.flatMap((t) => t.subscriptions.filter((s) => s.subscriber === service).map((s) => [t.event, pubsubSubscriptionName(this.prefix, s.name)])),
    );
    return {
      ...(Object.keys(publish).length > 0 ? { [PUBSUB_TOPICS_ENV]: JSON.stringify(publish) } : {}),
      ...(Object.keys(consume).length > 0 ? { [PUBSUB_SUBSCRIPTIONS_ENV]: JSON.stringify(consume) } : {}),
    };
  }
}

/** JSON object, event → Pub/Sub topic name, of the events a service publishes. */
export const PUBSUB_TOPICS_ENV = "PUBSUB_TOPICS";
/** JSON object, event → Pub/Sub subscription name, of the events a service consumes. */
export const PUBSUB_SUBSCRIPTIONS_ENV = "PUBSUB_SUBSCRIPTIONS";
