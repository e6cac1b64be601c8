import { App } from "aws-cdk-lib";
import { LANDING_ZONE_APP_CONTEXT } from "../cdk/app-context.js";
import { addCompliancePacks } from "../cdk/compliance.js";
import { LandingZone } from "../cdk/landing-zone.js";
import { pascalCase } from "../plan/naming.js";
import { assertCompliant } from "../report/compliance-report.js";
import type { LandingZoneSpec } from "../spec/types.js";

export interface SynthesizeOptions {
  /**
   * Run aws-cdk-lib's CloudFormation schema validation and cdk-nag's AWS Solutions and NIST 800-53
   * rev 5 packs (strict: a warning fails too); an unacknowledged finding throws a `ComplianceError`.
   * @default true
   */
  readonly validate?: boolean;
  /**
   * Called as each phase starts, for progress on long runs.
   * @default - silent
   */
  readonly onPhase?: (phase: "construct" | "synthesize") => void;
}

/**
 * Builds the landing zone's CDK app and writes its cloud assembly to `outdir`; with validation, throws
 * a `ComplianceError` listing every finding nobody acknowledged (the assembly is written all the same).
 */
export function synthesizeLandingZone(spec: LandingZoneSpec, outdir: string, options: SynthesizeOptions = {}): void {
  const validate = options.validate ?? true;
  // Path and asset metadata as the cdk CLI writes them, so `cdk diff` and the console map resources back to constructs.
  // Validation failures are listed from the report below, one line each, instead of CDK's report with stack traces.
  const app = new App({
    outdir,
    builtinCloudFormationValidation: validate,
    context: {
      ...LANDING_ZONE_APP_CONTEXT,
      "aws:cdk:enable-path-metadata": true,
      "aws:cdk:enable-asset-metadata": true,
      "aws:cdk:version-reporting": false,
      // Stack traces are for debugging a synthesis (CDK_DEBUG=1 turns them back on); one captured per resource and metadata entry costs synth time and memory.
      "aws:cdk:disable-stack-trace": true,
      "aws:cdk:disable-creation-stack-traces": true,
      // Usage data (L2 props per construct) only reaches AWS with version reporting, which is off: collecting it costs ~5% of synth time.
      "@aws-cdk/core:enableAdditionalMetadataCollection": false,
      "@aws-cdk/core:failSynthOnValidationErrors": false,
    },
  });
  options.onPhase?.("construct");
  new LandingZone(app, pascalCase(spec.name), { spec });
  // Without checks the acknowledgements are still written, so every entry point writes the same templates.
  addCompliancePacks(app, { check: validate });
  options.onPhase?.("synthesize");
  app.synth();
  if (validate) assertCompliant(outdir);
}
