import type { BROKERS, CLOUDS, DATABASE_ENGINES, ENVIRONMENTS, TIERS, TRACING_BACKENDS } from "./schema.js";

export type Cloud = (typeof CLOUDS)[number];
export type Tier = (typeof TIERS)[number];
export type Environment = (typeof ENVIRONMENTS)[number];
export type DatabaseEngine = (typeof DATABASE_ENGINES)[number];
export type BrokerChoice = (typeof BROKERS)[number];
export type TracingBackend = (typeof TRACING_BACKENDS)[number];

export interface NetworkSpec {
  readonly cidr: string;
  readonly zones: number;
  readonly availabilityZones: readonly string[];
  readonly natGateways: number;
  readonly flowLogs: boolean;
  readonly podsCidr: string;
  readonly servicesCidr: string;
}

export interface GatewaySpec {
  readonly auth: "none" | "jwt" | "authorizer";
  readonly waf: boolean;
  readonly rateLimit: { readonly requestsPerSecond: number; readonly burst: number };
  readonly accessLogs: boolean;
  readonly authorizerCacheSeconds: number;
}

export interface BffSpec {
  readonly name: string;
  readonly channel: string;
  /** Route prefixes the BFF serves; default `/<name>`. */
  readonly routes: readonly string[];
  readonly port: number;
  readonly image?: string;
  /** Source repository name under pipelines.repositoryOwner. */
  readonly repository: string;
}

export interface AuthSpec {
  readonly sessions: "redis" | "memcached" | "none";
  readonly tokens: "jwt" | "none";
  readonly service?: string;
  readonly issuer?: string;
  readonly jwksUri?: string;
  readonly audiences: readonly string[];
}

export interface MessagingSpec {
  readonly broker: BrokerChoice;
  readonly maxReceiveCount: number;
  readonly retentionDays: number;
  /**
   * AWS CDK with sns-sqs: stacks the topics are spread over (`-messaging`, `-messaging-1`, ...), by a
   * stable hash of the event name (`topicStack` in `lib/plan/messaging.ts`), so adding or removing an
   * event never moves another. Changing it on a deployed zone moves most topics to another stack,
   * which deletes and recreates them (new ARNs): stop the publishers, deploy the stacks losing topics
   * first, then the others, then every service stack with `--force` (README, "Many events on AWS CDK").
   * @default 1
   */
  readonly topicStacks: number;
}

export interface LoggingSpec {
  readonly stack: "elk" | "none";
  readonly buffer: "redis" | "none";
  readonly shipper: "fluent-bit" | "filebeat";
  readonly retentionDays: number;
}

export interface TracingSpec {
  readonly backend: TracingBackend;
  readonly samplingRate: number;
}

export interface MonitoringSpec {
  readonly dashboards: boolean;
  readonly alarms: boolean;
  readonly alarmEmail?: string;
  readonly errorRatePercent: number;
  readonly latencyMs: number;
}

export interface CircuitBreakerSpec {
  readonly consecutiveErrors: number;
  readonly ejectSeconds: number;
  readonly maxEjectionPercent: number;
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
}

export interface MeshSpec {
  readonly kind: "istio" | "none";
  readonly mtls: "STRICT" | "PERMISSIVE";
  readonly circuitBreaker: CircuitBreakerSpec;
  readonly retries: { readonly attempts: number; readonly perTryTimeoutSeconds: number };
  readonly timeoutSeconds: number;
}

export interface PipelinesSpec {
  readonly perService: boolean;
  readonly provider: "native" | "github-actions";
  /** Owner/organization of the services' source repositories. */
  readonly repositoryOwner?: string;
  /** Branch whose pushes are built and deployed. */
  readonly branch: string;
  /** AWS CodeConnections connection to the repositories' host; created when absent. */
  readonly connectionArn?: string;
  /** Existing IAM OIDC provider for GitHub Actions; created when absent. */
  readonly githubOidcProviderArn?: string;
  /** Command of the build stage that runs the unit tests. */
  readonly testCommand: string;
  /** Azure with provider native: the Azure DevOps project whose pipelines deploy through federated service connections. */
  readonly azureDevOps?: AzureDevOpsSpec;
}

export interface AzureDevOpsSpec {
  readonly organization: string;
  readonly project: string;
  /** Issuer of the service connections' tokens. */
  readonly issuer: string;
  /** Subject per service or BFF where it is not `sc://<organization>/<project>/<connection>`. */
  readonly subjects: Readonly<Record<string, string>>;
}

export interface FrontendsSpec {
  readonly shell: string;
  readonly fragments: readonly string[];
  /** Custom domain of the CDN. */
  readonly domainName?: string;
  /** ACM certificate (us-east-1) of domainName. */
  readonly certificateArn?: string;
}

export interface DatabaseSpec {
  readonly engine: DatabaseEngine;
  readonly size: "small" | "medium" | "large";
  readonly storageGiB: number;
}

export interface ServiceSpec {
  readonly name: string;
  readonly image?: string;
  readonly port: number;
  readonly expose: boolean;
  /** Gateway route prefix. */
  readonly path: string;
  readonly healthPath: string;
  readonly replicas: { readonly min: number; readonly max: number };
  readonly cpu: number;
  readonly memory: number;
  readonly database?: DatabaseSpec;
  readonly publishes: readonly string[];
  readonly subscribes: readonly string[];
  readonly readModel?: { readonly from: readonly string[] };
  readonly eventSourced: boolean;
  readonly config: Readonly<Record<string, string>>;
  readonly secrets: readonly string[];
  /** Source repository name under pipelines.repositoryOwner. */
  readonly repository: string;
}

export interface SagaStepSpec {
  readonly service: string;
  readonly action: string;
  readonly compensate?: string;
}

export interface SagaSpec {
  readonly name: string;
  readonly mode: "orchestration" | "choreography";
  readonly steps: readonly SagaStepSpec[];
}

/** A normalized landing-zone spec: every default applied, every cross-field rule checked. */
/** Whether the landing zone installs a cluster add-on or reuses the cluster's own. */
export interface ClusterAddOnSwitch {
  readonly install: boolean;
}

/** Cluster add-ons of an existing cluster: installed by the landing zone, or already there. */
export interface KubernetesSpec {
  readonly certManager: ClusterAddOnSwitch;
  readonly trustManager: ClusterAddOnSwitch;
}

export interface LandingZoneSpec {
  readonly name: string;
  readonly cloud: Cloud;
  readonly region: string;
  readonly tier: Tier;
  readonly environment: Environment;
  readonly network: NetworkSpec;
  readonly gateway: GatewaySpec;
  readonly bffs: readonly BffSpec[];
  readonly auth: AuthSpec;
  readonly config: { readonly values: Readonly<Record<string, string>> };
  readonly discovery: { readonly enabled: boolean };
  readonly messaging: MessagingSpec;
  readonly logging: LoggingSpec;
  readonly tracing: TracingSpec;
  readonly monitoring: MonitoringSpec;
  readonly mesh: MeshSpec;
  readonly pipelines: PipelinesSpec;
  readonly frontends?: FrontendsSpec;
  readonly services: readonly ServiceSpec[];
  readonly sagas: readonly SagaSpec[];
  /** Only when the spec sets it (cloud: kubernetes); absent means install every cluster add-on. */
  readonly kubernetes?: KubernetesSpec;
  readonly retainData: boolean;
  readonly tags: Readonly<Record<string, string>>;
}
