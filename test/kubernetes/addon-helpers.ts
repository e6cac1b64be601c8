import { Application, AppProject } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1";
import { Certificate, Issuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1";
import { Bundle } from "@kubernetes-models/cert-manager/trust.cert-manager.io/v1alpha1";
import { Cluster } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1";
import { Kafka, KafkaNodePool, KafkaTopic, KafkaUser } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2";
import { DaemonSet, Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { Job } from "kubernetes-models/batch/v1";
import { Ingress, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding } from "kubernetes-models/admissionregistration.k8s.io/v1";
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { expect } from "vitest";
import type { AddOn, HelmReleaseSpec, ManifestObject } from "../../lib/kubernetes/index.js";

type Validatable = { validate(): void };
const MODELS: Record<string, new (data: never) => Validatable> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/Secret": Secret,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "apps/v1/DaemonSet": DaemonSet,
  "apps/v1/StatefulSet": StatefulSet,
  "batch/v1/Job": Job,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "networking.k8s.io/v1/Ingress": Ingress,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy": ValidatingAdmissionPolicy,
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding": ValidatingAdmissionPolicyBinding,
  // Custom resources whose operators' schemas have a @kubernetes-models package.
  "argoproj.io/v1alpha1/Application": Application,
  "argoproj.io/v1alpha1/AppProject": AppProject,
  "cert-manager.io/v1/Issuer": Issuer,
  "cert-manager.io/v1/Certificate": Certificate,
  "trust.cert-manager.io/v1alpha1/Bundle": Bundle,
  "postgresql.cnpg.io/v1/Cluster": Cluster,
  "kafka.strimzi.io/v1beta2/Kafka": Kafka,
  "kafka.strimzi.io/v1beta2/KafkaNodePool": KafkaNodePool,
  "kafka.strimzi.io/v1beta2/KafkaTopic": KafkaTopic,
  "kafka.strimzi.io/v1beta2/KafkaUser": KafkaUser,
};

/** Required spec fields of the custom resources that have no @kubernetes-models class (from their CRDs). */
const CRD_REQUIRED: Record<string, readonly string[]> = {
  "elasticsearch.k8s.elastic.co/v1/Elasticsearch": ["version", "nodeSets"],
  "kibana.k8s.elastic.co/v1/Kibana": ["version", "count", "elasticsearchRef"],
  "elbv2.k8s.aws/v1beta1/TargetGroupBinding": ["serviceRef", "targetGroupARN"],
  "k8s.mariadb.com/v1alpha1/MariaDB": ["rootPasswordSecretKeyRef", "storage"],
  "k8s.mariadb.com/v1alpha1/Database": ["mariaDbRef"],
  "k8s.mariadb.com/v1alpha1/User": ["mariaDbRef", "passwordSecretKeyRef"],
  "k8s.mariadb.com/v1alpha1/Grant": ["mariaDbRef", "privileges", "database", "table", "username"],
  "secrets-store.csi.x-k8s.io/v1/SecretProviderClass": ["provider", "parameters"],
  "argoproj.io/v1alpha1/WorkflowTemplate": ["templates"],
};

/** Custom resources that live outside any namespace: their schema cannot say so. */
const CLUSTER_SCOPED = new Set(["trust.cert-manager.io/v1alpha1/Bundle"]);

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Object names are DNS-1123 subdomains (dots allowed, as in a Kafka topic `payments.event-store`); namespaces are labels. */
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Validates a returned plain object independently of its builder: core kinds and the custom
 * resources with a @kubernetes-models package against their schema, other custom resources
 * structurally (apiVersion, kind, DNS name, required spec fields).
 */
export function check(object: ManifestObject): void {
  const key = `${object.apiVersion}/${object.kind}`;
  const Model = MODELS[key];
  if (Model) {
    const { apiVersion: _apiVersion, kind: _kind, ...data } = object;
    new Model(data as never).validate();
    if (CLUSTER_SCOPED.has(key)) expect(object.metadata.namespace, key).toBeUndefined();
    return;
  }
  const required = CRD_REQUIRED[key];
  if (!required) throw new Error(`no model or structural check registered for ${key}`);
  expect(object.metadata.name, key).toMatch(DNS_SUBDOMAIN);
  expect(object.metadata.namespace, key).toMatch(DNS_LABEL);
  const spec = (object as { spec?: Record<string, unknown> }).spec;
  expect(spec, `${key} spec`).toBeTypeOf("object");
  for (const field of required) expect(spec![field], `${key} spec.${field}`).toBeDefined();
}

export function checkAddOn(addOn: AddOn): void {
  addOn.manifests.forEach(check);
  for (const release of addOn.helmReleases) checkRelease(release);
}

/** Helm releases are pinned: an exact chart version from an https repository. */
export function checkRelease(release: HelmReleaseSpec): void {
  expect(release.repository).toMatch(/^https:\/\//);
  expect(release.version).toMatch(/^\d+\.\d+\.\d+$/);
  expect(release.namespace).toMatch(DNS_LABEL);
}

export function ofKind(objects: readonly ManifestObject[], kind: string): Record<string, any>[] {
  return objects.filter((o) => o.kind === kind) as Record<string, any>[];
}

export function one(objects: readonly ManifestObject[], kind: string, name?: string): Record<string, any> {
  const found = ofKind(objects, kind).filter((o) => name === undefined || o.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0]!;
}

/** Every string in an object tree, to prove no literal secret slipped in. */
export function allStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value && typeof value === "object") return Object.values(value).flatMap(allStrings);
  return [];
}
