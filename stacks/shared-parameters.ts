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
  sessionEndpoint: (plan: LandingZonePlan) => parameterName(plan, "sessions", "endpoint"),
  sessionPort: (plan: LandingZonePlan) => parameterName(plan, "sessions", "port"),
  sessionAuthTokenArn: (plan: LandingZonePlan) => parameterName(plan, "sessions", "auth-token-arn"),
  apiId: (plan: LandingZonePlan) => parameterName(plan, "gateway", "api-id"),
  /** CloudWatch's dimension value of a target's target group (`targetgroup/<name>/<id>`). */
  targetGroupMetricName: (plan: LandingZonePlan, target: string) => parameterName(plan, "gateway", "metrics", target, "target-group"),
  /** CloudWatch's dimension value of the load balancer in front of a target (`app/<name>/<id>`). */
  loadBalancerMetricName: (plan: LandingZonePlan, target: string) => parameterName(plan, "gateway", "metrics", target, "load-balancer"),
  alarmTopicArn: (plan: LandingZonePlan) => parameterName(plan, "observability", "alarm-topic-arn"),
} as const;

function parameterName(plan: LandingZonePlan, ...path: readonly string[]): string {
  return `/msa/${plan.name}/${plan.environment}/${path.join("/")}`;
}
