import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { pushOnce } from "../../lib/plan/image-push.js";
import { planLandingZone } from "../../lib/plan/planner.js";
import { frontendAppManifests, FRONTEND_BUNDLE_BASE_IMAGE, FRONTEND_BUNDLE_DIRECTORY } from "../../lib/kubernetes/frontends.js";
import { frontendGitOpsFiles } from "../../lib/kubernetes/gitops.js";
import type { ManifestObject } from "../../lib/kubernetes/types.js";
import { AZURE_FRONTEND_VARIABLES, frontendWorkflowFiles, githubWorkflowFiles, type Workflow } from "../../lib/plan/workflows.js";
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

  it("reads exactly the repository variables `mlz workflows` names, each set from a stack output or the subscription", () => {
    for (const app of ["web-ui/.github/workflows/web.yml", "catalog-ui/.github/workflows/catalog.yml"]) {
      const read = new Set(JSON.stringify(workflow(app).jobs.deploy).match(/vars\.[A-Z_]+/g)!.map((v) => v.slice("vars.".length)));
      expect([...read].sort()).toEqual(Object.keys(AZURE_FRONTEND_VARIABLES).sort());
    }
    // Not the BFFs' deployClientIds: the web BFF's identity trusts repository web, not the web-ui app's.
    expect(AZURE_FRONTEND_VARIABLES.AZURE_DEPLOY_CLIENT_ID).toBe("the app's entry of the frontendDeployClientIds output");
  });
});

describe("micro-frontend workflows on GCP", () => {
  const plan = planLandingZone({ ...azure, cloud: "gcp", region: "asia-northeast3" });
  const files = frontendWorkflowFiles(plan, "landing-zone.yaml");
  const workflow = (app: string) => parse(files.find((f) => f.path === `.github/workflows/${app}.yml`)!.content) as Workflow;

  it("writes one per app into its own repository, also beside GitHub-built services", () => {
    expect(files.map((f) => `${f.repository}/${f.path}`)).toEqual(["web-ui/.github/workflows/web.yml", "catalog-ui/.github/workflows/catalog.yml", "ux-ui/.github/workflows/ux.yml"]);
    expect(githubWorkflowFiles(plan, "landing-zone.yaml").map((f) => f.repository)).toEqual(["orders", "web", "web-ui", "catalog-ui", "ux-ui"]);
  });

  it("signs in as the app's deploy account through Workload Identity Federation, syncs only its bucket's prefix and invalidates only its paths", () => {
    const catalog = workflow("catalog");
    expect(catalog.jobs.build.steps.map((s) => s.name)).toEqual(["Check out", "Set up Node.js", "Install, test and build", "Keep the build"]);
    expect(catalog.jobs.deploy).toMatchObject({ needs: "build", environment: "prod", permissions: { "id-token": "write" } });
    const steps = catalog.jobs.deploy.steps as Step[];
    expect(steps.map((s) => s.name)).toEqual(["Fetch the build", "Google Cloud credentials (Workload Identity Federation)", "Upload and invalidate"]);
    expect(steps[1]).toEqual({
      name: "Google Cloud credentials (Workload Identity Federation)",
      uses: "google-github-actions/auth@v2",
      with: { workload_identity_provider: "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}", service_account: "${{ vars.GCP_DEPLOY_SERVICE_ACCOUNT }}" },
    });
    // The URL map's name is the plan's, the one FrontendHosting gives it.
    expect(plan.frontends!.gcp.urlMapName).toBe("shop-prod-frontends");
    expect(steps[2]!.run!.split("\n")).toEqual([
      'gcloud storage rsync dist "gs://${{ vars.GCP_FRONTEND_BUCKET }}/catalog/" --recursive --delete-unmatched-destination-objects',
      'gcloud compute url-maps invalidate-cdn-cache shop-prod-frontends --path "/catalog/*" --async',
    ]);
    expect((workflow("web").jobs.deploy.steps as Step[])[2]!.run!.split("\n")).toEqual([
      'gcloud storage rsync dist "gs://${{ vars.GCP_FRONTEND_BUCKET }}/" --recursive --delete-unmatched-destination-objects',
      'gcloud compute url-maps invalidate-cdn-cache shop-prod-frontends --path "/*" --async',
    ]);
    for (const file of files) expect(file.content).not.toMatch(/credentials_json|secrets\./);
  });

  it("names the missing owner: without it no app's account trusts any repository", () => {
    const ownerless = planLandingZone({ ...azure, cloud: "gcp", region: "asia-northeast3", pipelines: { perService: false } });
    expect(() => frontendWorkflowFiles(ownerless, "landing-zone.yaml")).toThrow(/pipelines.repositoryOwner is undefined.*Fix: set pipelines.repositoryOwner/);
  });
});

describe("micro-frontend releases on an existing cluster (GitOps)", () => {
  const spec: LandingZoneInput = { ...azure, cloud: "kubernetes", region: "local", pipelines: { repositoryOwner: "Acme" } };
  const plan = planLandingZone(spec);
  const files = githubWorkflowFiles(plan, "landing-zone.yaml", {}, () => [], (app) => frontendGitOpsFiles(plan, app));
  const file = (path: string) => files.find((f) => `${f.repository}/${f.path}` === path)!;

  it("writes each app's workflow and deploy/ folder into its own repository", () => {
    expect(files.filter((f) => f.repository.endsWith("-ui")).map((f) => `${f.repository}/${f.path}`)).toEqual(
      ["web", "catalog", "ux"].flatMap((app) => [`${app}-ui/.github/workflows/${app}.yml`, `${app}-ui/deploy/kustomization.yaml`, `${app}-ui/deploy/deployment.yaml`]),
    );
  });

  it("builds, tests, pushes the bundle image by digest, then commits the digest for Argo CD", () => {
    const workflow = parse(file("catalog-ui/.github/workflows/catalog.yml").content) as Workflow;
    const build = workflow.jobs.build;
    expect(build.permissions).toEqual({ contents: "read", packages: "write" });
    expect(build.outputs).toEqual({ image: "${{ steps.push.outputs.image }}" });
    expect(build.steps.map((s) => s.name)).toEqual(["Check out", "Set up Node.js", "Install, test and build", "GitHub registry login", "Build and push the bundle image"]);
    const push = build.steps[4]!;
    expect(push.env).toEqual({ IMAGE_REPOSITORY: "ghcr.io/acme/catalog-ui" });
    // The build output is the image's whole context, copied where the app's init container reads it (/site).
    expect(push.run!.split("\n")).toEqual([
      `docker build --tag "$IMAGE_REPOSITORY:$GITHUB_SHA" --file - dist <<'DOCKERFILE'`,
      `FROM ${FRONTEND_BUNDLE_BASE_IMAGE}`,
      `COPY . ${FRONTEND_BUNDLE_DIRECTORY}/`,
      "DOCKERFILE",
      ...pushOnce('"$IMAGE_REPOSITORY:$GITHUB_SHA"').split("\n"),
      `echo "image=$(docker inspect --format '{{index .RepoDigests 0}}' "$IMAGE_REPOSITORY:$GITHUB_SHA")" >> "$GITHUB_OUTPUT"`,
    ]);
    const deploy = workflow.jobs.deploy;
    expect(deploy).toMatchObject({ needs: "build", environment: "prod", permissions: { contents: "write" }, env: { IMAGE: "${{ needs.build.outputs.image }}" } });
    expect(deploy.steps.map((s) => s.name)).toEqual(["Check out", "Release through Git (Argo CD syncs deploy/)"]);
    expect(deploy.steps[1]!.run!.split("\n").slice(0, 2)).toEqual(["cd deploy", 'kustomize edit set image shop-catalog-ui="$IMAGE"']);
    expect(deploy.steps[1]!.run).toContain('git commit --all --message "Release catalog micro-frontend $IMAGE"');
    expect(file("catalog-ui/.github/workflows/catalog.yml").content).not.toMatch(/shop-web-ui|shop-ux-ui|web-ui|ux-ui/);
  });

  it("keeps the released digest and holds the very Deployment the landing zone would, naming the image the workflow swaps", () => {
    const kustomization = file("catalog-ui/deploy/kustomization.yaml");
    expect(kustomization.keepExisting).toBe(true);
    expect(parse(kustomization.content)).toEqual({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources: ["deployment.yaml"],
      images: [{ name: "shop-catalog-ui", newName: "ghcr.io/acme/catalog-ui", newTag: "latest" }],
    });
    const deployment = parse(file("catalog-ui/deploy/deployment.yaml").content) as ManifestObject;
    const app = plan.frontends!.fragments[0]!;
    expect(deployment).toEqual(JSON.parse(JSON.stringify(frontendAppManifests(plan, app, { className: "shop-nginx" }).find((o) => o.kind === "Deployment"))));
    expect(JSON.stringify(deployment)).toContain('"image":"shop-catalog-ui:latest"');
    expect(deployment.metadata).toMatchObject({ name: "catalog-ui", namespace: "shop-frontends" });
  });

  it("refuses a cluster without GitOps releases, naming the fix", () => {
    const noPipelines = planLandingZone({ ...spec, pipelines: { perService: false, repositoryOwner: "acme" } });
    expect(() => frontendWorkflowFiles(noPipelines, "landing-zone.yaml")).toThrow(
      "frontends on an existing cluster are released through Argo CD, which the landing zone installs only with pipelines.perService. Fix: set pipelines.perService: true and pipelines.repositoryOwner",
    );
  });
});
