import type { LandingZonePlan, ServicePlan } from "../plan/types.js";
import { assertKubernetesName, labelsFor } from "./labels.js";
import { workloadNamespace } from "./namespace.js";
import type { AddOn, ManifestObject } from "./types.js";

/** The Secrets Store CSI driver's name, as pod volumes reference it. */
export const SECRETS_STORE_CSI_DRIVER = "secrets-store.csi.k8s.io";
/** Where a workload sees its secrets as files (the same values also reach it as env vars). */
export const SECRETS_MOUNT_PATH = "/mnt/secrets-store";
/** The AWS provider (ASCP) chart; it installs a compatible Secrets Store CSI driver as its dependency. */
export const SECRETS_STORE_PROVIDER_AWS_CHART = {
  chart: "secrets-store-csi-driver-provider-aws",
  repository: "https://aws.github.io/secrets-store-csi-driver-provider-aws",
  version: "2.2.0",
} as const;

/**
 * The Secrets Store CSI driver with the AWS provider: pods read their own Secrets Manager secrets
 * with their own Pod Identity, and the driver mirrors them into a Kubernetes Secret for env vars.
 * No secret value ever passes through the deployment engine.
 */
export function secretsStoreAddOn(): AddOn {
  return {
    name: "secrets-store",
    namespace: "kube-system",
    helmReleases: [
      {
        name: "secrets-store-provider-aws",
        namespace: "kube-system",
        chart: SECRETS_STORE_PROVIDER_AWS_CHART.chart,
        repository: SECRETS_STORE_PROVIDER_AWS_CHART.repository,
        version: SECRETS_STORE_PROVIDER_AWS_CHART.version,
        createNamespace: false,
        values: {
          "secrets-store-csi-driver": {
            install: true,
            // Mirrors mounted secrets into Kubernetes Secrets, which env vars can reference.
            syncSecret: { enabled: true },
            // A rotated secret reaches the mounted file and the mirror without a redeploy.
            enableSecretRotation: true,
            rotationPollInterval: "2m",
          },
        },
      },
    ],
    manifests: [],
    dependsOn: [],
  };
}

/**
 * The CSI driver add-on an AWS cluster of the plan needs, when its pods read any secret through it
 * (a service's own, the session store's AUTH token, the log buffer's token); undefined otherwise.
 */
export function secretsStoreAddOnOf(plan: LandingZonePlan): AddOn | undefined {
  return plan.sessions || plan.logging?.buffer || plan.services.some((s) => s.secrets.length > 0) ? secretsStoreAddOn() : undefined;
}

/** What a pod's identity needs on each Secrets Manager secret the AWS provider mounts (and on nothing else). */
export const SECRETS_STORE_READ_ACTIONS = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"] as const;

/** A secret of the secret store and the Kubernetes Secret key (and mounted file name) it becomes. */
export interface StoredSecret {
  /** Kubernetes Secret key; a service's secrets use their env var names, UPPER_SNAKE_CASE. */
  readonly key: string;
  /** ARN of the Secrets Manager secret (a plain string value); a deploy-time token is fine. */
  readonly secretArn: string;
}

/** A SecretProviderClass for any workload: where it lives, how it is labelled, what it mounts. */
export interface SecretProviderClassOptions {
  /** Name of the class and of the Kubernetes Secret the driver mirrors the secrets into. */
  readonly name: string;
  readonly namespace: string;
  /** Labels of the class and of the mirrored Secret. */
  readonly labels: Readonly<Record<string, string>>;
  readonly secrets: readonly StoredSecret[];
}

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const ENV_VAR_KEY = /^[A-Z][A-Z0-9_]*$/;

/**
 * A SecretProviderClass (no kubernetes-models class: checked structurally by the tests) that
 * mounts Secrets Manager secrets with the pod's own identity and mirrors them, under their keys,
 * into the Kubernetes Secret `options.name` while a pod mounts it.
 *
 * @example
 * secretProviderClass({ name: "log-buffer-auth", namespace: "logging", labels, secrets: [{ key: "password", secretArn }] });
 */
export function secretProviderClass(options: SecretProviderClassOptions): ManifestObject {
  return buildSecretProviderClass("secretProviderClass", options, { pattern: SECRET_KEY, description: "Kubernetes Secret key" });
}

/** The service's secrets under their env var names, in the workloads namespace (see {@link secretProviderClass}). */
export function awsSecretProviderClass(plan: LandingZonePlan, service: ServicePlan, secretName: string, secrets: readonly StoredSecret[]): ManifestObject {
  return buildSecretProviderClass(
    `awsSecretProviderClass services[${service.name}]`,
    { name: secretName, namespace: workloadNamespace(plan), labels: labelsFor(plan, service.name), secrets },
    { pattern: ENV_VAR_KEY, description: "UPPER_SNAKE_CASE name", fix: "give every secret its own env var name" },
  );
}

function buildSecretProviderClass(where: string, options: SecretProviderClassOptions, keyRule: { pattern: RegExp; description: string; fix?: string }): ManifestObject {
  const { name, namespace, labels, secrets } = options;
  assertKubernetesName(`${where} name`, name);
  assertKubernetesName(`${where} namespace`, namespace);
  if (secrets.length === 0) throw new Error(`${where}: secrets is empty. Fix: create the class only for a workload with secrets`);
  const keys = new Set<string>();
  for (const { key } of secrets) {
    if (!keyRule.pattern.test(key) || keys.has(key)) {
      throw new Error(`${where}: key "${key}" is not a unique ${keyRule.description}. Fix: ${keyRule.fix ?? "give every secret its own key of letters, digits, '-', '_' or '.'"}`);
    }
    keys.add(key);
  }
  return {
    apiVersion: "secrets-store.csi.x-k8s.io/v1",
    kind: "SecretProviderClass",
    metadata: { name, namespace, labels: { ...labels } },
    spec: {
      provider: "aws",
      parameters: {
        usePodIdentity: "true",
        // A YAML list (JSON is YAML); the ARN names the secret, the alias names the mounted file and the mirrored key.
        objects: JSON.stringify(secrets.map(({ key, secretArn }) => ({ objectName: secretArn, objectType: "secretsmanager", objectAlias: key }))),
      },
      secretObjects: [{ secretName: name, type: "Opaque", labels: { ...labels }, data: secrets.map(({ key }) => ({ objectName: key, key })) }],
    },
  };
}

/** Where the Azure provider reads a service's secrets: the vault, and the identity the pods sign in with. */
export interface AzureKeyVaultSource {
  readonly keyVaultName: string;
  readonly tenantId: string;
  /** Client id of the service's workload identity (its Key Vault Secrets User grants are per secret). */
  readonly clientId: string;
  /** Each secret's env var / Secret key and its Key Vault secret name. */
  readonly secrets: readonly { readonly key: string; readonly secretName: string }[];
}

/**
 * The Azure Key Vault SecretProviderClass of a service (AKS's Key Vault secrets provider add-on):
 * the pods read their own secrets with their workload identity, and the driver mirrors them into
 * `secretName` for env vars. Checked structurally by the tests (no kubernetes-models class).
 */
export function azureSecretProviderClass(plan: LandingZonePlan, service: ServicePlan, secretName: string, source: AzureKeyVaultSource): ManifestObject {
  assertKubernetesName("azureSecretProviderClass secretName", secretName);
  if (source.secrets.length === 0) throw new Error(`azureSecretProviderClass services[${service.name}]: secrets is empty. Fix: create the class only for a service with secrets`);
  const missing = service.secrets.filter((key) => !source.secrets.some((s) => s.key === key));
  if (missing.length > 0) throw new Error(`azureSecretProviderClass services[${service.name}]: no Key Vault secret for [${missing.join(", ")}]. Fix: map every declared secret to its vault secret`);
  return {
    apiVersion: "secrets-store.csi.x-k8s.io/v1",
    kind: "SecretProviderClass",
    metadata: { name: secretName, namespace: workloadNamespace(plan), labels: labelsFor(plan, service.name) },
    spec: {
      provider: "azure",
      parameters: {
        // Workload identity: the pod's federated token, not the kubelet's or a shared identity.
        usePodIdentity: "false",
        clientID: source.clientId,
        keyvaultName: source.keyVaultName,
        tenantId: source.tenantId,
        objects: JSON.stringify({ array: source.secrets.map((s) => JSON.stringify({ objectName: s.secretName, objectType: "secret", objectAlias: s.key })) }),
      },
      secretObjects: [{ secretName, type: "Opaque", labels: labelsFor(plan, service.name), data: source.secrets.map(({ key }) => ({ objectName: key, key })) }],
    },
  };
}
