import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { landingZoneJsonSchema } from "../../lib/spec/index.js";

describe("JSON Schema", () => {
  it("is committed and current (regenerate with `npm run schema`)", () => {
    const committed = JSON.parse(readFileSync(new URL("../../schema/landing-zone.schema.json", import.meta.url), "utf8")) as unknown;
    expect(committed).toEqual(landingZoneJsonSchema());
  });

  it("describes the contract keys", () => {
    const schema = landingZoneJsonSchema() as { properties: Record<string, { properties?: Record<string, unknown>; items?: { properties?: Record<string, unknown> } }>; required: string[] };
    expect(schema.required).toEqual(["name"]);
    for (const key of ["name", "cloud", "region", "tier", "environment", "network", "services", "auth", "messaging", "logging", "tracing", "mesh"]) expect(schema.properties).toHaveProperty(key);
    expect(schema.properties.network!.properties).toHaveProperty("zones");
    expect(schema.properties.services!.items!.properties).toEqual(expect.objectContaining({ image: expect.anything(), expose: expect.anything(), database: expect.anything(), publishes: expect.anything() }));
  });
});
