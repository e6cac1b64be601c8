import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { ManifestObject } from "../../kubernetes/types.js";
import { beanstalkBucket, beanstalkBundleProblem, beanstalkReleaseEnvironment, beanstalkReleaseStageSpec, beanstalkReleaseStatements } from "../../plan/beanstalk-release.js";
import { buildEnvironment, buildStageSpec, deployEnvironment, deployStageSpec, instanceRefreshEnvironment, instanceRefreshStageSpec } from "../../plan/buildspec.js";
import { DELIVERY_ACTIONS, DELIVERY_SETTINGS, GITHUB_OIDC } from "../../plan/delivery.js";
import { applyManifests } from "../kubernetes/add-on.js";
import { privateBucket } from "./private-bucket.js";
import { serviceRepository } from "./service-repository.js";

/** A native pipeline's source: a repository reached through an AWS CodeConnections connection. */
export interface ServiceDeliverySourceArgs {
  readonly connectionArn: pulumi.Input<string>;
  readonly owner: string;
  readonly repository: string;
  /**
   * Branch whose pushes run the pipeline.
   * @default "main"
   */
  readonly branch?: string;
}

/** GitHub Actions federation: the roles a service's workflow assumes through OIDC. */
export interface ServiceDeliveryGitHubArgs {
  /** ARN of the account's IAM OIDC provider for `token.actions.githubusercontent.com`. */
  readonly oidcProviderArn: pulumi.Input<string>;
  /** OIDC subject allowed to push images, e.g. `repo:acme/orders:ref:refs/heads/main`. */
  readonly publishSubject: string;
  /** OIDC subject allowed to deploy, e.g. `repo:acme/orders:environment:prod`. */
  readonly deploySubject: string;
  /**
   * Name of the publish role.
   * @default - generated
   */
  readonly publishRoleName?: string;
  /**
   * Name of the deploy role.
   * @default - generated
   */
  readonly deployRoleName?: string;
}

/** The one Deployment the deploy step may roll, and how it reaches the cluster. */
export interface ServiceDeliveryDeployArgs {
  readonly clusterName: pulumi.Input<string>;
  readonly namespace: string;
  readonly deployment: string;
  /**
   * Container running the service's image.
   * @default - the deployment name
   */
  readonly container?: string;
  /** Kubernetes group of the deploy project's role (an EKS access entry); RBAC grants it the Deployment. */
  readonly kubernetesGroup: string;
  readonly vpcId: pulumi.Input<string>;
  /** Subnets with a route to AWS APIs and dl.k8s.io (private, with NAT). */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Security group of the cluster endpoint; it gets an HTTPS rule from the deploy project.
   * @default - no rule
   */
  readonly clusterSecurityGroupId?: pulumi.Input<string>;
  /**
   * Provider of the cluster, and the RBAC objects (from `deployerRbac(plan, delivery)`) applied with it.
   * @default - not applied: bind the group yourself
   */
  readonly rbac?: { readonly provider: k8s.Provider; readonly manifests: readonly ManifestObject[]; readonly dependsOn?: pulumi.Input<pulumi.Resource>[] };
}

export interface ServiceDeliveryArgs {
  /** Service (or BFF) name, used in descriptions. */
  readonly serviceName: string;
  /**
   * Name of the ECR repository to create. Give this or `existingRepository`.
   * @default - none: `existingRepository` is used
   */
  readonly repositoryName?: string;
  /**
   * The service's repository when it exists already (an `aws.ecr.Repository`, e.g. the platform's); nothing is created then.
   * @default - a repository named `repositoryName`
   */
  readonly existingRepository?: { readonly repositoryUrl: pulumi.Input<string>; readonly arn: pulumi.Input<string> };
  /**
   * Customer-managed key of a created repository.
   * @default - the AWS-managed ECR key
   */
  readonly registryKeyArn?: pulumi.Input<string>;
  /**
   * Source of a native CodePipeline V2 (source, build, approval, deploy). Give this or `github`.
   * @default - no pipeline
   */
  readonly source?: ServiceDeliverySourceArgs;
  /**
   * GitHub Actions federation instead of a pipeline. Give this or `source`.
   * @default - no GitHub roles
   */
  readonly github?: ServiceDeliveryGitHubArgs;
  /**
   * What the deploy step releases to: a Deployment it rolls (caas) or an Auto Scaling group it
   * refreshes (iaas) or a Beanstalk environment it updates (paas). Required with `source` or `github`.
   * @default - registry only
   */
  readonly deploy?: ServiceDeliveryDeployArgs | ServiceDeliveryFleetArgs | ServiceDeliveryEnvironmentArgs;
  /**
   * A manual approval before the deploy stage (prod).
   * @default false
   */
  readonly approval?: boolean;
  /**
   * Command of the build stage that runs the unit tests.
   * @default "docker build --target test ."
   */
  readonly testCommand?: string;
  /**
   * SSM parameter the deploy step writes the released image to.
   * @default - `/msa/delivery/<serviceName>/image`
   */
  readonly releaseParameterName?: string;
  /**
   * Images the repository keeps.
   * @default 30
   */
  readonly imagesKept?: number;
  /**
   * Days the build and deploy logs are kept.
   * @default 30
   */
  readonly logRetentionDays?: number;
  /**
   * Names of the pipeline and projects.
   * @default - generated
   */
  readonly names?: { readonly pipeline?: string; readonly buildProject?: string; readonly deployProject?: string };
  /**
   * Protect and keep the repository, artifact bucket and key (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly repository?: (args: aws.ecr.RepositoryArgs) => void;
    readonly buildProject?: (args: aws.codebuild.ProjectArgs) => void;
    readonly deployProject?: (args: aws.codebuild.ProjectArgs) => void;
    readonly pipeline?: (args: aws.codepipeline.PipelineArgs) => void;
  };
}

/**
 * A VM service's fleet (iaas): the deploy step records the image in the release parameter, which
 * the instances read at boot (`VmService` `releaseParameterName`), and refreshes this one group.
 */
export interface ServiceDeliveryFleetArgs {
  /** Name of the service's Auto Scaling group. */
  readonly autoScalingGroupName: pulumi.Input<string>;
}

/**
 * A service's Elastic Beanstalk environment (paas): the deploy step writes the service's bundle as
 * a new application version, deploys it to this one environment with the released image and
 * records the release once the environment is Ready and Green.
 */
export interface ServiceDeliveryEnvironmentArgs {
  /** The Beanstalk application holding the environment (`PaasPlatform.applicationName`). */
  readonly applicationName: string;
  /** Name of the service's environment. */
  readonly environmentName: string;
  /** Files of the source bundle the environment runs (`plannedBeanstalkBundle(plan, service)`); each release ships exactly these. */
  readonly bundle: Readonly<Record<string, string>>;
}

/** How a deploy project reaches and changes its target: what differs between a cluster, a fleet and an environment. */
interface DeployTargetParts {
  readonly description: pulumi.Input<string>;
  readonly buildSpec: Record<string, unknown>;
  /** The project's variables. */
  readonly environment: pulumi.Output<Record<string, string>>;
  readonly vpcConfig?: aws.codebuild.ProjectArgs["vpcConfig"];
  readonly securityGroup?: aws.ec2.SecurityGroup;
  /** What the deployer may do on its target... */
  readonly statements: pulumi.Input<readonly object[]>;
  /**
   * Timeout of the deploy project, in minutes.
   * @default DELIVERY_SETTINGS.deployTimeoutMinutes
   */
  readonly timeoutMinutes?: number;
  /** ...and, in a VPC, with its network interfaces. */
  readonly networkStatements?: readonly object[];
}

/** The raw children of a {@link ServiceDelivery}. */
export interface ServiceDeliveryNodes {
  /** The created repository; undefined with `existingRepository`. */
  readonly repository?: aws.ecr.Repository;
  readonly releaseParameter?: aws.ssm.Parameter;
  readonly deployProject?: aws.codebuild.Project;
  readonly deployerRole?: aws.iam.Role;
  readonly accessEntry?: aws.eks.AccessEntry;
  readonly deploySecurityGroup?: aws.ec2.SecurityGroup;
  readonly artifactsKey?: aws.kms.Key;
  readonly artifactBucket?: aws.s3.Bucket;
  readonly buildProject?: aws.codebuild.Project;
  readonly pipeline?: aws.codepipeline.Pipeline;
  readonly publishRole?: aws.iam.Role;
  readonly deployRole?: aws.iam.Role;
}

/**
 * A service's registry and delivery: an ECR repository (scan on push, immutable tags, KMS,
 * lifecycle; or an existing one), and either a CodePipeline V2 (source through CodeConnections, build with unit tests
 * and push, manual approval when asked, deploy) or GitHub OIDC roles. The deploy project runs in
 * the VPC, may describe only its cluster and write only its release parameter, and its Kubernetes
 * group may roll only the service's Deployment; on a fleet (iaas) it runs outside the VPC and may only
 * record its release and refresh the service's one Auto Scaling group; on Beanstalk (paas) it runs
 * outside the VPC and may only publish a version of its bundle and update the service's one
 * environment (with the rights Beanstalk uses on that environment's resources). The same design as
 * the CDK construct.
 *
 * Cost: CodePipeline V2 bills per action minute, CodeBuild per build minute, the artifacts KMS key
 * monthly; ECR bills stored images.
 *
 * @example
 * new ServiceDelivery("orders", {
 *   serviceName: "orders", existingRepository: platform.nodes.repositories["shop-orders"],
 *   source: { connectionArn, owner: "acme", repository: "orders" },
 *   deploy: { clusterName: "shop", namespace: "shop", deployment: "orders", kubernetesGroup: "shop-orders-deployer", vpcId, subnetIds },
 * });
 */
export class ServiceDelivery extends pulumi.ComponentResource {
  readonly repositoryUrl: pulumi.Output<string>;
  readonly repositoryArn: pulumi.Output<string>;
  /**
   * The image the pipeline last released (the release parameter read after it exists), or the
   * repository's `latest` tag before the first release. Undefined without a deploy target.
   */
  readonly releasedImage?: pulumi.Output<string>;
  readonly nodes: ServiceDeliveryNodes;

  constructor(name: string, args: ServiceDeliveryArgs, opts?: pulumi.ComponentResourceOptions) {
    // Bad input is rejected before anything is registered.
    if (args.source && args.github) throw new Error(`ServiceDelivery ${name}: both source and github are set. Fix: give source for a CodePipeline, or github for GitHub Actions`);
    if ((args.source || args.github) && !args.deploy) throw new Error(`ServiceDelivery ${name}: deploy is undefined, but a pipeline needs a target. Fix: pass deploy`);
    if ((args.repositoryName === undefined) === (args.existingRepository === undefined)) {
      throw new Error(`ServiceDelivery ${name}: give exactly one of repositoryName (create) and existingRepository (reuse). Fix: pass one of them`);
    }
    const imagesKept = args.imagesKept ?? DELIVERY_SETTINGS.imagesKept;
    if (!Number.isInteger(imagesKept) || imagesKept < 1) throw new Error(`ServiceDelivery ${name}: imagesKept ${imagesKept} is not a positive integer. Fix: use 1 or more`);
    const bundleProblem = args.deploy && "bundle" in args.deploy ? beanstalkBundleProblem(`ServiceDelivery ${name}`, args.deploy.bundle) : undefined;
    if (bundleProblem) throw new Error(bundleProblem);
    super("msa:aws:ServiceDelivery", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const retain = args.retain ?? false;

    const created = args.existingRepository ? undefined : this.createRepository(name, args, imagesKept, retain, tags);
    const repository = args.existingRepository ?? created!;
    this.repositoryUrl = pulumi.output(repository.repositoryUrl);
    this.repositoryArn = pulumi.output(repository.arn);
    let nodes: ServiceDeliveryNodes = created ? { repository: created } : {};

    if (args.deploy) {
      const deploy = args.deploy;
      const releaseParameterName = args.releaseParameterName ?? `/msa/delivery/${args.serviceName}/image`;
      const partition = aws.getPartitionOutput({}, parent).partition;
      const region = aws.getRegionOutput({}, parent).region;
      const account = aws.getCallerIdentityOutput({}, parent).accountId;
      // The pipeline owns the value after the first deployment; Pulumi sets only the first one.
      const releaseParameter = new aws.ssm.Parameter(
        `${name}-release`,
        { name: releaseParameterName, type: "String", value: pulumi.interpolate`${this.repositoryUrl}:latest`, description: `Image of ${args.serviceName} released by its pipeline`, tags },
        { parent: this, ignoreChanges: ["value"] },
      );
      this.releasedImage = aws.ssm.getParameterOutput({ name: releaseParameterName }, { parent: this, dependsOn: [releaseParameter] }).value;

      const logGroup = (part: string) =>
        new aws.cloudwatch.LogGroup(`${name}-${part}-logs`, { retentionInDays: args.logRetentionDays ?? 30, tags }, { parent: this, protect: retain, retainOnDelete: retain });
      const deployLogs = logGroup("deploy");
      const artifactsKey = args.source ? new aws.kms.Key(`${name}-artifacts-key`, { description: `Pipeline artifacts of ${args.serviceName}`, enableKeyRotation: true, deletionWindowInDays: 30, tags }, { parent: this, protect: retain, retainOnDelete: retain }) : undefined;
      const artifacts = artifactsKey
        ? privateBucket(`${name}-artifacts`, { kmsKeyArn: artifactsKey.arn, expirationDays: DELIVERY_SETTINGS.artifactExpirationDays, retain, tags, parent: this })
        : undefined;

      const deployerRole = new aws.iam.Role(`${name}-deployer`, { assumeRolePolicy: servicePrincipalTrust("codebuild.amazonaws.com"), description: `Deploy project of ${args.serviceName}`, tags }, parent);
      const target =
        "autoScalingGroupName" in deploy
          ? this.fleetTarget(deploy, releaseParameterName, { releaseParameter, partition, region, account })
          : "environmentName" in deploy
            ? this.environmentTarget(deploy, releaseParameterName, { releaseParameter, partition, region, account })
            : this.clusterTarget(name, args.serviceName, deploy, releaseParameterName, { partition, region, account, tags });
      new aws.iam.RolePolicy(
        `${name}-deployer-policy`,
        {
          role: deployerRole.id,
          policy: pulumi.output(target.statements).apply((statements) => pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [
              ...statements,
              { Effect: "Allow", Action: [...DELIVERY_ACTIONS.recordRelease], Resource: releaseParameter.arn },
              { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: pulumi.interpolate`${deployLogs.arn}:*` },
              ...(target.networkStatements ?? []),
              ...(artifacts && artifactsKey
                ? [
                    { Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: pulumi.interpolate`${artifacts.bucket.arn}/*` },
                    { Effect: "Allow", Action: ["kms:Decrypt", "kms:DescribeKey"], Resource: artifactsKey.arn },
                  ]
                : []),
            ],
          })),
        },
        parent,
      );
      const deployProjectArgs: aws.codebuild.ProjectArgs = {
        ...(args.names?.deployProject ? { name: args.names.deployProject } : {}),
        description: target.description,
        serviceRole: deployerRole.arn,
        // In a pipeline the project reads the build artifact; a GitHub job starts it with IMAGE set.
        source: args.source ? { type: "CODEPIPELINE", buildspec: stringify(target.buildSpec) } : { type: "NO_SOURCE", buildspec: stringify(target.buildSpec) },
        artifacts: { type: args.source ? "CODEPIPELINE" : "NO_ARTIFACTS" },
        environment: {
          type: "LINUX_CONTAINER",
          image: DELIVERY_SETTINGS.buildImage,
          computeType: DELIVERY_SETTINGS.deployComputeType,
          privilegedMode: false,
          environmentVariables: target.environment.apply((environment) => Object.entries(environment).map(([variable, value]) => ({ name: variable, value, type: "PLAINTEXT" }))),
        },
        ...(target.vpcConfig ? { vpcConfig: target.vpcConfig } : {}),
        buildTimeout: target.timeoutMinutes ?? DELIVERY_SETTINGS.deployTimeoutMinutes,
        logsConfig: { cloudwatchLogs: { groupName: deployLogs.name, status: "ENABLED" } },
        ...(artifactsKey ? { encryptionKey: artifactsKey.arn } : {}),
        tags,
      };
      args.transform?.deployProject?.(deployProjectArgs);
      const deployProject = new aws.codebuild.Project(`${name}-deploy`, deployProjectArgs, parent);
      nodes = { ...nodes, releaseParameter, deployProject, deployerRole, ...(target.securityGroup ? { deploySecurityGroup: target.securityGroup } : {}) };
      if (!("autoScalingGroupName" in deploy) && !("environmentName" in deploy)) {
        const accessEntry = new aws.eks.AccessEntry(`${name}-deployer-access`, { clusterName: deploy.clusterName, principalArn: deployerRole.arn, kubernetesGroups: [deploy.kubernetesGroup], type: "STANDARD", tags }, parent);
        if (deploy.rbac && deploy.rbac.manifests.length > 0) {
          applyManifests(`${name}-deployer-rbac`, deploy.rbac.manifests, { provider: deploy.rbac.provider, parent: this, dependsOn: deploy.rbac.dependsOn ?? [] });
        }
        nodes = { ...nodes, accessEntry };
      }

      if (args.source && artifacts && artifactsKey) {
        const built = this.pipeline(name, args, args.source, { repositoryUrl: this.repositoryUrl, repositoryArn: this.repositoryArn, artifactsKey, artifactBucket: artifacts.bucket, deployProject, logGroup: logGroup("build"), partition, region, account, tags });
        nodes = { ...nodes, artifactsKey, artifactBucket: artifacts.bucket, ...built };
      }
      if (args.github) nodes = { ...nodes, ...this.githubRoles(name, args.github, { repositoryArn: this.repositoryArn, deployProject, deployLogs, tags }) };
    }
    this.nodes = nodes;
    this.registerOutputs({ repositoryUrl: this.repositoryUrl, repositoryArn: this.repositoryArn, ...(this.releasedImage ? { releasedImage: this.releasedImage } : {}) });
  }

  /** caas: a project in the VPC that describes only its cluster; its Kubernetes group may roll only the Deployment. */
  private clusterTarget(
    name: string,
    serviceName: string,
    deploy: ServiceDeliveryDeployArgs,
    releaseParameterName: string,
    at: { partition: pulumi.Output<string>; region: pulumi.Output<string>; account: pulumi.Output<string>; tags: Record<string, string> },
  ): DeployTargetParts {
    const parent = { parent: this };
    const { partition, region, account } = at;
    // HTTPS out only: AWS APIs, the cluster endpoint and dl.k8s.io.
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-deploy`,
      {
        vpcId: deploy.vpcId,
        description: `Deploy project of ${serviceName}`,
        egress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], description: "HTTPS to AWS APIs, the cluster endpoint and dl.k8s.io" }],
        tags: at.tags,
      },
      parent,
    );
    if (deploy.clusterSecurityGroupId) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-deploy-to-cluster`,
        { securityGroupId: deploy.clusterSecurityGroupId, referencedSecurityGroupId: securityGroup.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, description: `${serviceName} deploy project to the cluster endpoint` },
        parent,
      );
    }
    const clusterArn = pulumi.interpolate`arn:${partition}:eks:${region}:${account}:cluster/${deploy.clusterName}`;
    const subnetArns = pulumi.all([partition, region, account, pulumi.output(deploy.subnetIds)]).apply(([p, r, a, ids]) => ids.map((id) => `arn:${p}:ec2:${r}:${a}:subnet/${id}`));
    const target = { deploy: { namespace: deploy.namespace, deployment: deploy.deployment, container: deploy.container ?? deploy.deployment }, releaseParameter: releaseParameterName };
    return {
      description: `Rolls ${deploy.namespace}/${deploy.deployment} to a released image of ${serviceName}`,
      buildSpec: deployStageSpec(),
      environment: pulumi.all([this.repositoryUrl, pulumi.output(deploy.clusterName)]).apply(([url, cluster]) => deployEnvironment(target, url, cluster)),
      vpcConfig: { vpcId: deploy.vpcId, subnets: deploy.subnetIds, securityGroupIds: [securityGroup.id] },
      securityGroup,
      statements: [
        { Effect: "Allow", Action: [...DELIVERY_ACTIONS.describeCluster], Resource: clusterArn },
      ],
      networkStatements: [
        { Effect: "Allow", Action: [...DELIVERY_ACTIONS.vpcDescribe], Resource: "*" },
        {
          Effect: "Allow",
          Action: [...DELIVERY_ACTIONS.vpcNetworkInterfaces],
          Resource: pulumi
            .all([subnetArns, pulumi.interpolate`arn:${partition}:ec2:${region}:${account}:network-interface/*`, pulumi.interpolate`arn:${partition}:ec2:${region}:${account}:security-group/${securityGroup.id}`])
            .apply(([subnets, interfaces, group]) => [interfaces, group, ...subnets]),
        },
        {
          Effect: "Allow",
          Action: "ec2:CreateNetworkInterfacePermission",
          Resource: pulumi.interpolate`arn:${partition}:ec2:${region}:${account}:network-interface/*`,
          Condition: { StringEquals: { "ec2:Subnet": subnetArns, "ec2:AuthorizedService": "codebuild.amazonaws.com" } },
        },
      ],
    };
  }

  /** iaas: a project outside the VPC that records the release and refreshes only the service's Auto Scaling group. */
  private fleetTarget(
    deploy: ServiceDeliveryFleetArgs,
    releaseParameterName: string,
    at: { releaseParameter: aws.ssm.Parameter; partition: pulumi.Output<string>; region: pulumi.Output<string>; account: pulumi.Output<string> },
  ): DeployTargetParts {
    const { partition, region, account } = at;
    return {
      description: pulumi.interpolate`Refreshes the instances of ${deploy.autoScalingGroupName} onto a released image`,
      buildSpec: instanceRefreshStageSpec(),
      environment: pulumi.all([this.repositoryUrl, pulumi.output(deploy.autoScalingGroupName)]).apply(([url, autoScalingGroup]) => instanceRefreshEnvironment({ autoScalingGroup, releaseParameter: releaseParameterName }, url)),
      statements: [
        // A failed release reads the previous release to put it back.
        { Effect: "Allow", Action: [...DELIVERY_ACTIONS.readRelease], Resource: at.releaseParameter.arn },
        { Effect: "Allow", Action: [...DELIVERY_ACTIONS.refreshInstances], Resource: pulumi.interpolate`arn:${partition}:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/${deploy.autoScalingGroupName}` },
        { Effect: "Allow", Action: [...DELIVERY_ACTIONS.followRefresh], Resource: "*" },
      ],
      timeoutMinutes: DELIVERY_SETTINGS.instanceRefreshReleaseTimeoutMinutes,
    };
  }

  /** paas: a project outside the VPC that publishes the bundle as a new version and updates only the service's Beanstalk environment. */
  private environmentTarget(
    deploy: ServiceDeliveryEnvironmentArgs,
    releaseParameterName: string,
    at: { releaseParameter: aws.ssm.Parameter; partition: pulumi.Output<string>; region: pulumi.Output<string>; account: pulumi.Output<string> },
  ): DeployTargetParts {
    const target = { application: deploy.applicationName, environment: deploy.environmentName, releaseParameter: releaseParameterName };
    return {
      description: `Releases an image to the Beanstalk environment ${deploy.environmentName}`,
      buildSpec: beanstalkReleaseStageSpec(),
      environment: pulumi.all([this.repositoryUrl, at.region, at.account]).apply(([url, region, account]) => beanstalkReleaseEnvironment(target, url, beanstalkBucket(region, account), deploy.bundle)),
      statements: pulumi
        .all([at.partition, at.region, at.account, at.releaseParameter.arn])
        .apply(([partition, region, account, releaseParameterArn]) =>
          beanstalkReleaseStatements(target, { partition, region, account, releaseParameterArn }).map((s) => ({
            Sid: s.sid,
            Effect: "Allow",
            Action: [...s.actions],
            Resource: [...s.resources],
            ...(s.condition ? { Condition: s.condition } : {}),
          })),
        ),
      timeoutMinutes: DELIVERY_SETTINGS.environmentReleaseTimeoutMinutes,
    };
  }

  private createRepository(name: string, args: ServiceDeliveryArgs, imagesKept: number, retain: boolean, tags: Record<string, string>): aws.ecr.Repository {
    const transform = args.transform?.repository;
    return serviceRepository(this, {
      repositoryName: args.repositoryName!,
      resourceNames: { repository: `${name}-repository`, lifecycle: `${name}-lifecycle` },
      retain,
      tags,
      imagesKept,
      ...(args.registryKeyArn ? { kmsKeyArn: args.registryKeyArn } : {}),
      ...(transform ? { transform } : {}),
    });
  }

  private pipeline(
    name: string,
    args: ServiceDeliveryArgs,
    source: ServiceDeliverySourceArgs,
    parts: {
      repositoryUrl: pulumi.Output<string>;
      repositoryArn: pulumi.Output<string>;
      artifactsKey: aws.kms.Key;
      artifactBucket: aws.s3.Bucket;
      deployProject: aws.codebuild.Project;
      logGroup: aws.cloudwatch.LogGroup;
      partition: pulumi.Output<string>;
      region: pulumi.Output<string>;
      account: pulumi.Output<string>;
      tags: Record<string, string>;
    },
  ): { buildProject: aws.codebuild.Project; pipeline: aws.codepipeline.Pipeline } {
    const parent = { parent: this };
    const { artifactsKey, artifactBucket, deployProject, tags } = parts;
    const artifactObjects = pulumi.interpolate`${artifactBucket.arn}/*`;
    const buildRole = new aws.iam.Role(`${name}-builder`, { assumeRolePolicy: servicePrincipalTrust("codebuild.amazonaws.com"), description: `Build project of ${args.serviceName}`, tags }, parent);
    new aws.iam.RolePolicy(
      `${name}-builder-policy`,
      {
        role: buildRole.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: [...DELIVERY_ACTIONS.registryLogin], Resource: "*" },
            { Effect: "Allow", Action: [...DELIVERY_ACTIONS.registryPush], Resource: parts.repositoryArn },
            { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: pulumi.interpolate`${parts.logGroup.arn}:*` },
            { Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], Resource: artifactObjects },
            { Effect: "Allow", Action: ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"], Resource: artifactsKey.arn },
          ],
        }),
      },
      parent,
    );
    const buildProjectArgs: aws.codebuild.ProjectArgs = {
      ...(args.names?.buildProject ? { name: args.names.buildProject } : {}),
      description: `Tests, builds and pushes the ${args.serviceName} image`,
      serviceRole: buildRole.arn,
      source: { type: "CODEPIPELINE", buildspec: stringify(buildStageSpec(args.testCommand ?? "docker build --target test .")) },
      artifacts: { type: "CODEPIPELINE" },
      environment: {
        type: "LINUX_CONTAINER",
        image: DELIVERY_SETTINGS.buildImage,
        computeType: DELIVERY_SETTINGS.buildComputeType,
        // Docker builds need the daemon.
        privilegedMode: true,
        environmentVariables: parts.repositoryUrl.apply((url) => Object.entries(buildEnvironment(url)).map(([variable, value]) => ({ name: variable, value, type: "PLAINTEXT" }))),
      },
      buildTimeout: DELIVERY_SETTINGS.buildTimeoutMinutes,
      encryptionKey: artifactsKey.arn,
      logsConfig: { cloudwatchLogs: { groupName: parts.logGroup.name, status: "ENABLED" } },
      tags,
    };
    args.transform?.buildProject?.(buildProjectArgs);
    const buildProject = new aws.codebuild.Project(`${name}-build`, buildProjectArgs, parent);

    const pipelineRole = new aws.iam.Role(`${name}-pipeline-role`, { assumeRolePolicy: servicePrincipalTrust("codepipeline.amazonaws.com"), description: `Pipeline of ${args.serviceName}`, tags }, parent);
    new aws.iam.RolePolicy(
      `${name}-pipeline-policy`,
      {
        role: pipelineRole.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: ["codeconnections:UseConnection", "codestar-connections:UseConnection"], Resource: source.connectionArn },
            { Effect: "Allow", Action: ["codebuild:BatchGetBuilds", "codebuild:StartBuild"], Resource: [buildProject.arn, deployProject.arn] },
            { Effect: "Allow", Action: ["s3:GetBucketLocation", "s3:GetBucketVersioning"], Resource: artifactBucket.arn },
            { Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"], Resource: artifactObjects },
            { Effect: "Allow", Action: ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"], Resource: artifactsKey.arn },
          ],
        }),
      },
      parent,
    );
    const codeBuild = (actionName: string, project: aws.codebuild.Project, input: string, output?: string, environmentVariables?: string) => ({
      name: actionName,
      category: "Build",
      owner: "AWS",
      provider: "CodeBuild",
      version: "1",
      inputArtifacts: [input],
      ...(output ? { outputArtifacts: [output] } : {}),
      configuration: { ProjectName: project.name, ...(environmentVariables ? { EnvironmentVariables: environmentVariables } : {}) },
    });
    const pipelineArgs: aws.codepipeline.PipelineArgs = {
      ...(args.names?.pipeline ? { name: args.names.pipeline } : {}),
      pipelineType: "V2",
      roleArn: pipelineRole.arn,
      artifactStores: [{ location: artifactBucket.bucket, type: "S3", encryptionKey: { id: artifactsKey.arn, type: "KMS" } }],
      stages: [
        {
          name: "Source",
          actions: [
            {
              name: "Source",
              category: "Source",
              owner: "AWS",
              provider: "CodeStarSourceConnection",
              version: "1",
              namespace: "Source",
              outputArtifacts: ["Source"],
              configuration: { ConnectionArn: source.connectionArn, FullRepositoryId: `${source.owner}/${source.repository}`, BranchName: source.branch ?? "main" },
            },
          ],
        },
        { name: "Build", actions: [codeBuild("TestBuildPush", buildProject, "Source", "Image", JSON.stringify([{ name: "IMAGE_TAG", type: "PLAINTEXT", value: "#{Source.CommitId}" }]))] },
        ...(args.approval ? [{ name: "Approve", actions: [{ name: "Approve", category: "Approval", owner: "AWS", provider: "Manual", version: "1", configuration: { CustomData: `Release ${args.serviceName}` } }] }] : []),
        { name: "Deploy", actions: [codeBuild("Rollout", deployProject, "Image")] },
      ],
      tags,
    };
    args.transform?.pipeline?.(pipelineArgs);
    const pipeline = new aws.codepipeline.Pipeline(`${name}-pipeline`, pipelineArgs, parent);
    return { buildProject, pipeline };
  }

  private githubRoles(
    name: string,
    github: ServiceDeliveryGitHubArgs,
    parts: { repositoryArn: pulumi.Output<string>; deployProject: aws.codebuild.Project; deployLogs: aws.cloudwatch.LogGroup; tags: Record<string, string> },
  ): { publishRole: aws.iam.Role; deployRole: aws.iam.Role } {
    const parent = { parent: this };
    const trust = (subject: string) =>
      pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Federated: github.oidcProviderArn },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: { StringEquals: { [`${GITHUB_OIDC.host}:aud`]: GITHUB_OIDC.audience, [`${GITHUB_OIDC.host}:sub`]: subject } },
          },
        ],
      });
    const publishRole = new aws.iam.Role(
      `${name}-publish`,
      { ...(github.publishRoleName ? { name: github.publishRoleName } : {}), assumeRolePolicy: trust(github.publishSubject), maxSessionDuration: 3600, description: `GitHub Actions (${github.publishSubject}) pushes images`, tags: parts.tags },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-publish-policy`,
      {
        role: publishRole.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: [...DELIVERY_ACTIONS.registryLogin], Resource: "*" },
            { Effect: "Allow", Action: [...DELIVERY_ACTIONS.registryPush], Resource: parts.repositoryArn },
          ],
        }),
      },
      parent,
    );
    const deployRole = new aws.iam.Role(
      `${name}-deploy-role`,
      { ...(github.deployRoleName ? { name: github.deployRoleName } : {}), assumeRolePolicy: trust(github.deploySubject), maxSessionDuration: 3600, description: `GitHub Actions (${github.deploySubject}) runs the deploy project`, tags: parts.tags },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-deploy-role-policy`,
      {
        role: deployRole.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: [...DELIVERY_ACTIONS.startDeploy], Resource: parts.deployProject.arn },
            { Effect: "Allow", Action: [...DELIVERY_ACTIONS.followDeployLogs], Resource: pulumi.interpolate`${parts.deployLogs.arn}:*` },
          ],
        }),
      },
      parent,
    );
    return { publishRole, deployRole };
  }
}

function servicePrincipalTrust(service: string): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });
}
