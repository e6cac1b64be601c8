/** Messaging decisions both engines share: names, the service tag, event sources and access lists. */

import { physicalName } from "./naming.js";

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
