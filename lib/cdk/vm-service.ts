import {
  CfnCreationPolicy,
  CfnUpdatePolicy,
  Duration,
  Lazy,
  RemovalPolicy,
  Stack,
  aws_autoscaling as autoscaling,
  aws_ec2 as ec2,
  aws_iam as iam,
  type aws_kms as kms,
  aws_logs as logs,
  aws_secretsmanager as secretsmanager,
  aws_servicediscovery as servicediscovery,
} from "aws-cdk-lib";
import { Construct } from "constructs";
import { VM_MANAGED_POLICIES, vmUserData, type HostLogBuffer, type HostSessionStore } from "../plan/host-bootstrap.js";
import { hostedServiceNames, rollingMinInService } from "../plan/hosts.js";
import { subscriptionsOf } from "../plan/lookup.js";
import type { LandingZonePlan, ServicePlan } from "../plan/types.js";
import type { ConfigStore } from "./config-store.js";
import { acknowledgeScalingNotifications, createHostedServiceParts, findService, grantHostedService } from "./hosted-service-parts.js";
import { createLogKey } from "./log-key.js";
import type { ServiceMessagingArns } from "./service-workload.js";

/** The Cloud Map private DNS namespace a service registers in. */
export interface VmServiceDiscovery {
  /** Id of the Cloud Map private DNS namespace. */
  readonly namespaceId: string;
  /** Route 53 private hosted zone of the namespace. */
  readonly hostedZoneId: string;
}

export interface VmServiceProps {
  /** The landing-zone plan (tier iaas) holding the service. */
  readonly plan: LandingZonePlan;
  /** Name of the service or BFF in `plan.services`. */
  readonly serviceName: string;
  /** VPC of the instances. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the instances.
   * @default - the VPC's private subnets with egress
   */
  readonly subnets?: ec2.SubnetSelection;
  /** The landing zone's workload security group (`VmPlatform.workloadSecurityGroup`). */
  readonly workloadSecurityGroup: ec2.ISecurityGroup;
  /** Container image the instances run, such as the service's ECR repository URI with a tag. */
  readonly image: string;
  /**
   * ECR repository the image comes from; the instances may pull from it.
   * @default - no ECR pull permission (a public image)
   */
  readonly repositoryName?: string;
  /**
   * SSM parameter the service's pipeline records releases in (`ServiceDelivery.releaseParameter`);
   * the instances read their image from it at boot, so an instance refresh deploys a release.
   * @default - none: the instances run `image`
   */
  readonly releaseParameterName?: string;
  /**
   * Gateway target groups (instance type) the instances register in.
   * @default - none: the service is reached only through the registry
   */
  readonly targetGroupArns?: readonly string[];
  /**
   * The namespace the instances register in while they run.
   * @default - no registration
   */
  readonly discovery?: VmServiceDiscovery;
  /**
   * Topic and queue ARNs of the service; required when it publishes or subscribes.
   * @default - none
   */
  readonly messagingArns?: ServiceMessagingArns;
  /**
   * Environment variables added to the service's: where its database, tables and sagas are.
   * @default - none
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The log buffer Filebeat pushes the container's logs to.
   * @default - no shipper
   */
  readonly logBuffer?: HostLogBuffer;
  /**
   * The service's configuration store; its instances read the parameters and secrets at start with their role.
   * @default - a `ConfigStore` child from `plan.configStore`, when the service has configuration or secrets
   */
  readonly configStore?: ConfigStore;
  /**
   * The session store every service shares; the service gets its endpoint and reads its AUTH token at start.
   * @default - no session store
   */
  readonly sessionStore?: HostSessionStore;
  /**
   * KMS key of the boot log group; CloudWatch Logs must be allowed to use it.
   * @default - a new key (`createLogKey`), billed monthly
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * What happens to the default configuration store's secrets and the boot log group when the stack deletes them.
   * @default - RETAIN when `plan.protection.retain`, else DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * One service on VMs: an Auto Scaling group of Amazon Linux 2023 instances (the current AMI from
 * its public SSM parameter, IMDSv2 only, encrypted gp3 root volume, no SSH key, no public IP) in
 * private subnets, running its container with the configuration from Parameter Store and its
 * generated secrets; registered in the gateway's target groups with load balancer health checks,
 * replaced one instance at a time when its launch template changes, scaled on CPU, and registered in
 * Cloud Map while running (deregistered on stop and during the termination hook). Its instance role
 * has Session Manager and exactly the service's own resources.
 *
 * With `plan.tracing`, an OpenTelemetry collector runs beside the container and writes its spans to X-Ray.
 *
 * Cost: the instances are billed hourly, `replicas.min` at least; X-Ray bills per trace recorded.
 *
 * @example
 * new VmService(stack, "Orders", { plan, serviceName: "orders", vpc, workloadSecurityGroup, image, targetGroupArns, discovery });
 */
export class VmService extends Construct {
  readonly service: ServicePlan;
  readonly role: iam.Role;
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly autoScalingGroup: autoscaling.CfnAutoScalingGroup;
  /** The service's Cloud Map entry, when it registers. */
  readonly discoveryService?: servicediscovery.CfnService;
  /** The service's configuration store, when it has configuration or secrets. */
  readonly configStore?: ConfigStore;
  /** Secret key → its generated secret (from the configuration store). */
  readonly secrets: ReadonlyMap<string, secretsmanager.Secret>;
  readonly bootLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: VmServiceProps) {
    super(scope, id);
    const { plan } = props;
    const service = findService(plan, props.serviceName, "VmService");
    const fleet = plan.hosts?.fleet;
    if (!fleet || !plan.vms) throw new Error(`VmService ${service.name}: plan tier is "${plan.tier}", which has no VM fleet. Fix: plan the landing zone with tier: iaas`);
    this.service = service;
    const names = hostedServiceNames(plan, service);
    const removalPolicy = props.removalPolicy ?? (plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    const parts = createHostedServiceParts(this, plan, service, { configStore: props.configStore, messaging: props.messagingArns, removalPolicy });
    if (parts.configStore) this.configStore = parts.configStore;
    this.secrets = parts.configStore?.secrets ?? new Map();

    const logKey = props.logEncryptionKey ?? createLogKey(this, "LogKey", { description: `Encrypts the boot logs of ${service.name}`, removalPolicy });
    this.bootLogGroup = new logs.LogGroup(this, "BootLogs", { logGroupName: names.bootLogGroup, retention: plan.hosts!.platformLogRetentionDays, encryptionKey: logKey, removalPolicy });

    if (props.discovery) {
      const discoveryPlan = plan.hosts?.discovery;
      if (!discoveryPlan) throw new Error(`VmService ${service.name}: discovery is given but plan.hosts.discovery is undefined. Fix: turn discovery.enabled on, or drop discovery`);
      this.discoveryService = new servicediscovery.CfnService(this, "Registry", {
        name: names.discoveryService,
        namespaceId: props.discovery.namespaceId,
        description: `Instances of ${service.name}`,
        dnsConfig: { dnsRecords: [{ type: "A", ttl: discoveryPlan.ttlSeconds }], routingPolicy: "MULTIVALUE" },
      });
    }

    this.role = new iam.Role(this, "InstanceRole", {
      assumedBy: new iam.ServicePrincipal("ec2.amazonaws.com"),
      description: `Instances of ${service.name}`,
      managedPolicies: VM_MANAGED_POLICIES.map((name) => iam.ManagedPolicy.fromAwsManagedPolicyName(name)),
    });
    const messaging = props.messagingArns;
    const subscriptions = subscriptionsOf(plan, service.name);
    grantHostedService(this.role, plan, service, {
      ...(props.repositoryName ? { repositoryName: props.repositoryName } : {}),
      ...(props.releaseParameterName ? { releaseParameterName: props.releaseParameterName } : {}),
      secretArns: [...this.secrets.values()].map((s) => s.secretArn),
      topicArns: service.publishes.map((event) => messaging!.topicArns[event]!),
      queueArns: subscriptions.map((s) => messaging!.queueArns[s.name]!),
      ...(messaging?.encryptionKeyArn ? { brokerKeyArn: messaging.encryptionKeyArn } : {}),
      ...(props.logBuffer ? { logBufferSecretArn: props.logBuffer.secretArn } : {}),
      ...(props.sessionStore ? { sessionStoreSecretArn: props.sessionStore.authTokenSecretArn } : {}),
      ...(this.discoveryService ? { registry: { serviceArn: this.discoveryService.attrArn, hostedZoneId: props.discovery!.hostedZoneId } } : {}),
      vm: true,
    });

    const stack = Stack.of(this);
    const userData = ec2.UserData.custom(
      vmUserData(plan, service, {
        region: stack.region,
        image: props.image,
        ...(props.releaseParameterName ? { releaseParameter: props.releaseParameterName } : {}),
        env: { ...parts.env, ...props.env },
        secretArns: Object.fromEntries([...this.secrets].map(([key, secret]) => [key, secret.secretArn])),
        ...(props.sessionStore ? { sessionStore: props.sessionStore } : {}),
        ...(this.discoveryService ? { discoveryServiceId: this.discoveryService.attrId } : {}),
        ...(props.logBuffer ? { logBuffer: props.logBuffer } : {}),
        // Tells CloudFormation this instance is ready, so a rolling replacement proceeds only past healthy ones.
        readyCommand: `/opt/aws/bin/cfn-signal -e 0 --stack ${stack.stackName} --resource ${Lazy.string({ produce: () => stack.getLogicalId(this.autoScalingGroup) })} --region ${stack.region}`,
      }),
    );
    this.launchTemplate = new ec2.LaunchTemplate(this, "LaunchTemplate", {
      machineImage: ec2.MachineImage.fromSsmParameter(fleet.amiParameter, { os: ec2.OperatingSystemType.LINUX }),
      instanceType: new ec2.InstanceType(plan.vms.instanceType),
      userData,
      role: this.role,
      securityGroup: props.workloadSecurityGroup,
      requireImdsv2: true,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      httpPutResponseHopLimit: fleet.metadataHopLimit,
      associatePublicIpAddress: false,
      blockDevices: [{ deviceName: "/dev/xvda", volume: ec2.BlockDeviceVolume.ebs(plan.vms.rootVolumeGiB, { volumeType: ec2.EbsDeviceVolumeType.GP3, encrypted: true, deleteOnTermination: true }) }],
    });

    const subnetIds = props.vpc.selectSubnets(props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;
    const targetGroupArns = [...(props.targetGroupArns ?? [])];
    const { min, max } = service.replicas;
    this.autoScalingGroup = new autoscaling.CfnAutoScalingGroup(this, "AutoScalingGroup", {
      autoScalingGroupName: names.autoScalingGroup,
      launchTemplate: { launchTemplateId: this.launchTemplate.launchTemplateId!, version: this.launchTemplate.latestVersionNumber },
      minSize: String(min),
      maxSize: String(max),
      vpcZoneIdentifier: subnetIds,
      ...(targetGroupArns.length > 0 ? { targetGroupArns, healthCheckType: "ELB" } : { healthCheckType: "EC2" }),
      healthCheckGracePeriod: fleet.healthCheckGraceSeconds,
      lifecycleHookSpecificationList: [
        {
          lifecycleHookName: fleet.terminationHook.name,
          lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
          heartbeatTimeout: fleet.terminationHook.heartbeatSeconds,
          defaultResult: "CONTINUE",
        },
      ],
      metricsCollection: [{ granularity: "1Minute" }],
    });
    acknowledgeScalingNotifications(this.autoScalingGroup);
    const timeout = `PT${fleet.readyTimeoutMinutes}M`;
    this.autoScalingGroup.cfnOptions.creationPolicy = { resourceSignal: { count: min, timeout } } satisfies CfnCreationPolicy;
    this.autoScalingGroup.cfnOptions.updatePolicy = {
      autoScalingRollingUpdate: {
        maxBatchSize: 1,
        minInstancesInService: rollingMinInService(service.replicas),
        pauseTime: timeout,
        waitOnResourceSignals: true,
        suspendProcesses: ["HealthCheck", "ReplaceUnhealthy", "AZRebalance", "AlarmNotification", "ScheduledActions"],
      },
    } satisfies CfnUpdatePolicy;

    // Scales on CPU like the caas HorizontalPodAutoscaler.
    new autoscaling.CfnScalingPolicy(this, "CpuScaling", {
      autoScalingGroupName: this.autoScalingGroup.ref,
      policyType: "TargetTrackingScaling",
      targetTrackingConfiguration: { predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" }, targetValue: 70 },
      estimatedInstanceWarmup: Duration.minutes(5).toSeconds(),
    });
  }
}
