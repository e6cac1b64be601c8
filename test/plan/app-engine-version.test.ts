import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { APP_ENGINE_CPU_TARGET, appEngineAppYaml, appEngineSettingsDigest, appEngineVersionId, appEngineVersionSettings } from "../../lib/plan/app-engine-version.js";
import { planLandingZone } from "../../lib/plan/planner.js";
import { loadSpecFile } from "../../lib/spec/parse.js";

const spec = loadSpecFile("examples/gcp/landing-zone.yaml");
const plan = planLandingZone({ ...spec, tier: "paas", mesh: { ...spec.mesh, kind: "none" } });
const runtime = { serviceAccount: "shop-orders@p.iam.gserviceaccount.com", envVariables: { B: "2", A: "1" }, network: { name: "net", subnetwork: "sub" } };

describe("App Engine version settings (one decision for Pulumi's versions and the pipeline's app.yaml)", () => {
  it("takes sizes, scaling and health checks from the plan, and names the plan's first service default", () => {
    const first = plan.services[0]!;
    const settings = appEngineVersionSettings(plan, first.name, runtime);
    expect(settings.service).toBe("default");
    expect(settings.scaling).toEqual({ minInstances: first.replicas.min, maxInstances: first.replicas.max, coolDownSeconds: 120, cpuTarget: APP_ENGINE_CPU_TARGET });
    expect(settings.healthPath).toBe(first.healthPath);
    expect(settings.resources.cpu).toBeGreaterThanOrEqual(1);
    expect(appEngineVersionSettings(plan, plan.services[1]!.name, runtime).service).toBe(plan.services[1]!.name);
  });

  it("writes an app.yaml of a flexible custom-runtime version with the same account, environment, internal network, scaling and checks", () => {
    const settings = appEngineVersionSettings(plan, "orders", runtime);
    expect(parse(appEngineAppYaml(settings))).toEqual({
      service: settings.service,
      runtime: "custom",
      env: "flex",
      service_account: runtime.serviceAccount,
      env_variables: runtime.envVariables,
      network: { name: "net", subnetwork_name: "sub", instance_ip_mode: "internal" },
      resources: { cpu: settings.resources.cpu, memory_gb: settings.resources.memoryGb },
      automatic_scaling: { min_num_instances: settings.scaling.minInstances, max_num_instances: settings.scaling.maxInstances, cool_down_period_sec: 120, cpu_utilization: { target_utilization: APP_ENGINE_CPU_TARGET } },
      liveness_check: { path: settings.healthPath, check_interval_sec: 30, failure_threshold: 4, initial_delay_sec: 300 },
      readiness_check: { path: settings.healthPath, check_interval_sec: 5, failure_threshold: 2, app_start_timeout_sec: 300 },
    });
  });

  it("names the Endpoints service ESP checks tokens for, with a managed rollout, when the service has one", () => {
    const settings = appEngineVersionSettings(plan, "orders", { ...runtime, endpointsService: "orders.endpoints.p.cloud.goog" });
    expect((parse(appEngineAppYaml(settings)) as Record<string, unknown>)["endpoints_api_service"]).toEqual({ name: "orders.endpoints.p.cloud.goog", rollout_strategy: "managed" });
    expect(appEngineSettingsDigest(settings)).not.toBe(appEngineSettingsDigest(appEngineVersionSettings(plan, "orders", runtime)));
    expect((parse(appEngineAppYaml(appEngineVersionSettings(plan, "orders", runtime))) as Record<string, unknown>)["endpoints_api_service"]).toBeUndefined();
  });

  it("names a version by its image and settings only: key order does not matter, any change does", () => {
    const settings = appEngineVersionSettings(plan, "orders", runtime);
    const reordered = appEngineVersionSettings(plan, "orders", { ...runtime, envVariables: { A: "1", B: "2" } });
    expect(appEngineSettingsDigest(reordered)).toBe(appEngineSettingsDigest(settings));
    expect(appEngineVersionId("r/i@sha256:1", settings)).toMatch(/^v-[0-9a-f]{12}$/);
    expect(appEngineVersionId("r/i@sha256:1", reordered)).toBe(appEngineVersionId("r/i@sha256:1", settings));
    expect(appEngineVersionId("r/i@sha256:2", settings)).not.toBe(appEngineVersionId("r/i@sha256:1", settings));
    expect(appEngineVersionId("r/i@sha256:1", { ...settings, envVariables: { A: "1", B: "3" } })).not.toBe(appEngineVersionId("r/i@sha256:1", settings));
  });

  it("refuses a service the plan does not have, naming the fix", () => {
    expect(() => appEngineVersionSettings(plan, "nope", runtime)).toThrow(/service: "nope" is not in plan.services\. Fix: use one of/);
  });
});
