/**
 * Per-service delivery, engine- and cloud-neutral: where each service's source lives, the stages
 * its pipeline runs in order, what its deploy step may touch, and the names both engines and the
 * generated GitHub workflows agree on.
 */
import type { LandingZoneSpec, Tier } from "../spec/types.js";
import { physicalName } from "./naming.js";
import { beanstalkApplicationName, hostedServiceNames } from "./hosts.js";
import type { ServicePlan } from "./types.js";

/** Settings every engine applies the same way. */
export const DELIVERY_SETTINGS = {
  /** Images a registry repository keeps; older ones expire. */
  imagesKept: 30,
  /** Days pipeline artifacts (image digests) are kept. */
  artifactExpirationDays: 30,
  buildTimeoutMinutes: 30,
  deployTimeoutMinutes: 20,
  /** How long a deploy waits for the rollout before it fails. */
  rolloutTimeoutSeconds: 600,
  /** How long a VM deploy waits for each instance refresh (the release's, then the one back to the previous release). */
  instanceRefreshTimeoutSeconds: 1080,
  /** How long a failed VM deploy waits for the group's cancelled refresh to stop before refreshing back. */
  instanceRefreshCancelTimeoutSeconds: 600,
  /** A VM deploy project may refresh the group twice (the release, then back) and wait for a cancel between: its own timeout. */
  instanceRefreshReleaseTimeoutMinutes: 50,
  /** How long a Beanstalk release waits for Ready/Green, leaving the rest of the project's timeout to redeploy the previous version. */
  environmentUpdateTimeoutSeconds: 1200,
  /** A Beanstalk deploy project may roll the environment twice (the release, then back): its own timeout. */
  environmentReleaseTimeoutMinutes: 45,
  /** CodeBuild image of both projects (Docker, AWS CLI, jq). */
  buildImage: "aws/codebuild/standard:7.0",
  /** Docker builds get 7 GB; the deploy step only runs kubectl. */
  buildComputeType: "BUILD_GENERAL1_MEDIUM",
  deployComputeType: "BUILD_GENERAL1_SMALL",
} as const;

/** ECR's lifecycle policy document: a repository keeps its last `imagesKept` images, whatever their tags. */
export function ecrLifecyclePolicy(imagesKept: number = DELIVERY_SETTINGS.imagesKept): string {
  return JSON.stringify({
    rules: [{ rulePriority: 1, description: `Keep the last ${imagesKept} images`, selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: imagesKept }, action: { type: "expire" } }],
  });
}

/** GitHub Actions' OIDC issuer and the audience AWS expects in its tokens. */
export const GITHUB_OIDC = {
  url: "https://token.actions.githubusercontent.com",
  host: "token.actions.githubusercontent.com",
  audience: "sts.amazonaws.com",
} as const;

/** IAM actions of the delivery roles, identical in both engines. */
export const DELIVERY_ACTIONS = {
  /** Registry login; ECR supports no resource-level permission for it. */
  registryLogin: ["ecr:GetAuthorizationToken"],
  /** Push (and the reads a push needs) on the service's own repository only. */
  registryPush: [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
  ],
  /** Kubeconfig for the service's cluster. */
  describeCluster: ["eks:DescribeCluster"],
  /** Records the released image, so an infrastructure redeploy keeps it. */
  recordRelease: ["ssm:PutParameter"],
  /** A VM reads the released image at boot (iaas). */
  readRelease: ["ssm:GetParameter"],
  /** Replaces the instances of the service's own Auto Scaling group (iaas), and cancels a refresh of it to roll back... */
  refreshInstances: ["autoscaling:CancelInstanceRefresh", "autoscaling:StartInstanceRefresh"],
  /** ...and follows the refresh; Describe calls of Auto Scaling take no resource. */
  followRefresh: ["autoscaling:DescribeInstanceRefreshes"],
  /** A GitHub deploy job runs the service's deploy project and follows it. */
  startDeploy: ["codebuild:BatchGetBuilds", "codebuild:StartBuild"],
  followDeployLogs: ["logs:GetLogEvents"],
  /** A CodeBuild project in a VPC looks up its network (Describe calls take no resource)... */
  vpcDescribe: ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"],
  /** ...and manages its network interfaces, in its own subnets and security group. */
  vpcNetworkInterfaces: ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
} as const;

export type PipelineStageName = "source" | "build" | "approve" | "deploy";

export interface PipelineStagePlan {
  readonly name: PipelineStageName;
  /** What the stage does, in one line (reports, generated workflow comments). */
  readonly does: string;
}

/** A source repository; `owner` stays undefined until `pipelines.repositoryOwner` is set. */
export interface SourceRepositoryPlan {
  readonly owner?: string;
  readonly name: string;
  readonly branch: string;
}

/** How the deploy stage releases a new image. */
export type DeployKind = "kubernetes-rollout" | "gitops" | "vm-rollout" | "app-platform-release";

export interface ServiceDeliveryPlan {
  readonly service: string;
  readonly kind: "service" | "bff";
  readonly source: SourceRepositoryPlan;
  /** The service's container registry repository (its `ServicePlan.repository`). */
  readonly registry: string;
  /** Pipeline stages, in execution order. */
  readonly stages: readonly PipelineStagePlan[];
  /** A person approves before the deploy stage (prod). */
  readonly approval: boolean;
  readonly deploy: {
    readonly kind: DeployKind;
    /** Namespace, Deployment and container the deploy stage may change, and nothing else. */
    readonly namespace: string;
    readonly deployment: string;
    readonly container: string;
    /** Kubernetes group the deployer's identity is mapped to; RBAC lets it roll only this Deployment. */
    readonly kubernetesGroup: string;
    /** `vm-rollout`: the Auto Scaling group whose instances are refreshed, and nothing else. */
    readonly autoScalingGroup?: string;
    /** `app-platform-release` on AWS: the Beanstalk application and the one environment a release updates. */
    readonly beanstalk?: { readonly application: string; readonly environment: string };
  };
  /** Names (account- or project-unique) both engines and the workflows use. */
  readonly names: {
    readonly pipeline: string;
    readonly buildProject: string;
    readonly deployProject: string;
    /** Role a GitHub build job assumes to push the image. */
    readonly publishRole: string;
    /** Role a GitHub deploy job assumes to run the deploy project. */
    readonly deployRole: string;
  };
  /** GitHub environment of the deploy job, and the OIDC subjects its roles trust. */
  readonly github: {
    readonly environment: string;
    /** `repo:<owner>/<repo>:ref:refs/heads/<branch>`; undefined without an owner. */
    readonly publishSubject?: string;
    /** `repo:<owner>/<repo>:environment:<environment>`; undefined without an owner. */
    readonly deploySubject?: string;
  };
  /** Parameter holding the released image, which the service's infrastructure deploys. */
  readonly releaseParameter: string;
}

export interface DeliveryPlan {
  readonly implementation: string;
  readonly provider: "native" | "github-actions";
  readonly owner?: string;
  readonly branch: string;
  readonly connectionArn?: string;
  readonly githubOidcProviderArn?: string;
  readonly testCommand: string;
  readonly logRetentionDays: number;
  /** One entry per service and BFF, in plan order. */
  readonly services: readonly ServiceDeliveryPlan[];
}

const DEPLOY_KIND: Readonly<Record<Tier, DeployKind>> = { caas: "kubernetes-rollout", iaas: "vm-rollout", paas: "app-platform-release" };

/** The Kubernetes group a service's deployer identity belongs to. */
export function deployerGroup(zone: string, service: string): string {
  return physicalName("kubernetes", zone, service, "deployer");
}

/** `owner/name`; throws when the owner is not known yet. */
export function repositoryFullName(source: SourceRepositoryPlan): string {
  if (!source.owner) {
    throw new Error(`repository "${source.name}" has no owner: pipelines.repositoryOwner is undefined. Fix: set pipelines.repositoryOwner to the GitHub organization or user`);
  }
  return `${source.owner}/${source.name}`;
}

/**
 * Plans a pipeline and registry per service and BFF. `namespace` is the workloads namespace the
 * deploy stage targets.
 */
export function planDelivery(spec: LandingZoneSpec, services: readonly ServicePlan[], implementation: string, namespace: string): DeliveryPlan {
  const { pipelines } = spec;
  const prod = spec.environment === "prod";
  const deployKind = spec.cloud === "kubernetes" ? "gitops" : DEPLOY_KIND[spec.tier];
  const github = pipelines.provider === "github-actions";
  const repositories = new Map([...spec.services, ...spec.bffs].map((s) => [s.name, s.repository]));
  return {
    implementation: github ? "github-actions" : implementation,
    provider: pipelines.provider,
    ...(pipelines.repositoryOwner ? { owner: pipelines.repositoryOwner } : {}),
    branch: pipelines.branch,
    ...(pipelines.connectionArn ? { connectionArn: pipelines.connectionArn } : {}),
    ...(pipelines.githubOidcProviderArn ? { githubOidcProviderArn: pipelines.githubOidcProviderArn } : {}),
    testCommand: pipelines.testCommand,
    logRetentionDays: prod ? 365 : 30,
    services: services.map((service) => {
      const source: SourceRepositoryPlan = { ...(pipelines.repositoryOwner ? { owner: pipelines.repositoryOwner } : {}), name: repositories.get(service.name) ?? service.name, branch: pipelines.branch };
      const full = source.owner ? `${source.owner}/${source.name}` : undefined;
      const approval = prod && deployKind !== "gitops";
      return {
        service: service.name,
        kind: service.kind,
        source,
        registry: service.repository,
        stages: stagesOf(spec, service, source, approval, deployKind),
        approval,
        deploy: {
          kind: deployKind,
          namespace,
          deployment: service.name,
          container: service.name,
          kubernetesGroup: deployerGroup(spec.name, service.name),
          ...(deployKind === "vm-rollout" ? { autoScalingGroup: hostedServiceNames(spec, service).autoScalingGroup } : {}),
          ...(deployKind === "app-platform-release" && spec.cloud === "aws" ? { beanstalk: { application: beanstalkApplicationName(spec), environment: hostedServiceNames(spec, service).environment } } : {}),
        },
        names: {
          pipeline: physicalName("pipeline", spec.name, spec.environment, service.name),
          buildProject: physicalName("pipeline", spec.name, spec.environment, service.name, "build"),
          deployProject: physicalName("pipeline", spec.name, spec.environment, service.name, "deploy"),
          publishRole: physicalName("iamRole", spec.name, spec.environment, service.name, "publish"),
          deployRole: physicalName("iamRole", spec.name, spec.environment, service.name, "deploy"),
        },
        github: {
          environment: spec.environment,
          ...(full ? { publishSubject: `repo:${full}:ref:refs/heads/${pipelines.branch}`, deploySubject: `repo:${full}:environment:${spec.environment}` } : {}),
        },
        releaseParameter: `/msa/${spec.name}/${spec.environment}/delivery/${service.name}/image`,
      };
    }),
  };
}

function stagesOf(spec: LandingZoneSpec, service: ServicePlan, source: SourceRepositoryPlan, approval: boolean, deployKind: DeployKind): PipelineStagePlan[] {
  const where = `${source.owner ?? "<pipelines.repositoryOwner>"}/${source.name}@${source.branch}`;
  const deploy: Record<DeployKind, string> = {
    "kubernetes-rollout": `roll Deployment ${service.name} to the pushed digest and wait for it`,
    gitops: `commit the pushed digest to deploy/ in ${source.name}; Argo CD syncs Deployment ${service.name}`,
    "vm-rollout": `refresh the instances of ${service.name} onto the pushed digest`,
    "app-platform-release": `release the pushed digest as a new version of ${service.name}`,
  };
  return [
    { name: "source", does: `each push to ${where}` },
    { name: "build", does: `unit tests (${spec.pipelines.testCommand}), image build, push to ${service.repository} tagged with the commit` },
    ...(approval ? [{ name: "approve" as const, does: "a person approves the release (prod)" }] : []),
    { name: "deploy", does: deploy[deployKind] },
  ];
}

/**
 * What must be set before delivery can be built; empty when nothing is missing. The planner
 * reports these only when planning for an engine, so `mlz plan` can still show a draft.
 */
export function deliveryProblems(delivery: DeliveryPlan): string[] {
  return delivery.owner ? [] : ["pipelines.repositoryOwner is undefined, but each pipeline builds from <owner>/<repository>. Fix: set pipelines.repositoryOwner to the GitHub organization or user, or pipelines.perService: false"];
}
