import { Kafka } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2/Kafka";
import { KafkaNodePool } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2/KafkaNodePool";
import { KafkaTopic } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2/KafkaTopic";
import { KafkaUser } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2/KafkaUser";
import type { LandingZonePlan } from "../plan/types.js";
import { MANAGED_BY } from "./labels.js";
import { workloadNamespace } from "./namespace.js";
import { validatedManifest } from "./render.js";
import type { AddOn } from "./types.js";

export const STRIMZI_CHART = { chart: "strimzi-kafka-operator", repository: "https://strimzi.io/charts/", version: "0.45.1" } as const;
/** Namespace of the Strimzi operator, the Kafka cluster, its topics and users. */
export const KAFKA_NAMESPACE = "kafka";
export const KAFKA_TLS_PORT = 9093;
/** Partitions per topic: room for three consumers per subscription to share the load. */
export const KAFKA_TOPIC_PARTITIONS = 3;

/** Kafka releases the pinned Strimzi operator runs, per minor line the plan may ask for. */
const STRIMZI_KAFKA_VERSIONS: Readonly<Record<string, string>> = { "3.8": "3.8.1", "3.9": "3.9.1" };
const DAY_MS = 24 * 60 * 60 * 1000;

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
 * writes the cluster CA to `<name>-cluster-ca-cert` and each user's certificate to a Secret named
 * after the service. Undefined unless the plan's broker is Strimzi Kafka.
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
      entityOperator: {
        topicOperator: { resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } } },
        userOperator: { resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } } },
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
    const writes = broker.topics.filter((t) => t.publishers.includes(service.name));
    const reads = broker.topics.flatMap((t) => t.subscriptions.filter((s) => s.subscriber === service.name).map((s) => ({ topic: t.event, group: s.name })));
    // The owner appends to and replays its store; read models over it may replay it too.
    const storeReads = plan.services
      .filter((source) => source.eventStore && (source.name === service.name || service.readModel?.sources.includes(source.name)))
      .map((source) => ({ topic: source.eventStore!.name, group: eventStoreGroup(service.name, source.eventStore!.name), owner: source.name === service.name }));
    if (writes.length === 0 && reads.length === 0 && storeReads.length === 0) return [];
    const acls = [
      ...storeReads.flatMap((r) => [acl("topic", r.topic, r.owner ? ["Write", "Read", "Describe"] : ["Read", "Describe"]), acl("group", r.group, ["Read"])]),
      ...writes.map((t) => acl("topic", t.event, ["Write", "Describe"])),
      ...reads.flatMap((r) => [acl("topic", r.topic, ["Read", "Describe"]), acl("group", r.group, ["Read"])]),
    ];
    return [new KafkaUser({ metadata: { name: service.name, namespace, labels: clusterLabels }, spec: { authentication: { type: "tls" }, authorization: { type: "simple", acls } } })];
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
        values: { resources: { requests: { cpu: "200m", memory: "384Mi" }, limits: { memory: "384Mi" } } },
      },
    ],
    manifests: [kafka, nodePool, ...topics, ...stores, ...users].map(validatedManifest),
    dependsOn: [],
  };
}
