import { App } from "aws-cdk-lib";
import { LANDING_ZONE_APP_CONTEXT } from "../cdk/app-context.js";
import { LandingZone } from "../cdk/landing-zone.js";
import { pascalCase } from "../plan/naming.js";
import type { LandingZoneSpec } from "../spec/types.js";

export interface SynthesizeOptions {
  /**
   * Run aws-cdk-lib's CloudFormation schema validation (strict: a warning fails too).
   * @default true
   */
  readonly validate?: boolean;
  /**
   * Called as each phase starts, for progress on long runs.
   * @default - silent
   */
  readonly onPhase?: (phase: "construct" | "synthesize") => void;
}

/** Builds the landing zone's CDK app and writes its cloud assembly to `outdir`. */
export function synthesizeLandingZone(spec: LandingZoneSpec, outdir: string, options: SynthesizeOptions = {}): void {
  // Path and asset metadata as the cdk CLI writes them, so `cdk diff` and the console map resources back to constructs.
  const app = new App({
    outdir,
    builtinCloudFormationValidation: options.validate ?? true,
    context: {
      ...LANDING_ZONE_APP_CONTEXT,
      "aws:cdk:enable-path-metadata": true,
      "aws:cdk:enable-asset-metadata": true,
      "aws:cdk:version-reporting": false,
      // Usage data (L2 props per construct) only reaches AWS with version reporting, which is off: collecting it costs ~5% of synth time.
      "@aws-cdk/core:enableAdditionalMetadataCollection": false,
    },
  });
  options.onPhase?.("construct");
  new LandingZone(app, pascalCase(spec.name), { spec });
  options.onPhase?.("synthesize");
  app.synth();
}
