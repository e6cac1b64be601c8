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

/** A secret of the secret store and the env var / Secret key it becomes. */
export interface StoredSecret {
  /** Env var and Kubernetes Secret key, UPPER_SNAKE_CASE. */
  readonly key: string;
  /** ARN of the Secrets Manager secret (a plain string value); a deploy-time token is fine. */
  readonly secretArn: string;
}

/**
 * A SecretProviderClass (no kubernetes-models class: checked structurally by the tests) that
 * mounts the service's secrets with the pod's own identity and mirrors them into `secretName`.
 */
export function awsSecretProviderClass(plan: LandingZonePlan, service: ServicePlan, secretName: string, secrets: readonly StoredSecret[]): ManifestObject {
  assertKubernetesName("awsSecretProviderClass secretName", secretName);
  if (secrets.length === 0) throw new Error(`awsSecretProviderClass services[${service.name}]: secrets is empty. Fix: create the class only for a service with secrets`);
  const keys = new Set<string>();
  for (const { key } of secrets) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(key) || keys.has(key)) {
      throw new Error(`awsSecretProviderClass services[${service.name}]: key "${key}" is not a unique UPPER_SNAKE_CASE name. Fix: give every secret its own env var name`);
    }
    keys.add(key);
  }
  return {
    apiVersion: "secrets-store.csi.x-k8s.io/v1",
    kind: "SecretProviderClass",
    metadata: { name: secretName, namespace: workloadNamespace(plan), labels: labelsFor(plan, service.name) },
    spec: {
      provider: "aws",
      parameters: {
        usePodIdentity: "true",
        // A YAML list (JSON is YAML); the ARN names the secret, the alias names the mounted file.
        objects: JSON.stringify(secrets.map(({ key, secretArn }) => ({ objectName: secretArn, objectType: "secretsmanager", objectAlias: key }))),
      },
      secretObjects: [{ secretName, type: "Opaque", labels: labelsFor(plan, service.name), data: secrets.map(({ key }) => ({ objectName: key, key })) }],
    },
  };
}
