/**
 * How an event store's stream forwards events to the broker, shared by the engines: the stored
 * record's layout, the filter a forwarder applies and the message it publishes.
 */

import type { EventStorePlan } from "./types.js";

/** Key and attribute names of a stored event. */
export type EventStoreLayout = Pick<EventStorePlan, "aggregateKey" | "sequenceKey" | "eventTypeAttribute" | "payloadAttribute">;

export const EVENT_STORE_FORWARDING = {
  layout: { aggregateKey: "aggregateId", sequenceKey: "sequence", eventTypeAttribute: "eventType", payloadAttribute: "payload" } satisfies EventStoreLayout,
  /** A DynamoDB stream serves two readers per shard before GetRecords throttles; SNS needs one pipe per event. */
  maxSnsPipes: 2,
  batchSize: 10,
  /** Attempts per record before it goes to the forwarding dead-letter queue. */
  maximumRetryAttempts: 10,
} as const;

/** Matches new records (never updates: the store is append-only) of the given event types. */
export function eventStoreFilter(layout: EventStoreLayout, events: readonly string[]): Record<string, unknown> {
  return { eventName: ["INSERT"], dynamodb: { NewImage: { [layout.eventTypeAttribute]: { S: [...events] } } } };
}

/**
 * The message a forwarder publishes for one stored event:
 * `{"eventId", "aggregateId", "sequence", "type", "data"}`, `data` being the stored payload (JSON text).
 * Pipes input-template syntax: each `<$.path>` is replaced by the record's value, quoted as a string.
 */
export function eventStoreInputTemplate(layout: EventStoreLayout): string {
  const image = (attribute: string, type: "S" | "N", from: "Keys" | "NewImage" = "NewImage") => `"<$.dynamodb.${from}.${attribute}.${type}>"`;
  return (
    `{"eventId": "<$.eventID>", "aggregateId": ${image(layout.aggregateKey, "S", "Keys")}, "sequence": ${image(layout.sequenceKey, "N", "Keys")}, ` +
    `"type": ${image(layout.eventTypeAttribute, "S")}, "data": ${image(layout.payloadAttribute, "S")}}`
  );
}
