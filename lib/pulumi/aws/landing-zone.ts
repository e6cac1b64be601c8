import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { deployerRbac } from "../../kubernetes/delivery.js";
import { meshAddOn } from "../../kubernetes/mesh.js";
import { namespaceManifests, workloadNamespace } from "../../kubernetes/namespace.js";
import { secretsStoreAddOnOf } from "../../kubernetes/secrets-store.js";
import { gatewayLoadBalancerAccess } from "../../kubernetes/target-group-binding.js";
import type { AddOn } from "../../kubernetes/types.js";
import { cloudWatchMonitors } from "../../plan/monitoring.js";
import { plannedBeanstalkBundle } from "../../plan/beanstalk-release.js";
import { serviceNamed } from "../../plan/lookup.js";
import { GITHUB_OIDC } from "../../plan/delivery.js";
import { githubOidcProvider } from "../../plan/github-oidc.js";
import { homeLoadBalancerOf, routesTo } from "../../plan/lookup.js";
import { physicalName } from "../../plan/naming.js";
import { planLandingZone } from "../../plan/planner.js";
import { DATA_ENV, sagaEnvName } from "../../plan/data.js";
import { eventSource, SERVICE_TAG_KEY } from "../../plan/messaging.js";
import type { LandingZonePlan, ServicePlan } from "../../plan/types.js";
import type { LandingZoneInput } from "../../spec/schema.js";
import type { LandingZoneSpec } from "../../spec/types.js";
import { BEANSTALK_INSTANCE_PORT } from "../../plan/host-bootstrap.js";
import { applyManifests } from "../kubernetes/add-on.js";
import { ApiGateway, type ApiGatewayArgs } from "./api-gateway.js";
import { EventStore, type EventStoreForwarding } from "./event-store.js";
import { ContainerInsights } from "./container-insights.js";
import { FrontendHosting } from "./frontend-hosting.js";
import { KubernetesPlatform, kubernetesPlatformArgsFromPlan } from "./kubernetes-platform.js";
import { LogPipeline } from "./log-pipeline.js";
import { MessageBroker, messageBrokerArgsFromPlan } from "./message-broker.js";
import { fitAwsAutonames } from "./fit-autonames.js";
import { Monitoring, type MonitorDimensions } from "./monitoring.js";
import { Network, networkArgsFromPlan } from "./network.js";
import { PaasPlatform, paasPlatformArgsFromPlan } from "./paas-platform.js";
import { PaasService } from "./paas-service.js";
import { logsKeyPolicy, SagaOrchestrator } from "./saga-orchestrator.js";
import { ServiceDatabase, serviceDatabaseArgsFromPlan } from "./service-database.js";
import { ServiceDelivery } from "./service-delivery.js";
import { ServiceWorkload } from "./service-workload.js";
import { SessionStore, sessionStoreArgsFromPlan } from "./session-store.js";
import { Tracing } from "./tracing.js";
import { VmPlatform, vmPlatformArgsFromPlan } from "./vm-platform.js";
import { VmService } from "./vm-service.js";
import type { HostLogBufferInput } from "./hosted-service-parts.js";

export interface LandingZoneArgs {
  /** The landing-zone spec, as written (`LandingZoneInput`) or normalized. */
  readonly spec: LandingZoneInput | LandingZoneSpec;
}

/** The outputs every cloud's landing zone exports as stack outputs. */
export interface LandingZoneOutputs {
  readonly gatewayUrl: pulumi.Output<string>;
  /** The EKS cluster (caas). */
  readonly clusterName?: pulumi.Output<string>;
  /** The Cloud Map namespace the services register in (iaas, paas). */
  readonly discoveryNamespace?: pulumi.Output<string>;
  /** The Elastic Beanstalk application (paas). */
  readonly applicationName?: pulumi.Output<string>;
  readonly sessionEndpoint?: pulumi.Output<string>;
  readonly logDashboardsUrl?: pulumi.Output<string>;
  readonly topicArns?: pulumi.Output<Record<string, string>>;
  readonly sagaStateMachineArns?: pulumi.Output<Record<string, string>>;
  readonly alarmTopicArn?: pulumi.Output<string>;
  /** The micro-frontends' CDN (https). */
  readonly frontendsUrl?: pulumi.Output<string>;
}

/** The compute platform of the plan's tier. */
export type ServicePlatform = KubernetesPlatform | VmPlatform | PaasPlatform;
/** How one service runs on the plan's tier. */
export type ServiceDeployment = ServiceWorkload | VmService | PaasService;

/**
 * A whole AWS landing zone from a spec, planned for the Pulumi engine: Network, the tier's platform
 * (caas: KubernetesPlatform with EKS, ECR, load balancer controller, workloads namespace and Istio;
 * iaas: VmPlatform with its Cloud Map namespace; paas: PaasPlatform with the Beanstalk application),
 * ApiGateway, SessionStore, LogPipeline (Logstash in the cluster, or on its own hosts), MessageBroker,
 * per service and BFF a ServiceWorkload, VmService or PaasService (each with its ConfigStore),
 * Monitoring (with ContainerInsights on caas) and Tracing (caas); with pipelines a ServiceDelivery per
 * service (caas), with frontends FrontendHosting; all children of this component.
 *
 * Cost: NAT gateways, OpenSearch, ElastiCache and the EKS control plane (caas) bill hourly even when idle.
 *
 * @example
 * const zone = new LandingZone("shop", { spec: loadSpecFile("landing-zone.yaml") });
 * export const gatewayUrl = zone.gatewayUrl;
 */
export class LandingZone extends pulumi.ComponentResource implements LandingZoneOutputs {
  readonly plan: LandingZonePlan;
  readonly network: Network;
  readonly platform: ServicePlatform;
  readonly gateway: ApiGateway;
  readonly sessions?: SessionStore;
  readonly logging?: LogPipeline;
  readonly broker?: MessageBroker;
  readonly monitoring?: Monitoring;
  readonly containerInsights?: ContainerInsights;
  readonly tracing?: Tracing;
  /** Service or BFF name → its workload, VM fleet or Beanstalk environment. */
  readonly services: ReadonlyMap<string, ServiceDeployment>;
  /** Service name → what it owns: its database, read model and event store. */
  readonly data: ReadonlyMap<string, ServiceDataParts>;
  /** Orchestrated saga name → its state machine. */
  readonly sagas: ReadonlyMap<string, SagaOrchestrator>;
  /** Service or BFF name → its pipeline (empty without pipelines). */
  readonly deliveries: ReadonlyMap<string, ServiceDelivery>;
  readonly frontends?: FrontendHosting;

  readonly gatewayUrl: pulumi.Output<string>;
  readonly clusterName?: pulumi.Output<string>;
  readonly discoveryNamespace?: pulumi.Output<string>;
  readonly applicationName?: pulumi.Output<string>;
  readonly sessionEndpoint?: pulumi.Output<string>;
  readonly logDashboardsUrl?: pulumi.Output<string>;
  readonly topicArns?: pulumi.Output<Record<string, string>>;
  readonly sagaStateMachineArns?: pulumi.Output<Record<string, string>>;
  readonly alarmTopicArn?: pulumi.Output<string>;
  readonly frontendsUrl?: pulumi.Output<string>;

  constructor(name: string, args: LandingZoneArgs, opts?: pulumi.ComponentResourceOptions) {
    // Planning throws a PlanError naming every unsupported capability before anything is registered.
    const plan = planLandingZone(args.spec, { engine: "pulumi" });
    // Long zone and service names stay deployable: children whose autonames would pass AWS's limits get fitted names.
    super("msa:aws:LandingZone", name, {}, { ...opts, transformations: [...(opts?.transformations ?? []), fitAwsAutonames] });
    this.plan = plan;
    const parent = { parent: this };
    const retain = plan.protection.retain;
    const namePrefix = `${plan.name}-${plan.environment}`;

    this.network = new Network(`${name}-network`, { ...networkArgsFromPlan(plan.network, plan.tags), retainFlowLogs: retain }, parent);
    const placement = { vpcId: this.network.vpcId, privateSubnetIds: this.network.privateSubnetIds };

    const cluster = plan.tier === "caas" ? this.kubernetesPlatform(name, plan, placement) : undefined;
    this.platform =
      cluster ??
      (plan.tier === "iaas"
        ? new VmPlatform(`${name}-platform`, vmPlatformArgsFromPlan(plan, this.network.vpcId), parent)
        : new PaasPlatform(`${name}-platform`, paasPlatformArgsFromPlan(plan, this.network.vpcId), parent));
    const workloadSecurityGroupId = this.platform.workloadSecurityGroupId;

    // The pods admit the balancers' subnets before the balancers are placed (or moved) there.
    const gatewayAccess = cluster
      ? applyManifests(`${name}-gateway-access`, gatewayLoadBalancerAccess(plan), { provider: cluster.provider, parent: this, dependsOn: [...cluster.ready] })
      : undefined;
    this.gateway = new ApiGateway(
      `${name}-gateway`,
      {
        gateway: plan.gateway,
        namePrefix,
        ...placement,
        ...(plan.gateway.loadBalancerSubnets === "public" ? { loadBalancerSubnetIds: this.network.publicSubnetIds } : {}),
        workloadSecurityGroupId,
        healthCheckPaths: Object.fromEntries(plan.services.map((s) => [s.name, s.healthPath])),
        targets: gatewayTargets(plan),
        ...(plan.auth?.authorizer ? { authorizer: plan.auth.authorizer } : {}),
        ...(plan.auth?.tokens?.provider === "external" ? { jwtIssuer: { issuerUrl: plan.auth.tokens.issuer!, audiences: plan.auth.tokens.audiences } } : {}),
        retain,
        tags: plan.tags,
      },
      gatewayAccess ? { parent: this, dependsOn: [gatewayAccess] } : parent,
    );
    if (this.platform instanceof PaasPlatform) {
      // Services call each other through the shared load balancers, by each environment's host name.
      this.gateway.nodes.loadBalancers.forEach((lb, i) => {
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-lb${i}-from-services`,
          { securityGroupId: lb.securityGroup.id, referencedSecurityGroupId: workloadSecurityGroupId, ipProtocol: "tcp", fromPort: BEANSTALK_INSTANCE_PORT, toPort: BEANSTALK_INSTANCE_PORT, description: "Services calling each other", tags: plan.tags },
          parent,
        );
      });
    }

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
          ...(cluster
            ? { cluster: { clusterName: cluster.clusterName, provider: cluster.provider, workloadSecurityGroupId, dependsOn: cluster.ready } }
            : { hosts: { workloadSecurityGroupId, privateSubnetIds: this.network.privateSubnetIds } }),
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
    const deliveries = this.createDeliveries(name, plan, cluster);
    const services = new Map<string, ServiceDeployment>();
    const logBuffer: HostLogBufferInput | undefined =
      this.logging?.bufferEndpoint && plan.logging?.buffer && this.logging.nodes.buffer
        ? { host: this.logging.bufferEndpoint, port: plan.logging.buffer.port, secretArn: this.logging.nodes.buffer.authTokenSecretArn }
        : undefined;
    for (const service of plan.services) {
      const owned = this.serviceData(name, service, workloadSecurityGroupId);
      if (owned) data.set(service.name, owned);
      const sagaAccess = this.sagaAccess(service);
      // The service's own repository: an apply on repositoryUrls would make every service depend on every repository.
      const repositoryUrl = this.platform.nodes.repositories[service.repository]!.repositoryUrl;
      // The spec's image when it names one; otherwise the service's own repository.
      const fromRepository = service.image.startsWith(`${service.repository}:`);
      const image = fromRepository ? pulumi.interpolate`${repositoryUrl}${service.image.slice(service.repository.length)}` : pulumi.output(service.image);
      const hosted = {
        plan,
        service: service.name,
        privateSubnetIds: this.network.privateSubnetIds,
        workloadSecurityGroupId,
        image,
        ...(fromRepository ? { repositoryName: service.repository } : {}),
        ...(this.broker ? { broker: this.broker } : {}),
        ...(logBuffer ? { logBuffer } : {}),
        ...(this.sessions ? { sessionStore: { endpoint: this.sessions.endpoint, port: this.sessions.port, authTokenSecretArn: this.sessions.authTokenSecretArn } } : {}),
        // The broker's policies admit only principals tagged as the service.
        tags: { ...plan.tags, [SERVICE_TAG_KEY]: service.name },
        ...(owned || sagaAccess.env ? { env: { ...owned?.env, ...sagaAccess.env } } : {}),
      };
      let deployment: ServiceDeployment;
      if (cluster) {
        deployment = new ServiceWorkload(
          `${name}-${service.name}`,
          {
            plan,
            service: service.name,
            clusterName: cluster.clusterName,
            provider: cluster.provider,
            repositoryUrl,
            // The deploy stage records each release, so `pulumi up` keeps the released image.
            ...(fromRepository && deliveries.get(service.name)?.releasedImage ? { image: deliveries.get(service.name)!.releasedImage! } : {}),
            targetGroupArns: this.gateway.targetGroupArns[service.name] ?? [],
            ...(this.broker ? { broker: this.broker } : {}),
            ...(owned || sagaAccess.policies ? { env: { ...owned?.env, ...sagaAccess.env }, policies: { ...owned?.policies, ...sagaAccess.policies } } : {}),
            ...(this.sessions ? { sessionStore: { endpoint: this.sessions.endpoint, port: this.sessions.port, authTokenSecretArn: this.sessions.authTokenSecretArn } } : {}),
            dependsOn: [...cluster.ready],
            tags: plan.tags,
          },
          parent,
        );
      } else if (this.platform instanceof VmPlatform) {
        const { namespaceId, hostedZoneId } = this.platform;
        const releasedImage = deliveries.get(service.name)?.releasedImage;
        const parameter = plan.delivery?.services.find((s) => s.service === service.name)?.releaseParameter;
        const release = releasedImage && parameter ? { image: releasedImage, parameter } : undefined;
        deployment = new VmService(
          `${name}-${service.name}`,
          {
            ...hosted,
            // Its pipeline releases by refreshing the instances, which read the image from the release parameter at boot.
            ...(fromRepository && release ? { image: release.image, releaseParameterName: release.parameter } : {}),
            targetGroupArns: this.gateway.targetGroupArns[service.name] ?? [],
            ...(namespaceId && hostedZoneId ? { discovery: { namespaceId, hostedZoneId } } : {}),
          },
          parent,
        );
      } else {
        const paas = this.platform as PaasPlatform;
        const home = this.gateway.nodes.loadBalancers[homeLoadBalancerOf(plan, service.name)]!;
        const releasedImage = deliveries.get(service.name)?.releasedImage;
        deployment = new PaasService(
          `${name}-${service.name}`,
          {
            ...hosted,
            // Its pipeline releases the image as the environment's MSA_IMAGE and records it, so `pulumi up` keeps it.
            ...(fromRepository && releasedImage ? { image: releasedImage } : {}),
            applicationName: paas.applicationName,
            serviceRoleArn: paas.serviceRoleArn,
            bundleBucket: paas.bundleBucket,
            vpcId: this.network.vpcId,
            loadBalancer: { arn: home.loadBalancer.arn, securityGroupId: home.securityGroup.id, ...(routesTo(plan, service.name).length > 0 ? { pathListenerArn: home.listener.arn } : {}) },
            ...(paas.namespaceId ? { discoveryNamespaceId: paas.namespaceId } : {}),
          },
          parent,
        );
      }
      if (!(deployment instanceof ServiceWorkload)) {
        // Instance roles get what the service owns here; a ServiceWorkload attaches its own policies.
        for (const [policyName, policy] of Object.entries({ ...owned?.policies, ...sagaAccess.policies })) {
          new aws.iam.RolePolicy(`${name}-${service.name}-${policyName}`, { role: deployment.nodes.role.name, policy }, parent);
        }
      }
      services.set(service.name, deployment);
    }
    this.services = services;
    this.data = data;
    this.deliveries = deliveries;

    if (plan.frontends) {
      // The apps deploy from GitHub whenever the repositories have an owner, whatever the services' pipelines.
      const github = plan.frontends.github ? this.githubOidcProviderArn : undefined;
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

    if (plan.monitoring) {
      const gateway = this.gateway.nodes.loadBalancers;
      const dimensions: Record<string, MonitorDimensions> = { gateway: { apiId: this.gateway.apiId } };
      for (const monitored of plan.monitoring.services) {
        const index = monitored.loadBalancerIndex;
        // Beanstalk owns the target groups on its shared load balancer, so paas monitors take no gateway dimensions.
        const targetGroup = index !== undefined ? gateway[index]!.targetGroups[monitored.service] : undefined;
        dimensions[monitored.service] = {
          ...(cluster ? { clusterName: cluster.clusterName } : {}),
          ...(targetGroup ? { targetGroup: targetGroup.arnSuffix, loadBalancer: gateway[index!]!.loadBalancer.arnSuffix } : {}),
        };
      }
      this.monitoring = new Monitoring(
        `${name}-monitoring`,
        {
          topicName: plan.monitoring.topicName,
          ...(plan.monitoring.alarmEmail ? { alarmEmail: plan.monitoring.alarmEmail } : {}),
          monitors: cloudWatchMonitors(plan),
          dimensions,
          dashboards: plan.monitoring.dashboards,
          retain,
          tags: plan.tags,
        },
        parent,
      );
      // Container Insights is what the service dashboards' saturation comes from on EKS.
      if (cluster) this.containerInsights = new ContainerInsights(`${name}-insights`, { clusterName: cluster.clusterName, dependsOn: [...cluster.ready], tags: plan.tags }, parent);
    }
    // On VMs and Beanstalk each service's instances run their own collector (lib/plan/host-bootstrap.ts).
    if (plan.tracing && plan.tier === "caas") {
      if (!cluster) throw new Error(`LandingZone ${name}: the OpenTelemetry collector runs on the cluster, but tier is "${plan.tier}". Fix: set tier: caas, or tracing.backend: none`);
      this.tracing = new Tracing(`${name}-tracing`, { plan, clusterName: cluster.clusterName, provider: cluster.provider, dependsOn: [...cluster.ready], tags: plan.tags }, parent);
    }

    this.gatewayUrl = this.gateway.url;
    if (cluster) this.clusterName = cluster.clusterName;
    if (plan.hosts?.discovery) this.discoveryNamespace = pulumi.output(plan.hosts.discovery.namespace);
    if (this.platform instanceof PaasPlatform) this.applicationName = this.platform.applicationName;
    if (this.sessions) this.sessionEndpoint = this.sessions.endpoint;
    if (this.logging) this.logDashboardsUrl = this.logging.dashboardsUrl;
    if (this.broker) this.topicArns = this.broker.topicArns;
    if (sagas.size > 0) this.sagaStateMachineArns = pulumi.output(Object.fromEntries([...sagas].map(([saga, o]) => [saga, o.stateMachineArn])));
    if (this.monitoring) this.alarmTopicArn = this.monitoring.alarmTopicArn;
    this.registerOutputs(this.outputs);
  }

  private kubernetesPlatform(name: string, plan: LandingZonePlan, placement: { vpcId: pulumi.Output<string>; privateSubnetIds: pulumi.Output<string[]> }): KubernetesPlatform {
    const workloads: AddOn = { name: "workloads", namespace: workloadNamespace(plan), helmReleases: [], manifests: namespaceManifests(plan), dependsOn: [] };
    const mesh = meshAddOn(plan);
    const secretsStore = secretsStoreAddOnOf(plan);
    // The namespace asks for sidecar injection, so it waits for the mesh's webhook.
    const addOns = [...(mesh ? [mesh, { ...workloads, dependsOn: [mesh.name] }] : [workloads]), ...(secretsStore ? [secretsStore] : [])];
    return new KubernetesPlatform(`${name}-platform`, kubernetesPlatformArgsFromPlan(plan, placement, addOns), { parent: this });
  }

  /** Stack outputs, by name; optional parts appear only when the plan has them. */
  get outputs(): Readonly<Record<string, pulumi.Output<unknown>>> {
    return {
      gatewayUrl: this.gatewayUrl,
      ...(this.clusterName ? { clusterName: this.clusterName } : {}),
      ...(this.discoveryNamespace ? { discoveryNamespace: this.discoveryNamespace } : {}),
      ...(this.applicationName ? { applicationName: this.applicationName } : {}),
      ...(this.sessionEndpoint ? { sessionEndpoint: this.sessionEndpoint } : {}),
      ...(this.logDashboardsUrl ? { logDashboardsUrl: this.logDashboardsUrl } : {}),
      ...(this.topicArns ? { topicArns: this.topicArns } : {}),
      ...(this.sagaStateMachineArns ? { sagaStateMachineArns: this.sagaStateMachineArns } : {}),
      ...(this.alarmTopicArn ? { alarmTopicArn: this.alarmTopicArn } : {}),
      ...(this.frontendsUrl ? { frontendsUrl: this.frontendsUrl } : {}),
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

  private githubOidcProviderArn?: pulumi.Output<string>;
  /**
   * With pipelines, a ServiceDelivery per service and BFF (its pipeline or GitHub roles, pushing to
   * the platform's registry), plus the connection and the GitHub OIDC provider (also the
   * micro-frontends' when they deploy from GitHub) they share when the spec names none.
   */
  private createDeliveries(name: string, plan: LandingZonePlan, cluster: KubernetesPlatform | undefined): Map<string, ServiceDelivery> {
    const parent = { parent: this };
    const delivery = plan.delivery;
    const retain = plan.protection.retain;
    let connectionArn: pulumi.Input<string> | undefined = delivery?.connectionArn;
    if (delivery?.provider === "native" && !connectionArn) {
      // Created PENDING: someone completes the handshake with the repository host once, in the console.
      connectionArn = new aws.codestarconnections.Connection(`${name}-connection`, { name: physicalName("connection", plan.name, plan.environment), providerType: "GitHub", tags: plan.tags }, parent).arn;
    }
    const oidc = githubOidcProvider(plan);
    if (oidc) {
      this.githubOidcProviderArn = oidc.existingArn
        ? pulumi.output(oidc.existingArn)
        : new aws.iam.OpenIdConnectProvider(`${name}-github-oidc`, { url: GITHUB_OIDC.url, clientIdLists: [GITHUB_OIDC.audience], tags: plan.tags }, parent).arn;
    }
    const deliveries = new Map<string, ServiceDelivery>();
    if (!delivery) return deliveries;
    for (const planned of delivery.services) {
      const fleet = planned.deploy.kind === "vm-rollout" ? planned.deploy.autoScalingGroup : undefined;
      const beanstalk = planned.deploy.kind === "app-platform-release" ? planned.deploy.beanstalk : undefined;
      if (!fleet && !beanstalk && (planned.deploy.kind !== "kubernetes-rollout" || !cluster)) {
        throw new Error(`LandingZone: deploying to "${planned.deploy.kind}" (tier ${plan.tier}) is not built by the Pulumi engine yet. Fix: set tier: caas, iaas or paas, or pipelines.perService: false`);
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
            deploy: fleet
              ? { autoScalingGroupName: fleet }
              : beanstalk
                ? // PaasService builds the environment's first bundle from the same plan.
                  { applicationName: beanstalk.application, environmentName: beanstalk.environment, bundle: plannedBeanstalkBundle(plan, serviceNamed(plan, planned.service)!) }
                : {
                  clusterName: cluster!.clusterName,
                  namespace: planned.deploy.namespace,
                  deployment: planned.deploy.deployment,
                  container: planned.deploy.container,
                  kubernetesGroup: planned.deploy.kubernetesGroup,
                  vpcId: this.network.vpcId,
                  subnetIds: this.network.privateSubnetIds,
                  clusterSecurityGroupId: cluster!.workloadSecurityGroupId,
                  rbac: { provider: cluster!.provider, manifests: deployerRbac(plan, planned), dependsOn: [...cluster!.ready] },
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

/** Pods and VMs sit behind the gateway's target groups; Beanstalk environments bring their own, with their path rules. */
function gatewayTargets(plan: LandingZonePlan): ApiGatewayArgs["targets"] {
  // Beanstalk instances serve on port 80, whatever the service's own port behind it.
  if (plan.tier === "paas") return { kind: "beanstalk", instancePort: BEANSTALK_INSTANCE_PORT };
  return { kind: "target-group", targetType: plan.tier === "iaas" ? "instance" : "ip" };
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

/** The HTTP API's own host name, the CDN's origin for the shell BFF's routes. */
function apiDomain(parent: pulumi.Resource, apiId: pulumi.Output<string>): pulumi.Output<string> {
  const region = aws.getRegionOutput({}, { parent }).region;
  const dnsSuffix = aws.getPartitionOutput({}, { parent }).dnsSuffix;
  return pulumi.interpolate`${apiId}.execute-api.${region}.${dnsSuffix}`;
}
