import { Namespace } from "kubernetes-models/v1/Namespace";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { physicalName } from "../plan/naming.js";
import type { LandingZonePlan } from "../plan/types.js";
import { INGRESS_NAMESPACE_LABEL, MANAGED_BY } from "./labels.js";
import { validatedManifest } from "./render.js";
import type { ManifestObject } from "./types.js";

/** The namespace holding the services' workloads. */
export function workloadNamespace(plan: LandingZonePlan): string {
  return plan.cluster?.namespace ?? plan.name;
}

/** The namespace of an in-cluster gateway (ingress controller); the gateway's auth policies trust calls from it. */
export function ingressNamespace(plan: LandingZonePlan): string {
  return physicalName("kubernetes", plan.name, "ingress");
}

/**
 * A namespace apart from the mesh (no sidecars) under the restricted Pod Security standard, and its
 * default-deny ingress policy: what the data and frontends namespaces start from.
 */
export function isolatedNamespaceManifests(plan: LandingZonePlan, namespace: string): ManifestObject[] {
  const labels = { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY };
  const podSecurity = { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/audit": "restricted" };
  return [
    validatedManifest(new Namespace({ metadata: { name: namespace, labels: { ...labels, ...podSecurity, "istio-injection": "disabled" } } })),
    validatedManifest(new NetworkPolicy({ metadata: { name: "default-deny-ingress", namespace, labels }, spec: { podSelector: {}, policyTypes: ["Ingress"] } })),
  ];
}

/**
 * The workloads Namespace with Pod Security admission and sidecar injection, a default-deny
 * ingress NetworkPolicy, and one allowing the same namespace and the ingress-labelled namespaces.
 */
export function namespaceManifests(plan: LandingZonePlan): ManifestObject[] {
  const namespace = workloadNamespace(plan);
  const labels = { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY };
  // Istio's init container needs NET_ADMIN, which "restricted" forbids: with a mesh, only warn and audit.
  const podSecurity: Record<string, string> = plan.mesh
    ? { "pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/audit": "restricted" }
    : {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
      };
  return [
    validatedManifest(
      new Namespace({
        metadata: { name: namespace, labels: { ...labels, ...podSecurity, ...(plan.mesh ? { "istio-injection": "enabled" } : {}) } },
      }),
    ),
    validatedManifest(
      new NetworkPolicy({
        metadata: { name: "default-deny-ingress", namespace, labels },
        spec: { podSelector: {}, policyTypes: ["Ingress"] },
      }),
    ),
    validatedManifest(
      new NetworkPolicy({
        metadata: { name: "allow-same-namespace-and-ingress", namespace, labels },
        spec: {
          podSelector: {},
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: [{ podSelector: {} }, { namespaceSelector: { matchLabels: { [INGRESS_NAMESPACE_LABEL]: "true" } } }],
            },
          ],
        },
      }),
    ),
  ];
}
