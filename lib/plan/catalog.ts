import type { BrokerChoice, Cloud, DatabaseEngine, Tier } from "../spec/types.js";
import { CDK_AWS_SUPPORT } from "./support/cdk-aws.js";
import { PULUMI_AWS_SUPPORT } from "./support/pulumi-aws.js";
import { PULUMI_AZURE_SUPPORT } from "./support/pulumi-azure.js";
import { PULUMI_GCP_SUPPORT } from "./support/pulumi-gcp.js";
import { PULUMI_KUBERNETES_SUPPORT } from "./support/pulumi-kubernetes.js";
import type { Capability, Engine, EngineSupport } from "./types.js";

type PerTier = Readonly<Partial<Record<Tier, string>>>;

const allTiers = (implementation: string): PerTier => ({ iaas: implementation, caas: implementation, paas: implementation });

/**
 * The capability catalog: what each capability becomes on each (cloud, tier).
 * A missing tier means the cloud does not offer that capability in that service model.
 */
export const CATALOG: Readonly<Record<Cloud, Readonly<Record<Capability, PerTier>>>> = {
  aws: {
    network: allTiers("vpc"),
    compute: { iaas: "ec2-autoscaling", caas: "eks", paas: "elastic-beanstalk" },
    registry: allTiers("ecr"),
    gateway: allTiers("apigateway-http+vpc-link"),
    bff: { iaas: "ec2-autoscaling", caas: "eks-deployment", paas: "elastic-beanstalk" },
    discovery: { iaas: "cloud-map", caas: "cluster-dns", paas: "cloud-map" },
    config: { iaas: "ssm-parameter-store", caas: "ssm-parameter-store+configmap", paas: "ssm-parameter-store" },
    sessions: allTiers("elasticache-redis"),
    tokens: allTiers("cognito+jwt-authorizer"),
    authService: allTiers("lambda-authorizer"),
    mesh: { caas: "istio" },
    monitoring: allTiers("cloudwatch"),
    tracing: allTiers("otel-collector"),
    logging: allTiers("opensearch+redis-buffer+logstash"),
    broker: allTiers("sns-sqs"),
    database: allTiers("rds+dynamodb"),
    saga: allTiers("step-functions"),
    readModel: allTiers("sqs-projector+dynamodb"),
    eventStore: allTiers("dynamodb+streams"),
    pipeline: allTiers("codepipeline+codebuild"),
    frontends: allTiers("s3+cloudfront"),
  },
  gcp: {
    network: allTiers("vpc"),
    compute: { iaas: "managed-instance-group", caas: "gke", paas: "app-engine" },
    registry: allTiers("artifact-registry"),
    gateway: allTiers("https-lb+cloud-armor"),
    bff: { iaas: "managed-instance-group", caas: "gke-deployment", paas: "app-engine" },
    discovery: { iaas: "service-directory", caas: "cluster-dns", paas: "service-directory" },
    config: { iaas: "secret-manager", caas: "secret-manager+configmap", paas: "secret-manager" },
    sessions: allTiers("memorystore-redis"),
    tokens: allTiers("identity-platform"),
    authService: allTiers("ext-authz"),
    mesh: { caas: "istio" },
    monitoring: allTiers("cloud-monitoring"),
    tracing: allTiers("otel-collector"),
    logging: { iaas: "gke+eck+redis-buffer+logstash", caas: "eck+redis-buffer+logstash", paas: "gke+eck+redis-buffer+logstash+pubsub-log-sink" },
    broker: allTiers("pubsub"),
    database: allTiers("cloud-sql"),
    saga: allTiers("workflows"),
    readModel: allTiers("pubsub-projector+firestore"),
    eventStore: allTiers("firestore+pubsub"),
    pipeline: allTiers("cloud-build"),
    frontends: allTiers("gcs+cloud-cdn"),
  },
  azure: {
    network: allTiers("vnet"),
    compute: { iaas: "vm-scale-set", caas: "aks", paas: "app-service" },
    registry: allTiers("acr"),
    gateway: allTiers("application-gateway+waf"),
    bff: { iaas: "vm-scale-set", caas: "aks-deployment", paas: "app-service" },
    discovery: { iaas: "private-dns", caas: "cluster-dns", paas: "private-dns" },
    config: { iaas: "app-configuration+key-vault", caas: "key-vault+configmap", paas: "app-configuration+key-vault" },
    sessions: allTiers("azure-cache-redis"),
    tokens: allTiers("entra-id"),
    authService: allTiers("ext-authz"),
    mesh: { caas: "istio" },
    monitoring: allTiers("azure-monitor"),
    tracing: allTiers("otel-collector"),
    logging: { iaas: "aks+eck+redis-buffer+logstash", caas: "eck+redis-buffer+logstash", paas: "aks+eck+redis-buffer+logstash+event-hubs-diagnostics" },
    broker: allTiers("service-bus"),
    database: allTiers("postgresql-flexible"),
    saga: allTiers("logic-apps"),
    readModel: allTiers("service-bus-projector+cosmosdb"),
    eventStore: allTiers("event-hubs+cosmosdb"),
    pipeline: allTiers("azure-pipelines"),
    frontends: allTiers("storage+front-door"),
  },
  kubernetes: {
    network: { caas: "namespaces+network-policies" },
    compute: { caas: "existing-cluster" },
    registry: { caas: "external-registry" },
    gateway: { caas: "ingress-nginx" },
    bff: { caas: "deployment" },
    discovery: { caas: "cluster-dns" },
    config: { caas: "configmap+secret" },
    sessions: { caas: "redis-statefulset" },
    tokens: { caas: "istio-request-authentication" },
    authService: { caas: "istio-ext-authz" },
    mesh: { caas: "istio" },
    monitoring: { caas: "prometheus+grafana" },
    tracing: { caas: "otel-collector" },
    logging: { caas: "eck+redis-buffer+logstash" },
    broker: { caas: "strimzi-kafka" },
    database: { caas: "cloudnative-pg" },
    saga: { caas: "argo-workflows" },
    readModel: { caas: "kafka-projector" },
    eventStore: { caas: "kafka-infinite-retention" },
    pipeline: { caas: "argo-cd" },
    frontends: { caas: "nginx-ingress-static" },
  },
};

/** Brokers each cloud offers; the first is what `broker: auto` picks. */
export const BROKER_OPTIONS: Readonly<Record<Cloud, readonly Exclude<BrokerChoice, "auto">[]>> = {
  aws: ["sns-sqs", "eventbridge", "kafka", "rabbitmq"],
  gcp: ["pubsub", "kafka"],
  azure: ["servicebus", "kafka"],
  kubernetes: ["kafka", "rabbitmq"],
};

/** Implementation name of each broker choice per cloud. */
export const BROKER_IMPLEMENTATION: Readonly<Record<Cloud, Partial<Record<Exclude<BrokerChoice, "auto">, string>>>> = {
  aws: { "sns-sqs": "sns-sqs", eventbridge: "eventbridge", kafka: "msk", rabbitmq: "amazon-mq-rabbitmq" },
  gcp: { pubsub: "pubsub", kafka: "strimzi-kafka" },
  azure: { servicebus: "service-bus", kafka: "event-hubs-kafka" },
  kubernetes: { kafka: "strimzi-kafka", rabbitmq: "rabbitmq-cluster-operator" },
};

/** Implementation of each database engine per cloud. */
export const DATABASE_IMPLEMENTATION: Readonly<Record<Cloud, Readonly<Record<DatabaseEngine, string>>>> = {
  aws: { postgres: "rds-postgres", mysql: "rds-mysql", "key-value": "dynamodb", document: "dynamodb" },
  gcp: { postgres: "cloud-sql-postgres", mysql: "cloud-sql-mysql", "key-value": "firestore", document: "firestore" },
  azure: { postgres: "postgresql-flexible", mysql: "mysql-flexible", "key-value": "cosmosdb", document: "cosmosdb" },
  kubernetes: { postgres: "cloudnative-pg", mysql: "mariadb-operator", "key-value": "redis-statefulset", document: "ferretdb-cloudnative-pg" },
};

/**
 * What each engine implements today, one file per engine and cloud (lib/plan/support/). The
 * planner rejects a spec that asks for anything outside it, so nothing requested is ever
 * silently dropped.
 */
export const ENGINE_SUPPORT: Readonly<Record<Engine, EngineSupport>> = {
  cdk: { aws: CDK_AWS_SUPPORT },
  pulumi: { aws: PULUMI_AWS_SUPPORT, gcp: PULUMI_GCP_SUPPORT, azure: PULUMI_AZURE_SUPPORT, kubernetes: PULUMI_KUBERNETES_SUPPORT },
};

export function catalogImplementation(cloud: Cloud, tier: Tier, capability: Capability): string | undefined {
  return CATALOG[cloud][capability][tier];
}

export function engineSupports(engine: Engine, cloud: Cloud, tier: Tier, capability: Capability): boolean {
  return ENGINE_SUPPORT[engine][cloud]?.[capability]?.includes(tier) ?? false;
}
