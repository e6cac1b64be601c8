import { RemovalPolicy, Tags, aws_ec2 as ec2, aws_ecr as ecr, aws_events as events, aws_kms as kms, aws_sns as sns } from "aws-cdk-lib";
import { Construct } from "constructs";
import { ConfigStore } from "../lib/cdk/config-store.js";
import { GatewayRoutes, type GatewayRoutesProps } from "../lib/cdk/gateway-routes.js";
import { KubernetesPlatform } from "../lib/cdk/kubernetes-platform.js";
import { Monitoring } from "../lib/cdk/monitoring.js";
import { PaasService } from "../lib/cdk/paas-service.js";
import { ServiceWorkload, type ServiceMessagingArns, type ServiceSessionStore } from "../lib/cdk/service-workload.js";
import { SubscriptionQueue } from "../lib/cdk/subscription-queue.js";
import { VmService } from "../lib/cdk/vm-service.js";
import { workloadNamespace } from "../lib/kubernetes/namespace.js";
import { serviceConfigOf } from "../lib/plan/config-store.js";
import type { HostLogBuffer } from "../lib/plan/host-bootstrap.js";
import { beanstalkApplicationName } from "../lib/plan/hosts.js";
import { directPublishes } from "../lib/plan/data.js";
import { eventSource, SERVICE_TAG_KEY } from "../lib/plan/messaging.js";
import { homeLoadBalancerOf, httpApiRoutesOf, routesTo, serviceNamed, uncheckedTargetOf, specImageOf, subscribedTopicsOf } from "../lib/plan/lookup.js";
import { pascalCase } from "../lib/plan/naming.js";
import { cloudWatchMonitors, type CloudWatchDimensionValues } from "../lib/plan/monitoring.js";
import type { LandingZonePlan, ServicePlan } from "../lib/plan/types.js";
import { PlanStack, type PlanStackProps } from "./plan-stack.js";
import { ServiceData } from "./service-data.js";
import { importPrivateVpc, readParameter, sharedParameters } from "./shared-parameters.js";

export interface ServiceStackProps extends PlanStackProps {
  /** The service or BFF this stack deploys. */
  readonly serviceName: string;
}

/** How the service runs on the plan's tier; each has the `role` its instances or pods use. */
export type ServiceDeployment = ServiceWorkload | VmService | PaasService;

/**
 * `<name>-<env>-svc-<service>`: one service, deployable on its own, on the plan's tier (a workload
 * on the cluster, a VM fleet, or a Beanstalk environment) with its configuration store, its own
 * share of the gateway (target group, listener rules, API routes), the queue of each event it
 * subscribes to (`SubscriptionQueue`), and its dashboard and alarms. Every shared value (VPC,
 * cluster, load balancers, topics or bus, broker key, log buffer, session store, alarm topic) is an
 * SSM parameter resolved at deploy time, never a CloudFormation export, so the template changes only
 * when this service does.
 */
export class ServiceStack extends PlanStack {
  readonly workload: ServiceDeployment;
  /** The service's database, read model, event store and saga wiring. */
  readonly data: ServiceData;
  /** The service's gateway routes, when it is exposed. */
  readonly routes?: GatewayRoutes;
  /** The service's parameters and secrets, when it has any. */
  readonly configStore?: ConfigStore;
  /** The service's dashboard and alarms, when the plan monitors. */
  readonly monitoring?: Monitoring;
  /** Subscription name (`<service>_<event>`) → the queue the service consumes. */
  readonly subscriptionQueues: ReadonlyMap<string, SubscriptionQueue>;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, { ...props, forbidImports: true });
    const { plan, serviceName } = props;
    const service = serviceNamed(plan, serviceName);
    if (!service) throw new Error(`ServiceStack: serviceName "${serviceName}" is not in the plan. Fix: use one of ${plan.services.map((s) => s.name).join(", ")}`);
    const read = (parameterName: string) => readParameter(this, parameterName);
    const apiRoutes = httpApiRoutesOf(plan);
    const routes = routesTo(plan, service.name).map(({ route, loadBalancer }) => ({
      path: route.path,
      priority: route.priority,
      loadBalancer,
      ownApiRoutes: apiRoutes.hasOwnRoutes({ path: route.path, target: route.target, loadBalancer }),
    }));
    // The auth service's own routes (sign-in) are not checked by the authorizer they feed.
    const checked = plan.gateway.auth !== "none" && uncheckedTargetOf(plan) !== service.name;
    // Parameters are read only where used: routes the catch-all serves need no API id, integration or authorizer.
    const ownApiRoutes = routes.some((r) => r.ownApiRoutes);
    const gatewayRoutes = (target: GatewayRoutesProps["target"]) =>
      new GatewayRoutes(this, "Gateway", {
        ...(ownApiRoutes ? { apiId: read(sharedParameters.gatewayApiId(plan)) } : {}),
        routes,
        loadBalancers: [...new Set(routes.map((r) => r.loadBalancer))].map((index) => ({
          index,
          // A Beanstalk environment adds its rules itself, from the listener its option settings name.
          ...(target.kind === "target-group" ? { listenerArn: read(sharedParameters.gatewayListenerArn(plan, index)) } : {}),
          ...(routes.some((r) => r.loadBalancer === index && r.ownApiRoutes) ? { integrationId: read(sharedParameters.gatewayIntegrationId(plan, index)) } : {}),
        })),
        target,
        ...(checked
          ? ownApiRoutes
            ? { authorizer: { kind: plan.gateway.auth === "jwt" ? "jwt" : "lambda", authorizerId: read(sharedParameters.gatewayAuthorizerId(plan)) } }
            : {}
          : {
              unauthenticatedReason:
                plan.gateway.auth === "none"
                  ? "The spec sets gateway.auth: none: the gateway checks no token on any route, and each service authenticates and authorizes its own callers."
                  : "The auth service's own routes (sign-in, token refresh) must be reachable without a token; the service authenticates these calls itself.",
            }),
      });
    this.subscriptionQueues = subscriptionQueuesOf(this, plan, service, read);
    const messagingArns = messagingArnsOf(plan, service, read, this.subscriptionQueues);
    this.data = new ServiceData(this, "Data", { plan, service });
    const image = imageOf(this, plan, service);
    const repositoryName = image.fromRepository ? service.repository : undefined;

    const config = plan.configStore ? serviceConfigOf(plan.configStore, service.name) : undefined;
    if (config && (config.parameters.length > 0 || config.secrets.length > 0)) {
      this.configStore = new ConfigStore(this, "Config", { config, removalPolicy: plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY });
    }
    const sessionStore: ServiceSessionStore | undefined = plan.sessions
      ? { endpoint: read(sharedParameters.sessionEndpoint(plan)), port: read(sharedParameters.sessionPort(plan)), authTokenSecretArn: read(sharedParameters.sessionAuthTokenArn(plan)) }
      : undefined;
    const dataEnv = Object.keys(this.data.env).length > 0 ? { env: this.data.env } : {};
    const platformParts = { ...(this.configStore ? { configStore: this.configStore } : {}), ...(sessionStore ? { sessionStore } : {}) };

    if (plan.tier === "caas") {
      if (routes.length > 0) this.routes = gatewayRoutes({ kind: "target-group", targetType: "ip", vpcId: read(sharedParameters.vpcId(plan)), port: service.port, healthCheckPath: service.healthPath });
      const targetGroupArns = this.routes?.targetGroupArns ?? [];
      if (targetGroupArns.length > 1) {
        throw new Error(`ServiceStack ${service.name}: its routes span ${targetGroupArns.length} gateway load balancers, but a caas workload binds one target group. Fix: give ${service.name} fewer routes, or list it earlier so its routes share a load balancer`);
      }
      const target = KubernetesPlatform.fromPlatformAttributes(this, "Platform", {
        clusterName: read(sharedParameters.clusterName(plan)),
        kubectlServiceToken: read(sharedParameters.kubectlServiceToken(plan)),
        namespace: workloadNamespace(plan),
      });
      this.workload = new ServiceWorkload(this, "Workload", {
        target,
        plan,
        serviceName,
        image: image.uri,
        ...(targetGroupArns[0] ? { targetGroupArn: targetGroupArns[0] } : {}),
        ...(messagingArns ? { messagingArns } : {}),
        ...platformParts,
        ...dataEnv,
      });
    } else {
      const vpc = importPrivateVpc(this, plan, "The service places instances in subnets by id; their route tables stay with the network stack");
      const workloadSecurityGroup = ec2.SecurityGroup.fromSecurityGroupId(this, "Workloads", read(sharedParameters.workloadSecurityGroupId(plan)), { mutable: false });
      const logBuffer: HostLogBuffer | undefined = plan.logging?.buffer
        ? { host: read(sharedParameters.logBufferHost(plan)), port: plan.logging.buffer.port, secretArn: read(sharedParameters.logBufferSecretArn(plan)) }
        : undefined;
      const common = {
        plan,
        serviceName,
        vpc,
        workloadSecurityGroup,
        image: image.uri,
        ...(repositoryName ? { repositoryName } : {}),
        ...(messagingArns ? { messagingArns } : {}),
        ...(logBuffer ? { logBuffer } : {}),
        ...platformParts,
        ...dataEnv,
      };
      const discovery = plan.hosts?.discovery;

      if (plan.tier === "iaas") {
        if (routes.length > 0) this.routes = gatewayRoutes({ kind: "target-group", targetType: "instance", vpcId: vpc.vpcId, port: service.port, healthCheckPath: service.healthPath });
        this.workload = new VmService(this, "Workload", {
          ...common,
          logEncryptionKey: this.logKey,
          // Its pipeline releases by refreshing the instances, which read the image from here at boot.
          ...(image.releaseParameter ? { releaseParameterName: image.releaseParameter } : {}),
          targetGroupArns: this.routes?.targetGroupArns ?? [],
          ...(discovery ? { discovery: { namespaceId: read(sharedParameters.discoveryNamespaceId(plan)), hostedZoneId: read(sharedParameters.discoveryHostedZoneId(plan)) } } : {}),
        });
      } else {
        const home = homeLoadBalancerOf(plan, service.name);
        this.workload = new PaasService(this, "Workload", {
          ...common,
          applicationName: beanstalkApplicationName(plan),
          serviceRoleArn: read(sharedParameters.paasServiceRoleArn(plan)),
          loadBalancer: {
            arn: read(sharedParameters.gatewayLoadBalancerArn(plan, home)),
            securityGroupId: read(sharedParameters.gatewaySecurityGroupId(plan)),
            ...(routes.length > 0 ? { pathListenerArn: read(sharedParameters.gatewayListenerArn(plan, home)) } : {}),
          },
          ...(discovery ? { discoveryNamespaceId: read(sharedParameters.discoveryNamespaceId(plan)) } : {}),
        });
        // The catch-all reaches the first load balancer's environments; only those elsewhere need API routes.
        if (ownApiRoutes) this.routes = gatewayRoutes({ kind: "environment" });
      }
    }

    this.actsFor(service);

    const monitor = cloudWatchMonitors(plan).find((m) => m.name === service.name);
    if (monitor && plan.monitoring) {
      const index = plan.monitoring.services.find((m) => m.service === service.name)?.loadBalancerIndex;
      // The target group this stack attached on the monitored load balancer (caas, iaas).
      const targetGroup = index !== undefined ? this.routes?.targetGroups.get(index) : undefined;
      const dimensions: CloudWatchDimensionValues = {
        ...(monitor.dimensions.includes("targetGroup") && targetGroup ? { targetGroup: targetGroup.attrTargetGroupFullName } : {}),
        ...(monitor.dimensions.includes("loadBalancer") && index !== undefined ? { loadBalancer: read(sharedParameters.gatewayLoadBalancerMetricName(plan, index)) } : {}),
        ...(monitor.dimensions.includes("clusterName") ? { clusterName: read(sharedParameters.clusterName(plan)) } : {}),
      };
      this.monitoring = new Monitoring(this, "Monitoring", {
        alarmTopic: sns.Topic.fromTopicArn(this, "AlarmTopic", read(sharedParameters.alarmTopicArn(plan))),
        monitors: [monitor],
        dimensions: { [service.name]: dimensions },
        dashboards: plan.monitoring.dashboards,
      });
    }
  }

  /**
   * The broker's policies admit only principals tagged as the service (pod, VM and Beanstalk
   * instance roles alike), and the service's role alone gets what it owns.
   */
  private actsFor(service: ServicePlan): void {
    Tags.of(this.workload.role).add(SERVICE_TAG_KEY, service.name);
    this.data.grantOwner(this.workload.role);
  }
}

/**
 * The service's own queue of each event it subscribes to, fed by the topic or the bus of the
 * messaging stack (read from its parameters) and encrypted with the broker's key.
 */
function subscriptionQueuesOf(stack: ServiceStack, plan: LandingZonePlan, service: ServicePlan, read: (name: string) => string): Map<string, SubscriptionQueue> {
  const queues = new Map<string, SubscriptionQueue>();
  const subscribed = subscribedTopicsOf(plan, service.name);
  const broker = plan.broker;
  if (!broker || subscribed.length === 0) return queues;
  const eventBridge = broker.implementation === "eventbridge";
  if (!eventBridge && broker.implementation !== "sns-sqs") {
    throw new Error(`ServiceStack ${service.name}: messaging.broker implementation "${broker.implementation}" has no subscription queues in the CDK stacks. Fix: set messaging.broker: sns-sqs or eventbridge`);
  }
  const scope = new Construct(stack, "Subscriptions");
  const encryptionKey = kms.Key.fromKeyArn(scope, "BrokerKey", read(sharedParameters.brokerKeyArn(plan)));
  const eventBus = eventBridge ? events.EventBus.fromEventBusArn(scope, "EventBus", read(sharedParameters.eventBusArn(plan))) : undefined;
  const removalPolicy = plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
  for (const { topic, subscription } of subscribed) {
    const source = eventBus
      ? { eventBus, sources: topic.publishers.map((p) => eventSource(plan.name, p)) }
      : { topic: sns.Topic.fromTopicArn(scope, `${pascalCase(topic.event)}Topic`, read(sharedParameters.topicArn(plan, topic.event))) };
    queues.set(
      subscription.name,
      new SubscriptionQueue(scope, topic.event, {
        event: topic.event,
        subscriber: service.name,
        ...source,
        encryptionKey,
        maxReceiveCount: broker.maxReceiveCount,
        retentionDays: broker.retentionDays,
        restrictToSubscriber: true,
        removalPolicy,
      }),
    );
  }
  return queues;
}

function messagingArnsOf(
  plan: LandingZonePlan,
  service: ServicePlan,
  read: (name: string) => string,
  queues: ReadonlyMap<string, SubscriptionQueue>,
): ServiceMessagingArns | undefined {
  if (service.publishes.length === 0 && queues.size === 0) return undefined;
  const eventBus = plan.broker?.implementation === "eventbridge";
  return {
    topicArns: eventBus ? {} : Object.fromEntries(service.publishes.map((event) => [event, read(sharedParameters.topicArn(plan, event))])),
    // Read only where used: an unreferenced template parameter fails strict validation.
    ...(eventBus && directPublishes(service).length > 0 ? { eventBusArn: read(sharedParameters.eventBusArn(plan)) } : {}),
    // Same-stack references: the service owns its queues.
    queueArns: Object.fromEntries([...queues].map(([name, queue]) => [name, queue.queue.queueArn])),
    encryptionKeyArn: read(sharedParameters.brokerKeyArn(plan)),
  };
}

/** The spec's image when it names one; the pipeline's latest release; otherwise the service's own ECR repository. */
function imageOf(scope: Construct, plan: LandingZonePlan, service: ServicePlan): { uri: string; fromRepository: boolean; releaseParameter?: string } {
  const explicit = specImageOf(plan, service.name);
  if (explicit) return { uri: explicit, fromRepository: false };
  // The deploy stage records each release, so redeploying this stack keeps the released image.
  const release = plan.delivery?.services.find((s) => s.service === service.name)?.releaseParameter;
  if (release) return { uri: readParameter(scope, release), fromRepository: true, releaseParameter: release };
  const tag = service.image.slice(service.image.lastIndexOf(":") + 1);
  return { uri: ecr.Repository.fromRepositoryName(scope, "Repository", service.repository).repositoryUriForTag(tag), fromRepository: true };
}
