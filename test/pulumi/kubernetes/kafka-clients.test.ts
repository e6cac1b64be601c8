import { describe, expect, it } from "vitest";
import { gitOpsDeployment } from "../../../lib/kubernetes/gitops.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { LandingZone } from "../../../lib/pulumi/kubernetes/index.js";
import { runProgram, single, type RegisteredResource } from "../harness.js";

const GROUP = "kubernetes:yaml/v2:ConfigGroup";
const SECRET = "kubernetes:core/v1:Secret";

type Obj = { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec?: Record<string, any>; data?: Record<string, string> };
const objs = (group: RegisteredResource): Obj[] => group.inputs["objs"] as Obj[];

const spec: LandingZoneInput = {
  name: "shop",
  cloud: "kubernetes",
  region: "local",
  gateway: { auth: "none" },
  pipelines: { perService: false },
  mesh: { kind: "none" },
  logging: { stack: "none", buffer: "none" },
  auth: { sessions: "none" },
  messaging: { broker: "kafka" },
  services: [{ name: "orders", publishes: ["order-placed"] }, { name: "payments", subscribes: ["order-placed"] }, { name: "catalog" }],
};
const workload = (resources: readonly RegisteredResource[], service: string) => objs(single(resources, GROUP, `shop-${service}-workload`));
const pod = (resources: readonly RegisteredResource[], service: string) => workload(resources, service).find((o) => o.kind === "Deployment")!.spec!["template"].spec;
const config = (resources: readonly RegisteredResource[], service: string) => workload(resources, service).find((o) => o.kind === "ConfigMap")!.data!;

describe("LandingZone gives Kafka clients their mutual-TLS identity and the brokers' CA", async () => {
  const { resources } = await runProgram(() => void new LandingZone("shop", { spec }));
  const kafka = objs(single(resources, GROUP, "shop-broker-manifests"));

  it("creates the KafkaUsers in the workloads namespace, which the User Operator watches, after the namespace exists", () => {
    expect(kafka.filter((o) => o.kind === "KafkaUser").map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(["shop/orders", "shop/payments"]);
    const cluster = kafka.find((o) => o.kind === "Kafka")!;
    expect(cluster.spec!["entityOperator"].userOperator.watchedNamespace).toBe("shop");
    expect(cluster.metadata.annotations).toMatchObject({ "pulumi.com/waitFor": "condition=Ready" });
    expect(single(resources, "msa:kubernetes:MessageBroker").dependsOn).toContain("shop-namespace");
  });

  it("copies only the cluster CA certificate into the workloads namespace, read once the broker is applied", () => {
    const source = resources.find((r) => r.name === "shop-broker-cluster-ca-source")!;
    expect(source.dependsOn).toEqual(expect.arrayContaining(["shop-broker-strimzi-kafka-operator", "shop-broker-manifests"]));
    const copy = single(resources, SECRET, "shop-broker-cluster-ca");
    expect(copy.inputs["metadata"]).toMatchObject({ name: "shop-kafka-cluster-ca", namespace: "shop" });
    expect(copy.dependsOn).toContain("shop-broker-manifests");
  });

  it.each(["orders", "payments"])("mounts %s's certificate, key and the cluster CA read-only, names the files, and starts it after the broker", (service) => {
    const spec = pod(resources, service);
    expect(spec.volumes).toContainEqual({
      name: "kafka-tls",
      projected: {
        defaultMode: 0o440,
        sources: [
          { secret: { name: "shop-kafka-cluster-ca", items: [{ key: "ca.crt", path: "ca.crt" }] } },
          { secret: { name: service, items: [{ key: "user.crt", path: "user.crt" }, { key: "user.key", path: "user.key" }] } },
        ],
      },
    });
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: "kafka-tls", mountPath: "/etc/msa/kafka", readOnly: true });
    expect(config(resources, service)).toMatchObject({
      KAFKA_BOOTSTRAP_SERVERS: "shop-kafka-bootstrap.kafka.svc.cluster.local:9093",
      KAFKA_CA_FILE: "/etc/msa/kafka/ca.crt",
      KAFKA_CERT_FILE: "/etc/msa/kafka/user.crt",
      KAFKA_KEY_FILE: "/etc/msa/kafka/user.key",
    });
    expect(single(resources, "msa:kubernetes:ServiceWorkload", `shop-${service}`).dependsOn).toEqual(expect.arrayContaining(["shop-broker-manifests", "shop-broker-cluster-ca"]));
  });

  it("gives a service using no Kafka neither the mount nor the settings, nor a wait for the broker", () => {
    expect(pod(resources, "catalog").volumes.map((v: { name: string }) => v.name)).toEqual(["tmp"]);
    expect(Object.keys(config(resources, "catalog")).filter((key) => key.startsWith("KAFKA_"))).toEqual([]);
    expect(single(resources, "msa:kubernetes:ServiceWorkload", "shop-catalog").dependsOn).not.toContain("shop-broker-manifests");
  });

  it("puts the same mount in the Deployment Argo CD applies", () => {
    const plan = planLandingZone({ ...spec, pipelines: { perService: true, repositoryOwner: "acme" } }, { engine: "pulumi" });
    const deployment = gitOpsDeployment(plan, plan.services.find((s) => s.name === "payments")!);
    expect((deployment.spec as { template: { spec: { volumes: { name: string }[] } } }).template.spec.volumes.map((v) => v.name)).toContain("kafka-tls");
  });
});
