import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { PlanError, planLandingZone, type Engine, type LandingZonePlan } from "../plan/index.js";
import { ComplianceError, planToJson, planWarnings, renderAssemblySummary, renderComponentSummary, renderPlan, summarizeAssembly, type ComponentSummary, type StackSummary } from "../report/index.js";
import { loadSpecFile, SpecError, type LandingZoneSpec } from "../spec/index.js";
import { assertReplaceableAssembly, makeParentDirectory, OutputPathError, replaceAssembly, writingTo } from "./output-path.js";

/** Where a command writes; the real binary passes process streams, tests pass buffers. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** Exit codes: 0 success, 1 the user's spec or request cannot be honoured. */
export type ExitCode = 0 | 1;

/** Turns a user's mistake into a message and exit code 1; anything else is a bug and propagates. */
export function userErrors(io: Io, action: () => ExitCode): ExitCode {
  try {
    return action();
  } catch (error) {
    if (error instanceof SpecError || error instanceof PlanError || error instanceof OutputPathError) {
      io.err(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

export async function userErrorsAsync(io: Io, action: () => Promise<ExitCode>): Promise<ExitCode> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof SpecError || error instanceof PlanError || error instanceof ComplianceError || error instanceof OutputPathError) {
      io.err(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

export function validateCommand(file: string, options: { json?: boolean }, io: Io): ExitCode {
  return userErrors(io, () => {
    const spec = loadSpecFile(file);
    io.out(options.json ? `${JSON.stringify(spec, null, 2)}\n` : `${file}: valid (${spec.cloud}/${spec.tier}, ${spec.environment}, ${spec.services.length} services)\n`);
    return 0;
  });
}

export interface PlanOptions {
  readonly json?: boolean;
  /**
   * The engine to plan for: also checks it implements every capability the spec asks for, and picks
   * what the resource listing shows (CDK stacks or Pulumi components).
   * @default - cdk where the CDK engine builds the spec (AWS), pulumi otherwise
   */
  readonly engine?: Engine;
  /**
   * List what the plan becomes with resource counts: the CDK stacks (synthesized with validation off,
   * nothing written) or the Pulumi components (the program run under mocks, offline).
   * @default true
   */
  readonly resources?: boolean;
}

/** `mlz plan`: the decisions, the CDK stacks or Pulumi components they become with resource counts, and warnings. */
export async function planCommand(file: string, options: PlanOptions, io: Io): Promise<ExitCode> {
  return userErrorsAsync(io, async () => {
    const plan = planLandingZone(loadSpecFile(file), options.engine ? { engine: options.engine } : {});
    const engine: Engine = options.engine ?? (cdkBuilds(plan) ? "cdk" : "pulumi");
    const listing = options.resources === false ? undefined : engine === "cdk" ? { stacks: await cdkStacks(plan) } : { components: await pulumiComponentsOf(plan) };
    const warnings = planWarnings(plan);
    if (options.json) {
      io.out(`${JSON.stringify({ ...planToJson(plan), engine, ...listing, warnings }, null, 2)}\n`);
      return 0;
    }
    const sections = [renderPlan(plan)];
    if (listing?.stacks) sections.push(`CDK stacks (cdk deploy <stack> deploys one on its own):\n\n${renderAssemblySummary(listing.stacks)}`);
    if (listing?.components) sections.push(`Pulumi components (the program run under mocks, offline; Kubernetes objects inside a ConfigGroup or Helm chart are counted as that one resource):\n\n${renderComponentSummary(listing.components)}`);
    if (warnings.length > 0) sections.push(`Warnings:\n${warnings.map((w) => `  ! ${w}`).join("\n")}`);
    io.out(`${sections.join("\n\n")}\n`);
    return 0;
  });
}

function cdkBuilds(plan: LandingZonePlan): boolean {
  try {
    planLandingZone(plan.spec, { engine: "cdk" });
    return true;
  } catch (error) {
    if (error instanceof PlanError) return false;
    throw error;
  }
}

async function pulumiComponentsOf(plan: LandingZonePlan): Promise<ComponentSummary[]> {
  const { pulumiComponents } = await import("./pulumi-components.js");
  return pulumiComponents(plan);
}

/** The plan's CDK stacks with their resource counts, from a synthesis in a scratch directory. */
async function cdkStacks(plan: LandingZonePlan): Promise<StackSummary[]> {
  const { synthesizeLandingZone } = await import("./synthesize.js");
  const outdir = mkdtempSync(join(tmpdir(), "mlz-plan-"));
  try {
    synthesizeLandingZone(plan.spec, outdir, { validate: false });
    return summarizeAssembly(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** What the synthesized templates were checked for, measured on the templates themselves. */
export function renderChecks(stacks: readonly StackSummary[]): string {
  const largest = (key: "resources" | "outputs" | "templateBytes" | "dynamicReferences") => stacks.reduce((a, b) => (b[key] > a[key] ? b : a));
  const importing = stacks.filter((s) => s.imports > 0);
  const checks: [boolean, string][] = [
    [true, "CloudFormation schema validation (strict: no error, no warning)"],
    [true, "cdk-nag AWS Solutions and NIST 800-53 rev 5 packs: every finding fixed or acknowledged with a reason"],
    [largest("resources").resources < 500, `resources: largest ${largest("resources").stackName} has ${largest("resources").resources} of 500`],
    [largest("outputs").outputs < 200, `outputs: largest ${largest("outputs").stackName} has ${largest("outputs").outputs} of 200`],
    [largest("dynamicReferences").dynamicReferences <= 60, `dynamic references: largest ${largest("dynamicReferences").stackName} has ${largest("dynamicReferences").dynamicReferences} of 60`],
    [largest("templateBytes").templateBytes < 1_000_000, `template size: largest ${largest("templateBytes").stackName} is ${(largest("templateBytes").templateBytes / 1024).toFixed(0)} KiB of 1 MB`],
    [importing.length === 0, importing.length === 0 ? "no stack imports another's exports (shared values are read at deploy time)" : `stacks importing exports: ${importing.map((s) => s.stackName).join(", ")}`],
  ];
  return `Checks:\n${checks.map(([ok, text]) => `  ${ok ? "✓" : "✗"} ${text}`).join("\n")}`;
}

export interface SynthOptions {
  /**
   * Cloud assembly directory, created with its parents. An existing one must be empty or an earlier
   * cloud assembly, which synthesis replaces.
   * @default "cdk.out" in the current directory
   */
  readonly out?: string;
}

/**
 * Synthesizes the CDK app for a spec. The assembly is written to a temporary sibling directory and
 * moved into place only when synthesis succeeds, so a failure never leaves a partial cdk.out. The
 * output directory is created with its parents; an existing one is replaced only when it is empty or
 * an earlier cloud assembly and holds neither the current directory nor the spec, so `--out .`
 * refuses instead of deleting a project.
 * Progress goes to stderr phase by phase; the summary (stacks, resources, checks) to stdout.
 */
export async function synthCommand(file: string, options: SynthOptions, io: Io): Promise<ExitCode> {
  return userErrorsAsync(io, async () => {
    const started = Date.now();
    const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
    const spec: LandingZoneSpec = loadSpecFile(file);
    const plan = planLandingZone(spec, { engine: "cdk" });
    io.err(`[1/4] planned ${spec.name} (${spec.cloud}/${spec.tier}, ${plan.services.length} workloads, ${plan.decisions.length} capabilities) ${elapsed()}\n`);
    const outdir = resolve(options.out ?? "cdk.out");
    assertReplaceableAssembly(outdir, { "the current directory": process.cwd(), "the spec": file });
    makeParentDirectory(outdir);
    const staging = writingTo(outdir, () => mkdtempSync(join(dirname(outdir), ".mlz-synth-")));
    try {
      // Loaded here so validate and plan never pay for aws-cdk-lib.
      const { synthesizeLandingZone } = await import("./synthesize.js");
      synthesizeLandingZone(spec, staging, {
        onPhase: (phase) =>
          io.err(phase === "construct" ? `[2/4] building the construct tree ${elapsed()}\n` : `[3/4] synthesizing and validating the templates ${elapsed()}\n`),
      });
      const warning = replaceAssembly(staging, outdir);
      if (warning) io.err(`warning: ${warning}\n`);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      throw error;
    }
    const stacks = summarizeAssembly(outdir);
    io.err(`[4/4] wrote ${outdir} ${elapsed()}\n`);
    io.out(`${renderAssemblySummary(stacks)}\n\n${renderChecks(stacks)}\n\nCloud assembly: ${outdir}\n`);
    return 0;
  });
}
