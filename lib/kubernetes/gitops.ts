import { Application } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application";
import { AppProject } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject";
import { stringify } from "yaml";
import { repositoryFullName, type ServiceDeliveryPlan, type SourceRepositoryPlan } from "../plan/delivery.js";
import type { FrontendAppPlan } from "../plan/frontends.js";
import { GITOPS_DIRECTORY, gitOpsImageName, type GeneratedFile } from "../plan/workflows.js";
import type { LandingZonePlan, ServicePlan } from "../plan/types.js";
import { clusterDataCaConfigMap, clusterDatabaseSecretEnv, clusterDatabaseServices } from "./service-databases.js";
import { frontendDeployment, frontendImageName, frontendNamespace, frontendObjectName } from "./frontends.js";
import { MANAGED_BY } from "./labels.js";
import { kafkaClientTls } from "./kafka.js";
import { workloadNamespace } from "./namespace.js";
import { renderYaml, validatedManifest } from "./render.js";
import { startsSagas } from "./saga-workflows.js";
import { clusterSessionCaSecret } from "./session-store.js";
import type { AddOn, ManifestObject } from "./types.js";
import { PLATFORM_ENV, serviceWorkload } from "./workload.js";

/** Argo CD (chart 8.5.0 runs Argo CD 3.1), pinned. */
export const ARGO_CD_CHART = { chart: "argo-cd", repository: "https://argoproj.github.io/argo-helm", version: "8.5.0" } as const;
export const ARGO_CD_NAMESPACE = "argocd";

const IN_CLUSTER = "https://kubernetes.default.svc";

/** Secret keys the landing zone adds to a service's Secret besides its declared `secrets`, in the order it adds them. */
export function landingZoneSecretKeys(plan: LandingZonePlan, service: Pick<ServicePlan, "name">): string[] {
  const owner = clusterDatabaseServices(plan).find((s) => s.name === service.name);
  return [
    ...(plan.sessions ? [PLATFORM_ENV.sessionStorePassword] : []),
    // The password of the service's own database (and a document store's URI).
    ...(owner ? Object.keys(clusterDatabaseSecretEnv(plan, owner, "")) : []),
  ];
}

/** `https://github.com/<owner>/<repo>.git`, the source Argo CD reads. */
export function gitOpsRepositoryUrl(delivery: { readonly source: SourceRepositoryPlan }): string {
  return `https://github.com/${repositoryFullName(delivery.source)}.git`;
}

/** True when Argo CD releases the micro-frontends too: on an existing cluster whose services it releases. */
export function frontendsByGitOps(plan: LandingZonePlan): boolean {
  return plan.frontends !== undefined && (plan.delivery?.services.some((s) => s.deploy.kind === "gitops") ?? false);
}

/** An AppProject that may read only `repoURL` and deploy only Deployments into `namespace`, and the Application syncing its `deploy/` folder. */
function gitOpsApplication(name: string, description: string, source: SourceRepositoryPlan, namespace: string, labels: Record<string, string>): ManifestObject[] {
  const repoURL = gitOpsRepositoryUrl({ source });
  return [
    validatedManifest(
      new AppProject({
        metadata: { name, namespace: ARGO_CD_NAMESPACE, labels },
        spec: {
          description: `${description}: only its repository, only Deployments, only namespace ${namespace}`,
          sourceRepos: [repoURL],
          destinations: [{ server: IN_CLUSTER, namespace }],
          clusterResourceWhitelist: [],
          namespaceResourceWhitelist: [{ group: "apps", kind: "Deployment" }],
        },
      }),
    ),
    validatedManifest(
      new Application({
        metadata: { name, namespace: ARGO_CD_NAMESPACE, labels },
        spec: {
          project: name,
          source: { repoURL, targetRevision: source.branch, path: GITOPS_DIRECTORY },
          destination: { server: IN_CLUSTER, namespace },
          syncPolicy: { automated: { prune: true, selfHeal: true }, retry: { limit: 5, backoff: { duration: "10s", factor: 2, maxDuration: "3m" } } },
        },
      }),
    ),
  ];
}

/**
 * GitOps delivery on an existing cluster: Argo CD, and per service an AppProject that may read
 * only the service's repository and deploy only Deployments into the workloads namespace, with an
 * Application that syncs the repository's `deploy/` folder (pruning, self-healing); the same per
 * micro-frontend app, into the frontends namespace. Undefined unless the plan delivers by GitOps.
 */
export function gitOpsAddOn(plan: LandingZonePlan): AddOn | undefined {
  const delivery = plan.delivery;
  if (!delivery || !delivery.services.some((s) => s.deploy.kind === "gitops")) return undefined;
  const labels = { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY };
  const namespace = workloadNamespace(plan);
  const apps = frontendsByGitOps(plan) ? [plan.frontends!.shell, ...plan.frontends!.fragments] : [];
  const manifests: ManifestObject[] = [
    ...delivery.services.flatMap((service) => gitOpsApplication(`${plan.name}-${service.service}`, service.service, service.source, namespace, labels)),
    // Named after the app's objects (`<app>-ui`), apart from the services' projects.
    ...apps.flatMap((app) => gitOpsApplication(`${plan.name}-${frontendObjectName(app)}`, `${app.name} micro-frontend`, app.source, frontendNamespace(plan), labels)),
  ];
  return {
    name: "argo-cd",
    namespace: ARGO_CD_NAMESPACE,
    helmReleases: [
      {
        name: "argocd",
        namespace: ARGO_CD_NAMESPACE,
        chart: ARGO_CD_CHART.chart,
        repository: ARGO_CD_CHART.repository,
        version: ARGO_CD_CHART.version,
        createNamespace: true,
        values: {
          global: { networkPolicy: { create: true } },
          // Reached with `kubectl port-forward` or an ingress the operator adds; no public endpoint by default.
          server: { service: { type: "ClusterIP" } },
          dex: { enabled: false },
          configs: { params: { "server.insecure": false } },
        },
      },
    ],
    manifests,
    dependsOn: [],
  };
}

/**
 * The service's Deployment as Argo CD applies it: the one `serviceWorkload` renders, reading the
 * Secret with the landing zone's extra keys and mounting its data store's and session store's CAs and its Kafka client certificate, so Git holds the same
 * object the landing zone would.
 */
export function gitOpsDeployment(plan: LandingZonePlan, service: ServicePlan): ManifestObject {
  const secrets = [...service.secrets, ...landingZoneSecretKeys(plan, service)];
  const dataCaConfigMap = clusterDataCaConfigMap(plan, service);
  const sessionCaSecret = clusterSessionCaSecret(plan);
  const kafkaTls = kafkaClientTls(plan, service);
  const workload = serviceWorkload(
    plan,
    { ...service, secrets },
    {
      ...(secrets.length > 0 ? { secretName: `${service.name}-secrets` } : {}),
      ...(dataCaConfigMap ? { dataCaConfigMap } : {}),
      ...(sessionCaSecret ? { sessionCaSecret } : {}),
      ...(kafkaTls ? { kafkaTls } : {}),
      ...(startsSagas(plan, service.name) ? { kubernetesApiToken: true } : {}),
    },
  );
  return workload.find((o) => o.kind === "Deployment")!;
}

/** The `deploy/` folder of a service's repository: its Deployment and a kustomization whose image the workflow updates. */
export function gitOpsFiles(plan: LandingZonePlan, delivery: ServiceDeliveryPlan): GeneratedFile[] {
  const service = plan.services.find((s) => s.name === delivery.service)!;
  return deployFolder(delivery.source, gitOpsImageName(service), gitOpsDeployment(plan, service));
}

/**
 * The `deploy/` folder of a micro-frontend app's repository: its Deployment (the one the landing
 * zone would render, with the planned image) and a kustomization whose bundle image the workflow updates.
 */
export function frontendGitOpsFiles(plan: LandingZonePlan, app: FrontendAppPlan): GeneratedFile[] {
  return deployFolder(app.source, frontendImageName(plan, app), frontendDeployment(plan, app));
}

function deployFolder(source: SourceRepositoryPlan, imageName: string, deployment: ManifestObject): GeneratedFile[] {
  const kustomization = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    resources: ["deployment.yaml"],
    // The release workflow replaces this entry with the pushed digest.
    images: [{ name: imageName, newName: `ghcr.io/${repositoryFullName(source).toLowerCase()}`, newTag: "latest" }],
  };
  return [
    // The release workflow commits digests into it, so regenerating must not reset them.
    { repository: source.name, path: `${GITOPS_DIRECTORY}/kustomization.yaml`, content: stringify(kustomization, { lineWidth: 0 }), keepExisting: true },
    { repository: source.name, path: `${GITOPS_DIRECTORY}/deployment.yaml`, content: renderYaml([deployment]) },
  ];
}
