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

export function summarizeProfile(dir: string, title: string): string {
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) return `${title}: no profile written in ${dir}`;
  const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
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
