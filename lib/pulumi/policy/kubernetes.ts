import { get, listOf, resourceRule, type LandingZonePolicy } from "./rules.js";

type Manifest = Record<string, unknown>;

/** Kinds whose pod template is at `spec.template.spec` (CronJobs one level deeper). */
const POD_TEMPLATE_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]);

/** The pod spec of a workload object, or undefined for objects that run no pods. */
function podSpecOf(manifest: Manifest): Manifest | undefined {
  const kind = String(manifest["kind"]);
  if (kind === "Pod") return get(manifest, "spec") as Manifest | undefined;
  if (POD_TEMPLATE_KINDS.has(kind)) return get(manifest, "spec", "template", "spec") as Manifest | undefined;
  if (kind === "CronJob") return get(manifest, "spec", "jobTemplate", "spec", "template", "spec") as Manifest | undefined;
  return undefined;
}

/** The objects a resource applies: a ConfigGroup's `objs`, or a typed Kubernetes resource itself. */
function manifestsOf(type: string, props: Record<string, unknown>): Manifest[] {
  if (type === "kubernetes:yaml/v2:ConfigGroup" || type === "kubernetes:yaml/v2:ConfigFile") return listOf(props["objs"]);
  const match = /^kubernetes:[a-z0-9.]+\/v[0-9a-z]+:([A-Za-z]+)$/.exec(type);
  return match ? [{ kind: match[1], ...props }] : [];
}

const appliesToObjects = (type: string) => type.startsWith("kubernetes:") && type !== "kubernetes:helm.sh/v3:Release";

function podProblems(check: (name: string, pod: Manifest, containers: Manifest[]) => string[]) {
  return (props: Record<string, unknown>, args: { type: string }) =>
    manifestsOf(args.type, props).flatMap((manifest) => {
      const pod = podSpecOf(manifest);
      if (!pod) return [];
      const containers = [...listOf(pod["initContainers"]), ...listOf(pod["containers"])];
      return check(`${String(manifest["kind"])} ${String(get(manifest, "metadata", "namespace") ?? "")}/${String(get(manifest, "metadata", "name"))}`, pod, containers);
    });
}

/** The Kubernetes rules of the landing zone's Pulumi policy pack: objects applied to any cluster. */
export const kubernetesPolicies: readonly LandingZonePolicy[] = [
  resourceRule(
    "kubernetes-no-privileged",
    "workload-hardening",
    "No container runs privileged or may escalate privileges; no pod shares the node's network or process namespace.",
    appliesToObjects,
    podProblems((name, pod, containers) => [
      ...(pod["hostNetwork"] === true ? [`${name} uses hostNetwork`] : []),
      ...(pod["hostPID"] === true ? [`${name} uses hostPID`] : []),
      ...containers.filter((c) => get(c, "securityContext", "privileged") === true).map((c) => `${name} container ${String(c["name"])} is privileged`),
      ...containers.filter((c) => get(c, "securityContext", "allowPrivilegeEscalation") !== false).map((c) => `${name} container ${String(c["name"])} does not set allowPrivilegeEscalation: false`),
    ]),
  ),
  resourceRule(
    "kubernetes-resource-requests",
    "workload-hardening",
    "Every container requests CPU and memory and caps memory, so the scheduler can place it and a leak cannot starve its neighbours.",
    appliesToObjects,
    podProblems((name, _pod, containers) =>
      containers
        .filter((c) => get(c, "resources", "requests", "cpu") === undefined || get(c, "resources", "requests", "memory") === undefined || get(c, "resources", "limits", "memory") === undefined)
        .map((c) => `${name} container ${String(c["name"])} lacks cpu/memory requests or a memory limit`),
    ),
  ),
  resourceRule(
    "kubernetes-no-plain-secrets-in-configmaps",
    "least-privilege",
    "ConfigMaps hold no keys named like secrets (PASSWORD, SECRET, TOKEN, KEY); those belong in Secrets.",
    appliesToObjects,
    (props, args) =>
      manifestsOf(args.type, props)
        .filter((m) => m["kind"] === "ConfigMap")
        .flatMap((m) =>
          Object.keys((m["data"] as Record<string, unknown> | undefined) ?? {})
            .filter((key) => /(PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY)/i.test(key) && !/_(ARN|NAME|FILE|PATH|URL|ENV)$/i.test(key))
            .map((key) => `ConfigMap ${String(get(m, "metadata", "name"))} holds ${key}; put it in a Secret`),
        ),
  ),
];
