import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  Fn,
  RemovalPolicy,
  Stack,
  aws_ec2 as ec2,
  aws_elasticbeanstalk as elasticbeanstalk,
  aws_iam as iam,
  aws_s3_assets as s3assets,
  aws_secretsmanager as secretsmanager,
  aws_servicediscovery as servicediscovery,
} from "aws-cdk-lib";
import { Construct } from "constructs";
import { BEANSTALK_INSTANCE_MANAGED_POLICIES, BEANSTALK_INSTANCE_PORT, beanstalkBundle, beanstalkHost, beanstalkOptionSettings, type HostLogBuffer, type HostSessionStore } from "../plan/host-bootstrap.js";
import { hostedServiceNames } from "../plan/hosts.js";
import { routesTo, subscriptionsOf } from "../plan/lookup.js";
import type { LandingZonePlan, ServicePlan } from "../plan/types.js";
import type { ConfigStore } from "./config-store.js";
import { createHostedServiceParts, findService, grantHostedService } from "./hosted-service-parts.js";
import type { ServiceMessagingArns } from "./service-workload.js";

export interface PaasServiceProps {
  /** The landing-zone plan (tier paas) holding the service. */
  readonly plan: LandingZonePlan;
  /** Name of the service or BFF in `plan.services`. */
  readonly serviceName: string;
  /** Name of the Elastic Beanstalk application (`PaasPlatform.applicationName`). */
  readonly applicationName: string;
  /** ARN of the Beanstalk service role (`PaasPlatform.serviceRole`). */
  readonly serviceRoleArn: string;
  /** VPC of the instances. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the instances.
   * @default - the VPC's private subnets with egress
   */
  readonly subnets?: ec2.SubnetSelection;
  /** The landing zone's workload security group (`PaasPlatform.workloadSecurityGroup`). */
  readonly workloadSecurityGroup: ec2.ISecurityGroup;
  /** The gateway load balancer the environment attaches to. */
  readonly loadBalancer: PaasLoadBalancer;
  /** Container image the environment runs. */
  readonly image: string;
  /**
   * ECR repository the image comes from; the instances may pull from it.
   * @default - no ECR pull permission (a public image)
   */
  readonly repositoryName?: string;
  /**
   * Cloud Map HTTP namespace id the environment registers its URL in.
   * @default - no registration
   */
  readonly discoveryNamespaceId?: string;
  /**
   * Topic and queue ARNs; required when the service publishes or subscribes.
   * @default - none
   */
  readonly messagingArns?: ServiceMessagingArns;
  /**
   * Environment variables added to the service's: where its database, tables and sagas are.
   * @default - none
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The log buffer the Filebeat container beside the service pushes to.
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
   * What happens to the default configuration store's secrets when the stack deletes them.
   * @default - RETAIN when `plan.protection.retain`, else DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** A gateway load balancer shared by Beanstalk environments (`ApiGateway` with `sharedWithBeanstalk`). */
export interface PaasLoadBalancer {
  readonly arn: string;
  /** Its security group. */
  readonly securityGroupId: string;
  /**
   * Its path listener (`ApiGateway.listeners`), where the environment adds a rule per gateway route of the service.
   * @default - none: required when the service has gateway routes
   */
  readonly pathListenerArn?: string;
}

/**
 * One service on Elastic Beanstalk: an environment on the Docker platform (the solution stack of
 * `plan.paas.platform`) in private subnets, attached to the gateway's shared internal load
 * balancer (its own path rules on the path listener, from the bundle), with its image, configuration (Parameter Store) and generated secrets (Secrets Manager)
 * fed in as environment properties; enhanced health, managed platform updates, logs streamed to
 * CloudWatch and, beside the service, Filebeat into the log buffer. Its URL is registered in Cloud
 * Map while the environment exists, and it looks the others up there (DiscoverInstances in
 * `SERVICE_DISCOVERY_NAMESPACE` only). The instance profile has Session Manager, the platform
 * agent's policy and exactly the service's own resources.
 *
 * With `plan.tracing`, the compose file runs an OpenTelemetry collector beside the app, writing to X-Ray.
 *
 * Cost: the environment's instances are billed hourly, `replicas.min` at least; X-Ray bills per trace recorded.
 *
 * @example
 * new PaasService(stack, "Orders", { plan, serviceName: "orders", applicationName, serviceRoleArn, vpc, workloadSecurityGroup, loadBalancer, image });
 */
export class PaasService extends Construct {
  readonly service: ServicePlan;
  readonly environment: elasticbeanstalk.CfnEnvironment;
  readonly applicationVersion: elasticbeanstalk.CfnApplicationVersion;
  readonly role: iam.Role;
  /** Host header the shared load balancer routes this environment by (its CNAME). */
  readonly host: string;
  /** The service's configuration store, when it has configuration or secrets. */
  readonly configStore?: ConfigStore;
  /** Secret key → its generated secret (from the configuration store). */
  readonly secrets: ReadonlyMap<string, secretsmanager.Secret>;
  /** The service's Cloud Map entry, when it registers. */
  readonly discoveryService?: servicediscovery.CfnService;

  constructor(scope: Construct, id: string, props: PaasServiceProps) {
    super(scope, id);
    const { plan } = props;
    const service = findService(plan, props.serviceName, "PaasService");
    if (!plan.paas || !plan.hosts) throw new Error(`PaasService ${service.name}: plan tier is "${plan.tier}", which has no Beanstalk platform. Fix: plan the landing zone with tier: paas`);
    if (routesTo(plan, service.name).length > 0 && props.loadBalancer.pathListenerArn === undefined) {
      throw new Error(`PaasService ${this.node.path}: ${service.name} has gateway routes, but loadBalancer.pathListenerArn is undefined, so its path rules have no listener. Fix: pass the path listener of its load balancer (ApiGateway.listeners)`);
    }
    this.service = service;
    const names = hostedServiceNames(plan, service);
    const removalPolicy = props.removalPolicy ?? (plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    const parts = createHostedServiceParts(this, plan, service, { configStore: props.configStore, messaging: props.messagingArns, removalPolicy });
    if (parts.configStore) this.configStore = parts.configStore;
    this.secrets = parts.configStore?.secrets ?? new Map();
    const stack = Stack.of(this);

    this.role = new iam.Role(this, "InstanceRole", {
      assumedBy: new iam.ServicePrincipal("ec2.amazonaws.com"),
      description: `Beanstalk instances of ${service.name}`,
      managedPolicies: BEANSTALK_INSTANCE_MANAGED_POLICIES.map((name) => iam.ManagedPolicy.fromAwsManagedPolicyName(name)),
    });
    const messaging = props.messagingArns;
    const subscriptions = subscriptionsOf(plan, service.name);
    grantHostedService(this.role, plan, service, {
      ...(props.repositoryName ? { repositoryName: props.repositoryName } : {}),
      secretArns: [...this.secrets.values()].map((s) => s.secretArn),
      topicArns: service.publishes.map((event) => messaging!.topicArns[event]!),
      queueArns: subscriptions.map((s) => messaging!.queueArns[s.name]!),
      ...(messaging?.encryptionKeyArn ? { brokerKeyArn: messaging.encryptionKeyArn } : {}),
      ...(props.logBuffer ? { logBufferSecretArn: props.logBuffer.secretArn } : {}),
      ...(props.sessionStore ? { sessionStoreSecretArn: props.sessionStore.authTokenSecretArn } : {}),
    });
    const instanceProfile = new iam.InstanceProfile(this, "InstanceProfile", { role: this.role });

    const bundle = new s3assets.Asset(this, "Bundle", { path: writeBundle(beanstalkBundle(plan, service, { logBuffer: props.logBuffer !== undefined, sessionStore: props.sessionStore !== undefined })) });
    this.applicationVersion = new elasticbeanstalk.CfnApplicationVersion(this, "Version", {
      applicationName: props.applicationName,
      description: `${service.name} compose bundle ${bundle.assetHash.slice(0, 12)}`,
      sourceBundle: { s3Bucket: bundle.s3BucketName, s3Key: bundle.s3ObjectKey },
    });

    const cnamePrefix = beanstalkCnamePrefix(stack, plan, service);
    this.host = beanstalkHost(cnamePrefix, stack.region);
    const subnetIds = props.vpc.selectSubnets(props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;
    const settings = beanstalkOptionSettings(plan, service, {
      vpcId: props.vpc.vpcId,
      privateSubnetIds: Fn.join(",", subnetIds),
      sharedLoadBalancerArn: props.loadBalancer.arn,
      loadBalancerSecurityGroupId: props.loadBalancer.securityGroupId,
      ...(props.loadBalancer.pathListenerArn ? { pathListenerArn: props.loadBalancer.pathListenerArn } : {}),
      workloadSecurityGroupId: props.workloadSecurityGroup.securityGroupId,
      instanceProfileName: instanceProfile.instanceProfileName,
      serviceRoleArn: props.serviceRoleArn,
      image: props.image,
      env: { ...parts.env, ...props.env },
      secretArns: Object.fromEntries([...this.secrets].map(([key, secret]) => [key, secret.secretArn])),
      configParameterArns: Object.fromEntries([...(parts.configStore?.parameters ?? [])].map(([key, parameter]) => [key, parameter.parameterArn])),
      ...(props.sessionStore ? { sessionStore: props.sessionStore } : {}),
      ...(props.logBuffer ? { logBuffer: props.logBuffer } : {}),
    });
    this.environment = new elasticbeanstalk.CfnEnvironment(this, "Environment", {
      applicationName: props.applicationName,
      environmentName: names.environment,
      cnamePrefix,
      description: `${service.name} of ${plan.name}/${plan.environment}`,
      solutionStackName: plan.paas.platform,
      tier: { name: "WebServer", type: "Standard" },
      versionLabel: this.applicationVersion.ref,
      optionSettings: settings.map((s) => ({ namespace: s.namespace, optionName: s.optionName, value: s.value })),
    });

    if (props.discoveryNamespaceId) {
      this.discoveryService = new servicediscovery.CfnService(this, "Registry", {
        name: names.discoveryService,
        namespaceId: props.discoveryNamespaceId,
        description: `Environment of ${service.name}`,
        type: "HTTP",
      });
      // Registered with the environment and removed with it: callers look the URL up and send its host header.
      new servicediscovery.CfnInstance(this, "Registration", {
        serviceId: this.discoveryService.attrId,
        instanceId: names.environment,
        instanceAttributes: { host: this.host, port: String(BEANSTALK_INSTANCE_PORT), url: `http://${this.host}` },
      }).addResourceDependency(this.environment);
    }
  }
}

/** The CNAME prefix of a service's environment: CNAMEs are unique per region across accounts, so the account id completes it. */
function beanstalkCnamePrefix(stack: Stack, plan: LandingZonePlan, service: ServicePlan): string {
  return Fn.join("-", [hostedServiceNames(plan, service).cnamePrefixBase, stack.account]);
}

/**
 * Writes the bundle's files for the asset to zip, into a directory named after their contents: every
 * synthesis of the same bundle reuses it instead of leaving a new temporary directory behind.
 */
function writeBundle(files: Readonly<Record<string, string>>): string {
  const digest = createHash("sha256").update(JSON.stringify(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)))).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), `msa-beanstalk-bundle-${digest}`);
  if (existsSync(dir)) return dir;
  const staging = mkdtempSync(`${dir}-`);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(staging, name)), { recursive: true });
    writeFileSync(join(staging, name), content);
  }
  // Renamed whole, so a concurrent synthesis sees the complete bundle or none; the loser drops its copy.
  try {
    renameSync(staging, dir);
  } catch {
    rmSync(staging, { recursive: true, force: true });
  }
  return dir;
}
