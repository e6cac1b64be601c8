import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import type { ServiceDeliveryPlan } from "../plan/delivery.js";
import type { LandingZonePlan } from "../plan/types.js";
import { labelsFor } from "./labels.js";
import { validatedManifest } from "./render.js";
import type { ManifestObject } from "./types.js";

/** Who the deployer is in Kubernetes: its group (EKS access entries) or its user (an Entra principal's object id on AKS). */
export interface DeployerSubject {
  readonly kind: "Group" | "User";
  readonly name: string;
}

/**
 * Lets a service's deployer (its Kubernetes group, or `subject`) roll exactly its own Deployment: read, watch and
 * patch that one object by name, nothing else in the namespace. `kubectl set image` and
 * `kubectl rollout status` need no more; list and watch pass because kubectl selects by name.
 */
export function deployerRbac(plan: LandingZonePlan, delivery: ServiceDeliveryPlan, subject: DeployerSubject = { kind: "Group", name: delivery.deploy.kubernetesGroup }): ManifestObject[] {
  const { namespace, deployment } = delivery.deploy;
  const name = `${delivery.service}-deployer`;
  const labels = labelsFor(plan, delivery.service);
  return [
    validatedManifest(
      new Role({
        metadata: { name, namespace, labels },
        rules: [{ apiGroups: ["apps"], resources: ["deployments"], resourceNames: [deployment], verbs: ["get", "list", "watch", "patch"] }],
      }),
    ),
    validatedManifest(
      new RoleBinding({
        metadata: { name, namespace, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: subject.kind, name: subject.name }],
      }),
    ),
  ];
}
