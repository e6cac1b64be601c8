import { RemovalPolicy, Stack, aws_iam as iam } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { serviceConfigOf } from "../plan/config-store.js";
import { hostedServiceStatements, messagingEnvironment, type HostedServiceGrants } from "../plan/host-bootstrap.js";
import { serviceNamed } from "../plan/lookup.js";
import type { LandingZonePlan, ServicePlan } from "../plan/types.js";
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

/** Adds the plan's least-privilege statements of a hosted service to its instance role. */
export function grantHostedService(role: iam.Role, plan: LandingZonePlan, service: ServicePlan, grants: Omit<HostedServiceGrants, "partition" | "region" | "account">): void {
  const stack = Stack.of(role);
  for (const statement of hostedServiceStatements(plan, service, { ...grants, partition: stack.partition, region: stack.region, account: stack.account })) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: statement.sid,
        actions: [...statement.actions],
        resources: [...statement.resources],
        ...(statement.condition ? { conditions: statement.condition as Record<string, Record<string, unknown>> } : {}),
      }),
    );
  }
}
