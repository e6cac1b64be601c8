import { beforeAll, describe, expect, it } from "vitest";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { centralCollectorAddress } from "../../../lib/plan/trace-collector.js";
import { LandingZone } from "../../../lib/pulumi/gcp/landing-zone.js";
import { TraceCollector } from "../../../lib/pulumi/gcp/trace-collector.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { byType, GCP_CONFIG, MOCK_GCP_PROJECT, runProgram, single, type RegisteredResource } from "../harness.js";

type Json = Record<string, any>;

/** The GCP example on App Engine with ELK and Cloud Trace, and what App Engine does not run turned off. */
function onAppEngine(): LandingZoneSpec {
  const spec = loadSpecFile("examples/gcp/landing-zone.yaml");
  return { ...spec, environment: "dev", tier: "paas", mesh: { ...spec.mesh, kind: "none" }, gateway: { ...spec.gateway, auth: "none" }, auth: { ...spec.auth, tokens: "none" } };
}

describe("LandingZone on GCP App Engine with tracing: one central collector on the logging cluster", () => {
  const spec = onAppEngine();
  const plan = planLandingZone(spec, { engine: "pulumi" });
  // 10.0.0.0/16 → the services' subnet 10.0.0.0/17, whose last address a resource may hold is .253.
  const address = "10.0.127.253";
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG }));
  });

  it("plans the collector at a fixed private address of the services' subnet", () => {
    expect(spec.network.cidr).toBe("10.0.0.0/16");
    expect(centralCollectorAddress(plan.network)).toBe(address);
    expect(plan.tracing?.collectorEndpoint).toBe(`http://${address}:4317`);
  });

  it("reserves that address in the subnet for an internal load balancer", () => {
    const reserved = single(resources, "gcp:compute/address:Address", "shop-traces-address");
    expect(reserved.inputs).toMatchObject({ addressType: "INTERNAL", address, subnetwork: single(resources, "gcp:compute/subnetwork:Subnetwork").outputs["id"] });
  });

  it("runs the contrib collector on the logging cluster, its Service internal-only at that address and open to the subnet alone, exporting to Cloud Trace", () => {
    const release = single(resources, "kubernetes:helm.sh/v3:Release", "shop-traces-otel-collector");
    expect(release.inputs).toMatchObject({ name: "otel-collector", namespace: "observability", chart: "opentelemetry-collector" });
    const values = release.inputs["values"] as Json;
    expect(values["service"]).toEqual({ type: "LoadBalancer", annotations: { "networking.gke.io/load-balancer-type": "Internal" }, loadBalancerIP: address, loadBalancerSourceRanges: ["10.0.0.0/17"] });
    expect(values["image"]).toEqual({ repository: "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib" });
    expect(values["config"].exporters).toEqual({ googlecloud: {} });
    expect(values["config"].service.pipelines.traces).toEqual({ receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: ["googlecloud"] });
    // On the logging cluster, after its nodes, the address and the identity.
    expect(release.dependsOn).toEqual(expect.arrayContaining(["shop-traces-address", "shop-traces-identity-cloudtrace-agent", "shop-traces-identity-workload-identity"]));
    const cluster = single(resources, "gcp:container/cluster:Cluster");
    expect(cluster.name).toBe("shop-logging-platform-cluster");
  });

  it("writes to Cloud Trace as its own Google account, bound to its ServiceAccount through Workload Identity, holding cloudtrace.agent only", () => {
    const account = single(resources, "gcp:serviceaccount/account:Account", "shop-traces-identity-account");
    expect(account.inputs["accountId"]).toBe("shop-otel");
    const roles = byType(resources, "gcp:projects/iAMMember:IAMMember").filter((r) => r.inputs["member"] === account.outputs["member"]);
    expect(roles.map((r) => r.inputs["role"])).toEqual(["roles/cloudtrace.agent"]);
    expect(single(resources, "gcp:serviceaccount/iAMMember:IAMMember", "shop-traces-identity-workload-identity").inputs).toMatchObject({
      role: "roles/iam.workloadIdentityUser",
      member: `serviceAccount:${MOCK_GCP_PROJECT}.svc.id.goog[observability/otel-collector]`,
    });
    const values = single(resources, "kubernetes:helm.sh/v3:Release", "shop-traces-otel-collector").inputs["values"] as Json;
    expect(values["serviceAccount"]).toMatchObject({ create: true, name: "otel-collector", annotations: { "iam.gke.io/gcp-service-account": account.outputs["email"] } });
  });

  it("points every service's OpenTelemetry SDK at the collector", () => {
    const versions = byType(resources, "gcp:appengine/flexibleAppVersion:FlexibleAppVersion");
    expect(versions).toHaveLength(plan.services.length);
    for (const version of versions) {
      const env = version.inputs["envVariables"] as Record<string, string>;
      expect(env, version.name).toMatchObject({
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://${address}:4317`,
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0.1",
      });
    }
    expect((single(resources, "gcp:appengine/flexibleAppVersion:FlexibleAppVersion", "shop-payments-version").inputs["envVariables"] as Record<string, string>)["OTEL_SERVICE_NAME"]).toBe("payments");
  });

  it("refuses tracing on App Engine without the logging cluster, naming the keys and the fix", () => {
    expect(() => planLandingZone({ ...spec, logging: { ...spec.logging, stack: "none", buffer: "none" } }, { engine: "pulumi" })).toThrow(
      /tracing.backend: "cloud" on gcp\/paas exports through a collector on the logging cluster, but logging.stack is "none", so there is none. Fix: set logging.stack: elk, or tracing.backend: none/,
    );
  });

  it("refuses to run as the central collector of a plan that exports elsewhere", async () => {
    const onGke = planLandingZone({ ...spec, tier: "caas", mesh: { ...spec.mesh, kind: "istio" } }, { engine: "pulumi" });
    const program = () => void new TraceCollector("x", { plan: onGke, provider: undefined as never, subnetworkId: "s", sourceRanges: ["10.0.0.0/17"] });
    await expect(runProgram(program, { config: GCP_CONFIG })).rejects.toThrow(/TraceCollector x: the plan exports to no central collector \(cloud gcp, tier caas, tracing cloud\)\. Fix: use it for gcp paas/);
  });
});
