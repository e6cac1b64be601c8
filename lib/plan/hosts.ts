/**
 * What the VM (iaas) and managed-platform (paas) service models need on AWS, as pure data both
 * engines read: the Cloud Map registry, the fleet settings of the services' instances, the hosts
 * Logstash runs on outside a cluster, and the names every engine gives a service's resources.
 */
import type { Environment, LandingZoneSpec } from "../spec/types.js";
import { configParameterPath } from "./config-store.js";
import { AWS_DATABASE_ENV, DATA_ENV, sagaEnvName } from "./data.js";
import { MAX_RULES_PER_LOAD_BALANCER } from "./load-balancers.js";
import { physicalName } from "./naming.js";
import type { LandingZonePlan, ServicePlan } from "./types.js";

/** Service discovery through AWS Cloud Map: one namespace per landing zone, one service per workload. */
export interface DiscoveryPlan {
  readonly implementation: "cloud-map";
  /**
   * `private-dns` (iaas): instances register their IP and port, and a Route 53 private zone answers
   * `<service>.<namespace>` with the healthy ones. `http` (paas): the registry is queried through
   * DiscoverInstances in the namespace each service gets as `SERVICE_DISCOVERY_NAMESPACE`; each
   * service registers its environment's URL, whose host the shared load balancer routes by.
   */
  readonly kind: "private-dns" | "http";
  /** `<environment>.<name>.internal`. */
  readonly namespace: string;
  /** TTL of the A records (private-dns). */
  readonly ttlSeconds: number;
  readonly services: readonly { readonly name: string; readonly hostname: string }[];
}

/** How the services' instances are built and replaced (iaas). */
export interface HostFleetPlan {
  readonly architecture: "x86_64" | "arm64";
  /** Public SSM parameter with the current Amazon Linux 2023 AMI; read at deploy time. */
  readonly amiParameter: string;
  /** 2, so the service's container reaches IMDSv2 through the Docker bridge for its instance role. */
  readonly metadataHopLimit: number;
  /** The termination lifecycle hook during which an instance leaves the registry and drains. */
  readonly terminationHook: { readonly name: string; readonly heartbeatSeconds: number };
  /** Seconds a new instance gets before its load balancer health counts. */
  readonly healthCheckGraceSeconds: number;
  /** Seconds between leaving the registry and stopping the container (record TTL plus in-flight requests). */
  readonly drainSeconds: number;
  /** Minutes a rolling replacement waits for a new instance to report ready. */
  readonly readyTimeoutMinutes: number;
}

/** Logstash on its own small Auto Scaling group, for service models without a cluster to run it. */
export interface LogstashHostsPlan {
  readonly instanceType: string;
  readonly count: number;
  readonly rootVolumeGiB: number;
  readonly architecture: "x86_64" | "arm64";
  readonly amiParameter: string;
  /** JVM heap; about half the instance's memory. */
  readonly heapMiB: number;
}

/** The iaas/paas part of a plan on AWS. */
export interface HostsPlan {
  readonly discovery?: DiscoveryPlan;
  /** iaas only. */
  readonly fleet?: HostFleetPlan;
  /** When logs are aggregated: Logstash drains the Redis buffer from these hosts. */
  readonly logstash?: LogstashHostsPlan;
  /** Days the platform's own logs (instance boot logs, Beanstalk streams) are kept; a CloudWatch Logs value. */
  readonly platformLogRetentionDays: number;
}

const LOGSTASH_HOSTS: Readonly<Record<Environment, { readonly instanceType: string; readonly heapMiB: number }>> = {
  dev: { instanceType: "t3.medium", heapMiB: 1536 },
  prod: { instanceType: "m6i.large", heapMiB: 3072 },
};

/** Environment variable names the hosts' processes read: letters, digits and '_', not starting with a digit. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Graviton families carry a `g` after the generation (m7g, c6gn, t4g). */
export function architectureOf(instanceType: string): "x86_64" | "arm64" {
  return /^[a-z]+\d+g[a-z]*\./.test(instanceType) ? "arm64" : "x86_64";
}

/** The public SSM parameter holding the current Amazon Linux 2023 AMI for an architecture. */
export function amazonLinuxAmiParameter(architecture: "x86_64" | "arm64"): string {
  return `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${architecture}`;
}

/** Spec problems only the hosted models have; the planner reports them with the others. */
export function hostProblems(spec: LandingZoneSpec): string[] {
  if (spec.cloud !== "aws" || spec.tier === "caas") return [];
  const problems: string[] = [];
  if (spec.logging.stack === "elk" && spec.logging.buffer === "none") {
    problems.push(
      `logging.buffer "none" on aws/${spec.tier}: without a cluster, shippers reach Logstash only through the Redis buffer. Fix: set logging.buffer: redis`,
    );
  }
  if (spec.tier === "paas" && spec.bffs.length === 0 && !spec.services.some((s) => s.expose)) {
    problems.push(`services: no service is exposed, but on aws/paas every Beanstalk environment attaches to a gateway load balancer. Fix: set expose: true on at least one service, or add a BFF`);
  }
  if (spec.tier === "paas") {
    spec.bffs.forEach((bff, i) => {
      if (bff.routes.length >= MAX_RULES_PER_LOAD_BALANCER) {
        problems.push(
          `bffs[${i}].routes: ${bff.routes.length} routes, but on aws/paas a BFF's environment and all its routes share one load balancer, which is given ${MAX_RULES_PER_LOAD_BALANCER} rules with the environment's own. Fix: give ${bff.name} at most ${MAX_RULES_PER_LOAD_BALANCER - 1} routes`,
        );
      }
    });
  }
  spec.services.forEach((service, i) => {
    for (const key of Object.keys(service.config)) {
      if (!ENV_NAME.test(key)) problems.push(`services[${i}].config: key "${key}" is not an environment variable name on aws/${spec.tier}. Fix: use letters, digits and '_' only`);
    }
  });
  for (const key of Object.keys(spec.config.values)) {
    if (!ENV_NAME.test(key)) problems.push(`config.values: key "${key}" is not an environment variable name on aws/${spec.tier}. Fix: use letters, digits and '_' only`);
  }
  return problems;
}

/** The hosted models' plan section, or undefined on caas and other clouds. */
export function planHosts(spec: LandingZoneSpec, vmInstanceType: string): HostsPlan | undefined {
  if (spec.cloud !== "aws" || spec.tier === "caas") return undefined;
  const prod = spec.environment === "prod";
  const namespace = `${spec.environment}.${spec.name}.internal`;
  const workloads = [...spec.services.map((s) => s.name), ...spec.bffs.map((b) => b.name)];
  const discovery: DiscoveryPlan | undefined =
    spec.discovery.enabled && workloads.length > 0
      ? {
          implementation: "cloud-map",
          kind: spec.tier === "iaas" ? "private-dns" : "http",
          namespace,
          ttlSeconds: 10,
          services: workloads.map((name) => ({ name, hostname: `${name}.${namespace}` })),
        }
      : undefined;
  const fleetArchitecture = architectureOf(vmInstanceType);
  const fleet: HostFleetPlan | undefined =
    spec.tier === "iaas"
      ? {
          architecture: fleetArchitecture,
          amiParameter: amazonLinuxAmiParameter(fleetArchitecture),
          metadataHopLimit: 2,
          terminationHook: { name: "msa-deregister", heartbeatSeconds: 120 },
          healthCheckGraceSeconds: 300,
          drainSeconds: 30,
          readyTimeoutMinutes: 15,
        }
      : undefined;
  const logstashSize = LOGSTASH_HOSTS[spec.environment];
  const logstashArchitecture = architectureOf(logstashSize.instanceType);
  const logstash: LogstashHostsPlan | undefined =
    spec.logging.stack === "elk"
      ? {
          instanceType: logstashSize.instanceType,
          count: prod ? 2 : 1,
          rootVolumeGiB: 30,
          architecture: logstashArchitecture,
          amiParameter: amazonLinuxAmiParameter(logstashArchitecture),
          heapMiB: logstashSize.heapMiB,
        }
      : undefined;
  return {
    ...(discovery ? { discovery } : {}),
    ...(fleet ? { fleet } : {}),
    ...(logstash ? { logstash } : {}),
    platformLogRetentionDays: prod ? 365 : 30,
  };
}

/** Physical names of one hosted service's resources, identical in both engines. */
export interface HostedServiceNames {
  /** Auto Scaling group (iaas). */
  readonly autoScalingGroup: string;
  /** Elastic Beanstalk environment, 4-40 characters (paas). */
  readonly environment: string;
  /** Prefix of the environment's CNAME; engines append the account id, since CNAMEs are unique per region across accounts. */
  readonly cnamePrefixBase: string;
  /** Cloud Map service. */
  readonly discoveryService: string;
  /** Parameter Store path of the service's configuration, ending in '/'. */
  readonly configPath: string;
  /** CloudWatch log group of the instances' boot output (iaas). */
  readonly bootLogGroup: string;
}

export function hostedServiceNames(plan: Pick<LandingZonePlan, "name" | "environment">, service: Pick<ServicePlan, "name">): HostedServiceNames {
  const environment = physicalName("cluster", plan.name, plan.environment, service.name);
  return {
    autoScalingGroup: physicalName("stack", plan.name, plan.environment, service.name),
    environment: environment.length >= 4 ? environment : `${environment}-env`,
    cnamePrefixBase: environment,
    discoveryService: service.name,
    configPath: configParameterPath(plan.name, plan.environment, service.name),
    bootLogGroup: `/msa/${plan.name}/${plan.environment}/${service.name}/boot`,
  };
}

/** The landing zone's CloudWatch metrics namespace (the VMs' CloudWatch agent writes there). */
export function metricsNamespace(plan: { readonly name: string; readonly environment: string }): string {
  return `MSA/${plan.name}/${plan.environment}`;
}

/**
 * The Elastic Beanstalk enhanced-health metrics a monitored environment publishes to CloudWatch
 * (namespace AWS/ElasticBeanstalk, dimension EnvironmentName); latencies are in seconds.
 */
export const BEANSTALK_ENVIRONMENT_METRICS = [
  "ApplicationRequestsTotal",
  "ApplicationRequests4xx",
  "ApplicationRequests5xx",
  "ApplicationLatencyP50",
  "ApplicationLatencyP99",
  "InstancesOk",
  "InstancesDegraded",
  "InstancesSevere",
] as const;

/** Name of the Elastic Beanstalk application holding every environment of the landing zone. */
export function beanstalkApplicationName(plan: Pick<LandingZonePlan, "name" | "environment">): string {
  return physicalName("stack", plan.name, plan.environment);
}

/** `TOPIC_ORDER_PLACED_ARN`, `QUEUE_PAYMENTS_ORDER_PLACED_ARN`: the names caas gives them too. */
export function messagingEnvName(kind: "TOPIC" | "QUEUE", name: string): string {
  return `${kind}_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_ARN`;
}

/** Non-secret variables every hosted service gets besides its configuration. */
export function hostedServiceEnvironment(service: ServicePlan): Record<string, string> {
  return { SERVICE_NAME: service.name, PORT: String(service.port) };
}

/** Environment variable naming the Cloud Map HTTP namespace a paas service looks the others up in (DiscoverInstances). */
export const DISCOVERY_NAMESPACE_ENV = "SERVICE_DISCOVERY_NAMESPACE";

/** `SERVICE_DISCOVERY_NAMESPACE` on paas with discovery, where callers query the registry by namespace and service name; nothing otherwise. */
export function discoveryNamespaceEnvironment(plan: Pick<LandingZonePlan, "hosts">): Record<string, string> {
  const discovery = plan.hosts?.discovery;
  return discovery?.kind === "http" ? { [DISCOVERY_NAMESPACE_ENV]: discovery.namespace } : {};
}

/**
 * Names of the variables telling a service where its own data is (its database, read model, event
 * store and saga command queues), as both engines' service data sets them.
 */
export function serviceDataEnvNames(plan: Pick<LandingZonePlan, "sagas">, service: ServicePlan): string[] {
  const database = service.database;
  return [
    ...(database ? Object.values(AWS_DATABASE_ENV[database.port > 0 ? "relational" : "table"]) : []),
    ...(service.readModel ? [DATA_ENV.readModelTable] : []),
    ...(service.eventStore ? [DATA_ENV.eventStore] : []),
    ...plan.sagas
      .filter((saga) => saga.mode === "orchestration" && saga.commandQueues.some((q) => q.service === service.name))
      .flatMap((saga) => [sagaEnvName(saga.name, "COMMAND_QUEUE_URL"), ...(saga.initiator === service.name ? [sagaEnvName(saga.name, "STATE_MACHINE_ARN")] : [])]),
  ];
}

/**
 * Instances a one-at-a-time rolling replacement keeps in service: `replicas.min`, but below
 * `replicas.max`, since with min == max no instance could otherwise leave.
 */
export function rollingMinInService(replicas: { readonly min: number; readonly max: number }): number {
  return Math.min(replicas.min, replicas.max - 1);
}

/** Lists the service's configuration: landing-zone values then its own, as the plan merged them. */
export function configEntries(service: ServicePlan): [key: string, value: string][] {
  return Object.entries(service.config).sort(([a], [b]) => a.localeCompare(b));
}
