import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { meshAddOn } from "../../kubernetes/mesh.js";
import { namespaceManifests, workloadNamespace } from "../../kubernetes/namespace.js";
import type { AddOn } from "../../kubernetes/types.js";
import { planLandingZone } from "../../plan/planner.js";
import { DATA_ENV, sagaEnvName } from "../../plan/data.js";
import { eventSource } from "../../plan/messaging.js";
import type { LandingZonePlan, ServicePlan } from "../../plan/types.js";
import type { LandingZoneInput } from "../../spec/schema.js";
import type { LandingZoneSpec } from "../../spec/types.js";
import { ApiGateway } from "./api-gateway.js";
import { EventStore, type EventStoreForwarding } from "./event-store.js";
import { KubernetesPlatform, kubernetesPlatformArgsFromPlan } from "./kubernetes-platform.js";
import { LogPipeline } from "./log-pipeline.js";
import { MessageBroker, messageBrokerArgsFromPlan } from "./message-broker.js";
import { Network, networkArgsFromPlan } from "./network.js";
import { logsKeyPolicy, SagaOrchestrator } from "./saga-orchestrator.js";
import { ServiceDatabase, serviceDatabaseArgsFromPlan } from "./service-database.js";
import { ServiceWorkload } from "./service-workload.js";
import { SessionStore, sessionStoreArgsFromPlan } from "./session-store.js";

export interface LandingZoneArgs {
  /** The landing-zone spec, as written (`LandingZoneInput`) or normalized. */
  readonly spec: LandingZoneInput | LandingZoneSpec;
}

/** The outputs every cloud's landing zone exports as stack outputs. */
export interface LandingZoneOutputs {
  readonly gatewayUrl: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly sessionEndpoint?: pulumi.Output<string>;
  readonly logDashboardsUrl?: pulumi.Output<string>;
  readonly topicArns?: pulumi.Output<Record<string, string>>;
  readonly sagaStateMachineArns?: pulumi.Output<Record<string, string>>;
}

/**
 * A whole AWS landing zone from a spec, planned for the Pulumi engine: Network, KubernetesPlatform
 * (EKS, ECR, load balancer controller, workloads namespace, Istio), ApiGateway, SessionStore,
 * LogPipeline, MessageBroker, a SagaOrchestrator per orchestrated saga, and per service its own
 * ServiceDatabase, read model and EventStore under its own key beside its ServiceWorkload, all
 * children of this component.
 *
 * Cost: the EKS control plane, NAT gateways, OpenSearch and ElastiCache bill hourly even when idle.
 *
 * @example
 * const zone = new LandingZone("shop", { spec: loadSpecFile("landing-zone.yaml") });
 * export const gatewayUrl = zone.gatewayUrl;
 */
export class LandingZone extends pulumi.ComponentResource implements LandingZoneOutputs {
  readonly plan: LandingZonePlan;
  readonly network: Network;
  readonly platform: KubernetesPlatform;
  readonly gateway: ApiGateway;
  readonly sessions?: SessionStore;
  readonly logging?: LogPipeline;
  readonly broker?: MessageBroker;
  /** Service or BFF name → its workload. */
  readonly services: ReadonlyMap<string, ServiceWorkload>;
  /** Service name → what it owns: its database, read model and event store. */
  readonly data: ReadonlyMap<string, ServiceDataParts>;
  /** Orchestrated saga name → its state machine. */
  readonly sagas: ReadonlyMap<string, SagaOrchestrator>;

  readonly gatewayUrl: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly sessionEndpoint?: pulumi.Output<string>;
  readonly logDashboardsUrl?: pulumi.Output<string>;
  readonly topicArns?: pulumi.Output<Record<string, string>>;
  readonly sagaStateMachineArns?: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: LandingZoneArgs, opts?: pulumi.ComponentResourceOptions) {
    // Planning throws a PlanError naming every unsupported capability before anything is registered.
    const plan = planLandingZone(args.spec, { engine: "pulumi" });
    super("msa:aws:LandingZone", name, {}, opts);
    this.plan = plan;
    const parent = { parent: this };
    const retain = plan.protection.retain;
    const namePrefix = `${plan.name}-${plan.environment}`;

    this.network = new Network(`${name}-network`, { ...networkArgsFromPlan(plan.network, plan.tags), retainFlowLogs: retain }, parent);
    const placement = { vpcId: this.network.vpcId, privateSubnetIds: this.network.privateSubnetIds };

    const workloads: AddOn = { name: "workloads", namespace: workloadNamespace(plan), helmReleases: [], manifests: namespaceManifests(plan), dependsOn: [] };
    const mesh = meshAddOn(plan);
    // The namespace asks for sidecar injection, so it waits for the mesh's webhook.
    const addOns = mesh ? [mesh, { ...workloads, dependsOn: [mesh.name] }] : [workloads];
    this.platform = new KubernetesPlatform(`${name}-platform`, kubernetesPlatformArgsFromPlan(plan, placement, addOns), parent);
    const workloadSecurityGroupId = this.platform.workloadSecurityGroupId;

    this.gateway = new ApiGateway(
      `${name}-gateway`,
      {
        gateway: plan.gateway,
        namePrefix,
        ...placement,
        workloadSecurityGroupId,
        healthCheckPaths: Object.fromEntries(plan.services.map((s) => [s.name, s.healthPath])),
        retain,
        tags: plan.tags,
      },
      parent,
    );

    if (plan.sessions) {
      this.sessions = new SessionStore(
        `${name}-sessions`,
        { ...sessionStoreArgsFromPlan(plan.sessions, { vpcId: this.network.vpcId, subnetIds: this.network.isolatedSubnetIds, allowedSecurityGroupIds: [workloadSecurityGroupId] }, retain), tags: plan.tags },
        parent,
      );
    }

    if (plan.logging) {
      this.logging = new LogPipeline(
        `${name}-logging`,
        {
          plan,
          vpcId: this.network.vpcId,
          subnetIds: this.network.isolatedSubnets.map((s) => s.id),
          cluster: { clusterName: this.platform.clusterName, provider: this.platform.provider, workloadSecurityGroupId, dependsOn: this.platform.ready },
        },
        parent,
      );
    }

    if (plan.broker) {
      const kafka = { vpcId: this.network.vpcId, subnetIds: this.network.privateSubnets.map((s) => s.id), allowedSecurityGroupIds: [workloadSecurityGroupId] };
      this.broker = new MessageBroker(`${name}-broker`, { ...messageBrokerArgsFromPlan(plan.broker, { namePrefix, retain, zone: plan.name, kafka }), tags: plan.tags }, parent);
    }

    const orchestrated = plan.sagas.filter((s) => s.mode === "orchestration");
    const sagas = new Map<string, SagaOrchestrator>();
    if (orchestrated.length > 0) {
      const kept = retain ? { parent: this, protect: true, retainOnDelete: true } : parent;
      const sagaKey = new aws.kms.Key(`${name}-sagas-key`, { description: `${namePrefix} saga commands and logs`, enableKeyRotation: true, deletionWindowInDays: 30, policy: logsKeyPolicy(this), tags: plan.tags }, kept);
      for (const saga of orchestrated) {
        sagas.set(
          saga.name,
          new SagaOrchestrator(
            `${name}-${saga.name}`,
            { saga, kmsKeyArn: sagaKey.arn, maxReceiveCount: plan.spec.messaging.maxReceiveCount, restrictToServices: true, retain, tags: plan.tags },
            parent,
          ),
        );
      }
    }
    this.sagas = sagas;

    const data = new Map<string, ServiceDataParts>();
    const services = new Map<string, ServiceWorkload>();
    for (const service of plan.services) {
      const owned = this.serviceData(name, service, workloadSecurityGroupId);
      if (owned) data.set(service.name, owned);
      const sagaAccess = this.sagaAccess(service);
      services.set(
        service.name,
        new ServiceWorkload(
          `${name}-${service.name}`,
          {
            plan,
            service: service.name,
            clusterName: this.platform.clusterName,
            provider: this.platform.provider,
            repositoryUrl: this.platform.repositoryUrls.apply((urls) => urls[service.repository]!),
            targetGroupArns: this.gateway.targetGroupArns[service.name] ?? [],
            ...(this.broker ? { broker: this.broker } : {}),
            ...(owned || sagaAccess.policies ? { env: { ...owned?.env, ...sagaAccess.env }, policies: { ...owned?.policies, ...sagaAccess.policies } } : {}),
            dependsOn: [...this.platform.ready],
            tags: plan.tags,
          },
          parent,
        ),
      );
    }
    this.services = services;
    this.data = data;

    this.gatewayUrl = this.gateway.url;
    this.clusterName = this.platform.clusterName;
    if (this.sessions) this.sessionEndpoint = this.sessions.endpoint;
    if (this.logging) this.logDashboardsUrl = this.logging.dashboardsUrl;
    if (this.broker) this.topicArns = this.broker.topicArns;
    if (sagas.size > 0) this.sagaStateMachineArns = pulumi.output(Object.fromEntries([...sagas].map(([saga, o]) => [saga, o.stateMachineArn])));
    this.registerOutputs(this.outputs);
  }

  /** Stack outputs, by name; optional parts appear only when the plan has them. */
  get outputs(): Readonly<Record<string, pulumi.Output<unknown>>> {
    return {
      gatewayUrl: this.gatewayUrl,
      clusterName: this.clusterName,
      ...(this.sessionEndpoint ? { sessionEndpoint: this.sessionEndpoint } : {}),
      ...(this.logDashboardsUrl ? { logDashboardsUrl: this.logDashboardsUrl } : {}),
      ...(this.topicArns ? { topicArns: this.topicArns } : {}),
      ...(this.sagaStateMachineArns ? { sagaStateMachineArns: this.sagaStateMachineArns } : {}),
    };
  }

  /**
   * The stores a service owns, under its own data key: its database (RDS in the isolated subnets
   * admitting the workloads' security group, or DynamoDB), its read table, its event store
   * forwarding to the broker; with the env telling the service where they are and the policies
   * giving its role, and only its role, access.
   */
  private serviceData(name: string, service: ServicePlan, workloadSecurityGroupId: pulumi.Output<string>): ServiceDataParts | undefined {
    const { plan } = this;
    if (!service.database && !service.readModel && !service.eventStore) return undefined;
    const retain = plan.protection.retain;
    const tags = plan.tags;
    const parent = { parent: this };
    const kept = retain ? { parent: this, protect: true, retainOnDelete: true } : parent;
    const key = new aws.kms.Key(`${name}-${service.name}-data-key`, { description: `${service.name} data at rest`, enableKeyRotation: true, deletionWindowInDays: 30, tags }, kept);
    const env: Record<string, pulumi.Input<string>> = {};
    const policies: Record<string, pulumi.Input<string>> = {};
    const parts: { database?: ServiceDatabase; readModel?: ServiceDatabase; eventStore?: EventStore } = {};

    if (service.database) {
      const placement =
        service.database.port > 0 ? { vpcId: this.network.vpcId, subnetIds: this.network.isolatedSubnets.map((s) => s.id), allowedSecurityGroupIds: [workloadSecurityGroupId] } : undefined;
      parts.database = new ServiceDatabase(`${name}-${service.name}-db`, { ...serviceDatabaseArgsFromPlan(service.database, { ...(placement ? { placement } : {}), kmsKeyArn: key.arn, retain }), tags }, parent);
      Object.assign(env, parts.database.environment());
      policies["database"] = parts.database.ownerPolicyDocument();
    }
    if (service.readModel) {
      parts.readModel = new ServiceDatabase(`${name}-${service.name}-read`, { engine: "document", identifier: service.readModel.table, kmsKeyArn: key.arn, retain, tags }, parent);
      env[DATA_ENV.readModelTable] = parts.readModel.endpoint;
      policies["read-model"] = parts.readModel.ownerPolicyDocument();
    }
    if (service.eventStore) {
      const store = service.eventStore;
      const forwarding = store.forwards.length > 0 ? this.forwardingOf(service) : undefined;
      parts.eventStore = new EventStore(
        `${name}-${service.name}-events`,
        { tableName: store.name, layout: store, ...(forwarding ? { forwarding } : {}), kmsKeyArn: key.arn, retain, tags },
        parent,
      );
      env[DATA_ENV.eventStore] = parts.eventStore.tableName;
      policies["event-store"] = parts.eventStore.appendPolicyDocument();
    }
    return { ...parts, kmsKeyArn: key.arn, env, policies };
  }

  private forwardingOf(service: ServicePlan): EventStoreForwarding {
    const broker = this.broker;
    const events = service.eventStore!.forwards;
    if (!broker) throw new Error(`LandingZone: services[${service.name}].eventStore forwards ${events.join(", ")} but the plan has no broker`);
    if (broker.eventBus) return { kind: "eventbridge", service: service.name, eventBusArn: broker.eventBus.arn, source: eventSource(this.plan.name, service.name), events };
    return { kind: "sns", service: service.name, topicArns: Object.fromEntries(events.map((e) => [e, broker.topicArns.apply((arns) => arns[e]!)])), kmsKeyArn: broker.kmsKey.arn };
  }

  /** The saga commands a service answers and, for the initiator, the saga it starts. */
  private sagaAccess(service: ServicePlan): { env?: Record<string, pulumi.Input<string>>; policies?: Record<string, pulumi.Input<string>> } {
    const env: Record<string, pulumi.Input<string>> = {};
    const policies: Record<string, pulumi.Input<string>> = {};
    for (const [sagaName, orchestrator] of this.sagas) {
      if (!orchestrator.saga.commandQueues.some((q) => q.service === service.name)) continue;
      env[sagaEnvName(sagaName, "COMMAND_QUEUE_URL")] = orchestrator.commandQueueUrls[service.name]!;
      policies[`saga-${sagaName}`] = orchestrator.participantPolicyDocument(service.name);
      if (orchestrator.saga.initiator === service.name) {
        env[sagaEnvName(sagaName, "STATE_MACHINE_ARN")] = orchestrator.stateMachineArn;
        policies[`saga-${sagaName}-start`] = orchestrator.startPolicyDocument();
      }
    }
    return Object.keys(policies).length > 0 ? { env, policies } : {};
  }
}

/** What one service owns, under its own data key. */
export interface ServiceDataParts {
  readonly kmsKeyArn: pulumi.Output<string>;
  readonly database?: ServiceDatabase;
  readonly readModel?: ServiceDatabase;
  readonly eventStore?: EventStore;
  /** Environment variables naming the stores. */
  readonly env: Readonly<Record<string, pulumi.Input<string>>>;
  /** The owner's IAM policy documents, by name. */
  readonly policies: Readonly<Record<string, pulumi.Input<string>>>;
}
