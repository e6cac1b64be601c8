import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KAFKA_NAMESPACE, kafkaAddOn, kafkaBootstrapServers } from "../../kubernetes/kafka.js";
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
 * listener reachable from the workloads namespace only, a KafkaTopic per event of the plan and a
 * KafkaUser per publishing or subscribing service limited to its own topics and groups.
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
    this.resources = applyAddOn(name, addOn, {
      provider: args.provider,
      parent: this,
      dependsOn: dependencyList(opts?.dependsOn),
      ...(args.values ? { values: args.values } : {}),
      ...(args.transform?.release ? { transformRelease: args.transform.release } : {}),
    });
    this.bootstrapServers = pulumi.output(kafkaBootstrapServers(plan));
    this.namespace = pulumi.output(KAFKA_NAMESPACE);
    this.topics = pulumi.output(broker.topics.map((t) => t.event));
    this.registerOutputs({ bootstrapServers: this.bootstrapServers, namespace: this.namespace, topics: this.topics });
  }
}
