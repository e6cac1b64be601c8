import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { projectOf } from "./project.js";

/** Arguments of {@link WorkloadIdentity}. */
export interface WorkloadIdentityArgs {
  /** Service account id (6-30 lowercase letters, digits and '-'). */
  readonly accountId: string;
  /** The Kubernetes ServiceAccount allowed to act as the account. */
  readonly kubernetesServiceAccount: { readonly namespace: string; readonly name: string };
  /** Project roles the account holds, and nothing else. */
  readonly roles: readonly string[];
  /**
   * What the account is for, shown in IAM.
   * @default - the Kubernetes ServiceAccount's name
   */
  readonly description?: string;
}

/**
 * A Google service account for a cluster add-on (the trace collector, an operator), held by exactly
 * one Kubernetes ServiceAccount through Workload Identity and granted only `roles`. Works before the
 * cluster exists: the binding names the project's pool, not the cluster.
 *
 * @example
 * const collector = new WorkloadIdentity("collector", { accountId: "shop-otel", kubernetesServiceAccount: { namespace: "observability", name: "otel-collector" }, roles: ["roles/cloudtrace.agent"] });
 * // annotate the ServiceAccount with iam.gke.io/gcp-service-account: collector.email
 */
export class WorkloadIdentity extends pulumi.ComponentResource {
  readonly email: pulumi.Output<string>;
  readonly member: pulumi.Output<string>;
  /** Resources the workload should wait for (the roles and the binding). */
  readonly ready: readonly pulumi.Resource[];

  constructor(name: string, args: WorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    if (!/^[a-z]([-a-z0-9]{4,28}[a-z0-9])$/.test(args.accountId)) throw new Error(`WorkloadIdentity ${name}: accountId "${args.accountId}" is invalid. Fix: use 6-30 lowercase letters, digits and '-', starting with a letter`);
    if (args.roles.length === 0) throw new Error(`WorkloadIdentity ${name}: roles is empty. Fix: list the roles the add-on needs`);
    super("msa:gcp:WorkloadIdentity", name, {}, opts);
    const parent = { parent: this };
    const project = projectOf(this);
    const { namespace, name: serviceAccount } = args.kubernetesServiceAccount;
    const account = new gcp.serviceaccount.Account(`${name}-account`, { accountId: args.accountId, description: args.description ?? `Kubernetes ServiceAccount ${namespace}/${serviceAccount}` }, parent);
    const roles = args.roles.map(
      (role) => new gcp.projects.IAMMember(`${name}-${role.replace(/^roles\//, "").replace(/[^a-zA-Z0-9]+/g, "-").toLowerCase()}`, { project: project.id, role, member: account.member }, parent),
    );
    const binding = new gcp.serviceaccount.IAMMember(
      `${name}-workload-identity`,
      { serviceAccountId: account.name, role: "roles/iam.workloadIdentityUser", member: pulumi.interpolate`serviceAccount:${project.id}.svc.id.goog[${namespace}/${serviceAccount}]` },
      parent,
    );
    this.email = account.email;
    this.member = account.member;
    this.ready = [...roles, binding];
    this.registerOutputs({ email: this.email });
  }
}
