import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { workloadNamespace } from "../../kubernetes/namespace.js";
import { SESSION_STORE_NAME } from "../../kubernetes/session-store.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { InClusterRedis, type InClusterRedisTransform } from "./in-cluster-redis.js";

/** Name of the session Redis StatefulSet and Service unless `redisName` says otherwise. */
export const DEFAULT_SESSION_STORE_NAME = SESSION_STORE_NAME;

/** Arguments of {@link SessionStore}. */
export interface SessionStoreArgs {
  /** The landing-zone plan; `plan.sessions` sizes the store. */
  readonly plan: LandingZonePlan;
  /** Provider of the cluster. */
  readonly provider: k8s.Provider;
  /**
   * Namespace the store runs in; it must already exist.
   * @default - the workloads namespace of the plan
   */
  readonly namespace?: string;
  /**
   * Name of the Redis StatefulSet and Service.
   * @default DEFAULT_SESSION_STORE_NAME ("sessions")
   */
  readonly redisName?: string;
  /**
   * TLS only, with a certificate from a CA of the store's own that cert-manager (whose CRDs must
   * exist first) issues; clients verify it with the `ca.crt` of {@link SessionStore.caSecretName}.
   * `false` leaves session tokens in plain text wherever the mesh does not enforce mutual TLS.
   * @default true
   */
  readonly tls?: boolean;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: InClusterRedisTransform;
}

/**
 * The session store scaled-out services share, on an existing cluster: an in-cluster Redis
 * (primary plus `plan.sessions.replicas` replicas, persistent volumes) with a generated password
 * held in a Kubernetes Secret, in the workloads namespace where its NetworkPolicies admit only
 * the namespace itself and the ingress namespaces. It takes TLS connections only (as ElastiCache,
 * Memorystore and Azure Cache do), whether or not a mesh encrypts the traffic, with a certificate
 * cert-manager issues from the store's own CA; clients get that CA in `ca.crt` of `caSecretName`.
 * Protected and retained in prod (`plan.protection.retain`).
 *
 * @example
 * const sessions = new SessionStore("sessions", { plan, provider });
 * export const sessionEndpoint = sessions.endpoint; // clients connect with TLS, verifying against ca.crt of sessions.caSecretName
 */
export class SessionStore extends pulumi.ComponentResource {
  /** The underlying Redis; its children are the escape hatch. */
  readonly redis: InClusterRedis;
  /** `<service>.<namespace>.svc.cluster.local:6379`. */
  readonly endpoint: pulumi.Output<string>;
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  /** Secret (key `password`) pods reference for the password. */
  readonly passwordSecretName: pulumi.Output<string>;
  /** The password, as a Pulumi secret. */
  readonly password: pulumi.Output<string>;
  /** Whether the store takes TLS connections only. */
  readonly tls: boolean;
  /** Secret in the store's namespace whose `ca.crt` clients verify the server with; undefined with `tls: false`. */
  readonly caSecretName?: pulumi.Output<string>;

  constructor(name: string, args: SessionStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("msa:kubernetes:SessionStore", name, {}, opts);
    const sessions = args.plan.sessions;
    if (!sessions) {
      throw new Error(`SessionStore args.plan.sessions: undefined. Fix: set auth.sessions: redis in the spec, or do not create a SessionStore`);
    }
    if (sessions.engine !== "redis") {
      throw new Error(`SessionStore args.plan.sessions.engine: "${sessions.engine}" has no in-cluster implementation. Fix: use auth.sessions: redis`);
    }
    this.redis = new InClusterRedis(
      `${name}-redis`,
      {
        plan: args.plan,
        provider: args.provider,
        namespace: args.namespace ?? workloadNamespace(args.plan),
        redisName: args.redisName ?? DEFAULT_SESSION_STORE_NAME,
        memoryGiB: sessions.memoryGiB,
        replicas: sessions.replicas,
        tls: args.tls ?? true,
        ...(args.transform ? { transform: args.transform } : {}),
      },
      { parent: this, dependsOn: opts?.dependsOn ?? [] },
    );
    this.endpoint = this.redis.endpoint;
    this.host = this.redis.host;
    this.port = this.redis.port;
    this.passwordSecretName = this.redis.passwordSecretName;
    this.password = this.redis.passwordValue;
    this.tls = args.tls ?? true;
    if (this.redis.tlsSecretName) this.caSecretName = this.redis.tlsSecretName;
    this.registerOutputs({ endpoint: this.endpoint, host: this.host, port: this.port, passwordSecretName: this.passwordSecretName });
  }
}
