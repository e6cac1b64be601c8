import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { Service } from "kubernetes-models/v1/Service";
import type { LandingZonePlan } from "../plan/types.js";
import { assertKubernetesName, labelsFor, selectorFor } from "./labels.js";
import { validatedManifest } from "./render.js";
import type { ManifestObject } from "./types.js";

export interface RedisOptions {
  /** Name of the StatefulSet and of the Service clients connect to (`<name>-headless` is the pods' DNS). */
  readonly name: string;
  readonly namespace: string;
  /** Kubernetes Secret with key `password`, used for requirepass and by replicas to authenticate. */
  readonly passwordSecretName: string;
  /** Memory per pod; Redis may use 75% of it for data. */
  readonly memoryGiB: number;
  /** Read replicas beside the primary (pod 0); 0 runs the primary alone. */
  readonly replicas: number;
  /**
   * Container image.
   * @default REDIS_IMAGE
   */
  readonly image?: string;
  /**
   * A `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`, `ca.crt`, e.g. issued by cert-manager) for the pods'
   * DNS names: clients and replication then speak TLS only (Redis reads renewed files at its next start).
   * @default - plain connections, kept inside the namespace's NetworkPolicies
   */
  readonly tlsSecretName?: string;
  /**
   * Size of each pod's data volume.
   * @default - twice memoryGiB, at least 1
   */
  readonly volumeGiB?: number;
}

/** The in-cluster Redis image, pinned (ElastiCache's engine version 7.1 has no matching upstream image). */
export const REDIS_IMAGE = "docker.io/library/redis:7.4.6";
export const REDIS_PORT = 6379;
/** Where the TLS Secret is mounted. */
export const REDIS_TLS_DIRECTORY = "/tls";
/** TLS-only Redis: the Secret's files, replication over TLS, clients need no certificate of their own. */
const REDIS_TLS_ARGS = [
  `--tls-cert-file ${REDIS_TLS_DIRECTORY}/tls.crt`,
  `--tls-key-file ${REDIS_TLS_DIRECTORY}/tls.key`,
  `--tls-ca-cert-file ${REDIS_TLS_DIRECTORY}/ca.crt`,
  "--tls-auth-clients no",
  "--tls-replication yes",
].join(" ");
/** UID/GID of the redis user in the official image. */
const REDIS_UID = 999;

/** The names a TLS Redis's certificate covers: the primary's Service, each pod's stable name (replication) and localhost (the probes). */
export function redisDnsNames(name: string, namespace: string): string[] {
  return [name, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`, `*.${name}-headless.${namespace}.svc.cluster.local`, "localhost"];
}

/**
 * An in-cluster Redis: a StatefulSet whose pod 0 is the primary and the others replicate it, a
 * headless Service for the pods' stable DNS names and a Service `<name>` that reaches the primary.
 * Used on existing clusters for sessions and as the log buffer on GKE/AKS.
 */
export function redisManifests(plan: LandingZonePlan, options: RedisOptions): ManifestObject[] {
  const { name, namespace, passwordSecretName, memoryGiB, replicas, tlsSecretName } = options;
  assertKubernetesName("redisManifests options.name", name);
  assertKubernetesName("redisManifests options.namespace", namespace);
  assertKubernetesName("redisManifests options.passwordSecretName", passwordSecretName);
  if (!(memoryGiB > 0)) {
    throw new Error(`redisManifests options.memoryGiB: ${memoryGiB} is not a memory size. Fix: pass a positive number of GiB, e.g. plan.sessions.memoryGiB`);
  }
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new Error(`redisManifests options.replicas: ${replicas} is not a replica count. Fix: pass an integer >= 0 (read replicas beside the primary)`);
  }
  if (tlsSecretName !== undefined) assertKubernetesName("redisManifests options.tlsSecretName", tlsSecretName);
  if (options.volumeGiB !== undefined && !(Number.isInteger(options.volumeGiB) && options.volumeGiB >= 1)) {
    throw new Error(`redisManifests options.volumeGiB: ${options.volumeGiB} is not a volume size. Fix: pass a whole number of GiB >= 1`);
  }

  const labels = { ...labelsFor(plan, name), "app.kubernetes.io/component": "redis" };
  const selector = selectorFor(plan, name);
  const headless = `${name}-headless`;
  const memoryMiB = Math.ceil(memoryGiB * 1024);
  // Headroom for replication buffers and fork copy-on-write during persistence.
  const maxMemoryMiB = Math.floor(memoryMiB * 0.75);
  const volumeGiB = options.volumeGiB ?? Math.max(1, Math.ceil(memoryGiB * 2));
  const primaryHost = `${name}-0.${headless}.${namespace}.svc.cluster.local`;
  const script = [
    ...(replicas > 0 ? [`if [ "\${HOSTNAME##*-}" != "0" ]; then set -- --replicaof ${primaryHost} ${REDIS_PORT}; fi`] : []),
    // noeviction: a full buffer makes writers back off instead of silently dropping sessions or logs.
    `exec redis-server ${tlsSecretName ? `--port 0 --tls-port ${REDIS_PORT} ${REDIS_TLS_ARGS}` : `--port ${REDIS_PORT}`} --requirepass "$REDIS_PASSWORD" --masterauth "$REDIS_PASSWORD" --dir /data --appendonly yes ` +
      `--maxmemory ${maxMemoryMiB}mb --maxmemory-policy noeviction "$@"`,
  ].join("\n");
  const password = { secretKeyRef: { name: passwordSecretName, key: "password" } };
  const probe = (periodSeconds: number, initialDelaySeconds: number) => ({
    exec: { command: ["redis-cli", ...(tlsSecretName ? ["--tls", "--cacert", `${REDIS_TLS_DIRECTORY}/ca.crt`, "-h", "localhost"] : []), "-p", String(REDIS_PORT), "ping"] },
    initialDelaySeconds,
    periodSeconds,
    timeoutSeconds: 3,
    failureThreshold: 3,
  });

  return [
    validatedManifest(
      new Service({
        metadata: { name: headless, namespace, labels },
        spec: {
          clusterIP: "None",
          // Replicas must resolve the primary before it is ready, or replication never starts.
          publishNotReadyAddresses: true,
          selector,
          ports: [{ name: "redis", port: REDIS_PORT, targetPort: "redis", protocol: "TCP", appProtocol: "redis" }],
        },
      }),
    ),
    validatedManifest(
      new Service({
        metadata: { name, namespace, labels },
        spec: {
          type: "ClusterIP",
          // Writes go to the primary only: pod 0 carries this label from the StatefulSet controller.
          selector: { ...selector, "statefulset.kubernetes.io/pod-name": `${name}-0` },
          ports: [{ name: "redis", port: REDIS_PORT, targetPort: "redis", protocol: "TCP", appProtocol: "redis" }],
        },
      }),
    ),
    validatedManifest(
      new StatefulSet({
        metadata: { name, namespace, labels },
        spec: {
          serviceName: headless,
          replicas: 1 + replicas,
          podManagementPolicy: "OrderedReady",
          selector: { matchLabels: selector },
          template: {
            metadata: { labels },
            spec: {
              automountServiceAccountToken: false,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: REDIS_UID,
                runAsGroup: REDIS_UID,
                fsGroup: REDIS_UID,
                seccompProfile: { type: "RuntimeDefault" },
              },
              topologySpreadConstraints: [
                { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } },
                { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } },
              ],
              containers: [
                {
                  name: "redis",
                  image: options.image ?? REDIS_IMAGE,
                  command: ["sh", "-c", script],
                  ports: [{ name: "redis", containerPort: REDIS_PORT, protocol: "TCP" }],
                  env: [
                    { name: "REDIS_PASSWORD", valueFrom: password },
                    // redis-cli reads the password from here, so probes never put it on a command line.
                    { name: "REDISCLI_AUTH", valueFrom: password },
                  ],
                  resources: { requests: { cpu: "100m", memory: `${memoryMiB}Mi` }, limits: { memory: `${memoryMiB}Mi` } },
                  readinessProbe: probe(10, 5),
                  livenessProbe: probe(20, 30),
                  securityContext: {
                    runAsNonRoot: true,
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ["ALL"] },
                  },
                  volumeMounts: [{ name: "data", mountPath: "/data" }, ...(tlsSecretName ? [{ name: "tls", mountPath: REDIS_TLS_DIRECTORY, readOnly: true }] : [])],
                },
              ],
              // Group-readable by the redis user only (fsGroup), never world-readable.
              ...(tlsSecretName ? { volumes: [{ name: "tls", secret: { secretName: tlsSecretName, defaultMode: 0o440 } }] } : {}),
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "data", labels },
              spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: `${volumeGiB}Gi` } } },
            },
          ],
          // Keep the data when the StatefulSet is deleted only where the plan retains stateful resources.
          persistentVolumeClaimRetentionPolicy: plan.protection.retain
            ? { whenDeleted: "Retain", whenScaled: "Retain" }
            : { whenDeleted: "Delete", whenScaled: "Delete" },
        },
      }),
    ),
  ];
}
