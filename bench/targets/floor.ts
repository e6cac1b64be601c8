/** (c) The floor: the same templates as plain JSON, without CDK. */
import { writeFloor } from "../baseline/floor.js";
import { args, reportAtExit } from "./probe.js";

reportAtExit();
const [n, outdir] = args(2, "floor <services> <outdir>");
writeFloor(Number(n), outdir!);
