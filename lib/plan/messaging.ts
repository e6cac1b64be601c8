/** Messaging decisions both engines share: names, the service tag, event sources and access lists. */

import { createHash } from "node:crypto";
import { physicalName, stackName } from "./naming.js";
import type { TopicStackPlan } from "./types.js";

/**
 * Tag naming the service an IAM principal acts for. Service roles (and the pipes forwarding an event
 * store) carry it; topic, bus and queue policies deny publishing and consuming to principals whose
 * tag is not a declared publisher or the subscriber, beside the IAM grants.
 */
export const SERVICE_TAG_KEY = "msa:service";

/** Queue or consumer group of one subscriber of one event: `<subscriber>_<event>` ('_' occurs in neither name). */
export function subscriptionName(subscriber: string, event: string): string {
  return physicalName("queue", `${subscriber}_${event}`);
}

/** EventBridge `source` of the events a service publishes: `<zone>.<service>`. */
export function eventSource(zone: string, service: string): string {
  return `${zone}.${service}`;
}

/** Consuming one queue: receive, delete, extend visibility and look it up. */
export const QUEUE_CONSUME_ACTIONS = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"] as const;

/** Actions the broker's resource policies reserve for the declared publishers and subscriber. */
export const RESTRICTED_PUBLISH_ACTIONS = { "sns-sqs": ["sns:Publish"], eventbridge: ["events:PutEvents"] } as const;
export const RESTRICTED_CONSUME_ACTIONS = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"] as const;

/**
 * EventBridge delivery to a subscriber's queue: retried for a day with up to 185 attempts (the
 * service maximum), then kept in the rule target's dead-letter queue.
 */
export const EVENTBRIDGE_RETRY = { maximumEventAgeSeconds: 86_400, maximumRetryAttempts: 185 } as const;

/** Resources of an sns-sqs topic stack: shard 0's key and its ARN parameter, and per topic the topic, its policy and its ARN parameter. */
export const TOPIC_STACK_RESOURCES = { shared: 2, perTopic: 3 } as const;

/** Largest `messaging.topicStacks` the spec accepts. */
export const TOPIC_STACKS_MAX = 20;

/** CloudFormation's resource limit per template, and the share of it the CDK synth refuses (`lib/cdk/template-limits.ts`). */
const RESOURCE_LIMIT = 500;
const LIMIT_SHARE = 0.8;

/**
 * Index of the stack holding an event's topic: a stable hash (SHA-256) of the event name modulo
 * `topicStacks`, so adding or removing an event never moves another. Changing `topicStacks` moves
 * most topics to another stack, which deletes and recreates them (new ARNs, undelivered messages lost).
 *
 * @example
 * topicStack("order-placed", 3); // always the same index in 0..2
 */
export function topicStack(event: string, topicStacks: number): number {
  if (!Number.isInteger(topicStacks) || topicStacks < 1) throw new Error(`topicStack: topicStacks ${topicStacks} must be a positive integer`);
  return createHash("sha256").update(event).digest().readUInt32BE(0) % topicStacks;
}

/**
 * The sns-sqs topic stacks: stack 0 is `<zone>-<env>-messaging` (with the key), stack n > 0 is
 * `<zone>-<env>-messaging-<n>` (its topics only). A stack stays in the list when no topic hashes to
 * it, so its name and the others' never depend on the events.
 */
export function planTopicStacks(zone: string, environment: string, events: readonly string[], topicStacks: number): TopicStackPlan[] {
  return Array.from({ length: topicStacks }, (_, index) => {
    const own = events.filter((event) => topicStack(event, topicStacks) === index);
    return {
      index,
      stackName: stackName(zone, environment, index === 0 ? "messaging" : `messaging-${index}`),
      events: own,
      resources: (index === 0 ? TOPIC_STACK_RESOURCES.shared : 0) + TOPIC_STACK_RESOURCES.perTopic * own.length,
    };
  });
}

/**
 * A problem per topic stack at 80% of CloudFormation's resource limit or above (where the CDK synth
 * refuses it), naming the smallest `messaging.topicStacks` under which every stack fits.
 */
export function topicStackProblems(zone: string, environment: string, events: readonly string[], topicStacks: number): string[] {
  const fits = (n: number) => planTopicStacks(zone, environment, events, n).every((s) => s.resources < RESOURCE_LIMIT * LIMIT_SHARE);
  const over = planTopicStacks(zone, environment, events, topicStacks).filter((s) => s.resources >= RESOURCE_LIMIT * LIMIT_SHARE);
  if (over.length === 0) return [];
  let fix = topicStacks + 1;
  while (fix <= TOPIC_STACKS_MAX && !fits(fix)) fix += 1;
  const advice = fix <= TOPIC_STACKS_MAX ? `set messaging.topicStacks to ${fix} (this moves existing topics between stacks, replacing them)` : `the events exceed ${TOPIC_STACKS_MAX} topic stacks: split the landing zone`;
  return over.map(
    (s) => `messaging.topicStacks is ${topicStacks}: stack ${s.stackName} would hold ${s.resources} resources (${s.events.length} topics), ${Math.round(LIMIT_SHARE * 100)}% of CloudFormation's limit of ${RESOURCE_LIMIT} or more. Fix: ${advice}`,
  );
}
