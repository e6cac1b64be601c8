import { describe, expect, it, vi } from "vitest";
import {
  AUTHORIZER_HANDLER_SOURCE,
  authorizerPolicyStatements,
  cloudWatchDashboardBody,
  cloudWatchMonitors,
  planLandingZone,
  serviceConfigOf,
  wafRateLimit,
} from "../../lib/plan/index.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";

const spec = {
  name: "shop",
  environment: "prod",
  config: { values: { LOG_LEVEL: "info", REGION_LABEL: "seoul" } },
  bffs: [{ name: "web", routes: ["/web", "/app"] }],
  monitoring: { errorRatePercent: 2, latencyMs: 800, alarmEmail: "ops@example.com" },
  services: [
    { name: "orders", config: { LOG_LEVEL: "debug" }, secrets: ["SIGNING_KEY"] },
    { name: "auth", path: "/auth/" },
    { name: "worker", expose: false },
  ],
} satisfies LandingZoneInput;

describe("config store plan", () => {
  const plan = planLandingZone(spec);

  it("puts config.values under each service's own config, one parameter per key under the service's environment path", () => {
    const orders = serviceConfigOf(plan.configStore!, "orders");
    expect(orders.parameterPath).toBe("/msa/shop/prod/config/orders/");
    expect(orders.parameters).toEqual([
      { key: "LOG_LEVEL", name: "/msa/shop/prod/config/orders/LOG_LEVEL", value: "debug" },
      { key: "REGION_LABEL", name: "/msa/shop/prod/config/orders/REGION_LABEL", value: "seoul" },
    ]);
    expect(orders.secrets).toEqual([{ key: "SIGNING_KEY", name: "msa/shop/prod/orders/SIGNING_KEY" }]);
    // BFFs receive the zone-wide values too.
    expect(serviceConfigOf(plan.configStore!, "web").parameters.map((p) => p.name)).toEqual(["/msa/shop/prod/config/web/LOG_LEVEL", "/msa/shop/prod/config/web/REGION_LABEL"]);
    expect(() => serviceConfigOf(plan.configStore!, "ghost")).toThrow(/"ghost" is not planned. Fix: use one of orders, auth, worker, web/);
  });

  it("keeps no secret value in the plan", () => {
    expect(JSON.stringify(plan.configStore)).not.toMatch(/"value":"[^"]*"[^}]*SIGNING_KEY/);
    expect(plan.configStore!.services.flatMap((s) => s.secrets).every((s) => Object.keys(s).sort().join() === "key,name")).toBe(true);
  });
});

describe("auth plan", () => {
  it("uses the zone's user pool unless an external issuer is named", () => {
    expect(planLandingZone(spec).auth).toEqual({ tokens: { provider: "user-pool", audiences: [] } });
    const external = planLandingZone({ ...spec, auth: { issuer: "https://login.example.com/realms/shop", audiences: ["shop-web"] } });
    expect(external.auth!.tokens).toEqual({ provider: "external", issuer: "https://login.example.com/realms/shop", audiences: ["shop-web"] });
    expect(planLandingZone({ ...spec, gateway: { auth: "none" } }).auth).toBeUndefined();
  });

  it("delegates to the auth service at its own prefix, with the spec's cache", () => {
    const plan = planLandingZone({ ...spec, gateway: { auth: "authorizer", authorizerCacheSeconds: 60 }, auth: { service: "auth" } });
    expect(plan.auth).toEqual({ authorizer: { service: "auth", servicePath: "/auth", authorizePath: "/auth/authorize", cacheSeconds: 60, timeoutSeconds: 3 } });
  });

  it("ships a handler that asks the auth service with only the Authorization header, and fails closed", async () => {
    const exports: { handler?: (event: unknown) => Promise<{ isAuthorized: boolean }> } = {};
    new Function("exports", AUTHORIZER_HANDLER_SOURCE)(exports);
    const handler = exports.handler!;
    const fetch = vi.fn();
    vi.stubGlobal("fetch", fetch);
    vi.stubEnv("AUTHORIZE_URL", "http://internal-lb.example/auth/authorize");
    try {
      const event = { rawPath: "/orders/42", headers: { authorization: "Bearer t", cookie: "c=1" } };
      fetch.mockResolvedValueOnce({ status: 204 });
      expect(await handler(event)).toEqual({ isAuthorized: true });
      expect(fetch).toHaveBeenLastCalledWith("http://internal-lb.example/auth/authorize/orders/42", expect.objectContaining({ headers: { authorization: "Bearer t" }, redirect: "manual" }));
      fetch.mockResolvedValueOnce({ status: 403 });
      expect(await handler(event)).toEqual({ isAuthorized: false });
      fetch.mockResolvedValueOnce({ status: 302 });
      expect(await handler(event)).toEqual({ isAuthorized: false });
      fetch.mockRejectedValueOnce(Object.assign(new Error("timeout"), { name: "TimeoutError" }));
      expect(await handler(event)).toEqual({ isAuthorized: false });
      fetch.mockClear();
      expect(await handler({ rawPath: "/orders", headers: {} })).toEqual({ isAuthorized: false });
      expect(fetch).not.toHaveBeenCalled();
    } finally {
      vi.unstubAllGlobals();
      vi.unstubAllEnvs();
    }
  });

  it("grants the authorizer its own logs and its network interfaces, nothing else", () => {
    const statements = authorizerPolicyStatements({ partition: "aws", region: "ap-northeast-2", account: "111111111111", logGroupArn: "arn:aws:logs:ap-northeast-2:111111111111:log-group:/aws/lambda/a" });
    expect(statements).toEqual([
      { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: "arn:aws:logs:ap-northeast-2:111111111111:log-group:/aws/lambda/a:*" },
      { Sid: "DescribeNetwork", Effect: "Allow", Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], Resource: "*" },
      {
        Sid: "ManageNetworkInterfaces",
        Effect: "Allow",
        Action: ["ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"],
        Resource: "arn:aws:ec2:ap-northeast-2:111111111111:*/*",
      },
    ]);
  });
});

describe("monitoring plan", () => {
  const plan = planLandingZone(spec);
  const monitors = cloudWatchMonitors(plan);
  const monitor = (name: string) => monitors.find((m) => m.name === name)!;

  it("takes thresholds, topic and email from the spec", () => {
    expect(plan.monitoring).toMatchObject({ topicName: "shop-prod-alarms", alarmEmail: "ops@example.com", errorRatePercent: 2, latencyMs: 800, dashboards: true, alarms: true });
    expect(plan.monitoring!.services).toEqual([
      { service: "orders", loadBalancerIndex: 0 },
      { service: "auth", loadBalancerIndex: 0 },
      { service: "worker" },
      { service: "web", loadBalancerIndex: 0 },
    ]);
  });

  it("gives the gateway and every service a dashboard with requests, errors, latency and saturation", () => {
    expect(monitors.map((m) => m.dashboardName)).toEqual(["shop-prod-gateway", "shop-prod-orders", "shop-prod-auth", "shop-prod-worker", "shop-prod-web"]);
    expect(monitor("orders").widgets.map((w) => w.title)).toEqual(["Requests", "Errors", "Latency", "Targets", "Saturation"]);
    expect(monitor("orders").dimensions).toEqual(["targetGroup", "loadBalancer", "clusterName"]);
    // Not behind the gateway: only what Container Insights sees.
    expect(monitor("worker").widgets.map((w) => w.title)).toEqual(["Saturation"]);
    expect(monitor("worker").dimensions).toEqual(["clusterName"]);
    const latency = monitor("orders").widgets.find((w) => w.title === "Latency")!.metrics;
    expect(latency.map((m) => ("statistic" in m ? m.statistic : ""))).toEqual(["p50", "p99"]);
  });

  it("alarms on the 5xx rate, p99 latency, unhealthy targets and memory, with the spec's thresholds", () => {
    const alarms = monitor("orders").alarms;
    expect(alarms.map((a) => [a.name, a.threshold, a.comparison])).toEqual([
      ["shop-prod-orders-server-errors", 2, "GreaterThanThreshold"],
      ["shop-prod-orders-latency", 0.8, "GreaterThanThreshold"],
      ["shop-prod-orders-unhealthy-hosts", 1, "GreaterThanOrEqualToThreshold"],
      ["shop-prod-orders-memory", 90, "GreaterThanThreshold"],
    ]);
    const errors = alarms[0]!;
    expect(errors.expression!.expression).toBe("IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)");
    expect(errors.metrics.map((m) => `${m.id}=${m.namespace}/${m.metricName}:${m.statistic}`)).toEqual([
      "requests=AWS/ApplicationELB/RequestCount:Sum",
      "errors=AWS/ApplicationELB/HTTPCode_Target_5XX_Count:Sum",
    ]);
    expect(monitor("gateway").alarms.map((a) => a.name)).toEqual(["shop-prod-gateway-server-errors", "shop-prod-gateway-latency"]);
    expect(cloudWatchMonitors(planLandingZone({ ...spec, monitoring: { alarms: false } })).flatMap((m) => m.alarms)).toEqual([]);
    expect(cloudWatchMonitors(planLandingZone({ ...spec, monitoring: { alarms: false, dashboards: false } }))).toEqual([]);
  });

  it("renders a dashboard body with the engine's dimension values, and names a missing one", () => {
    const body = cloudWatchDashboardBody(monitor("orders"), { targetGroup: "targetgroup/tg/1", loadBalancer: "app/lb/2", clusterName: "shop-prod" }, "ap-northeast-2") as {
      widgets: { properties: { region: string; title: string; metrics: unknown[][] } }[];
    };
    expect(body.widgets).toHaveLength(5);
    expect(body.widgets[0]!.properties).toMatchObject({ region: "ap-northeast-2", title: "Requests" });
    expect(body.widgets[0]!.properties.metrics[0]).toEqual(["AWS/ApplicationELB", "RequestCount", "TargetGroup", "targetgroup/tg/1", "LoadBalancer", "app/lb/2", { stat: "Sum", label: "Requests", id: "requests" }]);
    expect(body.widgets[4]!.properties.metrics[1]).toEqual(["ContainerInsights", "pod_memory_utilization_over_pod_limit", "ClusterName", "shop-prod", "Namespace", "shop", "Service", "orders", { stat: "Average", label: "Memory % of limit", id: "memory" }]);
    expect(() => cloudWatchDashboardBody(monitor("orders"), { clusterName: "c" }, "ap-northeast-2")).toThrow(/dimension TargetGroup needs the value of "targetGroup", which is undefined/);
  });
});

describe("WAF rate limit", () => {
  it("allows one client the gateway's steady rate per minute, never under WAF's minimum", () => {
    expect(wafRateLimit({ requestsPerSecond: 200 })).toEqual({ name: "RateLimitPerClient", limit: 12000, evaluationWindowSec: 60, forwardedIpHeader: "X-Forwarded-For" });
    expect(wafRateLimit({ requestsPerSecond: 0.1 }).limit).toBe(10);
  });
});
