import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const tsx = join(process.cwd(), "node_modules/.bin/tsx");
const mlz = (...args: string[]) => spawnSync(tsx, ["bin/mlz.ts", ...args], { encoding: "utf8" });

const SPEC = [
  "name: shop",
  "cloud: azure",
  "region: koreacentral",
  "pipelines: { repositoryOwner: acme, azureDevOps: { organization: acme, project: shop, issuer: https://vstoken.dev.azure.com/0d4c1a5e-8f3b-4c2a-9e7d-6b5a4c3d2e1f } }",
  "bffs: [web]",
  "frontends: { shell: web, fragments: [catalog] }",
  "services:",
  "  - name: orders",
  "",
].join("\n");

describe("mlz workflows --azure-pipelines (the real binary)", () => {
  it("writes each service's azure-pipelines.yml, each micro-frontend's workflow, and says which service connection and environment to create", () => {
    const dir = mkdtempSync(join(tmpdir(), "mlz-azure-pipelines-"));
    const spec = join(dir, "landing-zone.yaml");
    writeFileSync(spec, SPEC);
    const run = mlz("workflows", spec, "--out", join(dir, "out"), "--azure-pipelines", "--azure-subscription", "11111111-2222-4333-8444-555555555555");
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("wrote   orders/azure-pipelines.yml");
    // The micro-frontends deploy from GitHub whichever pipelines the services use.
    expect(run.stdout).toContain("wrote   catalog-ui/.github/workflows/catalog.yml");
    expect(run.stdout).toContain('In Azure DevOps project "shop"');
    const pipeline = parse(readFileSync(join(dir, "out", "orders", "azure-pipelines.yml"), "utf8")) as { stages: { stage: string }[] };
    expect(pipeline.stages.map((s) => s.stage)).toEqual(["build", "test", "push", "deploy"]);
  });

  it("writes nothing and names the fix without a subscription", () => {
    const dir = mkdtempSync(join(tmpdir(), "mlz-azure-pipelines-"));
    const spec = join(dir, "landing-zone.yaml");
    writeFileSync(spec, SPEC);
    const run = mlz("workflows", spec, "--out", join(dir, "out"), "--azure-pipelines");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("--azure-pipelines needs --azure-subscription");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });
});
