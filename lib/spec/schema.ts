import { z } from "zod";

/** Lowercase DNS label: usable as a Kubernetes name, a stack-name part and most cloud resource names. */
const dnsLabel = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z]([a-z0-9-]*[a-z0-9])?$/, {
    message: "must be lowercase letters, digits and '-', start with a letter and not end with '-'",
  });

/** A repository name on the source host (GitHub's rule: letters, digits, '.', '_' and '-'). */
const repositoryName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,100}$/, { message: "a repository name uses letters, digits, '.', '_' and '-' (at most 100)" })
  .refine((name) => name !== "." && name !== "..", { message: "a repository name cannot be '.' or '..'" });

const eventName = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, { message: "event names are lowercase kebab-case, e.g. order-placed" });

const httpsUrl = z.string().regex(/^https:\/\/[^\s/?#]+[^\s]*$/, { message: "must be an https URL such as https://login.example.com/realms/shop" });

const cidr = z
  .string()
  .regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/, { message: "must be an IPv4 CIDR such as 10.0.0.0/16" });

export const CLOUDS = ["aws", "gcp", "azure", "kubernetes"] as const;
export const TIERS = ["iaas", "caas", "paas"] as const;
export const ENVIRONMENTS = ["dev", "prod"] as const;
export const DATABASE_ENGINES = ["postgres", "mysql", "key-value", "document"] as const;
export const BROKERS = ["auto", "sns-sqs", "eventbridge", "kafka", "rabbitmq", "pubsub", "servicebus"] as const;
export const TRACING_BACKENDS = ["zipkin", "jaeger", "xray", "cloud", "none"] as const;

const networkSchema = z
  .object({
    cidr: cidr.default("10.0.0.0/16").describe("The address range of the VPC / VNet."),
    zones: z.number().int().min(1).max(6).optional().describe("Availability zones to spread over. Default: 2 in dev, 3 in prod."),
    availabilityZones: z
      .array(z.string().min(1))
      .optional()
      .describe("Explicit zone names; default is the region name plus a, b, c... so synthesis never needs a cloud lookup."),
    natGateways: z.number().int().min(0).max(6).optional().describe("NAT gateways. Default: 1 in dev, one per zone in prod."),
    flowLogs: z.boolean().default(true).describe("Record VPC flow logs."),
    podsCidr: cidr.default("100.64.0.0/14").describe("Secondary range for pods where the cloud needs one (GKE)."),
    servicesCidr: cidr.default("100.68.0.0/20").describe("Secondary range for cluster services where the cloud needs one (GKE, AKS)."),
  })
  .strict();

const rateLimitSchema = z
  .object({
    requestsPerSecond: z.number().int().positive().default(100).describe("Sustained requests per second the gateway admits before it answers 429."),
    burst: z.number().int().positive().default(200).describe("Requests the gateway admits at once above the sustained rate."),
  })
  .strict();

const gatewaySchema = z
  .object({
    auth: z
      .enum(["none", "jwt", "authorizer"])
      .optional()
      .describe("How the gateway checks callers: JWT validation, a delegated auth service, or none. Default: jwt, but none on an existing Kubernetes cluster or Azure without auth.issuer (no identity provider the landing zone can create)."),
    waf: z.boolean().optional().describe("Attach a web application firewall. Default: true in prod."),
    rateLimit: rateLimitSchema.prefault({}).describe("Throttling at the gateway, for the whole API."),
    accessLogs: z.boolean().default(true).describe("Write the gateway's access logs."),
    authorizerCacheSeconds: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(300)
      .describe("With auth: authorizer, how long the gateway reuses the auth service's answer for a token; 0 asks on every request."),
  })
  .strict();

const bffObject = z
  .object({
    name: dnsLabel.describe("The BFF's name: its workload, route and stack name."),
    channel: z.string().min(1).optional().describe("The client channel this BFF serves (web, mobile, tv). Default: the name."),
    routes: z
      .array(z.string().regex(/^\/[A-Za-z0-9/_-]*$/, { message: "a route is a path such as /api/orders" }))
      .optional()
      .describe("Gateway path prefixes this BFF serves; the gateway routes the first. Default: /<name>."),
    port: z.number().int().min(1).max(65535).default(8080).describe("The port the BFF's container listens on."),
    image: z.string().min(1).optional().describe("Container image. Default: the BFF's own registry repository, tag latest."),
    repository: repositoryName.optional().describe("Source repository under pipelines.repositoryOwner. Default: the BFF name."),
  })
  .strict();

const bffSchema = z.union([dnsLabel, bffObject]).describe("A backend-for-frontend: a name, or { name, channel, routes }.");

const authSchema = z
  .object({
    sessions: z.enum(["redis", "memcached", "none"]).default("redis").describe("Central session store shared by scaled-out instances."),
    tokens: z.enum(["jwt", "none"]).default("jwt").describe("Client tokens issued by an identity provider and checked at the gateway."),
    service: dnsLabel.optional().describe("A dedicated auth service (one of services[]) the gateway delegates to."),
    issuer: httpsUrl.optional().describe("OIDC issuer (iss claim) of an external identity provider. Default: a Cognito user pool on AWS; required for JWT checks on an existing Kubernetes cluster and on Azure (an Entra ID tenant's issuer)."),
    jwksUri: httpsUrl.optional().describe("Where the issuer publishes its signing keys. Default: found through the issuer's OpenID discovery document."),
    audiences: z.array(z.string().min(1)).default([]).describe("Accepted aud claims. Default: the user pool's app client on AWS; any audience on Kubernetes."),
  })
  .strict();

const configSchema = z
  .object({
    values: z.record(z.string(), z.string()).default({}).describe("Landing-zone-wide configuration every service receives."),
  })
  .strict();

const discoverySchema = z
  .object({ enabled: z.boolean().default(true).describe("Register every service for discovery by name (cluster DNS on Kubernetes, a private namespace or DNS zone for VMs and app platforms).") })
  .strict();

const messagingSchema = z
  .object({
    broker: z.enum(BROKERS).default("auto").describe("The message broker. 'auto' picks the cloud's managed default."),
    maxReceiveCount: z.number().int().min(1).max(1000).default(5).describe("Deliveries before a message goes to the dead-letter queue."),
    retentionDays: z.number().int().min(1).max(14).default(4).describe("Days an unconsumed message stays in a queue (and its dead-letter queue) before the broker drops it."),
    topicStacks: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(1)
      .describe(
        "AWS CDK, sns-sqs: CloudFormation stacks the topics are spread over (a stable hash of the event name picks each topic's stack), so the messaging stack stays under the 500-resource limit. Changing it later moves topics between stacks, which replaces them.",
      ),
  })
  .strict();

const loggingSchema = z
  .object({
    stack: z.enum(["elk", "none"]).default("elk").describe("Central log aggregation: Elasticsearch/OpenSearch + Logstash + Kibana/Dashboards."),
    buffer: z.enum(["redis", "none"]).default("redis").describe("A Redis buffer in front of Logstash that absorbs bursts (the seed's design)."),
    shipper: z.enum(["filebeat", "fluent-bit"]).default("filebeat").describe("Node log shipper. Filebeat writes to the Redis buffer natively; Fluent Bit needs buffer: none."),
    retentionDays: z.number().int().min(1).max(3650).default(30).describe("Days logs stay in the central log store."),
  })
  .strict();

const tracingSchema = z
  .object({
    backend: z
      .enum(TRACING_BACKENDS)
      .optional()
      .describe(
        "Where an OpenTelemetry collector sends traces: a Zipkin or Jaeger it runs in the cluster, X-Ray (AWS), or cloud (X-Ray, Cloud Trace or Application Insights; on an existing cluster, which has no cloud tracer, its Zipkin); none turns tracing off. Default: zipkin on CaaS and existing clusters, cloud otherwise (no cluster to run Zipkin in).",
      ),
    samplingRate: z.number().min(0).max(1).default(0.1).describe("Share of requests traced, from 0 to 1."),
  })
  .strict();

const monitoringSchema = z
  .object({
    dashboards: z.boolean().default(true).describe("A dashboard with each service's requests, errors, latency and saturation."),
    alarms: z.boolean().default(true).describe("Per-service alarms on the error rate and latency below, sent to a notification topic."),
    alarmEmail: z.email().optional().describe("Subscribed to the alarm notification topic."),
    errorRatePercent: z.number().positive().max(100).default(5).describe("Alarm when a service answers more than this share of requests with a 5xx status."),
    latencyMs: z.number().int().positive().default(2000).describe("Alarm when a service's p99 response time passes this many milliseconds."),
  })
  .strict();

const circuitBreakerSchema = z
  .object({
    consecutiveErrors: z.number().int().min(1).max(1000).default(5).describe("Consecutive 5xx answers after which an instance is ejected from the load-balancing pool."),
    ejectSeconds: z.number().int().min(1).max(3600).default(30).describe("How long an ejected instance stays out (the breaker's open state), growing with each ejection."),
    maxEjectionPercent: z.number().int().min(1).max(100).default(50).describe("At most this share of a service's instances is ejected at once."),
    maxConnections: z.number().int().min(1).default(100).describe("Connections a caller may hold to one service before requests queue."),
    maxPendingRequests: z.number().int().min(1).default(100).describe("Requests that may wait for a connection before the breaker rejects more."),
  })
  .strict();

const meshSchema = z
  .object({
    kind: z.enum(["istio", "none"]).optional().describe("Service mesh. Default: istio on CaaS and existing clusters, none otherwise."),
    mtls: z.enum(["STRICT", "PERMISSIVE"]).default("STRICT").describe("STRICT: workloads accept only mutual-TLS traffic from the mesh; PERMISSIVE also accepts plain text (for a migration)."),
    circuitBreaker: circuitBreakerSchema.prefault({}).describe("Outlier detection and connection limits applied to every service (the seed's circuit breaker)."),
    retries: z
      .object({
        attempts: z.number().int().min(0).max(10).default(3).describe("Retries of a call that failed to connect or found the service unavailable, before the caller sees the error."),
        perTryTimeoutSeconds: z.number().positive().default(2).describe("Timeout of each attempt."),
      })
      .strict()
      .prefault({})
      .describe("Retries the mesh makes for callers."),
    timeoutSeconds: z.number().positive().default(10).describe("Timeout of a whole call between services, retries included."),
  })
  .strict();

const pipelinesSchema = z
  .object({
    perService: z
      .boolean()
      .optional()
      .describe("A build/deploy pipeline per service, building <repositoryOwner>/<repository>. Default: true when repositoryOwner is set, false otherwise."),
    provider: z.enum(["native", "github-actions"]).default("native").describe("native: the cloud's own pipeline (CodePipeline, Cloud Build, Argo CD on an existing cluster); github-actions: workflows written by `mlz workflows`, federated through OIDC."),
    repositoryOwner: z
      .string()
      .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, { message: "must be a GitHub user or organization name such as acme-shop" })
      .optional()
      .describe("Owner/organization of the services' source repositories; required to build pipelines."),
    branch: z
      .string()
      .regex(/^(?!\/)(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9._/-]+(?<![/.])$/, { message: "must be a branch name such as main" })
      .default("main")
      .describe("The branch whose pushes are built and deployed."),
    connectionArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection\/[0-9a-f-]{36}$/, {
        message: "must be an AWS CodeConnections connection ARN such as arn:aws:codeconnections:us-east-1:123456789012:connection/<uuid>",
      })
      .optional()
      .describe("AWS only: the CodeConnections (CodeStar Connections) connection to the repositories' host. Default: one is created; complete its handshake once in the console."),
    githubOidcProviderArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/, {
        message: "must be the ARN of the IAM OIDC provider for token.actions.githubusercontent.com",
      })
      .optional()
      .describe("AWS with github-actions, or micro-frontends with repositoryOwner: an existing IAM OIDC provider for GitHub (an account holds one). Default: one is created."),
    azureDevOps: z
      .object({
        organization: z
          .string()
          .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?$/, { message: "must be an Azure DevOps organization name such as acme-shop" })
          .describe("Azure DevOps organization (dev.azure.com/<organization>) running the pipelines."),
        project: z
          .string()
          .regex(/^[^\\/:*?"<>|;#$%&{}+=\[\]]{1,64}$/, { message: "must be an Azure DevOps project name (1-64 characters, none of \\ / : * ? \" < > | ; # $ % & { } + = [ ])" })
          .describe("Azure DevOps project holding the pipelines, their service connections and environments."),
        issuer: z
          .string()
          .regex(/^https:\/\/(?:vstoken\.dev\.azure\.com\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|login\.microsoftonline\.com\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/v2\.0)$/, {
            message: "must be the issuer Azure DevOps shows for a workload identity service connection: https://vstoken.dev.azure.com/<organization id> or https://login.microsoftonline.com/<tenant id>/v2.0",
          })
          .describe("Issuer of the service connections' tokens, as Azure DevOps shows it when a workload identity federation service connection is created."),
        subjects: z
          .record(z.string(), z.string().regex(/^(?:sc:\/\/[^\s]+|\/eid1\/[^\s]+)$/, { message: "must be a service connection subject: sc://<organization>/<project>/<connection> or /eid1/..." }))
          .default({})
          .describe("Subject per service or BFF name, when Azure DevOps shows one other than sc://<organization>/<project>/<zone>-<environment>-<service> (always with the login.microsoftonline.com issuer)."),
      })
      .strict()
      .optional()
      .describe("Azure with provider native: the Azure DevOps project whose pipelines (azure-pipelines.yml written by `mlz workflows --azure-pipelines`) build and deploy each service through a federated service connection."),
    testCommand: z.string().min(1).default("docker build --target test .").describe("Runs the service's unit tests in the build stage; the default builds the Dockerfile's `test` stage."),
  })
  .strict();

const frontendsSchema = z
  .object({
    shell: dnsLabel.describe("The shell application; also the BFF (by name or channel) its API routes point at when one exists."),
    fragments: z.array(dnsLabel).default([]).describe("Micro-frontend fragments, each hosted and deployed on its own, served under /<fragment>/."),
    domainName: z
      .string()
      .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, { message: "must be a DNS name such as shop.example.com" })
      .optional()
      .describe("Custom domain of the frontends' CDN, served over TLS 1.2+ only: on AWS with certificateArn, on GCP and Azure with a certificate the cloud manages. Default: the CDN's own domain."),
    certificateArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/, { message: "must be an ACM certificate ARN in us-east-1 (CloudFront reads certificates only there)" })
      .optional()
      .describe("AWS: ACM certificate (in us-east-1) for domainName."),
  })
  .strict();

const databaseSchema = z
  .object({
    engine: z
      .enum(DATABASE_ENGINES)
      .describe("postgres or mysql: a managed relational database; key-value or document: the cloud's managed NoSQL store (DynamoDB, Firestore, Cosmos DB). On an existing cluster: CloudNativePG, MariaDB, Redis, or FerretDB on CloudNativePG with DocumentDB."),
    size: z.enum(["small", "medium", "large"]).optional().describe("Instance class. Default: small in dev, medium in prod."),
    storageGiB: z.number().int().min(20).max(65536).default(20).describe("Allocated storage of a relational database."),
  })
  .strict();

const serviceSchema = z
  .object({
    name: dnsLabel.describe("The service's name: its workload, DNS name, route, stack and resource names."),
    image: z.string().min(1).optional().describe("Container image. Default: the service's own registry repository, tag latest."),
    port: z.number().int().min(1).max(65535).default(8080).describe("The port the service's container listens on."),
    expose: z.boolean().default(true).describe("Route the service through the API gateway."),
    path: z.string().regex(/^\/[A-Za-z0-9/_-]*$/, { message: "a route is a path such as /api/orders" }).optional().describe("Gateway route prefix. Default: /<name>."),
    healthPath: z
      .string()
      .regex(/^\//, { message: "a health check path starts with /, e.g. /health" })
      .default("/health")
      .describe("HTTP path the load balancer and the platform probe; it answers 2xx when the service is ready."),
    replicas: z
      .object({
        min: z.number().int().min(1).max(100).describe("Instances always running."),
        max: z.number().int().min(1).max(1000).describe("Instances at most, under load."),
      })
      .strict()
      .optional()
      .describe("Autoscaling bounds. Default: 1-2 in dev, 2-6 in prod."),
    cpu: z.number().int().min(64).max(16384).default(250).describe("CPU millicores requested."),
    memory: z.number().int().min(64).max(65536).default(512).describe("Memory MiB requested."),
    database: databaseSchema.optional().describe("The service's own database (database per service): no other service can reach it."),
    publishes: z.array(eventName).default([]).describe("Events the service publishes; each becomes a topic only its publishers may write to."),
    subscribes: z.array(eventName).default([]).describe("Events the service consumes; each subscription gets its own queue with a dead-letter queue."),
    readModel: z
      .object({ from: z.array(dnsLabel).min(1).describe("Services whose published events the projection consumes.") })
      .strict()
      .optional().describe("CQRS projection of other services' events, kept in its own read table; on an existing cluster in its own PostgreSQL database (CloudNativePG), planned when it declares none."),
    eventSourced: z.boolean().default(false).describe("Store state transitions in an append-only event store."),
    config: z.record(z.string(), z.string()).default({}).describe("Configuration values injected at deploy time."),
    secrets: z
      .array(z.string().regex(/^[A-Z][A-Z0-9_]*$/, { message: "secret names are UPPER_SNAKE_CASE env-var names" }))
      .default([])
      .describe("Secret names; each is generated into the cloud's secret store, readable only by this service, and reaches it as an environment variable of that name."),
    repository: repositoryName.optional().describe("Source repository under pipelines.repositoryOwner. Default: the service name."),
  })
  .strict();

const sagaAction = z
  .string()
  .regex(/^[a-z][a-zA-Z0-9-]*$/, { message: "an action is a name such as create, reserve-stock or chargeCard" });

const sagaStepSchema = z
  .object({
    service: dnsLabel.describe("The service that runs this step (one of services[])."),
    action: sagaAction.describe("The command the step sends to the service."),
    compensate: sagaAction.optional().describe("The command that undoes the step when a later step fails; compensations run in reverse order."),
  })
  .strict();

const sagaSchema = z
  .object({
    name: dnsLabel.describe("The saga's name: its state machine or workflow and its queue names."),
    mode: z
      .enum(["orchestration", "choreography"])
      .default("orchestration")
      .describe("orchestration: a workflow service (Step Functions, Workflows, Logic Apps; Argo Workflows on an existing cluster) drives the steps; choreography: each step reacts to the previous step's event on the broker."),
    steps: z.array(sagaStepSchema).min(2).describe("The local transactions, in order."),
  })
  .strict();

const clusterAddOnSwitch = (what: string, needs: string) =>
  z
    .object({
      install: z
        .boolean()
        .default(true)
        .describe(`true: the landing zone installs ${what} with Helm; false: reuse the one the cluster already runs (${needs}), and install nothing.`),
    })
    .strict();

const kubernetesSchema = z
  .object({
    certManager: clusterAddOnSwitch("cert-manager", "its CRDs must already exist")
      .prefault({})
      .describe("cert-manager, which issues the data stores' TLS certificates (key-value and document stores)."),
    trustManager: clusterAddOnSwitch("trust-manager", "its Bundle CRD must exist and its trust namespace must be the data namespace, <namespace>-data")
      .prefault({})
      .describe("trust-manager, which publishes the CA certificates of the services' data stores (never a key) as a ConfigMap into the workloads namespace."),
  })
  .strict();

export const landingZoneSchema = z
  .object({
    name: dnsLabel.max(20).describe("Short name of the landing zone; prefixes stacks and resources."),
    cloud: z.enum(CLOUDS).default("aws").describe("Where the landing zone runs: a cloud, or kubernetes for an existing cluster anywhere."),
    region: z
      .string()
      .regex(/^[a-z]{2,}[a-z0-9-]*[0-9a-z]$/, { message: "must be a region name such as ap-northeast-2" })
      .optional()
      .describe("The cloud region. Default: us-east-1 (aws), us-central1 (gcp), eastus (azure)."),
    tier: z.enum(TIERS).default("caas").describe("Service model: iaas (VMs), caas (managed Kubernetes) or paas (a managed app platform)."),
    environment: z.enum(ENVIRONMENTS).default("dev").describe("dev is small and disposable; prod is multi-zone, highly available and keeps its data."),
    network: networkSchema.prefault({}).describe("The private network every part runs in."),
    gateway: gatewaySchema.prefault({}).describe("The API gateway: the single entry point in front of the BFFs and services."),
    bffs: z.array(bffSchema).default([]).describe("Backends for frontends, one per client channel, routed by the gateway."),
    auth: authSchema.prefault({}).describe("Sessions and client tokens."),
    config: configSchema.prefault({}).describe("The external configuration store."),
    discovery: discoverySchema.prefault({}).describe("The service registry."),
    messaging: messagingSchema.prefault({}).describe("The message broker for the services' events; it exists when a service publishes."),
    logging: loggingSchema.prefault({}).describe("Centralized logs: shippers, a Redis buffer, Logstash, Elasticsearch/OpenSearch and Kibana/Dashboards."),
    tracing: tracingSchema.prefault({}).describe("Distributed tracing."),
    monitoring: monitoringSchema.prefault({}).describe("Dashboards and alarms per service."),
    mesh: meshSchema.prefault({}).describe("The service mesh: mutual TLS, retries, timeouts and the circuit breaker between services."),
    pipelines: pipelinesSchema.prefault({}).describe("A build/deploy pipeline and registry per service."),
    frontends: frontendsSchema.optional().describe("Micro-frontends: a shell and fragments, each hosted and deployed on its own, behind one CDN."),
    services: z.array(serviceSchema).default([]).describe("The microservices."),
    sagas: z.array(sagaSchema).default([]).describe("Transactions across services as sagas of local steps with compensations."),
    kubernetes: kubernetesSchema
      .optional()
      .describe("Cluster add-ons an existing cluster (cloud: kubernetes) may already run; by default the landing zone installs them."),
    retainData: z.boolean().optional().describe("Retain and deletion-protect stateful resources. Default: true in prod, false in dev."),
    tags: z.record(z.string(), z.string()).default({}).describe("Tags (labels on GCP) on every resource, besides msa:landing-zone and msa:environment."),
  })
  .strict();

/** What a user writes: every key with a default may be left out. */
export type LandingZoneInput = z.input<typeof landingZoneSchema>;
/** The schema's output before environment-dependent defaults are applied. */
export type ParsedSpec = z.output<typeof landingZoneSchema>;
