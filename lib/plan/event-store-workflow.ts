/**
 * The event store's forwarder on GCP as a Workflows definition (pure data): Firestore reports each
 * appended event document through Eventarc, and the forwarder publishes its payload to the broker
 * topic of its type, so the store doubles as the broker. Rendered to YAML by the engine.
 */

/** Where an event-sourced service appends: collection `events`, one document per event, id `<aggregateId>-<sequence>` created only if absent. */
export const EVENT_STORE_LAYOUT = {
  collection: "events",
  aggregateField: "aggregateId",
  sequenceField: "sequence",
  typeField: "type",
  /** The event body as JSON text. */
  payloadField: "payload",
} as const;

/**
 * The forwarder: reads the created document's fields from the CloudEvent, refuses types the service
 * does not publish, and publishes the payload with the aggregate, sequence and type as attributes.
 * `topics` maps each event type the service publishes to its full topic id.
 */
export function eventForwarderDefinition(topics: Readonly<Record<string, string>>): Record<string, unknown> {
  if (Object.keys(topics).length === 0) throw new Error(`eventForwarderDefinition topics: empty, so nothing could be forwarded. Fix: list the events the service publishes`);
  const { aggregateField, sequenceField, typeField, payloadField } = EVENT_STORE_LAYOUT;
  return {
    main: {
      params: ["event"],
      steps: [
        { read: { assign: [{ fields: "${event.data.value.fields}" }, { type: `\${fields.${typeField}.stringValue}` }, { topics: { ...topics } }] } },
        { route: { switch: [{ condition: "${not(type in topics)}", raise: { unknownEventType: "${type}", document: "${event.data.value.name}" } }] } },
        {
          publish: {
            call: "googleapis.pubsub.v1.projects.topics.publish",
            args: {
              topic: "${topics[type]}",
              body: {
                messages: [
                  {
                    data: `\${base64.encode(text.encode(fields.${payloadField}.stringValue))}`,
                    attributes: { [aggregateField]: `\${fields.${aggregateField}.stringValue}`, [sequenceField]: `\${fields.${sequenceField}.integerValue}`, [typeField]: "${type}" },
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
