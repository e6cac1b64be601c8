/**
 * (d) The Pulumi landing zone (`createLandingZone`, AWS) under `pulumi.runtime.setMocks`, through
 * the test harness. `Error.stackTraceLimit` stays what the process was started with, so the runner
 * can compare `--stack-trace-limit=0` with the default.
 */
import { createLandingZone } from "../../lib/pulumi/index.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import { runProgram } from "../../test/pulumi/harness.js";
import { args, reportAtExit } from "./probe.js";

let registered: number | undefined;
reportAtExit(() => registered);
const [specFile] = args(1, "pulumi <spec.yaml>");
const spec = loadSpecFile(specFile!);
const { resources } = await runProgram(
  async () => {
    await createLandingZone("bench", { spec });
  },
  { stackTraceLimit: Error.stackTraceLimit },
);
registered = resources.filter((r) => r.custom).length;
