import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CONTAINER_INSIGHTS_ADDON } from "../../plan/monitoring.js";
import { assumeRolePolicy } from "./kubernetes-platform.js";

export interface ContainerInsightsArgs {
  /** Name of the EKS cluster (with the Pod Identity agent installed). */
  readonly clusterName: pulumi.Input<string>;
  /**
   * Resources the add-on waits for (the node group and the Pod Identity agent).
   * @default - none
   */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Container Insights on EKS: the Amazon CloudWatch Observability add-on, whose agent publishes the
 * pods' CPU, memory and restarts per Service (the saturation the service dashboards show) with a
 * Pod Identity role of its own. Container logs stay off: the log pipeline already ships them.
 *
 * Cost: Container Insights metrics are billed per observation.
 *
 * @example
 * new ContainerInsights("shop-insights", { clusterName: platform.clusterName, dependsOn: [...platform.ready] });
 */
export class ContainerInsights extends pulumi.ComponentResource {
  readonly roleArn: pulumi.Output<string>;
  readonly nodes: { readonly role: aws.iam.Role; readonly addon: aws.eks.Addon };

  constructor(name: string, args: ContainerInsightsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("msa:aws:ContainerInsights", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const partition = aws.getPartitionOutput({}, parent).partition;
    const role = new aws.iam.Role(
      `${name}-agent`,
      { assumeRolePolicy: assumeRolePolicy("pods.eks.amazonaws.com"), description: `CloudWatch agent of ${CONTAINER_INSIGHTS_ADDON.namespace}/${CONTAINER_INSIGHTS_ADDON.serviceAccount}`, tags },
      parent,
    );
    // AWS documents and maintains this policy for the add-on's agent, following its needs across versions.
    const attachment = new aws.iam.RolePolicyAttachment(`${name}-agent`, { role: role.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/${CONTAINER_INSIGHTS_ADDON.managedPolicy}` }, parent);
    const addon = new aws.eks.Addon(
      `${name}-addon`,
      {
        clusterName: args.clusterName,
        addonName: CONTAINER_INSIGHTS_ADDON.name,
        configurationValues: JSON.stringify(CONTAINER_INSIGHTS_ADDON.configuration),
        podIdentityAssociations: [{ serviceAccount: CONTAINER_INSIGHTS_ADDON.serviceAccount, roleArn: role.arn }],
        resolveConflictsOnCreate: "OVERWRITE",
        resolveConflictsOnUpdate: "OVERWRITE",
        tags,
      },
      { parent: this, dependsOn: [...(args.dependsOn ?? []), attachment] },
    );
    this.roleArn = role.arn;
    this.nodes = { role, addon };
    this.registerOutputs({ roleArn: this.roleArn });
  }
}
