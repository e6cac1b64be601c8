import {
  Lazy,
  RemovalPolicy,
  Stack,
  aws_autoscaling as autoscaling,
  aws_ec2 as ec2,
  aws_iam as iam,
  type aws_kms as kms,
  aws_logs as logs,
} from "aws-cdk-lib";
import { Construct } from "constructs";
import { acknowledgeScalingNotifications, addInstanceRoleStatements } from "./hosted-service-parts.js";
import { createLogKey } from "./log-key.js";
import { VM_MANAGED_POLICIES, logstashBootLogGroup, logstashHostStatements, logstashHostUserData } from "../plan/host-bootstrap.js";
import type { LandingZonePlan } from "../plan/types.js";

export interface LogstashHostsProps {
  /** The landing-zone plan; `plan.hosts.logstash` sizes the hosts. */
  readonly plan: LandingZonePlan;
  /** VPC of the hosts. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the hosts.
   * @default - the VPC's private subnets with egress
   */
  readonly subnets?: ec2.SubnetSelection;
  /** `logstash.conf`: the Redis buffer in, the OpenSearch domain out (`logstashPipelineConfig`). */
  readonly pipeline: string;
  /** ARN of the secret holding the buffer's AUTH token. */
  readonly bufferSecretArn: string;
  /** ARN of the OpenSearch domain Logstash writes to. */
  readonly domainArn: string;
  /**
   * KMS key of the boot log group; CloudWatch Logs must be allowed to use it.
   * @default - a new key (`createLogKey`), billed monthly
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * What happens to the hosts' boot log group when the stack deletes it.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Logstash for service models without a cluster: a fixed-size Auto Scaling group of Amazon Linux
 * 2023 instances (IMDSv2 only, encrypted disks, no SSH key, no public IP) in private subnets, each
 * running the OpenSearch-output Logstash image that pops the Redis buffer and signs its writes
 * with the instance role. Several hosts drain the same list, so any of them may fail or be replaced.
 *
 * Cost: the instances are billed hourly.
 *
 * @example
 * new LogstashHosts(stack, "Logstash", { plan, vpc, pipeline, bufferSecretArn, domainArn: domain.domainArn });
 */
export class LogstashHosts extends Construct implements ec2.IConnectable {
  readonly securityGroup: ec2.SecurityGroup;
  readonly connections: ec2.Connections;
  readonly role: iam.Role;
  readonly autoScalingGroup: autoscaling.CfnAutoScalingGroup;

  constructor(scope: Construct, id: string, props: LogstashHostsProps) {
    super(scope, id);
    const { plan } = props;
    const hosts = plan.hosts?.logstash;
    if (!hosts) throw new Error(`LogstashHosts ${this.node.path}: plan.hosts.logstash is undefined. Fix: plan tier iaas or paas with logging.stack: elk`);
    const stack = Stack.of(this);
    this.securityGroup = new ec2.SecurityGroup(this, "SecurityGroup", {
      vpc: props.vpc,
      description: "Logstash hosts: outbound to the buffer, the domain and image registries only",
      allowAllOutbound: true,
    });
    this.connections = this.securityGroup.connections;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logKey = props.logEncryptionKey ?? createLogKey(this, "LogKey", { description: `Encrypts the boot logs of ${this.node.path}`, removalPolicy });
    new logs.LogGroup(this, "BootLogs", { logGroupName: logstashBootLogGroup(plan), retention: plan.hosts!.platformLogRetentionDays, encryptionKey: logKey, removalPolicy });
    this.role = new iam.Role(this, "InstanceRole", {
      assumedBy: new iam.ServicePrincipal("ec2.amazonaws.com"),
      description: `Logstash hosts of ${plan.name}/${plan.environment}`,
      managedPolicies: VM_MANAGED_POLICIES.map((name) => iam.ManagedPolicy.fromAwsManagedPolicyName(name)),
    });
    addInstanceRoleStatements(
      this.role,
      logstashHostStatements(plan, { partition: stack.partition, region: stack.region, account: stack.account, domainArn: props.domainArn, bufferSecretArn: props.bufferSecretArn }),
      "the Logstash hosts' instance role",
    );

    const launchTemplate = new ec2.LaunchTemplate(this, "LaunchTemplate", {
      machineImage: ec2.MachineImage.fromSsmParameter(hosts.amiParameter, { os: ec2.OperatingSystemType.LINUX }),
      instanceType: new ec2.InstanceType(hosts.instanceType),
      userData: ec2.UserData.custom(
        logstashHostUserData(plan, {
          region: stack.region,
          pipeline: props.pipeline,
          bufferSecretArn: props.bufferSecretArn,
          bootLogGroup: logstashBootLogGroup(plan),
          readyCommand: `/opt/aws/bin/cfn-signal -e 0 --stack ${stack.stackName} --resource ${Lazy.string({ produce: () => stack.getLogicalId(this.autoScalingGroup) })} --region ${stack.region}`,
        }),
      ),
      role: this.role,
      securityGroup: this.securityGroup,
      requireImdsv2: true,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      // Logstash signs its OpenSearch requests with the instance role from inside its container.
      httpPutResponseHopLimit: 2,
      associatePublicIpAddress: false,
      blockDevices: [{ deviceName: "/dev/xvda", volume: ec2.BlockDeviceVolume.ebs(hosts.rootVolumeGiB, { volumeType: ec2.EbsDeviceVolumeType.GP3, encrypted: true, deleteOnTermination: true }) }],
    });
    const count = String(hosts.count);
    this.autoScalingGroup = new autoscaling.CfnAutoScalingGroup(this, "AutoScalingGroup", {
      launchTemplate: { launchTemplateId: launchTemplate.launchTemplateId!, version: launchTemplate.latestVersionNumber },
      minSize: count,
      maxSize: count,
      vpcZoneIdentifier: props.vpc.selectSubnets(props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
      healthCheckType: "EC2",
      healthCheckGracePeriod: 300,
    });
    acknowledgeScalingNotifications(this.autoScalingGroup);
    this.autoScalingGroup.cfnOptions.creationPolicy = { resourceSignal: { count: hosts.count, timeout: "PT15M" } };
    this.autoScalingGroup.cfnOptions.updatePolicy = {
      autoScalingRollingUpdate: { maxBatchSize: 1, minInstancesInService: hosts.count - 1, pauseTime: "PT15M", waitOnResourceSignals: true },
    };
  }
}
