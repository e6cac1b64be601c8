/**
 * Reads the templates a variant wrote (a cloud assembly, or a directory of `<stack>.template.json`)
 * and compares resource counts per stack and type, so the baselines are known to build what the
 * landing zone builds.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface StackCounts {
  readonly resources: number;
  readonly bytes: number;
  readonly byType: Readonly<Record<string, number>>;
}

/** Stack name → its counts. */
export function readTemplates(dir: string): Map<string, StackCounts> {
  const files: [string, string][] = existsSync(join(dir, "manifest.json"))
    ? Object.values(
        (JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { artifacts: Record<string, { type: string; properties?: { templateFile?: string; stackName?: string } }> })
          .artifacts,
      )
        .filter((a) => a.type === "aws:cloudformation:stack" && a.properties?.templateFile)
        .map((a) => [a.properties!.stackName!, join(dir, a.properties!.templateFile!)])
    : readdirSync(dir)
        .filter((f) => f.endsWith(".template.json"))
        .map((f) => [f.slice(0, -".template.json".length), join(dir, f)]);
  const stacks = new Map<string, StackCounts>();
  for (const [name, file] of files) {
    const text = readFileSync(file, "utf8");
    const resources = Object.values((JSON.parse(text) as { Resources?: Record<string, { Type: string }> }).Resources ?? {});
    const byType: Record<string, number> = {};
    for (const r of resources) byType[r.Type] = (byType[r.Type] ?? 0) + 1;
    stacks.set(name, { resources: resources.length, bytes: Buffer.byteLength(text), byType });
  }
  return stacks;
}

/** Differences between two sets of templates, one line each (empty when they hold the same resources). */
export function compareTemplates(expected: ReadonlyMap<string, StackCounts>, actual: ReadonlyMap<string, StackCounts>): string[] {
  const problems: string[] = [];
  for (const [name, want] of expected) {
    const got = actual.get(name);
    if (!got) {
      problems.push(`${name}: missing`);
      continue;
    }
    for (const type of new Set([...Object.keys(want.byType), ...Object.keys(got.byType)])) {
      if (want.byType[type] !== got.byType[type]) problems.push(`${name}: ${type} ${want.byType[type] ?? 0} expected, ${got.byType[type] ?? 0} found`);
    }
  }
  for (const name of actual.keys()) if (!expected.has(name)) problems.push(`${name}: not expected`);
  return problems;
}

export function totals(stacks: ReadonlyMap<string, StackCounts>): { resources: number; bytes: number; largest: number; largestStack: string } {
  let resources = 0;
  let bytes = 0;
  let largest = 0;
  let largestStack = "";
  for (const [name, s] of stacks) {
    resources += s.resources;
    bytes += s.bytes;
    if (s.resources > largest) [largest, largestStack] = [s.resources, name];
  }
  return { resources, bytes, largest, largestStack };
}
