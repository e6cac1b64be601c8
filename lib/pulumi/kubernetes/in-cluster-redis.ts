import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { redisManifests, REDIS_PORT } from "../../kubernetes/redis.js";
import { redisTlsManifests, redisTlsSecretName } from "../../kubernetes/redis-tls.js";
import type { LandingZonePlan } from "../../plan/types.js";

/** Arguments of {@link InClusterRedis}. */
export interface InClusterRedisArgs {
  /** The landing-zone plan; gives the labels and whether the data is retained. */
  readonly plan: LandingZonePlan;
  /** Provider of the cluster Redis runs in. */
  readonly provider: k8s.Provider;
  /** Namespace of the StatefulSet, its Services and the password Secret; it must already exist. */
  readonly namespace: string;
  /** Name of the StatefulSet and of the Service clients connect to; the Secret is `<redisName>-password`. */
  readonly redisName: string;
  /** Memory per pod in GiB. */
  readonly memoryGiB: number;
  /** Read replicas beside the primary. */
  readonly replicas: number;
  /**
   * Keep the password, its Secret and the Redis objects (and their volumes) on `pulumi destroy`, and protect them.
   * @default plan.protection.retain
   */
  readonly retain?: boolean;
  /**
   * TLS only: a CA of its own in `namespace` and a certificate for the Services' and pods' names from
   * cert-manager (`redisTlsManifests`, whose CRDs must exist first), clients verifying it with the
   * `ca.crt` of `<redisName>-tls`; replication and probes use TLS too.
   * @default false
   */
  readonly tls?: boolean;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: InClusterRedisTransform;
}

export interface InClusterRedisTransform {
  readonly password?: (args: random.RandomPasswordArgs) => void;
  readonly secret?: (args: k8s.core.v1.SecretArgs) => void;
  readonly manifests?: (args: k8s.yaml.v2.ConfigGroupArgs) => void;
  /** The CA and certificate objects, with `tls`. */
  readonly tls?: (args: k8s.yaml.v2.ConfigGroupArgs) => void;
}

/**
 * A password-protected Redis inside the cluster: a generated password kept only in a Kubernetes
 * Secret (and in state as a Pulumi secret), then the StatefulSet and Services of `redisManifests`,
 * which read the password from that Secret. The building block of `SessionStore` and of the log
 * pipeline's buffer on existing clusters.
 *
 * With `tls` clients must speak TLS and can verify the server against its own CA; without it the
 * protocol is plain (the log buffer, whose Logstash reader cannot be given a CA), so only the
 * namespace's NetworkPolicies and, where present, the mesh protect it.
 *
 * @example
 * const cache = new InClusterRedis("cache", { plan, provider, namespace: "shop", redisName: "cache", memoryGiB: 1, replicas: 1, tls: true });
 * export const cachePasswordSecret = cache.passwordSecretName;
 * export const cacheCaSecret = cache.tlsSecretName; // mount its ca.crt in clients
 */
export class InClusterRedis extends pulumi.ComponentResource {
  readonly password: random.RandomPassword;
  readonly secret: k8s.core.v1.Secret;
  readonly manifests: k8s.yaml.v2.ConfigGroup;
  /** The CA and the server certificate, with `tls`. */
  readonly tlsObjects?: k8s.yaml.v2.ConfigGroup;
  /** The `kubernetes.io/tls` Secret the pods serve from; clients verify with its `ca.crt`. Undefined without `tls`. */
  readonly tlsSecretName?: pulumi.Output<string>;
  /** Cluster DNS name of the Service reaching the primary. */
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  /** `<host>:<port>`. */
  readonly endpoint: pulumi.Output<string>;
  /** Secret (key `password`) in `namespace` that pods reference. */
  readonly passwordSecretName: pulumi.Output<string>;
  /** The password, as a Pulumi secret. */
  readonly passwordValue: pulumi.Output<string>;

  constructor(name: string, args: InClusterRedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("msa:kubernetes:InClusterRedis", name, {}, opts);
    const retain = args.retain ?? args.plan.protection.retain;
    const stateful = { parent: this, provider: args.provider, ...(retain ? { protect: true, retainOnDelete: true } : {}) };
    const secretName = `${args.redisName}-password`;
    const tlsSecretName = args.tls ? redisTlsSecretName(args.redisName) : undefined;
    // Manifests first: they check the names and sizes before anything is registered.
    const tlsObjs = args.tls ? redisTlsManifests(args.plan, { name: args.redisName, namespace: args.namespace }) : [];
    const objs = redisManifests(args.plan, {
      name: args.redisName,
      namespace: args.namespace,
      passwordSecretName: secretName,
      memoryGiB: args.memoryGiB,
      replicas: args.replicas,
      ...(tlsSecretName ? { tlsSecretName } : {}),
    });

    // Alphanumeric, so the password needs no quoting in redis-server flags, Logstash or Filebeat configuration.
    const passwordArgs: random.RandomPasswordArgs = { length: 32, special: false };
    args.transform?.password?.(passwordArgs);
    this.password = new random.RandomPassword(`${name}-password`, passwordArgs, { parent: this, ...(retain ? { protect: true, retainOnDelete: true } : {}) });

    const secretArgs: k8s.core.v1.SecretArgs = {
      metadata: { name: secretName, namespace: args.namespace, labels: { "app.kubernetes.io/name": args.redisName, "app.kubernetes.io/part-of": args.plan.name } },
      type: "Opaque",
      stringData: { password: this.password.result },
    };
    args.transform?.secret?.(secretArgs);
    this.secret = new k8s.core.v1.Secret(`${name}-secret`, secretArgs, { ...stateful, dependsOn: opts?.dependsOn ?? [] });

    if (tlsSecretName) {
      const tlsArgs: k8s.yaml.v2.ConfigGroupArgs = { objs: tlsObjs.map((o) => ({ ...o })) };
      args.transform?.tls?.(tlsArgs);
      // Kept with the data in prod: a new CA would fail every client until its pods restart.
      this.tlsObjects = new k8s.yaml.v2.ConfigGroup(`${name}-tls`, tlsArgs, { ...stateful, dependsOn: opts?.dependsOn ?? [] });
      this.tlsSecretName = pulumi.output(tlsSecretName);
    }

    const manifestArgs: k8s.yaml.v2.ConfigGroupArgs = { objs: objs.map((o) => ({ ...o })) };
    args.transform?.manifests?.(manifestArgs);
    this.manifests = new k8s.yaml.v2.ConfigGroup(`${name}-manifests`, manifestArgs, { ...stateful, dependsOn: [this.secret, ...(this.tlsObjects ? [this.tlsObjects] : [])] });

    this.host = pulumi.output(`${args.redisName}.${args.namespace}.svc.cluster.local`);
    this.port = pulumi.output(REDIS_PORT);
    this.endpoint = pulumi.interpolate`${this.host}:${this.port}`;
    this.passwordSecretName = this.secret.metadata.name;
    this.passwordValue = pulumi.secret(this.password.result);
    this.registerOutputs({ host: this.host, port: this.port, endpoint: this.endpoint, passwordSecretName: this.passwordSecretName, tlsSecretName: this.tlsSecretName });
  }
}
