/** (b) The baseline: the same resources as raw L1 constructs in a plain CDK app. */
import { synthesizeL1 } from "../baseline/l1-app.js";
import { args, reportAtExit } from "./probe.js";

reportAtExit();
const [n, outdir, validation] = args(3, "l1 <services> <outdir> <on|off>");
synthesizeL1(Number(n), outdir!, { validate: validation === "on" });
