import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { BEANSTALK_INSTANCE_MANAGED_POLICIES, BEANSTALK_INSTANCE_PORT, beanstalkBundle, beanstalkHost, beanstalkOptionSettings } from "../../plan/host-bootstrap.js";
import { hostedServiceNames } from "../../plan/hosts.js";
import { routesTo } from "../../plan/lookup.js";
import { shortHash } from "../../plan/naming.js";
import type { ConfigStore } from "./config-store.js";
import { checkHostedService, findService, hostedConfigStore, hostedServicePolicy, messagingEnv, resolveSessionStore, type HostedServiceArgs } from "./hosted-service-parts.js";
import { assumeRolePolicy } from "./kubernetes-platform.js";

export interface PaasServiceArgs extends HostedServiceArgs {
  /** The Beanstalk application (`PaasPlatform.applicationName`). */
  readonly applicationName: pulumi.Input<string>;
  /** ARN of the Beanstalk service role (`PaasPlatform.serviceRoleArn`). */
  readonly serviceRoleArn: pulumi.Input<string>;
  /** Bucket holding the source bundles (`PaasPlatform.bundleBucket`). */
  readonly bundleBucket: pulumi.Input<string>;
  /** VPC of the instances. */
  readonly vpcId: pulumi.Input<string>;
  /** The gateway load balancer the environment attaches to (`ApiGateway` with Beanstalk targets). */
  readonly loadBalancer: PaasLoadBalancer;
  /**
   * Cloud Map HTTP namespace id the environment registers its URL in.
   * @default - no registration
   */
  readonly discoveryNamespaceId?: pulumi.Input<string>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: { readonly environment?: (args: aws.elasticbeanstalk.EnvironmentArgs) => void };
}

/** A gateway load balancer shared by Beanstalk environments. */
export interface PaasLoadBalancer {
  readonly arn: pulumi.Input<string>;
  /** Its security group. */
  readonly securityGroupId: pulumi.Input<string>;
  /**
   * Its path listener (`GatewayLoadBalancerNodes.listener`), where the environment adds a rule per gateway route of the service.
   * @default - none: required when the service has gateway routes
   */
  readonly pathListenerArn?: pulumi.Input<string>;
}

/**
 * One service on Elastic Beanstalk, as the CDK `PaasService` builds it: a Docker environment (the
 * solution stack of `plan.paas.platform`) in private subnets on the gateway's shared internal load
 * balancer, its image, configuration (Parameter Store) and secrets (Secrets Manager) fed in as
 * environment properties; enhanced health, managed platform updates, logs streamed to CloudWatch and
 * Filebeat into the log buffer beside the service; its URL registered in Cloud Map, where it looks the
 * others up (DiscoverInstances in `SERVICE_DISCOVERY_NAMESPACE` only).
 *
 * With `plan.tracing`, the compose file runs an OpenTelemetry collector beside the app, writing to X-Ray.
 *
 * Cost: the environment's instances are billed hourly, `replicas.min` at least; X-Ray bills per trace recorded.
 *
 * @example
 * new PaasService("orders", { plan, service: "orders", applicationName, serviceRoleArn, bundleBucket, vpcId, privateSubnetIds, workloadSecurityGroupId, loadBalancer, image });
 */
export class PaasService extends pulumi.ComponentResource {
  /** Host header the shared load balancer routes this environment by. */
  readonly host: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  readonly nodes: {
    readonly role: aws.iam.Role;
    readonly instanceProfile: aws.iam.InstanceProfile;
    readonly bundle: aws.s3.BucketObjectv2;
    readonly version: aws.elasticbeanstalk.ApplicationVersion;
    readonly environment: aws.elasticbeanstalk.Environment;
    /** The service's parameters and secrets, when it has any. */
    readonly configStore?: ConfigStore;
    readonly discoveryService?: aws.servicediscovery.Service;
  };

  constructor(name: string, args: PaasServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    // Bad input is rejected before anything is registered.
    const { plan } = args;
    const service = findService(plan, args.service, `PaasService ${name}`);
    if (!plan.paas || !plan.hosts) throw new Error(`PaasService ${name}: plan tier is "${plan.tier}", which has no Beanstalk platform. Fix: plan the landing zone with tier: paas`);
    checkHostedService(`PaasService ${name}`, plan, service, args.broker, args.secretValues, args.configStore);
    if (routesTo(plan, service.name).length > 0 && args.loadBalancer.pathListenerArn === undefined) {
      throw new Error(`PaasService ${name}: ${service.name} has gateway routes, but loadBalancer.pathListenerArn is undefined, so its path rules have no listener. Fix: pass the path listener of its load balancer (GatewayLoadBalancerNodes.listener.arn)`);
    }
    const paas = plan.paas;
    super("msa:aws:PaasService", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...(args.tags ?? plan.tags) };
    const names = hostedServiceNames(plan, service);
    const partition = aws.getPartitionOutput({}, parent).partition;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;

    const configStore = hostedConfigStore(this, name, plan, service, { configStore: args.configStore, secretValues: args.secretValues, tags });
    const secretArns = pulumi.all({ ...configStore?.secretArns }) as pulumi.Output<Record<string, string>>;
    const sessionStore = resolveSessionStore(args.sessionStore);

    const role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com"), description: `Beanstalk instances of ${service.name}`, tags }, parent);
    for (const policy of BEANSTALK_INSTANCE_MANAGED_POLICIES) {
      new aws.iam.RolePolicyAttachment(`${name}-${policy}`, { role: role.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}` }, parent);
    }
    new aws.iam.RolePolicy(
      `${name}-service`,
      {
        role: role.name,
        policy: hostedServicePolicy(
          plan,
          service,
          pulumi.all([secretArns, pulumi.output(args.logBuffer?.secretArn), sessionStore]).apply(([secrets, logBufferSecretArn, session]) => ({
            ...(args.repositoryName ? { repositoryName: args.repositoryName } : {}),
            secretArns: Object.values(secrets),
            // Topics and queues come with the broker's own policy below.
            topicArns: [],
            queueArns: [],
            ...(logBufferSecretArn ? { logBufferSecretArn } : {}),
            ...(session ? { sessionStoreSecretArn: session.authTokenSecretArn } : {}),
          })),
          this,
        ),
      },
      parent,
    );
    const messagingPolicy = args.broker?.servicePolicyDocument(service.name);
    if (messagingPolicy) new aws.iam.RolePolicy(`${name}-messaging`, { role: role.name, policy: messagingPolicy }, parent);
    const instanceProfile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags }, parent);

    const files = beanstalkBundle(plan, service, { logBuffer: args.logBuffer !== undefined, sessionStore: args.sessionStore !== undefined });
    const bundleHash = shortHash(JSON.stringify(Object.entries(files).sort()), 16);
    const bundle = new aws.s3.BucketObjectv2(
      `${name}-bundle`,
      {
        bucket: args.bundleBucket,
        key: `${service.name}/${bundleHash}.zip`,
        source: new pulumi.asset.AssetArchive(Object.fromEntries(Object.entries(files).map(([file, content]) => [file, new pulumi.asset.StringAsset(content)]))),
        tags,
      },
      parent,
    );
    const version = new aws.elasticbeanstalk.ApplicationVersion(
      `${name}-version`,
      { application: args.applicationName, name: `${service.name}-${bundleHash}`, description: `${service.name} compose bundle ${bundleHash}`, bucket: args.bundleBucket, key: bundle.key, tags },
      parent,
    );

    const cnamePrefix = pulumi.interpolate`${names.cnamePrefixBase}-${account}`;
    const placement = pulumi.all([
      pulumi.output(args.vpcId),
      pulumi.output(args.privateSubnetIds),
      pulumi.output(args.loadBalancer.arn),
      pulumi.output(args.loadBalancer.securityGroupId),
      pulumi.output(args.workloadSecurityGroupId),
      instanceProfile.name,
      pulumi.output(args.serviceRoleArn),
      pulumi.output(args.loadBalancer.pathListenerArn),
    ]);
    const content = pulumi.all([
      pulumi.output(args.image),
      pulumi.all([messagingEnv(plan, service, args.broker), pulumi.output(args.env ?? {})]).apply(([messaging, extra]) => ({ ...messaging, ...extra })),
      secretArns,
      pulumi.all(Object.fromEntries(Object.entries(configStore?.nodes.parameters ?? {}).map(([key, p]) => [key, p.arn]))) as pulumi.Output<Record<string, string>>,
      pulumi.output(args.logBuffer?.host),
      pulumi.output(args.logBuffer?.secretArn),
      sessionStore,
    ]);
    const settings = pulumi.all([placement, content]).apply(([[vpcId, subnets, lbArn, lbSg, workloadSg, profile, serviceRoleArn, pathListenerArn], [image, env, secrets, configArns, bufferHost, bufferSecretArn, session]]) =>
      beanstalkOptionSettings(plan, service, {
        vpcId,
        privateSubnetIds: subnets.join(","),
        sharedLoadBalancerArn: lbArn,
        loadBalancerSecurityGroupId: lbSg,
        ...(pathListenerArn ? { pathListenerArn } : {}),
        workloadSecurityGroupId: workloadSg,
        instanceProfileName: profile,
        serviceRoleArn,
        image,
        env,
        secretArns: secrets,
        configParameterArns: configArns,
        ...(session ? { sessionStore: session } : {}),
        ...(args.logBuffer && bufferHost && bufferSecretArn ? { logBuffer: { host: bufferHost, port: args.logBuffer.port, secretArn: bufferSecretArn } } : {}),
      }).map((s) => ({ namespace: s.namespace, name: s.optionName, value: s.value })),
    );
    const environmentArgs: aws.elasticbeanstalk.EnvironmentArgs = {
      application: args.applicationName,
      name: names.environment,
      cnamePrefix,
      description: `${service.name} of ${plan.name}/${plan.environment}`,
      solutionStackName: paas.platform,
      tier: "WebServer",
      version: version.name,
      settings,
      tags,
    };
    args.transform?.environment?.(environmentArgs);
    const environment = new aws.elasticbeanstalk.Environment(`${name}-environment`, environmentArgs, parent);
    const host = pulumi.all([cnamePrefix, aws.getRegionOutput({}, parent).region]).apply(([prefix, region]) => beanstalkHost(prefix, region));

    let discoveryService: aws.servicediscovery.Service | undefined;
    if (args.discoveryNamespaceId) {
      discoveryService = new aws.servicediscovery.Service(`${name}-registry`, { name: names.discoveryService, namespaceId: args.discoveryNamespaceId, description: `Environment of ${service.name}`, type: "HTTP", tags }, parent);
      // Registered with the environment and removed with it: callers look the URL up and send its host header.
      new aws.servicediscovery.Instance(
        `${name}-registration`,
        { serviceId: discoveryService.id, instanceId: names.environment, attributes: { host, port: String(BEANSTALK_INSTANCE_PORT), url: pulumi.interpolate`http://${host}` } },
        { parent: this, dependsOn: [environment] },
      );
    }

    this.host = host;
    this.roleArn = role.arn;
    this.nodes = { role, instanceProfile, bundle, version, environment, ...(configStore ? { configStore } : {}), ...(discoveryService ? { discoveryService } : {}) };
    this.registerOutputs({ host: this.host, roleArn: this.roleArn });
  }
}
