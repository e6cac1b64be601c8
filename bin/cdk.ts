import { App } from "aws-cdk-lib";
import { addCompliancePacks } from "../lib/cdk/compliance.js";
import { LandingZone } from "../lib/cdk/landing-zone.js";
import { PlanError } from "../lib/plan/planner.js";
import { pascalCase } from "../lib/plan/naming.js";
import { SpecError } from "../lib/spec/errors.js";
import { loadSpecFile } from "../lib/spec/parse.js";

/** Default spec when `-c spec=<file>` is not given. */
const DEFAULT_SPEC = "examples/shop/landing-zone.yaml";

const app = new App();
const specFile = String(app.node.tryGetContext("spec") ?? DEFAULT_SPEC);
try {
  const spec = loadSpecFile(specFile);
  new LandingZone(app, pascalCase(spec.name), { spec });
  // cdk-nag's AWS Solutions and NIST 800-53 rev 5 packs: an unacknowledged finding fails `cdk synth`.
  addCompliancePacks(app);
} catch (error) {
  // A spec the user must fix: the message names every problem; a stack trace would only bury it.
  if (error instanceof SpecError || error instanceof PlanError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
app.synth();
