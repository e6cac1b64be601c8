import { App } from "aws-cdk-lib";
import { LandingZone } from "../cdk/landing-zone.js";
import { pascalCase } from "../plan/naming.js";
import type { LandingZoneSpec } from "../spec/types.js";

/** Builds the landing zone's CDK app and writes its cloud assembly to `outdir`. */
export function synthesizeLandingZone(spec: LandingZoneSpec, outdir: string): void {
  const app = new App({ outdir });
  new LandingZone(app, pascalCase(spec.name), { spec });
  app.synth();
}
