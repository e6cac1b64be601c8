import { parse, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { EVENT_STORE_FORWARDING } from "../../lib/plan/event-store.js";
import { eventForwarderDefinition } from "../../lib/plan/event-store-workflow.js";

type Definition = { main: { params: string[]; steps: Record<string, Record<string, unknown>>[] } };

describe("eventForwarderDefinition", () => {
  const topics = { "payment-completed": "projects/p/topics/shop-prod-payment-completed" };
  const definition = eventForwarderDefinition(topics, EVENT_STORE_FORWARDING.layout) as Definition;

  it("reads the created document's fields named by the shared layout, refuses unknown types and publishes the payload to its type's topic", () => {
    expect(definition.main.params).toEqual(["event"]);
    expect(definition.main.steps.map((s) => Object.keys(s)[0])).toEqual(["read", "route", "publish"]);
    expect(definition.main.steps[0]!["read"]!["assign"]).toEqual([{ fields: "${event.data.value.fields}" }, { type: "${fields.eventType.stringValue}" }, { topics }]);
    expect(definition.main.steps[1]!["route"]).toEqual({ switch: [{ condition: "${not(type in topics)}", raise: { unknownEventType: "${type}", document: "${event.data.value.name}" } }] });
    expect(definition.main.steps[2]!["publish"]).toEqual({
      call: "googleapis.pubsub.v1.projects.topics.publish",
      args: {
        topic: "${topics[type]}",
        body: {
          messages: [
            {
              data: "${base64.encode(text.encode(fields.payload.stringValue))}",
              attributes: { aggregateId: "${fields.aggregateId.stringValue}", sequence: "${fields.sequence.integerValue}", type: "${type}" },
            },
          ],
        },
      },
    });
    expect(parse(stringify(definition))).toEqual(definition);
  });

  it("reads whatever field names the layout gives, and publishes under the same attribute names", () => {
    const custom = eventForwarderDefinition(topics, { aggregateKey: "agg", sequenceKey: "seq", eventTypeAttribute: "kind", payloadAttribute: "body" }) as Definition;
    expect(custom.main.steps[0]!["read"]!["assign"]).toContainEqual({ type: "${fields.kind.stringValue}" });
    expect(JSON.stringify(custom.main.steps[2])).toContain("fields.body.stringValue");
    expect((custom.main.steps[2]!["publish"] as { args: { body: { messages: { attributes: unknown }[] } } }).args.body.messages[0]!.attributes).toEqual({
      aggregateId: "${fields.agg.stringValue}",
      sequence: "${fields.seq.integerValue}",
      type: "${type}",
    });
  });

  it("refuses a store that forwards nothing", () => {
    expect(() => eventForwarderDefinition({}, EVENT_STORE_FORWARDING.layout)).toThrow(/topics: empty/);
  });
});
