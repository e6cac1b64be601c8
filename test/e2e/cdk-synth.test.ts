import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCommand, type CommandResult } from "../command.js";
import { LANDING_ZONE_APP_CONTEXT } from "../../lib/cdk/app-context.js";
import { summarizeAssembly } from "../../lib/report/assembly-summary.js";
import { loadSpecFile } from "../../lib/spec/parse.js";

/** Every example the CDK engine builds: the AWS ones. */
const AWS_EXAMPLES = readdirSync("examples", { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => `examples/${entry.name}/landing-zone.yaml`)
  .filter((file) => loadSpecFile(file).cloud === "aws");

const scratch = mkdtempSync(join(tmpdir(), "mlz-e2e-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `runCommand` without CDK's version check, which would reach the network. */
function run(command: string, args: readonly string[]): Promise<CommandResult> {
  return runCommand(command, args, { env: { ...process.env, CDK_DISABLE_VERSION_CHECK: "1" } });
}


/** Templates of a cloud assembly by stack name. */
function templates(outdir: string): Map<string, string> {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as { artifacts: Record<string, { type: string; properties?: { templateFile?: string; stackName?: string } }> };
  return new Map(
    Object.values(manifest.artifacts)
      .filter((a) => a.type === "aws:cloudformation:stack")
      .map((a) => [a.properties!.stackName!, readFileSync(join(outdir, a.properties!.templateFile!), "utf8")]),
  );
}

describe("the real `cdk synth` (cdk.json's app) on every AWS example", () => {
  it("finds the AWS examples", () => {
    expect(AWS_EXAMPLES).toContain("examples/shop/landing-zone.yaml");
  });

  it("keeps cdk.json's context and the library's app context equal, so both entry points agree", () => {
    const cdkJson = JSON.parse(readFileSync("cdk.json", "utf8")) as { context: Record<string, unknown> };
    expect(cdkJson.context).toEqual(LANDING_ZONE_APP_CONTEXT);
  });

  it.each(AWS_EXAMPLES)("synthesizes %s, and `mlz synth` writes the same templates", async (file) => {
    const spec = loadSpecFile(file);
    const cdkOut = join(scratch, `${spec.name}-${spec.tier}-cdk`);
    const cdk = await run("node_modules/.bin/cdk", ["synth", "--quiet", "--no-notices", "--no-version-reporting", "-c", `spec=${file}`, "-o", cdkOut]);
    expect(cdk.status, cdk.stderr).toBe(0);
    const stacks = summarizeAssembly(cdkOut);
    expect(stacks.length).toBeGreaterThanOrEqual(4);
    for (const stack of stacks) {
      expect(stack.stackName.startsWith(`${spec.name}-${spec.environment}-`)).toBe(true);
      expect(stack.resources, stack.stackName).toBeGreaterThan(0);
    }

    const mlzOut = join(scratch, `${spec.name}-${spec.tier}-mlz`);
    const mlz = await run("node_modules/.bin/tsx", ["bin/mlz.ts", "synth", file, "--out", mlzOut]);
    expect(mlz.status, mlz.stderr).toBe(0);
    expect(templates(mlzOut)).toEqual(templates(cdkOut));
    // Two full synths with validation: about 30 s on a quiet 2-core machine, several times that under load.
  }, 600_000);

  it("fails with the spec's problems and writes no assembly for an invalid spec", async () => {
    const outdir = join(scratch, "invalid");
    const result = await run("node_modules/.bin/cdk", ["synth", "--quiet", "--no-notices", "-c", "spec=test/fixtures/invalid.yaml", "-o", outdir]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("Invalid landing-zone spec test/fixtures/invalid.yaml");
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(outdir, "manifest.json"))).toBe(false);
  });
});
