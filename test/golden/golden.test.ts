import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { diffTemplates } from "../../lib/cli/diff.js";
import { cdkIdentities, cdkTemplates, examples, GOLDEN_DIR, pulumiIdentities, type Templates } from "./identities.js";

/**
 * An upgrade of this library must never replace a user's database: the identities of every
 * stateful resource are pinned per example (test/golden/identities.json), and the AWS examples'
 * templates of the last release (test/golden/release) must reach today's without destroying or
 * replacing anything that holds data. After an intended, reviewed change: `npm run golden`.
 */
const golden = JSON.parse(readFileSync(join(GOLDEN_DIR, "identities.json"), "utf8")) as Record<string, { cdk?: string[]; pulumi: string[] }>;

function releaseTemplates(example: string): Templates {
  const dir = join(GOLDEN_DIR, "release", example);
  return new Map(readdirSync(dir).map((file) => [file.replace(/\.json$/, ""), JSON.parse(readFileSync(join(dir, file), "utf8"))]));
}

describe.each(examples())("stable identities of examples/$name", ({ name, file, cloud }) => {
  it("has a recorded baseline", () => {
    expect(golden[name], `no baseline for ${name}: run npm run golden`).toBeDefined();
  });

  it("keeps the URN of every Pulumi resource that holds data", async () => {
    const current = await pulumiIdentities(file);
    const lost = golden[name]!.pulumi.filter((urn) => !current.includes(urn));
    expect(lost, "these would be deleted and recreated by `pulumi up`; keep their names or add aliases").toEqual([]);
    expect(current.filter((urn) => !golden[name]!.pulumi.includes(urn)), "new stateful resources: record them with npm run golden").toEqual([]);
  });

  it.runIf(cloud === "aws")("keeps the logical ID of every CDK resource that holds data, and replaces nothing since the release", async () => {
    const templates = cdkTemplates(file);
    const current = cdkIdentities(templates);
    const lost = golden[name]!.cdk!.filter((id) => !current.includes(id));
    expect(lost, "these would be replaced on deploy; keep their construct IDs").toEqual([]);
    expect(current.filter((id) => !golden[name]!.cdk!.includes(id)), "new stateful resources: record them with npm run golden").toEqual([]);
    expect(existsSync(join(GOLDEN_DIR, "release", name))).toBe(true);
    const diff = await diffTemplates(releaseTemplates(name), templates);
    expect(diff.destructive.map((r) => `${r.stackName}/${r.logicalId} ${r.type} ${r.change}`)).toEqual([]);
  });
});
