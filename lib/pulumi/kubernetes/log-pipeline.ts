import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { assertKubernetesName, MANAGED_BY, selectorFor } from "../../kubernetes/labels.js";
import { ECK_USERS, eckUserSecretData, LOG_ELASTICSEARCH_NAME, logPipelineAddOn, type EckUser, type LogBuffer, type LogPipelineOptions } from "../../kubernetes/log-pipeline.js";
import { REDIS_PORT } from "../../kubernetes/redis.js";
import { validatedManifest } from "../../kubernetes/render.js";
import type { ManifestObject } from "../../kubernetes/types.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { applyAddOn, applyManifests, type HelmValues } from "./add-on.js";
import { dependencyList } from "./dependencies.js";
import { InClusterRedis, type InClusterRedisTransform } from "./in-cluster-redis.js";

/** Arguments of {@link LogPipeline}. */
export interface LogPipelineArgs {
  /** The landing-zone plan; `plan.logging` sizes Elasticsearch, Logstash and the buffer. */
  readonly plan: LandingZonePlan;
  /** Provider of the cluster. */
  readonly provider: k8s.Provider;
  /**
   * Name of the buffer Redis StatefulSet and Service in the logging namespace.
   * @default "log-buffer"
   */
  readonly bufferName?: string;
  /**
   * What Logstash reads beside the buffer and the annotations its ServiceAccount carries (Workload
   * Identity), which may be outputs (a project id, a service account's email).
   * @default - the buffer only, no annotation
   */
  readonly logstash?: pulumi.Input<Pick<LogPipelineOptions, "cloudInputs" | "logstashServiceAccountAnnotations">>;
  /**
   * Secrets Logstash's cloud inputs read (connection strings), created in the logging namespace
   * before Logstash; pass their data as Pulumi secrets.
   * @default - none
   */
  readonly secrets?: readonly { readonly name: string; readonly stringData: pulumi.Input<Record<string, string>> }[];
  /**
   * Helm values deep-merged over a release's own, keyed by release name (`elastic-operator`).
   * @default - the add-on's values
   */
  readonly values?: Readonly<Record<string, HelmValues>>;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: LogPipelineTransform;
}

export interface LogPipelineTransform {
  readonly buffer?: InClusterRedisTransform;
  readonly release?: (args: k8s.helm.v3.ReleaseArgs) => void;
  /** Patches the generated password of an Elasticsearch user (`writer`: Logstash, `retention`: the retention Job). */
  readonly userPassword?: (user: EckUser, args: random.RandomPasswordArgs) => void;
}

/**
 * The seed's ELK pipeline on an existing cluster: the ECK operator with Elasticsearch and Kibana,
 * Logstash, Filebeat on every node and, when the plan asks for a buffer, an in-cluster Redis list
 * between the shippers and Logstash that absorbs bursts. The logging namespace is created first,
 * then the buffer and its password Secret, then the rest of the add-on.
 *
 * Cost: Elasticsearch nodes reserve 2 GiB each (plan.logging.search.instanceCount) plus their volumes.
 *
 * @example
 * const logs = new LogPipeline("logs", { plan, provider });
 * export const kibana = logs.kibanaService;
 */
export class LogPipeline extends pulumi.ComponentResource {
  /** The in-cluster buffer; undefined when the plan has no buffer. */
  readonly buffer?: InClusterRedis;
  readonly namespace: pulumi.Output<string>;
  /** Kibana's ECK Service, `<name>.<namespace>.svc.cluster.local:5601` (HTTPS). */
  readonly kibanaService: pulumi.Output<string>;
  /** Elasticsearch's ECK Service, `<name>.<namespace>.svc.cluster.local:9200` (HTTPS). */
  readonly elasticsearchService: pulumi.Output<string>;
  /**
   * The `kubernetes.io/basic-auth` Secrets of the pipeline's Elasticsearch users (ECK file realm):
   * `writer` is Logstash's, `retention` the retention Job's. Neither is the `elastic` superuser.
   */
  readonly elasticsearchUsers: Readonly<Record<EckUser, k8s.core.v1.Secret>>;
  /** Every resource of the pipeline, for later parts to depend on. */
  readonly resources: pulumi.Resource[];

  constructor(name: string, args: LogPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("msa:kubernetes:LogPipeline", name, {}, opts);
    const { plan, provider } = args;
    const logging = plan.logging;
    if (!logging) throw new Error(`LogPipeline args.plan.logging: undefined. Fix: set logging.stack: elk in the spec, or do not create a LogPipeline`);
    const namespace = logging.namespace;
    const bufferName = args.bufferName ?? "log-buffer";
    const bufferLink: LogBuffer | undefined = logging.buffer
      ? { host: `${bufferName}.${namespace}.svc.cluster.local`, port: REDIS_PORT, tls: false, passwordSecretName: `${bufferName}-password` }
      : undefined;
    const base: LogPipelineOptions = { sink: { kind: "eck" }, ...(bufferLink ? { buffer: bufferLink } : {}) };
    const addOn = logPipelineAddOn(plan, base);
    const after = dependencyList(opts?.dependsOn);

    // The buffer's Secret must live in the logging namespace, so the Namespace goes first.
    const isNamespace = (m: ManifestObject) => m.kind === "Namespace";
    const namespaceGroup = applyManifests(`${name}-namespace`, addOn.manifests.filter(isNamespace), { provider, parent: this, dependsOn: after });
    const waitFor: pulumi.Resource[] = [namespaceGroup];
    if (logging.buffer) {
      this.buffer = new InClusterRedis(
        `${name}-buffer`,
        {
          plan,
          provider,
          namespace,
          redisName: bufferName,
          memoryGiB: logging.buffer.memoryGiB,
          replicas: logging.buffer.replicas,
          // Log lines in flight are worth no volume kept after the pipeline is gone.
          retain: false,
          // No TLS: Logstash's redis input has no CA setting, so it could not verify the buffer's private CA.
          tls: false,
          ...(args.transform?.buffer ? { transform: args.transform.buffer } : {}),
        },
        { parent: this, dependsOn: [namespaceGroup] },
      );
      waitFor.push(this.buffer);
    }
    const userSecret = (user: EckUser) => {
      // Alphanumeric, so the password needs no quoting in Logstash's configuration or curl's.
      const passwordArgs: random.RandomPasswordArgs = { length: 32, special: false };
      args.transform?.userPassword?.(user, passwordArgs);
      const password = new random.RandomPassword(`${name}-${user}-password`, passwordArgs, { parent: this });
      return new k8s.core.v1.Secret(
        `${name}-${user}-user`,
        {
          metadata: { name: ECK_USERS[user].secretName, namespace, labels: { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY } },
          type: "kubernetes.io/basic-auth",
          stringData: { ...eckUserSecretData(user), password: password.result },
        },
        { provider, parent: this, dependsOn: [namespaceGroup] },
      );
    };
    this.elasticsearchUsers = { writer: userSecret("writer"), retention: userSecret("retention") };
    waitFor.push(this.elasticsearchUsers.writer, this.elasticsearchUsers.retention);
    for (const secret of args.secrets ?? []) {
      assertKubernetesName(`LogPipeline ${name} args.secrets[].name`, secret.name);
      waitFor.push(
        new k8s.core.v1.Secret(
          `${name}-${secret.name}`,
          { metadata: { name: secret.name, namespace, labels: { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY } }, type: "Opaque", stringData: pulumi.secret(secret.stringData) },
          { provider, parent: this, dependsOn: [namespaceGroup] },
        ),
      );
    }
    const access = logging.buffer ? [bufferAccessPolicy(plan, namespace, bufferName)] : [];
    // Logstash's extra inputs and identity change only manifests; the operator's release is the same either way.
    const manifests = pulumi.output(args.logstash ?? {}).apply((extra) => [...logPipelineAddOn(plan, { ...base, ...extra }).manifests.filter((m) => !isNamespace(m)), ...access]);
    const releases = applyAddOn(name, { ...addOn, manifests: [] }, {
      provider,
      parent: this,
      dependsOn: waitFor,
      ...(args.values ? { values: args.values } : {}),
      ...(args.transform?.release ? { transformRelease: args.transform.release } : {}),
    });
    const applied = [...releases, applyManifests(`${name}-manifests`, manifests, { provider, parent: this, dependsOn: [...waitFor, ...releases] })];

    this.resources = [...waitFor, ...applied];
    this.namespace = pulumi.output(namespace);
    this.kibanaService = pulumi.output(`${LOG_ELASTICSEARCH_NAME}-kb-http.${namespace}.svc.cluster.local:5601`);
    this.elasticsearchService = pulumi.output(`${LOG_ELASTICSEARCH_NAME}-es-http.${namespace}.svc.cluster.local:9200`);
    this.registerOutputs({ namespace: this.namespace, kibanaService: this.kibanaService, elasticsearchService: this.elasticsearchService });
  }
}

/** The add-on denies all ingress in its namespace; the shippers and Logstash beside the buffer may reach it. */
function bufferAccessPolicy(plan: LandingZonePlan, namespace: string, bufferName: string): ManifestObject {
  return validatedManifest(
    new NetworkPolicy({
      metadata: { name: `allow-namespace-to-${bufferName}`, namespace, labels: { "app.kubernetes.io/part-of": plan.name } },
      spec: {
        podSelector: { matchLabels: selectorFor(plan, bufferName) },
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: REDIS_PORT }] }],
      },
    }),
  );
}
