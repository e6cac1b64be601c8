import { Kafka } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2/Kafka";
import { KafkaNodePool } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2/KafkaNodePool";
import { KafkaTopic } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2/KafkaTopic";
import { KafkaUser } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2/KafkaUser";
import type { LandingZonePlan, ServicePlan } from "../plan/types.js";
import { MANAGED_BY } from "./labels.js";
import { workloadNamespace } from "./namespace.js";
import { validatedManifest } from "./render.js";
import type { AddOn } from "./types.js";
import { KAFKA_TLS_FILES, type KafkaClientTls } from "./workload.js";

export const STRIMZI_CHART = { chart: "strimzi-kafka-operator", repository: "https://strimzi.io/charts/", version: "0.45.1" } as const;
/** Namespace of the Strimzi operator, the Kafka cluster, its topics and users. */
export const KAFKA_NAMESPACE = "kafka";
export const KAFKA_TLS_PORT = 9093;
/** Partitions per topic: room for three consumers per subscription to share the load. */
export const KAFKA_TOPIC_PARTITIONS = 3;

/** Kafka releases the pinned Strimzi operator runs, per minor line the plan may ask for. */
const STRIMZI_KAFKA_VERSIONS: Readonly<Record<string, string>> = { "3.8": "3.8.1", "3.9": "3.9.1" };
const DAY_MS = 24 * 60 * 60 * 1000;
/** Validity of Strimzi's cluster CA certificate, the data CA's ten years. */
export const KAFKA_CLUSTER_CA_VALIDITY_DAYS = 3650;

/** The exact Kafka release for a plan version such as `3.8.x` (MSK's notation). */
export function strimziKafkaVersion(planVersion: string): string {
  const minor = /^(\d+\.\d+)(\.[0-9x]+)?$/.exec(planVersion)?.[1];
  const version = minor === undefined ? undefined : STRIMZI_KAFKA_VERSIONS[minor];
  if (!version) {
    throw new Error(
      `kafkaAddOn plan.broker.kafka.version: "${planVersion}" is not run by Strimzi ${STRIMZI_CHART.version}. Fix: use one of ${Object.keys(STRIMZI_KAFKA_VERSIONS).map((v) => `${v}.x`).join(", ")}`,
    );
  }
  return version;
}

/** A KafkaUser ACL allowing `operations` on one topic or consumer group, named exactly. */
function acl(type: "topic" | "group", name: string, operations: ("Read" | "Write" | "Describe")[]) {
  return { resource: { type, name, patternType: "literal" as const }, operations };
}

/** Consumer group a service reads an event store with: `<reader>_<store topic>`. */
export function eventStoreGroup(reader: string, storeTopic: string): string {
  return `${reader}_${storeTopic}`;
}

/** What a Kafka client service is told: where the brokers are and the PEM files of its mutual-TLS identity. */
export const KAFKA_CLIENT_ENV = {
  /** `host:port` of the TLS listener. */
  bootstrapServers: "KAFKA_BOOTSTRAP_SERVERS",
  /** The brokers' CA (Strimzi's cluster CA) to verify them with. */
  caFile: "KAFKA_CA_FILE",
  /** The service's client certificate, signed by Strimzi's clients CA. */
  certFile: "KAFKA_CERT_FILE",
  /** The private key of that certificate. */
  keyFile: "KAFKA_KEY_FILE",
} as const;

/** The Secret in the Kafka namespace where Strimzi keeps the cluster CA certificate (`ca.crt`) the brokers' certificates chain to. */
export function strimziClusterCaSecret(plan: LandingZonePlan): string {
  return `${plan.name}-cluster-ca-cert`;
}

/** The copy of {@link strimziClusterCaSecret}'s `ca.crt` in the workloads namespace. */
export function kafkaClusterCaSecretName(plan: LandingZonePlan): string {
  return `${plan.name}-kafka-cluster-ca`;
}

/**
 * The ACLs of a service's KafkaUser: exactly its topics and consumer groups (publisher, subscriber,
 * event store owner or reader); empty when it uses no Kafka, and then it gets no KafkaUser.
 */
export function kafkaUserAcls(plan: LandingZonePlan, service: ServicePlan) {
  const broker = plan.broker;
  if (!broker) return [];
  const writes = broker.topics.filter((t) => t.publishers.includes(service.name));
  const reads = broker.topics.flatMap((t) => t.subscriptions.filter((s) => s.subscriber === service.name).map((s) => ({ topic: t.event, group: s.name })));
  // The owner appends to and replays its store; read models over it may replay it too.
  const storeReads = plan.services
    .filter((source) => source.eventStore && (source.name === service.name || service.readModel?.sources.includes(source.name)))
    .map((source) => ({ topic: source.eventStore!.name, group: eventStoreGroup(service.name, source.eventStore!.name), owner: source.name === service.name }));
  return [
    ...storeReads.flatMap((r) => [acl("topic", r.topic, r.owner ? ["Write", "Read", "Describe"] : ["Read", "Describe"]), acl("group", r.group, ["Read"])]),
    ...writes.map((t) => acl("topic", t.event, ["Write", "Describe"])),
    ...reads.flatMap((r) => [acl("topic", r.topic, ["Read", "Describe"]), acl("group", r.group, ["Read"])]),
  ];
}

/** The Secrets a service's pods mount to talk to the Strimzi brokers; undefined unless it has a KafkaUser. */
export function kafkaClientTls(plan: LandingZonePlan, service: ServicePlan): KafkaClientTls | undefined {
  if (plan.broker?.implementation !== "strimzi-kafka" || kafkaUserAcls(plan, service).length === 0) return undefined;
  return { userSecret: service.name, clusterCaSecret: kafkaClusterCaSecretName(plan) };
}

/** A Kafka client's environment: the bootstrap address and the files mounted from {@link kafkaClientTls}; empty for a service using no Kafka. */
export function kafkaClientEnv(plan: LandingZonePlan, service: ServicePlan): Record<string, string> {
  if (!kafkaClientTls(plan, service)) return {};
  return {
    [KAFKA_CLIENT_ENV.bootstrapServers]: kafkaBootstrapServers(plan),
    [KAFKA_CLIENT_ENV.caFile]: KAFKA_TLS_FILES.ca,
    [KAFKA_CLIENT_ENV.certFile]: KAFKA_TLS_FILES.cert,
    [KAFKA_CLIENT_ENV.keyFile]: KAFKA_TLS_FILES.key,
  };
}

/** Bootstrap address of the TLS listener clients in the workloads namespace connect to. */
export function kafkaBootstrapServers(plan: LandingZonePlan): string {
  return `${plan.name}-kafka-bootstrap.${KAFKA_NAMESPACE}.svc.cluster.local:${KAFKA_TLS_PORT}`;
}

/**
 * Strimzi-operated Kafka in KRaft mode: the operator Helm release, a Kafka cluster with one
 * dual-role KafkaNodePool (plan.broker.kafka.brokerNodes), a TLS listener with mutual-TLS
 * authentication reachable only from the workloads namespace, a KafkaTopic per plan topic
 * (retention plan.broker.retentionDays), an infinitely retained KafkaTopic per event store, and a
 * KafkaUser per service using them whose ACLs allow exactly its topics and consumer groups. The cluster is named after the plan; Strimzi
 * writes the cluster CA to `<name>-cluster-ca-cert` in the Kafka namespace and, as the User Operator
 * watches the workloads namespace, each user's certificate, key and the clients CA to a Secret named
 * after the service beside its pods ({@link kafkaClientTls}); the engine copies the cluster CA's
 * `ca.crt` there ({@link kafkaClusterCaSecretName}). The workloads namespace must exist first (the
 * operator's RoleBindings go there). Undefined unless the plan's broker is Strimzi Kafka.
 */
export function kafkaAddOn(plan: LandingZonePlan): AddOn | undefined {
  const broker = plan.broker;
  if (!broker?.kafka || broker.implementation !== "strimzi-kafka") return undefined;
  const cluster = plan.name;
  const namespace = KAFKA_NAMESPACE;
  const nodes = broker.kafka.brokerNodes;
  const replicas = Math.min(3, nodes);
  // One broker may be down (rolling update, node drain) while producers with acks=all keep writing.
  const minInSync = Math.max(1, replicas - 1);
  const labels = { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY };
  const clusterLabels = { ...labels, "strimzi.io/cluster": cluster };

  const kafka = new Kafka({
    metadata: { name: cluster, namespace, labels, annotations: { "strimzi.io/kraft": "enabled", "strimzi.io/node-pools": "enabled" } },
    spec: {
      kafka: {
        version: strimziKafkaVersion(broker.kafka.version),
        listeners: [
          {
            name: "tls",
            port: KAFKA_TLS_PORT,
            type: "internal",
            tls: true,
            authentication: { type: "tls" },
            networkPolicyPeers: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": workloadNamespace(plan) } } }],
          },
        ],
        authorization: { type: "simple" },
        config: {
          "auto.create.topics.enable": false,
          "default.replication.factor": replicas,
          "min.insync.replicas": minInSync,
          "offsets.topic.replication.factor": replicas,
          "transaction.state.log.replication.factor": replicas,
          "transaction.state.log.min.isr": minInSync,
        },
      },
      // The clients' copy of the CA certificate is refreshed on each update: a 10-year CA (as the data CA) outlives the gaps between them.
      clusterCa: { validityDays: KAFKA_CLUSTER_CA_VALIDITY_DAYS },
      entityOperator: {
        topicOperator: { resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } } },
        // Users live beside the clients, so Strimzi writes each one's certificate Secret where its pods mount it.
        userOperator: { watchedNamespace: workloadNamespace(plan), resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } } },
      },
    },
  });

  const nodePool = new KafkaNodePool({
    metadata: { name: "dual-role", namespace, labels: clusterLabels },
    spec: {
      replicas: nodes,
      roles: ["controller", "broker"],
      storage: {
        type: "jbod",
        volumes: [{ id: 0, type: "persistent-claim", size: `${broker.kafka.volumeGiB}Gi`, deleteClaim: !plan.protection.retain, kraftMetadata: "shared" }],
      },
      resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { memory: "2Gi" } },
      jvmOptions: { "-Xms": "1g", "-Xmx": "1g" },
      template: {
        pod: {
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "topology.kubernetes.io/zone",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: { "strimzi.io/cluster": cluster, "strimzi.io/pool-name": "dual-role" } },
            },
          ],
        },
      },
    },
  });

  const topics = broker.topics.map(
    (topic) =>
      new KafkaTopic({
        metadata: { name: topic.event, namespace, labels: clusterLabels },
        spec: {
          topicName: topic.event,
          partitions: KAFKA_TOPIC_PARTITIONS,
          replicas,
          config: { "retention.ms": broker.retentionDays * DAY_MS, "min.insync.replicas": minInSync },
        },
      }),
  );

  // Event stores keep every event forever: deletion by time or size is off, and compaction would
  // keep only the latest record per aggregate, losing the history the store exists for.
  const stores = plan.services.flatMap((service) =>
    service.eventStore
      ? [
          new KafkaTopic({
            metadata: { name: service.eventStore.name, namespace, labels: clusterLabels },
            spec: {
              topicName: service.eventStore.name,
              partitions: KAFKA_TOPIC_PARTITIONS,
              replicas,
              config: { "retention.ms": -1, "retention.bytes": -1, "cleanup.policy": "delete", "min.insync.replicas": minInSync },
            },
          }),
        ]
      : [],
  );

  const users = plan.services.flatMap((service) => {
    const acls = kafkaUserAcls(plan, service);
    if (acls.length === 0) return [];
    return [
      new KafkaUser({
        metadata: { name: kafkaClientTls(plan, service)!.userSecret, namespace: workloadNamespace(plan), labels: clusterLabels },
        spec: { authentication: { type: "tls" }, authorization: { type: "simple", acls } },
      }),
    ];
  });

  return {
    name: "kafka",
    namespace,
    helmReleases: [
      {
        name: "strimzi-kafka-operator",
        namespace,
        chart: STRIMZI_CHART.chart,
        repository: STRIMZI_CHART.repository,
        version: STRIMZI_CHART.version,
        createNamespace: true,
        values: {
          // Lets the operator bind the User Operator's Role in the workloads namespace it watches.
          watchNamespaces: [workloadNamespace(plan)],
          resources: { requests: { cpu: "200m", memory: "384Mi" }, limits: { memory: "384Mi" } },
        },
      },
    ],
    manifests: [kafka, nodePool, ...topics, ...stores, ...users].map(validatedManifest),
    dependsOn: [],
  };
}
