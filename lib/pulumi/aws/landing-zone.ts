import * as pulumi from "@pulumi/pulumi";
import { meshAddOn } from "../../kubernetes/mesh.js";
import { namespaceManifests, workloadNamespace } from "../../kubernetes/namespace.js";
import type { AddOn } from "../../kubernetes/types.js";
import { planLandingZone } from "../../plan/planner.js";
import type { LandingZonePlan } from "../../plan/types.js";
import type { LandingZoneInput } from "../../spec/schema.js";
import type { LandingZoneSpec } from "../../spec/types.js";
import { ApiGateway } from "./api-gateway.js";
import { KubernetesPlatform, kubernetesPlatformArgsFromPlan } from "./kubernetes-platform.js";
import { LogPipeline } from "./log-pipeline.js";
import { MessageBroker, messageBrokerArgsFromPlan } from "./message-broker.js";
import { Network, networkArgsFromPlan } from "./network.js";
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
}

/**
 * A whole AWS landing zone from a spec, planned for the Pulumi engine: Network, KubernetesPlatform
 * (EKS, ECR, load balancer controller, workloads namespace, Istio), ApiGateway, SessionStore,
 * LogPipeline, MessageBroker and a ServiceWorkload per service and BFF, all children of this component.
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

  readonly gatewayUrl: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly sessionEndpoint?: pulumi.Output<string>;
  readonly logDashboardsUrl?: pulumi.Output<string>;
  readonly topicArns?: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: LandingZoneArgs, opts?: pulumi.ComponentResourceOptions) {
    // Planning throws a PlanError naming every unsupported capability before anything is registered.
    const plan = planLandingZone(args.spec, { engine: "pulumi" });
    super("msa:aws:LandingZone", name, {}, opts);
    this.plan = plan;
    const parent = { parent: this };
    const retain = plan.protection.retain;
    const namePrefix = `${plan.name}-${plan.environment}`;

    this.network = new Network(`${name}-network`, networkArgsFromPlan(plan.network, plan.tags), parent);
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
      this.broker = new MessageBroker(`${name}-broker`, { ...messageBrokerArgsFromPlan(plan.broker, { namePrefix, retain, kafka }), tags: plan.tags }, parent);
    }

    const services = new Map<string, ServiceWorkload>();
    for (const service of plan.services) {
      services.set(
        service.name,
        new ServiceWorkload(
          `${name}-${service.name}`,
          {
            plan,
            service: service.name,
            clusterName: this.platform.clusterName,
            provider: this.platform.provider,
            // The service's own repository: an apply on repositoryUrls would make every service depend on every repository.
            repositoryUrl: this.platform.nodes.repositories[service.repository]!.repositoryUrl,
            targetGroupArns: this.gateway.targetGroupArns[service.name] ?? [],
            ...(this.broker ? { broker: this.broker } : {}),
            dependsOn: [...this.platform.ready],
            tags: plan.tags,
          },
          parent,
        ),
      );
    }
    this.services = services;

    this.gatewayUrl = this.gateway.url;
    this.clusterName = this.platform.clusterName;
    if (this.sessions) this.sessionEndpoint = this.sessions.endpoint;
    if (this.logging) this.logDashboardsUrl = this.logging.dashboardsUrl;
    if (this.broker) this.topicArns = this.broker.topicArns;
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
    };
  }
}
