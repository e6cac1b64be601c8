import { z } from "zod";
import { landingZoneSchema } from "./schema.js";

/** The spec as JSON Schema (draft 2020-12), describing what users write (defaults optional). */
export function landingZoneJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(landingZoneSchema, { io: "input", unrepresentable: "any" }),
    $id: "https://github.com/msa-landing-zone/msa-landing-zone/schema/landing-zone.schema.json",
    title: "msa-landing-zone spec",
  };
}
