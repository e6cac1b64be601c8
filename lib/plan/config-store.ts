import type { LandingZoneSpec } from "../spec/types.js";
import type { ServicePlan } from "./types.js";

/** One configuration value of a service, as a parameter in the configuration store. */
export interface ConfigParameterPlan {
  /** Environment variable / ConfigMap key. */
  readonly key: string;
  /** Parameter name, `/msa/<zone>/<env>/config/<service>/<key>`. */
  readonly name: string;
  readonly value: string;
}

/** One secret of a service: a generated value in the secret store, never in the plan. */
export interface ConfigSecretPlan {
  /** Environment variable / Kubernetes Secret key. */
  readonly key: string;
  /** Secret name, `msa/<zone>/<env>/<service>/<key>`. */
  readonly name: string;
}

/** What the configuration store holds for one service or BFF. */
export interface ServiceConfigPlan {
  readonly service: string;
  /** Parameter path prefix of the service, ending in `/`; the workload may read everything below it. */
  readonly parameterPath: string;
  readonly parameters: readonly ConfigParameterPlan[];
  readonly secrets: readonly ConfigSecretPlan[];
}

/** The external configuration store: per environment, outside the code, injected at deploy time. */
export interface ConfigStorePlan {
  readonly implementation: string;
  /** Every service and BFF, in plan order, even those without configuration (their path stays reserved). */
  readonly services: readonly ServiceConfigPlan[];
}

/** `/msa/<zone>/<env>/config/<service>/`: one path per service and environment. */
export function configParameterPath(zone: string, environment: string, service: string): string {
  return `/msa/${zone}/${environment}/config/${service}/`;
}

/** `msa/<zone>/<env>/<service>/<key>`: the name of a service's secret in the secret store. */
export function configSecretName(zone: string, environment: string, service: string, key: string): string {
  return `msa/${zone}/${environment}/${service}/${key}`;
}

/** The configuration store of every service: `config.values` merged under each service's own `config`, and its `secrets`. */
export function planConfigStore(spec: LandingZoneSpec, services: readonly ServicePlan[], implementation: string): ConfigStorePlan {
  return {
    implementation,
    services: services.map((service) => {
      const parameterPath = configParameterPath(spec.name, spec.environment, service.name);
      return {
        service: service.name,
        parameterPath,
        parameters: Object.entries(service.config).map(([key, value]) => ({ key, name: `${parameterPath}${key}`, value })),
        secrets: service.secrets.map((key) => ({ key, name: configSecretName(spec.name, spec.environment, service.name, key) })),
      };
    }),
  };
}

/** The configuration of one service; throws naming the services when it is not in the plan. */
export function serviceConfigOf(store: ConfigStorePlan, service: string): ServiceConfigPlan {
  const found = store.services.find((s) => s.service === service);
  if (!found) throw new Error(`configStore.services: "${service}" is not planned. Fix: use one of ${store.services.map((s) => s.service).join(", ")}`);
  return found;
}

/**
 * The key-policy statement of a customer-managed key that encrypts secrets: every principal of the
 * account may decrypt with it through Secrets Manager only, as with the AWS managed key
 * `aws/secretsmanager`, so who may read a secret stays decided by `secretsmanager:GetSecretValue`
 * on that secret (also for readers elsewhere that know only its ARN).
 */
export const SECRETS_MANAGER_DECRYPT = {
  sid: "ReadSecretsThroughSecretsManager",
  actions: ["kms:Decrypt", "kms:DescribeKey"],
  /** `kms:CallerAccount` and `kms:ViaService` of the statement. */
  conditions: (account: string, region: string) => ({ StringEquals: { "kms:CallerAccount": account, "kms:ViaService": `secretsmanager.${region}.amazonaws.com` } }),
} as const;
