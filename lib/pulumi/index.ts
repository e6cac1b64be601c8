import type * as pulumi from "@pulumi/pulumi";
import { PlanError, planLandingZone } from "../plan/planner.js";
import type { LandingZonePlan } from "../plan/types.js";
import type { LandingZoneInput } from "../spec/schema.js";
import type { LandingZoneSpec } from "../spec/types.js";

export * from "./kubernetes/add-on.js";

export interface CreateLandingZoneArgs {
  /** The landing-zone spec, as written (`LandingZoneInput`) or normalized; its `cloud` picks the components. */
  readonly spec: LandingZoneInput | LandingZoneSpec;
}

/** What every cloud's landing zone offers, whatever its components. */
export interface CloudLandingZone extends pulumi.ComponentResource {
  readonly plan: LandingZonePlan;
  /** Stack outputs by name (gatewayUrl, clusterName, ... as the cloud provides them). */
  readonly outputs: Readonly<Record<string, pulumi.Output<unknown>>>;
}

/**
 * Builds the landing zone of the spec's cloud (`msa:<cloud>:LandingZone`). Only that cloud's
 * module, and so only its `@pulumi/<cloud>` package, is loaded: `await import()` is the standard
 * ESM way to load an optional peer on demand and works the same under tsx, compiled JS and vitest.
 * Throws the planner's {@link PlanError} when the Pulumi engine does not cover what the spec asks.
 *
 * @example
 * const zone = await createLandingZone("shop", { spec: loadSpecFile("landing-zone.yaml") });
 * export const outputs = zone.outputs;
 */
export async function createLandingZone(name: string, args: CreateLandingZoneArgs, opts?: pulumi.ComponentResourceOptions): Promise<CloudLandingZone> {
  const plan = planLandingZone(args.spec, { engine: "pulumi" });
  switch (plan.cloud) {
    case "aws": {
      const { LandingZone } = await import("./aws/landing-zone.js");
      return new LandingZone(name, { spec: plan.spec }, opts);
    }
    case "gcp": {
      const { LandingZone } = await import("./gcp/landing-zone.js");
      return new LandingZone(name, { spec: plan.spec }, opts);
    }
    case "azure": {
      const { LandingZone } = await import("./azure/landing-zone.js");
      return new LandingZone(name, { spec: plan.spec }, opts);
    }
    case "kubernetes": {
      const { LandingZone } = await import("./kubernetes/landing-zone.js");
      return new LandingZone(name, { spec: plan.spec }, opts);
    }
  }
}
