/** Engine-neutral Kubernetes objects and Helm releases. Both engines only apply what these describe. */

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A plain Kubernetes object, already validated against its schema when it was built. */
export interface ManifestObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly [field: string]: unknown;
}

/** A Helm chart release, pinned to a version, with values ready to deep-merge user overrides into. */
export interface HelmReleaseSpec {
  /** Release name. */
  readonly name: string;
  readonly namespace: string;
  readonly chart: string;
  /** Chart repository URL (https or oci). */
  readonly repository: string;
  readonly version: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly createNamespace: boolean;
}

/**
 * A cluster add-on (mesh, log pipeline, tracing, broker, ...) as EKS Blueprints shape them:
 * Helm releases first, then manifests that may use the releases' CRDs.
 */
export interface AddOn {
  readonly name: string;
  readonly namespace: string;
  readonly helmReleases: readonly HelmReleaseSpec[];
  readonly manifests: readonly ManifestObject[];
  /** Names of add-ons that must be installed first. */
  readonly dependsOn: readonly string[];
}
