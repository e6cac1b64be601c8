import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Name of the report CDK writes into the cloud assembly when validation plugins run. */
export const VALIDATION_REPORT_FILE = "validation-report.json";

/** One unacknowledged finding of a synthesis: a cdk-nag rule or a CloudFormation validation rule. */
export interface ComplianceFinding {
  /** The plugin that reported it: "AwsSolutions", "NIST.800.53.R5", "CloudFormation Validate"... */
  readonly plugin: string;
  /** Rule id, with the finding in brackets when the rule reports several per resource. */
  readonly ruleId: string;
  readonly severity: string;
  /** Construct path of the resource, e.g. `Shop/Platform/Gateway/LoadBalancerLogs/Resource`. */
  readonly path: string;
  readonly description: string;
}

/** One finding acknowledged by `Validations.of(construct).acknowledge`, as the report records it. */
export interface AcknowledgedFinding extends ComplianceFinding {
  /** The id the acknowledgement gave, e.g. `AwsSolutions::AwsSolutions-S1`. */
  readonly acknowledgedId: string;
  /** Path of the construct the acknowledgement was made on (the resource or one of its parents). */
  readonly acknowledgedAt: string;
  readonly reason: string;
}

interface ReportViolation {
  readonly ruleName: string;
  readonly description: string;
  readonly severity: string;
  readonly violatingConstructs?: readonly { readonly constructPath?: string; readonly resourceLogicalId?: string }[];
  readonly acknowledgedId?: string;
  readonly acknowledgedAt?: string;
  readonly reason?: string;
}

interface ValidationReport {
  readonly pluginReports?: readonly { readonly pluginName: string; readonly violations?: readonly ReportViolation[]; readonly suppressedViolations?: readonly ReportViolation[] }[];
}

/** The findings and acknowledgements of the validation report in a cloud assembly; empty when no plugin ran. */
export function readValidationReport(assemblyDirectory: string): { readonly findings: ComplianceFinding[]; readonly acknowledged: AcknowledgedFinding[] } {
  const file = join(assemblyDirectory, VALIDATION_REPORT_FILE);
  if (!existsSync(file)) return { findings: [], acknowledged: [] };
  const report = JSON.parse(readFileSync(file, "utf8")) as ValidationReport;
  const flatten = (plugin: string, violations: readonly ReportViolation[] | undefined) =>
    (violations ?? []).flatMap((v) =>
      (v.violatingConstructs ?? []).map((c) => ({ plugin, ruleId: v.ruleName, severity: v.severity, path: c.constructPath ?? c.resourceLogicalId ?? "(unknown)", description: v.description, violation: v })),
    );
  const reports = report.pluginReports ?? [];
  return {
    findings: reports.flatMap((r) => flatten(r.pluginName, r.violations).map(({ violation: _, ...finding }) => finding)),
    acknowledged: reports.flatMap((r) =>
      flatten(r.pluginName, r.suppressedViolations).map(({ violation, ...finding }) => ({
        ...finding,
        acknowledgedId: violation.acknowledgedId ?? "",
        acknowledgedAt: violation.acknowledgedAt ?? "",
        reason: violation.reason ?? "",
      })),
    ),
  };
}

/** Unacknowledged findings of a synthesis, listed by rule id and construct path. */
export class ComplianceError extends Error {
  constructor(
    readonly findings: readonly ComplianceFinding[],
    readonly reportFile: string,
  ) {
    const lines = [...findings]
      .sort((a, b) => a.path.localeCompare(b.path) || a.ruleId.localeCompare(b.ruleId))
      .map((f) => `  ✗ ${f.ruleId} (${f.severity}) at ${f.path}: ${f.description}`);
    super(
      [
        `${findings.length} unacknowledged finding${findings.length === 1 ? "" : "s"} of the compliance checks (${[...new Set(findings.map((f) => f.plugin))].join(", ")}):`,
        ...lines,
        `Fix: change the construct so the rule passes; where the rule cannot apply, acknowledge that one finding on that one construct, with a reason a reviewer can check:`,
        `  Validations.of(construct).acknowledge({ id: "<plugin>::<rule id>", reason: "why this is safe" })`,
        `Full report: ${reportFile}`,
      ].join("\n"),
    );
    this.name = "ComplianceError";
  }
}

/** Throws a `ComplianceError` listing every unacknowledged finding in the assembly's validation report. */
export function assertCompliant(assemblyDirectory: string): void {
  const { findings } = readValidationReport(assemblyDirectory);
  if (findings.length > 0) throw new ComplianceError(findings, join(assemblyDirectory, VALIDATION_REPORT_FILE));
}
