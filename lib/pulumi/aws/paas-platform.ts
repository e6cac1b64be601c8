import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { BEANSTALK_SERVICE_MANAGED_POLICIES } from "../../plan/host-bootstrap.js";
import { beanstalkApplicationName } from "../../plan/hosts.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { serviceRepositories } from "./service-repository.js";

export interface PaasPlatformArgs {
  /** VPC of the environments' instances. */
  readonly vpcId: pulumi.Input<string>;
  /** Name of the Elastic Beanstalk application holding one environment per service. */
  readonly applicationName: string;
  /**
   * ECR repositories to create, by name (one per service).
   * @default - none
   */
  readonly repositories?: readonly string[];
  /**
   * Cloud Map HTTP namespace the services register in, such as `prod.shop.internal`.
   * @default - no registry
   */
  readonly namespace?: string;
  /**
   * Protect the repositories and the bundle bucket (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/** Maps a plan (tier paas) and its VPC to {@link PaasPlatformArgs}. */
export function paasPlatformArgsFromPlan(plan: LandingZonePlan, vpcId: pulumi.Input<string>): PaasPlatformArgs {
  const namespace = plan.hosts?.discovery?.namespace;
  return {
    vpcId,
    applicationName: beanstalkApplicationName(plan),
    repositories: plan.services.map((s) => s.repository),
    ...(namespace ? { namespace } : {}),
    retain: plan.protection.retain,
    tags: plan.tags,
  };
}

/**
 * What the Elastic Beanstalk services of a landing zone share, as the CDK `PaasPlatform` builds it:
 * the application, the service role Beanstalk uses for enhanced health and managed platform
 * updates, the workload security group of every instance, the Cloud Map HTTP namespace, one ECR
 * repository per service, and a private bucket for the environments' source bundles (CDK uses its
 * asset bucket). Each service is a {@link PaasService}.
 *
 * @example
 * const platform = new PaasPlatform("shop-platform", { vpcId: network.vpcId, applicationName: "shop-prod" });
 */
export class PaasPlatform extends pulumi.ComponentResource {
  readonly applicationName: pulumi.Output<string>;
  readonly serviceRoleArn: pulumi.Output<string>;
  readonly workloadSecurityGroupId: pulumi.Output<string>;
  readonly bundleBucket: pulumi.Output<string>;
  readonly namespaceId?: pulumi.Output<string>;
  readonly repositoryUrls: pulumi.Output<Record<string, string>>;
  readonly nodes: {
    readonly application: aws.elasticbeanstalk.Application;
    readonly serviceRole: aws.iam.Role;
    readonly securityGroup: aws.ec2.SecurityGroup;
    readonly bundleBucket: aws.s3.Bucket;
    readonly namespace?: aws.servicediscovery.HttpNamespace;
    readonly repositories: Readonly<Record<string, aws.ecr.Repository>>;
  };

  constructor(name: string, args: PaasPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("msa:aws:PaasPlatform", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const retain = args.retain ?? false;
    const partition = aws.getPartitionOutput({}, parent).partition;

    const application = new aws.elasticbeanstalk.Application(`${name}-application`, { name: args.applicationName, description: "One environment per service of the landing zone", tags }, parent);
    const serviceRole = new aws.iam.Role(
      `${name}-service-role`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "elasticbeanstalk.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "sts:ExternalId": "elasticbeanstalk" } } }],
        }),
        description: "Elastic Beanstalk: enhanced health and managed platform updates",
        tags,
      },
      parent,
    );
    BEANSTALK_SERVICE_MANAGED_POLICIES.forEach((policy, i) => {
      new aws.iam.RolePolicyAttachment(`${name}-service-role-${i}`, { role: serviceRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}` }, parent);
    });
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-workloads`,
      {
        vpcId: args.vpcId,
        description: "Instances of the services of the landing zone",
        // Instances pull images and platform updates through NAT and call AWS APIs.
        egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "Registries, updates and AWS APIs through NAT" }],
        tags: { ...tags, Name: `${name}-workloads` },
      },
      parent,
    );
    const bundleBucket = new aws.s3.Bucket(`${name}-bundles`, { forceDestroy: !retain, tags }, { parent: this, protect: retain, retainOnDelete: retain });
    new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-bundles`, { bucket: bundleBucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }] }, parent);
    new aws.s3.BucketPublicAccessBlock(`${name}-bundles`, { bucket: bundleBucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, parent);
    new aws.s3.BucketPolicy(
      `${name}-bundles-tls`,
      {
        bucket: bundleBucket.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [{ Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [bundleBucket.arn, pulumi.interpolate`${bundleBucket.arn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
        }),
      },
      parent,
    );
    const namespace = args.namespace ? new aws.servicediscovery.HttpNamespace(`${name}-namespace`, { name: args.namespace, description: "Registry of the landing zone's services", tags }, parent) : undefined;
    const repositories = serviceRepositories(this, name, args.repositories ?? [], { retain, tags });

    this.applicationName = application.name;
    this.serviceRoleArn = serviceRole.arn;
    this.workloadSecurityGroupId = securityGroup.id;
    this.bundleBucket = bundleBucket.bucket;
    if (namespace) this.namespaceId = namespace.id;
    this.repositoryUrls = pulumi.all(Object.fromEntries(Object.entries(repositories).map(([n, r]) => [n, r.repositoryUrl])));
    this.nodes = { application, serviceRole, securityGroup, bundleBucket, repositories, ...(namespace ? { namespace } : {}) };
    this.registerOutputs({ applicationName: this.applicationName, serviceRoleArn: this.serviceRoleArn, workloadSecurityGroupId: this.workloadSecurityGroupId });
  }
}
