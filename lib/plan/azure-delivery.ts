/**
 * Azure delivery: per service an Azure DevOps pipeline (azure-pipelines.yml, written by
 * `mlz workflows --azure-pipelines`) whose service connection federates to a user-assigned identity
 * of its own, which may push to the registry and change only its own workload; or, with
 * `pipelines.provider: github-actions`, a GitHub workflow whose deploy job (its repository's environment)
 * federates to that identity, which then only deploys, while its build job (the branch) pushes as a
 * publish identity of its own.
 */
import { stringify } from "yaml";
import type { LandingZoneSpec } from "../spec/types.js";
import { APP_SERVICE_SERVICE_CONTAINER } from "./app-service-proxy.js";
import { azureUniqueName } from "./azure.js";
import { appConfigurationStoreId, recordReleaseScript, releaseRecordKey, releaseStoreName, scaleSetReleaseScript, scaleSetReleaseTimeoutMinutes } from "./azure-release.js";
import { DELIVERY_SETTINGS, GITHUB_OIDC, type DeliveryPlan } from "./delivery.js";
import { pushOnce } from "./image-push.js";
import { physicalName } from "./naming.js";
import { PlanError } from "./planner.js";
import type { LandingZonePlan } from "./types.js";

/** Token audience of every federated service connection (Entra's token exchange). */
export const AZURE_DEVOPS_AUDIENCE = "api://AzureADTokenExchange";

/** Pinned tasks and agent image of the generated pipelines. */
export const AZURE_PIPELINES = {
  vmImage: "ubuntu-latest",
  cliTask: "AzureCLI@2",
  /** Name of the federated credential on each deploy identity. */
  credentialName: "azure-devops",
} as const;

/**
 * Azure actions of an AKS deploy identity on its cluster (a custom role): run kubectl through AKS run
 * command, which reaches a private API server from a hosted agent and runs as the caller's Entra
 * identity, so Kubernetes RBAC still limits it to its own Deployment.
 */
export const AKS_RUN_COMMAND_ACTIONS = [
  "Microsoft.ContainerService/managedClusters/read",
  "Microsoft.ContainerService/managedClusters/runcommand/action",
  "Microsoft.ContainerService/managedClusters/commandResults/read",
] as const;

/** Shape of an Azure subscription id (a GUID, as `az account show --query id` prints it). */
export const AZURE_SUBSCRIPTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The resource group every Azure landing zone creates (the pipelines and the engine agree on it). */
export function azureResourceGroupName(zone: string, environment: string): string {
  return `${zone}-${environment}`;
}

/** The blob container of a micro-frontend app: its name, lengthened to the three characters a container name needs. */
export function frontendContainerName(app: string): string {
  return app.length >= 3 ? app : `${app}-ui`;
}

/** Name of a service's scale set, with or without a pipeline (which reimages it by this name), so toggling pipelines never replaces it. */
export function scaleSetName(zone: string, environment: string, service: string): string {
  return physicalName("azureResource", zone, environment, service, "vmss");
}

/** Name of the micro-frontends' Front Door profile and of its endpoint. */
export function frontDoorName(zone: string, environment: string): string {
  return `${zone}-${environment}-frontends`;
}

/** What a service's deploy stage changes, and nothing else. */
export type AzureDeployTarget =
  | { readonly kind: "aks"; readonly clusterName: string; readonly namespace: string; readonly deployment: string; readonly container: string }
  | { readonly kind: "app-service"; readonly service: string }
  | { readonly kind: "scale-set"; readonly scaleSet: string };

/** A federated credential: only tokens of this issuer and subject sign in as the identity. */
export interface AzureFederationPlan {
  /** Name of the credential on the identity. */
  readonly name: string;
  readonly issuer: string;
  readonly subject: string;
  readonly audience: string;
}

export interface AzureServiceDeliveryPlan {
  readonly service: string;
  /** The service's ACR repository. */
  readonly repository: string;
  /** User-assigned identity the deploy stage (service connection, or GitHub deploy job) signs in as. */
  readonly identityName: string;
  /** Azure DevOps service connection of this service's pipeline; undefined with GitHub Actions. */
  readonly serviceConnection?: string;
  /** Federated credential of the identity: only this service connection's (or GitHub environment's) tokens are accepted. */
  readonly federation: AzureFederationPlan;
  /**
   * With GitHub Actions, the identity the build job pushes as (AcrPush only), trusting the branch: the
   * build runs without the environment's approval, so it must not sign in as the deploy identity.
   */
  readonly publish?: { readonly identityName: string; readonly federation: AzureFederationPlan };
  /** Environment of the deploy stage (Azure DevOps, or the GitHub repository's); its approval check is the prod approval. */
  readonly environment: string;
  readonly approval: boolean;
  readonly target: AzureDeployTarget;
  /** Key of the service's release record in the landing zone's App Configuration store, written after each successful rollout. */
  readonly releaseKey: string;
}

export interface AzureDeliveryPlan {
  /** Where the pipelines run: Azure DevOps (`mlz workflows --azure-pipelines`) or GitHub Actions (`mlz workflows`). */
  readonly runner: "azure-devops" | "github-actions";
  /** Azure DevOps organization and project; undefined with GitHub Actions. */
  readonly organization?: string;
  readonly project?: string;
  readonly resourceGroup: string;
  readonly branch: string;
  readonly testCommand: string;
  readonly services: readonly AzureServiceDeliveryPlan[];
}

/**
 * The Azure side of delivery: Azure DevOps pipelines (native provider with `pipelines.azureDevOps`) or
 * GitHub workflows (github-actions provider with `pipelines.repositoryOwner`); undefined otherwise.
 */
export function planAzureDelivery(spec: LandingZoneSpec, delivery: DeliveryPlan, clusterName: string | undefined): AzureDeliveryPlan | undefined {
  if (spec.cloud !== "azure") return undefined;
  const devOps = spec.pipelines.azureDevOps;
  const github = delivery.provider === "github-actions";
  if (github ? !delivery.owner : delivery.provider !== "native" || !devOps) return undefined;
  return {
    runner: github ? "github-actions" : "azure-devops",
    ...(devOps && !github ? { organization: devOps.organization, project: devOps.project } : {}),
    resourceGroup: azureResourceGroupName(spec.name, spec.environment),
    branch: delivery.branch,
    testCommand: delivery.testCommand,
    services: delivery.services.map((s) => {
      const serviceConnection = `${spec.name}-${spec.environment}-${s.service}`;
      const target: AzureDeployTarget =
        spec.tier === "caas"
          ? { kind: "aks", clusterName: clusterName ?? spec.name, namespace: s.deploy.namespace, deployment: s.deploy.deployment, container: s.deploy.container }
          : spec.tier === "iaas"
            ? { kind: "scale-set", scaleSet: scaleSetName(spec.name, spec.environment, s.service) }
            : { kind: "app-service", service: s.service };
      const identityName = physicalName("azureResource", spec.name, spec.environment, s.service, "deploy");
      const access = github
        ? {
            federation: { name: GITHUB_CREDENTIAL_NAME, issuer: GITHUB_OIDC.url, subject: s.github.deploySubject!, audience: AZURE_DEVOPS_AUDIENCE },
            publish: {
              identityName: physicalName("azureResource", spec.name, spec.environment, s.service, "publish"),
              federation: { name: GITHUB_CREDENTIAL_NAME, issuer: GITHUB_OIDC.url, subject: s.github.publishSubject!, audience: AZURE_DEVOPS_AUDIENCE },
            },
          }
        : {
            serviceConnection,
            federation: { name: AZURE_PIPELINES.credentialName, issuer: devOps!.issuer, subject: devOps!.subjects[s.service] ?? `sc://${devOps!.organization}/${devOps!.project}/${serviceConnection}`, audience: AZURE_DEVOPS_AUDIENCE },
          };
      return {
        service: s.service,
        repository: s.registry,
        identityName,
        ...access,
        environment: github ? s.github.environment : `${spec.name}-${spec.environment}`,
        approval: s.approval,
        target,
        releaseKey: releaseRecordKey(s.service),
      };
    }),
  };
}

/** Name of the GitHub federated credential on a deploy or publish identity. */
export const GITHUB_CREDENTIAL_NAME = "github";

/** What must be set before Azure's native pipelines can be built; empty when nothing is missing. */
export function azureDeliveryProblems(spec: LandingZoneSpec, delivery: DeliveryPlan): string[] {
  // GitHub Actions needs only pipelines.repositoryOwner, which deliveryProblems asks for.
  if (spec.cloud !== "azure" || delivery.provider === "github-actions") return [];
  if (spec.pipelines.azureDevOps) return [];
  return [
    "pipelines.azureDevOps is undefined, but each Azure pipeline signs in through an Azure DevOps service connection federated to its deploy identity. Fix: set pipelines.azureDevOps.organization, project and issuer (shown when a workload identity federation service connection is created)",
  ];
}

/** An Azure Pipelines step, as much of the schema as the generated pipelines use. */
export interface AzurePipelineStep {
  readonly checkout?: "self";
  readonly script?: string;
  readonly task?: string;
  readonly publish?: string;
  readonly artifact?: string;
  readonly download?: "current";
  readonly name?: string;
  readonly displayName: string;
  readonly inputs?: Readonly<Record<string, string>>;
}

export interface AzurePipelineJob {
  readonly job?: string;
  readonly deployment?: string;
  readonly environment?: string;
  readonly displayName: string;
  readonly pool: { readonly vmImage: string };
  readonly timeoutInMinutes: number;
  readonly variables?: Readonly<Record<string, string>>;
  readonly steps?: readonly AzurePipelineStep[];
  readonly strategy?: { readonly runOnce: { readonly deploy: { readonly steps: readonly AzurePipelineStep[] } } };
}

export interface AzurePipelineStage {
  readonly stage: "build" | "test" | "push" | "deploy";
  readonly displayName: string;
  readonly dependsOn?: string;
  readonly jobs: readonly AzurePipelineJob[];
}

export interface AzurePipeline {
  readonly name: string;
  readonly trigger: { readonly batch: true; readonly branches: { readonly include: readonly string[] } };
  /** Pull requests do not deploy. */
  readonly pr: "none";
  readonly variables: Readonly<Record<string, string>>;
  readonly stages: readonly AzurePipelineStage[];
}

export interface AzurePipelineOptions {
  /** Subscription of the landing zone: the registry's and apps' names end in a hash of it. */
  readonly subscriptionId: string;
}

const IMAGE_ARCHIVE = "image.tar";

/**
 * The pipeline of one service: build the image once, run the unit tests, push it and keep its
 * digest, then deploy that digest to the service's own workload in the zone's environment and,
 * once the rollout succeeded, record it as the service's release (lib/plan/azure-release.ts).
 */
export function azurePipeline(plan: LandingZonePlan, service: AzureServiceDeliveryPlan, options: AzurePipelineOptions): AzurePipeline {
  const azure = plan.azureDelivery!;
  const serviceConnection = service.serviceConnection;
  if (azure.runner !== "azure-devops" || !serviceConnection) throw new PlanError([`the plan's pipelines run in GitHub Actions, not Azure DevOps. Fix: run \`mlz workflows\` without --azure-pipelines`]);
  const scope = `${options.subscriptionId}/${azure.resourceGroup}`;
  const registry = azureUniqueName("azureRegistry", plan.name, plan.environment, "registry", scope);
  const pool = { vmImage: AZURE_PIPELINES.vmImage };
  const cli = (name: string | undefined, displayName: string, script: string): AzurePipelineStep => ({
    task: AZURE_PIPELINES.cliTask,
    ...(name ? { name } : {}),
    displayName,
    inputs: { azureSubscription: serviceConnection, scriptType: "bash", scriptLocation: "inlineScript", inlineScript: script },
  });
  const releaseStore = appConfigurationStoreId(options.subscriptionId, azure.resourceGroup, releaseStoreName(plan.name, plan.environment, options.subscriptionId, azure.resourceGroup));
  const target = service.target;
  const deploySteps: AzurePipelineStep[] =
    target.kind === "aks"
      ? [cli(undefined, `Roll out ${target.deployment}`, aksRolloutScript({ resourceGroup: azure.resourceGroup, ...target }, "$(image)"))]
      : target.kind === "app-service"
        ? [cli(undefined, `Release ${service.service}`, appServiceReleaseScript(plan, { resourceGroup: azure.resourceGroup, service: target.service, subscriptionId: options.subscriptionId }, "$(image)"))]
        : // Instances read the record at boot, so the release records first and rolls back itself.
          [cli(undefined, `Release ${service.service} to ${target.scaleSet}`, scaleSetReleaseScript({ resourceGroup: azure.resourceGroup, scaleSet: target.scaleSet, storeId: releaseStore, service: service.service }, "$(image)"))];
  // A step runs only when the ones before it succeeded, so the record names only rolled-out images.
  const steps = target.kind === "scale-set" ? deploySteps : [...deploySteps, cli(undefined, "Record the release", recordReleaseScript(releaseStore, service.service, "$(image)"))];
  return {
    name: `${service.service} $(Date:yyyyMMdd)$(Rev:.r)`,
    trigger: { batch: true, branches: { include: [azure.branch] } },
    pr: "none",
    variables: { imageRepository: `${registry}.azurecr.io/${service.repository}` },
    stages: [
      {
        stage: "build",
        displayName: "Build the image",
        jobs: [
          {
            job: "image",
            displayName: "docker build",
            pool,
            timeoutInMinutes: DELIVERY_SETTINGS.buildTimeoutMinutes,
            steps: [
              { checkout: "self", displayName: "Check out" },
              { script: ['docker build --tag "$(imageRepository):$(Build.SourceVersion)" .', `docker save --output "$(Build.ArtifactStagingDirectory)/${IMAGE_ARCHIVE}" "$(imageRepository):$(Build.SourceVersion)"`].join("\n"), displayName: "Build" },
              { publish: `$(Build.ArtifactStagingDirectory)/${IMAGE_ARCHIVE}`, artifact: "image", displayName: "Keep the image" },
            ],
          },
        ],
      },
      {
        stage: "test",
        displayName: "Unit tests",
        dependsOn: "build",
        jobs: [{ job: "unit", displayName: "Unit tests", pool, timeoutInMinutes: DELIVERY_SETTINGS.buildTimeoutMinutes, steps: [{ checkout: "self", displayName: "Check out" }, { script: azure.testCommand, displayName: "Unit tests" }] }],
      },
      {
        stage: "push",
        displayName: "Push by digest",
        dependsOn: "test",
        jobs: [
          {
            job: "push",
            displayName: "docker push",
            pool,
            timeoutInMinutes: DELIVERY_SETTINGS.buildTimeoutMinutes,
            steps: [
              { download: "current", artifact: "image", displayName: "Fetch the image" },
              cli(
                "push",
                `Push to ${registry}`,
                [
                  // The task runs bash without -e: a failed login, push or pull must fail the step, not release nothing.
                  "set -euo pipefail",
                  `az acr login --name ${registry}`,
                  `docker load --input "$(Pipeline.Workspace)/image/${IMAGE_ARCHIVE}"`,
                  pushOnce('"$(imageRepository):$(Build.SourceVersion)"'),
                  // Deploy by digest: the digest names exactly the image the registry holds. Assigned first, so a failed inspect fails the step.
                  'DIGEST="$(docker inspect --format \'{{index .RepoDigests 0}}\' "$(imageRepository):$(Build.SourceVersion)")"',
                  'echo "##vso[task.setvariable variable=image;isOutput=true]$DIGEST"',
                ].join("\n"),
              ),
            ],
          },
        ],
      },
      {
        stage: "deploy",
        displayName: `Deploy ${service.service}`,
        dependsOn: "push",
        jobs: [
          {
            deployment: "deploy",
            displayName: `Deploy ${service.service} to ${plan.environment}`,
            environment: service.environment,
            pool,
            timeoutInMinutes: target.kind === "scale-set" ? scaleSetReleaseTimeoutMinutes(plan.services.find((s) => s.name === service.service)!.replicas.max) : DELIVERY_SETTINGS.deployTimeoutMinutes,
            variables: { image: "$[ stageDependencies.push.push.outputs['push.image'] ]" },
            strategy: { runOnce: { deploy: { steps } } },
          },
        ],
      },
    ],
  };
}

/** Where an AKS rollout runs: the service's Deployment on the landing zone's cluster. */
export interface AksRolloutTarget {
  readonly resourceGroup: string;
  readonly clusterName: string;
  readonly namespace: string;
  readonly deployment: string;
  readonly container: string;
}

/**
 * Shell that sets a service's Deployment to `image` (a shell or pipeline expression) and waits for the
 * rollout, through AKS run command: it reaches a private API server from a hosted runner or agent and
 * runs as the signed-in deploy identity, so Kubernetes RBAC still limits it to its own Deployment. Fails
 * when kubectl does (run command itself succeeds whatever its command's exit code).
 */
export function aksRolloutScript(target: AksRolloutTarget, image: string): string {
  const { namespace, deployment, container } = target;
  const kubectl = [
    `kubectl --namespace ${namespace} set image deployment/${deployment} ${container}=${image}`,
    `kubectl --namespace ${namespace} rollout status deployment/${deployment} --timeout=${DELIVERY_SETTINGS.rolloutTimeoutSeconds}s`,
  ].join(" && ");
  return [
    `RESULT="$(az aks command invoke --resource-group ${target.resourceGroup} --name ${target.clusterName} --output json --command "${kubectl}")"`,
    'echo "$RESULT" | jq -r .logs',
    '[ "$(echo "$RESULT" | jq -r .exitCode)" = "0" ]',
  ].join("\n");
}

/** Name of a service's App Service app (its name ends in a hash of the subscription and resource group). */
export function appServiceName(zone: string, environment: string, service: string, subscriptionId: string, resourceGroup: string): string {
  return azureUniqueName("azureResource", zone, environment, service, `${subscriptionId}/${resourceGroup}`);
}

/**
 * Shell that releases `image` (a shell or pipeline expression) to a service's own App Service app:
 * behind the edge proxy (`plan.edgeProxy`) the service is the app's sidecar, whose image alone changes,
 * since setting the app's container would drop the proxy (and its checks); otherwise the app's container.
 */
export function appServiceReleaseScript(plan: LandingZonePlan, target: { readonly resourceGroup: string; readonly service: string; readonly subscriptionId: string }, image: string): string {
  const app = appServiceName(plan.name, plan.environment, target.service, target.subscriptionId, target.resourceGroup);
  return plan.edgeProxy?.services.includes(target.service)
    ? `az webapp sitecontainers update --resource-group ${target.resourceGroup} --name ${app} --container-name ${APP_SERVICE_SERVICE_CONTAINER} --image "${image}"`
    : `az webapp config container set --resource-group ${target.resourceGroup} --name ${app} --container-image-name "${image}"`;
}

/** A file `mlz workflows --azure-pipelines` writes: `<repository>/<path>`. */
export interface AzurePipelineFile {
  readonly repository: string;
  readonly path: string;
  readonly content: string;
}

/** Every service's `azure-pipelines.yml`; throws a PlanError when the plan has no Azure DevOps pipelines or the subscription is malformed. */
export function azurePipelineFiles(plan: LandingZonePlan, source: string, options: AzurePipelineOptions): AzurePipelineFile[] {
  if (plan.azureDelivery?.runner !== "azure-devops") {
    throw new PlanError([
      `the plan has no Azure DevOps pipelines (cloud ${plan.cloud}, pipelines.provider ${plan.delivery?.provider ?? "-"}). Fix: on cloud azure set pipelines.perService: true, provider: native and pipelines.azureDevOps`,
    ]);
  }
  if (!AZURE_SUBSCRIPTION_ID.test(options.subscriptionId)) {
    throw new PlanError([`--azure-subscription "${options.subscriptionId}" is not a subscription id. Fix: pass the subscription's GUID (az account show --query id)`]);
  }
  const repositories = new Map(plan.delivery!.services.map((s) => [s.service, s.source.name]));
  return plan.azureDelivery.services.map((service) => ({
    repository: repositories.get(service.service) ?? service.service,
    path: "azure-pipelines.yml",
    content: `# Generated by \`mlz workflows --azure-pipelines\` from ${source}; regenerate instead of editing.\n${stringify(azurePipeline(plan, service, options), { lineWidth: 0 })}`,
  }));
}
