import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { deployerRbac } from "../../kubernetes/delivery.js";
import { meshAddOn } from "../../kubernetes/mesh.js";
import { namespaceManifests, workloadNamespace } from "../../kubernetes/namespace.js";
import type { AddOn } from "../../kubernetes/types.js";
import { planLandingZone } from "../../plan/planner.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { GITHUB_OIDC } from "../../plan/delivery.js";
import { physicalName } from "../../plan/naming.js";
import type { LandingZoneInput } from "../../spec/schema.js";
import type { LandingZoneSpec } from "../../spec/types.js";
import { ApiGateway } from "./api-gateway.js";
import { FrontendHosting } from "./frontend-hosting.js";
import { KubernetesPlatform, kubernetesPlatformArgsFromPlan } from "./kubernetes-platform.js";
import { LogPipeline } from "./log-pipeline.js";
import { MessageBroker, messageBrokerArgsFromPlan } from "./message-broker.js";
import { Network, networkArgsFromPlan } from "./network.js";
import { ServiceDelivery } from "./service-delivery.js";
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
  readonly frontendsUrl?: pulumi.Output<string>;
}

/**
 * A whole AWS landing zone from a spec, planned for the Pulumi engine: Network, KubernetesPlatform
 * (EKS, load balancer controller, workloads namespace, Istio), ApiGateway, SessionStore, LogPipeline,
 * MessageBroker, a ServiceDelivery (registry, pipeline) and a ServiceWorkload per service and BFF, and
 * FrontendHosting for micro-frontends, all children of this component.
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
  /** Service or BFF name → its pipeline (empty without pipelines). */
  readonly deliveries: ReadonlyMap<string, ServiceDelivery>;
  readonly frontends?: FrontendHosting;

  readonly gatewayUrl: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly sessionEndpoint?: pulumi.Output<string>;
  readonly logDashboardsUrl?: pulumi.Output<string>;
  readonly topicArns?: pulumi.Output<Record<string, string>>;
  readonly frontendsUrl?: pulumi.Output<string>;

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
      this.broker = new MessageBroker(`${name}-broker`, { ...messageBrokerArgsFromPlan(plan.broker, { namePrefix, retain, kafka }), tags: plan.tags }, parent);
    }

    const deliveries = this.createDeliveries(name, plan);
    const services = new Map<string, ServiceWorkload>();
    for (const service of plan.services) {
      const delivery = deliveries.get(service.name);
      const pinned = [...plan.spec.services, ...plan.spec.bffs].find((s) => s.name === service.name)?.image !== undefined;
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
            // The deploy stage records each release, so `pulumi up` keeps the released image.
            ...(delivery?.releasedImage && !pinned ? { image: delivery.releasedImage } : {}),
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
    this.deliveries = deliveries;

    if (plan.frontends) {
      const github = plan.delivery?.provider === "github-actions" ? this.githubOidcProviderArn : undefined;
      this.frontends = new FrontendHosting(
        `${name}-frontends`,
        {
          frontends: plan.frontends,
          ...(plan.frontends.apiRoutes.length > 0 ? { apiDomainName: apiDomain(this, this.gateway.apiId) } : {}),
          ...(github ? { deployTrust: { kind: "github" as const, oidcProviderArn: github } } : {}),
          retain,
          tags: plan.tags,
        },
        parent,
      );
      this.frontendsUrl = pulumi.interpolate`https://${plan.frontends.domain?.name ?? this.frontends.domainName}`;
    }

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
      ...(this.frontendsUrl ? { frontendsUrl: this.frontendsUrl } : {}),
    };
  }

  private githubOidcProviderArn?: pulumi.Output<string>;

  /**
   * With pipelines, a ServiceDelivery per service and BFF (its pipeline or GitHub roles, pushing to
   * the platform's registry), plus the connection or GitHub OIDC provider they share when the spec
   * names none.
   */
  private createDeliveries(name: string, plan: LandingZonePlan): Map<string, ServiceDelivery> {
    const parent = { parent: this };
    const delivery = plan.delivery;
    const retain = plan.protection.retain;
    let connectionArn: pulumi.Input<string> | undefined = delivery?.connectionArn;
    if (delivery?.provider === "native" && !connectionArn) {
      // Created PENDING: someone completes the handshake with the repository host once, in the console.
      connectionArn = new aws.codestarconnections.Connection(`${name}-connection`, { name: physicalName("connection", plan.name, plan.environment), providerType: "GitHub", tags: plan.tags }, parent).arn;
    }
    if (delivery?.provider === "github-actions") {
      this.githubOidcProviderArn = delivery.githubOidcProviderArn
        ? pulumi.output(delivery.githubOidcProviderArn)
        : new aws.iam.OpenIdConnectProvider(`${name}-github-oidc`, { url: GITHUB_OIDC.url, clientIdLists: [GITHUB_OIDC.audience], tags: plan.tags }, parent).arn;
    }
    const deliveries = new Map<string, ServiceDelivery>();
    if (!delivery) return deliveries;
    for (const planned of delivery.services) {
      if (planned.deploy.kind !== "kubernetes-rollout") {
        throw new Error(`LandingZone: deploying to "${planned.deploy.kind}" (tier ${plan.tier}) is not built by the Pulumi engine yet. Fix: set tier: caas, or pipelines.perService: false`);
      }
      deliveries.set(
        planned.service,
        new ServiceDelivery(
          `${name}-${planned.service}-delivery`,
          {
            serviceName: planned.service,
            // The platform owns the registry (its URN is pinned); the pipeline pushes to it.
            existingRepository: this.platform.nodes.repositories[planned.registry]!,
            ...(delivery.provider === "native"
              ? { source: { connectionArn: connectionArn!, owner: planned.source.owner!, repository: planned.source.name, branch: planned.source.branch } }
              : {
                  github: {
                    oidcProviderArn: this.githubOidcProviderArn!,
                    publishSubject: planned.github.publishSubject!,
                    deploySubject: planned.github.deploySubject!,
                    publishRoleName: planned.names.publishRole,
                    deployRoleName: planned.names.deployRole,
                  },
                }),
            deploy: {
              clusterName: this.platform.clusterName,
              namespace: planned.deploy.namespace,
              deployment: planned.deploy.deployment,
              container: planned.deploy.container,
              kubernetesGroup: planned.deploy.kubernetesGroup,
              vpcId: this.network.vpcId,
              subnetIds: this.network.privateSubnetIds,
              clusterSecurityGroupId: this.platform.workloadSecurityGroupId,
              rbac: { provider: this.platform.provider, manifests: deployerRbac(plan, planned), dependsOn: [...this.platform.ready] },
            },
            approval: planned.approval,
            testCommand: delivery.testCommand,
            releaseParameterName: planned.releaseParameter,
            logRetentionDays: delivery.logRetentionDays,
            names: { pipeline: planned.names.pipeline, buildProject: planned.names.buildProject, deployProject: planned.names.deployProject },
            retain,
            tags: plan.tags,
          },
          parent,
        ),
      );
    }
    return deliveries;
  }
}

/** The HTTP API's own host name, the CDN's origin for the shell BFF's routes. */
function apiDomain(parent: pulumi.Resource, apiId: pulumi.Output<string>): pulumi.Output<string> {
  const region = aws.getRegionOutput({}, { parent }).region;
  const dnsSuffix = aws.getPartitionOutput({}, { parent }).dnsSuffix;
  return pulumi.interpolate`${apiId}.execute-api.${region}.${dnsSuffix}`;
}
