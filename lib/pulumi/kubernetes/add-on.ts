import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AddOn, HelmReleaseSpec, ManifestObject } from "../../kubernetes/types.js";

/** Helm values: a JSON-like tree. */
export type HelmValues = Readonly<Record<string, unknown>>;

/** Where and after what an add-on's resources are created; shared by every cloud's Kubernetes platform. */
export interface ApplyOptions {
  /** Provider of the cluster the objects go to. */
  readonly provider: k8s.Provider;
  /** Component the created resources belong to. */
  readonly parent: pulumi.Resource;
  /**
   * Resources that must exist first (node groups, earlier add-ons).
   * @default - none
   */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export interface ApplyAddOnOptions extends ApplyOptions {
  /**
   * Helm values deep-merged over a release's own values, keyed by release name (objects merge, arrays and scalars replace).
   * @default - the add-on's values unchanged
   */
  readonly values?: Readonly<Record<string, HelmValues>>;
  /**
   * Escape hatch: patches the arguments of each Helm release before it is created.
   * @default - no patch
   */
  readonly transformRelease?: (args: k8s.helm.v3.ReleaseArgs, release: HelmReleaseSpec) => void;
  /**
   * Earlier Pulumi names of a release, keyed by release name, for a release that moved from one add-on
   * to another: it keeps its identity instead of being created again beside the old one (Helm refuses
   * a second release of the same name).
   * @default - none
   */
  readonly releaseAliases?: Readonly<Record<string, readonly string[]>>;
}

/**
 * Applies an add-on: its Helm releases (pinned chart versions), then its manifests in one
 * ConfigGroup that waits for the releases, since the manifests may use the releases' CRDs.
 * Returns every created resource, for later parts to depend on.
 */
export function applyAddOn(name: string, addOn: AddOn, opts: ApplyAddOnOptions): pulumi.Resource[] {
  const releaseNames = new Set(addOn.helmReleases.map((r) => r.name));
  for (const key of Object.keys(opts.values ?? {})) {
    if (!releaseNames.has(key)) {
      throw new Error(
        `applyAddOn(${name}): values["${key}"] names no Helm release of add-on "${addOn.name}". Fix: use one of ${[...releaseNames].join(", ") || "(none: the add-on has no Helm release)"}`,
      );
    }
  }
  const releases = addOn.helmReleases.map((release) => {
    const args: k8s.helm.v3.ReleaseArgs = {
      ...chartSource(release),
      // A fixed release name keeps `helm list` readable and the release stable across updates.
      name: release.name,
      namespace: release.namespace,
      createNamespace: release.createNamespace,
      version: release.version,
      values: mergeValues(release.values, opts.values?.[release.name] ?? {}),
      // A failed upgrade removes what it created, so a retry starts clean.
      cleanupOnFail: true,
      maxHistory: 10,
    };
    opts.transformRelease?.(args, release);
    const aliases = (opts.releaseAliases?.[release.name] ?? []).map((alias) => ({ name: alias }));
    return new k8s.helm.v3.Release(`${name}-${release.name}`, args, { parent: opts.parent, provider: opts.provider, dependsOn: opts.dependsOn ?? [], ...(aliases.length > 0 ? { aliases } : {}) });
  });
  if (addOn.manifests.length === 0) return releases;
  const manifests = applyManifests(`${name}-manifests`, addOn.manifests, { ...opts, dependsOn: [...(opts.dependsOn ?? []), ...releases] });
  return [...releases, manifests];
}

/**
 * Applies plain manifests as one ConfigGroup (objects ordered by kind, each awaited until ready).
 * Manifests may be an output when they embed values known only after deployment (ARNs, image URLs).
 */
export function applyManifests(name: string, manifests: pulumi.Input<readonly ManifestObject[]>, opts: ApplyOptions): k8s.yaml.v2.ConfigGroup {
  const objs = pulumi.output(manifests).apply((list) => list.map((m) => ({ ...m })));
  return new k8s.yaml.v2.ConfigGroup(name, { objs }, { parent: opts.parent, provider: opts.provider, dependsOn: opts.dependsOn ?? [] });
}

/** Deep-merges Helm values: nested objects merge key by key; arrays and scalars in `override` replace. */
export function mergeValues(base: HelmValues, override: HelmValues): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    merged[key] = isPlainObject(current) && isPlainObject(value) ? mergeValues(current, value) : value;
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** OCI charts are addressed by URL; classic repositories by chart name plus repository URL. */
function chartSource(release: HelmReleaseSpec): Pick<k8s.helm.v3.ReleaseArgs, "chart" | "repositoryOpts"> {
  if (release.repository.startsWith("oci://")) return { chart: `${release.repository.replace(/\/+$/, "")}/${release.chart}` };
  return { chart: release.chart, repositoryOpts: { repo: release.repository } };
}
