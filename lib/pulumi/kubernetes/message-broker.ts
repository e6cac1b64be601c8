import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DATA_CA_KEY } from "../../kubernetes/data-ca.js";
import { KAFKA_NAMESPACE, kafkaAddOn, kafkaBootstrapServers, kafkaClusterCaSecretName, strimziClusterCaSecret } from "../../kubernetes/kafka.js";
import { MANAGED_BY } from "../../kubernetes/labels.js";
import { workloadNamespace } from "../../kubernetes/namespace.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { applyAddOn, type HelmValues } from "./add-on.js";
import { dependencyList } from "./dependencies.js";

/** Arguments of {@link MessageBroker}. */
export interface MessageBrokerArgs {
  /** The landing-zone plan; `plan.broker` gives the topics, retention and Kafka sizing. */
  readonly plan: LandingZonePlan;
  /** Provider of the cluster. */
  readonly provider: k8s.Provider;
  /**
   * Helm values deep-merged over a release's own, keyed by release name (`strimzi-kafka-operator`).
   * @default - the add-on's values
   */
  readonly values?: Readonly<Record<string, HelmValues>>;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: { readonly release?: (args: k8s.helm.v3.ReleaseArgs) => void };
}

/**
 * The event bus on an existing cluster: the Strimzi operator, a KRaft Kafka cluster with a TLS
 * listener reachable from the workloads namespace only, a KafkaTopic per event of the plan, a
 * KafkaUser in the workloads namespace per publishing or subscribing service limited to its own
 * topics and groups, and a copy of the cluster CA certificate there. The workloads namespace must exist first.
 *
 * Cost: each broker node reserves 2 GiB and a persistent volume of plan.broker.kafka.volumeGiB.
 *
 * @example
 * const broker = new MessageBroker("broker", { plan, provider });
 * export const bootstrap = broker.bootstrapServers;
 */
export class MessageBroker extends pulumi.ComponentResource {
  /** `<cluster>-kafka-bootstrap.<namespace>.svc.cluster.local:9093` (TLS, client certificates). */
  readonly bootstrapServers: pulumi.Output<string>;
  readonly namespace: pulumi.Output<string>;
  /** Kafka topic names, one per event. */
  readonly topics: pulumi.Output<string[]>;
  /** The copy of the cluster CA certificate (`ca.crt`) in the workloads namespace, which the clients verify the brokers with. */
  readonly clusterCaSecret: k8s.core.v1.Secret;
  /** Every resource of the broker, for later parts to depend on. */
  readonly resources: pulumi.Resource[];

  constructor(name: string, args: MessageBrokerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("msa:kubernetes:MessageBroker", name, {}, opts);
    const { plan } = args;
    const broker = plan.broker;
    if (!broker) throw new Error(`MessageBroker args.plan.broker: undefined. Fix: declare services[].publishes in the spec, or do not create a MessageBroker`);
    const addOn = kafkaAddOn(plan);
    if (!addOn) {
      throw new Error(
        `MessageBroker args.plan.broker.implementation: "${broker.implementation}" is not built by the Pulumi kubernetes engine. Fix: set messaging.broker: kafka (Strimzi)`,
      );
    }
    // The cluster CA Secret exists once the Kafka cluster is Ready: its objects wait for that before the copy below reads it.
    const manifests = addOn.manifests.map((m) => (m.kind === "Kafka" ? { ...m, metadata: { ...m.metadata, annotations: { ...m.metadata.annotations, "pulumi.com/waitFor": "condition=Ready" } } } : m));
    const applied = applyAddOn(name, { ...addOn, manifests }, {
      provider: args.provider,
      parent: this,
      dependsOn: dependencyList(opts?.dependsOn),
      ...(args.values ? { values: args.values } : {}),
      ...(args.transform?.release ? { transformRelease: args.transform.release } : {}),
    });
    this.clusterCaSecret = this.copyClusterCa(name, plan, args.provider, applied);
    this.resources = [...applied, this.clusterCaSecret];
    this.bootstrapServers = pulumi.output(kafkaBootstrapServers(plan));
    this.namespace = pulumi.output(KAFKA_NAMESPACE);
    this.topics = pulumi.output(broker.topics.map((t) => t.event));
    this.registerOutputs({ bootstrapServers: this.bootstrapServers, namespace: this.namespace, topics: this.topics });
  }

  /**
   * Strimzi keeps the cluster CA in the Kafka namespace only, and nothing in the cluster copies it
   * across (trust-manager reads the data namespace alone): the engine reads its public `ca.crt`
   * once the cluster is Ready and writes it into the workloads namespace, again on every update;
   * the 10-year CA (`KAFKA_CLUSTER_CA_VALIDITY_DAYS`) keeps a copy valid between updates.
   */
  private copyClusterCa(name: string, plan: LandingZonePlan, provider: k8s.Provider, applied: pulumi.Resource[]): k8s.core.v1.Secret {
    // Unknown until the operator release is installed, so a first preview does not read a Secret that does not exist yet.
    const ready = pulumi.all(applied.filter((r): r is k8s.helm.v3.Release => r instanceof k8s.helm.v3.Release).map((r) => r.status));
    const source = k8s.core.v1.Secret.get(`${name}-cluster-ca-source`, ready.apply(() => `${KAFKA_NAMESPACE}/${strimziClusterCaSecret(plan)}`), { parent: this, provider, dependsOn: applied });
    return new k8s.core.v1.Secret(
      `${name}-cluster-ca`,
      {
        metadata: { name: kafkaClusterCaSecretName(plan), namespace: workloadNamespace(plan), labels: { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY } },
        type: "Opaque",
        // The certificate only, never the CA's key (kept in `<cluster>-cluster-ca`, which is not read); without it the pods' mount fails closed.
        data: source.data.apply((data) => Object.fromEntries(Object.entries(data ?? {}).filter(([key]) => key === DATA_CA_KEY))),
      },
      { parent: this, provider, dependsOn: applied },
    );
  }
}
