import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { planLandingZone } from "../../lib/plan/planner.js";
import { githubWorkflowFiles, type Workflow } from "../../lib/plan/workflows.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";

const azure: LandingZoneInput = {
  name: "shop",
  cloud: "azure",
  region: "koreacentral",
  environment: "prod",
  gateway: { auth: "none" },
  pipelines: { provider: "github-actions", repositoryOwner: "acme" },
  bffs: ["web"],
  frontends: { shell: "web", fragments: ["catalog", "ux"] },
  services: [{ name: "orders" }],
};
type Step = { name: string; uses?: string; with?: Record<string, unknown>; run?: string };

describe("micro-frontend workflows on Azure", () => {
  const plan = planLandingZone(azure);
  const files = githubWorkflowFiles(plan, "landing-zone.yaml");
  const workflow = (path: string) => parse(files.find((f) => `${f.repository}/${f.path}` === path)!.content) as Workflow;

  it("writes one per app, into its own repository", () => {
    expect(files.map((f) => `${f.repository}/${f.path}`)).toEqual([
      "orders/.github/workflows/orders.yml",
      "web/.github/workflows/web.yml",
      "web-ui/.github/workflows/web.yml",
      "catalog-ui/.github/workflows/catalog.yml",
      "ux-ui/.github/workflows/ux.yml",
    ]);
  });

  it("builds, then in the prod environment signs in through OIDC, uploads to the app's own container and purges only its paths", () => {
    const catalog = workflow("catalog-ui/.github/workflows/catalog.yml");
    expect(catalog.jobs.deploy).toMatchObject({ needs: "build", environment: "prod", permissions: { "id-token": "write" } });
    const steps = catalog.jobs.deploy.steps as Step[];
    expect(steps.map((s) => s.name)).toEqual(["Fetch the build", "Azure credentials (OIDC)", "Upload and purge"]);
    expect(steps[1]!).toMatchObject({ uses: "azure/login@v2", with: { "client-id": "${{ vars.AZURE_DEPLOY_CLIENT_ID }}" } });
    expect(steps[2]!.run!.split("\n")).toEqual([
      'az storage blob upload-batch --auth-mode login --account-name "${{ vars.AZURE_STORAGE_ACCOUNT }}" --destination catalog --destination-path catalog --source dist --overwrite',
      'az afd endpoint purge --resource-group shop-prod --profile-name shop-prod-frontends --endpoint-name shop-prod-frontends --content-paths "/catalog/*" --no-wait',
    ]);
    // A two-letter app's container is lengthened as the engine names it; the shell sits at the container's root.
    expect((workflow("ux-ui/.github/workflows/ux.yml").jobs.deploy.steps as Step[])[2]!.run).toContain("--destination ux-ui --destination-path ux --source dist");
    expect((workflow("web-ui/.github/workflows/web.yml").jobs.deploy.steps as Step[])[2]!.run).toContain('--destination web --source dist --overwrite\naz afd endpoint purge --resource-group shop-prod --profile-name shop-prod-frontends --endpoint-name shop-prod-frontends --content-paths "/*"');
    for (const file of files) expect(file.content).not.toMatch(/client-secret|secrets\./);
  });

  it("still writes none for GCP's frontends", () => {
    const gcp = githubWorkflowFiles(planLandingZone({ ...azure, cloud: "gcp", region: "asia-northeast3" }), "landing-zone.yaml");
    expect(gcp.map((f) => f.repository)).toEqual(["orders", "web"]);
  });
});
