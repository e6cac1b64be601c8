import { parseSpec } from "../spec/parse.js";
import type { LandingZoneInput } from "../spec/schema.js";
import type { LandingZoneSpec } from "../spec/types.js";
import { planAuth } from "./auth.js";
import { azureDeliveryProblems, planAzureDelivery } from "./azure-delivery.js";
import { azureIaasAddressProblems } from "./azure-discovery.js";
import { edgeProxyProblems, planEdgeProxy } from "./edge-proxy.js";
import { planConfigStore } from "./config-store.js";
import { planMonitoring } from "./monitoring.js";
import { BROKER_IMPLEMENTATION, BROKER_OPTIONS, CATALOG, ENGINE_SUPPORT, engineSupports } from "./catalog.js";
import { allocateSubnets } from "./cidr.js";
import { databaseSpecOf, dataPatternProblems, planDatabase, planEventStore, planReadModel } from "./data.js";
import { planTopicStacks, subscriptionName, topicStackProblems } from "./messaging.js";
import { deliveryProblems, planDelivery } from "./delivery.js";
import { planFrontends } from "./frontends.js";
import { hostProblems, planHosts } from "./hosts.js";
import { planLogCluster } from "./log-cluster.js";
import { gatewayLoadBalancerSubnets, placeGatewayRoutes } from "./load-balancers.js";
import { physicalName } from "./naming.js";
import { planSagas, sagaEventsOf, type SagaPlan } from "./saga.js";
import { SIZING, VERSIONS } from "./sizing.js";
import { tracingProblems } from "./tracing.js";
import { centralCollectorProblems, planCollectorEndpoint } from "./trace-collector.js";
import { endpointsProxyProblems, planEndpointsProxy } from "./endpoints-proxy.js";
import type {
  BrokerPlan,
  Capability,
  CapabilityDecision,
  Engine,
  GatewayPlan,
  LandingZonePlan,
  LogPipelinePlan,
  MeshPlan,
  RedisPlan,
  ServicePlan,
  TracingPlan,
} from "./types.js";

/** A spec that is valid but asks for something the chosen cloud, tier or engine does not provide. */
export class PlanError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(["Cannot plan this landing zone:", ...problems.map((p) => `  - ${p}`)].join("\n"));
    this.name = "PlanError";
    this.problems = problems;
  }
}

export interface PlanOptions {
  /** Check that this engine implements every requested capability. Default: no engine check. */
  readonly engine?: Engine;
}

/** Capabilities a spec asks for, each with the spec key that asked. */
export function requestedCapabilities(spec: LandingZoneSpec): Map<Capability, string> {
  const asked = new Map<Capability, string>([
    ["network", "network"],
    ["compute", "tier"],
    ["gateway", "gateway"],
  ]);
  const ask = (capability: Capability, key: string, when: boolean) => when && asked.set(capability, key);
  const services = spec.services;
  ask("registry", "services", services.length > 0 || spec.bffs.length > 0);
  ask("bff", "bffs", spec.bffs.length > 0);
  ask("discovery", "discovery.enabled", spec.discovery.enabled && services.length > 0);
  ask("config", "config", Object.keys(spec.config.values).length > 0 || services.some((s) => Object.keys(s.config).length > 0 || s.secrets.length > 0));
  ask("sessions", "auth.sessions", spec.auth.sessions !== "none");
  ask("tokens", "gateway.auth", spec.gateway.auth === "jwt");
  ask("authService", "gateway.auth", spec.gateway.auth === "authorizer");
  ask("mesh", "mesh.kind", spec.mesh.kind === "istio");
  ask("monitoring", "monitoring", spec.monitoring.dashboards || spec.monitoring.alarms);
  ask("tracing", "tracing.backend", spec.tracing.backend !== "none");
  ask("logging", "logging.stack", spec.logging.stack === "elk");
  ask("broker", "services[].publishes", services.some((s) => s.publishes.length > 0));
  if (!asked.has("broker")) ask("broker", "sagas[].mode", spec.sagas.some((s) => s.mode === "choreography"));
  // On an existing cluster, event stores are Kafka topics.
  if (!asked.has("broker")) ask("broker", "services[].eventSourced", spec.cloud === "kubernetes" && services.some((s) => s.eventSourced));
  ask("database", "services[].database", services.some((s) => databaseSpecOf(spec, s) !== undefined));
  ask("saga", "sagas", spec.sagas.length > 0);
  ask("readModel", "services[].readModel", services.some((s) => s.readModel !== undefined));
  ask("eventStore", "services[].eventSourced", services.some((s) => s.eventSourced));
  ask("pipeline", "pipelines.perService", spec.pipelines.perService && services.length > 0);
  ask("frontends", "frontends", spec.frontends !== undefined);
  return asked;
}

/**
 * Decides, for every capability the spec asks for, which implementation it gets on the spec's
 * cloud and tier, with sizing and settings. Pure: no engine is loaded.
 */
export function planLandingZone(input: LandingZoneInput | LandingZoneSpec, options: PlanOptions = {}): LandingZonePlan {
  // Normalization is idempotent, so an already-normalized spec passes through unchanged.
  const spec = parseSpec(input);
  const { cloud, tier, environment } = spec;
  const problems: string[] = [];
  const asked = requestedCapabilities(spec);

  for (const [capability, key] of asked) {
    if (CATALOG[cloud][capability][tier] === undefined) {
      const offered = (["iaas", "caas", "paas"] as const).filter((t) => CATALOG[cloud][capability][t] !== undefined);
      problems.push(
        `${capability} (asked by ${key}) is not offered on ${cloud}/${tier}` +
          (offered.length > 0 ? `; it is on ${offered.map((t) => `${cloud}/${t}`).join(", ")}` : "") +
          (capability === "compute" ? `. Fix: set tier to ${offered.join(" or ")}` : `. Fix: turn ${key} off or change tier`),
      );
    } else if (options.engine && !engineSupports(options.engine, cloud, tier, capability)) {
      problems.push(`${capability} (asked by ${key}) is not supported yet on ${cloud}/${tier} by the ${options.engine} engine. ${supportHint(options.engine, capability)}`);
    }
  }

  const brokerChoice = spec.messaging.broker === "auto" ? BROKER_OPTIONS[cloud][0]! : spec.messaging.broker;
  if (asked.has("broker") && !BROKER_OPTIONS[cloud].includes(brokerChoice)) {
    problems.push(`messaging.broker "${brokerChoice}" is not offered on ${cloud}. Fix: use one of ${BROKER_OPTIONS[cloud].join(", ")} or auto`);
  }
  problems.push(...dataPatternProblems(spec));
  problems.push(...hostProblems(spec));
  problems.push(...tracingProblems(spec));
  problems.push(...edgeProxyProblems(spec));
  problems.push(...endpointsProxyProblems(spec));
  problems.push(...centralCollectorProblems(spec));
  if (spec.tracing.backend === "xray" && cloud !== "aws") {
    problems.push(`tracing.backend "xray" exists only on aws. Fix: use zipkin, jaeger or cloud`);
  }
  if (problems.length > 0) throw new PlanError(problems);

  const sizing = SIZING[cloud][environment];
  const prod = environment === "prod";
  const decisions: CapabilityDecision[] = [];
  const decide = (capability: Capability, implementation: string, settings: CapabilityDecision["settings"] = {}, dependsOn: Capability[] = []) => {
    if (asked.has(capability)) decisions.push({ capability, implementation, settings, dependsOn });
  };
  const impl = (capability: Capability) => CATALOG[cloud][capability][tier]!;

  const subnets = allocateSubnets(spec.network.cidr, spec.network.zones);
  const network = {
    cidr: spec.network.cidr,
    availabilityZones: spec.network.availabilityZones,
    subnets,
    natGateways: spec.network.natGateways,
    flowLogs: spec.network.flowLogs,
    flowLogRetentionDays: prod ? 365 : 30,
    podsCidr: spec.network.podsCidr,
    servicesCidr: spec.network.servicesCidr,
  };
  decide("network", impl("network"), { cidr: network.cidr, zones: network.availabilityZones.length, natGateways: network.natGateways, flowLogs: network.flowLogs });

  const cluster =
    tier === "caas"
      ? {
          name: physicalName("cluster", spec.name, environment),
          kubernetesVersion: VERSIONS.kubernetes,
          nodeInstanceType: sizing.clusterNode.type,
          minNodes: sizing.clusterNode.min,
          desiredNodes: sizing.clusterNode.desired,
          maxNodes: sizing.clusterNode.max,
          nodeDiskGiB: sizing.clusterNode.diskGiB,
          namespace: physicalName("kubernetes", spec.name),
          privateEndpoint: prod,
        }
      : undefined;
  const vms = tier === "iaas" ? { instanceType: sizing.vm.type, rootVolumeGiB: sizing.vm.rootVolumeGiB } : undefined;
  const paas = tier === "paas" ? { platform: cloud === "aws" ? VERSIONS.elasticBeanstalkDocker : "docker", instanceType: sizing.paas.type } : undefined;
  const hosts = planHosts(spec, sizing.vm.type);
  decide(
    "compute",
    impl("compute"),
    cluster
      ? { version: cluster.kubernetesVersion, nodeType: cluster.nodeInstanceType, nodes: `${cluster.minNodes}-${cluster.maxNodes}` }
      : vms
        ? { instanceType: vms.instanceType }
        : { platform: paas!.platform, instanceType: paas!.instanceType },
    ["network"],
  );

  const sagas = planSagas(spec);
  const services = planServices(spec, sagas);
  decide("registry", impl("registry"), { repositories: services.length, scanOnPush: true }, ["compute"]);
  decide("bff", impl("bff"), { bffs: spec.bffs.map((b) => `${b.name}(${b.channel})`).join(", ") }, ["gateway"]);
  decide("discovery", impl("discovery"), {}, ["compute"]);
  decide("config", impl("config"), { keys: Object.keys(spec.config.values).length }, ["compute"]);

  const owners = services.map((s) => ({
    name: s.name,
    routes: s.expose ? (s.kind === "bff" ? spec.bffs.find((b) => b.name === s.name)!.routes : [s.path]).map((path) => ({ path, target: s.name, port: s.port, kind: s.kind })) : [],
  }));
  const loadBalancers = placeGatewayRoutes(owners, { hostRulePerEnvironment: cloud === "aws" && tier === "paas" });
  const gateway: GatewayPlan = {
    implementation: impl("gateway"),
    routes: loadBalancers.flatMap((lb) => lb.routes),
    loadBalancers,
    loadBalancerSubnets: gatewayLoadBalancerSubnets(cloud, tier),
    auth: spec.gateway.auth,
    ...(spec.auth.service ? { authService: spec.auth.service } : {}),
    waf: spec.gateway.waf,
    rateLimit: spec.gateway.rateLimit,
    accessLogs: spec.gateway.accessLogs,
    accessLogRetentionDays: prod ? 365 : 30,
  };
  decide("gateway", gateway.implementation, { routes: gateway.routes.length, loadBalancers: gateway.loadBalancers.length, auth: gateway.auth, waf: gateway.waf, rps: gateway.rateLimit.requestsPerSecond }, ["network", "compute"]);
  decide("tokens", impl("tokens"), { validatedAt: "gateway" }, ["gateway"]);
  decide("authService", impl("authService"), { service: spec.auth.service ?? "" }, ["gateway"]);

  const redis = (implementation: string, engine: "redis" | "memcached"): RedisPlan => ({
    implementation,
    engine,
    engineVersion: VERSIONS.redis,
    nodeType: sizing.redis.nodeType,
    memoryGiB: sizing.redis.memoryGiB,
    replicas: sizing.redis.replicas,
    multiAz: prod && spec.network.zones > 1,
    port: 6379,
    snapshotRetentionDays: prod ? 7 : 0,
  });
  const sessions = spec.auth.sessions !== "none" ? redis(impl("sessions"), spec.auth.sessions === "memcached" ? "memcached" : "redis") : undefined;
  if (sessions) decide("sessions", sessions.implementation, { engine: sessions.engine, nodeType: sessions.nodeType, replicas: sessions.replicas, multiAz: sessions.multiAz, tls: true }, ["network"]);

  const logCluster = spec.logging.stack === "elk" ? planLogCluster({ cloud, tier, name: spec.name, environment }) : undefined;
  const logging: LogPipelinePlan | undefined =
    spec.logging.stack === "elk"
      ? {
          implementation: impl("logging"),
          shipper: spec.logging.shipper,
          ...(spec.logging.buffer === "redis" ? { buffer: { ...redis("log-buffer-redis", "redis"), snapshotRetentionDays: 0 } } : {}),
          search: {
            implementation: cloud === "aws" ? "opensearch" : "elasticsearch-eck",
            engineVersion: cloud === "aws" ? VERSIONS.opensearch : VERSIONS.elasticsearch,
            instanceType: sizing.search.type,
            instanceCount: sizing.search.count,
            dedicatedMasters: sizing.search.masters,
            masterInstanceType: sizing.search.masterType,
            volumeGiB: sizing.search.volumeGiB,
            zoneAwareness: sizing.search.count > 1,
          },
          logstashReplicas: sizing.logstashReplicas,
          bufferKey: "logs",
          retentionDays: spec.logging.retentionDays,
          namespace: "logging",
          ...(logCluster ? { cluster: logCluster } : {}),
        }
      : undefined;
  if (logging) {
    decide("logging", logging.implementation, { shipper: logging.shipper, buffer: logging.buffer ? "redis" : "none", search: `${logging.search.instanceCount}× ${logging.search.instanceType}`, logstash: logging.logstashReplicas }, ["network", "compute"]);
  }

  const broker = asked.has("broker") ? planBroker(spec, BROKER_IMPLEMENTATION[cloud][brokerChoice]!, sagas) : undefined;
  if (options.engine === "cdk" && broker?.topicStacks) {
    const tooLarge = topicStackProblems(spec.name, spec.environment, broker.topics.map((t) => t.event), spec.messaging.topicStacks);
    if (tooLarge.length > 0) throw new PlanError(tooLarge);
  }
  if (broker) decide("broker", broker.implementation, { topics: broker.topics.length, queues: broker.topics.reduce((n, t) => n + t.subscriptions.length, 0), maxReceiveCount: broker.maxReceiveCount, ...(broker.topicStacks && broker.topicStacks.length > 1 ? { topicStacks: broker.topicStacks.length } : {}) }, ["network"]);

  const mesh: MeshPlan | undefined =
    spec.mesh.kind === "istio"
      ? { implementation: "istio", version: VERSIONS.istio, mtls: spec.mesh.mtls, circuitBreaker: spec.mesh.circuitBreaker, retries: spec.mesh.retries, timeoutSeconds: spec.mesh.timeoutSeconds }
      : undefined;
  if (mesh) decide("mesh", "istio", { version: mesh.version, mtls: mesh.mtls, consecutiveErrors: mesh.circuitBreaker.consecutiveErrors, ejectSeconds: mesh.circuitBreaker.ejectSeconds }, ["compute"]);

  const tracing: TracingPlan | undefined =
    spec.tracing.backend !== "none"
      ? {
          implementation: impl("tracing"),
          backend: spec.tracing.backend,
          samplingRate: spec.tracing.samplingRate,
          collectorEndpoint: planCollectorEndpoint(spec, network),
        }
      : undefined;
  if (tracing) decide("tracing", tracing.implementation, { backend: tracing.backend, sampling: tracing.samplingRate }, ["compute"]);
  decide("monitoring", impl("monitoring"), { dashboards: spec.monitoring.dashboards, alarms: spec.monitoring.alarms }, ["compute"]);
  const configStore = asked.has("config") ? planConfigStore(spec, services, impl("config")) : undefined;
  const auth = planAuth(spec, services);
  const edgeProxy = planEdgeProxy(spec, services);
  const endpointsProxy = planEndpointsProxy(spec, services);
  const monitoring = asked.has("monitoring") ? planMonitoring(spec, services, gateway, impl("monitoring")) : undefined;

  const databases = services.filter((s) => s.database);
  if (databases.length > 0) decide("database", impl("database"), { databases: databases.map((s) => `${s.name}:${s.database!.implementation}`).join(", ") }, ["network"]);
  decide("saga", impl("saga"), { sagas: spec.sagas.map((s) => `${s.name}(${s.mode})`).join(", ") }, ["broker"]);
  decide("readModel", impl("readModel"), { readModels: services.filter((s) => s.readModel).map((s) => s.name).join(", ") }, ["broker"]);
  decide("eventStore", impl("eventStore"), { services: services.filter((s) => s.eventStore).map((s) => s.name).join(", ") }, ["broker"]);
  const delivery = asked.has("pipeline") ? planDelivery(spec, services, impl("pipeline"), cluster?.namespace ?? spec.name) : undefined;
  const frontends = asked.has("frontends") ? planFrontends(spec, impl("frontends")) : { problems: [] };
  const azureDelivery = delivery ? planAzureDelivery(spec, delivery, cluster?.name) : undefined;
  const buildProblems = [...(options.engine && delivery ? [...deliveryProblems(delivery), ...azureDeliveryProblems(spec, delivery)] : []), ...frontends.problems, ...azureIaasAddressProblems({ cloud, tier, environment, network, services, decisions, logging })];
  if (buildProblems.length > 0) throw new PlanError(buildProblems);
  if (delivery) decide("pipeline", delivery.implementation, { pipelines: delivery.services.length, provider: delivery.provider, approval: delivery.services.some((s) => s.approval) }, ["registry"]);
  if (frontends.plan) decide("frontends", frontends.plan.implementation, { shell: frontends.plan.shell.name, fragments: frontends.plan.fragments.length, apiRoutes: frontends.plan.apiRoutes.length, waf: frontends.plan.waf }, ["gateway"]);

  return {
    spec,
    name: spec.name,
    cloud,
    tier,
    environment,
    region: spec.region,
    decisions,
    network,
    ...(cluster ? { cluster } : {}),
    ...(vms ? { vms } : {}),
    ...(paas ? { paas } : {}),
    ...(hosts ? { hosts } : {}),
    gateway,
    ...(sessions ? { sessions } : {}),
    ...(logging ? { logging } : {}),
    ...(broker ? { broker } : {}),
    ...(mesh ? { mesh } : {}),
    ...(tracing ? { tracing } : {}),
    sagas,
    ...(configStore ? { configStore } : {}),
    ...(auth ? { auth } : {}),
    ...(edgeProxy ? { edgeProxy } : {}),
    ...(endpointsProxy ? { endpointsProxy } : {}),
    ...(monitoring ? { monitoring } : {}),
    services,
    ...(delivery ? { delivery } : {}),
    ...(azureDelivery ? { azureDelivery } : {}),
    ...(frontends.plan ? { frontends: frontends.plan } : {}),
    protection: { retain: spec.retainData, deletionProtection: spec.retainData, backupRetentionDays: prod ? 14 : 1 },
    tags: { "msa:landing-zone": spec.name, "msa:environment": environment, ...spec.tags },
  };
}

function planServices(spec: LandingZoneSpec, sagas: readonly SagaPlan[]): ServicePlan[] {
  const prod = spec.environment === "prod";
  const services: ServicePlan[] = spec.services.map((s) => {
    const repository = physicalName("kubernetes", spec.name, s.name);
    const database = planDatabase(spec, s);
    const readModel = planReadModel(spec, s);
    const eventStore = planEventStore(spec, s);
    // Choreographed sagas add the events each step publishes and reacts to.
    const sagaEvents = sagaEventsOf(sagas, s.name);
    return {
      name: s.name,
      kind: "service" as const,
      image: s.image ?? `${repository}:latest`,
      repository,
      port: s.port,
      expose: s.expose,
      path: s.path,
      healthPath: s.healthPath,
      replicas: s.replicas,
      cpuMillicores: s.cpu,
      memoryMiB: s.memory,
      ...(database ? { database } : {}),
      publishes: [...s.publishes, ...sagaEvents.publishes],
      subscribes: [...s.subscribes, ...sagaEvents.subscribes],
      ...(readModel ? { readModel } : {}),
      ...(eventStore ? { eventStore } : {}),
      config: { ...spec.config.values, ...s.config },
      secrets: s.secrets,
    };
  });
  const bffs: ServicePlan[] = spec.bffs.map((b) => {
    const repository = physicalName("kubernetes", spec.name, b.name);
    return {
      name: b.name,
      kind: "bff" as const,
      channel: b.channel,
      image: b.image ?? `${repository}:latest`,
      repository,
      port: b.port,
      expose: true,
      path: b.routes[0]!,
      healthPath: "/health",
      replicas: prod ? { min: 2, max: 6 } : { min: 1, max: 2 },
      cpuMillicores: 250,
      memoryMiB: 512,
      publishes: [],
      subscribes: [],
      config: { ...spec.config.values },
      secrets: [],
    };
  });
  return [...services, ...bffs];
}

function planBroker(spec: LandingZoneSpec, implementation: string, sagas: readonly SagaPlan[]): BrokerPlan {
  const sagaEvents = sagas.flatMap((s) => s.events);
  const events = [...new Set([...spec.services.flatMap((s) => s.publishes), ...sagaEvents.map((e) => e.event)])].sort();
  const readModelSubscriptions = (event: string) =>
    spec.services.filter((s) => s.readModel && spec.services.some((src) => s.readModel!.from.includes(src.name) && src.publishes.includes(event))).map((s) => s.name);
  const topics = events.map((event) => {
    const sagaEvent = sagaEvents.filter((e) => e.event === event);
    const subscribers = [
      ...new Set([...spec.services.filter((s) => s.subscribes.includes(event)).map((s) => s.name), ...readModelSubscriptions(event), ...sagaEvent.flatMap((e) => e.subscribers)]),
    ];
    return {
      event,
      publishers: [...new Set([...spec.services.filter((s) => s.publishes.includes(event)).map((s) => s.name), ...sagaEvent.map((e) => e.publisher)])],
      subscriptions: subscribers.map((subscriber) => ({ subscriber, name: subscriptionName(subscriber, event) })),
    };
  });
  const sizing = SIZING[spec.cloud][spec.environment];
  return {
    implementation,
    topics,
    ...(implementation === "sns-sqs" ? { topicStacks: planTopicStacks(spec.name, spec.environment, events, spec.messaging.topicStacks) } : {}),
    maxReceiveCount: spec.messaging.maxReceiveCount,
    retentionDays: spec.messaging.retentionDays,
    ...(implementation === "msk" || implementation === "strimzi-kafka"
      ? { kafka: { version: VERSIONS.kafka, brokerNodes: spec.network.zones, instanceType: sizing.kafka.type, volumeGiB: sizing.kafka.volumeGiB } }
      : {}),
  };
}

function supportHint(engine: Engine, capability: Capability): string {
  const targets = Object.entries(ENGINE_SUPPORT[engine]).flatMap(([cloud, support]) => (support?.[capability] ?? []).map((tier) => `${cloud}/${tier}`));
  return targets.length > 0
    ? `Fix: turn that key off, or use a target where this engine builds ${capability} (${targets.join(", ")}).`
    : `Fix: turn that key off; the ${engine} engine does not build ${capability} anywhere yet.`;
}
