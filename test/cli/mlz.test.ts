import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mlz } from "./mlz-binary.js";
import { assertReplaceableAssembly } from "../../lib/cli/output-path.js";



describe("mlz (the real binary)", () => {
  it("validate accepts a valid spec", async () => {
    const run = await mlz("validate", "test/fixtures/minimal.yaml");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/valid \(aws\/caas, dev, 2 services\)/);
  });

  it("validate lists every problem with its path and exits 1, without a stack trace", async () => {
    const run = await mlz("validate", "test/fixtures/invalid.yaml");
    expect(run.code).toBe(1);
    for (const fragment of ["name: must be lowercase", 'cloud: expected one of aws | gcp | azure | kubernetes, got "oracle"', "services[0].port: must be at most 65535", "services[0].database.engine"]) {
      expect(run.stderr).toContain(fragment);
    }
    expect(run.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it("validate names a missing file", async () => {
    const run = await mlz("validate", "does-not-exist.yaml");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot read does-not-exist.yaml: ENOENT/);
  });

  it("plan prints a table of capability, implementation and settings", async () => {
    const run = await mlz("plan", "test/fixtures/minimal.yaml");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/CAPABILITY\s+IMPLEMENTATION\s+SETTINGS/);
    expect(run.stdout).toMatch(/compute\s+eks\s+version=1\.34/);
    expect(run.stdout).toMatch(/broker\s+sns-sqs\s+topics=1, queues=1/);
  });

  it("plan lists the CDK stacks with their resource counts, and warnings", async () => {
    const run = await mlz("plan", "test/fixtures/minimal.yaml");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/mini-dev-network +\d+ +\d+ +\d+ KiB/);
    expect(run.stdout).toMatch(/mini-dev-svc-orders +\d+/);
    expect(run.stdout).toMatch(/Warnings:\n {2}! dev: stateful resources are deleted with their stacks/);
    expect(run.stdout).toContain("! gateway.auth is none: every route is open to anonymous callers");
    const fast = await mlz("plan", "test/fixtures/minimal.yaml", "--no-resources");
    expect(fast.stdout).not.toContain("CDK stacks");
  });

  it("plan --json prints the plan's data", async () => {
    const run = await mlz("plan", "test/fixtures/minimal.yaml", "--json");
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout) as { name: string; decisions: { capability: string }[]; services: { name: string }[]; spec?: unknown };
    expect(plan.name).toBe("mini");
    expect(plan.services.map((s) => s.name)).toEqual(["orders", "payments"]);
    expect(plan.decisions.map((d) => d.capability)).toContain("sessions");
    expect(plan.spec).toBeUndefined();
    const { stacks, warnings } = JSON.parse(run.stdout) as { stacks: { stackName: string; resources: number }[]; warnings: string[] };
    expect(stacks.map((s) => s.stackName)).toEqual([
      "mini-dev-network",
      "mini-dev-platform",
      "mini-dev-observability",
      "mini-dev-messaging",
      "mini-dev-delivery-orders",
      "mini-dev-svc-orders",
      "mini-dev-delivery-payments",
      "mini-dev-svc-payments",
    ]);
    expect(stacks.every((s) => s.resources > 0)).toBe(true);
    expect(warnings.length).toBeGreaterThan(0);
  });

  it("plan lists the Pulumi components with their resource counts where Pulumi builds the spec, and on aws with --engine pulumi", async () => {
    type Listing = { engine: string; stacks?: unknown; components: { type: string; name: string; resources: number; resourceTypes: Record<string, number> }[] };
    const gcp = await mlz("plan", "test/fixtures/gcp.yaml", "--json");
    expect(gcp.code, gcp.stderr).toBe(0);
    const onGcp = JSON.parse(gcp.stdout) as Listing;
    expect(onGcp.engine).toBe("pulumi");
    expect(onGcp.stacks).toBeUndefined();
    const network = onGcp.components.find((c) => c.type === "msa:gcp:Network")!;
    expect(network.resources).toBeGreaterThan(0);
    expect(network.resourceTypes["gcp:compute/network:Network"]).toBe(1);
    expect(onGcp.components.map((c) => c.type)).toContain("msa:gcp:KubernetesPlatform");

    const aws = await mlz("plan", "test/fixtures/minimal.yaml", "--engine", "pulumi");
    expect(aws.code, aws.stderr).toBe(0);
    expect(aws.stdout).not.toContain("CDK stacks");
    expect(aws.stdout).toMatch(/COMPONENT +TYPE +RESOURCES/);
    expect(aws.stdout).toMatch(/mini-network +msa:aws:Network +\d+/);
    expect(aws.stdout).toMatch(/\d+ components, \d+ resources/);
  });

  it("plan --engine rejects what the engine does not implement, clearly", async () => {
    expect((await mlz("plan", "test/fixtures/minimal.yaml", "--engine", "cdk")).code).toBe(0);
    const gcp = await mlz("plan", "test/fixtures/gcp.yaml", "--engine", "cdk");
    expect(gcp.code).toBe(1);
    expect(gcp.stderr).toMatch(/compute \(asked by tier\) is not supported yet on gcp\/caas by the cdk engine/);
  });

  it("synth reports its progress phase by phase and a summary of stacks and checks, creating the output's missing parents", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "mlz-")), "build", "cdk.out");
    const run = await mlz("synth", "test/fixtures/minimal.yaml", "--out", out);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.match(/^\[\d\/4\] .* \d+\.\ds$/gm)).toHaveLength(4);
    expect(run.stdout).toMatch(/mini-dev-platform +\d+/);
    expect(run.stdout).toMatch(/✓ resources: largest \S+ has \d+ of 500/);
    expect(run.stdout).toContain("✓ no stack imports another's exports");
    expect(run.stdout).not.toContain("✗");
    expect(existsSync(join(out, "manifest.json"))).toBe(true);
    // The next synthesis may replace what this one wrote.
    expect(() => assertReplaceableAssembly(out)).not.toThrow();
  });

  it("synth refuses an output directory that is not a cloud assembly, and leaves it as it was", async () => {
    const project = mkdtempSync(join(tmpdir(), "mlz-project-"));
    writeFileSync(join(project, "package.json"), "{}");
    const run = await mlz("synth", "test/fixtures/minimal.yaml", "--out", project);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot write ${project}: it holds files that are not a cloud assembly`);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(readdirSync(project)).toEqual(["package.json"]);
  });

  it("synth writes nothing for an invalid spec", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlz-"));
    const out = join(dir, "cdk.out");
    const run = await mlz("synth", "test/fixtures/invalid.yaml", "--out", out);
    expect(run.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("mlz workflows (the real binary)", () => {
  it("writes each service's workflow into its repository's folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlz-workflows-"));
    const spec = join(dir, "landing-zone.yaml");
    writeFileSync(spec, "name: shop\nregion: eu-west-1\npipelines: { provider: github-actions, repositoryOwner: acme }\nservices:\n  - name: orders\n");
    const run = await mlz("workflows", spec, "--out", join(dir, "out"), "--aws-account", "123456789012");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("wrote   orders/.github/workflows/orders.yml");
    const workflow = readFileSync(join(dir, "out", "orders", ".github", "workflows", "orders.yml"), "utf8");
    expect(workflow).toContain("role-to-assume: arn:aws:iam::123456789012:role/shop-dev-orders-publish");
    expect(workflow).toContain("id-token: write");
  });

  it("on GCP with Cloud Build services writes the micro-frontends' workflows alone, naming the repository variables to set", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlz-workflows-"));
    const spec = join(dir, "landing-zone.yaml");
    writeFileSync(spec, "name: shop\ncloud: gcp\nregion: asia-northeast3\npipelines: { repositoryOwner: acme }\nbffs: [web]\nfrontends: { shell: web, fragments: [catalog] }\nservices:\n  - name: orders\n");
    const run = await mlz("workflows", spec, "--out", join(dir, "out"));
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(join(dir, "out")).sort()).toEqual(["catalog-ui", "web-ui"]);
    expect(readFileSync(join(dir, "out", "catalog-ui", ".github", "workflows", "catalog.yml"), "utf8")).toContain('gcloud compute url-maps invalidate-cdn-cache shop-dev-frontends --path "/catalog/*" --async');
    expect(run.stdout).toContain(
      "In each micro-frontend's repository set the variables GCP_WORKLOAD_IDENTITY_PROVIDER (the landing zone's githubWorkloadIdentityProvider output), GCP_DEPLOY_SERVICE_ACCOUNT (the app's entry of the frontendDeployAccounts output), GCP_FRONTEND_BUCKET (the app's entry of the frontendBuckets output).",
    );
  });

  it("on GKE with GitHub Actions services writes each service's workflow and names its repository variables, on VMs the group replace, and on App Engine the version deploy", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlz-workflows-"));
    const spec = join(dir, "landing-zone.yaml");
    writeFileSync(spec, "name: shop\ncloud: gcp\nregion: asia-northeast3\ntier: caas\npipelines: { provider: github-actions, repositoryOwner: acme }\nservices:\n  - name: orders\n");
    const run = await mlz("workflows", spec, "--out", join(dir, "out"));
    expect(run.code, run.stderr).toBe(0);
    const workflow = readFileSync(join(dir, "out", "orders", ".github", "workflows", "orders.yml"), "utf8");
    expect(workflow).toContain("service_account: ${{ vars.GCP_DEPLOY_SERVICE_ACCOUNT }}");
    expect(workflow).toContain("gcloud secrets versions add shop-dev-orders-release --data-file=-");
    expect(run.stdout).toContain(
      "In each service's repository set the variables GCP_WORKLOAD_IDENTITY_PROVIDER (the landing zone's githubWorkloadIdentityProvider output), GCP_ARTIFACT_REGISTRY (the service's entry of the artifactRegistries output), GCP_PUBLISH_SERVICE_ACCOUNT (the service's entry of the publishServiceAccounts output), GCP_DEPLOY_SERVICE_ACCOUNT (the service's entry of the deployServiceAccounts output).",
    );
    // On VMs the deploy job replaces the service's planned group itself.
    writeFileSync(spec, "name: shop\ncloud: gcp\nregion: asia-northeast3\ntier: iaas\npipelines: { provider: github-actions, repositoryOwner: acme }\nservices:\n  - name: orders\n");
    const vms = await mlz("workflows", spec, "--out", join(dir, "vms"));
    expect(vms.code, vms.stderr).toBe(0);
    expect(readFileSync(join(dir, "vms", "orders", ".github", "workflows", "orders.yml"), "utf8")).toContain('gcloud compute instance-groups managed rolling-action replace "shop-dev-orders-vms" --region "asia-northeast3"');
    writeFileSync(spec, "name: shop\ncloud: gcp\nregion: asia-northeast3\ntier: paas\npipelines: { provider: github-actions, repositoryOwner: acme }\nservices:\n  - name: orders\n");
    // On App Engine it fetches the app.yaml the engine stored, then deploys and promotes the default service itself.
    const appEngine = await mlz("workflows", spec, "--out", join(dir, "app-engine"));
    expect(appEngine.code, appEngine.stderr).toBe(0);
    const appWorkflow = readFileSync(join(dir, "app-engine", "orders", ".github", "workflows", "orders.yml"), "utf8");
    expect(appWorkflow).toContain('gcloud secrets versions access latest --secret "shop-dev-orders-appyaml" > app.yaml');
    expect(appWorkflow).toContain('gcloud app services set-traffic "default" --splits "$VERSION=1" --quiet');
  });

  it("on AWS with CodePipeline services (the shop example) writes the three apps' workflows and no service workflow", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlz-workflows-"));
    const run = await mlz("workflows", "examples/shop/landing-zone.yaml", "--out", join(dir, "out"), "--aws-account", "123456789012");
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(join(dir, "out")).sort()).toEqual(["cart-ui", "catalog-ui", "web-ui"]);
    for (const app of ["web", "catalog", "cart"]) {
      expect(readdirSync(join(dir, "out", `${app}-ui`, ".github", "workflows"))).toEqual([`${app}.yml`]);
      // The role whose trust names this repository's environment (the frontends stack's deploy role).
      expect(readFileSync(join(dir, "out", `${app}-ui`, ".github", "workflows", `${app}.yml`), "utf8")).toContain(`role-to-assume: arn:aws:iam::123456789012:role/shop-prod-ui-${app}-deploy`);
    }
    expect(run.stdout).toContain('3 files for 3 repositories');
    expect(run.stdout).toContain('Create the GitHub environment "prod" with required reviewers in each repository.');
  });

  it("refuses --aws-account that is not an account id when writing the apps' workflows alone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlz-workflows-"));
    const run = await mlz("workflows", "examples/shop/landing-zone.yaml", "--out", join(dir, "out"), "--aws-account", "12345");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--aws-account "12345" is not an AWS account id. Fix: pass the 12 digits of the account');
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  it("on an existing cluster writes each micro-frontend's workflow and GitOps deploy/ folder, keeping a released kustomization", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlz-workflows-"));
    const spec = join(dir, "landing-zone.yaml");
    writeFileSync(spec, "name: shop\ncloud: kubernetes\nregion: local\npipelines: { repositoryOwner: acme }\nbffs: [web]\nfrontends: { shell: web }\nservices:\n  - name: orders\n");
    const first = await mlz("workflows", spec, "--out", join(dir, "out"));
    expect(first.code, first.stderr).toBe(0);
    for (const path of ["web-ui/.github/workflows/web.yml", "web-ui/deploy/kustomization.yaml", "web-ui/deploy/deployment.yaml"]) expect(first.stdout).toContain(`wrote   ${path}`);
    const kustomization = join(dir, "out", "web-ui", "deploy", "kustomization.yaml");
    writeFileSync(kustomization, "released digest\n");
    const second = await mlz("workflows", spec, "--out", join(dir, "out"));
    expect(second.stdout).toContain("kept    web-ui/deploy/kustomization.yaml");
    expect(readFileSync(kustomization, "utf8")).toBe("released digest\n");
  });

  it("names the file standing where the output directory must go, with the fix and no stack trace", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlz-workflows-"));
    const spec = join(dir, "landing-zone.yaml");
    writeFileSync(spec, "name: shop\ncloud: kubernetes\nregion: local\npipelines: { repositoryOwner: acme }\nservices:\n  - name: orders\n");
    writeFileSync(join(dir, "out"), "a file");
    const run = await mlz("workflows", spec, "--out", join(dir, "out"));
    expect(run.code).toBe(1);
    // mkdir -p answers EEXIST or ENOTDIR depending on how deep the path runs past the file.
    expect(run.stderr).toMatch(new RegExp(`^cannot write ${join(dir, "out")}/orders/\\S+: (EEXIST|ENOTDIR): [^,]+, mkdir '${join(dir, "out")}[^']*'\\. Fix: a file stands where the path needs a directory`));
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it("writes nothing and names the fix when the spec builds no GitHub pipeline", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlz-workflows-"));
    const run = await mlz("workflows", "test/fixtures/minimal.yaml", "--out", join(dir, "out"));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/pipelines.perService is false.*Fix: set pipelines.perService: true/);
    expect(existsSync(join(dir, "out"))).toBe(false);
  });
});
