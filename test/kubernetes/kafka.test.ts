import { describe, expect, it } from "vitest";
import {
  KAFKA_CLUSTER_CA_VALIDITY_DAYS,
  KAFKA_NAMESPACE,
  kafkaAddOn,
  kafkaBootstrapServers,
  kafkaClientEnv,
  kafkaClientTls,
  serviceWorkload,
  STRIMZI_CHART,
  strimziKafkaVersion,
} from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import { checkAddOn, ofKind, one } from "./addon-helpers.js";
import { revalidate } from "./fixtures.js";

const spec = {
  name: "shop",
  cloud: "kubernetes",
  environment: "prod",
  messaging: { broker: "kafka", retentionDays: 7 },
  services: [
    { name: "orders", publishes: ["order-placed"], subscribes: ["payment-completed"] },
    { name: "payments", publishes: ["payment-completed"], subscribes: ["order-placed"] },
    // On a cluster a read model keeps its projection in its own database.
    { name: "order-history", readModel: { from: ["orders"] }, database: { engine: "postgres" } },
    { name: "catalog" },
  ],
} satisfies LandingZoneInput;
const plan = planLandingZone(spec);
const addOn = kafkaAddOn(plan)!;
const workloads = plan.cluster!.namespace;

describe("kafkaAddOn", () => {
  it("is undefined unless the broker is Strimzi Kafka", () => {
    expect(kafkaAddOn(planLandingZone({ ...spec, messaging: { broker: "rabbitmq" } }))).toBeUndefined();
    expect(kafkaAddOn(planLandingZone({ ...spec, cloud: "aws", region: "ap-northeast-2" }))).toBeUndefined();
    expect(kafkaAddOn(planLandingZone({ ...spec, cloud: "aws", region: "ap-northeast-2", messaging: { broker: "kafka" } }))).toBeUndefined();
  });

  it("installs the pinned Strimzi operator first and structurally valid custom resources after it", () => {
    checkAddOn(addOn);
    expect(addOn.helmReleases).toEqual([
      expect.objectContaining({ chart: "strimzi-kafka-operator", repository: "https://strimzi.io/charts/", version: STRIMZI_CHART.version, namespace: KAFKA_NAMESPACE }),
    ]);
    expect(addOn.manifests.map((m) => m.kind)).toEqual(["Kafka", "KafkaNodePool", "KafkaTopic", "KafkaTopic", "KafkaUser", "KafkaUser", "KafkaUser"]);
    for (const m of addOn.manifests) {
      expect(m.apiVersion).toBe("kafka.strimzi.io/v1beta2");
      // The users live beside their clients (their certificate Secrets with them); the rest stays in the Kafka namespace.
      expect(m.metadata.namespace).toBe(m.kind === "KafkaUser" ? workloads : KAFKA_NAMESPACE);
    }
  });

  it("has the User Operator watch the workloads namespace, where each user's certificate Secret lands beside its pods", () => {
    const kafka = one(addOn.manifests, "Kafka");
    expect(kafka.spec.entityOperator.userOperator.watchedNamespace).toBe(workloads);
    expect(addOn.helmReleases[0]!.values).toMatchObject({ watchNamespaces: [workloads] });
    for (const user of ofKind(addOn.manifests, "KafkaUser")) expect(user.metadata.labels["strimzi.io/cluster"]).toBe(kafka.metadata.name);
    expect(kafka.spec.clusterCa).toEqual({ validityDays: KAFKA_CLUSTER_CA_VALIDITY_DAYS });
  });

  it("hands a publisher and a subscriber their certificate, key and the brokers' CA as files, and a service using no Kafka nothing", () => {
    for (const name of ["orders", "order-history"]) {
      const service = plan.services.find((s) => s.name === name)!;
      const tls = kafkaClientTls(plan, service)!;
      expect(tls).toEqual({ userSecret: name, clusterCaSecret: "shop-kafka-cluster-ca" });
      expect(kafkaClientEnv(plan, service)).toEqual({
        KAFKA_BOOTSTRAP_SERVERS: "shop-kafka-bootstrap.kafka.svc.cluster.local:9093",
        KAFKA_CA_FILE: "/etc/msa/kafka/ca.crt",
        KAFKA_CERT_FILE: "/etc/msa/kafka/user.crt",
        KAFKA_KEY_FILE: "/etc/msa/kafka/user.key",
      });
      const objects = serviceWorkload(plan, service, { kafkaTls: tls });
      objects.forEach(revalidate);
      const pod = one(objects, "Deployment").spec.template.spec;
      expect(pod.volumes).toContainEqual({
        name: "kafka-tls",
        projected: {
          defaultMode: 0o440,
          sources: [
            { secret: { name: "shop-kafka-cluster-ca", items: [{ key: "ca.crt", path: "ca.crt" }] } },
            { secret: { name, items: [{ key: "user.crt", path: "user.crt" }, { key: "user.key", path: "user.key" }] } },
          ],
        },
      });
      expect(pod.containers[0].volumeMounts).toContainEqual({ name: "kafka-tls", mountPath: "/etc/msa/kafka", readOnly: true });
    }
    const catalog = plan.services.find((s) => s.name === "catalog")!;
    expect(kafkaClientTls(plan, catalog)).toBeUndefined();
    expect(kafkaClientEnv(plan, catalog)).toEqual({});
    expect(one(serviceWorkload(plan, catalog), "Deployment").spec.template.spec.volumes.map((v: { name: string }) => v.name)).toEqual(["tmp"]);
  });

  it("runs KRaft with a dual-role node pool sized from plan.broker.kafka and a TLS listener open only to the workloads namespace", () => {
    const kafka = one(addOn.manifests, "Kafka");
    expect(kafka.metadata.annotations).toEqual({ "strimzi.io/kraft": "enabled", "strimzi.io/node-pools": "enabled" });
    expect(kafka.spec.kafka.version).toBe("3.8.1");
    expect(kafka.spec.kafka.listeners).toEqual([
      {
        name: "tls",
        port: 9093,
        type: "internal",
        tls: true,
        authentication: { type: "tls" },
        networkPolicyPeers: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": plan.cluster!.namespace } } }],
      },
    ]);
    expect(kafka.spec.kafka.authorization).toEqual({ type: "simple" });
    expect(kafka.spec.kafka.config["auto.create.topics.enable"]).toBe(false);
    const pool = one(addOn.manifests, "KafkaNodePool");
    expect(pool.metadata.labels["strimzi.io/cluster"]).toBe(kafka.metadata.name);
    expect(pool.spec.replicas).toBe(plan.broker!.kafka!.brokerNodes);
    expect(pool.spec.roles).toEqual(["controller", "broker"]);
    expect(pool.spec.storage.volumes[0]).toMatchObject({ type: "persistent-claim", size: `${plan.broker!.kafka!.volumeGiB}Gi`, deleteClaim: false });
    expect(kafkaBootstrapServers(plan)).toBe("shop-kafka-bootstrap.kafka.svc.cluster.local:9093");
  });

  it("keeps broker volumes only when the plan retains data", () => {
    const dev = kafkaAddOn(planLandingZone({ ...spec, environment: "dev" }))!;
    expect(one(dev.manifests, "KafkaNodePool").spec.storage.volumes[0].deleteClaim).toBe(true);
  });

  it("creates one KafkaTopic per plan topic with the planned retention and replication", () => {
    const topics = ofKind(addOn.manifests, "KafkaTopic");
    expect(topics.map((t) => t.spec.topicName)).toEqual(plan.broker!.topics.map((t) => t.event));
    for (const topic of topics) {
      expect(topic.metadata.labels["strimzi.io/cluster"]).toBe("shop");
      expect(topic.spec.config["retention.ms"]).toBe(7 * 24 * 60 * 60 * 1000);
      expect(topic.spec.replicas).toBe(3);
      expect(topic.spec.config["min.insync.replicas"]).toBe(2);
    }
  });

  it("gives each publishing or subscribing service a TLS user allowed only its topics and consumer groups", () => {
    const users = ofKind(addOn.manifests, "KafkaUser");
    expect(users.map((u) => u.metadata.name)).toEqual(["orders", "payments", "order-history"]);
    const orders = one(addOn.manifests, "KafkaUser", "orders");
    expect(orders.spec.authentication).toEqual({ type: "tls" });
    const ordersGroup = plan.broker!.topics.find((t) => t.event === "payment-completed")!.subscriptions.find((s) => s.subscriber === "orders")!.name;
    expect(orders.spec.authorization.acls).toEqual([
      { resource: { type: "topic", name: "order-placed", patternType: "literal" }, operations: ["Write", "Describe"] },
      { resource: { type: "topic", name: "payment-completed", patternType: "literal" }, operations: ["Read", "Describe"] },
      { resource: { type: "group", name: ordersGroup, patternType: "literal" }, operations: ["Read"] },
    ]);
    const history = one(addOn.manifests, "KafkaUser", "order-history");
    expect(history.spec.authorization.acls.flatMap((a: any) => a.operations)).not.toContain("Write");
  });

  it("resolves the plan's Kafka line to a release the operator runs, and rejects others", () => {
    expect(strimziKafkaVersion("3.8.x")).toBe("3.8.1");
    expect(strimziKafkaVersion("3.9")).toBe("3.9.1");
    expect(() => strimziKafkaVersion("2.8.x")).toThrow(/plan\.broker\.kafka\.version: "2\.8\.x" is not run by Strimzi 0\.45\.1\. Fix: use one of 3\.8\.x, 3\.9\.x/);
  });
});

describe("kafkaAddOn: event stores and choreographed sagas", () => {
  const storePlan = planLandingZone({
    ...spec,
    services: [
      { name: "orders", publishes: ["order-placed"] },
      { name: "payments", eventSourced: true, publishes: ["payment-completed"], subscribes: ["order-placed"] },
      { name: "order-history", readModel: { from: ["payments"] }, database: { engine: "postgres" } },
      { name: "catalog" },
    ],
    sagas: [{ name: "pay", mode: "choreography", steps: [{ service: "orders", action: "create", compensate: "cancel" }, { service: "payments", action: "charge" }] }],
  });
  const manifests = kafkaAddOn(storePlan)!.manifests;
  const acls = (user: string) => one(manifests, "KafkaUser", user).spec.authorization.acls as { resource: { type: string; name: string }; operations: string[] }[];

  it("keeps each event store forever, never compacted", () => {
    checkAddOn(kafkaAddOn(storePlan)!);
    const store = one(manifests, "KafkaTopic", "payments.event-store");
    expect(store.spec).toMatchObject({ topicName: "payments.event-store", config: { "retention.ms": -1, "retention.bytes": -1, "cleanup.policy": "delete" } });
  });

  it("lets the owner append to and replay its store, read models over it replay it, and nobody else touch it", () => {
    expect(acls("payments")).toEqual(
      expect.arrayContaining([
        { resource: { type: "topic", name: "payments.event-store", patternType: "literal" }, operations: ["Write", "Read", "Describe"] },
        { resource: { type: "group", name: "payments_payments.event-store", patternType: "literal" }, operations: ["Read"] },
      ]),
    );
    expect(acls("order-history")).toEqual(
      expect.arrayContaining([{ resource: { type: "topic", name: "payments.event-store", patternType: "literal" }, operations: ["Read", "Describe"] }]),
    );
    expect(JSON.stringify(acls("orders"))).not.toContain("event-store");
    expect(ofKind(manifests, "KafkaUser").map((u) => u.metadata.name)).not.toContain("catalog");
  });

  it("gives the saga's events topics, published by one step and read by the next or the one compensating", () => {
    const topics = ofKind(manifests, "KafkaTopic").map((t) => t.metadata.name);
    expect(topics).toEqual(expect.arrayContaining(["pay-orders-create-completed", "pay-payments-charge-completed", "pay-payments-charge-failed"]));
    expect(acls("orders")).toEqual(expect.arrayContaining([{ resource: { type: "topic", name: "pay-orders-create-completed", patternType: "literal" }, operations: ["Write", "Describe"] }]));
    expect(acls("payments")).toEqual(
      expect.arrayContaining([
        { resource: { type: "topic", name: "pay-orders-create-completed", patternType: "literal" }, operations: ["Read", "Describe"] },
        { resource: { type: "topic", name: "pay-payments-charge-failed", patternType: "literal" }, operations: ["Write", "Describe"] },
      ]),
    );
  });
});

