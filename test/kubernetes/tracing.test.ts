import { describe, expect, it } from "vitest";
import { defaultExporter, OTEL_COLLECTOR_CHART, tracingAddOn } from "../../lib/kubernetes/index.js";
import { CENTRAL_COLLECTOR, planLandingZone } from "../../lib/plan/index.js";
import { checkAddOn, ofKind, one } from "./addon-helpers.js";

const services = [{ name: "orders" }];
const zipkinPlan = planLandingZone({ name: "shop", cloud: "aws", region: "ap-northeast-2", services });
const jaegerPlan = planLandingZone({ name: "shop", cloud: "kubernetes", tracing: { backend: "jaeger" }, services });
const xrayPlan = planLandingZone({ name: "shop", cloud: "aws", region: "ap-northeast-2", environment: "prod", tracing: { backend: "xray" }, services });
const gcpCloudPlan = planLandingZone({ name: "shop", cloud: "gcp", region: "asia-northeast3", tracing: { backend: "cloud" }, services });
const azureCloudPlan = planLandingZone({ name: "shop", cloud: "azure", region: "koreacentral", tracing: { backend: "cloud" }, services });

function valuesOf(plan: typeof zipkinPlan, options?: Parameters<typeof tracingAddOn>[1]): Record<string, any> {
  return tracingAddOn(plan, options)!.helmReleases[0]!.values as Record<string, any>;
}

describe("tracingAddOn", () => {
  it("is undefined without plan.tracing", () => {
    expect(tracingAddOn(planLandingZone({ name: "shop", cloud: "aws", region: "ap-northeast-2", tracing: { backend: "none" } }))).toBeUndefined();
  });

  it("installs the pinned collector chart as the Service named in plan.tracing.collectorEndpoint, on OTLP 4317/4318", () => {
    const addOn = tracingAddOn(zipkinPlan)!;
    checkAddOn(addOn);
    const endpoint = new URL(zipkinPlan.tracing!.collectorEndpoint);
    const [service, namespace] = endpoint.hostname.split(".");
    expect(endpoint.port).toBe("4317");
    const release = addOn.helmReleases[0]!;
    expect(release).toMatchObject({ chart: "opentelemetry-collector", repository: OTEL_COLLECTOR_CHART.repository, namespace, createNamespace: true });
    expect(addOn.namespace).toBe(namespace);
    const values = release.values as Record<string, any>;
    expect(values.mode).toBe("deployment");
    expect(values.fullnameOverride).toBe(service);
    expect(values.ports.otlp).toMatchObject({ enabled: true, containerPort: 4317, servicePort: 4317 });
    expect(values.ports["otlp-http"]).toMatchObject({ enabled: true, containerPort: 4318, servicePort: 4318 });
    for (const unused of ["jaeger-compact", "jaeger-thrift", "jaeger-grpc", "zipkin"]) expect(values.ports[unused].enabled).toBe(false);
    expect(values.config.receivers.otlp.protocols.grpc.endpoint).toMatch(/:4317$/);
    expect(values.config.receivers.otlp.protocols.http.endpoint).toMatch(/:4318$/);
    expect(values.config.service.pipelines.traces.receivers).toEqual(["otlp"]);
  });

  it("runs the collector non-root on a read-only root filesystem with resources", () => {
    const values = valuesOf(zipkinPlan);
    expect(values.podSecurityContext.runAsNonRoot).toBe(true);
    expect(values.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(values.resources.limits.memory).toBeDefined();
    expect(valuesOf(xrayPlan).replicaCount).toBe(2);
    expect(values.replicaCount).toBe(1);
  });

  it("zipkin: exports to an in-namespace Zipkin Deployment and Service", () => {
    const addOn = tracingAddOn(zipkinPlan)!;
    const values = addOn.helmReleases[0]!.values as Record<string, any>;
    expect(values.config.exporters).toEqual({ zipkin: { endpoint: "http://zipkin.observability.svc.cluster.local:9411/api/v2/spans" } });
    expect(values.config.service.pipelines.traces.exporters).toEqual(["zipkin"]);
    const deployment = one(addOn.manifests, "Deployment", "zipkin");
    expect(deployment.metadata.namespace).toBe("observability");
    expect(deployment.spec.template.spec.containers[0].securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true });
    const service = one(addOn.manifests, "Service", "zipkin");
    expect(service.spec.ports[0].port).toBe(9411);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
  });

  it("jaeger: exports OTLP to an in-namespace Jaeger v2", () => {
    const addOn = tracingAddOn(jaegerPlan)!;
    checkAddOn(addOn);
    const values = addOn.helmReleases[0]!.values as Record<string, any>;
    expect(values.config.exporters["otlp/jaeger"].endpoint).toBe("jaeger.observability.svc.cluster.local:4317");
    expect(values.config.service.pipelines.traces.exporters).toEqual(["otlp/jaeger"]);
    expect(one(addOn.manifests, "Service", "jaeger").spec.ports.map((p: any) => p.port)).toEqual([4317, 16686]);
  });

  it("cloud backends: X-Ray, Cloud Trace and Azure Monitor exporters and no in-cluster backend", () => {
    const annotations = { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/otel" };
    const xray = tracingAddOn(xrayPlan, { serviceAccountAnnotations: annotations })!;
    expect(xray.manifests).toEqual([]);
    const xrayValues = xray.helmReleases[0]!.values as Record<string, any>;
    expect(xrayValues.config.exporters).toEqual({ awsxray: { region: "ap-northeast-2" } });
    expect(xrayValues.serviceAccount.annotations).toEqual(annotations);

    expect(defaultExporter(gcpCloudPlan)).toBe("googlecloud");
    expect(valuesOf(gcpCloudPlan).config.service.pipelines.traces.exporters).toEqual(["googlecloud"]);

    const azure = valuesOf(azureCloudPlan, { azureMonitorSecretName: "app-insights" });
    expect(azure.config.exporters.azuremonitor.connection_string).toBe("${env:APPLICATIONINSIGHTS_CONNECTION_STRING}");
    expect(azure.extraEnvs).toEqual([
      { name: "APPLICATIONINSIGHTS_CONNECTION_STRING", valueFrom: { secretKeyRef: { name: "app-insights", key: "connection-string" } } },
    ]);
  });

  it("options.exporter overrides the plan's backend", () => {
    const addOn = tracingAddOn(xrayPlan, { exporter: "zipkin" })!;
    expect(ofKind(addOn.manifests, "Deployment").map((d) => d.metadata.name)).toEqual(["zipkin"]);
  });

  it("rejects what it cannot deploy, naming the prop and the fix", () => {
    const iaas = planLandingZone({ name: "shop", cloud: "aws", region: "ap-northeast-2", tier: "iaas", services });
    expect(() => tracingAddOn(iaas)).toThrow(/plan\.tracing\.collectorEndpoint: "http:\/\/otel-collector:4317" is not an in-cluster OTLP gRPC endpoint\. Fix:/);
    expect(() => tracingAddOn(azureCloudPlan)).toThrow(/options\.azureMonitorSecretName: undefined.*Fix: pass a Secret name/);
  });

  it("runs Zipkin for tracing.backend cloud on an existing cluster, which has no cloud tracer", () => {
    const onPrem = planLandingZone({ name: "shop", cloud: "kubernetes", tracing: { backend: "cloud" }, services });
    expect(ofKind(tracingAddOn(onPrem)!.manifests, "Deployment").map((d) => d.metadata.name)).toEqual(["zipkin"]);
    expect(tracingAddOn(onPrem)).toEqual(tracingAddOn(planLandingZone({ name: "shop", cloud: "kubernetes", tracing: { backend: "zipkin" }, services })));
  });
});

describe("tracingAddOn as the central collector", () => {
  const plan = planLandingZone({ name: "shop", cloud: "gcp", region: "asia-northeast3", tier: "paas", mesh: { kind: "none" }, tracing: { backend: "cloud" }, logging: { stack: "elk", buffer: "redis" }, services });
  const central = { annotations: { "networking.gke.io/load-balancer-type": "Internal" }, address: "10.0.127.253", sourceRanges: ["10.0.0.0/17"] };

  it("is placed as CENTRAL_COLLECTOR with its Service an internal load balancer at the plan's address", () => {
    const release = tracingAddOn(plan, { central })!.helmReleases[0]!;
    expect(release).toMatchObject({ name: CENTRAL_COLLECTOR.name, namespace: CENTRAL_COLLECTOR.namespace });
    expect((release.values as Record<string, unknown>)["service"]).toEqual({ type: "LoadBalancer", annotations: central.annotations, loadBalancerIP: "10.0.127.253", loadBalancerSourceRanges: ["10.0.0.0/17"] });
    expect((tracingAddOn(gcpCloudPlan)!.helmReleases[0]!.values as Record<string, unknown>)["service"]).toBeUndefined();
  });

  it("refuses an address services would not export to, or no source range, naming the fix", () => {
    expect(() => tracingAddOn(plan, { central: { ...central, address: "10.0.0.9" } })).toThrow(/options.central.address: "10.0.0.9" is not the host of plan.tracing.collectorEndpoint "http:\/\/10.0.127.253:4317".*Fix: pass the address the plan gives/);
    expect(() => tracingAddOn(plan, { central: { ...central, sourceRanges: [] } })).toThrow(/options.central.sourceRanges: empty.*Fix: pass the CIDR of the services' subnet/);
  });
});
