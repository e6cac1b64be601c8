import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Job } from "kubernetes-models/batch/v1/Job";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { INetworkPolicySpec } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import type { IContainer, IContainerPort, IEnvVar, IPodSecurityContext, ISecurityContext, IVolume, IVolumeMount } from "kubernetes-models/v1";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { stringify } from "yaml";
import { shortHash } from "../plan/naming.js";
import { VERSIONS } from "../plan/sizing.js";
import type { LandingZonePlan, LogPipelinePlan } from "../plan/types.js";
import { assertKubernetesName, INGRESS_NAMESPACE_LABEL, labelsFor, MANAGED_BY, selectorFor } from "./labels.js";
import { validatedManifest } from "./render.js";
import { SECRETS_MOUNT_PATH, SECRETS_STORE_CSI_DRIVER, secretProviderClass } from "./secrets-store.js";
import type { AddOn, HelmReleaseSpec, ManifestObject } from "./types.js";

/**
 * Where Logstash writes: a managed AWS OpenSearch domain (requests signed with the pod's IAM
 * identity), or an Elasticsearch cluster run in the add-on's namespace by the ECK operator.
 */
export type LogSink = { readonly kind: "opensearch"; readonly endpoint: string; readonly region: string } | { readonly kind: "eck" };

/** The Redis list in front of Logstash; `passwordSecretName` is a Secret in the logging namespace with key `password`. */
export interface LogBuffer {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly passwordSecretName: string;
  /**
   * A SecretProviderClass in the logging namespace that mirrors the password into
   * `passwordSecretName` under key `password` (see `logBufferSecretProviderClass`). The add-on
   * applies it, and Logstash and the shipper both mount it: the Secrets Store CSI driver (which
   * must be installed, e.g. `secretsStoreAddOn()`) keeps the mirror only while a pod mounts the class.
   * @default - `passwordSecretName` already exists in the logging namespace (e.g. the in-cluster Redis's own Secret)
   */
  readonly passwordSecretProviderClass?: ManifestObject;
}

export interface LogPipelineOptions {
  readonly sink: LogSink;
  /**
   * The Redis buffer; required exactly when `plan.logging.buffer` is set.
   * @default - shippers send straight to Logstash
   */
  readonly buffer?: LogBuffer;
  /**
   * Annotations on Logstash's ServiceAccount (IRSA role ARN, Workload Identity).
   * @default - none
   */
  readonly logstashServiceAccountAnnotations?: Record<string, string>;
  /**
   * Inputs Logstash reads beside the buffer: a managed platform's logs exported by the cloud (App
   * Engine's through a Cloud Logging sink into Pub/Sub), read with Logstash's own cloud identity.
   * @default - none
   */
  readonly cloudInputs?: readonly CloudLogInput[];
}

/** A log export of a managed platform Logstash reads: a Pub/Sub subscription or an event hub. */
export type CloudLogInput = GooglePubSubLogInput | AzureEventHubsLogInput;

/** A Pub/Sub subscription Logstash pulls exported log entries from (Workload Identity: no key file). */
export interface GooglePubSubLogInput {
  readonly kind: "google-pubsub";
  readonly projectId: string;
  /** Topic name (not its full id). */
  readonly topic: string;
  /** Subscription name (not its full id); it must exist: Logstash creates none. */
  readonly subscription: string;
}

/**
 * An event hub Azure Monitor diagnostic settings stream resource logs into, read by the
 * `azure_event_hubs` input, which authenticates with connection strings only (no Entra ID): both
 * come from `secretName` in the logging namespace (keys `AZURE_EVENT_HUBS_SECRET_KEYS`), never from the pipeline text.
 */
export interface AzureEventHubsLogInput {
  readonly kind: "azure-event-hubs";
  /** Consumer group of the hub that only Logstash reads; it must exist. */
  readonly consumerGroup: string;
  /** Secret holding the hub's listen-only connection string (with `EntityPath`) and the checkpoint storage account's. */
  readonly secretName: string;
}

/** Keys of an `AzureEventHubsLogInput` Secret: the hub's connection string and the checkpoint blob storage's. */
export const AZURE_EVENT_HUBS_SECRET_KEYS = { eventHub: "event-hub-connection", storage: "storage-connection" } as const;
/** Blob container the `azure_event_hubs` input keeps its per-partition offsets in, so replicas share the hub's partitions. */
export const AZURE_EVENT_HUBS_CHECKPOINT_CONTAINER = "logstash-checkpoints";

/** Daily indices `msa-logs-YYYY.MM.dd`; retention policies (ILM, ISM) match `msa-logs-*`. */
export const LOG_INDEX_PREFIX = "msa-logs";
/** Name of the ECK Elasticsearch (Services `logs-es-http`, Secret `logs-es-elastic-user`) and Kibana. */
export const LOG_ELASTICSEARCH_NAME = "logs";
/**
 * The pipeline's own Elasticsearch users (ECK file realm), so no pod holds the `elastic` superuser:
 * Logstash only creates documents and indices under `msa-logs-*`, the retention Job only manages ILM
 * policies and index templates. Each `secretName` is a `kubernetes.io/basic-auth` Secret in the
 * logging namespace with `username`, `password` and `roles` ({@link eckUserSecretData} gives all but
 * the password, which the engine generates).
 */
export const ECK_USERS = {
  writer: { username: "msa-log-writer", role: "msa_log_writer", secretName: `${LOG_ELASTICSEARCH_NAME}-writer-user` },
  retention: { username: "msa-log-retention", role: "msa_log_retention", secretName: `${LOG_ELASTICSEARCH_NAME}-retention-user` },
} as const;
export type EckUser = keyof typeof ECK_USERS;
/** The Secret (key `roles.yml`) defining the roles of {@link ECK_USERS}, referenced by the Elasticsearch's `spec.auth.roles`. */
export const ECK_ROLES_SECRET = `${LOG_ELASTICSEARCH_NAME}-roles`;
/** Logstash's ServiceAccount: the Kubernetes identity a cloud identity (IRSA, Workload Identity) is bound to. */
export const LOGSTASH_SERVICE_ACCOUNT = "logstash";
/** The Service shippers reach Logstash through when there is no buffer. */
export const LOGSTASH_SERVICE = "logstash";
export const LOGSTASH_BEATS_PORT = 5044;
export const LOGSTASH_HTTP_PORT = 8080;
/** Kubernetes Secret (key `password`) holding a managed buffer's AUTH token in the logging namespace. */
export const LOG_BUFFER_SECRET = "log-buffer-auth";
/** The key of `LOG_BUFFER_SECRET` Logstash and Filebeat read REDIS_PASSWORD from. */
export const LOG_BUFFER_PASSWORD_KEY = "password";
/** HTTP actions Logstash needs on an OpenSearch domain to write bulk requests and create indices, and nothing else. */
export const LOGSTASH_DOMAIN_ACTIONS = ["es:ESHttpGet", "es:ESHttpPost", "es:ESHttpPut"] as const;

export const ECK_OPERATOR_CHART = { chart: "eck-operator", repository: "https://helm.elastic.co", version: "3.3.0", namespace: "elastic-system" } as const;
/** Elastic ships every stack component at the same version, so Filebeat and Logstash follow Elasticsearch. */
export const FILEBEAT_IMAGE = `docker.elastic.co/beats/filebeat:${VERSIONS.elasticsearch}`;
export const LOGSTASH_IMAGE = `docker.elastic.co/logstash/logstash:${VERSIONS.elasticsearch}`;
export const LOGSTASH_OPENSEARCH_IMAGE = "opensearchproject/logstash-oss-with-opensearch-output-plugin:8.9.0";
export const FLUENT_BIT_IMAGE = "cr.fluentbit.io/fluent/fluent-bit:3.2.10";
export const CURL_IMAGE = "curlimages/curl:8.11.1";

const LOGSTASH_UID = 1000;
const CURL_UID = 100;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const REGION = /^[a-z]{2}(-[a-z0-9]+)+$/;
const ES_HOST = `https://${LOG_ELASTICSEARCH_NAME}-es-http`;
const ES_CA_PATH = "/etc/elasticsearch-ca";

/**
 * The ELK log pipeline of the seed: a shipper DaemonSet on every node pushing container logs to
 * the Redis list `plan.logging.bufferKey` (or straight to Logstash without a buffer), Logstash
 * popping that list into OpenSearch or ECK Elasticsearch, and, for ECK, the operator, Elasticsearch,
 * Kibana and the retention policy. Everything but the operator lives in `plan.logging.namespace`.
 */
export function logPipelineAddOn(plan: LandingZonePlan, options: LogPipelineOptions): AddOn {
  const logging = plan.logging;
  if (!logging) throw new Error(`logPipelineAddOn: plan.logging is undefined. Fix: set logging.stack: elk in the spec, or do not install the log pipeline`);
  checkOptions(logging, options);
  const namespace = logging.namespace;
  const { sink, buffer } = options;

  const manifests: ManifestObject[] = [
    loggingNamespace(plan, namespace),
    ...networkPolicies(plan, namespace, sink, buffer === undefined),
    ...(sink.kind === "eck" ? eckResources(plan, namespace) : []),
    // Before the pods that mount it.
    ...(buffer?.passwordSecretProviderClass ? [buffer.passwordSecretProviderClass] : []),
    ...logstash(plan, namespace, options),
    ...shipperManifests(plan, namespace, logging, buffer),
  ];
  const helmReleases: HelmReleaseSpec[] =
    sink.kind === "eck"
      ? [
          {
            name: "elastic-operator",
            namespace: ECK_OPERATOR_CHART.namespace,
            chart: ECK_OPERATOR_CHART.chart,
            repository: ECK_OPERATOR_CHART.repository,
            version: ECK_OPERATOR_CHART.version,
            values: { installCRDs: true, resources: { requests: { cpu: "100m", memory: "150Mi" }, limits: { memory: "512Mi" } } },
            createNamespace: true,
          },
        ]
      : [];
  return { name: "log-pipeline", namespace, helmReleases, manifests, dependsOn: [] };
}

/**
 * The SecretProviderClass that mirrors a Secrets Manager secret holding the buffer's AUTH token into
 * `LOG_BUFFER_SECRET` (key `password`), read by the pods with their own Pod Identity: pass it as
 * `LogBuffer.passwordSecretProviderClass`. Both pods' identities need read on `secretArn`.
 *
 * @example
 * logPipelineAddOn(plan, { sink, buffer: { host, port: 6379, tls: true, passwordSecretName: LOG_BUFFER_SECRET, passwordSecretProviderClass: logBufferSecretProviderClass(plan, tokenArn) } });
 */
export function logBufferSecretProviderClass(plan: LandingZonePlan, secretArn: string): ManifestObject {
  const logging = plan.logging;
  if (!logging) throw new Error(`logBufferSecretProviderClass: plan.logging is undefined. Fix: set logging.stack: elk in the spec`);
  return secretProviderClass({ name: LOG_BUFFER_SECRET, namespace: logging.namespace, labels: commonLabels(plan), secrets: [{ key: LOG_BUFFER_PASSWORD_KEY, secretArn }] });
}

/** The Logstash pipeline (`logstash.conf`): Redis list, Beats or HTTP input, OpenSearch or Elasticsearch output. */
export function logstashPipelineConfig(plan: LandingZonePlan, options: LogPipelineOptions): string {
  const logging = plan.logging;
  if (!logging) throw new Error(`logstashPipelineConfig: plan.logging is undefined. Fix: set logging.stack: elk in the spec`);
  checkOptions(logging, options);
  const { sink, buffer } = options;
  const input = buffer
    ? [
        "  redis {",
        `    host => "${buffer.host}"`,
        `    port => ${buffer.port}`,
        `    data_type => "list"`,
        `    key => "${logging.bufferKey}"`,
        `    ssl => ${buffer.tls}`,
        `    password => "\${REDIS_PASSWORD}"`,
        `    codec => json`,
        "  }",
      ]
    : logging.shipper === "filebeat"
      ? ["  beats {", `    port => ${LOGSTASH_BEATS_PORT}`, "  }"]
      : // Fluent Bit posts JSON arrays; the json codec splits them into one event per record.
        ["  http {", `    port => ${LOGSTASH_HTTP_PORT}`, "    codec => json", "  }"];
  const cloudInputs = options.cloudInputs ?? [];
  const cloud = cloudInputs.flatMap((entry, i) =>
    entry.kind === "google-pubsub"
      ? [
          "  google_pubsub {",
          `    project_id => "${entry.projectId}"`,
          `    topic => "${entry.topic}"`,
          `    subscription => "${entry.subscription}"`,
          "    create_subscription => false",
          // Each message is one LogEntry as JSON.
          "    codec => json",
          "  }",
        ]
      : [
          "  azure_event_hubs {",
          `    event_hub_connections => ["\${${azureEventHubsEnv(i).eventHub}}"]`,
          `    storage_connection => "\${${azureEventHubsEnv(i).storage}}"`,
          `    storage_container => "${AZURE_EVENT_HUBS_CHECKPOINT_CONTAINER}"`,
          `    consumer_group => "${entry.consumerGroup}"`,
          // The plugin's documented floor; one hub needs no more.
          "    threads => 2",
          // Each message is one {"records": [...]} batch of resource log entries.
          "    codec => json",
          `    tags => ["${AZURE_RECORDS_TAG}"]`,
          "  }",
        ],
  );
  // Azure Monitor batches entries; one event per entry, as every other input yields.
  const filter = cloudInputs.some((entry) => entry.kind === "azure-event-hubs")
    ? ["filter {", `  if "${AZURE_RECORDS_TAG}" in [tags] {`, '    split { field => "records" }', "  }", "}"]
    : [];
  const index = `${LOG_INDEX_PREFIX}-%{+YYYY.MM.dd}`;
  const output =
    sink.kind === "opensearch"
      ? [
          "  opensearch {",
          `    hosts => ["${opensearchUrl(sink.endpoint)}"]`,
          `    auth_type => { type => "aws_iam" region => "${sink.region}" }`,
          `    index => "${index}"`,
          // The domain's index policies own templates; the pod's IAM role needs no template rights.
          "    manage_template => false",
          "    ecs_compatibility => disabled",
          "  }",
        ]
      : [
          "  elasticsearch {",
          `    hosts => ["${ES_HOST}.${logging.namespace}.svc:9200"]`,
          `    user => "${ECK_USERS.writer.username}"`,
          `    password => "\${ELASTIC_PASSWORD}"`,
          // The writer role may create documents, not overwrite them.
          '    action => "create"',
          "    ssl_enabled => true",
          `    ssl_certificate_authorities => ["${ES_CA_PATH}/ca.crt"]`,
          `    index => "${index}"`,
          // The retention Job installs the template and ILM policy; data streams would ignore `index`.
          "    manage_template => false",
          "    ilm_enabled => false",
          "    data_stream => false",
          "  }",
        ];
  return ["input {", ...input, ...cloud, "}", ...filter, "output {", ...output, "}", ""].join("\n");
}

function checkOptions(logging: LogPipelinePlan, options: LogPipelineOptions): void {
  const { sink, buffer } = options;
  if (logging.buffer && !buffer) {
    throw new Error(
      `logPipelineAddOn options.buffer: undefined, but plan.logging.buffer asks for a Redis buffer. Fix: pass { host, port, tls, passwordSecretName } of the buffer Redis, or set logging.buffer: none`,
    );
  }
  if (!logging.buffer && buffer) {
    throw new Error(`logPipelineAddOn options.buffer: ${buffer.host}:${buffer.port} given, but plan.logging.buffer is undefined. Fix: drop options.buffer, or set logging.buffer: redis`);
  }
  if (buffer) {
    if (logging.shipper !== "filebeat") {
      throw new Error(`logPipelineAddOn options.buffer: plan.logging.shipper "${logging.shipper}" has no Redis output. Fix: use shipper: filebeat, or buffer: none`);
    }
    if (!HOSTNAME.test(buffer.host)) throw new Error(`logPipelineAddOn options.buffer.host: "${buffer.host}" is not a host name. Fix: pass the Redis primary endpoint without scheme or port`);
    if (!Number.isInteger(buffer.port) || buffer.port < 1 || buffer.port > 65535) {
      throw new Error(`logPipelineAddOn options.buffer.port: ${buffer.port} is not a TCP port. Fix: use an integer from 1 to 65535, e.g. 6379`);
    }
    assertKubernetesName("logPipelineAddOn options.buffer.passwordSecretName", buffer.passwordSecretName);
    if (buffer.passwordSecretProviderClass) checkPasswordProvider(logging, buffer, buffer.passwordSecretProviderClass);
  }
  for (const [i, entry] of (options.cloudInputs ?? []).entries()) {
    if (entry.kind === "azure-event-hubs") {
      assertKubernetesName(`logPipelineAddOn options.cloudInputs[${i}].secretName`, entry.secretName);
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/.test(entry.consumerGroup)) {
        throw new Error(`logPipelineAddOn options.cloudInputs[${i}].consumerGroup: "${entry.consumerGroup}" is not an Event Hubs consumer group name. Fix: use 1-50 letters, digits, '.', '_' or '-', e.g. logstash`);
      }
      continue;
    }
    for (const key of ["projectId", "topic", "subscription"] as const) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._~+%-]*$/.test(entry[key])) {
        throw new Error(`logPipelineAddOn options.cloudInputs[${i}].${key}: "${entry[key]}" is not a bare Google Cloud project, topic or subscription name. Fix: pass the name, not the projects/... id`);
      }
    }
  }
  if (sink.kind === "opensearch") {
    opensearchUrl(sink.endpoint);
    if (!REGION.test(sink.region)) throw new Error(`logPipelineAddOn options.sink.region: "${sink.region}" is not an AWS region. Fix: pass the domain's region, e.g. ap-northeast-2`);
  }
  if (sink.kind === "eck" && logging.search.implementation !== "elasticsearch-eck") {
    throw new Error(`logPipelineAddOn options.sink.kind: "eck", but plan.logging.search.implementation is "${logging.search.implementation}". Fix: pass { kind: "opensearch", endpoint, region }`);
  }
}

/** The class must live beside the pods and mirror exactly the Secret and key they read. */
function checkPasswordProvider(logging: LogPipelinePlan, buffer: LogBuffer, provider: ManifestObject): void {
  const where = "logPipelineAddOn options.buffer.passwordSecretProviderClass";
  if (provider.kind !== "SecretProviderClass" || provider.metadata.namespace !== logging.namespace) {
    throw new Error(`${where}: ${provider.kind} ${provider.metadata.namespace ?? ""}/${provider.metadata.name} is not a SecretProviderClass in "${logging.namespace}". Fix: pass logBufferSecretProviderClass(plan, secretArn)`);
  }
  const mirrors = (provider["spec"] as { secretObjects?: { secretName?: string; data?: { key?: string }[] }[] } | undefined)?.secretObjects ?? [];
  if (!mirrors.some((m) => m.secretName === buffer.passwordSecretName && (m.data ?? []).some((d) => d.key === LOG_BUFFER_PASSWORD_KEY))) {
    throw new Error(`${where}: ${provider.metadata.name} does not mirror key "${LOG_BUFFER_PASSWORD_KEY}" into Secret "${buffer.passwordSecretName}". Fix: add a secretObjects entry for it, or pass logBufferSecretProviderClass(plan, secretArn)`);
  }
}

/** The CSI volume (and its mount) that keeps the mirrored buffer password in place while the pod runs. */
function passwordProviderVolume(buffer: LogBuffer | undefined): { volumes: IVolume[]; volumeMounts: IVolumeMount[] } {
  const provider = buffer?.passwordSecretProviderClass;
  if (!provider) return { volumes: [], volumeMounts: [] };
  return {
    volumes: [{ name: "buffer-password", csi: { driver: SECRETS_STORE_CSI_DRIVER, readOnly: true, volumeAttributes: { secretProviderClass: provider.metadata.name } } }],
    volumeMounts: [{ name: "buffer-password", mountPath: SECRETS_MOUNT_PATH, readOnly: true }],
  };
}

const AZURE_RECORDS_TAG = "azure-resource-logs";

/** Environment variables the i-th cloud input's connection strings reach Logstash through. */
function azureEventHubsEnv(i: number): { eventHub: string; storage: string } {
  return { eventHub: `AZURE_EVENT_HUB_CONNECTION_${i}`, storage: `AZURE_CHECKPOINT_STORAGE_CONNECTION_${i}` };
}

/** Connection strings stay in their Secret; the pipeline names only the variables. */
function cloudInputEnv(inputs: readonly CloudLogInput[]): IEnvVar[] {
  return inputs.flatMap((entry, i) =>
    entry.kind === "azure-event-hubs"
      ? [
          { name: azureEventHubsEnv(i).eventHub, valueFrom: { secretKeyRef: { name: entry.secretName, key: AZURE_EVENT_HUBS_SECRET_KEYS.eventHub } } },
          { name: azureEventHubsEnv(i).storage, valueFrom: { secretKeyRef: { name: entry.secretName, key: AZURE_EVENT_HUBS_SECRET_KEYS.storage } } },
        ]
      : [],
  );
}

function redisPasswordEnv(buffer: LogBuffer): IEnvVar {
  return { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: buffer.passwordSecretName, key: LOG_BUFFER_PASSWORD_KEY } } };
}

/** `https://<host>:443` from a domain endpoint given with or without scheme; plain HTTP is refused. */
function opensearchUrl(endpoint: string): string {
  const host = endpoint.replace(/^https:\/\//, "").replace(/(:443)?\/?$/, "");
  if (!HOSTNAME.test(host)) {
    throw new Error(`logPipelineAddOn options.sink.endpoint: "${endpoint}" is not an HTTPS domain endpoint. Fix: pass the domain endpoint host, e.g. vpc-logs-abc.ap-northeast-2.es.amazonaws.com`);
  }
  return `https://${host}:443`;
}

function commonLabels(plan: LandingZonePlan): Record<string, string> {
  return { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY };
}

function loggingNamespace(plan: LandingZonePlan, namespace: string): ManifestObject {
  return validatedManifest(
    new Namespace({
      metadata: {
        name: namespace,
        labels: {
          ...commonLabels(plan),
          // The node shipper reads host logs through hostPath as root, which only "privileged" admits.
          "pod-security.kubernetes.io/enforce": "privileged",
          "pod-security.kubernetes.io/warn": "baseline",
          "pod-security.kubernetes.io/audit": "baseline",
        },
      },
    }),
  );
}

function networkPolicies(plan: LandingZonePlan, namespace: string, sink: LogSink, shippersPush: boolean): ManifestObject[] {
  const labels = commonLabels(plan);
  const policy = (name: string, spec: INetworkPolicySpec) =>
    validatedManifest(new NetworkPolicy({ metadata: { name, namespace, labels }, spec }));
  return [
    policy("default-deny-ingress", { podSelector: {}, policyTypes: ["Ingress"] }),
    ...(shippersPush
      ? [
          policy("allow-shippers-to-logstash", {
            podSelector: { matchLabels: selectorFor(plan, "logstash") },
            policyTypes: ["Ingress"],
            ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: LOGSTASH_BEATS_PORT }, { protocol: "TCP", port: LOGSTASH_HTTP_PORT }] }],
          }),
        ]
      : []),
    ...(sink.kind === "eck"
      ? [
          // Logstash, Kibana, the retention Job and the Elasticsearch nodes talk to each other.
          policy("allow-elasticsearch-in-namespace", {
            podSelector: { matchLabels: { "common.k8s.elastic.co/type": "elasticsearch" } },
            policyTypes: ["Ingress"],
            ingress: [{ from: [{ podSelector: {} }] }],
          }),
          policy("allow-eck-operator-to-elasticsearch", {
            podSelector: { matchLabels: { "common.k8s.elastic.co/type": "elasticsearch" } },
            policyTypes: ["Ingress"],
            ingress: [
              { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ECK_OPERATOR_CHART.namespace } } }], ports: [{ protocol: "TCP", port: 9200 }] },
            ],
          }),
          policy("allow-ingress-to-kibana", {
            podSelector: { matchLabels: { "common.k8s.elastic.co/type": "kibana" } },
            policyTypes: ["Ingress"],
            ingress: [{ from: [{ namespaceSelector: { matchLabels: { [INGRESS_NAMESPACE_LABEL]: "true" } } }], ports: [{ protocol: "TCP", port: 5601 }] }],
          }),
        ]
      : []),
  ];
}

/**
 * The roles of {@link ECK_USERS}, in Elasticsearch's role format. The writer's `monitor` covers the
 * version and license checks Logstash makes at start; it creates documents (`action => create`) and
 * daily indices, and cannot read, update or delete them. ILM runs a policy's actions as the user who
 * last put it, so the retention user also needs `manage` on the indices its policy deletes.
 */
export const ECK_ROLES = {
  [ECK_USERS.writer.role]: { cluster: ["monitor"], indices: [{ names: [`${LOG_INDEX_PREFIX}-*`], privileges: ["create_doc", "create_index"] }] },
  [ECK_USERS.retention.role]: { cluster: ["manage_ilm", "manage_index_templates"], indices: [{ names: [`${LOG_INDEX_PREFIX}-*`], privileges: ["manage"] }] },
} as const;

/** The Secret data of an ECK file-realm user but its password, which the engine generates into `password`. */
export function eckUserSecretData(user: EckUser): { readonly username: string; readonly roles: string } {
  return { username: ECK_USERS[user].username, roles: ECK_USERS[user].role };
}

/** ECK custom resources (no kubernetes-models class: checked structurally by the tests), the pipeline's roles and the retention Job. */
function eckResources(plan: LandingZonePlan, namespace: string): ManifestObject[] {
  const { search, retentionDays } = plan.logging!;
  const labels = commonLabels(plan);
  const roles = validatedManifest(
    new Secret({ metadata: { name: ECK_ROLES_SECRET, namespace, labels }, type: "Opaque", stringData: { "roles.yml": stringify(ECK_ROLES) } }),
  );
  const elasticsearch: ManifestObject = {
    apiVersion: "elasticsearch.k8s.elastic.co/v1",
    kind: "Elasticsearch",
    metadata: { name: LOG_ELASTICSEARCH_NAME, namespace, labels },
    spec: {
      version: search.engineVersion,
      auth: { roles: [{ secretName: ECK_ROLES_SECRET }], fileRealm: Object.values(ECK_USERS).map((user) => ({ secretName: user.secretName })) },
      nodeSets: [
        {
          name: "default",
          count: search.instanceCount,
          // mmap needs vm.max_map_count on the node; niofs avoids a privileged init container.
          config: { "node.store.allow_mmap": false },
          podTemplate: {
            spec: {
              containers: [{ name: "elasticsearch", resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { memory: "2Gi" } } }],
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: "topology.kubernetes.io/zone",
                  whenUnsatisfiable: "ScheduleAnyway",
                  labelSelector: { matchLabels: { "elasticsearch.k8s.elastic.co/cluster-name": LOG_ELASTICSEARCH_NAME } },
                },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "elasticsearch-data" },
              spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: `${search.volumeGiB}Gi` } } },
            },
          ],
        },
      ],
    },
  };
  const kibana: ManifestObject = {
    apiVersion: "kibana.k8s.elastic.co/v1",
    kind: "Kibana",
    metadata: { name: LOG_ELASTICSEARCH_NAME, namespace, labels },
    spec: {
      version: search.engineVersion,
      count: 1,
      elasticsearchRef: { name: LOG_ELASTICSEARCH_NAME },
      podTemplate: { spec: { containers: [{ name: "kibana", resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { memory: "1Gi" } } }] } },
    },
  };
  return [roles, elasticsearch, kibana, retentionJob(plan, namespace, retentionDays)];
}

/**
 * Installs the ILM policy deleting `msa-logs-*` indices after `retentionDays` and the index template
 * attaching it. Jobs are immutable, so the name carries a hash of what it installs.
 */
function retentionJob(plan: LandingZonePlan, namespace: string, retentionDays: number): ManifestObject {
  const policy = JSON.stringify({ policy: { phases: { hot: { actions: {} }, delete: { min_age: `${retentionDays}d`, actions: { delete: {} } } } } });
  const template = JSON.stringify({
    index_patterns: [`${LOG_INDEX_PREFIX}-*`],
    priority: 200,
    template: { settings: { "index.lifecycle.name": LOG_INDEX_PREFIX, "index.number_of_replicas": Math.min(1, plan.logging!.search.instanceCount - 1) } },
  });
  const url = `${ES_HOST}.${namespace}.svc:9200`;
  // curl reads the credentials from stdin (-K -) so the password never appears in a process list.
  const put = (path: string, body: string) =>
    `printf 'user = "${ECK_USERS.retention.username}:%s"\\n' "$ELASTIC_PASSWORD" | curl -fsS -K - --cacert ${ES_CA_PATH}/ca.crt -X PUT -H 'Content-Type: application/json' "${url}${path}" -d "$${body}"`;
  const script = ["set -eu", put(`/_ilm/policy/${LOG_INDEX_PREFIX}`, "POLICY"), put(`/_index_template/${LOG_INDEX_PREFIX}`, "TEMPLATE")].join("\n");
  const name = `log-retention-${shortHash(policy + template + script)}`;
  const labels = labelsFor(plan, "log-retention");
  return validatedManifest(
    new Job({
      metadata: { name, namespace, labels },
      spec: {
        // Elasticsearch takes minutes to form; exponential back-off covers about half an hour.
        backoffLimit: 8,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: "OnFailure",
            automountServiceAccountToken: false,
            securityContext: podSecurity(CURL_UID),
            containers: [
              {
                name: "install",
                image: CURL_IMAGE,
                command: ["/bin/sh", "-c", script],
                env: [{ name: "POLICY", value: policy }, { name: "TEMPLATE", value: template }, elasticPasswordEnv("retention")],
                resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
                securityContext: containerSecurity(),
                volumeMounts: [{ name: "elasticsearch-ca", mountPath: ES_CA_PATH, readOnly: true }],
              },
            ],
            volumes: [elasticsearchCaVolume()],
          },
        },
      },
    }),
  );
}

function elasticPasswordEnv(user: EckUser): IEnvVar {
  return { name: "ELASTIC_PASSWORD", valueFrom: { secretKeyRef: { name: ECK_USERS[user].secretName, key: "password" } } };
}

function elasticsearchCaVolume(): IVolume {
  return { name: "elasticsearch-ca", secret: { secretName: `${LOG_ELASTICSEARCH_NAME}-es-http-certs-public`, items: [{ key: "ca.crt", path: "ca.crt" }] } };
}

function podSecurity(uid: number): IPodSecurityContext {
  return { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: "RuntimeDefault" } };
}

function containerSecurity(readOnlyRootFilesystem = true): ISecurityContext {
  return { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem, capabilities: { drop: ["ALL"] } };
}

function logstash(plan: LandingZonePlan, namespace: string, options: LogPipelineOptions): ManifestObject[] {
  const logging = plan.logging!;
  const { sink, buffer } = options;
  const name = LOGSTASH_SERVICE_ACCOUNT;
  const labels = labelsFor(plan, name);
  const selector = selectorFor(plan, name);
  const pipeline = logstashPipelineConfig(plan, options);
  const env: IEnvVar[] = [
    { name: "LS_JAVA_OPTS", value: "-Xms1g -Xmx1g" },
    ...(buffer ? [redisPasswordEnv(buffer)] : []),
    ...(sink.kind === "eck" ? [elasticPasswordEnv("writer")] : []),
    ...cloudInputEnv(options.cloudInputs ?? []),
  ];
  const passwordProvider = passwordProviderVolume(buffer);
  const volumeMounts: IVolumeMount[] = [
    { name: "pipeline", mountPath: "/usr/share/logstash/pipeline", readOnly: true },
    { name: "data", mountPath: "/usr/share/logstash/data" },
    ...(sink.kind === "eck" ? [{ name: "elasticsearch-ca", mountPath: ES_CA_PATH, readOnly: true }] : []),
    ...passwordProvider.volumeMounts,
  ];
  const volumes: IVolume[] = [
    { name: "pipeline", configMap: { name: "logstash-pipeline" } },
    { name: "data", emptyDir: {} },
    ...(sink.kind === "eck" ? [elasticsearchCaVolume()] : []),
    ...passwordProvider.volumes,
  ];
  const inputs: { name: string; port: number }[] = buffer
    ? []
    : logging.shipper === "filebeat"
      ? [{ name: "beats", port: LOGSTASH_BEATS_PORT }]
      : [{ name: "http", port: LOGSTASH_HTTP_PORT }];
  const ports: IContainerPort[] = [...inputs, { name: "api", port: 9600 }].map((p) => ({ name: p.name, containerPort: p.port, protocol: "TCP" }));
  const replicas = logging.logstashReplicas;

  return [
    validatedManifest(
      new ServiceAccount({
        metadata: { name, namespace, labels, ...(options.logstashServiceAccountAnnotations ? { annotations: options.logstashServiceAccountAnnotations } : {}) },
        // Logstash never calls the Kubernetes API; IRSA and Workload Identity bring their own tokens.
        automountServiceAccountToken: false,
      }),
    ),
    validatedManifest(new ConfigMap({ metadata: { name: "logstash-pipeline", namespace, labels }, data: { "logstash.conf": pipeline } })),
    validatedManifest(
      new Deployment({
        metadata: { name, namespace, labels },
        spec: {
          replicas,
          selector: { matchLabels: selector },
          template: {
            // A pipeline change rolls the pods, which read it only at start.
            metadata: { labels, annotations: { "checksum/pipeline": shortHash(pipeline, 16) } },
            spec: {
              serviceAccountName: name,
              securityContext: podSecurity(LOGSTASH_UID),
              topologySpreadConstraints: [
                { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } },
              ],
              containers: [
                {
                  name,
                  image: sink.kind === "opensearch" ? LOGSTASH_OPENSEARCH_IMAGE : LOGSTASH_IMAGE,
                  ports,
                  env,
                  resources: { requests: { cpu: "500m", memory: "1536Mi" }, limits: { memory: "1536Mi" } },
                  readinessProbe: { httpGet: { path: "/", port: "api" }, initialDelaySeconds: 30, periodSeconds: 10 },
                  livenessProbe: { httpGet: { path: "/", port: "api" }, initialDelaySeconds: 120, periodSeconds: 20, failureThreshold: 3 },
                  // The image's entrypoint rewrites config/logstash.yml at start, so the root filesystem stays writable.
                  securityContext: containerSecurity(false),
                  volumeMounts,
                },
              ],
              volumes,
            },
          },
        },
      }),
    ),
    ...(replicas > 1
      ? [validatedManifest(new PodDisruptionBudget({ metadata: { name, namespace, labels }, spec: { selector: { matchLabels: selector }, minAvailable: 1 } }))]
      : []),
    ...(buffer
      ? []
      : [
          validatedManifest(
            new Service({
              metadata: { name: LOGSTASH_SERVICE, namespace, labels },
              spec: {
                type: "ClusterIP",
                selector,
                ports: inputs.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: "TCP" })),
              },
            }),
          ),
        ]),
  ];
}

/** The shipper's configuration file: where it reads container logs and where it sends them. */
export function shipperConfig(plan: LandingZonePlan, buffer?: LogBuffer): string {
  const logging = plan.logging;
  if (!logging) throw new Error(`shipperConfig: plan.logging is undefined. Fix: set logging.stack: elk in the spec`);
  const logstashHost = `${LOGSTASH_SERVICE}.${logging.namespace}.svc.cluster.local`;
  if (logging.shipper === "fluent-bit") {
    if (buffer) throw new Error(`shipperConfig buffer: Fluent Bit has no Redis output. Fix: use shipper: filebeat, or buffer: none`);
    return [
      "[SERVICE]",
      "    Flush        5",
      "    Log_Level    info",
      "[INPUT]",
      "    Name              tail",
      "    Path              /var/log/containers/*.log",
      "    multiline.parser  docker, cri",
      "    Tag               kube.*",
      "    DB                /var/fluent-bit/state/flb_kube.db",
      "    Mem_Buf_Limit     50MB",
      "    Skip_Long_Lines   On",
      "[FILTER]",
      "    Name       kubernetes",
      "    Match      kube.*",
      "    Merge_Log  On",
      "[OUTPUT]",
      "    Name              http",
      "    Match             *",
      `    Host              ${logstashHost}`,
      `    Port              ${LOGSTASH_HTTP_PORT}`,
      "    URI               /",
      "    Format            json",
      "    json_date_key     @timestamp",
      "    json_date_format  iso8601",
      "    Retry_Limit       False",
      "",
    ].join("\n");
  }
  const output = buffer
    ? {
        "output.redis": {
          hosts: [`${buffer.host}:${buffer.port}`],
          key: logging.bufferKey,
          data_type: "list",
          password: "${REDIS_PASSWORD}",
          "ssl.enabled": buffer.tls,
        },
      }
    : { "output.logstash": { hosts: [`${logstashHost}:${LOGSTASH_BEATS_PORT}`] } };
  return stringify(
    {
      "filebeat.inputs": [
        {
          type: "filestream",
          id: "kubernetes-container-logs",
          paths: ["/var/log/containers/*.log"],
          "prospector.scanner.symlinks": true,
          parsers: [{ container: { stream: "all" } }],
          processors: [{ add_kubernetes_metadata: { host: "${NODE_NAME}", matchers: [{ logs_path: { logs_path: "/var/log/containers/" } }] } }],
        },
      ],
      ...output,
    },
    { lineWidth: 0 },
  );
}

// Filebeat as plain manifests: the elastic/helm-charts Filebeat chart is archived (last 8.5.1) and its RBAC is broader than these three read-only resources.
function shipperManifests(plan: LandingZonePlan, namespace: string, logging: LogPipelinePlan, buffer: LogBuffer | undefined): ManifestObject[] {
  const name = logging.shipper;
  const labels = labelsFor(plan, name);
  const selector = selectorFor(plan, name);
  // Cluster-scoped names must not collide between landing zones sharing a cluster.
  const clusterName = `${plan.name}-${namespace}-${name}`;
  const config = shipperConfig(plan, buffer);
  const filebeat = name === "filebeat";
  const configMountPath = filebeat ? "/etc/filebeat" : "/fluent-bit/etc";
  const stateDir = filebeat ? { host: "/var/lib/filebeat-data", mount: "/usr/share/filebeat/data" } : { host: "/var/lib/fluent-bit", mount: "/var/fluent-bit/state" };
  const passwordProvider = passwordProviderVolume(buffer);

  const container: IContainer = {
    name,
    image: filebeat ? FILEBEAT_IMAGE : FLUENT_BIT_IMAGE,
    ...(filebeat ? { args: ["-c", `${configMountPath}/filebeat.yml`, "-e"] } : {}),
    env: [
      { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
      ...(buffer ? [redisPasswordEnv(buffer)] : []),
    ],
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
    // Root reads the root-owned files under /var/log; no capability, no escalation, nothing writable but its state dir.
    securityContext: { runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
    volumeMounts: [
      { name: "config", mountPath: configMountPath, readOnly: true },
      { name: "varlog", mountPath: "/var/log", readOnly: true },
      { name: "state", mountPath: stateDir.mount },
      ...passwordProvider.volumeMounts,
    ],
  };

  return [
    validatedManifest(new ServiceAccount({ metadata: { name, namespace, labels } })),
    validatedManifest(
      new ClusterRole({
        metadata: { name: clusterName, labels },
        // Only what the Kubernetes metadata enrichment reads.
        rules: [{ apiGroups: [""], resources: ["pods", "namespaces", "nodes"], verbs: ["get", "list", "watch"] }],
      }),
    ),
    validatedManifest(
      new ClusterRoleBinding({
        metadata: { name: clusterName, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterName },
        subjects: [{ kind: "ServiceAccount", name, namespace }],
      }),
    ),
    validatedManifest(new ConfigMap({ metadata: { name: `${name}-config`, namespace, labels }, data: { [filebeat ? "filebeat.yml" : "fluent-bit.conf"]: config } })),
    validatedManifest(
      new DaemonSet({
        metadata: { name, namespace, labels },
        spec: {
          selector: { matchLabels: selector },
          updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
          template: {
            metadata: { labels, annotations: { "checksum/config": shortHash(config, 16) } },
            spec: {
              serviceAccountName: name,
              securityContext: { seccompProfile: { type: "RuntimeDefault" } },
              // Logs of every node, tainted ones included.
              tolerations: [{ operator: "Exists", effect: "NoSchedule" }],
              terminationGracePeriodSeconds: 30,
              containers: [container],
              volumes: [
                { name: "config", configMap: { name: `${name}-config` } },
                { name: "varlog", hostPath: { path: "/var/log", type: "Directory" } },
                { name: "state", hostPath: { path: stateDir.host, type: "DirectoryOrCreate" } },
                ...passwordProvider.volumes,
              ],
            },
          },
        },
      }),
    ),
  ];
}
