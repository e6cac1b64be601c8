/**
 * Summarizes a V8 `--cpu-prof` profile: self time per area (module loading, CDK core, the landing
 * zone's own code, manifest validation, writing, GC) and the costliest functions, so a regression
 * shows where it comes from without opening a profiler.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** The area a function belongs to, from its script URL and name. */
export function areaOf(url: string, functionName: string): string {
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(idle)" || functionName === "(program)") return "idle / runtime";
  if (/writeFile|openFileHandle|copyFile|mkdir|writeSync/.test(functionName)) return "file system";
  if (/node:internal\/modules|cjs-module-lexer|wrapSafe|compileSourceTextModule|^node:internal\/deps\/cjs/.test(url) || /compileFunction|internalModuleStat/.test(functionName)) {
    return "module loading";
  }
  if (/node_modules\/(kubernetes-models|@kubernetes-models|ajv)/.test(url)) return "Kubernetes manifest validation";
  if (/node_modules\/(zod|yaml)\//.test(url)) return "spec parsing (zod, yaml)";
  if (/node_modules\/aws-cdk-lib\/core\//.test(url)) return "CDK core (tokens, tree, synthesis)";
  if (/node_modules\/aws-cdk-lib\//.test(url)) return "CDK construct libraries";
  if (/node_modules\/(constructs)\//.test(url)) return "constructs";
  if (/\/(lib|stacks)\/[^/]+/.test(url) && !url.includes("node_modules")) return "landing zone code (lib, stacks)";
  if (url.startsWith("node:")) return "node internals";
  return url === "" ? "native" : "other";
}

function readProfile(dir: string): { file: string; profile: CpuProfile } | undefined {
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  return file ? { file, profile: JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile } : undefined;
}

/**
 * Phases of a CDK synthesis, each named by the CDK (or target) function that runs it; a sample
 * belongs to the innermost phase on its stack, so a template rendered inside the synthesis counts as
 * "templates", not "synthesis (other)".
 */
const PHASES: readonly (readonly [phase: string, functionNames: readonly string[]])[] = [
  ["module loading", ["require", "compileSourceTextModule", "loadESMFromCJS", "wrapSafe"]],
  ["spec parsing and validation", ["loadSpecFile"]],
  ["tree building (constructs)", ["synthesizeLandingZone", "synthesizeL1"]],
  ["synthesis (other)", ["synth"]],
  ["aspects", ["invokeAspects", "invokeAspectsV2"]],
  ["prepare (references)", ["prepareApp"]],
  ["validation plugins", ["validateTemplates"]],
  ["tree metadata (tree.json)", ["_synthesizeTree"]],
  ["templates (resolve, render)", ["_toCloudFormation"]],
  ["template limit check", ["templateUsage"]],
  ["stack artifacts and asset manifests", ["emitArtifact", "emitManifest"]],
  ["writing files", ["writeFileSync", "writeFileUtf8"]],
  ["garbage collection", ["(garbage collector)"]],
];

/** Sampled CPU time per phase (`PHASES`), microseconds. */
export function phasesOf(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const phaseOfNode = new Map<number, string>();
  const rank = new Map(PHASES.flatMap(([phase, names]) => names.map((name) => [name, phase] as const)));
  // Parents come before their children in a V8 profile's node list, so one pass assigns every node.
  for (const node of profile.nodes) {
    const own = rank.get(node.callFrame.functionName);
    if (own) phaseOfNode.set(node.id, own);
    for (const child of node.children ?? []) if (!rank.has(byId.get(child)!.callFrame.functionName)) phaseOfNode.set(child, phaseOfNode.get(node.id) ?? "");
  }
  const phases = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const phase = phaseOfNode.get(id) || "other (startup, runtime)";
    phases.set(phase, (phases.get(phase) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return phases;
}

/** Ours against raw L1, phase by phase: where the landing zone spends more than the same resources as L1s. */
export function comparePhases(oursDir: string, l1Dir: string, title: string): string {
  const ours = readProfile(oursDir);
  const l1 = readProfile(l1Dir);
  if (!ours || !l1) return `${title}: no profile written in ${ours ? l1Dir : oursDir}`;
  const [a, b] = [phasesOf(ours.profile), phasesOf(l1.profile)];
  const rows = [...new Set([...a.keys(), ...b.keys()])].map((phase) => ({ phase, ours: a.get(phase) ?? 0, l1: b.get(phase) ?? 0 })).sort((x, y) => y.ours - y.l1 - (x.ours - x.l1));
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(6)} ms`;
  const sum = (m: Map<string, number>) => [...m.values()].reduce((x, y) => x + y, 0);
  return [
    `Phases ${title}, sampled CPU (ours · raw L1 · ours − L1), largest difference first:`,
    ...rows.map((r) => `  ${ms(r.ours)} ${ms(r.l1)} ${ms(r.ours - r.l1)}  ${r.phase}`),
    `  ${ms(sum(a))} ${ms(sum(b))} ${ms(sum(a) - sum(b))}  total`,
  ].join("\n");
}

export function summarizeProfile(dir: string, title: string): string {
  const read = readProfile(dir);
  if (!read) return `${title}: no profile written in ${dir}`;
  const { file, profile } = read;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    total += us;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const where = url.replace(/^file:\/\/.*?node_modules\//, "").replace(/^file:\/\/.*?\/build\//, "");
    const key = `${functionName || "(anonymous)"} ${where}${where ? `:${lineNumber + 1}` : ""}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
  }
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(6)} ms`;
  const pct = (us: number) => `${((100 * us) / total).toFixed(0).padStart(3)}%`;
  return [
    `Profile ${title} (${join(dir, file)}), ${(total / 1000).toFixed(0)} ms sampled:`,
    ...[...areas].sort((a, b) => b[1] - a[1]).map(([area, us]) => `  ${ms(us)} ${pct(us)}  ${area}`),
    "  costliest functions (self time):",
    ...[...functions]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([fn, us]) => `  ${ms(us)} ${pct(us)}  ${fn}`),
  ].join("\n");
}
