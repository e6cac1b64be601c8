/**
 * The event store's forwarder on GCP as a Workflows definition (pure data): Firestore reports each
 * appended event document through Eventarc, and the forwarder publishes its payload to the broker
 * topic of its type, so the store doubles as the broker. Rendered to YAML by the engine.
 */

import type { EventStoreLayout } from "./event-store.js";

/** Where an event-sourced service appends: collection `events`, one document per event (fields named by the plan's layout), id `<aggregateId>-<sequence>` created only if absent. */
export const EVENT_STORE_COLLECTION = "events";

/**
 * The forwarder: reads the created document's fields (named by `layout`, the plan's `eventStore`)
 * from the CloudEvent, refuses types the service does not publish, and publishes the payload with
 * the aggregate, sequence and type as attributes `aggregateId`, `sequence` and `type`, the keys of
 * the message other engines' forwarders publish (`eventStoreInputTemplate`).
 * `topics` maps each event type the service publishes to its full topic id.
 */
export function eventForwarderDefinition(topics: Readonly<Record<string, string>>, layout: EventStoreLayout): Record<string, unknown> {
  if (Object.keys(topics).length === 0) throw new Error(`eventForwarderDefinition topics: empty, so nothing could be forwarded. Fix: list the events the service publishes`);
  const { aggregateKey, sequenceKey, eventTypeAttribute, payloadAttribute } = layout;
  return {
    main: {
      params: ["event"],
      steps: [
        { read: { assign: [{ fields: "${event.data.value.fields}" }, { type: `\${fields.${eventTypeAttribute}.stringValue}` }, { topics: { ...topics } }] } },
        { route: { switch: [{ condition: "${not(type in topics)}", raise: { unknownEventType: "${type}", document: "${event.data.value.name}" } }] } },
        {
          publish: {
            call: "googleapis.pubsub.v1.projects.topics.publish",
            args: {
              topic: "${topics[type]}",
              body: {
                messages: [
                  {
                    data: `\${base64.encode(text.encode(fields.${payloadAttribute}.stringValue))}`,
                    attributes: { aggregateId: `\${fields.${aggregateKey}.stringValue}`, sequence: `\${fields.${sequenceKey}.integerValue}`, type: "${type}" },
                  },
                ],
              },
            },
          },
        },
      ],
    },
  };
}
