import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as resources from "@pulumi/azure-native/resources/index.js";
import * as pulumi from "@pulumi/pulumi";
import { meshAddOn } from "../../kubernetes/mesh.js";
import { gatewayAuthPolicies } from "../../kubernetes/gateway-auth.js";
import { ingressNamespace, namespaceManifests, workloadNamespace } from "../../kubernetes/namespace.js";
import type { AddOn } from "../../kubernetes/types.js";
import { AKS_SYSTEM_POOL, azureSubnetLayout, azureUniqueName, discoveryZone, ingressPrivateIp, postgresDnsZone, readModelDatabase, registrySku, serviceBusSku } from "../../plan/azure.js";
import {
  appServiceDiscoveryEnvironment,
  appServiceHost,
  appServiceUrl,
  DISCOVERY_PORT,
  discoveryEnvironment,
  discoveryHost,
  logBufferPrivateIp,
  usesAppServiceRegistry,
} from "../../plan/azure-discovery.js";
import { CPU_ALERT_PERCENT } from "../../plan/azure-monitoring.js";
import { azureResourceGroupName, frontDoorName, scaleSetName } from "../../plan/azure-delivery.js";
import { deploymentRollerRbac } from "../../kubernetes/delivery.js";
import { labelsFor } from "../../kubernetes/labels.js";
import { planLandingZone } from "../../plan/planner.js";
import type { SagaPlan } from "../../plan/saga.js";
import { externalEdgeProxyIssuer, type EdgeProxyConfigOptions } from "../../plan/edge-proxy.js";
import type { DatabasePlan, LandingZonePlan, ServicePlan } from "../../plan/types.js";
import type { LandingZoneInput } from "../../spec/schema.js";
import type { LandingZoneSpec } from "../../spec/types.js";
import { applyManifests } from "../kubernetes/add-on.js";
import { Ingress, ingressReleaseName } from "../kubernetes/ingress.js";
import { LogPipeline } from "../kubernetes/log-pipeline.js";
import { ApiGateway, type GatewayBackend } from "./api-gateway.js";
import { APP_CONFIGURATION_ENDPOINT_ENV, ConfigStore } from "./config-store.js";
import { ContainerRegistry, plannedImage } from "./container-registry.js";
import { DocumentAccount } from "./document-account.js";
import { EventStore } from "./event-store.js";
import { FrontendHosting } from "./frontend-hosting.js";
import { KubernetesPlatform, type KubeloginMode } from "./kubernetes-platform.js";
import { AppServiceLogExport } from "./app-service-log-export.js";
import { LogCluster } from "./log-cluster.js";
import { LogWorkspace } from "./log-workspace.js";
import { MessageBroker, SERVICE_BUS_NAMESPACE_ENV } from "./message-broker.js";
import { Monitoring, type MonitoredService } from "./monitoring.js";
import { Network } from "./network.js";
import { PaasPlatform } from "./paas-platform.js";
import { PaasService } from "./paas-service.js";
import { ReleaseRecords, type ReleaseRecordsArgs } from "./release-records.js";
import { PRIVATE_DNS_ZONES } from "./private-endpoint.js";
import { SagaOrchestrator } from "./saga-orchestrator.js";
import { aksRunCommandRole, ServiceDelivery, type ServiceDeliveryTarget } from "./service-delivery.js";
import { ServiceDatabase } from "./service-database.js";
import { ServiceDiscovery } from "./service-discovery.js";
import { ServiceWorkload, type ServiceAccess, type ServiceIdentity } from "./service-workload.js";
import { SessionStore } from "./session-store.js";
import { Tracing } from "./tracing.js";
import { VmService } from "./vm-service.js";

/** Arguments of {@link LandingZone}. */
export interface LandingZoneArgs {
  /** The landing-zone spec (`cloud: azure`), as written or normalized. */
  readonly spec: LandingZoneInput | LandingZoneSpec;
  /**
   * The gateway's TLS certificate, a Key Vault secret the gateway reads with its own identity.
   * @default - from stack config `msa:gatewayCertificateSecretId` and `msa:gatewayCertificateVaultId`; without them the gateway listens on HTTP only
   */
  readonly certificate?: { readonly keyVaultSecretId: pulumi.Input<string>; readonly keyVaultId: pulumi.Input<string> };
  /**
   * Host name the gateway's certificate is issued for; with a certificate, Front Door forwards the shell BFF's routes to it over HTTPS.
   * @default - the gateway's public IP over HTTP
   */
  readonly gatewayHostName?: string;
  /**
   * Entra ID groups that administer the AKS cluster.
   * @default - none beyond the deploying principal
   */
  readonly adminGroupObjectIds?: readonly string[];
  /**
   * How kubelogin signs the deployer in to the cluster.
   * @default "azurecli"
   */
  readonly kubeloginMode?: KubeloginMode;
  /**
   * Values of the services' declared secrets, by service then key (e.g. from `pulumi config set --secret`); missing ones are generated into Key Vault.
   * @default - every secret generated
   */
  readonly secretValues?: Readonly<Record<string, Readonly<Record<string, pulumi.Input<string>>>>>;
}

/**
 * A whole Azure landing zone from a spec, planned for the Pulumi engine, all children of this
 * component: a resource group, the Log Analytics workspace, the Network, the ContainerRegistry,
 * the SessionStore (Azure Cache for Redis), the MessageBroker (Service Bus), the ApiGateway
 * (Application Gateway WAF_v2) and per tier: on CaaS the AKS KubernetesPlatform (workloads
 * namespace, Istio), an in-cluster ingress behind the gateway, the ELK LogPipeline with its Redis
 * buffer and a ServiceWorkload per service with its own workload identity; on IaaS a VmService
 * scale set per service in the gateway's pools (through an Envoy edge proxy on its instances that runs
 * the gateway's JWT or auth-service check, when `gateway.auth` asks for one), found through ServiceDiscovery (internal load
 * balancer and private DNS); on PaaS an App Service PaasPlatform and a private PaasService per service,
 * found through a registry of `discovery:<service>` key-values in the App Configuration store
 * (exposed ones with an Envoy edge proxy as the app's main container and the service as its sidecar, when
 * `gateway.auth` asks for a check); with frontends, FrontendHosting (private containers behind Front Door, the shell BFF's routes to the gateway).
 * Each orchestrated saga gets a SagaOrchestrator (a Logic App and its Service Bus command queues).
 *
 * Before the first `pulumi up`: register the subscription feature `Microsoft.Compute/EncryptionAtHost`;
 * on CaaS have `kubelogin` on the PATH and, in prod (private API server), run from a machine or
 * runner inside the VNet; put the gateway's TLS certificate in Key Vault and set
 * `msa:gatewayCertificateSecretId` and `msa:gatewayCertificateVaultId`, or the gateway serves HTTP only.
 *
 * Cost: the compute (AKS nodes, scale-set instances or the App Service plan), the Application
 * Gateway, NAT gateway, Redis and (prod) Premium Service Bus and registry bill hourly even when idle.
 *
 * @example
 * const zone = new LandingZone("shop", { spec: loadSpecFile("examples/azure/landing-zone.yaml") });
 * export const gatewayUrl = zone.gatewayUrl;
 */
export class LandingZone extends pulumi.ComponentResource {
  readonly plan: LandingZonePlan;
  readonly resourceGroup: resources.ResourceGroup;
  readonly logs: LogWorkspace;
  readonly network: Network;
  readonly gateway: ApiGateway;
  readonly registry: ContainerRegistry;
  /** Each service's own database, by service name. */
  readonly databases: Readonly<Record<string, ServiceDatabase>>;
  /** The event-sourced services' append-only stores and event hubs. */
  readonly eventStore?: EventStore;
  /** Alerts, their action group and the services' workbook. */
  readonly monitoring?: Monitoring;
  /** Application Insights and, on CaaS, the OpenTelemetry collector. */
  readonly tracing?: Tracing;
  /** Key Vault (and App Configuration on IaaS/PaaS) holding the services' secrets and settings. */
  readonly config?: ConfigStore;
  /** Each service's release record, when the plan has Azure DevOps pipelines; the workloads run the images they name. */
  readonly releases?: ReleaseRecords;
  /** The AKS platform (CaaS). */
  readonly platform?: KubernetesPlatform;
  /** The App Service plan (PaaS). */
  readonly paas?: PaasPlatform;
  /** The internal load balancer and private DNS zone the VM services are found by (IaaS). */
  readonly discovery?: ServiceDiscovery;
  readonly ingress?: Ingress;
  readonly sessions?: SessionStore;
  readonly broker?: MessageBroker;
  /**
   * The Standard namespace of the saga command queues when the broker's is private (prod) or absent:
   * a Consumption Logic App reaches Service Bus over its public endpoint (Entra ID only).
   */
  readonly sagaBus?: MessageBroker;
  /** One Logic App per orchestrated saga, by saga name. */
  readonly sagas: Readonly<Record<string, SagaOrchestrator>>;
  /** ARM id of each orchestrated saga's Logic App, by saga name. */
  readonly sagaWorkflowIds?: pulumi.Output<Record<string, string>>;
  readonly logging?: LogPipeline;
  /** IaaS and PaaS: the private AKS cluster running the log pipeline and its buffer. */
  readonly logCluster?: LogCluster;
  /** PaaS: the apps' diagnostic settings into the event hub Logstash reads. */
  readonly appServiceLogs?: AppServiceLogExport;
  /** The micro-frontends' storage and Front Door, when the plan has `frontends`. */
  readonly frontends?: FrontendHosting;
  /** The deploy identity of each service's Azure DevOps pipeline, by service name (native pipelines). */
  readonly deliveries: Readonly<Record<string, ServiceDelivery>>;
  /** Every service and BFF, by name: a ServiceWorkload (CaaS), VmService (IaaS) or PaasService (PaaS). */
  readonly services: Readonly<Record<string, ServiceIdentity>>;

  readonly gatewayUrl: pulumi.Output<string>;
  readonly resourceGroupName: pulumi.Output<string>;
  /** The micro-frontends' Front Door URL (https). */
  readonly frontendsUrl?: pulumi.Output<string>;

  constructor(name: string, args: LandingZoneArgs, opts?: pulumi.ComponentResourceOptions) {
    // Planning throws a PlanError naming every unsupported capability before anything is registered.
    const plan = planLandingZone(args.spec, { engine: "pulumi" });
    if (plan.cloud !== "azure") {
      throw new Error(`LandingZone args.spec.cloud: "${plan.cloud}" is not azure. Fix: set cloud: azure, or use the ${plan.cloud} LandingZone`);
    }
    const mysql = plan.services.filter((s) => s.database?.engine === "mysql");
    if (mysql.length > 0) {
      throw new Error(`LandingZone args.spec.services[${mysql[0]!.name}].database.engine: "mysql" is not built on Azure yet. Fix: use postgres (PostgreSQL flexible server), key-value or document (Cosmos DB)`);
    }
    if (plan.tracing && plan.tier !== "caas" && plan.tracing.backend !== "cloud") {
      throw new Error(`LandingZone args.spec.tracing.backend: "${plan.tracing.backend}" runs in a cluster, and azure/${plan.tier} has none. Fix: use tracing.backend: cloud (Application Insights) or tier: caas`);
    }
    // App Service's logs reach ELK through an event hub read by a logging cluster in a subnet of its own.
    const paasLogs = plan.tier === "paas" && plan.logging?.cluster !== undefined;
    const layout = azureSubnetLayout(plan.network, { loggingSubnet: paasLogs });
    super("msa:azure:LandingZone", name, {}, opts);
    this.plan = plan;
    const parent = { parent: this };
    const tags = { ...plan.tags };
    const prod = plan.environment === "prod";
    const retain = plan.protection.retain;
    const location = plan.region;
    const zones = [...plan.network.availabilityZones];

    this.resourceGroup = new resources.ResourceGroup(`${name}-rg`, { resourceGroupName: azureResourceGroupName(plan.name, plan.environment), location, tags }, parent);
    const resourceGroupName = this.resourceGroup.name;
    // Global names end in a hash of the subscription and resource group, as ARM's uniqueString does.
    const scope = pulumi.interpolate`${authorization.getClientConfigOutput(parent).subscriptionId}/${resourceGroupName}`;
    const uniqueName = (kind: Parameters<typeof azureUniqueName>[0], part: string) => scope.apply((s) => azureUniqueName(kind, plan.name, plan.environment, part, s));

    this.logs = new LogWorkspace(`${name}-logs`, { resourceGroupName, location, retentionDays: Math.max(30, plan.network.flowLogRetentionDays), retain, tags }, parent);
    const logWorkspaceId = this.logs.workspaceId;
    // Where a logging cluster of its own runs, for scale sets or App Service alike.
    const logClusterPlacement = {
      zones,
      podsCidr: plan.network.podsCidr,
      servicesCidr: plan.network.servicesCidr,
      outbound: plan.network.natGateways > 0 ? ("natGateway" as const) : ("loadBalancer" as const),
      logWorkspaceId,
      tags,
    };

    const hasConfig = plan.decisions.some((d) => d.capability === "config");
    // App Service apps find each other through a registry in the App Configuration store.
    const appRegistry = usesAppServiceRegistry(plan);
    // VMs and App Service read their settings from App Configuration; clusters keep them in ConfigMaps.
    const settingsStore = (hasConfig && plan.tier !== "caas") || appRegistry;
    // Scale sets ship logs into a logging cluster of their own, whose buffer password the vault keeps.
    const vmLogs = plan.tier === "iaas" && plan.logging?.cluster !== undefined;
    // A read model without a database of its own gets a Cosmos DB read store.
    const databasePlans = Object.fromEntries(
      plan.services.flatMap((s) => (s.database ? [[s.name, s.database]] : s.readModel ? [[s.name, readModelDatabase(s, plan.environment, plan.protection.backupRetentionDays)]] : [])),
    ) as Record<string, DatabasePlan>;
    const postgres = plan.services.filter((s) => databasePlans[s.name]?.engine === "postgres");
    const eventSourced = plan.services.filter((s) => s.eventStore);
    const documents = plan.services.filter((s) => (databasePlans[s.name] && databasePlans[s.name]!.engine !== "postgres") || s.eventStore);
    // Prod keeps every data plane private: Premium registry and Service Bus behind private endpoints.
    const privateRegistry = registrySku(plan.environment) === "Premium";
    const busSku = serviceBusSku(plan.environment);
    const privateBus = plan.broker !== undefined && busSku.name === "Premium";
    const dnsZones = [
      ...(privateRegistry ? [PRIVATE_DNS_ZONES.registry] : []),
      ...(plan.sessions ? [PRIVATE_DNS_ZONES.redisCache] : []),
      ...(privateBus || eventSourced.length > 0 || paasLogs ? [PRIVATE_DNS_ZONES.namespace] : []),
      ...(paasLogs ? [PRIVATE_DNS_ZONES.blob] : []),
      ...(plan.tier === "paas" ? [PRIVATE_DNS_ZONES.sites] : []),
      ...(hasConfig || postgres.length > 0 || vmLogs || appRegistry ? [PRIVATE_DNS_ZONES.vault] : []),
      ...(postgres.length > 0 ? [postgresDnsZone(plan.name, plan.environment)] : []),
      ...(documents.length > 0 ? [PRIVATE_DNS_ZONES.Sql] : []),
      ...(settingsStore || plan.azureDelivery ? [PRIVATE_DNS_ZONES.configurationStores] : []),
    ];
    const exposed = plan.services.filter((s) => s.expose);
    this.network = new Network(
      `${name}-network`,
      {
        resourceGroupName,
        location,
        cidr: plan.network.cidr,
        subnetCidrs: layout,
        ...(plan.tier === "caas" ? { podsCidr: plan.network.podsCidr, workloadPorts: ["80"] } : {}),
        // A logging cluster of its own (App Service: in the logging subnet; VMs: in the workloads subnet) runs on Azure CNI Overlay too.
        ...(paasLogs || vmLogs ? { podsCidr: plan.network.podsCidr } : {}),
        // Behind edge proxies the gateway reaches only the proxies' port.
        ...(plan.tier === "iaas" ? { workloadPorts: plan.edgeProxy ? [String(plan.edgeProxy.port)] : [...new Set(exposed.map((s) => String(s.port)))] } : {}),
        ...(plan.tier === "paas" ? { workloadsDelegation: "Microsoft.Web/serverFarms" as const, workloadPorts: [] } : {}),
        databaseSubnet: postgres.length > 0,
        // HTTPS, AMQP and Redis TLS, plus Kafka for Event Hubs and Cosmos DB's direct-mode ports when those stores exist.
        endpointPorts: ["443", "5671-5672", "6380", ...(eventSourced.length > 0 ? ["9093"] : []), ...(documents.length > 0 ? ["10250-10256"] : [])],
        natGateway: plan.network.natGateways > 0,
        diagnosticsWorkspaceId: logWorkspaceId,
        ...(plan.network.flowLogs
          ? {
              flowLogs: {
                workspaceResourceId: logWorkspaceId,
                workspaceId: this.logs.customerId,
                storageAccountName: uniqueName("azureStorage", "flow"),
                retentionDays: plan.network.flowLogRetentionDays,
                retain,
              },
            }
          : {}),
        privateDnsZones: dnsZones,
        tags,
      },
      parent,
    );
    const endpoint = (zone: string) => ({ subnetId: this.network.subnetIds.endpoints, privateDnsZoneId: this.network.privateDnsZoneIds[zone]! });

    this.registry = new ContainerRegistry(
      `${name}-registry`,
      {
        resourceGroupName,
        location,
        registryName: uniqueName("azureRegistry", "registry"),
        sku: registrySku(plan.environment),
        ...(privateRegistry ? { privateEndpoint: endpoint(PRIVATE_DNS_ZONES.registry) } : {}),
        logWorkspaceId,
        retain,
        tags,
      },
      parent,
    );

    if (plan.sessions) {
      this.sessions = new SessionStore(
        `${name}-sessions`,
        { resourceGroupName, location, cacheName: uniqueName("azureResource", "sessions"), sessions: plan.sessions, privateEndpoint: endpoint(PRIVATE_DNS_ZONES.redisCache), zones, logWorkspaceId, retain, tags },
        parent,
      );
    }
    if (plan.broker) {
      this.broker = new MessageBroker(
        `${name}-broker`,
        {
          resourceGroupName,
          location,
          namespaceName: uniqueName("azureResource", "bus"),
          broker: plan.broker,
          sku: busSku,
          ...(privateBus ? { privateEndpoint: endpoint(PRIVATE_DNS_ZONES.namespace) } : {}),
          logWorkspaceId,
          retain,
          tags,
        },
        parent,
      );
    }
    // The vault holds the services' secrets, the databases' break-glass administrator passwords and the log buffer's password.
    // App Service app names are known before the apps, so the registry can hold their URLs.
    const appNames = plan.tier === "paas" ? Object.fromEntries(plan.services.map((s) => [s.name, uniqueName("azureResource", s.name)])) : {};
    if (hasConfig || postgres.length > 0 || vmLogs || appRegistry) {
      this.config = new ConfigStore(
        `${name}-config`,
        {
          plan,
          resourceGroupName,
          location,
          vaultName: uniqueName("azureKeyVault", "kv"),
          ...(settingsStore ? { appConfigurationName: uniqueName("azureResource", "config") } : {}),
          ...(appRegistry ? { discoveryUrls: Object.fromEntries(Object.entries(appNames).map(([service, app]) => [service, app.apply(appServiceUrl)])) } : {}),
          privateEndpoints: {
            subnetId: this.network.subnetIds.endpoints,
            vaultDnsZoneId: this.network.privateDnsZoneIds[PRIVATE_DNS_ZONES.vault]!,
            ...(settingsStore ? { appConfigurationDnsZoneId: this.network.privateDnsZoneIds[PRIVATE_DNS_ZONES.configurationStores]! } : {}),
          },
          ...(args.secretValues ? { secretValues: args.secretValues } : {}),
          logWorkspaceId,
          tags,
        },
        parent,
      );
    }
    const config = this.config;
    const releases = plan.azureDelivery ? this.createReleases(name, plan, { resourceGroupName, location, logWorkspaceId, tags }, uniqueName("azureResource", "config")) : undefined;
    this.releases = releases;
    const releasedImage = (service: string) => (releases?.releasedImages[service] ? { image: releases.releasedImages[service] } : {});
    const documentAccount =
      documents.length > 0
        ? new DocumentAccount(
            `${name}-documents`,
            {
              resourceGroupName,
              location,
              accountName: uniqueName("azureResource", "documents"),
              privateEndpoint: endpoint(PRIVATE_DNS_ZONES.Sql),
              zoneRedundant: prod,
              serverless: !prod,
              backupDays: prod ? 30 : 7,
              logWorkspaceId,
              retain,
              tags,
            },
            parent,
          )
        : undefined;
    const databases: Record<string, ServiceDatabase> = {};
    for (const service of plan.services.filter((s) => databasePlans[s.name])) {
      const database = databasePlans[service.name]!;
      databases[service.name] = new ServiceDatabase(
        `${name}-${service.name}-database`,
        {
          service: service.name,
          database,
          resourceGroupName,
          location,
          ...(database.engine === "postgres"
            ? {
                postgres: {
                  serverName: uniqueName("azureResource", `${service.name}-db`),
                  subnetId: this.network.subnetIds.databases!,
                  privateDnsZoneId: this.network.privateDnsZoneIds[postgresDnsZone(plan.name, plan.environment)]!,
                  vault: { resourceGroupName, vaultName: config!.vaultName },
                },
              }
            : { documents: documentAccount! }),
          logWorkspaceId,
          retain,
          tags,
        },
        parent,
      );
    }
    this.databases = databases;
    if (eventSourced.length > 0) {
      this.eventStore = new EventStore(
        `${name}-events`,
        {
          plan,
          resourceGroupName,
          location,
          documents: documentAccount!,
          namespaceName: uniqueName("azureResource", "events"),
          privateEndpoint: endpoint(PRIVATE_DNS_ZONES.namespace),
          logWorkspaceId,
          retain,
          tags,
        },
        parent,
      );
    }
    const eventStore = this.eventStore;
    const orchestrated = plan.sagas.filter((s) => s.mode === "orchestration");
    if (orchestrated.length > 0 && (!this.broker || privateBus)) {
      this.sagaBus = new MessageBroker(
        `${name}-sagas`,
        {
          resourceGroupName,
          location,
          namespaceName: uniqueName("azureResource", "sagas"),
          broker: { implementation: "service-bus", topics: [], maxReceiveCount: plan.spec.messaging.maxReceiveCount, retentionDays: plan.spec.messaging.retentionDays },
          sku: { name: "Standard" },
          logWorkspaceId,
          retain,
          tags,
        },
        parent,
      );
    }
    // One of the two namespaces exists whenever a saga is orchestrated.
    const sagas = orchestrated.length > 0 ? this.createSagas(name, plan, orchestrated, (this.sagaBus ?? this.broker)!, { resourceGroupName, location, logWorkspaceId }) : [];
    const access: ServiceAccess[] = [
      ...(this.sessions ? [this.sessions] : []),
      ...(this.broker ? [this.broker] : []),
      ...(config ? [config] : []),
      ...Object.values(databases),
      ...(eventStore ? [eventStore] : []),
      ...sagas.map((s) => s.orchestrator),
    ];
    // Outside a cluster, services send traces to Application Insights themselves.
    if (plan.tracing && plan.tier !== "caas") this.tracing = new Tracing(`${name}-tracing`, { plan, resourceGroupName, location, logWorkspaceId, tags }, parent);
    const tracing = this.tracing;
    const settingsFrom = config?.appConfigurationEndpoint ? { appConfiguration: { endpoint: config.appConfigurationEndpoint, label: plan.environment } } : {};
    // `discovery`: how the service finds the others (the discovery domain on VMs, the registry's prefix and label on App Service).
    const serviceEnv = (service: ServicePlan, discovery: Readonly<Record<string, pulumi.Input<string>>> = {}): Record<string, pulumi.Input<string>> => ({
      ...(this.sessions ? this.sessions.environment() : {}),
      ...(this.broker?.uses(service.name) ? { [SERVICE_BUS_NAMESPACE_ENV]: this.broker.namespaceHost } : {}),
      ...discovery,
      ...(config?.appConfigurationEndpoint ? { [APP_CONFIGURATION_ENDPOINT_ENV]: config.appConfigurationEndpoint } : {}),
      ...(tracing ? tracing.environment(service.name) : {}),
      ...databases[service.name]?.environment,
      ...(eventStore ? eventStore.environment(service.name) : {}),
      ...Object.assign({}, ...sagas.map((s) => s.orchestrator.environment(service.name))),
    });

    const certificate = args.certificate ?? certificateFromConfig();
    const gateway = (backends: GatewayBackend[], route: (target: string) => string, dependsOn: pulumi.Resource[] = []) =>
      new ApiGateway(
        `${name}-gateway`,
        {
          resourceGroupName,
          location,
          gatewayName: `${plan.name}-${plan.environment}-gateway`,
          subnetId: this.network.subnetIds.gateway,
          gateway: plan.gateway,
          backends,
          routes: plan.gateway.routes.map((r) => ({ path: r.path, backend: route(r.target) })),
          zones,
          ...(certificate ? { certificate } : {}),
          capacity: prod ? { min: 2, max: 10 } : { min: 1, max: 2 },
          logWorkspaceId,
          // The alerts and workbook read the access logs, whatever gateway.accessLogs says.
          monitored: plan.monitoring !== undefined,
          tags,
        },
        { parent: this, dependsOn },
      );

    const services: Record<string, ServiceIdentity> = {};
    if (plan.tier === "caas") {
      const cluster = plan.cluster!;
      const workloads: AddOn = { name: "workloads", namespace: workloadNamespace(plan), helmReleases: [], manifests: namespaceManifests(plan), dependsOn: [] };
      const mesh = meshAddOn(plan);
      // The namespace asks for sidecar injection, so it waits for the mesh's webhook.
      const addOns = mesh ? [mesh, { ...workloads, dependsOn: [mesh.name] }] : [workloads];
      const platform = new KubernetesPlatform(
        `${name}-platform`,
        {
          cluster,
          resourceGroupName,
          location,
          subnetId: this.network.subnetIds.workloads,
          zones,
          podsCidr: plan.network.podsCidr,
          servicesCidr: plan.network.servicesCidr,
          systemPool: AKS_SYSTEM_POOL[plan.environment],
          outbound: plan.network.natGateways > 0 ? "natGateway" : "loadBalancer",
          registry: this.registry,
          logWorkspaceId,
          ...(args.adminGroupObjectIds ? { adminGroupObjectIds: args.adminGroupObjectIds } : {}),
          ...(args.kubeloginMode ? { kubeloginMode: args.kubeloginMode } : {}),
          uptimeSla: prod,
          addOns,
          retain,
          tags,
        },
        parent,
      );
      this.platform = platform;
      const provider = platform.provider;
      const ready = [...platform.ready];

      // Tokens and the auth service are checked by the services' sidecars for calls through the ingress (Istio policies).
      const authPolicies = gatewayAuthPolicies(plan, { kind: "in-cluster", namespace: ingressNamespace(plan) });
      if (authPolicies.length > 0) ready.push(applyManifests(`${name}-gateway-auth`, authPolicies, { provider, parent: this, dependsOn: [...platform.ready] }));

      // The gateway terminates clients and runs the WAF; the in-cluster ingress, on a fixed internal address, routes to the services.
      const ingressIp = ingressPrivateIp(layout.workloads);
      this.ingress = new Ingress(
        `${name}-ingress`,
        {
          plan: { ...plan, gateway: { ...plan.gateway, waf: false } },
          provider,
          values: {
            [ingressReleaseName(plan)]: {
              controller: {
                service: {
                  annotations: {
                    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
                    "service.beta.kubernetes.io/azure-load-balancer-internal-subnet": "workloads",
                    "service.beta.kubernetes.io/azure-load-balancer-ipv4": ingressIp,
                    "service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path": "/healthz",
                  },
                },
                // Rate limits and logs see the client's address, which only the gateway subnet may assert.
                config: { "use-forwarded-headers": "true", "proxy-real-ip-cidr": layout.gateway },
              },
            },
          },
        },
        { parent: this, dependsOn: ready },
      );
      this.gateway = gateway([{ name: "ingress", addresses: [{ ipAddress: ingressIp }], port: 80, protocol: "Http", healthPath: "/healthz" }], () => "ingress");

      if (plan.logging) this.logging = new LogPipeline(`${name}-logging`, { plan, provider }, { parent: this, dependsOn: ready });
      if (plan.tracing) this.tracing = new Tracing(`${name}-tracing`, { plan, resourceGroupName, location, logWorkspaceId, provider, tags }, { parent: this, dependsOn: ready });

      for (const service of plan.services) {
        services[service.name] = new ServiceWorkload(
          `${name}-${service.name}`,
          {
            plan,
            service: service.name,
            resourceGroupName,
            location,
            oidcIssuerUrl: platform.oidcIssuerUrl,
            provider,
            registryLoginServer: this.registry.loginServer,
            ...releasedImage(service.name),
            access,
            env: serviceEnv(service),
            ...(config ? { keyVault: { name: config.vaultName, tenantId: config.tenantId } } : {}),
            tags,
          },
          { parent: this, dependsOn: ready },
        );
      }
    } else if (plan.tier === "iaas") {
      const vms = plan.vms!;
      const discovery = plan.decisions.some((d) => d.capability === "discovery")
        ? new ServiceDiscovery(
            `${name}-discovery`,
            {
              resourceGroupName,
              location,
              loadBalancerName: `${plan.name}-${plan.environment}-discovery`,
              zoneName: discoveryZone(plan.name),
              virtualNetworkId: this.network.virtualNetworkId,
              subnetId: this.network.subnetIds.workloads,
              zones,
              services: plan.services.map((s) => ({ name: s.name, port: s.port, healthPath: s.healthPath })),
              frontendPort: DISCOVERY_PORT,
              tags,
            },
            parent,
          )
        : undefined;
      this.discovery = discovery;
      if (vmLogs) {
        this.logCluster = new LogCluster(
          `${name}-logging`,
          {
            plan,
            resourceGroupName,
            location,
            subnetId: this.network.subnetIds.workloads,
            hosts: {
              subnetName: "workloads",
              hostsCidr: layout.workloads,
              // Fixed whatever the services: the planner refuses plans whose dynamic addresses could reach it.
              bufferAddress: logBufferPrivateIp(layout.workloads),
              vault: { resourceGroupName, vaultName: config!.vaultName },
            },
            ...logClusterPlacement,
          },
          parent,
        );
        this.logging = this.logCluster.pipeline;
      }
      const logCluster = this.logCluster;
      this.gateway = gateway(
        exposed.map((s) => ({ name: s.name, port: plan.edgeProxy ? plan.edgeProxy.port : s.port, protocol: "Http", healthPath: s.healthPath })),
        (target) => target,
      );
      // The settings store may hold the records too; its reader grant then covers them (one assignment per principal, role and scope).
      const releaseAccess: ServiceAccess[] = releases
        ? [{ grantAccess: (svc, principalId, parentResource) => (releases.inExistingStore && config?.readsSettings(svc) ? [] : [releases.grantRead(svc, principalId, parentResource)]) }]
        : [];
      for (const service of plan.services) {
        const pool = this.gateway.backendPoolIds[service.name];
        const released = plan.azureDelivery?.services.find((d) => d.service === service.name);
        services[service.name] = new VmService(
          `${name}-${service.name}`,
          {
            plan,
            service: service.name,
            vms,
            resourceGroupName,
            location,
            subnetId: this.network.subnetIds.workloads,
            zones,
            registry: this.registry,
            ...(pool ? { gatewayBackendPoolIds: [pool] } : {}),
            ...(discovery ? { loadBalancerBackendPoolIds: [discovery.backendPoolIds[service.name]!] } : {}),
            ...(plan.edgeProxy?.services.includes(service.name) ? { edgeProxy: edgeProxyOptions(plan) } : {}),
            access: [...access, ...(logCluster ? [logCluster] : []), ...(released ? releaseAccess : [])],
            // Instances read the released image from the service's record at each boot; the pipeline reimages its scale set by name.
            ...(released && releases && released.target.kind === "scale-set" ? { release: { endpoint: releases.endpoint, key: released.releaseKey } } : {}),
            // One name whether or not a pipeline releases it, so turning pipelines on never replaces a fleet.
            scaleSetName: scaleSetName(plan.name, plan.environment, service.name),
            ...(logCluster?.buffer ? { logBuffer: logCluster.buffer } : {}),
            logWorkspaceId,
            env: serviceEnv(service, discovery ? discoveryEnvironment(plan.name) : {}),
            ...(config ? { secretUris: config.secretUrisOf(service.name), ...settingsFrom } : {}),
            tags,
          },
          // The pools the instances join must exist first.
          { parent: this, dependsOn: [this.gateway, ...(discovery ? [discovery] : [])] },
        );
      }
    } else {
      const platform = new PaasPlatform(
        `${name}-platform`,
        {
          paas: plan.paas!,
          resourceGroupName,
          location,
          instances: { min: Math.max(...plan.services.map((s) => s.replicas.min)), max: Math.max(...plan.services.map((s) => s.replicas.max)) },
          zoneRedundant: prod && zones.length > 1,
          logWorkspaceId,
          tags,
        },
        parent,
      );
      this.paas = platform;
      const apps: Record<string, PaasService> = {};
      for (const service of plan.services) {
        apps[service.name] = new PaasService(
          `${name}-${service.name}`,
          {
            plan,
            service: service.name,
            resourceGroupName,
            location,
            appName: appNames[service.name]!,
            planId: platform.planId,
            integrationSubnetId: this.network.subnetIds.workloads,
            privateEndpoint: endpoint(PRIVATE_DNS_ZONES.sites),
            registry: this.registry,
            ...releasedImage(service.name),
            access,
            // Apps reach each other by their own host names (the privatelink zone resolves them to their private endpoints), read from the registry.
            env: serviceEnv(service, appRegistry ? appServiceDiscoveryEnvironment(plan.environment) : {}),
            ...(config ? { secretUris: config.secretUrisOf(service.name), ...settingsFrom } : {}),
            ...(plan.edgeProxy?.services.includes(service.name) ? { edgeProxy: appServiceProxyOptions(plan, appNames) } : {}),
            logWorkspaceId,
            tags,
          },
          parent,
        );
        services[service.name] = apps[service.name]!;
      }
      this.gateway = gateway(
        exposed.map((s) => ({ name: s.name, addresses: [{ fqdn: apps[s.name]!.defaultHostName }], port: 443, protocol: "Https", healthPath: s.healthPath, useBackendHostName: true })),
        (target) => target,
        Object.values(apps),
      );
      if (paasLogs) {
        this.appServiceLogs = new AppServiceLogExport(
          `${name}-app-logs`,
          {
            resourceGroupName,
            location,
            namespaceName: uniqueName("azureResource", "logs"),
            storageAccountName: uniqueName("azureStorage", "logs"),
            apps: Object.fromEntries(Object.entries(apps).map(([service, app]) => [service, app.nodes.app.id])),
            privateEndpoints: {
              subnetId: this.network.subnetIds.endpoints,
              namespaceDnsZoneId: this.network.privateDnsZoneIds[PRIVATE_DNS_ZONES.namespace]!,
              blobDnsZoneId: this.network.privateDnsZoneIds[PRIVATE_DNS_ZONES.blob]!,
            },
            retain,
            tags,
          },
          parent,
        );
        this.logCluster = new LogCluster(
          `${name}-logging`,
          {
            plan,
            resourceGroupName,
            location,
            subnetId: this.network.subnetIds.logging!,
            cloudLogs: this.appServiceLogs,
            ...logClusterPlacement,
          },
          parent,
        );
        this.logging = this.logCluster.pipeline;
      }
    }
    this.services = services;
    this.deliveries = this.createDeliveries(name, plan, { resourceGroupName, location, tags }, services);
    // Each trigger admits the initiator's identity, which exists only now.
    for (const saga of sagas) saga.resolveInitiator(services[saga.orchestrator.saga.initiator]!.clientId);
    this.sagas = Object.fromEntries(sagas.map((s) => [s.orchestrator.saga.name, s.orchestrator]));
    if (sagas.length > 0) this.sagaWorkflowIds = pulumi.output(Object.fromEntries(sagas.map((s) => [s.orchestrator.saga.name, s.orchestrator.workflowId])));

    if (plan.monitoring) {
      const monitoring = plan.monitoring;
      const routesOf = (service: string) => plan.gateway.routes.filter((r) => r.target === service).map((r) => r.path);
      const saturationOf = (service: string): MonitoredService["saturation"] =>
        plan.tier === "caas"
          ? { kind: "container", container: service }
          : plan.tier === "iaas"
            ? { kind: "resource-metric", resourceId: (services[service] as VmService).scaleSetId, metric: "Percentage CPU" }
            : { kind: "resource-metric", resourceId: this.paas!.planId, metric: "CpuPercentage" };
      this.monitoring = new Monitoring(
        `${name}-monitoring`,
        {
          resourceGroupName,
          location,
          title: `${plan.name}-${plan.environment}`,
          workspaceId: logWorkspaceId,
          gatewayId: this.gateway.gatewayId,
          services: plan.services.map((s) => ({ name: s.name, paths: routesOf(s.name), saturation: saturationOf(s.name) })),
          alarms: monitoring.alarms,
          dashboards: monitoring.dashboards,
          ...(monitoring.alarmEmail ? { alarmEmail: monitoring.alarmEmail } : {}),
          thresholds: { errorRatePercent: monitoring.errorRatePercent, latencyMs: monitoring.latencyMs, cpuPercent: CPU_ALERT_PERCENT },
          evaluation: { periodSeconds: monitoring.periodSeconds, evaluationPeriods: monitoring.evaluationPeriods, datapointsToAlarm: monitoring.datapointsToAlarm },
          tags,
        },
        parent,
      );
    }

    if (plan.frontends) {
      const https = certificate !== undefined && args.gatewayHostName !== undefined;
      this.frontends = new FrontendHosting(
        `${name}-frontends`,
        {
          frontends: plan.frontends,
          resourceGroupName,
          location,
          storageAccountName: uniqueName("azureStorage", "ui"),
          profileName: frontDoorName(plan.name, plan.environment),
          // With a repository owner, each app's repository deploys it from its environment without a secret.
          githubDeploy: plan.frontends.shell.deploySubject !== undefined,
          ...(plan.frontends.apiRoutes.length > 0 ? { api: https ? { hostName: args.gatewayHostName!, protocol: "Https" as const } : { hostName: this.gateway.publicIp, protocol: "Http" as const } } : {}),
          logWorkspaceId,
          retain,
          tags,
        },
        parent,
      );
      this.frontendsUrl = this.frontends.url;
    }

    this.gatewayUrl = this.gateway.url;
    this.resourceGroupName = resourceGroupName;
    this.registerOutputs(this.outputs);
  }

  /** Stack outputs, by name; optional parts appear only when the plan has them. */
  get outputs(): Readonly<Record<string, pulumi.Output<unknown>>> {
    return {
      gatewayUrl: this.gatewayUrl,
      resourceGroupName: this.resourceGroupName,
      ...(this.platform ? { clusterName: this.platform.clusterName } : {}),
      registryLoginServer: this.registry.loginServer,
      ...(this.sessions ? { sessionEndpoint: this.sessions.endpoint } : {}),
      ...(this.broker ? { serviceBusNamespace: this.broker.namespaceHost } : {}),
      ...(this.logging ? { kibanaService: this.logging.kibanaService } : {}),
      ...(this.sagaWorkflowIds ? { sagaWorkflowIds: this.sagaWorkflowIds } : {}),
      ...(this.frontendsUrl ? { frontendsUrl: this.frontendsUrl } : {}),
      // Per app, the identity its GitHub workflow signs in as (AZURE_DEPLOY_CLIENT_ID; the BFFs' are in deployClientIds), and the account it uploads to (AZURE_STORAGE_ACCOUNT).
      ...(this.frontends?.githubDeploy ? { frontendDeployClientIds: this.frontends.deployClientIds, frontendStorageAccount: this.frontends.storageAccountName } : {}),
      // The client id each service connection signs in with.
      ...(Object.keys(this.deliveries).length > 0 ? { deployClientIds: pulumi.all(Object.fromEntries(Object.entries(this.deliveries).map(([service, d]) => [service, d.clientId]))) } : {}),
      // The store of the release records, which GitHub deploy jobs write (AZURE_APP_CONFIGURATION).
      ...(this.releases ? { releaseStoreName: this.releases.storeId.apply((id) => id.split("/").pop()!) } : {}),
      // The client id each GitHub build job pushes with (AZURE_PUBLISH_CLIENT_ID).
      ...(Object.values(this.deliveries).some((d) => d.publishClientId) ? { publishClientIds: pulumi.all(Object.fromEntries(Object.entries(this.deliveries).map(([service, d]) => [service, d.publishClientId!]))) } : {}),
    };
  }

  /** A ServiceDelivery per service when the plan has Azure DevOps pipelines or GitHub workflows: AcrPush (a GitHub build job's own identity), and the right to change only the service's own Deployment, app or scale set. */
  private createDeliveries(
    name: string,
    plan: LandingZonePlan,
    at: { resourceGroupName: pulumi.Input<string>; location: string; tags: Record<string, string> },
    services: Readonly<Record<string, ServiceIdentity>>,
  ): Record<string, ServiceDelivery> {
    const deliveries: Record<string, ServiceDelivery> = {};
    const platform = this.platform;
    const runCommandRole = plan.azureDelivery && platform ? aksRunCommandRole(`${name}-aks-run-command`, platform.clusterId, { parent: this }) : undefined;
    for (const service of plan.azureDelivery?.services ?? []) {
      const delivery = plan.delivery!.services.find((s) => s.service === service.service)!;
      // On AKS the deployer is the identity's object id in Kubernetes RBAC (Entra sign-in through kubelogin).
      const target: ServiceDeliveryTarget =
        service.target.kind === "aks"
          ? { kind: "aks", clusterId: platform!.clusterId, runCommandRoleId: runCommandRole!.id, provider: platform!.provider, rbac: (principalId: string) => deploymentRollerRbac(service.service, delivery.deploy, { kind: "User", name: principalId }, labelsFor(plan, service.service)) }
          : service.target.kind === "scale-set"
            ? { kind: "scale-set", scaleSetId: (services[service.service] as VmService).scaleSetId }
            : { kind: "app-service", appId: (services[service.service] as PaasService).nodes.app.id };
      deliveries[service.service] = new ServiceDelivery(
        `${name}-${service.service}-delivery`,
        {
          resourceGroupName: at.resourceGroupName,
          location: at.location,
          identityName: service.identityName,
          federation: service.federation,
          registryId: this.registry.registryId,
          // A GitHub build job pushes as an identity of its own, trusting the branch; the deploy identity only deploys.
          ...(service.publish ? { publish: service.publish } : {}),
          target,
          ...(this.releases ? { release: { storeId: this.releases.storeId, writerRoleId: this.releases.writerRoleId } } : {}),
          tags: at.tags,
        },
        { parent: this },
      );
    }
    return deliveries;
  }

  /** The release records of the pipelines' services, in the landing zone's App Configuration store (created here on CaaS or without settings). */
  private createReleases(
    name: string,
    plan: LandingZonePlan,
    at: { resourceGroupName: pulumi.Input<string>; location: string; logWorkspaceId: pulumi.Input<string>; tags: Record<string, string> },
    storeName: pulumi.Input<string>,
  ): ReleaseRecords {
    const existing = this.config?.nodes.store;
    const store: ReleaseRecordsArgs["store"] =
      existing && this.config?.nodes.storeWriter
        ? { kind: "existing", id: existing.id, name: existing.name, deployerGrant: this.config.nodes.storeWriter }
        : {
            kind: "new",
            location: at.location,
            storeName,
            privateEndpoint: { subnetId: this.network.subnetIds.endpoints, privateDnsZoneId: this.network.privateDnsZoneIds[PRIVATE_DNS_ZONES.configurationStores]! },
            retain: plan.protection.retain,
            logWorkspaceId: at.logWorkspaceId,
            tags: at.tags,
          };
    const initialImages = Object.fromEntries(plan.azureDelivery!.services.map((d) => [d.service, plannedImage(plan.services.find((s) => s.name === d.service)!, this.registry.loginServer)]));
    return new ReleaseRecords(`${name}-releases`, { resourceGroupName: at.resourceGroupName, store, initialImages }, { parent: this });
  }

  /** A SagaOrchestrator per orchestrated saga on `bus`; each initiator's client id is resolved once the services exist. */
  private createSagas(
    name: string,
    plan: LandingZonePlan,
    orchestrated: readonly SagaPlan[],
    bus: MessageBroker,
    at: { resourceGroupName: pulumi.Input<string>; location: string; logWorkspaceId: pulumi.Input<string> },
  ): { orchestrator: SagaOrchestrator; resolveInitiator: (clientId: pulumi.Output<string>) => void }[] {
    const retain = plan.protection.retain;
    const tags = { ...plan.tags };
    return orchestrated.map((saga) => {
      const [initiatorClientId, resolveInitiator] = pulumi.deferredOutput<string>();
      const orchestrator = new SagaOrchestrator(
        `${name}-saga-${saga.name}`,
        {
          saga,
          resourceGroupName: at.resourceGroupName,
          location: at.location,
          namespace: { name: bus.nodes.namespace.name, host: bus.namespaceHost },
          initiatorClientId,
          maxDeliveryCount: plan.spec.messaging.maxReceiveCount,
          logWorkspaceId: at.logWorkspaceId,
          retain,
          tags,
        },
        { parent: this },
      );
      return { orchestrator, resolveInitiator };
    });
  }
}

/** The gateway certificate from stack config, when both keys are set. */
function certificateFromConfig(): LandingZoneArgs["certificate"] {
  const config = new pulumi.Config("msa");
  const keyVaultSecretId = config.get("gatewayCertificateSecretId");
  const keyVaultId = config.get("gatewayCertificateVaultId");
  return keyVaultSecretId && keyVaultId ? { keyVaultSecretId, keyVaultId } : undefined;
}

/** What the edge proxies on App Service check: the spec's issuer, or the auth service's app over HTTPS by its host name (its private endpoint inside the VNet). */
function appServiceProxyOptions(plan: LandingZonePlan, appNames: Readonly<Record<string, pulumi.Output<string>>>): pulumi.Input<EdgeProxyConfigOptions> {
  const authorizer = plan.auth?.authorizer;
  if (!authorizer) return edgeProxyOptions(plan);
  return appNames[authorizer.service]!.apply((app) => ({ authService: { host: appServiceHost(app), port: 443, tls: true } }));
}

/** What the edge proxies on VMs check: the spec's issuer (Entra ID's keys when it is an Entra ID tenant), or the auth service by its private DNS name. */
function edgeProxyOptions(plan: LandingZonePlan): EdgeProxyConfigOptions {
  const authorizer = plan.auth?.authorizer;
  if (authorizer) return { authService: { host: discoveryHost(plan.name, authorizer.service), port: DISCOVERY_PORT } };
  const issuer = externalEdgeProxyIssuer(plan);
  // validate.ts requires auth.issuer for JWT checks on Azure.
  if (!issuer) throw new Error(`LandingZone auth.issuer: the edge proxies validate tokens of an issuer the landing zone cannot create on Azure. Fix: set auth.issuer (and auth.audiences)`);
  return { issuer };
}
