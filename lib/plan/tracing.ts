/**
 * Tracing decisions every engine shares: what the collector may do in X-Ray, the OpenTelemetry
 * environment a service gets, and the collector that runs beside a service outside a cluster.
 */
import { stringify } from "yaml";
import type { Cloud, LandingZoneSpec, Tier } from "../spec/types.js";
import { VERSIONS } from "./sizing.js";
import type { LandingZonePlan, TracingPlan } from "./types.js";

/**
 * What the OpenTelemetry collector may do in AWS X-Ray: send segments and telemetry, and read the
 * sampling rules. X-Ray has no resource-level permissions, so these run on "*".
 */
export const XRAY_WRITE_ACTIONS = [
  "xray:GetSamplingRules",
  "xray:GetSamplingStatisticSummaries",
  "xray:GetSamplingTargets",
  "xray:PutTelemetryRecords",
  "xray:PutTraceSegments",
] as const;

/** The role a GCP identity needs to write spans to Cloud Trace, and nothing else. */
export const CLOUD_TRACE_ROLE = "roles/cloudtrace.agent";

/** Environment variables the OpenTelemetry SDKs read: the contract every engine gives a traced service. */
export const OTEL_ENV = {
  endpoint: "OTEL_EXPORTER_OTLP_ENDPOINT",
  protocol: "OTEL_EXPORTER_OTLP_PROTOCOL",
  serviceName: "OTEL_SERVICE_NAME",
  sampler: "OTEL_TRACES_SAMPLER",
  samplerArg: "OTEL_TRACES_SAMPLER_ARG",
} as const;

/**
 * The collector beside a service on a host (VM or Beanstalk instance): a container named `name` on
 * the Docker network `network`, which the service's container joins, so OTLP never leaves the host.
 */
export const HOST_COLLECTOR = { name: "otel-collector", network: "msa", configPath: "/etc/otel/config.yaml" } as const;

/** The AWS Distro for OpenTelemetry collector: the awsxray exporter, signed and supported by AWS. */
export const ADOT_COLLECTOR_IMAGE = `public.ecr.aws/aws-observability/aws-otel-collector:${VERSIONS.adotCollector}`;
/** The contrib collector, which carries the googlecloud exporter, for GCP VMs. */
export const CONTRIB_COLLECTOR_IMAGE = `ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib:${VERSIONS.otelCollectorContrib}`;

/** Where a service exports OTLP to: the cluster's collector Service on caas, the host's collector container elsewhere. */
export function collectorEndpoint(tier: Tier): string {
  return tier === "caas" ? "http://otel-collector.observability.svc.cluster.local:4317" : `http://${HOST_COLLECTOR.name}:4317`;
}

/**
 * A service's OpenTelemetry environment: OTLP over gRPC to the collector, its name, and a
 * parent-based ratio sampler, so a trace is kept or dropped as a whole at its first service.
 */
export function otelEnvironment(tracing: TracingPlan, service: string): Record<string, string> {
  return {
    [OTEL_ENV.serviceName]: service,
    [OTEL_ENV.endpoint]: tracing.collectorEndpoint,
    [OTEL_ENV.protocol]: "grpc",
    [OTEL_ENV.sampler]: "parentbased_traceidratio",
    [OTEL_ENV.samplerArg]: String(tracing.samplingRate),
  };
}

/** Spec problems of tracing outside a cluster: zipkin and jaeger are backends the landing zone runs in its cluster. */
export function tracingProblems(spec: LandingZoneSpec): string[] {
  const { backend } = spec.tracing;
  if (spec.tier === "caas" || (backend !== "zipkin" && backend !== "jaeger")) return [];
  const cloudTracer: Partial<Record<Cloud, string>> = { aws: "xray or cloud (AWS X-Ray)", gcp: "cloud (Cloud Trace)" };
  const tracer = cloudTracer[spec.cloud];
  if (!tracer) return [];
  return [`tracing.backend "${backend}" runs in a cluster, and ${spec.cloud}/${spec.tier} has none. Fix: use tracing.backend: ${tracer}, or tier: caas`];
}

/**
 * The host collector's configuration: OTLP (gRPC and HTTP) from the containers on its network,
 * batched under a memory limit, exported to X-Ray (aws) or Cloud Trace (gcp) with the host's identity.
 * Sampling happens in the services, so the collector forwards every span it gets.
 */
export function hostCollectorConfig(plan: LandingZonePlan): string {
  const exporter = hostCollectorExporter(plan);
  return stringify(
    {
      receivers: { otlp: { protocols: { grpc: { endpoint: "0.0.0.0:4317" }, http: { endpoint: "0.0.0.0:4318" } } } },
      processors: { memory_limiter: { check_interval: "5s", limit_mib: 200, spike_limit_mib: 50 }, batch: {} },
      exporters: { [exporter.name]: exporter.config },
      service: { pipelines: { traces: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: [exporter.name] } } },
    },
    { lineWidth: 0 },
  );
}

/** The collector image a host runs for the plan's cloud. */
export function hostCollectorImage(plan: LandingZonePlan): string {
  return plan.cloud === "gcp" ? CONTRIB_COLLECTOR_IMAGE : ADOT_COLLECTOR_IMAGE;
}

function hostCollectorExporter(plan: LandingZonePlan): { readonly name: string; readonly config: Record<string, unknown> } {
  const backend = plan.tracing?.backend;
  if (plan.cloud === "aws" && (backend === "xray" || backend === "cloud")) return { name: "awsxray", config: { region: plan.region } };
  if (plan.cloud === "gcp" && backend === "cloud") return { name: "googlecloud", config: {} };
  throw new Error(`hostCollectorConfig: tracing.backend "${backend ?? "none"}" on ${plan.cloud}/${plan.tier} has no collector outside a cluster. Fix: use tracing.backend: cloud (or xray on aws)`);
}
