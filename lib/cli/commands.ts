import { mkdtempSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { PlanError, planLandingZone, type Engine } from "../plan/index.js";
import { planToJson, renderAssemblySummary, renderPlan, summarizeAssembly } from "../report/index.js";
import { loadSpecFile, SpecError, type LandingZoneSpec } from "../spec/index.js";

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
    if (error instanceof SpecError || error instanceof PlanError) {
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
    if (error instanceof SpecError || error instanceof PlanError) {
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

export function planCommand(file: string, options: { json?: boolean; engine?: Engine }, io: Io): ExitCode {
  return userErrors(io, () => {
    const plan = planLandingZone(loadSpecFile(file), options.engine ? { engine: options.engine } : {});
    io.out(options.json ? `${JSON.stringify(planToJson(plan), null, 2)}\n` : `${renderPlan(plan)}\n`);
    return 0;
  });
}

export interface SynthOptions {
  /** Cloud assembly directory. Default: cdk.out next to the current directory. */
  readonly out?: string;
}

/**
 * Synthesizes the CDK app for a spec. The assembly is written to a temporary sibling directory and
 * moved into place only when synthesis succeeds, so a failure never leaves a partial cdk.out.
 */
export async function synthCommand(file: string, options: SynthOptions, io: Io): Promise<ExitCode> {
  return userErrorsAsync(io, async () => {
    const spec: LandingZoneSpec = loadSpecFile(file);
    planLandingZone(spec, { engine: "cdk" });
    const outdir = resolve(options.out ?? "cdk.out");
    const staging = mkdtempSync(join(dirname(outdir), ".mlz-synth-"));
    try {
      io.err(`Synthesizing ${spec.name} (${spec.cloud}/${spec.tier}, ${spec.services.length} services)...\n`);
      // Loaded here so validate and plan never pay for aws-cdk-lib.
      const { synthesizeLandingZone } = await import("./synthesize.js");
      synthesizeLandingZone(spec, staging);
      rmSync(outdir, { recursive: true, force: true });
      renameSync(staging, outdir);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      throw error;
    }
    io.out(`${renderAssemblySummary(summarizeAssembly(outdir))}\nCloud assembly: ${outdir}\n`);
    return 0;
  });
}
