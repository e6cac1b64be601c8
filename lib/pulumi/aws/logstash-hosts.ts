import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { VM_MANAGED_POLICIES, logstashBootLogGroup, logstashHostStatements, logstashHostUserData } from "../../plan/host-bootstrap.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { policyJson } from "./hosted-service-parts.js";
import { assumeRolePolicy } from "./kubernetes-platform.js";

export interface LogstashHostsArgs {
  /** The landing-zone plan; `plan.hosts.logstash` sizes the hosts. */
  readonly plan: LandingZonePlan;
  /** VPC of the hosts. */
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets (NAT egress) of the hosts. */
  readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** `logstash.conf` (`logstashPipelineConfig`), reading the password from `${REDIS_PASSWORD}`. */
  readonly pipeline: pulumi.Input<string>;
  /** ARN of the secret holding the buffer's AUTH token. */
  readonly bufferSecretArn: pulumi.Input<string>;
  /** ARN of the OpenSearch domain Logstash writes to. */
  readonly domainArn: pulumi.Input<string>;
  /**
   * The hosts' role (trusting ec2.amazonaws.com), when the domain's policy must name it before the hosts exist.
   * @default - a new role
   */
  readonly role?: aws.iam.Role;
  /**
   * Tags on every taggable child.
   * @default - plan.tags
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Logstash for service models without a cluster, as the CDK `LogstashHosts` builds it: a
 * fixed-size Auto Scaling group of Amazon Linux 2023 instances (IMDSv2 only, encrypted disks, no
 * SSH key, no public IP) in private subnets running the OpenSearch-output Logstash image that pops
 * the Redis buffer and signs its writes with the instance role.
 *
 * Cost: the instances are billed hourly.
 *
 * @example
 * new LogstashHosts("logstash", { plan, vpcId, privateSubnetIds, pipeline, bufferSecretArn, domainArn });
 */
export class LogstashHosts extends pulumi.ComponentResource {
  readonly securityGroupId: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  readonly nodes: { readonly securityGroup: aws.ec2.SecurityGroup; readonly role: aws.iam.Role; readonly launchTemplate: aws.ec2.LaunchTemplate; readonly autoScalingGroup: aws.autoscaling.Group };

  constructor(name: string, args: LogstashHostsArgs, opts?: pulumi.ComponentResourceOptions) {
    const hosts = args.plan.hosts?.logstash;
    if (!hosts) throw new Error(`LogstashHosts ${name}: plan.hosts.logstash is undefined. Fix: plan tier iaas or paas with logging.stack: elk`);
    super("msa:aws:LogstashHosts", name, {}, opts);
    const { plan } = args;
    const parent = { parent: this };
    const tags = { ...(args.tags ?? plan.tags) };
    const partition = aws.getPartitionOutput({}, parent).partition;
    const region = aws.getRegionOutput({}, parent).region;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;

    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: "Logstash hosts: outbound to the buffer, the domain and image registries only",
        egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "Buffer, domain, registries and AWS APIs" }],
        tags: { ...tags, Name: `${name}-logstash` },
      },
      parent,
    );
    // Logs are evidence: kept like the data in prod.
    const kept = plan.protection.retain ? { parent: this, protect: true, retainOnDelete: true } : parent;
    new aws.cloudwatch.LogGroup(`${name}-boot`, { name: logstashBootLogGroup(plan), retentionInDays: plan.hosts!.platformLogRetentionDays, tags }, kept);
    const role = args.role ?? new aws.iam.Role(`${name}-role`, { assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com"), description: `Logstash hosts of ${plan.name}/${plan.environment}`, tags }, parent);
    for (const policy of VM_MANAGED_POLICIES) new aws.iam.RolePolicyAttachment(`${name}-${policy}`, { role: role.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}` }, parent);
    new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.name,
        policy: pulumi
          .all([partition, region, account, pulumi.output(args.domainArn), pulumi.output(args.bufferSecretArn)])
          .apply(([p, r, a, domainArn, bufferSecretArn]) => policyJson(logstashHostStatements(plan, { partition: p, region: r, account: a, domainArn, bufferSecretArn }))),
      },
      parent,
    );
    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags }, parent);
    const userData = pulumi
      .all([region, pulumi.output(args.pipeline), pulumi.output(args.bufferSecretArn)])
      .apply(([r, pipeline, bufferSecretArn]) => Buffer.from(logstashHostUserData(plan, { region: r, pipeline, bufferSecretArn, bootLogGroup: logstashBootLogGroup(plan) })).toString("base64"));
    const launchTemplate = new aws.ec2.LaunchTemplate(
      `${name}-hosts`,
      {
        description: `Logstash hosts of ${plan.name}/${plan.environment}`,
        imageId: aws.ssm.getParameterOutput({ name: hosts.amiParameter }, parent).value,
        instanceType: hosts.instanceType,
        userData,
        iamInstanceProfile: { arn: profile.arn },
        // Logstash signs its OpenSearch requests with the instance role from inside its container.
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 2 },
        networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: "false", securityGroups: [securityGroup.id] }],
        blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: hosts.rootVolumeGiB, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } }],
        updateDefaultVersion: true,
        tags,
      },
      parent,
    );
    const autoScalingGroup = new aws.autoscaling.Group(
      `${name}-hosts`,
      {
        launchTemplate: { id: launchTemplate.id, version: pulumi.interpolate`${launchTemplate.latestVersion}` },
        minSize: hosts.count,
        maxSize: hosts.count,
        vpcZoneIdentifiers: args.privateSubnetIds,
        healthCheckType: "EC2",
        healthCheckGracePeriod: 300,
        instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 50 } },
        tags: Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
      },
      parent,
    );

    this.securityGroupId = securityGroup.id;
    this.roleArn = role.arn;
    this.nodes = { securityGroup, role, launchTemplate, autoScalingGroup };
    this.registerOutputs({ securityGroupId: this.securityGroupId, roleArn: this.roleArn });
  }
}
