import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Service } from "kubernetes-models/v1/Service";
import { CENTRAL_COLLECTOR } from "../plan/trace-collector.js";
import type { LandingZonePlan } from "../plan/types.js";
import { assertKubernetesName, labelsFor, selectorFor } from "./labels.js";
import { validatedManifest } from "./render.js";
import type { AddOn, HelmReleaseSpec, ManifestObject } from "./types.js";

export type TraceExporter = "zipkin" | "jaeger" | "xray" | "googlecloud" | "azuremonitor";

export interface TracingOptions {
  /**
   * Where the collector sends traces.
   * @default - from plan.tracing.backend; `cloud` becomes xray on AWS, googlecloud on GCP, azuremonitor on Azure
   */
  readonly exporter?: TraceExporter;
  /**
   * Annotations on the collector's ServiceAccount (IRSA role ARN for X-Ray, GKE Workload Identity for Cloud Trace).
   * @default - none
   */
  readonly serviceAccountAnnotations?: Record<string, string>;
  /**
   * Secret in the collector's namespace with key `connection-string` (Application Insights); required for azuremonitor.
   * @default - none
   */
  readonly azureMonitorSecretName?: string;
  /**
   * Run it as the central collector of services outside the cluster (GCP App Engine): named and placed
   * as `CENTRAL_COLLECTOR`, its Service an internal load balancer (the cloud's `annotations`) at
   * `address`, the host of `plan.tracing.collectorEndpoint`, admitting only `sourceRanges`.
   * @default - the in-cluster Service named by plan.tracing.collectorEndpoint
   */
  readonly central?: { readonly annotations: Readonly<Record<string, string>>; readonly address: string; readonly sourceRanges: readonly string[] };
}

export const OTEL_COLLECTOR_CHART = {
  chart: "opentelemetry-collector",
  repository: "https://open-telemetry.github.io/opentelemetry-helm-charts",
  version: "0.158.3",
} as const;
/** The contrib distribution carries the zipkin, awsxray, googlecloud and azuremonitor exporters. */
export const OTEL_COLLECTOR_IMAGE = "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib";
export const ZIPKIN_IMAGE = "openzipkin/zipkin:3.5.1";
export const JAEGER_IMAGE = "jaegertracing/jaeger:2.11.0";
export const OTLP_GRPC_PORT = 4317;
export const OTLP_HTTP_PORT = 4318;

const COLLECTOR_UID = 10001;
const ZIPKIN_UID = 1000;
const JAEGER_UID = 10001;

/**
 * The OpenTelemetry collector every service exports OTLP to (gRPC 4317, HTTP 4318), deployed so
 * its Service is exactly `plan.tracing.collectorEndpoint`, with the exporter of the tracing backend;
 * for zipkin and jaeger, the backend itself (in-memory storage) beside it.
 * Sampling happens in the services (parent-based ratio), so the collector forwards every span it gets.
 */
export function tracingAddOn(plan: LandingZonePlan, options: TracingOptions = {}): AddOn | undefined {
  const tracing = plan.tracing;
  if (!tracing) return undefined;
  const central = options.central;
  if (central && tracing.collectorEndpoint !== `http://${central.address}:${OTLP_GRPC_PORT}`) {
    throw new Error(`tracingAddOn options.central.address: "${central.address}" is not the host of plan.tracing.collectorEndpoint "${tracing.collectorEndpoint}", so no service would reach the collector. Fix: pass the address the plan gives (centralCollectorAddress)`);
  }
  if (central && central.sourceRanges.length === 0) throw new Error(`tracingAddOn options.central.sourceRanges: empty, so no service could export. Fix: pass the CIDR of the services' subnet`);
  const { service, namespace } = central ? { service: CENTRAL_COLLECTOR.name, namespace: CENTRAL_COLLECTOR.namespace } : collectorAddress(tracing.collectorEndpoint);
  const exporter = options.exporter ?? defaultExporter(plan);
  if (exporter === "azuremonitor") {
    if (!options.azureMonitorSecretName) {
      throw new Error(`tracingAddOn options.azureMonitorSecretName: undefined, but the azuremonitor exporter needs the connection string. Fix: pass a Secret name with key connection-string`);
    }
    assertKubernetesName("tracingAddOn options.azureMonitorSecretName", options.azureMonitorSecretName);
  }
  const prod = plan.environment === "prod";

  const release: HelmReleaseSpec = {
    name: service,
    namespace,
    chart: OTEL_COLLECTOR_CHART.chart,
    repository: OTEL_COLLECTOR_CHART.repository,
    version: OTEL_COLLECTOR_CHART.version,
    createNamespace: true,
    values: {
      mode: "deployment",
      // The Service name is the host of plan.tracing.collectorEndpoint.
      fullnameOverride: service,
      replicaCount: prod ? 2 : 1,
      image: { repository: OTEL_COLLECTOR_IMAGE },
      command: { name: "otelcol-contrib" },
      // Named explicitly: a cloud identity (Pod Identity, Workload Identity) is bound to this name.
      serviceAccount: { create: true, name: service, ...(options.serviceAccountAnnotations ? { annotations: options.serviceAccountAnnotations } : {}) },
      ...(central
        ? { service: { type: "LoadBalancer", annotations: { ...central.annotations }, loadBalancerIP: central.address, loadBalancerSourceRanges: [...central.sourceRanges] } }
        : {}),
      ...(exporter === "azuremonitor"
        ? { extraEnvs: [{ name: "APPLICATIONINSIGHTS_CONNECTION_STRING", valueFrom: { secretKeyRef: { name: options.azureMonitorSecretName, key: "connection-string" } } }] }
        : {}),
      resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } },
      podSecurityContext: { runAsNonRoot: true, runAsUser: COLLECTOR_UID, runAsGroup: COLLECTOR_UID, seccompProfile: { type: "RuntimeDefault" } },
      securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
      ports: {
        otlp: { enabled: true, containerPort: OTLP_GRPC_PORT, servicePort: OTLP_GRPC_PORT, protocol: "TCP" },
        "otlp-http": { enabled: true, containerPort: OTLP_HTTP_PORT, servicePort: OTLP_HTTP_PORT, protocol: "TCP" },
        // Services speak OTLP only; the chart's other receivers stay closed.
        "jaeger-compact": { enabled: false },
        "jaeger-thrift": { enabled: false },
        "jaeger-grpc": { enabled: false },
        zipkin: { enabled: false },
      },
      config: collectorConfig(plan, exporter, namespace),
    },
  };
  return {
    name: "tracing",
    namespace,
    helmReleases: [release],
    manifests: exporter === "zipkin" ? zipkin(plan, namespace) : exporter === "jaeger" ? jaeger(plan, namespace) : [],
    dependsOn: [],
  };
}

/** The collector's ServiceAccount, to which an engine binds the cloud identity the exporter needs (X-Ray). */
export function collectorServiceAccount(plan: LandingZonePlan): { readonly name: string; readonly namespace: string } {
  if (!plan.tracing) throw new Error(`collectorServiceAccount: plan.tracing is undefined. Fix: set tracing.backend in the spec`);
  const { service, namespace } = collectorAddress(plan.tracing.collectorEndpoint);
  return { name: service, namespace };
}

/** The exporter a plan's tracing backend implies on its cloud. */
export function defaultExporter(plan: LandingZonePlan): TraceExporter {
  const backend = plan.tracing?.backend;
  if (backend === undefined) throw new Error(`defaultExporter: plan.tracing is undefined. Fix: set tracing.backend in the spec`);
  if (backend !== "cloud") return backend;
  // An existing cluster has no cloud tracer: its own is the Zipkin it runs by default.
  const byCloud: Partial<Record<LandingZonePlan["cloud"], TraceExporter>> = { aws: "xray", gcp: "googlecloud", azure: "azuremonitor", kubernetes: "zipkin" };
  const exporter = byCloud[plan.cloud];
  if (!exporter) {
    throw new Error(`tracing.backend: "cloud" has no cloud tracing service on ${plan.cloud}. Fix: use tracing.backend zipkin or jaeger, or pass options.exporter`);
  }
  return exporter;
}

/** Service and namespace of an in-cluster collector endpoint `http://<service>.<namespace>.svc.cluster.local:4317`. */
function collectorAddress(endpoint: string): { service: string; namespace: string } {
  const match = /^https?:\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?:(\d+)$/.exec(endpoint);
  if (!match || Number(match[4]) !== OTLP_GRPC_PORT) {
    throw new Error(
      `tracingAddOn plan.tracing.collectorEndpoint: "${endpoint}" is not an in-cluster OTLP gRPC endpoint. Fix: install the collector add-on only on CaaS plans, whose endpoint is http://<service>.<namespace>.svc.cluster.local:${OTLP_GRPC_PORT}`,
    );
  }
  return { service: match[1]!, namespace: match[2]! };
}

/** Backend Service host the zipkin/jaeger exporters send to. */
function backendHost(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.cluster.local`;
}

function collectorConfig(plan: LandingZonePlan, exporter: TraceExporter, namespace: string): Record<string, unknown> {
  const exporters: Record<TraceExporter, [string, Record<string, unknown>]> = {
    zipkin: ["zipkin", { endpoint: `http://${backendHost("zipkin", namespace)}:9411/api/v2/spans` }],
    // Jaeger v2 ingests OTLP natively; the hop stays inside the namespace.
    jaeger: ["otlp/jaeger", { endpoint: `${backendHost("jaeger", namespace)}:${OTLP_GRPC_PORT}`, tls: { insecure: true } }],
    xray: ["awsxray", { region: plan.region }],
    googlecloud: ["googlecloud", {}],
    azuremonitor: ["azuremonitor", { connection_string: "${env:APPLICATIONINSIGHTS_CONNECTION_STRING}" }],
  };
  const [exporterName, exporterConfig] = exporters[exporter];
  return {
    receivers: {
      otlp: { protocols: { grpc: { endpoint: `\${env:MY_POD_IP}:${OTLP_GRPC_PORT}` }, http: { endpoint: `\${env:MY_POD_IP}:${OTLP_HTTP_PORT}` } } },
      // null removes the chart's default receivers (Helm deletes null keys).
      jaeger: null,
      zipkin: null,
      prometheus: null,
    },
    processors: {
      memory_limiter: { check_interval: "5s", limit_percentage: 80, spike_limit_percentage: 25 },
      batch: {},
    },
    exporters: { [exporterName]: exporterConfig },
    service: {
      pipelines: {
        traces: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: [exporterName] },
        metrics: null,
        logs: null,
      },
    },
  };
}

interface Backend {
  readonly name: string;
  readonly image: string;
  readonly uid: number;
  readonly ports: readonly { readonly name: string; readonly port: number }[];
  /** Named port and path answering health checks. */
  readonly probe: { readonly port: string; readonly path: string };
  readonly env: readonly { readonly name: string; readonly value: string }[];
}

function backendDeployment(plan: LandingZonePlan, namespace: string, backend: Backend): ManifestObject[] {
  const { name, image, uid, ports, probe, env } = backend;
  const labels = labelsFor(plan, name);
  const selector = selectorFor(plan, name);
  return [
    validatedManifest(
      new Deployment({
        metadata: { name, namespace, labels },
        spec: {
          // In-memory storage: one replica holds all recent traces.
          replicas: 1,
          selector: { matchLabels: selector },
          template: {
            metadata: { labels },
            spec: {
              automountServiceAccountToken: false,
              securityContext: { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: "RuntimeDefault" } },
              containers: [
                {
                  name,
                  image,
                  ports: ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: "TCP" })),
                  env: [...env],
                  resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { memory: "1Gi" } },
                  readinessProbe: { httpGet: { path: probe.path, port: probe.port }, initialDelaySeconds: 10, periodSeconds: 10 },
                  livenessProbe: { httpGet: { path: probe.path, port: probe.port }, initialDelaySeconds: 60, periodSeconds: 20 },
                  securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                  volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                },
              ],
              volumes: [{ name: "tmp", emptyDir: {} }],
            },
          },
        },
      }),
    ),
    validatedManifest(
      new Service({
        metadata: { name, namespace, labels },
        spec: { type: "ClusterIP", selector, ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: "TCP" })) },
      }),
    ),
  ];
}

function zipkin(plan: LandingZonePlan, namespace: string): ManifestObject[] {
  return backendDeployment(plan, namespace, {
    name: "zipkin",
    image: ZIPKIN_IMAGE,
    uid: ZIPKIN_UID,
    ports: [{ name: "http", port: 9411 }],
    probe: { port: "http", path: "/health" },
    env: [
      { name: "STORAGE_TYPE", value: "mem" },
      { name: "JAVA_OPTS", value: "-Xms256m -Xmx768m" },
    ],
  });
}

function jaeger(plan: LandingZonePlan, namespace: string): ManifestObject[] {
  return backendDeployment(plan, namespace, {
    name: "jaeger",
    image: JAEGER_IMAGE,
    uid: JAEGER_UID,
    ports: [
      { name: "otlp-grpc", port: OTLP_GRPC_PORT },
      { name: "ui", port: 16686 },
    ],
    probe: { port: "ui", path: "/" },
    // Jaeger v2 binds its receivers to localhost unless told otherwise.
    env: [{ name: "JAEGER_LISTEN_HOST", value: "0.0.0.0" }],
  });
}
