import type { Environment } from "aws-cdk-lib";
import { Construct } from "constructs";
import { DeliveryStack } from "../../stacks/delivery-stack.js";
import { FrontendsEdgeStack } from "../../stacks/frontends-edge-stack.js";
import { FrontendsStack } from "../../stacks/frontends-stack.js";
import { MessagingStack, TopicStack } from "../../stacks/messaging-stack.js";
import { NetworkStack } from "../../stacks/network-stack.js";
import { ObservabilityStack } from "../../stacks/observability-stack.js";
import { PlatformStack, type ServicePlatform } from "../../stacks/platform-stack.js";
import { SagaStack } from "../../stacks/saga-stack.js";
import { ServiceDeliveryStack } from "../../stacks/service-delivery-stack.js";
import { ServiceStack } from "../../stacks/service-stack.js";
import { pascalCase, stackName } from "../plan/naming.js";
import { planLandingZone } from "../plan/planner.js";
import type { LandingZonePlan } from "../plan/types.js";
import type { LandingZoneInput } from "../spec/schema.js";
import type { LandingZoneSpec } from "../spec/types.js";
import type { ApiGateway } from "./api-gateway.js";
import type { LogPipeline } from "./log-pipeline.js";
import type { MessageBroker } from "./message-broker.js";
import type { Monitoring } from "./monitoring.js";
import type { Network } from "./network.js";
import type { SessionStore } from "./session-store.js";
import type { UserDirectory } from "./user-directory.js";

export interface LandingZoneProps {
  /** The landing-zone spec, as written (`LandingZoneInput`) or normalized. */
  readonly spec: LandingZoneInput | LandingZoneSpec;
  /**
   * AWS account of every stack.
   * @default - CDK_DEFAULT_ACCOUNT (the CLI's credentials), or environment-agnostic without it
   */
  readonly account?: string;
}

/**
 * A whole landing zone from a spec: the plan (checked for the CDK engine) split into deployable
 * stacks `<name>-<env>-network`, `-platform`, `-observability` (logs, monitoring, tracing), `-messaging` (and `-messaging-<n>` with `messaging.topicStacks` > 1),
 * `-sagas`, and per service and BFF a `-delivery-<service>` (its registry, and its pipeline when
 * `pipelines.perService`) and a `-svc-<service>`, for any tier (iaas: VM fleets, caas: EKS,
 * paas: Elastic Beanstalk), with the service's own database, read model, event store and queues;
 * with frontends `-frontends` (and `-frontends-edge` in us-east-1). Service stacks read shared values from SSM parameters at deploy time, so each deploys
 * on its own, and every template is checked against CloudFormation's limits when synthesized.
 *
 * @example
 * const app = new App();
 * new LandingZone(app, "Shop", { spec: loadSpecFile("landing-zone.yaml") });
 */
export class LandingZone extends Construct {
  readonly plan: LandingZonePlan;
  readonly networkStack: NetworkStack;
  readonly platformStack: PlatformStack;
  readonly observabilityStack?: ObservabilityStack;
  /** The broker's key and bus, and its topics (all of them, or those of topic stack 0 with `messaging.topicStacks` > 1). */
  readonly messagingStack?: MessagingStack;
  /** `-messaging-<n>`: the other topic stacks (sns-sqs, `messaging.topicStacks` > 1), each deployed after `messagingStack`. */
  readonly topicStacks: readonly TopicStack[];
  /** The orchestrated sagas' state machines and command queues (`-sagas`), when the spec has any. */
  readonly sagaStack?: SagaStack;
  /** Service or BFF name → its stack. */
  readonly serviceStacks: ReadonlyMap<string, ServiceStack>;
  /** The connection or GitHub OIDC provider the pipelines share, when the spec does not name one. */
  readonly deliveryStack?: DeliveryStack;
  /** Service or BFF name → the stack of its registry and, with pipelines, its pipeline. */
  readonly serviceDeliveryStacks: ReadonlyMap<string, ServiceDeliveryStack>;
  /** The micro-frontends' buckets and CDN, when the spec has frontends. */
  readonly frontendsStack?: FrontendsStack;
  /** The CDN's web ACL in us-east-1, when the landing zone is elsewhere. */
  readonly frontendsEdgeStack?: FrontendsEdgeStack;
  readonly network: Network;
  /** EKS (caas), the VM platform (iaas) or the Elastic Beanstalk application (paas). */
  readonly platform: ServicePlatform;
  readonly gateway: ApiGateway;
  readonly sessions?: SessionStore;
  readonly users?: UserDirectory;
  readonly logging?: LogPipeline;
  /** The key and topics or bus; each subscriber's queue is in its service stack (`ServiceStack.subscriptionQueues`). */
  readonly broker?: MessageBroker;
  /** The alarm topic and the gateway's dashboard and alarms, when the plan monitors. */
  readonly monitoring?: Monitoring;

  constructor(scope: Construct, id: string, props: LandingZoneProps) {
    super(scope, id);
    const plan = planLandingZone(props.spec, { engine: "cdk" });
    this.plan = plan;
    const account = props.account ?? process.env.CDK_DEFAULT_ACCOUNT;
    const env: Environment = { region: plan.region, ...(account ? { account } : {}) };
    const terminationProtection = plan.protection.deletionProtection;
    const shared = (part: string) => ({ plan, env, stackName: stackName(plan.name, plan.environment, part), terminationProtection });

    this.networkStack = new NetworkStack(this, "Network", shared("network"));
    this.network = this.networkStack.network;
    const vpc = this.network.vpc;

    this.platformStack = new PlatformStack(this, "Platform", { ...shared("platform"), vpc });
    this.platform = this.platformStack.platform;
    this.gateway = this.platformStack.gateway;
    if (this.platformStack.sessions) this.sessions = this.platformStack.sessions;
    if (this.platformStack.users) this.users = this.platformStack.users;

    if (plan.logging || plan.monitoring || plan.tracing) {
      this.observabilityStack = new ObservabilityStack(this, "Observability", { ...shared("observability"), vpc });
      // It reads the platform's SSM parameters, which CloudFormation cannot see as a dependency.
      this.observabilityStack.addStackDependency(this.platformStack, "reads the platform's SSM parameters");
      if (this.observabilityStack.logging) this.logging = this.observabilityStack.logging;
      if (this.observabilityStack.monitoring) this.monitoring = this.observabilityStack.monitoring;
    }
    if (plan.broker) {
      this.messagingStack = new MessagingStack(this, "Messaging", shared("messaging"));
      this.broker = this.messagingStack.broker;
    }
    this.topicStacks = (plan.broker?.topicStacks ?? []).slice(1).map((shard) => {
      const stack = new TopicStack(this, `Messaging${shard.index}`, { plan, env, stackName: shard.stackName, terminationProtection, index: shard.index });
      stack.addStackDependency(this.messagingStack!, "reads the broker key's SSM parameter");
      return stack;
    });
    if (plan.sagas.some((s) => s.mode === "orchestration")) this.sagaStack = new SagaStack(this, "Sagas", shared("sagas"));

    if (DeliveryStack.isNeeded(plan)) this.deliveryStack = new DeliveryStack(this, "Delivery", shared("delivery"));
    const serviceDeliveryStacks = new Map<string, ServiceDeliveryStack>();
    const serviceStacks = new Map<string, ServiceStack>();
    for (const service of plan.services) {
      // Every service's registry lives here (with its pipeline, when planned), never in the platform stack.
      const delivery = new ServiceDeliveryStack(this, `Delivery${pascalCase(service.name)}`, {
        plan,
        env,
        stackName: stackName(plan.name, plan.environment, `delivery-${service.name}`),
        serviceName: service.name,
      });
      if (plan.delivery) {
        delivery.addStackDependency(this.networkStack, "reads the network's SSM parameters");
        delivery.addStackDependency(this.platformStack, "reads the platform's SSM parameters");
        if (this.deliveryStack) delivery.addStackDependency(this.deliveryStack, "reads the shared connection or OIDC provider");
      }
      serviceDeliveryStacks.set(service.name, delivery);

      const stack = new ServiceStack(this, `Svc${pascalCase(service.name)}`, {
        plan,
        env,
        stackName: stackName(plan.name, plan.environment, `svc-${service.name}`),
        serviceName: service.name,
      });
      // Deploy order only: the values themselves come from SSM parameters, never exports.
      stack.addStackDependency(this.networkStack, "reads the network's SSM parameters");
      stack.addStackDependency(this.platformStack, "reads the platform's SSM parameters");
      if (this.messagingStack) stack.addStackDependency(this.messagingStack, "reads the broker's SSM parameters");
      const ownEvents = (plan.broker?.topics ?? []).filter((t) => t.publishers.includes(service.name) || t.subscriptions.some((s) => s.subscriber === service.name)).map((t) => t.event);
      for (const topics of this.topicStacks.filter((t) => ownEvents.some((e) => plan.broker!.topicStacks![t.index]!.events.includes(e)))) {
        stack.addStackDependency(topics, "reads its topics' SSM parameters");
      }
      if (this.sagaStack) stack.addStackDependency(this.sagaStack, "reads the sagas' SSM parameters");
      stack.addStackDependency(delivery, "runs the image pushed to its registry (released by its pipeline, when it has one)");
      // The alarm topic (any tier) and, without a cluster, the log buffer.
      if (this.observabilityStack && (plan.monitoring || plan.tier !== "caas")) stack.addStackDependency(this.observabilityStack, "reads the observability stack's SSM parameters");
      serviceStacks.set(service.name, stack);
    }
    this.serviceStacks = serviceStacks;
    this.serviceDeliveryStacks = serviceDeliveryStacks;

    if (plan.frontends) {
      const edgeRegion = plan.frontends.edgeRegion;
      if (plan.frontends.waf && plan.region !== edgeRegion) {
        this.frontendsEdgeStack = new FrontendsEdgeStack(this, "FrontendsEdge", { ...shared("frontends-edge"), env: { ...env, region: edgeRegion } });
      }
      this.frontendsStack = new FrontendsStack(this, "Frontends", { ...shared("frontends"), ...(this.frontendsEdgeStack ? { webAclArn: this.frontendsEdgeStack.webAcl.webAclArn } : {}) });
      this.frontendsStack.addStackDependency(this.platformStack, "reads the gateway's SSM parameter");
      if (this.deliveryStack) this.frontendsStack.addStackDependency(this.deliveryStack, "reads the GitHub OIDC provider");
    }
  }
}
