import type { LandingZonePlan } from "../plan/types.js";

export const MANAGED_BY = "msa-landing-zone";

/** Namespaces carrying this label may reach the workloads namespace (ingress gateways, monitoring). */
export const INGRESS_NAMESPACE_LABEL = "msa-landing-zone/ingress";

/** The recommended app.kubernetes.io labels for every object belonging to `serviceName`. */
export function labelsFor(plan: LandingZonePlan, serviceName: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": serviceName,
    "app.kubernetes.io/part-of": plan.name,
    "app.kubernetes.io/managed-by": MANAGED_BY,
  };
}

/** The immutable subset of labelsFor used in selectors, so adding a label never breaks a Deployment. */
export function selectorFor(plan: LandingZonePlan, serviceName: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": serviceName,
    "app.kubernetes.io/part-of": plan.name,
  };
}

/** DNS-1123 label: the rule for Kubernetes object names and namespaces. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Throws an Error naming the prop, the value and the fix when `value` is not a valid object name. */
export function assertKubernetesName(prop: string, value: string): void {
  if (value.length > 63 || !DNS_LABEL.test(value)) {
    throw new Error(
      `${prop}: "${value}" is not a valid Kubernetes name. Fix: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit`,
    );
  }
}
