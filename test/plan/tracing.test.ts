import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { beanstalkBundle, beanstalkOptionSettings, hostedServiceStatements, vmUserData, type BeanstalkRuntime } from "../../lib/plan/host-bootstrap.js";
import { PlanError, planLandingZone } from "../../lib/plan/index.js";
import { ADOT_COLLECTOR_IMAGE, HOST_COLLECTOR, XRAY_WRITE_ACTIONS, hostCollectorConfig, otelEnvironment } from "../../lib/plan/tracing.js";
import type { LandingZoneInput } from "../../lib/spec/index.js";

const shop = (tier: "iaas" | "caas" | "paas", tracing: LandingZoneInput["tracing"] = { backend: "xray", samplingRate: 0.25 }, cloud: "aws" | "gcp" = "aws"): LandingZoneInput => ({
  name: "shop",
  cloud,
  region: cloud === "aws" ? "ap-northeast-2" : "asia-northeast3",
  tier,
  gateway: { auth: "none" },
  tracing,
  monitoring: { dashboards: false, alarms: false },
  pipelines: { perService: false },
  logging: { stack: "none", buffer: "none" },
  auth: { sessions: "none" },
  services: [{ name: "orders", expose: true }],
});

const OTEL = {
  OTEL_SERVICE_NAME: "orders",
  OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel-collector:4317",
  OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
  OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
  OTEL_TRACES_SAMPLER_ARG: "0.25",
};

describe("tracing outside a cluster: planning", () => {
  it("points services at the collector beside them on the host, with the same OTEL contract as in a cluster", () => {
    for (const tier of ["iaas", "paas"] as const) {
      const plan = planLandingZone(shop(tier), { engine: "cdk" });
      expect(plan.tracing).toEqual({ implementation: "otel-collector", backend: "xray", samplingRate: 0.25, collectorEndpoint: "http://otel-collector:4317" });
      expect(otelEnvironment(plan.tracing!, "orders")).toEqual(OTEL);
      planLandingZone(shop(tier), { engine: "pulumi" });
    }
    const caas = planLandingZone(shop("caas"));
    expect(otelEnvironment(caas.tracing!, "orders")).toEqual({ ...OTEL, OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel-collector.observability.svc.cluster.local:4317" });
  });

  it("defaults the backend to the cloud's tracer without a cluster, and to zipkin with one", () => {
    expect(planLandingZone(shop("iaas", {})).tracing!.backend).toBe("cloud");
    expect(planLandingZone(shop("paas", {})).tracing!.backend).toBe("cloud");
    expect(planLandingZone(shop("caas", {})).tracing!.backend).toBe("zipkin");
  });

  it("refuses zipkin and jaeger on aws and gcp VMs and managed platforms, naming the value and the fix", () => {
    const problems = (input: LandingZoneInput) => {
      try {
        planLandingZone(input);
      } catch (error) {
        return (error as PlanError).problems;
      }
      return [];
    };
    expect(problems(shop("iaas", { backend: "zipkin" }))).toEqual([`tracing.backend "zipkin" runs in a cluster, and aws/iaas has none. Fix: use tracing.backend: xray or cloud (AWS X-Ray), or tier: caas`]);
    expect(problems(shop("paas", { backend: "jaeger" }))).toEqual([`tracing.backend "jaeger" runs in a cluster, and aws/paas has none. Fix: use tracing.backend: xray or cloud (AWS X-Ray), or tier: caas`]);
    expect(problems(shop("iaas", { backend: "jaeger" }, "gcp"))).toContain(`tracing.backend "jaeger" runs in a cluster, and gcp/iaas has none. Fix: use tracing.backend: cloud (Cloud Trace), or tier: caas`);
    expect(problems(shop("caas", { backend: "zipkin" }))).toEqual([]);
  });
});

describe("tracing outside a cluster: the hosts", () => {
  it("exports the host collector's OTLP to X-Ray in the plan's region, forwarding every span", () => {
    const config = parse(hostCollectorConfig(planLandingZone(shop("iaas")))) as Record<string, Record<string, unknown>>;
    expect(config["receivers"]).toEqual({ otlp: { protocols: { grpc: { endpoint: "0.0.0.0:4317" }, http: { endpoint: "0.0.0.0:4318" } } } });
    expect(config["exporters"]).toEqual({ awsxray: { region: "ap-northeast-2" } });
    expect(config["service"]).toEqual({ pipelines: { traces: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: ["awsxray"] } } });
    expect(ADOT_COLLECTOR_IMAGE).toMatch(/^public\.ecr\.aws\/aws-observability\/aws-otel-collector:v\d+\.\d+\.\d+$/);
    expect(() => hostCollectorConfig(planLandingZone(shop("caas", { backend: "zipkin" })))).toThrow(/tracing.backend "zipkin" on aws\/caas has no collector outside a cluster\. Fix:/);
  });

  it("grants the instance role exactly the X-Ray write actions, on *, only when tracing", () => {
    const grants = { partition: "aws", region: "ap-northeast-2", account: "111111111111", secretArns: [], topicArns: [], queueArns: [] };
    for (const tier of ["iaas", "paas"] as const) {
      const plan = planLandingZone(shop(tier));
      expect(hostedServiceStatements(plan, plan.services[0]!, grants).filter((s) => s.sid === "Trace")).toEqual([{ sid: "Trace", actions: XRAY_WRITE_ACTIONS, resources: ["*"] }]);
      const off = planLandingZone(shop(tier, { backend: "none" }));
      expect(hostedServiceStatements(off, off.services[0]!, grants).map((s) => s.sid)).not.toContain("Trace");
    }
  });

  it("runs the collector as a unit on the service's Docker network, which the service joins with its OTEL environment", () => {
    const plan = planLandingZone(shop("iaas"));
    const script = vmUserData(plan, plan.services[0]!, { region: "ap-northeast-2", image: "public.ecr.aws/shop/orders:1.0.0", env: {}, secretArns: {} });
    expect(script).toContain(`docker network inspect msa >/dev/null 2>&1 || docker network create msa`);
    expect(script).toContain(`cat > ${HOST_COLLECTOR.configPath} <<'MSA_EOF'\n${hostCollectorConfig(plan)}`);
    expect(script).toContain(`--name otel-collector --network msa --read-only --memory 256m`);
    expect(script).toContain(`${ADOT_COLLECTOR_IMAGE} --config=/etc/otel/config.yaml`);
    expect(script).toContain("exec docker run --rm --name app --network msa --env-file /etc/msa/service.env");
    expect(script).toContain("systemctl enable --now msa-otel-collector msa-app msa-lifecycle");
    const serviceEnv = /cat > \/etc\/msa\/service.env <<'MSA_EOF'\n([^]*?)\nMSA_EOF/.exec(script)![1]!;
    for (const [key, value] of Object.entries(OTEL)) expect(serviceEnv.split("\n")).toContain(`${key}=${value}`);
    // The network creation precedes the units that use it.
    expect(script.indexOf("docker network create msa")).toBeLessThan(script.indexOf("systemctl enable --now msa-"));

    const off = planLandingZone(shop("iaas", { backend: "none" }));
    const plain = vmUserData(off, off.services[0]!, { region: "ap-northeast-2", image: "public.ecr.aws/shop/orders:1.0.0", env: {}, secretArns: {} });
    expect(plain).not.toContain("otel");
    expect(plain).toContain("exec docker run --rm --name app --env-file");
  });

  it("adds the collector to the Beanstalk compose file and the OTEL variables to the app and the environment's properties", () => {
    const plan = planLandingZone(shop("paas"));
    const orders = plan.services[0]!;
    const bundle = beanstalkBundle(plan, orders, { logBuffer: false });
    expect(bundle["otel-collector.yaml"]).toBe(hostCollectorConfig(plan));
    const compose = parse(bundle["docker-compose.yml"]!) as { services: Record<string, Record<string, unknown>> };
    expect(compose.services["otel-collector"]).toMatchObject({
      image: ADOT_COLLECTOR_IMAGE,
      command: ["--config=/etc/otel/config.yaml"],
      volumes: ["./otel-collector.yaml:/etc/otel/config.yaml:ro"],
      read_only: true,
      cap_drop: ["ALL"],
    });
    // Nothing is published: only the app reaches the collector, over the compose network.
    expect(compose.services["otel-collector"]).not.toHaveProperty("ports");
    expect(compose.services["app"]!["environment"]).toMatchObject(Object.fromEntries(Object.keys(OTEL).map((k) => [k, `\${${k}}`])));
    const runtime: BeanstalkRuntime = {
      vpcId: "vpc-1",
      privateSubnetIds: "subnet-a,subnet-b",
      sharedLoadBalancerArn: "arn:lb",
      pathListenerArn: "arn:lb/paths",
      loadBalancerSecurityGroupId: "sg-lb",
      workloadSecurityGroupId: "sg-workload",
      instanceProfileName: "profile",
      serviceRoleArn: "arn:role",
      image: "registry/shop-orders:latest",
      env: {},
      secretArns: {},
      configParameterArns: {},
    };
    const properties = beanstalkOptionSettings(plan, orders, runtime).filter((s) => s.namespace === "aws:elasticbeanstalk:application:environment");
    expect(Object.fromEntries(properties.map((s) => [s.optionName, s.value]))).toMatchObject(OTEL);
    const off = planLandingZone(shop("paas", { backend: "none" }));
    expect(Object.keys(beanstalkBundle(off, off.services[0]!, { logBuffer: false }))).not.toContain("otel-collector.yaml");
  });
});
