/**
 * The settings of an App Engine flexible service's versions, decided once: Pulumi's
 * `FlexibleAppVersion` and the pipeline's app.yaml (`gcloud app deploy --image-url`) are both made
 * from them, and both name a version with the same rule, so a `pulumi up` after a release finds the
 * version the pipeline deployed instead of creating another.
 */
import { createHash } from "node:crypto";
import { stringify } from "yaml";
import { appEngineServiceName } from "./gcp.js";
import type { LandingZonePlan } from "./types.js";

/** CPU utilization App Engine's autoscaler keeps each service at. */
export const APP_ENGINE_CPU_TARGET = 0.7;
/** Hex characters of the hash in a version id (`v-<hash>`). */
export const APP_ENGINE_VERSION_HASH_LENGTH = 12;

/** Everything a version runs with, except its image. */
export interface AppEngineVersionSettings {
  /** App Engine service name (`default` for the plan's first service). */
  readonly service: string;
  /** The runtime account's email. */
  readonly serviceAccount: string;
  /** Non-secret environment; secrets go by Secret Manager reference. */
  readonly envVariables: Readonly<Record<string, string>>;
  /** VPC network and subnet names; the instances get internal addresses only. */
  readonly network: { readonly name: string; readonly subnetwork: string };
  readonly resources: { readonly cpu: number; readonly memoryGb: number };
  readonly scaling: { readonly minInstances: number; readonly maxInstances: number; readonly coolDownSeconds: number; readonly cpuTarget: number };
  readonly healthPath: string;
  readonly liveness: { readonly checkIntervalSeconds: number; readonly failureThreshold: number; readonly initialDelaySeconds: number };
  readonly readiness: { readonly checkIntervalSeconds: number; readonly failureThreshold: number; readonly appStartTimeoutSeconds: number };
  /** Cloud Endpoints service whose ESP checks callers' tokens in front of the app (managed rollout), when there is one. */
  readonly endpointsService?: string;
}

/** What the settings take from the running landing zone rather than the plan. */
export interface AppEngineRuntime {
  readonly serviceAccount: string;
  readonly envVariables: Readonly<Record<string, string>>;
  readonly network: { readonly name: string; readonly subnetwork: string };
  /**
   * The service's Cloud Endpoints service (ESP in front of the app).
   * @default - none
   */
  readonly endpointsService?: string;
}

/** The settings of `service`'s versions: sizes, scaling and health checks from the plan, account, environment and network from the zone. */
export function appEngineVersionSettings(plan: LandingZonePlan, service: string, runtime: AppEngineRuntime): AppEngineVersionSettings {
  const planned = plan.services.find((s) => s.name === service);
  if (!planned) throw new Error(`appEngineVersionSettings service: "${service}" is not in plan.services. Fix: use one of ${plan.services.map((s) => s.name).join(", ")}`);
  return {
    service: appEngineServiceName(plan, service),
    serviceAccount: runtime.serviceAccount,
    envVariables: runtime.envVariables,
    network: runtime.network,
    resources: { cpu: Math.max(1, Math.ceil(planned.cpuMillicores / 1000)), memoryGb: Math.max(1, Math.ceil(planned.memoryMiB / 1024)) },
    scaling: { minInstances: planned.replicas.min, maxInstances: planned.replicas.max, coolDownSeconds: 120, cpuTarget: APP_ENGINE_CPU_TARGET },
    healthPath: planned.healthPath,
    liveness: { checkIntervalSeconds: 30, failureThreshold: 4, initialDelaySeconds: 300 },
    readiness: { checkIntervalSeconds: 5, failureThreshold: 2, appStartTimeoutSeconds: 300 },
    ...(runtime.endpointsService ? { endpointsService: runtime.endpointsService } : {}),
  };
}

/** The app.yaml of a version with these settings (the image comes from `--image-url`). */
export function appEngineAppYaml(settings: AppEngineVersionSettings): string {
  return stringify(
    {
      service: settings.service,
      runtime: "custom",
      env: "flex",
      service_account: settings.serviceAccount,
      env_variables: settings.envVariables,
      network: { name: settings.network.name, subnetwork_name: settings.network.subnetwork, instance_ip_mode: "internal" },
      resources: { cpu: settings.resources.cpu, memory_gb: settings.resources.memoryGb },
      automatic_scaling: {
        min_num_instances: settings.scaling.minInstances,
        max_num_instances: settings.scaling.maxInstances,
        cool_down_period_sec: settings.scaling.coolDownSeconds,
        cpu_utilization: { target_utilization: settings.scaling.cpuTarget },
      },
      liveness_check: { path: settings.healthPath, check_interval_sec: settings.liveness.checkIntervalSeconds, failure_threshold: settings.liveness.failureThreshold, initial_delay_sec: settings.liveness.initialDelaySeconds },
      readiness_check: { path: settings.healthPath, check_interval_sec: settings.readiness.checkIntervalSeconds, failure_threshold: settings.readiness.failureThreshold, app_start_timeout_sec: settings.readiness.appStartTimeoutSeconds },
      ...(settings.endpointsService ? { endpoints_api_service: { name: settings.endpointsService, rollout_strategy: "managed" } } : {}),
    },
    { lineWidth: 0 },
  );
}

/** Start of the first line of {@link appEngineReleaseFile}: a comment to App Engine, the settings' digest to the GitHub deploy job. */
export const APP_ENGINE_DIGEST_LINE = "# settings-digest: ";

/**
 * The app.yaml the GitHub deploy job releases with, as the engine stores it in Secret Manager: the
 * settings' digest on a comment line (the version id needs it), then {@link appEngineAppYaml}.
 */
export function appEngineReleaseFile(settings: AppEngineVersionSettings): string {
  return `${APP_ENGINE_DIGEST_LINE}${appEngineSettingsDigest(settings)}\n${appEngineAppYaml(settings)}`;
}

/** SHA-256 (hex) of the settings with their keys sorted, so equal settings give equal digests. */
export function appEngineSettingsDigest(settings: AppEngineVersionSettings): string {
  return createHash("sha256").update(canonicalJson(settings)).digest("hex");
}

/** `v-<hash>` of the image and the settings' digest; the pipeline computes the same in bash (`appEngineReleaseSteps`). */
export function appEngineVersionId(image: string, settings: AppEngineVersionSettings): string {
  return `v-${createHash("sha256").update(`${image}\n${appEngineSettingsDigest(settings)}`).digest("hex").slice(0, APP_ENGINE_VERSION_HASH_LENGTH)}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}
