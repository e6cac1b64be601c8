import { writeFileSync } from "node:fs";
import { landingZoneJsonSchema } from "../lib/spec/json-schema.js";

// Regenerates the committed JSON Schema; test/spec/json-schema.test.ts fails when it is stale.
writeFileSync(new URL("../schema/landing-zone.schema.json", import.meta.url), `${JSON.stringify(landingZoneJsonSchema(), null, 2)}\n`);
