/**
 * (a) The landing zone's CDK app, run as `mlz synth` runs it: the spec file loaded and validated,
 * then `synthesizeLandingZone` writes the cloud assembly.
 */
import { synthesizeLandingZone } from "../../lib/cli/synthesize.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import { args, reportAtExit } from "./probe.js";

reportAtExit();
const [specFile, outdir, validation] = args(3, "ours <spec.yaml> <outdir> <on|off>");
synthesizeLandingZone(loadSpecFile(specFile!), outdir!, { validate: validation === "on" });
