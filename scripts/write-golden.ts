import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cdkIdentities, cdkTemplates, examples, GOLDEN_DIR, pulumiIdentities } from "../test/golden/identities.js";

// Records the release baseline the stable-identity tests compare against: the identities of every
// stateful resource per example, and the AWS examples' templates. Run it when cutting a release,
// or after reviewing a change that is allowed to move an identity (say so in the commit).
const identities: Record<string, { cdk?: string[]; pulumi: string[] }> = {};
rmSync(join(GOLDEN_DIR, "release"), { recursive: true, force: true });
for (const example of examples()) {
  const entry: { cdk?: string[]; pulumi: string[] } = { pulumi: await pulumiIdentities(example.file) };
  if (example.cloud === "aws") {
    const templates = cdkTemplates(example.file);
    entry.cdk = cdkIdentities(templates);
    const dir = join(GOLDEN_DIR, "release", example.name);
    mkdirSync(dir, { recursive: true });
    for (const [stack, template] of templates) writeFileSync(join(dir, `${stack}.json`), `${JSON.stringify(template)}\n`);
  }
  identities[example.name] = entry;
}
writeFileSync(join(GOLDEN_DIR, "identities.json"), `${JSON.stringify(identities, null, 2)}\n`);
process.stdout.write(`recorded ${Object.keys(identities).length} examples in ${GOLDEN_DIR}\n`);
