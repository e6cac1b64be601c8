/**
 * Pulumi program (Pulumi.yaml `main`): reads the spec named by config `msa:spec`
 * (default examples/shop/landing-zone.yaml) and builds the landing zone of its cloud. The default
 * export is run by Pulumi; what it returns (the landing zone's outputs, which differ per cloud and
 * per part the spec turns on) becomes the stack outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { PlanError } from "../lib/plan/planner.js";
import { createLandingZone } from "../lib/pulumi/index.js";
import { SpecError } from "../lib/spec/errors.js";
import { loadSpecFile } from "../lib/spec/parse.js";

const DEFAULT_SPEC = "examples/shop/landing-zone.yaml";

export default async function program(): Promise<Readonly<Record<string, pulumi.Output<unknown>>>> {
  const config = new pulumi.Config("msa");
  try {
    const spec = loadSpecFile(config.get("spec") ?? DEFAULT_SPEC);
    const zone = await createLandingZone(spec.name, { spec });
    return zone.outputs;
  } catch (error) {
    // A spec the user must fix: Pulumi prints a RunError's message alone, without the program's source and stack.
    if (error instanceof SpecError || error instanceof PlanError) throw new pulumi.RunError(error.message);
    throw error;
  }
}
