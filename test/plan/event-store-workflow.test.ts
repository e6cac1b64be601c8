import { parse, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { EVENT_STORE_LAYOUT, eventForwarderDefinition } from "../../lib/plan/event-store-workflow.js";

describe("eventForwarderDefinition", () => {
  const topics = { "payment-completed": "projects/p/topics/shop-prod-payment-completed" };
  const definition = eventForwarderDefinition(topics) as { main: { params: string[]; steps: Record<string, Record<string, unknown>>[] } };

  it("reads the created document, refuses unknown types and publishes the payload to its type's topic", () => {
    expect(definition.main.params).toEqual(["event"]);
    expect(definition.main.steps.map((s) => Object.keys(s)[0])).toEqual(["read", "route", "publish"]);
    expect(definition.main.steps[0]!["read"]!["assign"]).toEqual([{ fields: "${event.data.value.fields}" }, { type: "${fields.type.stringValue}" }, { topics }]);
    expect(definition.main.steps[1]!["route"]).toEqual({ switch: [{ condition: "${not(type in topics)}", raise: { unknownEventType: "${type}", document: "${event.data.value.name}" } }] });
    expect(definition.main.steps[2]!["publish"]).toEqual({
      call: "googleapis.pubsub.v1.projects.topics.publish",
      args: {
        topic: "${topics[type]}",
        body: {
          messages: [
            {
              data: `\${base64.encode(text.encode(fields.${EVENT_STORE_LAYOUT.payloadField}.stringValue))}`,
              attributes: { aggregateId: "${fields.aggregateId.stringValue}", sequence: "${fields.sequence.integerValue}", type: "${type}" },
            },
          ],
        },
      },
    });
    expect(parse(stringify(definition))).toEqual(definition);
  });

  it("refuses a store that forwards nothing", () => {
    expect(() => eventForwarderDefinition({})).toThrow(/topics: empty/);
  });
});
