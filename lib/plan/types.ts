import type { Cloud, DatabaseEngine, Environment, LandingZoneSpec, Tier } from "../spec/types.js";
import type { AzureDeliveryPlan } from "./azure-delivery.js";
import type { DeliveryPlan } from "./delivery.js";
import type { FrontendsPlan } from "./frontends.js";
import type { AuthPlan } from "./auth.js";
import type { EdgeProxyPlan } from "./edge-proxy.js";
import type { EndpointsProxyPlan } from "./endpoints-proxy.js";
import type { ConfigStorePlan } from "./config-store.js";
import type { MonitoringPlan } from "./monitoring.js";
import type { SagaPlan } from "./saga.js";
import type { HostsPlan } from "./hosts.js";

export type Engine = "cdk" | "pulumi";

/**
 * The tiers in which an engine implements each capability on one cloud; one line per capability,
 * so work on different capabilities never touches the same line.
 */
export type CloudSupport = Readonly<Partial<Record<Capability, readonly Tier[]>>>;
/** Capabilities an engine implements per cloud and tier. */
export type EngineSupport = Readonly<Partial<Record<Cloud, CloudSupport>>>;

export const CAPABILITIES = [
  "network",
  "compute",
  "registry",
  "gateway",
  "bff",
  "discovery",
  "config",
  "sessions",
  "tokens",
  "authService",
  "mesh",
  "monitoring",
  "tracing",
  "logging",
  "broker",
  "database",
  "saga",
  "readModel",
  "eventStore",
  "pipeline",
  "frontends",
] as const;

export type Capability = (typeof CAPABILITIES)[number];

/** A printable decision: which implementation a capability gets, and the settings that matter. */
export interface CapabilityDecision {
  readonly capability: Capability;
  readonly implementation: string;
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  readonly dependsOn: readonly Capability[];
}

export interface NetworkPlan {
  readonly cidr: string;
  readonly availabilityZones: readonly string[];
  readonly subnets: {
    readonly public: readonly string[];
    readonly private: readonly string[];
    readonly isolated: readonly string[];
  };
  readonly natGateways: number;
  readonly flowLogs: boolean;
  readonly flowLogRetentionDays: number;
  readonly podsCidr: string;
  readonly servicesCidr: string;
}

export interface ClusterPlan {
  readonly name: string;
  readonly kubernetesVersion: string;
  /** Cloud-specific node machine type (EC2 instance type, GCE machine type, Azure VM size). */
  readonly nodeInstanceType: string;
  readonly minNodes: number;
  readonly desiredNodes: number;
  readonly maxNodes: number;
  readonly nodeDiskGiB: number;
  /** Kubernetes namespace holding the services' workloads. */
  readonly namespace: string;
  /** API server reachable only from inside the network. */
  readonly privateEndpoint: boolean;
}

export interface VmPlan {
  readonly instanceType: string;
  readonly rootVolumeGiB: number;
}

export interface PaasPlan {
  /** Elastic Beanstalk solution stack / App Service runtime / App Engine runtime. */
  readonly platform: string;
  readonly instanceType: string;
}

export interface RoutePlan {
  /** Path prefix at the gateway. */
  readonly path: string;
  /** Service or BFF the route reaches. */
  readonly target: string;
  readonly port: number;
  readonly kind: "service" | "bff";
  /** Listener-rule priority, unique within its load balancer and stable as services are appended. */
  readonly priority: number;
}

/** One internal load balancer behind the gateway; routes are split so no listener passes its rule quota. */
export interface LoadBalancerPlan {
  /** 0-based; the first is `<zone>-<env>-lb` and later ones add their index. */
  readonly index: number;
  readonly routes: readonly RoutePlan[];
  /**
   * aws/paas: the services and BFFs whose Elastic Beanstalk environments attach to this load balancer
   * (exposed or not), each with a host rule of Beanstalk's; their routes are all here too.
   */
  readonly environments?: readonly string[];
}

/** The subnet group of the AWS gateway's internal load balancers: `public` holds no workload, `private` holds the workloads. */
export type GatewayLoadBalancerSubnets = "public" | "private";

export interface GatewayPlan {
  readonly implementation: string;
  readonly routes: readonly RoutePlan[];
  /** Routes split across internal load balancers, at most MAX_RULES_PER_LOAD_BALANCER rules each (`placeGatewayRoutes`). */
  readonly loadBalancers: readonly LoadBalancerPlan[];
  /** Subnets the internal load balancers sit in (AWS), from {@link gatewayLoadBalancerSubnets}. */
  readonly loadBalancerSubnets: GatewayLoadBalancerSubnets;
  readonly auth: "none" | "jwt" | "authorizer";
  readonly authService?: string;
  readonly waf: boolean;
  readonly rateLimit: { readonly requestsPerSecond: number; readonly burst: number };
  readonly accessLogs: boolean;
  readonly accessLogRetentionDays: number;
}

export interface RedisPlan {
  readonly implementation: string;
  readonly engine: "redis" | "memcached";
  readonly engineVersion: string;
  /** Cloud-specific node type / SKU. */
  readonly nodeType: string;
  /** Memory for clouds sized in GiB (Memorystore). */
  readonly memoryGiB: number;
  readonly replicas: number;
  readonly multiAz: boolean;
  readonly port: number;
  readonly snapshotRetentionDays: number;
}

export interface SearchPlan {
  readonly implementation: string;
  readonly engineVersion: string;
  readonly instanceType: string;
  readonly instanceCount: number;
  readonly dedicatedMasters: number;
  readonly masterInstanceType: string;
  readonly volumeGiB: number;
  readonly zoneAwareness: boolean;
}

export interface LogPipelinePlan {
  readonly implementation: string;
  readonly shipper: "fluent-bit" | "filebeat";
  readonly buffer?: RedisPlan;
  readonly search: SearchPlan;
  readonly logstashReplicas: number;
  /** Redis list key the shippers push to and Logstash pops from. */
  readonly bufferKey: string;
  readonly retentionDays: number;
  readonly namespace: string;
  /** A private cluster of its own running the pipeline, where the services have none (GCP and Azure iaas/paas). */
  readonly cluster?: ClusterPlan;
}

export interface SubscriptionPlan {
  readonly subscriber: string;
  /** Queue / subscription name: `<subscriber>_<event>`. */
  readonly name: string;
}

export interface TopicPlan {
  readonly event: string;
  readonly publishers: readonly string[];
  readonly subscriptions: readonly SubscriptionPlan[];
}

export interface KafkaPlan {
  readonly version: string;
  readonly brokerNodes: number;
  readonly instanceType: string;
  readonly volumeGiB: number;
}

/** One CloudFormation stack of sns-sqs topics (AWS CDK). */
export interface TopicStackPlan {
  /** 0 is `<zone>-<env>-messaging` and holds the key; the others hold only their topics. */
  readonly index: number;
  readonly stackName: string;
  /** Events whose topic, policy and ARN parameter this stack holds. */
  readonly events: readonly string[];
  /** Resources the stack's template holds. */
  readonly resources: number;
}

export interface BrokerPlan {
  readonly implementation: string;
  readonly topics: readonly TopicPlan[];
  /** sns-sqs only: the stacks the topics are spread over (`messaging.topicStacks`, by a stable hash of the event name). */
  readonly topicStacks?: readonly TopicStackPlan[];
  readonly maxReceiveCount: number;
  readonly retentionDays: number;
  readonly kafka?: KafkaPlan;
}

export interface DatabasePlan {
  readonly engine: DatabaseEngine;
  readonly implementation: string;
  readonly engineVersion: string;
  readonly instanceClass: string;
  readonly storageGiB: number;
  readonly multiAz: boolean;
  readonly backupRetentionDays: number;
  readonly databaseName: string;
  /** Physical name: the RDS instance identifier or DynamoDB table name, `<zone>-<env>-<service>`. */
  readonly identifier: string;
  /** TCP port of a relational engine; 0 for key-value and document stores. */
  readonly port: number;
  /** Administrator, whose generated password lives in the secret store. */
  readonly adminUser: string;
  /** Database user the service connects as with its cloud identity (IAM database authentication). */
  readonly serviceUser: string;
  /** Key-value and document stores: the partition key, and the sort key of documents. */
  readonly partitionKey?: string;
  readonly sortKey?: string;
}

export interface EventStorePlan {
  readonly implementation: string;
  /** Partition key: aggregate id; sort key: sequence number, written conditionally. */
  readonly aggregateKey: string;
  readonly sequenceKey: string;
  /** Attribute naming each event's type; the stream forwards an event to the broker topic of that type. */
  readonly eventTypeAttribute: string;
  /** Attribute holding the event body (JSON text). */
  readonly payloadAttribute: string;
  /** Physical name of the store: DynamoDB table `<zone>-<env>-<service>-events`, or the Kafka topic `<service>.event-store`. */
  readonly name: string;
  /** Events the store's stream forwards to the broker (the service's `publishes`): the stream doubles as the broker. */
  readonly forwards: readonly string[];
}

export interface ReadModelPlan {
  readonly implementation: string;
  readonly sources: readonly string[];
  /** Events of the sources the projection consumes. */
  readonly events: readonly string[];
  /** Physical name of the read store `<zone>-<env>-<service>-read` (a DynamoDB table on AWS). */
  readonly table: string;
  /** Existing cluster: the service's own PostgreSQL database holding the projection (its `database.databaseName`), planned even when the spec declares none. */
  readonly database?: string;
  /** The read service's broker subscriptions (`<service>_<event>`), one per consumed event. */
  readonly subscriptions: readonly string[];
}

export interface ServicePlan {
  readonly name: string;
  /** Container image; default points at the service's registry repository. */
  readonly image: string;
  readonly port: number;
  readonly expose: boolean;
  readonly path: string;
  readonly healthPath: string;
  readonly replicas: { readonly min: number; readonly max: number };
  readonly cpuMillicores: number;
  readonly memoryMiB: number;
  readonly database?: DatabasePlan;
  readonly publishes: readonly string[];
  readonly subscribes: readonly string[];
  readonly readModel?: ReadModelPlan;
  readonly eventStore?: EventStorePlan;
  readonly config: Readonly<Record<string, string>>;
  readonly secrets: readonly string[];
  /** Whether this is a BFF (a service in front of the gateway for one client channel). */
  readonly kind: "service" | "bff";
  readonly channel?: string;
  /** The registry repository name for the image. */
  readonly repository: string;
}

export interface MeshPlan {
  readonly implementation: "istio";
  readonly version: string;
  readonly mtls: "STRICT" | "PERMISSIVE";
  readonly circuitBreaker: {
    readonly consecutiveErrors: number;
    readonly ejectSeconds: number;
    readonly maxEjectionPercent: number;
    readonly maxConnections: number;
    readonly maxPendingRequests: number;
  };
  readonly retries: { readonly attempts: number; readonly perTryTimeoutSeconds: number };
  readonly timeoutSeconds: number;
}

export interface TracingPlan {
  readonly implementation: string;
  readonly backend: "zipkin" | "jaeger" | "xray" | "cloud";
  readonly samplingRate: number;
  /** OTLP endpoint services export to: the cluster's collector Service (caas), the host's collector container (VMs, Beanstalk), the central collector's private address (GCP App Engine). */
  readonly collectorEndpoint: string;
}

export interface ProtectionPlan {
  /** Retain stateful resources when their stack is deleted. */
  readonly retain: boolean;
  readonly deletionProtection: boolean;
  readonly backupRetentionDays: number;
}

/** The whole landing zone as pure data: what both engines build and what `mlz plan` prints. */
export interface LandingZonePlan {
  readonly spec: LandingZoneSpec;
  readonly name: string;
  readonly cloud: Cloud;
  readonly tier: Tier;
  readonly environment: Environment;
  readonly region: string;
  readonly decisions: readonly CapabilityDecision[];
  readonly network: NetworkPlan;
  readonly cluster?: ClusterPlan;
  readonly vms?: VmPlan;
  readonly paas?: PaasPlan;
  /** AWS iaas/paas: Cloud Map registry, instance fleet settings and Logstash hosts. */
  readonly hosts?: HostsPlan;
  readonly gateway: GatewayPlan;
  readonly sessions?: RedisPlan;
  readonly logging?: LogPipelinePlan;
  readonly broker?: BrokerPlan;
  readonly mesh?: MeshPlan;
  readonly tracing?: TracingPlan;
  /** Sagas in spec order (lib/plan/saga.ts). */
  readonly sagas: readonly SagaPlan[];
  /** Parameters and secrets per service (`config`, `services[].config`, `services[].secrets`). */
  readonly configStore?: ConfigStorePlan;
  /** How the gateway checks callers: tokens or a delegated auth service; absent with `gateway.auth: none`. */
  readonly auth?: AuthPlan;
  /** GCP and Azure VMs: the Envoy proxy in front of each exposed service that runs the gateway's checks; absent elsewhere. */
  readonly edgeProxy?: EdgeProxyPlan;
  /** GCP App Engine with `gateway.auth: jwt`: the Extensible Service Proxy beside each exposed service that validates tokens (lib/plan/endpoints-proxy.ts); absent elsewhere. */
  readonly endpointsProxy?: EndpointsProxyPlan;
  readonly monitoring?: MonitoringPlan;
  /** Services and BFFs, in spec order (services first). */
  readonly services: readonly ServicePlan[];
  /** A registry and pipeline per service and BFF, when `pipelines.perService`. */
  readonly delivery?: DeliveryPlan;
  /** Azure with native pipelines: the Azure DevOps pipelines and their deploy identities. */
  readonly azureDelivery?: AzureDeliveryPlan;
  /** The micro-frontends' hosting and CDN routes, when the spec has `frontends`. */
  readonly frontends?: FrontendsPlan;
  readonly protection: ProtectionPlan;
  readonly tags: Readonly<Record<string, string>>;
}
