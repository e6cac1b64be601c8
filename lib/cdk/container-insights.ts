import { Validations, aws_eks as eks, aws_iam as iam } from "aws-cdk-lib";
import { Construct } from "constructs";
import { CONTAINER_INSIGHTS_ADDON } from "../plan/monitoring.js";

export interface ContainerInsightsProps {
  /** Name of the EKS cluster (with the Pod Identity agent installed). */
  readonly clusterName: string;
}

/**
 * Container Insights on EKS: the Amazon CloudWatch Observability add-on, whose agent publishes the
 * pods' CPU, memory and restarts per Service (the saturation the service dashboards show) with a
 * Pod Identity role of its own. Container logs stay off: the log pipeline already ships them.
 *
 * Cost: Container Insights metrics are billed per observation.
 *
 * @example
 * new ContainerInsights(stack, "ContainerInsights", { clusterName: platform.cluster.clusterName });
 */
export class ContainerInsights extends Construct {
  readonly addon: eks.CfnAddon;
  /** The role of the CloudWatch agent. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ContainerInsightsProps) {
    super(scope, id);
    this.role = new iam.Role(this, "AgentRole", {
      description: `CloudWatch agent of ${CONTAINER_INSIGHTS_ADDON.namespace}/${CONTAINER_INSIGHTS_ADDON.serviceAccount}`,
      assumedBy: new iam.SessionTagsPrincipal(new iam.ServicePrincipal("pods.eks.amazonaws.com")),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(CONTAINER_INSIGHTS_ADDON.managedPolicy)],
    });
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${CONTAINER_INSIGHTS_ADDON.managedPolicy}]`,
      reason: "AWS documents and maintains this policy for the CloudWatch observability add-on's agent; it follows the agent's needs across versions.",
    });
    this.addon = new eks.CfnAddon(this, "Resource", {
      clusterName: props.clusterName,
      addonName: CONTAINER_INSIGHTS_ADDON.name,
      resolveConflicts: "OVERWRITE",
      configurationValues: JSON.stringify(CONTAINER_INSIGHTS_ADDON.configuration),
      podIdentityAssociations: [{ serviceAccount: CONTAINER_INSIGHTS_ADDON.serviceAccount, roleArn: this.role.roleArn }],
    });
  }
}
