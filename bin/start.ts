import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { renderAssemblySummary, summarizeAssembly } from "../lib/report/index.js";

// `npm start`: synthesize the default example with the real CDK CLI (cdk.json's app), then summarize.
const spec = process.argv[2] ?? "examples/shop/landing-zone.yaml";
const outdir = resolve("cdk.out");
const cdk = resolve("node_modules/.bin/cdk");
if (!existsSync(cdk)) {
  process.stderr.write("The CDK CLI is not installed: run `npm ci` first.\n");
  process.exit(1);
}
process.stderr.write(`cdk synth -c spec=${spec} -o cdk.out\n`);
const result = spawnSync(cdk, ["synth", "--quiet", "--no-notices", "--no-version-reporting", "-c", `spec=${spec}`, "-o", outdir], { stdio: "inherit" });
if (result.status !== 0) process.exit(result.status ?? 1);
process.stdout.write(`${renderAssemblySummary(summarizeAssembly(outdir))}\n\nTemplates are in ${outdir}. Deploy with \`npx cdk deploy --all -c spec=${spec}\` from an AWS account.\n`);
