import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { otelEnvironment } from "../plan/tracing.js";
import type { LandingZonePlan, ServicePlan } from "../plan/types.js";
import { DATA_CA_DIRECTORY, DATA_CA_KEY } from "./data-ca.js";
import { assertKubernetesName, labelsFor, selectorFor } from "./labels.js";
import { workloadNamespace } from "./namespace.js";
import { validatedManifest } from "./render.js";
import { SECRETS_MOUNT_PATH, SECRETS_STORE_CSI_DRIVER } from "./secrets-store.js";
import type { ManifestObject } from "./types.js";

/** What an engine adds to a service's workload: cloud identity, cloud-specific settings, the secret. */
export interface WorkloadOptions {
  /** Annotations on the ServiceAccount (IRSA role ARN, GKE Workload Identity, Azure client id). */
  readonly serviceAccountAnnotations?: Record<string, string>;
  /** Extra non-secret environment variables, added to the ConfigMap after the service's config. */
  readonly env?: Record<string, string>;
  /**
   * A Kubernetes Secret (synced by the engine from the cloud secret store) whose keys are the
   * service's `secrets`; each becomes an env var through secretKeyRef, never a literal value.
   */
  readonly secretName?: string;
  /** Container image; overrides the plan's image (e.g. a digest-pinned build). */
  readonly image?: string;
  /** Extra pod labels (e.g. azure.workload.identity/use); never part of the selector. */
  readonly podLabels?: Record<string, string>;
  /**
   * A SecretProviderClass the pods mount (Secrets Store CSI driver); mounting it is what mirrors
   * the cloud secrets into `secretName`.
   * @default - no CSI volume: `secretName` is created by the engine
   */
  readonly secretProviderClass?: string;
  /**
   * A ConfigMap in the workloads namespace whose `ca.crt` holds the CA certificates of the service's
   * own data store (`dataCaConfigMapName`, written by trust-manager), mounted read-only at
   * `DATA_CA_DIRECTORY`; the pods start only once it exists.
   * @default - no CA mounted: the service has no data store on the cluster
   */
  readonly dataCaConfigMap?: string;
  /**
   * A Secret in the workloads namespace whose `ca.crt` is the CA of a TLS session store on the
   * cluster (`clusterSessionCaSecret`), mounted read-only at `SESSION_CA_DIRECTORY` (that key only,
   * never the Secret's private key); the pods start only once it exists.
   * @default - no CA mounted: the session store's certificate is publicly trusted, or there is none
   */
  readonly sessionCaSecret?: string;
  /**
   * The Secrets of a client of the cluster's Strimzi Kafka (`kafkaClientTls`): its certificate and key,
   * and the brokers' CA, mounted read-only at `KAFKA_TLS_DIRECTORY` (only those keys); the pods start
   * only once both exist.
   * @default - nothing mounted: the service uses no in-cluster Kafka
   */
  readonly kafkaTls?: KafkaClientTls;
  /**
   * Mount the ServiceAccount's API token: the service calls the Kubernetes API itself (it starts saga Workflows, `startsSagas`).
   * @default false - no token in the pods
   */
  readonly kubernetesApiToken?: boolean;
}

/** The Secrets, in the workloads namespace, a client of the cluster's Strimzi Kafka mounts. */
export interface KafkaClientTls {
  /** Strimzi's Secret of the service's KafkaUser (`user.crt`, `user.key`). */
  readonly userSecret: string;
  /** A Secret whose `ca.crt` is Strimzi's cluster CA, which signs the brokers' certificates. */
  readonly clusterCaSecret: string;
}

/** What the landing zone tells every service beside its own configuration, on every target. */
export const PLATFORM_ENV = {
  /** `host:port` of the central session store. */
  sessionStoreEndpoint: "SESSION_STORE_ENDPOINT",
  /** `true` when the session store takes only TLS connections. */
  sessionStoreTls: "SESSION_STORE_TLS",
  /** PEM file of the CA signing the session store's certificate, where it is a private one (existing clusters). */
  sessionStoreCaFile: "SESSION_STORE_CA_FILE",
  /** The session store's AUTH token / password, always through a Secret. */
  sessionStorePassword: "SESSION_STORE_PASSWORD",
  /** Parameter path the service may read its configuration from at runtime (a Spring Cloud Config-style source). */
  configParameterPath: "CONFIG_PARAMETER_PATH",
} as const;

/** Where a service's pods find the CA certificate of an in-cluster session store. */
export const SESSION_CA_DIRECTORY = "/etc/msa/session-ca";
/** Where a Kafka client's pods find its certificate, key and the brokers' CA. */
export const KAFKA_TLS_DIRECTORY = "/etc/msa/kafka";
/** The PEM files in {@link KAFKA_TLS_DIRECTORY}: the brokers' CA, the client certificate and its key. */
export const KAFKA_TLS_FILES = { ca: `${KAFKA_TLS_DIRECTORY}/ca.crt`, cert: `${KAFKA_TLS_DIRECTORY}/user.crt`, key: `${KAFKA_TLS_DIRECTORY}/user.key` } as const;

/** Port every workload Service listens on; the gateway and the mesh route to it. */
export const SERVICE_PORT = 80;
/** Name of every workload's container port (the service's own `port`), which NetworkPolicies may name. */
export const WORKLOAD_PORT_NAME = "http";
/** Average CPU utilization the HorizontalPodAutoscaler keeps each service at. */
export const HPA_CPU_UTILIZATION_PERCENT = 70;
/** Non-root UID/GID the containers run as, so images with a named USER still pass runAsNonRoot. */
export const WORKLOAD_UID = 10001;

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

/** In-cluster DNS name of a service's ClusterIP Service. */
export function serviceHost(plan: LandingZonePlan, serviceName: string): string {
  return `${serviceName}.${workloadNamespace(plan)}.svc.cluster.local`;
}

/**
 * A service's workload, in apply order: ServiceAccount, ConfigMap `<name>-config`, Deployment,
 * Service (port 80 to the container port), HorizontalPodAutoscaler and PodDisruptionBudget.
 */
export function serviceWorkload(plan: LandingZonePlan, service: ServicePlan, options: WorkloadOptions = {}): ManifestObject[] {
  checkService(service, options);
  const namespace = workloadNamespace(plan);
  const name = service.name;
  const labels = labelsFor(plan, name);
  const selector = selectorFor(plan, name);
  const configName = `${name}-config`;

  const config: Record<string, string> = {
    ...service.config,
    SERVICE_NAME: name,
    PORT: String(service.port),
    ...(plan.tracing ? otelEnvironment(plan.tracing, name) : {}),
    ...options.env,
  };
  for (const key of Object.keys(config)) {
    if (!CONFIG_KEY.test(key)) {
      throw new Error(`services[${name}].config: key "${key}" is not a valid ConfigMap key. Fix: use only letters, digits, '-', '_' and '.'`);
    }
  }

  const probe = (initialDelaySeconds: number, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path: service.healthPath, port: "http" },
    initialDelaySeconds,
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold,
  });

  return [
    validatedManifest(
      new ServiceAccount({
        metadata: { name, namespace, labels, ...(options.serviceAccountAnnotations ? { annotations: options.serviceAccountAnnotations } : {}) },
      }),
    ),
    validatedManifest(new ConfigMap({ metadata: { name: configName, namespace, labels }, data: config })),
    validatedManifest(
      new Deployment({
        metadata: { name, namespace, labels },
        spec: {
          // No replicas: the HorizontalPodAutoscaler owns the count, and re-applying must not reset it.
          selector: { matchLabels: selector },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: { labels: { ...options.podLabels, ...labels } },
            spec: {
              serviceAccountName: name,
              // Cloud identity (Pod Identity, IRSA, Workload Identity) and the mesh use their own projected tokens.
              automountServiceAccountToken: options.kubernetesApiToken ?? false,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: WORKLOAD_UID,
                runAsGroup: WORKLOAD_UID,
                fsGroup: WORKLOAD_UID,
                seccompProfile: { type: "RuntimeDefault" },
              },
              terminationGracePeriodSeconds: 30,
              topologySpreadConstraints: [
                { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } },
                { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } },
              ],
              containers: [
                {
                  name,
                  image: options.image ?? service.image,
                  ports: [{ name: WORKLOAD_PORT_NAME, containerPort: service.port, protocol: "TCP" }],
                  envFrom: [{ configMapRef: { name: configName } }],
                  env: service.secrets.map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: options.secretName!, key } } })),
                  resources: {
                    requests: { cpu: `${service.cpuMillicores}m`, memory: `${service.memoryMiB}Mi` },
                    // No CPU limit: throttling hurts latency more than sharing idle CPU costs.
                    limits: { memory: `${service.memoryMiB}Mi` },
                  },
                  // Slow starters get up to 150 s before liveness may restart them.
                  startupProbe: probe(0, 5, 30),
                  readinessProbe: probe(0, 10, 3),
                  livenessProbe: probe(0, 20, 3),
                  securityContext: {
                    runAsNonRoot: true,
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ["ALL"] },
                  },
                  // The root filesystem is read-only; /tmp is the one scratch space apps expect.
                  volumeMounts: [
                    { name: "tmp", mountPath: "/tmp" },
                    ...(options.secretProviderClass ? [{ name: "secrets-store", mountPath: SECRETS_MOUNT_PATH, readOnly: true }] : []),
                    ...(options.dataCaConfigMap ? [{ name: "data-ca", mountPath: DATA_CA_DIRECTORY, readOnly: true }] : []),
                    ...(options.sessionCaSecret ? [{ name: "session-ca", mountPath: SESSION_CA_DIRECTORY, readOnly: true }] : []),
                    ...(options.kafkaTls ? [{ name: "kafka-tls", mountPath: KAFKA_TLS_DIRECTORY, readOnly: true }] : []),
                  ],
                },
              ],
              volumes: [
                { name: "tmp", emptyDir: {} },
                ...(options.secretProviderClass
                  ? [{ name: "secrets-store", csi: { driver: SECRETS_STORE_CSI_DRIVER, readOnly: true, volumeAttributes: { secretProviderClass: options.secretProviderClass } } }]
                  : []),
                ...(options.dataCaConfigMap ? [{ name: "data-ca", configMap: { name: options.dataCaConfigMap, items: [{ key: DATA_CA_KEY, path: DATA_CA_KEY }], defaultMode: 0o444 } }] : []),
                ...(options.sessionCaSecret ? [{ name: "session-ca", secret: { secretName: options.sessionCaSecret, items: [{ key: DATA_CA_KEY, path: DATA_CA_KEY }], defaultMode: 0o444 } }] : []),
                ...(options.kafkaTls ? [kafkaTlsVolume(options.kafkaTls)] : []),
              ],
            },
          },
        },
      }),
    ),
    validatedManifest(
      new Service({
        metadata: { name, namespace, labels },
        spec: {
          type: "ClusterIP",
          selector,
          ports: [{ name: "http", port: SERVICE_PORT, targetPort: service.port, protocol: "TCP", appProtocol: "http" }],
        },
      }),
    ),
    validatedManifest(
      new HorizontalPodAutoscaler({
        metadata: { name, namespace, labels },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
          minReplicas: service.replicas.min,
          maxReplicas: service.replicas.max,
          metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: HPA_CPU_UTILIZATION_PERCENT } } }],
        },
      }),
    ),
    validatedManifest(
      new PodDisruptionBudget({
        metadata: { name, namespace, labels },
        // With one replica, minAvailable 1 would block every node drain; allow one pod down instead.
        spec: { selector: { matchLabels: selector }, ...(service.replicas.min > 1 ? { minAvailable: 1 } : { maxUnavailable: 1 }) },
      }),
    ),
  ];
}

/** One directory of the PEM files only (never the PKCS#12 store or its password); the key readable by the pod's group alone. */
function kafkaTlsVolume(tls: KafkaClientTls) {
  const item = (file: string) => ({ key: file.slice(KAFKA_TLS_DIRECTORY.length + 1), path: file.slice(KAFKA_TLS_DIRECTORY.length + 1) });
  return {
    name: "kafka-tls",
    projected: {
      defaultMode: 0o440,
      sources: [
        { secret: { name: tls.clusterCaSecret, items: [item(KAFKA_TLS_FILES.ca)] } },
        { secret: { name: tls.userSecret, items: [item(KAFKA_TLS_FILES.cert), item(KAFKA_TLS_FILES.key)] } },
      ],
    },
  };
}

function checkService(service: ServicePlan, options: WorkloadOptions): void {
  assertKubernetesName("service.name", service.name);
  const where = `services[${service.name}]`;
  if (!Number.isInteger(service.port) || service.port < 1 || service.port > 65535) {
    throw new Error(`${where}.port: ${service.port} is not a TCP port. Fix: use an integer from 1 to 65535`);
  }
  const { min, max } = service.replicas;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min) {
    throw new Error(`${where}.replicas: {min: ${min}, max: ${max}} is not a valid range. Fix: use integers with 1 <= min <= max`);
  }
  if (!service.healthPath.startsWith("/")) {
    throw new Error(`${where}.healthPath: "${service.healthPath}" is not an absolute path. Fix: start it with '/', e.g. /health`);
  }
  if (service.secrets.length > 0 && options.secretName === undefined) {
    throw new Error(
      `${where}.secrets: [${service.secrets.join(", ")}] need options.secretName (undefined). Fix: pass the name of the Kubernetes Secret holding these keys`,
    );
  }
  if (options.secretName !== undefined) assertKubernetesName("options.secretName", options.secretName);
  if (options.secretProviderClass !== undefined) assertKubernetesName("options.secretProviderClass", options.secretProviderClass);
  if (options.sessionCaSecret !== undefined) assertKubernetesName("options.sessionCaSecret", options.sessionCaSecret);
  if (options.kafkaTls !== undefined) {
    assertKubernetesName("options.kafkaTls.userSecret", options.kafkaTls.userSecret);
    assertKubernetesName("options.kafkaTls.clusterCaSecret", options.kafkaTls.clusterCaSecret);
  }
}
