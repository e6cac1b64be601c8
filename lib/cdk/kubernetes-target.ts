import type { aws_ec2 as ec2, aws_iam as iam } from "aws-cdk-lib";
import type { Construct } from "constructs";
import type { AddOn, ManifestObject } from "../kubernetes/types.js";

/** A Kubernetes service account bound to an IAM role (EKS Pod Identity). */
export interface WorkloadIdentity {
  readonly serviceAccountName: string;
  readonly namespace: string;
  readonly role: iam.IRole;
}

/** The service account a workload identity binds. */
export interface WorkloadIdentityOptions {
  readonly name: string;
  readonly namespace: string;
  /**
   * Create the ServiceAccount; false when a Helm chart creates it (the role is bound by name either way).
   * @default true
   */
  readonly createServiceAccount?: boolean;
}

/**
 * What a construct needs from a cluster to run its in-cluster part: `KubernetesPlatform` implements
 * it, and so can a user's own wrapper around an existing EKS cluster.
 */
export interface IKubernetesTarget {
  /** Security group of the nodes and pods; data stores admit traffic from it. */
  readonly workloadSecurityGroup: ec2.ISecurityGroup;
  /** Applies an add-on (Helm releases, then manifests); returns the construct later parts can depend on. */
  addAddOn(id: string, addOn: AddOn): Construct;
  /** Applies plain manifests in one step. */
  addManifests(id: string, manifests: readonly ManifestObject[]): Construct;
  /** Creates a service account whose pods assume a new IAM role. */
  addWorkloadIdentity(id: string, options: WorkloadIdentityOptions): WorkloadIdentity;
}
