import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isStatefulCloudFormationResource } from "../plan/stateful.js";
import { planLandingZone } from "../plan/planner.js";
import { renderTable } from "../report/table.js";
import { loadSpecFile } from "../spec/parse.js";
import type { LandingZoneSpec } from "../spec/types.js";
import { userErrorsAsync, type ExitCode, type Io } from "./commands.js";

/**
 * What happens to one resource: created, deleted, updated in place, replaced (deleted and created
 * anew), or orphaned (leaves the stack but is retained with its data).
 */
export type ResourceChangeKind = "add" | "remove" | "orphan" | "update" | "replace" | "may-replace";

export interface ResourceChange {
  readonly logicalId: string;
  readonly type: string;
  readonly change: ResourceChangeKind;
  /** Holds data (a database, queue, bucket, key...) or is retained by its template. */
  readonly stateful: boolean;
}

export interface StackChange {
  readonly stackName: string;
  readonly change: "add" | "remove" | "update";
  readonly resources: readonly ResourceChange[];
}

export interface LandingZoneDiff {
  readonly stacks: readonly StackChange[];
  /** Stateful resources the change would delete or replace: data loss unless it is intended. */
  readonly destructive: readonly (ResourceChange & { readonly stackName: string })[];
}

/** Exit code of `mlz diff` when a stateful resource would be replaced or deleted. */
export const DESTRUCTIVE_EXIT_CODE = 2;

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
  readonly DeletionPolicy?: unknown;
}
interface CfnTemplate {
  readonly Resources?: Readonly<Record<string, CfnResource>>;
  readonly Outputs?: Readonly<Record<string, { readonly Value?: unknown }>>;
  readonly Parameters?: Readonly<Record<string, { readonly Type?: string; readonly Default?: unknown }>>;
}

/** Synthesizes a spec's CDK app into a scratch directory and returns its templates by stack name. */
async function synthesizedTemplates(spec: LandingZoneSpec): Promise<Map<string, CfnTemplate>> {
  const { synthesizeLandingZone } = await import("./synthesize.js");
  const outdir = mkdtempSync(join(tmpdir(), "mlz-diff-"));
  try {
    // Validation was done when each side was synthesized for real; a diff only compares.
    synthesizeLandingZone(spec, outdir, { validate: false });
    const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as { artifacts: Record<string, { type: string; properties?: { templateFile?: string; stackName?: string } }> };
    return new Map(
      Object.entries(manifest.artifacts)
        .filter(([, a]) => a.type === "aws:cloudformation:stack" && a.properties?.templateFile)
        .map(([id, a]) => [a.properties!.stackName ?? id, JSON.parse(readFileSync(join(outdir, a.properties!.templateFile!), "utf8")) as CfnTemplate]),
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const IMPACT: Readonly<Record<string, ResourceChangeKind>> = {
  WILL_CREATE: "add",
  WILL_DESTROY: "remove",
  WILL_ORPHAN: "orphan",
  WILL_UPDATE: "update",
  WILL_REPLACE: "replace",
  MAY_REPLACE: "may-replace",
};

/** A stateful resource deleted or replaced loses its data; an orphaned one keeps it. */
function isDestructive(change: ResourceChange): boolean {
  return change.stateful && (change.change === "remove" || change.change === "replace" || change.change === "may-replace");
}

type FullDiff = typeof import("@aws-cdk/cloudformation-diff").fullDiff;

function diffStacks(fullDiff: FullDiff, before: ReadonlyMap<string, CfnTemplate>, after: ReadonlyMap<string, CfnTemplate>): StackChange[] {
  const stacks: StackChange[] = [];
  for (const stackName of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const old = before.get(stackName) ?? {};
    const current = after.get(stackName) ?? {};
    const resources: ResourceChange[] = [];
    fullDiff(old, current).resources.forEachDifference((logicalId, difference) => {
      const type = difference.newResourceType ?? difference.oldResourceType ?? "unknown";
      const change = IMPACT[difference.changeImpact] ?? "update";
      resources.push({ logicalId, type, change, stateful: isStatefulCloudFormationResource(type, old.Resources?.[logicalId]?.DeletionPolicy) });
    });
    if (resources.length === 0) continue;
    stacks.push({ stackName, change: !before.has(stackName) ? "add" : !after.has(stackName) ? "remove" : "update", resources });
  }
  return stacks;
}

/** Whether a template fragment refers (Ref or Fn::GetAtt) to any of the logical IDs. */
function refersTo(node: unknown, logicalIds: ReadonlySet<string>): boolean {
  if (Array.isArray(node)) return node.some((item) => refersTo(item, logicalIds));
  if (node === null || typeof node !== "object") return false;
  const record = node as Record<string, unknown>;
  if (typeof record["Ref"] === "string" && logicalIds.has(record["Ref"])) return true;
  const getAtt = record["Fn::GetAtt"];
  if (Array.isArray(getAtt) && typeof getAtt[0] === "string" && logicalIds.has(getAtt[0])) return true;
  if (typeof getAtt === "string" && logicalIds.has(getAtt.split(".")[0]!)) return true;
  return Object.values(record).some((value) => refersTo(value, logicalIds));
}

/**
 * Values other stacks read at deploy time that a change replaces: stack outputs read through
 * `Fn::GetStackOutput`, and SSM parameters read as `AWS::SSM::Parameter::Value` parameters. Their
 * readers see a new value on their next deployment, which a template comparison alone misses.
 */
function replacedSharedValues(stacks: readonly StackChange[], after: ReadonlyMap<string, CfnTemplate>) {
  const outputs = new Set<string>();
  const parameterNames = new Set<string>();
  for (const stack of stacks) {
    const gone = new Set(stack.resources.filter((r) => r.change === "replace" || r.change === "may-replace" || r.change === "remove").map((r) => r.logicalId));
    const template = after.get(stack.stackName);
    if (gone.size === 0 || !template) continue;
    for (const [outputName, output] of Object.entries(template.Outputs ?? {})) {
      if (refersTo(output.Value, gone)) outputs.add(`${stack.stackName}/${outputName}`);
    }
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      if (resource.Type !== "AWS::SSM::Parameter" || typeof resource.Properties?.["Name"] !== "string") continue;
      if (gone.has(logicalId) || refersTo(resource.Properties["Value"], gone)) parameterNames.add(resource.Properties["Name"]);
    }
  }
  return { outputs, parameterNames };
}

/** Marks every read of a replaced shared value in `template`, so the diff sees the value change. */
function markReplacedReads(template: CfnTemplate, outputs: ReadonlySet<string>, parameterNames: ReadonlySet<string>): CfnTemplate {
  const replacedParameters = new Set(
    Object.entries(template.Parameters ?? {})
      .filter(([, p]) => p.Type?.startsWith("AWS::SSM::Parameter::Value") && typeof p.Default === "string" && parameterNames.has(p.Default))
      .map(([id]) => id),
  );
  const mark = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(mark);
    if (node === null || typeof node !== "object") return node;
    const record = node as Record<string, unknown>;
    const stackOutput = record["Fn::GetStackOutput"] as { StackName?: unknown; OutputName?: unknown } | undefined;
    if (stackOutput && outputs.has(`${String(stackOutput.StackName)}/${String(stackOutput.OutputName)}`)) return `(replaced: ${String(stackOutput.StackName)}.${String(stackOutput.OutputName)})`;
    if (typeof record["Ref"] === "string" && replacedParameters.has(record["Ref"])) return `(replaced: ${record["Ref"]})`;
    return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, mark(value)]));
  };
  return { ...template, ...(template.Resources ? { Resources: mark(template.Resources) as Record<string, CfnResource> } : {}) };
}

/**
 * Compares two sets of templates stack by stack with CloudFormation's own replacement rules
 * (`@aws-cdk/cloudformation-diff`, the library behind `cdk diff`): which resources are added,
 * removed, updated in place or replaced, and which of those hold data. A replacement cascades:
 * stacks reading a replaced resource's output or SSM parameter are compared as if they read the
 * new value, until nothing more changes.
 */
export async function diffTemplates(before: ReadonlyMap<string, CfnTemplate>, after: ReadonlyMap<string, CfnTemplate>): Promise<LandingZoneDiff> {
  const { fullDiff } = await import("@aws-cdk/cloudformation-diff");
  let stacks = diffStacks(fullDiff, before, after);
  let seen = "";
  for (let round = 0; round <= after.size; round++) {
    const { outputs, parameterNames } = replacedSharedValues(stacks, after);
    const key = [...outputs, ...parameterNames].sort().join("\n");
    if (key === seen) break;
    seen = key;
    const marked = new Map([...after].map(([name, template]) => [name, markReplacedReads(template, outputs, parameterNames)]));
    stacks = diffStacks(fullDiff, before, marked);
  }
  const destructive = stacks.flatMap((s) => s.resources.filter(isDestructive).map((r) => ({ ...r, stackName: s.stackName })));
  return { stacks, destructive };
}

/** Plans both specs for the CDK engine, synthesizes both and compares their templates. */
export async function diffLandingZones(before: LandingZoneSpec, after: LandingZoneSpec): Promise<LandingZoneDiff> {
  planLandingZone(before, { engine: "cdk" });
  planLandingZone(after, { engine: "cdk" });
  return diffTemplates(await synthesizedTemplates(before), await synthesizedTemplates(after));
}

export function renderDiff(diff: LandingZoneDiff): string {
  if (diff.stacks.length === 0) return "No changes: every stack's template is the same.";
  const rows = diff.stacks.flatMap((stack) =>
    stack.resources.map((r) => [stack.stackName, r.change, r.logicalId, r.type, !r.stateful ? "" : r.change === "orphan" ? "kept (retained)" : isDestructive(r) ? "DATA LOSS" : "stateful"]),
  );
  const summary = `${diff.stacks.length} ${diff.stacks.length === 1 ? "stack" : "stacks"} touched: ${diff.stacks.map((s) => `${s.stackName} (${s.change})`).join(", ")}`;
  const warning =
    diff.destructive.length > 0
      ? `\n\n${diff.destructive.length} stateful ${diff.destructive.length === 1 ? "resource" : "resources"} would be replaced or deleted, losing data: ${diff.destructive.map((r) => `${r.stackName}/${r.logicalId}`).join(", ")}.\nIf a rename caused it, keep the construct ID (CDK) so the logical ID stays the same.`
      : "\n\nNo stateful resource is replaced or deleted.";
  return `${summary}\n\n${renderTable(["STACK", "CHANGE", "LOGICAL ID", "TYPE", "DATA"], rows)}${warning}`;
}

export interface DiffOptions {
  readonly json?: boolean;
}

/**
 * `mlz diff <old> <new>`: which stacks and resources a spec change touches, and whether a stateful
 * resource would be replaced or deleted (exit 2), from the CDK templates both specs synthesize to.
 */
export async function diffCommand(oldFile: string, newFile: string, options: DiffOptions, io: Io): Promise<ExitCode | typeof DESTRUCTIVE_EXIT_CODE> {
  let diff: LandingZoneDiff | undefined;
  const code = await userErrorsAsync(io, async () => {
    const before = loadSpecFile(oldFile);
    const after = loadSpecFile(newFile);
    if (before.cloud !== "aws" || after.cloud !== "aws") {
      io.err(`mlz diff compares CDK templates, which exist for cloud: aws only (got ${before.cloud} and ${after.cloud}). Fix: for Pulumi stacks run \`pulumi preview --diff\` against the stack\n`);
      return 1;
    }
    io.err(`Synthesizing ${oldFile} and ${newFile}...\n`);
    diff = await diffLandingZones(before, after);
    io.out(options.json ? `${JSON.stringify(diff, null, 2)}\n` : `${renderDiff(diff)}\n`);
    return 0;
  });
  return code === 0 && diff && diff.destructive.length > 0 ? DESTRUCTIVE_EXIT_CODE : code;
}
