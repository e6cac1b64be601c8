import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mlz } from "./mlz-binary.js";
import { parse } from "yaml";
import { azureUniqueName } from "../../lib/plan/azure.js";


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
  it("writes each service's azure-pipelines.yml, each micro-frontend's workflow, and says which service connection and environment to create", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlz-azure-pipelines-"));
    const spec = join(dir, "landing-zone.yaml");
    writeFileSync(spec, SPEC);
    const run = await mlz("workflows", spec, "--out", join(dir, "out"), "--azure-pipelines", "--azure-subscription", "11111111-2222-4333-8444-555555555555");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("wrote   orders/azure-pipelines.yml");
    // The micro-frontends deploy from GitHub whichever pipelines the services use.
    expect(run.stdout).toContain("wrote   catalog-ui/.github/workflows/catalog.yml");
    expect(run.stdout).toContain('In Azure DevOps project "shop"');
    expect(run.stdout).toContain(AZURE_FRONTENDS_SENTENCE);
    const pipeline = parse(readFileSync(join(dir, "out", "orders", "azure-pipelines.yml"), "utf8")) as { stages: { stage: string }[] };
    expect(pipeline.stages.map((s) => s.stage)).toEqual(["build", "test", "push", "deploy"]);
  });

  it("writes nothing and names the fix without a subscription", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlz-azure-pipelines-"));
    const spec = join(dir, "landing-zone.yaml");
    writeFileSync(spec, SPEC);
    const run = await mlz("workflows", spec, "--out", join(dir, "out"), "--azure-pipelines");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("--azure-pipelines needs --azure-subscription");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });
});

/** What `mlz workflows` says each app's repository needs, naming the outputs that set it. */
const AZURE_FRONTENDS_SENTENCE =
  "In each micro-frontend's repository set the variables AZURE_TENANT_ID (the subscription's tenant), AZURE_SUBSCRIPTION_ID (the landing zone's subscription), AZURE_DEPLOY_CLIENT_ID (the app's entry of the frontendDeployClientIds output), AZURE_STORAGE_ACCOUNT (the frontendStorageAccount output).";

describe("mlz workflows on Azure with GitHub Actions micro-frontends (the real binary)", () => {
  it("names the repository variables of the apps' workflows beside the services'", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlz-azure-frontends-"));
    const spec = join(dir, "landing-zone.yaml");
    writeFileSync(spec, SPEC.replace(/^pipelines: .*$/m, "pipelines: { provider: github-actions, repositoryOwner: acme }"));
    const run = await mlz("workflows", spec, "--out", join(dir, "out"));
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain("wrote   web-ui/.github/workflows/web.yml");
    expect(run.stdout).toContain(AZURE_FRONTENDS_SENTENCE);
    expect(run.stdout).toContain("AZURE_DEPLOY_CLIENT_ID (the service's entry of the deployClientIds output)");
  });
});

describe("mlz workflows on Azure App Service with GitHub Actions (the real binary)", () => {
  it("names each service's own app from --azure-subscription, and writes nothing without it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlz-azure-github-"));
    const spec = join(dir, "landing-zone.yaml");
    writeFileSync(spec, "name: shop\ncloud: azure\nregion: koreacentral\ntier: paas\npipelines: { provider: github-actions, repositoryOwner: acme }\nservices:\n  - name: orders\n");
    const refused = await mlz("workflows", spec, "--out", join(dir, "refused"));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("Fix: pass --azure-subscription <subscription id>");
    expect(existsSync(join(dir, "refused"))).toBe(false);
    const run = await mlz("workflows", spec, "--out", join(dir, "out"), "--azure-subscription", "11111111-2222-4333-8444-555555555555");
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain("AZURE_DEPLOY_CLIENT_ID (the service's entry of the deployClientIds output), AZURE_APP_CONFIGURATION (the releaseStoreName output).");
    const workflow = readFileSync(join(dir, "out", "orders", ".github", "workflows", "orders.yml"), "utf8");
    expect(workflow).toContain(`az webapp config container set --resource-group shop-dev --name ${azureUniqueName("azureResource", "shop", "dev", "orders", "11111111-2222-4333-8444-555555555555/shop-dev")} --container-image-name "$IMAGE"`);
  });
});
