import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { GENERATED_FOLDERS, generatedDocs } from "./docs/generated.js";

// Regenerates the README's feature tables, docs/spec-reference.md, the examples gallery with its
// diagrams and a page per construct; test/report/docs.test.ts fails while any of them is stale.
const files = await generatedDocs();
for (const folder of GENERATED_FOLDERS) {
  for (const file of readdirSync(folder, { recursive: false }).map(String)) if (!files.has(join(folder, file))) rmSync(join(folder, file));
}
for (const [path, content] of files) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}
process.stdout.write(`wrote ${files.size} files\n`);
