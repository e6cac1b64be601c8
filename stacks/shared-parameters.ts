import type { LandingZonePlan } from "../lib/plan/types.js";

/**
 * SSM parameter names under which shared stacks publish what service stacks read at deploy time
 * (`/msa/<name>/<env>/...`), so a shared stack can change without being pinned by exports.
 */
export const sharedParameters = {
  clusterName: (plan: LandingZonePlan) => parameterName(plan, "platform", "cluster-name"),
  kubectlServiceToken: (plan: LandingZonePlan) => parameterName(plan, "platform", "kubectl-service-token"),
  kubectlRoleArn: (plan: LandingZonePlan) => parameterName(plan, "platform", "kubectl-role-arn"),
  workloadSecurityGroupId: (plan: LandingZonePlan) => parameterName(plan, "platform", "workload-security-group-id"),
  targetGroupArn: (plan: LandingZonePlan, target: string) => parameterName(plan, "gateway", "target-groups", target),
  topicArn: (plan: LandingZonePlan, event: string) => parameterName(plan, "messaging", "topics", event),
  queueArn: (plan: LandingZonePlan, subscription: string) => parameterName(plan, "messaging", "queues", subscription),
  brokerKeyArn: (plan: LandingZonePlan) => parameterName(plan, "messaging", "key-arn"),
  vpcId: (plan: LandingZonePlan) => parameterName(plan, "network", "vpc-id"),
  /** Comma-separated, one per zone in plan order. */
  privateSubnetIds: (plan: LandingZonePlan) => parameterName(plan, "network", "private-subnet-ids"),
  /** Host name of the API gateway (no scheme), the frontends' CDN origin for BFF routes. */
  gatewayApiDomain: (plan: LandingZonePlan) => parameterName(plan, "gateway", "api-domain"),
  connectionArn: (plan: LandingZonePlan) => parameterName(plan, "delivery", "connection-arn"),
  githubOidcProviderArn: (plan: LandingZonePlan) => parameterName(plan, "delivery", "github-oidc-provider-arn"),
} as const;

function parameterName(plan: LandingZonePlan, ...path: readonly string[]): string {
  return `/msa/${plan.name}/${plan.environment}/${path.join("/")}`;
}
