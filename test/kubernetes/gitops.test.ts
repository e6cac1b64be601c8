import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { ARGO_CD_CHART, gitOpsAddOn, gitOpsDeployment, gitOpsFiles } from "../../lib/kubernetes/gitops.js";
import { planLandingZone } from "../../lib/plan/planner.js";
import { gitOpsImageName, serviceWorkflow } from "../../lib/plan/workflows.js";
import { checkAddOn } from "./addon-helpers.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";

const spec: LandingZoneInput = {
  name: "shop",
  cloud: "kubernetes",
  region: "local",
  environment: "prod",
  gateway: { auth: "none" },
  auth: { sessions: "redis", tokens: "none" },
  pipelines: { repositoryOwner: "acme" },
  bffs: ["web"],
  services: [{ name: "orders", secrets: ["SIGNING_KEY"] }, { name: "payments", repository: "payments-service" }],
};
const plan = planLandingZone(spec, { engine: "pulumi" });

describe("GitOps (Argo CD) on an existing cluster", () => {
  const addOn = gitOpsAddOn(plan)!;
  type Obj = { kind: string; metadata: { name: string; namespace: string }; spec: Record<string, unknown> };
  const objects = addOn.manifests as unknown as Obj[];

  it("installs a pinned Argo CD with no public endpoint, its projects and Applications valid against Argo CD's schema", () => {
    checkAddOn(addOn);
    expect(addOn.helmReleases).toEqual([expect.objectContaining({ chart: "argo-cd", version: ARGO_CD_CHART.version, namespace: "argocd", createNamespace: true })]);
    expect(addOn.helmReleases[0]!.values).toMatchObject({ server: { service: { type: "ClusterIP" } }, dex: { enabled: false } });
  });

  it("gives each service a project limited to its repository, Deployments and the workloads namespace, and an Application syncing deploy/", () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "AppProject/shop-orders",
      "Application/shop-orders",
      "AppProject/shop-payments",
      "Application/shop-payments",
      "AppProject/shop-web",
      "Application/shop-web",
    ]);
    const project = objects.find((o) => o.kind === "AppProject" && o.metadata.name === "shop-payments")!;
    expect(project.spec).toMatchObject({
      sourceRepos: ["https://github.com/acme/payments-service.git"],
      destinations: [{ server: "https://kubernetes.default.svc", namespace: "shop" }],
      clusterResourceWhitelist: [],
      namespaceResourceWhitelist: [{ group: "apps", kind: "Deployment" }],
    });
    const application = objects.find((o) => o.kind === "Application" && o.metadata.name === "shop-payments")!;
    expect(application.spec).toMatchObject({
      project: "shop-payments",
      source: { repoURL: "https://github.com/acme/payments-service.git", targetRevision: "main", path: "deploy" },
      destination: { namespace: "shop" },
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    });
  });

  it("is absent without pipelines, and adding a service adds exactly its project and Application", () => {
    expect(gitOpsAddOn(planLandingZone({ ...spec, pipelines: { perService: false } }))).toBeUndefined();
    const more = gitOpsAddOn(planLandingZone({ ...spec, services: [...spec.services!, { name: "shipping" }] }, { engine: "pulumi" }))!;
    const names = (a: typeof addOn) => a.manifests.map((m) => `${m.kind}/${m.metadata.name}`);
    expect(names(more).filter((n) => !names(addOn).includes(n))).toEqual(["AppProject/shop-shipping", "Application/shop-shipping"]);
    for (const manifest of addOn.manifests) expect(more.manifests).toContainEqual(manifest);
  });

  it("writes the service's deploy/ folder: its Deployment (with the landing zone's secret keys) and a kustomization of its image", () => {
    const orders = plan.delivery!.services[0]!;
    const files = Object.fromEntries(gitOpsFiles(plan, orders).map((f) => [f.path, f.content]));
    expect(Object.keys(files)).toEqual(["deploy/kustomization.yaml", "deploy/deployment.yaml"]);
    expect(parse(files["deploy/kustomization.yaml"]!)).toEqual({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources: ["deployment.yaml"],
      images: [{ name: "shop-orders", newName: "ghcr.io/acme/orders", newTag: "latest" }],
    });
    const deployment = parse(files["deploy/deployment.yaml"]!) as { kind: string; spec: { template: { spec: { containers: { image: string; env: { name: string }[] }[] } } } };
    expect(deployment.kind).toBe("Deployment");
    const container = deployment.spec.template.spec.containers[0]!;
    expect(container.image).toBe("shop-orders:latest");
    expect(container.env.map((e) => e.name)).toEqual(["SIGNING_KEY", "SESSION_STORE_PASSWORD"]);
    expect(gitOpsDeployment(plan, plan.services[0]!)).toEqual(deployment);
  });

  describe("a release applies the pushed digest to the Deployment", () => {
    const digest = `ghcr.io/acme/orders@sha256:${"c".repeat(64)}`;
    /** The Deployment's image once the release workflow ran its `kustomize edit set image` on the generated deploy/ folder. */
    const released = (image?: string) => {
      const zone = planLandingZone({ ...spec, services: [{ ...spec.services![0]!, ...(image ? { image } : {}) }, spec.services![1]!] }, { engine: "pulumi" });
      const orders = zone.delivery!.services[0]!;
      const files = Object.fromEntries(gitOpsFiles(zone, orders).map((f) => [f.path, f.content]));
      const edit = serviceWorkflow(zone, orders).jobs.deploy.steps.at(-1)!.run!.split("\n").find((line) => line.startsWith("kustomize edit set image "))!;
      const name = edit.match(/^kustomize edit set image (\S+)="\$IMAGE"$/)![1]!;
      // What `kustomize edit set image <name>=<image>@<digest>` writes: the entry of that name now points at the digest.
      const generated = parse(files["deploy/kustomization.yaml"]!) as { images: { name: string }[] };
      const [newName, sha] = digest.split("@");
      const kustomization = { ...generated, images: [...generated.images.filter((i) => i.name !== name), { name, newName: newName!, digest: sha! }] };
      const container = (deployment: string) => (parse(deployment) as { spec: { template: { spec: { containers: { name: string; image: string }[] } } } }).spec.template.spec.containers.find((c) => c.name === "orders")!.image;
      return { name, entries: generated.images.map((i) => i.name), kustomization, deployment: files["deploy/deployment.yaml"]!, container, planned: zone.services[0]!.image };
    };

    it.each([
      ["without services[].image", undefined],
      ["with services[].image", "ghcr.io/acme-shop/orders:1.4.0"],
    ])("%s, the kustomization and the release name the image the Deployment runs", (_, image) => {
      const release = released(image);
      expect(release.container(release.deployment)).toBe(release.planned);
      expect(release.name).toBe(image ? "ghcr.io/acme-shop/orders" : "shop-orders");
      expect(release.entries).toEqual([release.name]);
    });

    const kubectl = spawnSync("kubectl", ["version", "--client"]).status === 0;
    it.runIf(kubectl).each([undefined, "ghcr.io/acme-shop/orders:1.4.0"])("builds (kubectl kustomize) the Deployment on the digest, image %s", (image) => {
      const release = released(image);
      const dir = mkdtempSync(join(tmpdir(), "msa-gitops-"));
      mkdirSync(join(dir, "deploy"));
      writeFileSync(join(dir, "deploy", "kustomization.yaml"), stringify(release.kustomization));
      writeFileSync(join(dir, "deploy", "deployment.yaml"), release.deployment);
      const built = spawnSync("kubectl", ["kustomize", join(dir, "deploy")], { encoding: "utf8" });
      rmSync(dir, { recursive: true, force: true });
      expect(built.status, built.stderr).toBe(0);
      expect(release.container(built.stdout)).toBe(digest);
    });

    it("names an image without its tag or digest, keeping a registry's port", () => {
      expect(gitOpsImageName({ image: "shop-orders:latest" })).toBe("shop-orders");
      expect(gitOpsImageName({ image: "registry.local:5000/acme/orders" })).toBe("registry.local:5000/acme/orders");
      expect(gitOpsImageName({ image: "registry.local:5000/acme/orders:1.4@sha256:" + "d".repeat(64) })).toBe("registry.local:5000/acme/orders");
    });
  });
});
