import * as servicebus from "@pulumi/azure-native/servicebus/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { BrokerPlan } from "../../plan/types.js";
import { sendDiagnostics } from "./diagnostics.js";
import { privateEndpoint } from "./private-endpoint.js";
import { grantRole } from "./roles.js";
import type { ServiceAccess } from "./service-workload.js";

/** Environment variable naming the namespace host services connect to (AMQP over TLS, Entra ID). */
export const SERVICE_BUS_NAMESPACE_ENV = "SERVICE_BUS_NAMESPACE";
/** How long a receiver holds a message before it is redelivered (and counted against maxDeliveryCount). */
export const LOCK_DURATION = "PT1M";
/** Window in which a repeated message id is dropped, so a retried publish is not delivered twice. */
export const DUPLICATE_DETECTION_WINDOW = "PT10M";

/** Arguments of {@link MessageBroker}. */
export interface MessageBrokerArgs {
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /** Globally unique namespace name (the host is `<name>.servicebus.windows.net`). */
  readonly namespaceName: pulumi.Input<string>;
  /** Topics, their publishers and subscriptions, delivery count and retention (`plan.broker`). */
  readonly broker: BrokerPlan;
  /**
   * Premium (private endpoint, isolation, zone redundancy) or Standard (topics need Standard at least).
   * @default { name: "Standard" }
   */
  readonly sku?: { readonly name: "Premium" | "Standard"; readonly capacity?: number };
  /**
   * A private endpoint (Premium only); the namespace's public endpoint is then disabled.
   * @default - public endpoint, Entra ID only
   */
  readonly privateEndpoint?: { readonly subnetId: pulumi.Input<string>; readonly privateDnsZoneId: pulumi.Input<string> };
  /**
   * Log Analytics workspace of the namespace's operational logs and metrics.
   * @default - no diagnostics
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /**
   * Protect the namespace (and so its messages) and keep it when the stack is destroyed.
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on the namespace.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: {
    readonly namespace?: (args: servicebus.NamespaceArgs) => void;
    readonly topic?: (args: servicebus.TopicArgs, event: string) => void;
    readonly subscription?: (args: servicebus.SubscriptionArgs, event: string, subscriber: string) => void;
  };
}

/**
 * The event bus on Service Bus: a namespace with Entra ID authentication only (no SAS keys) and TLS
 * 1.2+, a topic per event with duplicate detection, and a subscription per subscriber whose
 * messages are dead-lettered after `maxReceiveCount` deliveries or on expiry. Each service is
 * granted Azure Service Bus Data Sender on the topics it publishes and Data Receiver on its own
 * subscriptions, each scoped to that entity alone.
 *
 * Cost: Standard bills per operation plus a base fee; a Premium messaging unit bills hourly.
 *
 * @example
 * const broker = new MessageBroker("events", { resourceGroupName: group.name, location: "eastus", namespaceName: "shop-prod-bus-1a2b3c", broker: plan.broker! });
 */
export class MessageBroker extends pulumi.ComponentResource implements ServiceAccess {
  /** `<namespace>.servicebus.windows.net`. */
  readonly namespaceHost: pulumi.Output<string>;
  readonly namespaceId: pulumi.Output<string>;
  /** Topic id by event. */
  readonly topicIds: pulumi.Output<Record<string, string>>;
  readonly nodes: {
    readonly namespace: servicebus.Namespace;
    readonly topics: Readonly<Record<string, servicebus.Topic>>;
    /** Subscriptions by event, then subscriber. */
    readonly subscriptions: Readonly<Record<string, Readonly<Record<string, servicebus.Subscription>>>>;
  };
  private readonly broker: BrokerPlan;

  constructor(name: string, args: MessageBrokerArgs, opts?: pulumi.ComponentResourceOptions) {
    const sku = args.sku ?? { name: "Standard" };
    if (args.privateEndpoint && sku.name !== "Premium") {
      throw new Error(`MessageBroker ${name}: sku ${sku.name} has no private endpoints. Fix: use sku Premium or drop privateEndpoint`);
    }
    if (args.broker.implementation !== "service-bus") {
      throw new Error(`MessageBroker ${name}: broker.implementation "${args.broker.implementation}" is not Service Bus. Fix: set messaging.broker: servicebus (or auto)`);
    }
    const days = args.broker.retentionDays;
    super("msa:azure:MessageBroker", name, {}, opts);
    const kept = { parent: this, ...(args.retain ? { protect: true, retainOnDelete: true } : {}) };
    const { resourceGroupName } = args;
    this.broker = args.broker;

    const namespaceArgs: servicebus.NamespaceArgs = {
      resourceGroupName,
      location: args.location,
      namespaceName: args.namespaceName,
      sku: { name: sku.name, tier: sku.name, ...(sku.name === "Premium" ? { capacity: sku.capacity ?? 1 } : {}) },
      ...(sku.name === "Premium" ? { premiumMessagingPartitions: 1 } : {}),
      // Entra ID only: no shared access key exists that could be leaked.
      disableLocalAuth: true,
      minimumTlsVersion: "1.2",
      publicNetworkAccess: args.privateEndpoint ? "Disabled" : "Enabled",
      tags: { ...args.tags },
    };
    args.transform?.namespace?.(namespaceArgs);
    const namespace = new servicebus.Namespace(`${name}-namespace`, namespaceArgs, kept);
    if (args.privateEndpoint) {
      privateEndpoint(`${name}-endpoint`, { resourceGroupName, subnetId: args.privateEndpoint.subnetId, resourceId: namespace.id, group: "namespace", privateDnsZoneId: args.privateEndpoint.privateDnsZoneId, ...(args.tags ? { tags: args.tags } : {}) }, this);
    }
    if (args.logWorkspaceId) sendDiagnostics(`${name}-diagnostics`, namespace.id, args.logWorkspaceId, this);

    const topics: Record<string, servicebus.Topic> = {};
    const subscriptions: Record<string, Record<string, servicebus.Subscription>> = {};
    for (const topic of args.broker.topics) {
      const topicArgs: servicebus.TopicArgs = {
        resourceGroupName,
        namespaceName: namespace.name,
        topicName: topic.event,
        defaultMessageTimeToLive: `P${days}D`,
        requiresDuplicateDetection: true,
        duplicateDetectionHistoryTimeWindow: DUPLICATE_DETECTION_WINDOW,
        enableBatchedOperations: true,
      };
      args.transform?.topic?.(topicArgs, topic.event);
      const created = new servicebus.Topic(`${name}-${topic.event}`, topicArgs, kept);
      topics[topic.event] = created;
      subscriptions[topic.event] = {};
      for (const subscription of topic.subscriptions) {
        const subscriptionArgs: servicebus.SubscriptionArgs = {
          resourceGroupName,
          namespaceName: namespace.name,
          topicName: created.name,
          subscriptionName: subscription.subscriber,
          maxDeliveryCount: args.broker.maxReceiveCount,
          lockDuration: LOCK_DURATION,
          defaultMessageTimeToLive: `P${days}D`,
          // Poison and expired messages go to the subscription's dead-letter queue instead of being lost.
          deadLetteringOnMessageExpiration: true,
          deadLetteringOnFilterEvaluationExceptions: true,
          enableBatchedOperations: true,
        };
        args.transform?.subscription?.(subscriptionArgs, topic.event, subscription.subscriber);
        subscriptions[topic.event]![subscription.subscriber] = new servicebus.Subscription(`${name}-${topic.event}-${subscription.subscriber}`, subscriptionArgs, kept);
      }
    }

    this.namespaceId = namespace.id;
    this.namespaceHost = pulumi.interpolate`${namespace.name}.servicebus.windows.net`;
    this.topicIds = pulumi.all(Object.fromEntries(Object.entries(topics).map(([event, t]) => [event, t.id])));
    this.nodes = { namespace, topics, subscriptions };
    this.registerOutputs({ namespaceHost: this.namespaceHost, topicIds: this.topicIds });
  }

  /** Data Sender on each topic the service publishes, Data Receiver on each of its own subscriptions; nothing namespace-wide. */
  grantAccess(service: string, principalId: pulumi.Input<string>, parent: pulumi.Resource): pulumi.Resource[] {
    const grants: pulumi.Resource[] = [];
    for (const topic of this.broker.topics) {
      if (topic.publishers.includes(service)) {
        grants.push(grantRole(`${service}-send-${topic.event}`, { role: "serviceBusDataSender", scope: this.nodes.topics[topic.event]!.id, principalId }, { parent }));
      }
      if (topic.subscriptions.some((s) => s.subscriber === service)) {
        grants.push(grantRole(`${service}-receive-${topic.event}`, { role: "serviceBusDataReceiver", scope: this.nodes.subscriptions[topic.event]![service]!.id, principalId }, { parent }));
      }
    }
    return grants;
  }

  /** Whether a service publishes or subscribes, so it needs the namespace's address. */
  uses(service: string): boolean {
    return this.broker.topics.some((t) => t.publishers.includes(service) || t.subscriptions.some((s) => s.subscriber === service));
  }
}
