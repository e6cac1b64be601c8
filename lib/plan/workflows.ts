/**
 * GitHub Actions workflows, one per service (and per micro-frontend app), written into each
 * repository by `mlz workflows`. Cloud-neutral structure: a `build` job (unit tests, image build,
 * push by digest) and a `deploy` job in the GitHub environment named after the landing zone's
 * environment (required reviewers there are the prod approval). Every cloud login is OIDC
 * federation (`id-token: write`): no long-lived key is stored in GitHub.
 */
import { stringify } from "yaml";
import { frontendBundleDockerfile, frontendImageName } from "../kubernetes/frontends.js";
import type { Cloud } from "../spec/types.js";
import { aksRolloutScript, AZURE_SUBSCRIPTION_ID, appServiceReleaseScript, azureResourceGroupName, frontDoorName, frontendContainerName, scaleSetName } from "./azure-delivery.js";
import { appConfigurationStoreId, recordReleaseScript, scaleSetReleaseScript } from "./azure-release.js";
import { cloudBuildNames, instanceGroupManagerName, instanceGroupReleaseScript } from "./cloud-build.js";
import { DELIVERY_SETTINGS, repositoryFullName, type ServiceDeliveryPlan } from "./delivery.js";
import { pushOnce } from "./image-push.js";
import type { FrontendAppPlan } from "./frontends.js";
import { appEngineGithubReleaseScript, appYamlSecretName } from "./gcp-github-delivery.js";
import { appEngineServiceName } from "./gcp.js";
import { PlanError } from "./planner.js";
import type { LandingZonePlan, ServicePlan } from "./types.js";

/** Pinned major versions of the actions the workflows use. */
export const GITHUB_ACTIONS = {
  checkout: "actions/checkout@v4",
  uploadArtifact: "actions/upload-artifact@v4",
  downloadArtifact: "actions/download-artifact@v4",
  setupNode: "actions/setup-node@v4",
  awsCredentials: "aws-actions/configure-aws-credentials@v4",
  ecrLogin: "aws-actions/amazon-ecr-login@v2",
  gcpAuth: "google-github-actions/auth@v2",
  gkeCredentials: "google-github-actions/get-gke-credentials@v2",
  azureLogin: "azure/login@v2",
  dockerLogin: "docker/login-action@v3",
} as const;

/** Directory a micro-frontend's build writes its static files to. */
export const FRONTEND_BUILD_DIRECTORY = "dist";

/** A GitHub Actions job, as much of the schema as the generated workflows use. */
export interface WorkflowJob {
  readonly "runs-on": string;
  readonly needs?: string;
  readonly environment?: string;
  readonly permissions: Readonly<Record<string, "read" | "write">>;
  readonly outputs?: Readonly<Record<string, string>>;
  readonly env?: Readonly<Record<string, string>>;
  readonly steps: readonly WorkflowStep[];
}

export interface WorkflowStep {
  readonly name: string;
  readonly id?: string;
  readonly uses?: string;
  readonly with?: Readonly<Record<string, string | boolean>>;
  readonly env?: Readonly<Record<string, string>>;
  readonly run?: string;
}

export interface Workflow {
  readonly name: string;
  readonly on: { readonly push: { readonly branches: readonly string[] }; readonly workflow_dispatch: Record<string, never> };
  /** Nothing by default; each job asks for what it needs. */
  readonly permissions: Record<string, never>;
  readonly concurrency: { readonly group: string; readonly "cancel-in-progress": false };
  readonly jobs: { readonly build: WorkflowJob; readonly deploy: WorkflowJob };
}

/** A file to write, relative to the output directory: `<repository>/<path in the repository>`. */
export interface GeneratedFile {
  /** Repository the file belongs in. */
  readonly repository: string;
  /** Path inside the repository. */
  readonly path: string;
  readonly content: string;
  /** Written only when absent: later commits (a released digest) own it. */
  readonly keepExisting?: boolean;
}

export interface WorkflowOptions {
  /**
   * AWS account written into role ARNs.
   * @default - the repository variable `AWS_ACCOUNT_ID`
   */
  readonly awsAccountId?: string;
  /**
   * Azure subscription of the landing zone, whose hash ends the App Service apps' names; required on Azure paas.
   * @default - none
   */
  readonly azureSubscriptionId?: string;
}

/** The workflow of one service, as data (tests and callers inspect it; {@link renderWorkflow} writes it). */
export function serviceWorkflow(plan: LandingZonePlan, service: ServiceDeliveryPlan, options: WorkflowOptions = {}): Workflow {
  const cloud = CLOUD_STEPS[plan.cloud];
  const build: WorkflowJob = {
    "runs-on": "ubuntu-latest",
    permissions: { contents: "read", ...cloud.buildPermissions },
    outputs: { image: "${{ steps.push.outputs.image }}" },
    steps: [
      { name: "Check out", uses: GITHUB_ACTIONS.checkout },
      { name: "Unit tests", run: plan.delivery!.testCommand },
      ...cloud.login(plan, service, options),
      {
        name: "Build and push",
        id: "push",
        env: { IMAGE_REPOSITORY: cloud.imageRepository(plan, service) },
        run: ['docker build --tag "$IMAGE_REPOSITORY:$GITHUB_SHA" .', ...pushByDigest].join("\n"),
      },
    ],
  };
  const deploy: WorkflowJob = {
    "runs-on": "ubuntu-latest",
    needs: "build",
    environment: service.github.environment,
    permissions: cloud.deployPermissions,
    env: { IMAGE: "${{ needs.build.outputs.image }}" },
    steps: cloud.deploy(plan, service, options),
  };
  return {
    name: `${service.service} (${plan.name} ${plan.environment})`,
    on: { push: { branches: [service.source.branch] }, workflow_dispatch: {} },
    permissions: {},
    concurrency: { group: `${plan.name}-${plan.environment}-${service.service}`, "cancel-in-progress": false },
    jobs: { build, deploy },
  };
}

/**
 * True when GitHub-hosted deploy jobs roll the services out on the landing zone's own cluster (caas with
 * GitHub Actions pipelines): on GKE its control plane then needs an endpoint they can reach.
 */
export function githubDeploysToCluster(plan: LandingZonePlan): boolean {
  return plan.cloud !== "kubernetes" && plan.cluster !== undefined && plan.delivery?.provider === "github-actions";
}

/** True when an existing cluster's releases go through Argo CD (`pipelines.perService`), the only way its micro-frontends are released too. */
function releasedByGitOps(plan: LandingZonePlan): boolean {
  return plan.delivery?.services.some((s) => s.deploy.kind === "gitops") ?? false;
}

/**
 * The workflow of one micro-frontend app: tests and build, then upload to its own bucket or container
 * and purge its paths from the CDN; on an existing cluster, push its bundle image by digest and
 * commit the digest into its `deploy/` folder, which Argo CD syncs.
 */
export function frontendWorkflow(plan: LandingZonePlan, app: FrontendAppPlan, options: WorkflowOptions = {}): Workflow {
  if (plan.cloud === "kubernetes" && !releasedByGitOps(plan)) {
    throw new PlanError(["frontends on an existing cluster are released through Argo CD, which the landing zone installs only with pipelines.perService. Fix: set pipelines.perService: true and pipelines.repositoryOwner"]);
  }
  const build: WorkflowJob["steps"] = [
    { name: "Check out", uses: GITHUB_ACTIONS.checkout },
    { name: "Set up Node.js", uses: GITHUB_ACTIONS.setupNode, with: { "node-version": "lts/*", cache: "npm" } },
    { name: "Install, test and build", run: ["npm ci", "npm test", "npm run build"].join("\n") },
  ];
  const common = {
    name: `${app.name} micro-frontend (${plan.name} ${plan.environment})`,
    on: { push: { branches: [app.source.branch] }, workflow_dispatch: {} },
    permissions: {},
    concurrency: { group: `${plan.name}-${plan.environment}-ui-${app.name}`, "cancel-in-progress": false },
  } as const;
  if (plan.cloud === "kubernetes") {
    const push = CLOUD_STEPS.kubernetes;
    return {
      ...common,
      jobs: {
        build: {
          "runs-on": "ubuntu-latest",
          permissions: { contents: "read", ...push.buildPermissions },
          outputs: { image: "${{ steps.push.outputs.image }}" },
          steps: [
            ...build,
            ghcrLogin,
            {
              name: "Build and push the bundle image",
              id: "push",
              env: { IMAGE_REPOSITORY: `ghcr.io/${repositoryFullName(app.source).toLowerCase()}` },
              run: [
                // The build output is the whole context: the image holds the bundle where the app's init container copies it from.
                `docker build --tag "$IMAGE_REPOSITORY:$GITHUB_SHA" --file - ${FRONTEND_BUILD_DIRECTORY} <<'DOCKERFILE'`,
                frontendBundleDockerfile().trimEnd(),
                "DOCKERFILE",
                ...pushByDigest,
              ].join("\n"),
            },
          ],
        },
        deploy: {
          "runs-on": "ubuntu-latest",
          needs: "build",
          environment: plan.environment,
          permissions: push.deployPermissions,
          env: { IMAGE: "${{ needs.build.outputs.image }}" },
          steps: gitOpsReleaseSteps(frontendImageName(plan, app), `${app.name} micro-frontend`),
        },
      },
    };
  }
  return {
    ...common,
    jobs: {
      build: {
        "runs-on": "ubuntu-latest",
        permissions: { contents: "read" },
        steps: [...build, { name: "Keep the build", uses: GITHUB_ACTIONS.uploadArtifact, with: { name: app.name, path: FRONTEND_BUILD_DIRECTORY } }],
      },
      deploy: {
        "runs-on": "ubuntu-latest",
        needs: "build",
        environment: plan.environment,
        permissions: { "id-token": "write" },
        steps: [{ name: "Fetch the build", uses: GITHUB_ACTIONS.downloadArtifact, with: { name: app.name, path: FRONTEND_BUILD_DIRECTORY } }, ...frontendDeploySteps(plan, app, options)],
      },
    },
  };
}

/** GitHub's own registry takes the job's short-lived token; nothing is stored. */
const ghcrLogin: WorkflowStep = { name: "GitHub registry login", uses: GITHUB_ACTIONS.dockerLogin, with: { registry: "ghcr.io", username: "${{ github.actor }}", password: "${{ secrets.GITHUB_TOKEN }}" } };

/** Pushes `$IMAGE_REPOSITORY:$GITHUB_SHA` (once: a re-run releases the image already pushed) and outputs it by digest, which names exactly that image. */
const pushByDigest = [
  pushOnce('"$IMAGE_REPOSITORY:$GITHUB_SHA"'),
  'echo "image=$(docker inspect --format \'{{index .RepoDigests 0}}\' "$IMAGE_REPOSITORY:$GITHUB_SHA")" >> "$GITHUB_OUTPUT"',
];

/** Repository variables each app's workflow reads on GCP, with what sets them. */
export const GCP_FRONTEND_VARIABLES = {
  GCP_WORKLOAD_IDENTITY_PROVIDER: "the landing zone's githubWorkloadIdentityProvider output",
  GCP_DEPLOY_SERVICE_ACCOUNT: "the app's entry of the frontendDeployAccounts output",
  GCP_FRONTEND_BUCKET: "the app's entry of the frontendBuckets output",
} as const;

/** Repository variables each service's workflow reads on GCP, with what sets them. */
export const GCP_SERVICE_VARIABLES = {
  GCP_WORKLOAD_IDENTITY_PROVIDER: "the landing zone's githubWorkloadIdentityProvider output",
  GCP_ARTIFACT_REGISTRY: "the service's entry of the artifactRegistries output",
  GCP_PUBLISH_SERVICE_ACCOUNT: "the service's entry of the publishServiceAccounts output",
  GCP_DEPLOY_SERVICE_ACCOUNT: "the service's entry of the deployServiceAccounts output",
} as const;

/** Repository variables each app's workflow reads on Azure, with what sets them. */
export const AZURE_FRONTEND_VARIABLES = {
  AZURE_TENANT_ID: "the subscription's tenant",
  AZURE_SUBSCRIPTION_ID: "the landing zone's subscription",
  AZURE_DEPLOY_CLIENT_ID: "the app's entry of the frontendDeployClientIds output",
  AZURE_STORAGE_ACCOUNT: "the frontendStorageAccount output",
} as const;

/** Repository variables each service's workflow reads on Azure, with what sets them. */
export const AZURE_SERVICE_VARIABLES = {
  AZURE_TENANT_ID: "the subscription's tenant",
  AZURE_SUBSCRIPTION_ID: "the landing zone's subscription",
  AZURE_RESOURCE_GROUP: "the resourceGroupName output",
  AZURE_CONTAINER_REGISTRY: "the first label of the registryLoginServer output",
  AZURE_PUBLISH_CLIENT_ID: "the service's entry of the publishClientIds output",
  AZURE_DEPLOY_CLIENT_ID: "the service's entry of the deployClientIds output",
  AZURE_APP_CONFIGURATION: "the releaseStoreName output",
} as const;

/** Sign-in, upload of the app's build to its own storage, and purge of its paths from the CDN. */
function frontendDeploySteps(plan: LandingZonePlan, app: FrontendAppPlan, options: WorkflowOptions): WorkflowStep[] {
  const prefix = app.objectPrefix;
  if (plan.cloud === "gcp") {
    return [
      {
        name: "Google Cloud credentials (Workload Identity Federation)",
        uses: GITHUB_ACTIONS.gcpAuth,
        // The app's deploy account (FrontendHosting deployAccountEmails) lets only this repository's environment act as it.
        with: { workload_identity_provider: "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}", service_account: "${{ vars.GCP_DEPLOY_SERVICE_ACCOUNT }}" },
      },
      {
        name: "Upload and invalidate",
        run: [
          `gcloud storage rsync ${FRONTEND_BUILD_DIRECTORY} "gs://\${{ vars.GCP_FRONTEND_BUCKET }}/${prefix}" --recursive --delete-unmatched-destination-objects`,
          // --async: following the operation would need compute.globalOperations.get on the whole project.
          `gcloud compute url-maps invalidate-cdn-cache ${plan.frontends!.gcp.urlMapName} --path "/${prefix}*" --async`,
        ].join("\n"),
      },
    ];
  }
  if (plan.cloud === "azure") {
    const frontDoor = frontDoorName(plan.name, plan.environment);
    return [
      {
        name: "Azure credentials (OIDC)",
        uses: GITHUB_ACTIONS.azureLogin,
        // The app's deploy identity (its entry of the landing zone's frontendDeployClientIds output) trusts only this repository's environment.
        with: { "client-id": "${{ vars.AZURE_DEPLOY_CLIENT_ID }}", "tenant-id": "${{ vars.AZURE_TENANT_ID }}", "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}" },
      },
      {
        name: "Upload and purge",
        run: [
          `az storage blob upload-batch --auth-mode login --account-name "\${{ vars.AZURE_STORAGE_ACCOUNT }}" --destination ${frontendContainerName(app.name)}${prefix ? ` --destination-path ${prefix.replace(/\/$/, "")}` : ""} --source ${FRONTEND_BUILD_DIRECTORY} --overwrite`,
          // --no-wait: following the purge would need read rights on Front Door's operation results.
          `az afd endpoint purge --resource-group ${azureResourceGroupName(plan.name, plan.environment)} --profile-name ${frontDoor} --endpoint-name ${frontDoor} --content-paths "/${prefix}*" --no-wait`,
        ].join("\n"),
      },
    ];
  }
  const frontends = plan.frontends!;
  return [
    awsCredentials(plan, app.deployRole, options),
    {
      name: "Upload and invalidate",
      run: [
        `BUCKET="$(aws ssm get-parameter --name ${app.bucketParameter} --query Parameter.Value --output text)"`,
        `DISTRIBUTION="$(aws ssm get-parameter --name ${frontends.distributionParameter} --query Parameter.Value --output text)"`,
        `aws s3 sync ${FRONTEND_BUILD_DIRECTORY}/ "s3://$BUCKET/${prefix}" --delete`,
        `aws cloudfront create-invalidation --distribution-id "$DISTRIBUTION" --paths "/${prefix}*"`,
      ].join("\n"),
    },
  ];
}

/** Writes a workflow as YAML, with a header saying where it came from. */
export function renderWorkflow(workflow: Workflow, source: string): string {
  return `# Generated by \`mlz workflows\` from ${source}; regenerate instead of editing.\n${stringify(workflow, { lineWidth: 0 })}`;
}

/**
 * Every file `mlz workflows` writes: a workflow per service and per micro-frontend app,
 * each in its own repository's `.github/workflows/`, and on an existing cluster the GitOps
 * `deploy/` folder Argo CD syncs. Throws a PlanError when the plan has no GitHub-built pipelines.
 */
export function githubWorkflowFiles(
  plan: LandingZonePlan,
  source: string,
  options: WorkflowOptions = {},
  /** Files besides the workflow per service (the GitOps `deploy/` folder on an existing cluster). */
  extra: (service: ServiceDeliveryPlan) => GeneratedFile[] = () => [],
  /** Files besides the workflow per micro-frontend app (its GitOps `deploy/` folder on an existing cluster). */
  frontendExtra: (app: FrontendAppPlan) => GeneratedFile[] = () => [],
): GeneratedFile[] {
  const delivery = plan.delivery;
  if (!delivery) throw new PlanError(["pipelines.perService is false (or there are no services), so there is no workflow to write. Fix: set pipelines.perService: true"]);
  // On an existing cluster Argo CD deploys, and GitHub Actions is the build half of every provider.
  if (delivery.provider !== "github-actions" && plan.cloud !== "kubernetes") {
    throw new PlanError([`pipelines.provider is "${delivery.provider}", whose pipelines run in ${plan.cloud}. Fix: set pipelines.provider: github-actions to build and deploy from GitHub`]);
  }
  if (!delivery.owner) throw new PlanError([deliveryOwnerProblem]);
  checkAwsAccount(options);
  const files: GeneratedFile[] = delivery.services.flatMap((service) => [
    { repository: service.source.name, path: `.github/workflows/${service.service}.yml`, content: renderWorkflow(serviceWorkflow(plan, service, options), source) },
    ...extra(service),
  ]);
  return [...files, ...frontendWorkflowFiles(plan, source, options, frontendExtra)];
}

/**
 * The workflow of each micro-frontend app, on the clouds that have them (the apps deploy from GitHub
 * whichever pipelines the services use); empty without frontends.
 */
export function frontendWorkflowFiles(
  plan: LandingZonePlan,
  source: string,
  options: WorkflowOptions = {},
  /** Files besides each app's workflow (its GitOps `deploy/` folder on an existing cluster). */
  extra: (app: FrontendAppPlan) => GeneratedFile[] = () => [],
): GeneratedFile[] {
  if (!plan.frontends) return [];
  if (!plan.frontends.shell.deploySubject) throw new PlanError([deliveryOwnerProblem]);
  checkAwsAccount(options);
  return [plan.frontends.shell, ...plan.frontends.fragments].flatMap((app) => [
    { repository: app.source.name, path: `.github/workflows/${app.name}.yml`, content: renderWorkflow(frontendWorkflow(plan, app, options), source) },
    ...extra(app),
  ]);
}

function checkAwsAccount(options: WorkflowOptions): void {
  if (options.awsAccountId !== undefined && !/^\d{12}$/.test(options.awsAccountId)) {
    throw new PlanError([`--aws-account "${options.awsAccountId}" is not an AWS account id. Fix: pass the 12 digits of the account`]);
  }
}

/** The subscription App Service apps' names need; a PlanError naming the flag when it is missing or malformed. */
function azureSubscription(options: WorkflowOptions): string {
  const subscription = options.azureSubscriptionId;
  if (subscription === undefined) throw new PlanError(["on Azure App Service each release names its app, whose name ends in a hash of the subscription. Fix: pass --azure-subscription <subscription id>"]);
  if (!AZURE_SUBSCRIPTION_ID.test(subscription)) throw new PlanError([`--azure-subscription "${subscription}" is not a subscription id. Fix: pass the subscription's GUID (az account show --query id)`]);
  return subscription;
}

const deliveryOwnerProblem = "pipelines.repositoryOwner is undefined, but the workflows trust <owner>/<repository>. Fix: set pipelines.repositoryOwner";

interface CloudSteps {
  readonly buildPermissions: Readonly<Record<string, "read" | "write">>;
  readonly deployPermissions: Readonly<Record<string, "read" | "write">>;
  /** Image repository the build pushes to (no tag). */
  imageRepository(plan: LandingZonePlan, service: ServiceDeliveryPlan): string;
  /** Steps that let the build job push, with the service's publish identity. */
  login(plan: LandingZonePlan, service: ServiceDeliveryPlan, options: WorkflowOptions): WorkflowStep[];
  deploy(plan: LandingZonePlan, service: ServiceDeliveryPlan, options: WorkflowOptions): WorkflowStep[];
}

function awsCredentials(plan: LandingZonePlan, roleName: string, options: WorkflowOptions): WorkflowStep {
  const account = options.awsAccountId ?? "${{ vars.AWS_ACCOUNT_ID }}";
  return {
    name: "AWS credentials (OIDC)",
    uses: GITHUB_ACTIONS.awsCredentials,
    with: { "role-to-assume": `arn:aws:iam::${account}:role/${roleName}`, "aws-region": plan.region, "mask-aws-account-id": false },
  };
}

/** `kubectl set image` then wait, on clusters the runner reaches (GKE, through its DNS endpoint). */
function kubectlRollout(service: ServiceDeliveryPlan): WorkflowStep {
  const { namespace, deployment, container } = service.deploy;
  return {
    name: "Roll out",
    run: [
      `kubectl --namespace ${namespace} set image deployment/${deployment} ${container}="$IMAGE"`,
      `kubectl --namespace ${namespace} rollout status deployment/${deployment} --timeout=${DELIVERY_SETTINGS.rolloutTimeoutSeconds}s`,
    ].join("\n"),
  };
}

const CLOUD_STEPS: Readonly<Record<Cloud, CloudSteps>> = {
  aws: {
    buildPermissions: { "id-token": "write" },
    deployPermissions: { "id-token": "write" },
    imageRepository: (_plan, service) => `\${{ steps.registry.outputs.registry }}/${service.registry}`,
    login: (plan, service, options) => [awsCredentials(plan, service.names.publishRole, options), { name: "ECR login", id: "registry", uses: GITHUB_ACTIONS.ecrLogin }],
    deploy: (plan, service, options) => [
      awsCredentials(plan, service.names.deployRole, options),
      {
        // The deploy project releases: in the VPC it rolls the Deployment (the cluster endpoint is private), on VMs it refreshes the fleet.
        name: "Roll out through the deploy project",
        run: [
          `BUILD_ID="$(aws codebuild start-build --project-name ${service.names.deployProject} --environment-variables-override "name=IMAGE,value=$IMAGE,type=PLAINTEXT" --query build.id --output text)"`,
          'echo "Deploy build $BUILD_ID"',
          "while true; do",
          '  STATUS="$(aws codebuild batch-get-builds --ids "$BUILD_ID" --query "builds[0].buildStatus" --output text)"',
          '  [ "$STATUS" = "IN_PROGRESS" ] || break',
          "  sleep 15",
          "done",
          'read -r GROUP STREAM <<< "$(aws codebuild batch-get-builds --ids "$BUILD_ID" --query "builds[0].logs.[groupName,streamName]" --output text)"',
          'aws logs get-log-events --log-group-name "$GROUP" --log-stream-name "$STREAM" --start-from-head --query "events[].message" --output text || true',
          'echo "Deploy $STATUS"',
          '[ "$STATUS" = "SUCCEEDED" ]',
        ].join("\n"),
      },
    ],
  },
  gcp: {
    buildPermissions: { "id-token": "write" },
    deployPermissions: { "id-token": "write" },
    // Artifact Registry's path (project, repository) comes from the landing zone's outputs; the image is named
    // after its repository, as Cloud Build pushes it and as the VMs accept it at boot.
    imageRepository: (_plan, service) => `\${{ vars.GCP_ARTIFACT_REGISTRY }}/${service.registry}`,
    login: (plan) => [
      {
        name: "Google Cloud credentials (Workload Identity Federation)",
        uses: GITHUB_ACTIONS.gcpAuth,
        with: { workload_identity_provider: "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}", service_account: "${{ vars.GCP_PUBLISH_SERVICE_ACCOUNT }}" },
      },
      { name: "Artifact Registry login", run: `gcloud auth configure-docker ${plan.region}-docker.pkg.dev --quiet` },
    ],
    deploy: (plan, service) => {
      const login: WorkflowStep = {
        name: "Google Cloud credentials (Workload Identity Federation)",
        uses: GITHUB_ACTIONS.gcpAuth,
        with: { workload_identity_provider: "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}", service_account: "${{ vars.GCP_DEPLOY_SERVICE_ACCOUNT }}" },
      };
      const releaseSecret = cloudBuildNames(plan.name, plan.environment, service).releaseSecret;
      if (plan.tier === "iaas") {
        const group = instanceGroupManagerName(plan.name, plan.environment, service.service);
        // The VMs read the secret at boot: the script records first, replaces them and rolls back itself, as Cloud Build's does.
        return [login, { name: "Release to the instance group", run: instanceGroupReleaseScript({ group, region: plan.region, releaseSecret, zoneCount: plan.network.availabilityZones.length }, "$IMAGE").join("\n") }];
      }
      if (plan.tier === "paas") {
        const target = { service: appEngineServiceName(plan, service.service), releaseSecret, appYamlSecret: appYamlSecretName(plan.name, plan.environment, service.service) };
        // Deploys, promotes, records and rolls back itself, with the app.yaml Pulumi's versions use.
        return [login, { name: "Release to App Engine", run: appEngineGithubReleaseScript(target, "$IMAGE").join("\n") }];
      }
      return [
        login,
        // The DNS endpoint is IAM-authorized and reachable from GitHub's runners, where a private IP endpoint is not.
        { name: "Cluster credentials", uses: GITHUB_ACTIONS.gkeCredentials, with: { cluster_name: plan.cluster?.name ?? plan.name, location: plan.region, use_dns_based_endpoint: true } },
        kubectlRollout(service),
        // After a successful rollout only: the Deployment is deployed from this secret, so `pulumi up` keeps the release.
        { name: "Record the release", run: `printf '%s' "$IMAGE" | gcloud secrets versions add ${releaseSecret} --data-file=-` },
      ];
    },
  },
  azure: {
    buildPermissions: { "id-token": "write" },
    deployPermissions: { "id-token": "write" },
    // The service's one repository, as the Azure DevOps pipeline pushes and the release records are seeded.
    imageRepository: (_plan, service) => `\${{ vars.AZURE_CONTAINER_REGISTRY }}.azurecr.io/${service.registry}`,
    login: () => [
      {
        name: "Azure credentials (OIDC)",
        uses: GITHUB_ACTIONS.azureLogin,
        with: { "client-id": "${{ vars.AZURE_PUBLISH_CLIENT_ID }}", "tenant-id": "${{ vars.AZURE_TENANT_ID }}", "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}" },
      },
      { name: "Container registry login", run: 'az acr login --name "${{ vars.AZURE_CONTAINER_REGISTRY }}"' },
    ],
    deploy: (plan, service, options) => {
      const login: WorkflowStep = {
        name: "Azure credentials (OIDC)",
        uses: GITHUB_ACTIONS.azureLogin,
        with: { "client-id": "${{ vars.AZURE_DEPLOY_CLIENT_ID }}", "tenant-id": "${{ vars.AZURE_TENANT_ID }}", "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}" },
      };
      const store = appConfigurationStoreId("${{ vars.AZURE_SUBSCRIPTION_ID }}", "${{ vars.AZURE_RESOURCE_GROUP }}", "${{ vars.AZURE_APP_CONFIGURATION }}");
      if (plan.tier === "iaas") {
        const scaleSet = scaleSetName(plan.name, plan.environment, service.service);
        // Instances read the record at boot: the release records first, reimages, and rolls back itself.
        return [login, { name: "Release to the scale set", run: scaleSetReleaseScript({ resourceGroup: "${{ vars.AZURE_RESOURCE_GROUP }}", scaleSet, storeId: store, service: service.service }, "$IMAGE") }];
      }
      const resourceGroup = azureResourceGroupName(plan.name, plan.environment);
      const release: WorkflowStep =
        plan.tier === "caas"
          ? {
              name: "Roll out",
              // Run command reaches the private API server from a hosted runner; kubectl runs as the deploy identity.
              run: aksRolloutScript({ resourceGroup, clusterName: plan.cluster!.name, ...service.deploy }, "$IMAGE"),
            }
          : { name: "Release to the app", run: appServiceReleaseScript(plan, { resourceGroup, service: service.service, subscriptionId: azureSubscription(options) }, "$IMAGE") };
      // Runs only after the release step succeeded; the next `pulumi up` deploys what it records.
      return [login, release, { name: "Record the release", run: recordReleaseScript(store, service.service, "$IMAGE") }];
    },
  },
  kubernetes: {
    buildPermissions: { packages: "write" },
    // The deploy job commits the digest; Argo CD syncs the commit into the cluster.
    deployPermissions: { contents: "write" },
    imageRepository: (_plan, service) => `ghcr.io/${repositoryFullName(service.source).toLowerCase()}`,
    login: () => [ghcrLogin],
    deploy: (plan, service) => gitOpsReleaseSteps(gitOpsImageName(plan.services.find((s) => s.name === service.service)!), service.service),
  },
};

/** Check out, point the `deploy/` kustomization's `image` at the pushed `$IMAGE` digest, commit and push: Argo CD syncs the commit. */
function gitOpsReleaseSteps(image: string, what: string): WorkflowStep[] {
  return [
    { name: "Check out", uses: GITHUB_ACTIONS.checkout },
    {
      name: "Release through Git (Argo CD syncs deploy/)",
      run: [
        `cd ${GITOPS_DIRECTORY}`,
        // The Deployment names the planned image; kustomize swaps in the pushed digest.
        `kustomize edit set image ${image}="$IMAGE"`,
        'git config user.name "github-actions[bot]"',
        'git config user.email "41898282+github-actions[bot]@users.noreply.github.com"',
        `git commit --all --message "Release ${what} $IMAGE"`,
        "git push",
      ].join("\n"),
    },
  ];
}

/**
 * The image name (no tag, no digest) of a service's GitOps Deployment, `services[].image` when given: its
 * kustomization entry and the release's `kustomize edit set image` must name it, or kustomize changes nothing.
 */
export function gitOpsImageName(service: Pick<ServicePlan, "image">): string {
  const name = service.image.split("@")[0]!;
  // A colon after the last slash starts the tag; one before it is a registry's port.
  const tag = name.lastIndexOf(":");
  return tag > name.lastIndexOf("/") ? name.slice(0, tag) : name;
}

/** Folder of a service's repository that Argo CD syncs on an existing cluster. */
export const GITOPS_DIRECTORY = "deploy";
