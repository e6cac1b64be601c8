import { RemovalPolicy, Stack, Validations, type aws_autoscaling as autoscaling, aws_iam as iam } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { serviceConfigOf } from "../plan/config-store.js";
import { hostedServiceStatements, messagingEnvironment, type HostedServiceGrants, type PolicyStatementData } from "../plan/host-bootstrap.js";
import { serviceNamed } from "../plan/lookup.js";
import type { LandingZonePlan, ServicePlan } from "../plan/types.js";
import { acknowledgeAwsManagedPolicies, acknowledgeInlinePolicy, nagValue } from "./compliance.js";
import { ConfigStore } from "./config-store.js";
import type { ServiceMessagingArns } from "./service-workload.js";

/**
 * The parts `VmService` and `PaasService` share: the service's configuration store (the same
 * `ConfigStore` the other tiers use), its messaging environment and the statements of its instance role.
 */
export interface HostedServiceParts {
  /** The service's parameters and generated secrets, when it has any. */
  readonly configStore?: ConfigStore;
  /** Topic and queue ARNs by env var name. */
  readonly env: Readonly<Record<string, string>>;
}

/** Finds the service in the plan or throws naming the choices. */
export function findService(plan: LandingZonePlan, serviceName: string, construct: string): ServicePlan {
  const service = serviceNamed(plan, serviceName);
  if (!service) throw new Error(`${construct}: serviceName "${serviceName}" is not in the plan. Fix: use one of ${plan.services.map((s) => s.name).join(", ")}`);
  return service;
}

/**
 * The given configuration store, or one of its own (child `Config`) when the plan gives the service
 * configuration or secrets; and the messaging environment.
 */
export function createHostedServiceParts(
  scope: Construct,
  plan: LandingZonePlan,
  service: ServicePlan,
  options: { readonly configStore?: ConfigStore | undefined; readonly messaging: ServiceMessagingArns | undefined; readonly removalPolicy: RemovalPolicy },
): HostedServiceParts {
  const { messaging } = options;
  if (options.configStore && options.configStore.service !== service.name) {
    throw new Error(`${scope.node.path}: configStore belongs to "${options.configStore.service}". Fix: pass the ConfigStore of ${service.name}`);
  }
  const planned = plan.configStore ? serviceConfigOf(plan.configStore, service.name) : undefined;
  const configStore =
    options.configStore ??
    (planned && (planned.parameters.length > 0 || planned.secrets.length > 0) ? new ConfigStore(scope, "Config", { config: planned, removalPolicy: options.removalPolicy }) : undefined);
  const missing = (kind: string, key: string) => {
    throw new Error(`${scope.node.path}: messagingArns.${kind}["${key}"] is undefined but ${service.name} uses it. Fix: add its ARN (a topic's from the messaging stack's parameters, a queue's from the service's SubscriptionQueue)`);
  };
  const env = messaging
    ? messagingEnvironment(plan, service, {
        topic: (event) => messaging.topicArns[event] ?? missing("topicArns", event),
        queue: (subscription) => messaging.queueArns[subscription] ?? missing("queueArns", subscription),
      })
    : {};
  const usesBroker = service.publishes.length > 0 || (plan.broker?.topics ?? []).some((t) => t.subscriptions.some((s) => s.subscriber === service.name));
  if (usesBroker && !messaging) throw new Error(`${scope.node.path}: messagingArns is undefined but ${service.name} publishes or subscribes. Fix: pass the topic and queue ARNs`);
  return { ...(configStore ? { configStore } : {}), env };
}

/** Why a statement of an instance role (by its sid) has a wildcard in a resource. */
const WILDCARD_REASONS: Readonly<Record<string, string>> = {
  PullToken: "ecr:GetAuthorizationToken has no resource-level permissions; the PullImage statement limits pulls to the service's own repository.",
  ReadConfig: "The service reads its parameters by path: the wildcard covers exactly its own configuration path, which only its ConfigStore writes.",
  Discover: "servicediscovery:DiscoverInstances has no resource-level permissions; the condition limits lookups to the landing zone's own namespace.",
  CompleteTerminationHook: "Auto Scaling puts a generated id in a group's ARN; the ARN is pinned to the service's own group name, the only part known in advance.",
  Metrics: "cloudwatch:PutMetricData has no resource-level permissions; the condition limits the instances to the landing zone's own metric namespace.",
  BootLog: "The CloudWatch agent creates its log streams under the host's own boot log group, whose ARN is the fixed prefix of the wildcard.",
  DescribeTags: "ec2:DescribeTags, with which the CloudWatch agent labels its metrics, has no resource-level permissions and only reads tags.",
  Trace: "X-Ray has no resource-level permissions; the actions are only those that send spans and read sampling rules.",
  WriteLogs: "OpenSearch index and document paths exist only at write time; the wildcard stays below this one domain's ARN.",
};

/**
 * Adds plan statements to an instance role (theirs alone, inline) and acknowledges AWS Solutions'
 * IAM5 for each wildcard resource a statement needs, with the reason its sid has.
 */
export function addInstanceRoleStatements(role: iam.Role, statements: readonly PolicyStatementData[], holder: string): void {
  // Statements may share a wildcard resource ("*"); cdk-nag reports it once, so it is acknowledged once with every reason.
  const reasons = new Map<string, string[]>();
  for (const statement of statements) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: statement.sid,
        actions: [...statement.actions],
        resources: [...statement.resources],
        ...(statement.condition ? { conditions: statement.condition as Record<string, Record<string, unknown>> } : {}),
      }),
    );
    const reason = WILDCARD_REASONS[statement.sid];
    for (const resource of statement.resources) {
      if (reason && resource.includes("*")) reasons.set(resource, [...(reasons.get(resource) ?? []), reason]);
    }
  }
  for (const [resource, why] of reasons) Validations.of(role).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagValue(role, resource)}]`, reason: why.join(" ") });
  acknowledgeInlinePolicy(role, holder);
  acknowledgeAwsManagedPolicies(role, holder);
}

/**
 * Acknowledges AWS Solutions' AS3 (scaling notifications) on one Auto Scaling group: Auto Scaling
 * already sends every launch and termination, failed or not, to EventBridge.
 */
export function acknowledgeScalingNotifications(group: autoscaling.CfnAutoScalingGroup): void {
  Validations.of(group).acknowledge({
    id: "AwsSolutions::AwsSolutions-AS3",
    reason: "Every launch and termination, failed or not, reaches EventBridge (aws.autoscaling) and the activity history unasked; a launch that never signals fails the rollout. Mailing routine replacements would bury real alarms.",
  });
}

/** Adds the plan's least-privilege statements of a hosted service to its instance role. */
export function grantHostedService(role: iam.Role, plan: LandingZonePlan, service: ServicePlan, grants: Omit<HostedServiceGrants, "partition" | "region" | "account">): void {
  const stack = Stack.of(role);
  addInstanceRoleStatements(role, hostedServiceStatements(plan, service, { ...grants, partition: stack.partition, region: stack.region, account: stack.account }), `the instance role of ${service.name}`);
}
