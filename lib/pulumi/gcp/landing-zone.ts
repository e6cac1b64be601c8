import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { gatewayAuthPolicies, type JwtIssuer } from "../../kubernetes/gateway-auth.js";
import { externalEdgeProxyIssuer } from "../../plan/edge-proxy.js";
import type { EndpointsIssuer } from "../../plan/endpoints-proxy.js";
import { labelsFor } from "../../kubernetes/labels.js";
import { meshAddOn } from "../../kubernetes/mesh.js";
import { namespaceManifests, workloadNamespace } from "../../kubernetes/namespace.js";
import { defaultExporter, tracingAddOn } from "../../kubernetes/tracing.js";
import { CLOUD_TRACE_ROLE } from "../../plan/tracing.js";
import { usesCentralCollector } from "../../plan/trace-collector.js";
import type { AddOn } from "../../kubernetes/types.js";
import { cloudBuildNames, INSTANCE_GROUP_ROLLER_PERMISSIONS, instanceGroupRollerRoleId, workerPoolName } from "../../plan/cloud-build.js";
import { repositoryFullName, type ServiceDeliveryPlan } from "../../plan/delivery.js";
import { GKE_DEPLOYER_PERMISSIONS, planGcpGithubDelivery } from "../../plan/gcp-github-delivery.js";
import { gcpImage, gcpLabels, gcpServiceAccountId } from "../../plan/gcp.js";
import { planLandingZone } from "../../plan/planner.js";
import type { LandingZonePlan } from "../../plan/types.js";
import type { LandingZoneInput } from "../../spec/schema.js";
import type { LandingZoneSpec } from "../../spec/types.js";
import { applyManifests, type HelmValues } from "../kubernetes/add-on.js";
import { LogPipeline } from "../kubernetes/log-pipeline.js";
import { ApiGateway, type GatewayBackend } from "./api-gateway.js";
import { AppEngineApplication } from "./app-engine-application.js";
import { AppEngineService } from "./app-engine-service.js";
import { BuildWorkerPool } from "./build-worker-pool.js";
import { ContainerRegistry } from "./container-registry.js";
import { InstanceGroupService, type InstanceGroupServiceArgs } from "./instance-group-service.js";
import { KubernetesPlatform, kubernetesPlatformArgsFromPlan } from "./kubernetes-platform.js";
import { LogCluster } from "./log-cluster.js";
import { EventStore } from "./event-store.js";
import { FirestoreStore } from "./firestore-store.js";
import { FrontendHosting } from "./frontend-hosting.js";
import { GitHubFederation } from "./github-federation.js";
import { GitHubServiceDelivery, type GitHubServiceDeliveryArgs } from "./github-service-delivery.js";
import { MessageBroker, PUBSUB_TOPICS_ENV } from "./message-broker.js";
import { Monitoring } from "./monitoring.js";
import { Network, networkArgsFromPlan } from "./network.js";
import { projectOf } from "./project.js";
import { sagaAttachment, SagaOrchestrator } from "./saga-orchestrator.js";
import { ServiceDatabase } from "./service-database.js";
import type { ServiceAttachment } from "./service-identity.js";
import { ServiceDelivery, type ServiceDeliveryArgs } from "./service-delivery.js";
import { ServiceRegistry } from "./service-registry.js";
import { ServiceWorkload, WORKLOAD_IDENTITY_ANNOTATION, type BrokerLink } from "./service-workload.js";
import { SessionStore } from "./session-store.js";
import { TraceCollector } from "./trace-collector.js";
import { IDENTITY_PLATFORM_JWKS_URI, identityPlatformIssuer, UserDirectory } from "./user-directory.js";
import { WorkloadIdentity } from "./workload-identity.js";
import { fitGcpAutonames } from "./fit-autonames.js";

/** Arguments of {@link LandingZone}. */
export interface LandingZoneArgs {
  /** The landing-zone spec (`cloud: gcp`), as written or normalized. */
  readonly spec: LandingZoneInput | LandingZoneSpec;
  /**
   * Host names of the gateway's managed certificate; point their DNS at the `gatewayAddress` output.
   * @default - `<gateway address>.nip.io`
   */
  readonly domains?: readonly string[];
  /**
   * Values of the services' declared secrets, by service then key (e.g. from `pulumi config set --secret`).
   * @default - every secret generated
   */
  readonly secretValues?: Readonly<Record<string, Readonly<Record<string, pulumi.Input<string>>>>>;
  /**
   * PaaS: the project's existing App Engine application (a project has at most one), by its default hostname.
   * @default - the application is created in the plan's region
   */
  readonly existingAppEngine?: { readonly defaultHostname: string };
}

/** Environment variable with the Firestore database of a CQRS read model. */
export const READ_MODEL_ENV = "READ_MODEL_DATABASE";

/** The component a service becomes in each service model. */
export type ServiceComponent = ServiceWorkload | InstanceGroupService | AppEngineService;

/**
 * A whole GCP landing zone from a spec, planned for the Pulumi engine: Network, then per service
 * model the compute (CaaS: KubernetesPlatform on private GKE with Istio, the trace collector and a
 * ServiceWorkload per service and BFF; IaaS: an InstanceGroupService per service, behind an Envoy edge
 * proxy running the gateway's JWT or auth-service check when `gateway.auth` asks for one; PaaS: the
 * AppEngineApplication and an AppEngineService per service), ContainerRegistry, ServiceRegistry
 * (VMs and App Engine), SessionStore on Memorystore, MessageBroker on Pub/Sub, the ELK LogPipeline
 * with its Redis buffer on GKE (on VMs a LogCluster of its own, Filebeat beside each service), UserDirectory on Identity Platform, the ApiGateway (HTTPS load
 * balancer with Cloud Armor) routing to every exposed service, Monitoring, and with frontends FrontendHosting
 * (buckets behind Cloud CDN, the shell BFF's routes to the gateway's backend service; with a repository owner, GitHubFederation
 * so each app's workflow deploys it without a key), per service a Cloud Build ServiceDelivery, or with
 * `pipelines.provider: github-actions` on GKE, VMs or App Engine a GitHubServiceDelivery (publish and deploy accounts behind the same
 * GitHubFederation), all children of this component.
 *
 * Cost: the GKE cluster fee, Cloud NAT, Memorystore, the load balancer and Cloud Armor bill hourly or monthly even when idle.
 *
 * @example
 * const zone = new LandingZone("shop", { spec: loadSpecFile("landing-zone.yaml"), domains: ["shop.example.com"] });
 * export const gatewayUrl = zone.gatewayUrl;
 */
export class LandingZone extends pulumi.ComponentResource {
  readonly plan: LandingZonePlan;
  readonly network: Network;
  readonly registry: ContainerRegistry;
  readonly platform?: KubernetesPlatform;
  readonly serviceRegistry?: ServiceRegistry;
  readonly sessions?: SessionStore;
  readonly broker?: MessageBroker;
  readonly logging?: LogPipeline;
  /** VMs and App Engine: the private GKE cluster running the log pipeline and its buffer. */
  readonly logCluster?: LogCluster;
  /** App Engine with tracing: the central OpenTelemetry collector on the logging cluster, exporting to Cloud Trace. */
  readonly traceCollector?: TraceCollector;
  /** The Identity Platform directory issuing the tokens the gateway checks; absent when the spec names its own `auth.issuer`. */
  readonly users?: UserDirectory;
  readonly gateway: ApiGateway;
  readonly monitoring?: Monitoring;
  /** The micro-frontends' buckets and CDN, when the plan has `frontends`. */
  readonly frontends?: FrontendHosting;
  /** GitHub Actions' keyless sign-in (one pool for services and frontends), when GitHub workflows deploy the services or the frontends. */
  readonly github?: GitHubFederation;
  /** One orchestrator per orchestrated saga, in spec order. */
  readonly sagas: readonly SagaOrchestrator[];
  /** Service name → the database it owns. */
  readonly databases: ReadonlyMap<string, ServiceDatabase>;
  /** Service or BFF name → its component (GKE workload, instance group or App Engine service, by tier). */
  readonly services: ReadonlyMap<string, ServiceComponent>;
  /** Service or BFF name → its Cloud Build trigger and account, with `pipelines.perService` (native): it rolls the GKE Deployment, replaces the managed instance group's VMs or deploys the App Engine service, by tier. */
  readonly deliveries: ReadonlyMap<string, ServiceDelivery>;
  /** Service or BFF name → its GitHub Actions publish and deploy accounts, with `pipelines.provider: github-actions` (GKE). */
  readonly githubDeliveries: ReadonlyMap<string, GitHubServiceDelivery>;
  /** The private pool every build runs in, when the cluster's endpoint is private. */
  readonly buildPool?: BuildWorkerPool;

  readonly gatewayUrl: pulumi.Output<string>;
  readonly gatewayAddress: pulumi.Output<string>;
  readonly clusterName?: pulumi.Output<string>;
  readonly sessionEndpoint?: pulumi.Output<string>;
  readonly kibanaService?: pulumi.Output<string>;
  readonly topicNames?: pulumi.Output<Record<string, string>>;
  readonly alertTopic?: pulumi.Output<string>;
  readonly serviceDomain?: pulumi.Output<string>;
  /** The micro-frontends' CDN (https). */
  readonly frontendsUrl?: pulumi.Output<string>;
  /** The GitHub OIDC provider's full name: each app repository's `GCP_WORKLOAD_IDENTITY_PROVIDER` variable. */
  readonly githubWorkloadIdentityProvider?: pulumi.Output<string>;

  constructor(name: string, args: LandingZoneArgs, opts?: pulumi.ComponentResourceOptions) {
    // Planning throws a PlanError naming every unsupported capability before anything is registered.
    const plan = planLandingZone(args.spec, { engine: "pulumi" });
    if (plan.cloud !== "gcp") throw new Error(`LandingZone args.spec.cloud: "${plan.cloud}" is not gcp. Fix: set cloud: gcp, or use the ${plan.cloud} LandingZone`);
    checkSecretValues(plan, args.secretValues);
    checkAccountIds(plan);
    const meshChecked = plan.decisions.find((d) => (d.capability === "tokens" || d.capability === "authService") && plan.tier === "caas" && !plan.mesh);
    if (meshChecked) throw new Error(`LandingZone gateway.auth: on GKE the ${meshChecked.capability === "tokens" ? "JWT" : "auth service"} checks run in the Istio mesh, but mesh.kind is none. Fix: set mesh.kind: istio, or gateway.auth: none`);
    const silent = plan.services.find((service) => service.eventStore && service.publishes.length === 0);
    if (silent) throw new Error(`LandingZone services[${silent.name}].eventSourced: its store forwards the events it publishes, but publishes is empty. Fix: declare the events in services[${silent.name}].publishes`);
    // Long zone and service names stay deployable: children whose autonames would pass GCP's limits get fitted names.
    super("msa:gcp:LandingZone", name, {}, { ...opts, transformations: [...(opts?.transformations ?? []), fitGcpAutonames] });
    this.plan = plan;
    const parent = { parent: this };
    const retain = plan.protection.retain;
    const labels = gcpLabels(plan.tags);
    const prefix = `${plan.name}-${plan.environment}`;
    const asked = new Set(plan.decisions.map((d) => d.capability));

    this.network = new Network(`${name}-network`, networkArgsFromPlan(plan), parent);
    const network = this.network;
    const platform = plan.tier === "caas" ? createPlatform(name, plan, network, this) : undefined;
    if (platform) this.platform = platform;
    this.registry = new ContainerRegistry(
      `${name}-registry`,
      { region: plan.region, repositories: plan.services.map((s) => s.repository), readers: platform ? [platform.nodeServiceAccountMember] : [], retain, labels },
      parent,
    );
    // GKE services find each other through cluster DNS; VMs and App Engine through Service Directory.
    if (asked.has("discovery") && plan.tier !== "caas") {
      this.serviceRegistry = new ServiceRegistry(`${name}-discovery`, { region: plan.region, namespace: prefix, network: { id: network.networkId, name: network.networkName }, labels }, parent);
    }

    if (plan.sessions) {
      this.sessions = new SessionStore(
        `${name}-sessions`,
        {
          sessions: plan.sessions,
          region: plan.region,
          zones: plan.network.availabilityZones,
          networkId: network.networkId,
          ...(network.privateServiceRangeName ? { reservedIpRange: network.privateServiceRangeName } : {}),
          secretPrefix: prefix,
          retain,
          labels,
        },
        { parent: this, dependsOn: [...network.privateServiceAccess] },
      );
    }
    if (plan.broker) this.broker = new MessageBroker(`${name}-broker`, { broker: plan.broker, namePrefix: prefix, retain, labels }, parent);
    if (plan.logging && platform) {
      // The same ELK add-on as on any cluster, applied through the GKE provider.
      this.logging = new LogPipeline(`${name}-logging`, { plan, provider: platform.provider }, { parent: this, dependsOn: [...platform.ready] });
    } else if (plan.logging) {
      const placement = { networkId: network.networkId, subnetworkId: network.subnetworkId, secondaryRanges: { pods: network.podsRangeName, services: network.servicesRangeName }, controlPlaneCidr: network.layout.controlPlane };
      // As for the services' cluster: with a private endpoint, deployments run from inside the subnet.
      const authorizedNetworks = plan.logging.cluster?.privateEndpoint ? [network.layout.subnet] : [];
      // VMs ship into the buffer; App Engine's entries come through a Cloud Logging export.
      const shippers = plan.tier === "iaas" ? { hostsCidr: network.layout.subnet } : { appEngineLogs: true };
      this.logCluster = new LogCluster(`${name}-logging`, { plan, placement: { ...placement, authorizedNetworks }, ...shippers }, parent);
      this.logging = this.logCluster.pipeline;
      // App Engine runs no collector beside a service: one central collector on the logging cluster takes every service's OTLP.
      if (plan.tracing && usesCentralCollector(plan)) {
        this.traceCollector = new TraceCollector(
          `${name}-traces`,
          { plan, provider: this.logCluster.platform.provider, subnetworkId: network.subnetworkId, sourceRanges: [network.layout.subnet], dependsOn: this.logCluster.platform.ready },
          parent,
        );
      }
    }
    const project = projectOf(this);
    // Identity Platform's issuer is fixed by the project, so the services' policies need not wait for the directory.
    // With auth.issuer the zone trusts that issuer instead, on GKE as on VMs, and creates no directory.
    const tokens = asked.has("tokens") && plan.auth?.tokens?.provider !== "external" ? identityPlatformIssuer(project.id) : undefined;

    // VMs have no mesh: an edge proxy in front of each exposed service runs the same check (planned in lib/plan/edge-proxy.ts).
    const edgeProxy = plan.edgeProxy ? edgeProxyArgs(plan, tokens, this.serviceRegistry?.link.domain) : undefined;
    // App Engine has no mesh and no proxy of ours in the path: ESP beside each exposed service checks the tokens (lib/plan/endpoints-proxy.ts).
    const endpointsIssuer = plan.endpointsProxy ? endpointsProxyIssuer(plan, tokens) : undefined;
    const services = new Map<string, ServiceComponent>();
    const backends: Record<string, GatewayBackend> = {};
    const appEngine =
      plan.tier === "paas" ? new AppEngineApplication(`${name}-app-engine`, { region: plan.region, ...(args.existingAppEngine ? { existing: args.existingAppEngine } : {}) }, parent) : undefined;
    const databases = new Map<string, ServiceDatabase>();
    const deliveries = new Map<string, ServiceDelivery>();
    const githubDeliveries = new Map<string, GitHubServiceDelivery>();
    const cloudBuild = plan.delivery?.provider === "native";
    const githubPlan = planGcpGithubDelivery(plan);
    // One pool for services and frontends: the GitHub provider admits only the owner's repositories.
    const githubOwner = githubPlan ? plan.delivery!.owner : plan.frontends?.shell.source.owner;
    if (githubOwner) this.github = new GitHubFederation(`${name}-github`, { owner: githubOwner, poolId: githubPlan?.poolId ?? plan.frontends!.gcp.githubPoolId, providerId: githubPlan?.providerId ?? plan.frontends!.gcp.githubProviderId }, parent);
    const deployerRole =
      githubPlan?.deployerRoleId && platform
        ? new gcp.projects.IAMCustomRole(
            `${name}-gke-deployer`,
            {
              roleId: githubPlan.deployerRoleId,
              title: `Connect to the GKE cluster from GitHub (${prefix})`,
              description: "Held by each service's GitHub deploy account; its Kubernetes Role names one Deployment",
              permissions: [...GKE_DEPLOYER_PERMISSIONS],
              stage: "GA",
            },
            parent,
          )
        : undefined;
    // One pool for every service: its workers sit in the subnet the private endpoint authorizes.
    const pool = platform && cloudBuild && plan.cluster!.privateEndpoint ? new BuildWorkerPool(`${name}-builds`, { name: workerPoolName(plan.name, plan.environment), region: plan.region, subnetworkId: network.subnetworkId }, parent) : undefined;
    if (pool) this.buildPool = pool;
    // One role for every VM pipeline; each account holds it only on its own group (a condition on the group's name).
    const rollerRole =
      (cloudBuild || githubPlan) && plan.tier === "iaas"
        ? new gcp.projects.IAMCustomRole(
            `${name}-mig-roller`,
            {
              roleId: instanceGroupRollerRoleId(plan.name, plan.environment),
              title: `Replace the VMs of one managed instance group (${prefix})`,
              description: `Held by each VM service's ${cloudBuild ? "Cloud Build" : "GitHub deploy"} account, conditioned on its own group`,
              permissions: [...INSTANCE_GROUP_ROLLER_PERMISSIONS],
              stage: "GA",
            },
            parent,
          )
        : undefined;
    for (const service of plan.services) {
      const attachments: ServiceAttachment[] = [];
      if (service.database) {
        const database = new ServiceDatabase(
          `${name}-${service.name}-database`,
          {
            database: service.database,
            service: service.name,
            serviceAccountId: gcpServiceAccountId(plan.name, service.name),
            region: plan.region,
            namePrefix: prefix,
            network: { id: network.networkId, ...(network.privateServiceRangeName ? { privateServiceRange: network.privateServiceRangeName } : {}), privateServiceAccess: network.privateServiceAccess },
            retain,
            labels,
          },
          parent,
        );
        databases.set(service.name, database);
        attachments.push(database.attachment);
      }
      if (service.readModel) {
        const readModel = new FirestoreStore(
          `${name}-${service.name}-read-model`,
          { service: service.name, purpose: "read", region: plan.region, namePrefix: prefix, envVar: READ_MODEL_ENV, pointInTimeRecovery: retain, backupRetentionDays: plan.protection.backupRetentionDays, retain },
          parent,
        );
        attachments.push(readModel.attachment);
      }
      if (service.eventStore && this.broker) {
        const broker = this.broker;
        const { aggregateKey, sequenceKey, eventTypeAttribute, payloadAttribute } = service.eventStore;
        const eventStore = new EventStore(
          `${name}-${service.name}-event-store`,
          {
            service: service.name,
            region: plan.region,
            namePrefix: prefix,
            accountIds: { forwarder: gcpServiceAccountId(plan.name, `${service.name}-fwd`), trigger: gcpServiceAccountId(plan.name, `${service.name}-trg`) },
            topics: Object.fromEntries(service.publishes.map((event) => [event, broker.topicIds[event]!])),
            layout: { aggregateKey, sequenceKey, eventTypeAttribute, payloadAttribute },
            retain,
            backupRetentionDays: plan.protection.backupRetentionDays,
          },
          parent,
        );
        attachments.push(eventStore.attachment);
      }
      for (const saga of plan.spec.sagas.filter((g) => g.steps.some((step) => step.service === service.name))) {
        attachments.push(sagaAttachment(prefix, plan.region, project.id, saga.name, service.name));
      }
      const common = {
        plan,
        service: service.name,
        attachments,
        ...(this.sessions ? { sessions: this.sessions } : {}),
        ...(this.broker ? { broker: service.eventStore ? publishedByStore(this.broker) : this.broker } : {}),
        ...(args.secretValues?.[service.name] ? { secretValues: args.secretValues[service.name] } : {}),
        labels,
      };
      const repository = { url: this.registry.repositoryUrls[service.repository]!, name: this.registry.repositoryNames[service.repository]! };
      const registry = this.serviceRegistry?.link;
      const planned = cloudBuild ? plan.delivery?.services.find((s) => s.service === service.name) : undefined;
      const githubPlanned = githubPlan?.services.find((s) => s.service === service.name);
      const names = planned ? cloudBuildNames(plan.name, plan.environment, planned) : undefined;
      // VMs and App Engine read their release secret themselves, so it is created with them and their pipeline comes after.
      const releaseSecretId = names?.releaseSecret ?? githubPlanned?.releaseSecret;
      const release = releaseSecretId ? { release: { secretId: releaseSecretId, retain } } : {};
      const deliver = (deploy: ServiceDeliveryArgs["deploy"], secret?: pulumi.Output<string>) =>
        createDelivery(name, plan, planned!, deploy, repository, secret ? { secret } : { secretId: names!.releaseSecret, initialImage: repository.url.apply((url) => gcpImage(service, url)), retain }, pool, this);
      // The GitHub deploy path of this service (accounts, impersonation, repository writer), given what its tier deploys.
      const deliverFromGithub = (args: Pick<GitHubServiceDeliveryArgs, "deployerRole" | "release" | "target">) => {
        const fromGithub = new GitHubServiceDelivery(
          `${name}-${service.name}-github`,
          {
            serviceName: service.name,
            workloadIdentityPoolName: this.github!.poolName,
            publish: { accountId: githubPlanned!.publishAccountId, subject: githubPlanned!.publishSubject },
            deploy: { accountId: githubPlanned!.deployAccountId, subject: githubPlanned!.deploySubject },
            repository: { name: repository.name, location: plan.region },
            ...args,
          },
          parent,
        );
        githubDeliveries.set(service.name, fromGithub);
        return fromGithub;
      };
      let delivery: ServiceDelivery | undefined;
      let component: ServiceComponent;
      if (platform) {
        const fromGithub =
          githubPlanned && deployerRole && this.github
            ? deliverFromGithub({
                deployerRole: deployerRole.name,
                release: { secretId: githubPlanned.releaseSecret, initialImage: repository.url.apply((url) => gcpImage(service, url)), retain },
                target: { namespace: githubPlanned.namespace, deployment: githubPlanned.deployment, rbac: { provider: platform.provider, labels: labelsFor(plan, service.name), dependsOn: [...platform.ready] } },
              })
            : undefined;
        delivery = planned
          ? deliver({
              clusterName: platform.clusterName,
              location: plan.region,
              privateEndpoint: plan.cluster!.privateEndpoint,
              namespace: planned.deploy.namespace,
              deployment: planned.deploy.deployment,
              container: planned.deploy.container,
              // The namespace comes with the platform's add-ons; the Role may exist before its Deployment.
              rbac: { provider: platform.provider, labels: labelsFor(plan, planned.service), dependsOn: [...platform.ready] },
            })
          : undefined;
        component = new ServiceWorkload(
          `${name}-${service.name}`,
          {
            ...common,
            provider: platform.provider,
            workloadPool: platform.workloadPool,
            repositoryUrl: repository.url,
            // The pipeline records each release, so `pulumi up` keeps the released image.
            ...(delivery ? { image: delivery.releasedImage } : fromGithub ? { image: fromGithub.releasedImage } : {}),
            dependsOn: [...platform.ready],
          },
          parent,
        );
      } else if (appEngine) {
        // App Engine takes other services only once its default service exists.
        const defaultService = services.get(plan.services[0]!.name);
        const appService = new AppEngineService(
          `${name}-${service.name}`,
          {
            ...common,
            ...release,
            network: { name: network.networkName, subnetwork: network.subnetworkName },
            repository,
            ...(registry ? { discovery: { registry, defaultHostname: appEngine.defaultHostname } } : {}),
            ...(endpointsIssuer && plan.endpointsProxy!.services.includes(service.name) ? { endpoints: { issuer: endpointsIssuer } } : {}),
          },
          { parent: this, dependsOn: [...appEngine.ready, ...network.privateServiceAccess, ...(defaultService ? [defaultService] : [])] },
        );
        if (githubPlanned?.appYamlSecret && this.github) {
          deliverFromGithub({
            release: { secret: appService.release!.secret },
            target: { kind: "app-engine", settings: appService.versionSettings, runtimeAccount: appService.identity.nodes.account.name, appYamlSecretId: githubPlanned.appYamlSecret },
          });
        }
        delivery = planned ? deliver({ kind: "app-engine", settings: appService.versionSettings, runtimeAccount: appService.identity.nodes.account.name }, appService.release!.secret) : undefined;
        component = appService;
      } else {
        const groupService = new InstanceGroupService(
          `${name}-${service.name}`,
          {
            ...common,
            ...release,
            networkId: network.networkId,
            subnetworkId: network.subnetworkId,
            repository,
            ...(registry ? { discovery: registry } : {}),
            ...(edgeProxy ? { edgeProxy } : {}),
            ...(this.logCluster?.buffer ? { logBuffer: this.logCluster.buffer } : {}),
            // The GitHub workflow names the group; Cloud Build keeps the generated name it reads from the group.
            ...(githubPlanned?.instanceGroup ? { instanceGroupManagerName: githubPlanned.instanceGroup } : {}),
          },
          parent,
        );
        if (githubPlanned && this.github && rollerRole) {
          deliverFromGithub({
            deployerRole: rollerRole.name,
            release: { secret: groupService.release!.secret },
            target: { kind: "instance-group", instanceGroupManager: groupService.instanceGroupManagerName, region: plan.region },
          });
        }
        delivery = planned
          ? deliver(
              { kind: "instance-group", instanceGroupManager: groupService.instanceGroupManagerName, region: plan.region, zoneCount: plan.network.availabilityZones.length, rollerRole: rollerRole!.name },
              groupService.release!.secret,
            )
          : undefined;
        component = groupService;
      }
      if (delivery) deliveries.set(service.name, delivery);
      services.set(service.name, component);
      if (component.backend) backends[service.name] = component.backend;
    }
    this.services = services;
    this.databases = databases;
    this.deliveries = deliveries;
    this.githubDeliveries = githubDeliveries;

    // A choreographed saga is its events alone: the planner adds them to the participants' topics and subscriptions.
    this.sagas = plan.spec.sagas.filter((saga) => saga.mode === "orchestration").map(
      (saga) =>
        new SagaOrchestrator(
          `${name}-saga-${saga.name}`,
          {
            saga,
            region: plan.region,
            namePrefix: prefix,
            accountId: gcpServiceAccountId(plan.name, `saga-${saga.name}`),
            participants: Object.fromEntries(saga.steps.map((step) => [step.service, services.get(step.service)!.identity.member])),
            retain,
            labels,
          },
          parent,
        ),
    );

    this.gateway = new ApiGateway(`${name}-gateway`, { gateway: plan.gateway, backends, ...(args.domains ? { domains: args.domains } : {}) }, parent);
    if (tokens) this.users = new UserDirectory(`${name}-users`, { authorizedDomains: [this.gateway.domains.apply((d) => d[0]!)], retain }, parent);
    if (platform && plan.auth) {
      // The load balancer reaches the pods through NEGs, outside the mesh: the gateway's checks run there as Istio policies.
      const policies = pulumi.output(tokens ?? undefined).apply((issuer) => gatewayAuthPolicies(plan, { kind: "load-balancer" }, issuer ? { issuer } : {}));
      applyManifests(`${name}-gateway-auth`, policies, { provider: platform.provider, parent: this, dependsOn: [...platform.ready] });
    }
    if (plan.frontends) {
      const bff = plan.frontends.shellBff;
      this.frontends = new FrontendHosting(
        `${name}-frontends`,
        {
          frontends: plan.frontends,
          location: plan.region,
          ...(bff && plan.frontends.apiRoutes.length > 0 ? { apiBackendServiceId: this.gateway.backendServiceIds[bff]! } : {}),
          deployAccountId: (app) => gcpServiceAccountId(plan.name, `ui-${app}`),
          ...(this.github ? { github: { workloadIdentityPoolName: this.github.poolName } } : {}),
          retain,
          labels,
        },
        parent,
      );
      this.frontendsUrl = this.frontends.url;
    }
    if (this.github) this.githubWorkloadIdentityProvider = this.github.providerName;
    if (asked.has("monitoring")) {
      this.monitoring = new Monitoring(`${name}-monitoring`, { plan, backendServiceNames: this.gateway.backendServiceNames, namePrefix: prefix, labels }, parent);
    }

    this.gatewayUrl = this.gateway.url;
    this.gatewayAddress = this.gateway.address;
    if (platform) this.clusterName = platform.clusterName;
    if (this.sessions) this.sessionEndpoint = this.sessions.endpoint;
    if (this.logging) this.kibanaService = this.logging.kibanaService;
    if (this.broker) this.topicNames = pulumi.output(this.broker.topicNames);
    if (this.monitoring?.alertTopicId) this.alertTopic = this.monitoring.alertTopicId;
    if (this.serviceRegistry) this.serviceDomain = pulumi.output(this.serviceRegistry.link.domain);
    this.registerOutputs(this.outputs);
  }

  /** Stack outputs, by name; optional parts appear only when the plan has them. */
  get outputs(): Readonly<Record<string, pulumi.Output<unknown>>> {
    return {
      gatewayUrl: this.gatewayUrl,
      gatewayAddress: this.gatewayAddress,
      ...(this.clusterName ? { clusterName: this.clusterName } : {}),
      ...(this.sessionEndpoint ? { sessionEndpoint: this.sessionEndpoint } : {}),
      ...(this.kibanaService ? { kibanaService: this.kibanaService } : {}),
      ...(this.topicNames ? { topicNames: this.topicNames } : {}),
      ...(this.alertTopic ? { alertTopic: this.alertTopic } : {}),
      ...(this.serviceDomain ? { serviceDomain: this.serviceDomain } : {}),
      ...(this.frontendsUrl ? { frontendsUrl: this.frontendsUrl } : {}),
      // The repository variables of each app's workflow: GCP_DEPLOY_SERVICE_ACCOUNT and GCP_FRONTEND_BUCKET by app.
      ...(this.frontends ? { frontendDeployAccounts: this.frontends.deployAccountEmails, frontendBuckets: this.frontends.bucketNames } : {}),
      ...(this.githubWorkloadIdentityProvider ? { githubWorkloadIdentityProvider: this.githubWorkloadIdentityProvider } : {}),
      // The repository variables of each service's workflow (GCP_SERVICE_VARIABLES), by service.
      ...(this.githubDeliveries.size > 0
        ? {
            publishServiceAccounts: pulumi.output(Object.fromEntries([...this.githubDeliveries].map(([service, d]) => [service, d.publishEmail]))),
            deployServiceAccounts: pulumi.output(Object.fromEntries([...this.githubDeliveries].map(([service, d]) => [service, d.deployEmail]))),
            artifactRegistries: pulumi.output(Object.fromEntries([...this.githubDeliveries.keys()].map((service) => [service, this.registry.repositoryUrls[this.plan.services.find((s) => s.name === service)!.repository]!]))),
          }
        : {}),
    };
  }
}

/**
 * CaaS: private GKE with the workloads namespace, the mesh first when the plan has one, and the
 * trace collector (exporting to Cloud Trace as its own account through Workload Identity when the
 * backend is the cloud's).
 */
function createPlatform(name: string, plan: LandingZonePlan, network: Network, parent: pulumi.Resource): KubernetesPlatform {
  const workloads: AddOn = { name: "workloads", namespace: workloadNamespace(plan), helmReleases: [], manifests: namespaceManifests(plan), dependsOn: [] };
  const mesh = meshAddOn(plan);
  const tracing = tracingAddOn(plan);
  // The namespace asks for sidecar injection, so it waits for the mesh's webhook.
  const addOns = [...(mesh ? [mesh, { ...workloads, dependsOn: [mesh.name] }] : [workloads]), ...(tracing ? [tracing] : [])];
  const addOnValues: Record<string, HelmValues> = {};
  if (tracing && defaultExporter(plan) === "googlecloud") {
    const release = tracing.helmReleases[0]!;
    const collector = new WorkloadIdentity(
      `${name}-trace-collector`,
      { accountId: gcpServiceAccountId(plan.name, "otel"), kubernetesServiceAccount: { namespace: release.namespace, name: release.name }, roles: [CLOUD_TRACE_ROLE], description: "OpenTelemetry collector writing to Cloud Trace" },
      { parent },
    );
    addOnValues[release.name] = { serviceAccount: { annotations: { [WORKLOAD_IDENTITY_ANNOTATION]: collector.email } } };
  }
  const placement = {
    networkId: network.networkId,
    subnetworkId: network.subnetworkId,
    secondaryRanges: { pods: network.podsRangeName, services: network.servicesRangeName },
    controlPlaneCidr: network.layout.controlPlane,
    // With a private endpoint, deployments run from inside the subnet (a runner VM or a Cloud Build private pool).
    authorizedNetworks: plan.cluster!.privateEndpoint ? [network.layout.subnet] : [],
  };
  return new KubernetesPlatform(
    `${name}-platform`,
    { ...kubernetesPlatformArgsFromPlan(plan, placement, addOns), addOnValues, labels: gcpLabels(plan.tags) },
    { parent },
  );
}

/**
 * A service's Cloud Build trigger and account: it pushes to the service's own repository and releases
 * only its Deployment, managed instance group or App Engine service, through the shared private pool when there is one.
 */
function createDelivery(
  name: string,
  plan: LandingZonePlan,
  planned: ServiceDeliveryPlan,
  deploy: ServiceDeliveryArgs["deploy"],
  repository: { readonly url: pulumi.Output<string>; readonly name: pulumi.Output<string> },
  release: ServiceDeliveryArgs["release"],
  pool: BuildWorkerPool | undefined,
  parent: pulumi.Resource,
): ServiceDelivery {
  const service = plan.services.find((s) => s.name === planned.service)!;
  const names = cloudBuildNames(plan.name, plan.environment, planned);
  // repositoryFullName throws, naming the fix, when pipelines.repositoryOwner is missing.
  const owner = planned.source.owner ?? repositoryFullName(planned.source);
  return new ServiceDelivery(
    `${name}-${planned.service}-delivery`,
    {
      serviceName: planned.service,
      accountId: names.accountId,
      triggerName: names.trigger,
      region: plan.region,
      source: { owner, repository: planned.source.name, branch: planned.source.branch },
      repository: { name: repository.name, location: plan.region },
      image: pulumi.interpolate`${repository.url}/${service.repository}`,
      release,
      deploy,
      approval: planned.approval,
      testCommand: plan.delivery!.testCommand,
      ...(pool ? { workerPool: pool.id } : {}),
    },
    { parent },
  );
}

/** What the edge proxies check: the zone's token issuer (`auth.issuer`, else Identity Platform's), or the auth service by its registered name. */
function edgeProxyArgs(plan: LandingZonePlan, identityPlatform: pulumi.Output<JwtIssuer> | undefined, domain: string | undefined): InstanceGroupServiceArgs["edgeProxy"] {
  const authorizer = plan.auth?.authorizer;
  if (authorizer) {
    // The planner refuses gateway.auth: authorizer on VMs without discovery.
    if (!domain) throw new Error(`LandingZone discovery.enabled: the edge proxies reach the auth service by its registered name. Fix: set discovery.enabled: true`);
    return { authService: { host: `${authorizer.service}.${domain}`, port: plan.services.find((s) => s.name === authorizer.service)!.port } };
  }
  const external = externalEdgeProxyIssuer(plan);
  if (external) return { issuer: external };
  return identityPlatform ? { issuer: identityPlatform.apply((i) => ({ issuer: i.issuer, jwksUri: i.jwksUri ?? IDENTITY_PLATFORM_JWKS_URI, audiences: [...i.audiences] })) } : undefined;
}

/** The issuer ESP validates on App Engine: `auth.issuer` with its audiences (ESP reads its discovery document without `auth.jwksUri`), else Identity Platform's. */
function endpointsProxyIssuer(plan: LandingZonePlan, identityPlatform: pulumi.Output<JwtIssuer> | undefined): pulumi.Output<EndpointsIssuer> {
  const tokens = plan.auth?.tokens;
  if (tokens?.issuer) return pulumi.output({ issuer: tokens.issuer, ...(tokens.jwksUri ? { jwksUri: tokens.jwksUri } : {}), audiences: tokens.audiences });
  if (!identityPlatform) throw new Error(`LandingZone gateway.auth: jwt on App Engine needs an issuer. Fix: set auth.issuer, or leave it unset for Identity Platform`);
  return identityPlatform.apply((i) => ({ issuer: i.issuer, jwksUri: i.jwksUri ?? IDENTITY_PLATFORM_JWKS_URI, audiences: [...i.audiences] }));
}

/** An event-sourced service publishes through its store's forwarder, so it gets neither publish grants nor topic names itself. */
function publishedByStore(broker: MessageBroker): BrokerLink {
  return {
    grantsFor: (service) => ({ ...broker.grantsFor(service), publish: [] }),
    environmentFor: (service) => {
      const { [PUBSUB_TOPICS_ENV]: _published, ...rest } = broker.environmentFor(service);
      return rest;
    },
  };
}

/** Every service account the zone creates, by what it is for; two parts must never share one. */
function checkAccountIds(plan: LandingZonePlan): void {
  const owners = new Map<string, string>();
  const claim = (part: string, owner: string) => {
    const id = gcpServiceAccountId(plan.name, part);
    const other = owners.get(id);
    if (other) throw new Error(`LandingZone: ${owner} and ${other} would share the service account "${id}". Fix: rename the service, saga or event-sourced service so their names differ`);
    owners.set(id, owner);
  };
  if (plan.tier === "caas") claim("nodes", "the GKE nodes");
  if (plan.logging?.cluster && plan.tier === "paas") claim("logstash", "Logstash pulling the App Engine log export");
  if (plan.tracing && (plan.tier === "caas" || usesCentralCollector(plan))) claim("otel", "the trace collector");
  for (const service of plan.services) {
    claim(service.name, `services[${service.name}]`);
    if (service.eventStore) {
      claim(`${service.name}-fwd`, `the event forwarder of ${service.name}`);
      claim(`${service.name}-trg`, `the event trigger of ${service.name}`);
    }
  }
  for (const saga of plan.spec.sagas) claim(`saga-${saga.name}`, `sagas[${saga.name}]`);
  const github = plan.delivery?.provider === "github-actions";
  for (const delivery of plan.delivery?.services ?? []) {
    if (github) {
      claim(`${delivery.service}-pub`, `the GitHub publish account of ${delivery.service}`);
      claim(`${delivery.service}-dep`, `the GitHub deploy account of ${delivery.service}`);
    } else claim(`${delivery.service}-cd`, `the Cloud Build account of ${delivery.service}`);
  }
  for (const app of plan.frontends ? [plan.frontends.shell, ...plan.frontends.fragments] : []) claim(`ui-${app.name}`, `the deploy account of frontend ${app.name}`);
}

function checkSecretValues(plan: LandingZonePlan, secretValues: LandingZoneArgs["secretValues"]): void {
  for (const [service, values] of Object.entries(secretValues ?? {})) {
    const declared = plan.services.find((s) => s.name === service);
    if (!declared) throw new Error(`LandingZone args.secretValues: "${service}" is not a service of the spec. Fix: use one of ${plan.services.map((s) => s.name).join(", ")}`);
    for (const key of Object.keys(values)) {
      if (!declared.secrets.includes(key)) throw new Error(`LandingZone args.secretValues.${service}: "${key}" is not in services[${service}].secrets. Fix: declare it in the spec or drop it`);
    }
  }
}
