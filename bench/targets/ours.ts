/**
 * (a) The landing zone's CDK app, run as `mlz synth` runs it: the spec file loaded and validated,
 * then `synthesizeLandingZone` writes the cloud assembly.
 *
 * The stacks' TemplateLimitsSynthesizer fails synthesis once a template reaches 80% of a
 * CloudFormation limit; here it does the same work (each template read back and measured) but
 * records the problems instead of throwing, so every N is measured and the report says which
 * templates are over.
 *
 * With validation on, `mlz synth` fails on every unacknowledged finding, construct warnings included
 * (`@aws-cdk/core:annotationsInValidationReport` puts them in the validation report, and
 * `assertCompliant` is strict). A warning that only the zone's size raises (the gateway's HTTP API
 * route quota at 1,000 services) is recorded here instead; any other finding still fails the run.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DefaultStackSynthesizer, type ISynthesisSession } from "aws-cdk-lib";
import { TemplateLimitsSynthesizer, templateLimitProblems, templateUsage } from "../../lib/cdk/template-limits.js";
import { synthesizeLandingZone } from "../../lib/cli/synthesize.js";
import { ComplianceError } from "../../lib/report/compliance-report.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import { args, reportAtExit } from "./probe.js";

type SynthesizeTemplate = (this: TemplateLimitsSynthesizer, session: ISynthesisSession, ...rest: unknown[]) => unknown;
const overLimit: string[] = [];
const synthesizeTemplate = (DefaultStackSynthesizer.prototype as unknown as { synthesizeTemplate: SynthesizeTemplate }).synthesizeTemplate;
(TemplateLimitsSynthesizer.prototype as unknown as { synthesizeTemplate: SynthesizeTemplate }).synthesizeTemplate = function (session, ...rest) {
  const source = synthesizeTemplate.call(this, session, ...rest);
  const stack = this.boundStack;
  overLimit.push(...templateLimitProblems(stack.stackName, templateUsage(readFileSync(join(session.outdir, stack.templateFile), "utf8"))));
  return source;
};

/** CDK's plugin name for construct annotations in the validation report. */
const ANNOTATIONS_PLUGIN = "Construct Annotations";
const warnings: string[] = [];
reportAtExit(undefined, () => overLimit, () => warnings);
const [specFile, outdir, validation] = args(3, "ours <spec.yaml> <outdir> <on|off>");
try {
  synthesizeLandingZone(loadSpecFile(specFile!), outdir!, { validate: validation === "on" });
} catch (error) {
  const recordable = (f: ComplianceError["findings"][number]) => f.plugin === ANNOTATIONS_PLUGIN && f.severity === "warning";
  if (!(error instanceof ComplianceError) || !error.findings.every(recordable)) throw error;
  warnings.push(...error.findings.map((f) => `${f.ruleId} at ${f.path}: ${f.description}`));
}
