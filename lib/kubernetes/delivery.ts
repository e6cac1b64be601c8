import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import type { ServiceDeliveryPlan } from "../plan/delivery.js";
import type { LandingZonePlan } from "../plan/types.js";
import { labelsFor } from "./labels.js";
import { validatedManifest } from "./render.js";
import type { ManifestObject } from "./types.js";

/** Who may roll a Deployment: a Kubernetes group (EKS access entries) or a user (a GKE Google service account, named by its email). */
export interface RbacSubject {
  readonly kind: "Group" | "User";
  readonly name: string;
}

/**
 * Lets a service's deployer (its Kubernetes group) roll exactly its own Deployment: read, watch and
 * patch that one object by name, nothing else in the namespace. `kubectl set image` and
 * `kubectl rollout status` need no more; list and watch pass because kubectl selects by name.
 */
export function deployerRbac(plan: LandingZonePlan, delivery: ServiceDeliveryPlan): ManifestObject[] {
  return deploymentRollerRbac(delivery.service, delivery.deploy, { kind: "Group", name: delivery.deploy.kubernetesGroup }, labelsFor(plan, delivery.service));
}

/** A Role on one Deployment (get, list, watch, patch by name) and its binding to `subject`. */
export function deploymentRollerRbac(service: string, target: { readonly namespace: string; readonly deployment: string }, subject: RbacSubject, labels: Readonly<Record<string, string>> = {}): ManifestObject[] {
  const { namespace, deployment } = target;
  const name = `${service}-deployer`;
  return [
    validatedManifest(
      new Role({
        metadata: { name, namespace, labels: { ...labels } },
        rules: [{ apiGroups: ["apps"], resources: ["deployments"], resourceNames: [deployment], verbs: ["get", "list", "watch", "patch"] }],
      }),
    ),
    validatedManifest(
      new RoleBinding({
        metadata: { name, namespace, labels: { ...labels } },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: subject.kind, name: subject.name }],
      }),
    ),
  ];
}
