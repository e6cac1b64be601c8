import { readFileSync, writeFileSync } from "node:fs";
import { withFeatureTables } from "../lib/report/feature-table.js";

// Regenerates the README's feature tables from the catalog and the engines' support tables;
// test/report/feature-table.test.ts fails when the committed README is stale.
const file = new URL("../README.md", import.meta.url);
writeFileSync(file, withFeatureTables(readFileSync(file, "utf8")));
