import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { VM_MANAGED_POLICIES, vmUserData, type HostLogBuffer } from "../../plan/host-bootstrap.js";
import { hostedServiceNames } from "../../plan/hosts.js";
import type { ConfigStore } from "./config-store.js";
import { checkHostedService, findService, hostedConfigStore, hostedServicePolicy, messagingEnv, resolveSessionStore, type HostedServiceArgs } from "./hosted-service-parts.js";
import { assumeRolePolicy } from "./kubernetes-platform.js";

export interface VmServiceArgs extends HostedServiceArgs {
  /**
   * SSM parameter the service's pipeline records releases in (`ServiceDelivery` `releaseParameterName`);
   * the instances read their image from it at boot, so an instance refresh deploys a release.
   * @default - none: the instances run `image`
   */
  readonly releaseParameterName?: string;
  /**
   * Gateway target groups (instance type) the instances register in.
   * @default - none
   */
  readonly targetGroupArns?: readonly pulumi.Input<string>[];
  /**
   * The namespace the instances register in while they run.
   * @default - no registration
   */
  readonly discovery?: { readonly namespaceId: pulumi.Input<string>; readonly hostedZoneId: pulumi.Input<string> };
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly launchTemplate?: (args: aws.ec2.LaunchTemplateArgs) => void;
    readonly autoScalingGroup?: (args: aws.autoscaling.GroupArgs) => void;
    readonly role?: (args: aws.iam.RoleArgs) => void;
  };
}

/**
 * One service on VMs, as the CDK `VmService` builds it: an Auto Scaling group of Amazon Linux 2023
 * instances (the AMI its public SSM parameter names at deploy time, IMDSv2 only, encrypted gp3 root
 * volume, no SSH key, no public IP) in private subnets running its container with its configuration
 * (Parameter Store) and generated secrets; registered in the gateway's target groups with load
 * balancer health checks, replaced by instance refresh (new instances first) when the launch
 * template changes, scaled on CPU, and registered in Cloud Map while running. Its instance role has
 * Session Manager and exactly the service's own resources.
 *
 * With `plan.tracing`, an OpenTelemetry collector runs beside the container and writes its spans to X-Ray.
 *
 * Cost: the instances are billed hourly, `replicas.min` at least; X-Ray bills per trace recorded.
 *
 * @example
 * new VmService("orders", { plan, service: "orders", privateSubnetIds, workloadSecurityGroupId, image, targetGroupArns });
 */
export class VmService extends pulumi.ComponentResource {
  readonly roleArn: pulumi.Output<string>;
  readonly autoScalingGroupName: pulumi.Output<string>;
  readonly nodes: {
    readonly role: aws.iam.Role;
    readonly instanceProfile: aws.iam.InstanceProfile;
    readonly launchTemplate: aws.ec2.LaunchTemplate;
    readonly autoScalingGroup: aws.autoscaling.Group;
    readonly bootLogGroup: aws.cloudwatch.LogGroup;
    /** The service's parameters and secrets, when it has any. */
    readonly configStore?: ConfigStore;
    readonly discoveryService?: aws.servicediscovery.Service;
  };

  constructor(name: string, args: VmServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    // Bad input is rejected before anything is registered.
    const { plan } = args;
    const service = findService(plan, args.service, `VmService ${name}`);
    const fleet = plan.hosts?.fleet;
    if (!fleet || !plan.vms) throw new Error(`VmService ${name}: plan tier is "${plan.tier}", which has no VM fleet. Fix: plan the landing zone with tier: iaas`);
    checkHostedService(`VmService ${name}`, plan, service, args.broker, args.secretValues, args.configStore);
    if (args.discovery && !plan.hosts?.discovery) throw new Error(`VmService ${name}: discovery is given but plan.hosts.discovery is undefined. Fix: turn discovery.enabled on, or drop discovery`);
    super("msa:aws:VmService", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...(args.tags ?? plan.tags) };
    const names = hostedServiceNames(plan, service);
    const region = aws.getRegionOutput({}, parent).region;

    const configStore = hostedConfigStore(this, name, plan, service, { configStore: args.configStore, secretValues: args.secretValues, tags });
    const secretArns = pulumi.all({ ...configStore?.secretArns }) as pulumi.Output<Record<string, string>>;
    const sessionStore = resolveSessionStore(args.sessionStore);
    // Logs are evidence: kept like the data in prod.
    const kept = plan.protection.retain ? { parent: this, protect: true, retainOnDelete: true } : parent;
    const bootLogGroup = new aws.cloudwatch.LogGroup(`${name}-boot`, { name: names.bootLogGroup, retentionInDays: plan.hosts!.platformLogRetentionDays, tags }, kept);
    const discoveryService = args.discovery
      ? new aws.servicediscovery.Service(
          `${name}-registry`,
          {
            name: names.discoveryService,
            description: `Instances of ${service.name}`,
            dnsConfig: { namespaceId: args.discovery.namespaceId, dnsRecords: [{ type: "A", ttl: plan.hosts!.discovery!.ttlSeconds }], routingPolicy: "MULTIVALUE" },
            tags,
          },
          parent,
        )
      : undefined;

    const roleArgs: aws.iam.RoleArgs = { assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com"), description: `Instances of ${service.name}`, tags };
    args.transform?.role?.(roleArgs);
    const role = new aws.iam.Role(`${name}-role`, roleArgs, parent);
    const partition = aws.getPartitionOutput({}, parent).partition;
    for (const policy of VM_MANAGED_POLICIES) {
      new aws.iam.RolePolicyAttachment(`${name}-${policy}`, { role: role.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}` }, parent);
    }
    new aws.iam.RolePolicy(
      `${name}-service`,
      {
        role: role.name,
        policy: hostedServicePolicy(
          plan,
          service,
          pulumi
            .all([secretArns, pulumi.output(args.logBuffer?.secretArn), sessionStore, discoveryService?.arn, pulumi.output(args.discovery?.hostedZoneId)])
            .apply(([secrets, logBufferSecretArn, session, serviceArn, hostedZoneId]) => ({
              ...(args.repositoryName ? { repositoryName: args.repositoryName } : {}),
              ...(args.releaseParameterName ? { releaseParameterName: args.releaseParameterName } : {}),
              secretArns: Object.values(secrets),
              // Topics and queues come with the broker's own policy below.
              topicArns: [],
              queueArns: [],
              ...(logBufferSecretArn ? { logBufferSecretArn } : {}),
              ...(session ? { sessionStoreSecretArn: session.authTokenSecretArn } : {}),
              ...(serviceArn && hostedZoneId ? { registry: { serviceArn, hostedZoneId } } : {}),
              vm: true,
            })),
          this,
        ),
      },
      parent,
    );
    const messagingPolicy = args.broker?.servicePolicyDocument(service.name);
    if (messagingPolicy) new aws.iam.RolePolicy(`${name}-messaging`, { role: role.name, policy: messagingPolicy }, parent);
    const instanceProfile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags }, parent);

    const userData = pulumi
      .all([
        region,
        pulumi.output(args.image),
        pulumi.all([messagingEnv(plan, service, args.broker), pulumi.output(args.env ?? {})]).apply(([messaging, extra]) => ({ ...messaging, ...extra })),
        secretArns,
        discoveryService?.id,
        pulumi.output(args.logBuffer?.host),
        pulumi.output(args.logBuffer?.secretArn),
        sessionStore,
      ])
      .apply(([resolvedRegion, image, env, secrets, discoveryServiceId, bufferHost, bufferSecretArn, session]) => {
        const buffer: HostLogBuffer | undefined = args.logBuffer && bufferHost && bufferSecretArn ? { host: bufferHost, port: args.logBuffer.port, secretArn: bufferSecretArn } : undefined;
        const script = vmUserData(plan, service, {
          region: resolvedRegion,
          image,
          ...(args.releaseParameterName ? { releaseParameter: args.releaseParameterName } : {}),
          env,
          secretArns: secrets,
          ...(session ? { sessionStore: session } : {}),
          ...(discoveryServiceId ? { discoveryServiceId } : {}),
          ...(buffer ? { logBuffer: buffer } : {}),
        });
        return Buffer.from(script).toString("base64");
      });
    const launchTemplateArgs: aws.ec2.LaunchTemplateArgs = {
      description: `Instances of ${service.name}`,
      // Read at deploy time, as CloudFormation resolves the parameter: a new AMI rolls the fleet on the next update.
      imageId: aws.ssm.getParameterOutput({ name: fleet.amiParameter }, parent).value,
      instanceType: plan.vms.instanceType,
      userData,
      iamInstanceProfile: { arn: instanceProfile.arn },
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: fleet.metadataHopLimit },
      networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: "false", securityGroups: [args.workloadSecurityGroupId] }],
      blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: plan.vms.rootVolumeGiB, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } }],
      tagSpecifications: [{ resourceType: "instance", tags: { ...tags, Name: names.autoScalingGroup } }],
      updateDefaultVersion: true,
      tags,
    };
    args.transform?.launchTemplate?.(launchTemplateArgs);
    const launchTemplate = new aws.ec2.LaunchTemplate(`${name}-instances`, launchTemplateArgs, parent);

    const targetGroupArns = [...(args.targetGroupArns ?? [])];
    const groupArgs: aws.autoscaling.GroupArgs = {
      name: names.autoScalingGroup,
      launchTemplate: { id: launchTemplate.id, version: pulumi.interpolate`${launchTemplate.latestVersion}` },
      minSize: service.replicas.min,
      maxSize: service.replicas.max,
      vpcZoneIdentifiers: args.privateSubnetIds,
      ...(targetGroupArns.length > 0 ? { targetGroupArns, healthCheckType: "ELB" } : { healthCheckType: "EC2" }),
      healthCheckGracePeriod: fleet.healthCheckGraceSeconds,
      initialLifecycleHooks: [
        { name: fleet.terminationHook.name, lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING", heartbeatTimeout: fleet.terminationHook.heartbeatSeconds, defaultResult: "CONTINUE" },
      ],
      // New instances first, then the old ones leave through their termination hook.
      instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 100, maxHealthyPercentage: 200, instanceWarmup: String(fleet.healthCheckGraceSeconds) } },
      waitForCapacityTimeout: `${fleet.readyTimeoutMinutes}m`,
      metricsGranularity: "1Minute",
      enabledMetrics: ["GroupInServiceInstances", "GroupDesiredCapacity", "GroupTotalInstances"],
      tags: Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
    };
    args.transform?.autoScalingGroup?.(groupArgs);
    const autoScalingGroup = new aws.autoscaling.Group(`${name}-instances`, groupArgs, parent);
    // Scales on CPU like the caas HorizontalPodAutoscaler.
    new aws.autoscaling.Policy(
      `${name}-cpu`,
      {
        autoscalingGroupName: autoScalingGroup.name,
        policyType: "TargetTrackingScaling",
        estimatedInstanceWarmup: 300,
        targetTrackingConfiguration: { predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" }, targetValue: 70 },
      },
      parent,
    );

    this.roleArn = role.arn;
    this.autoScalingGroupName = autoScalingGroup.name;
    this.nodes = { role, instanceProfile, launchTemplate, autoScalingGroup, bootLogGroup, ...(configStore ? { configStore } : {}), ...(discoveryService ? { discoveryService } : {}) };
    this.registerOutputs({ roleArn: this.roleArn, autoScalingGroupName: this.autoScalingGroupName });
  }
}
