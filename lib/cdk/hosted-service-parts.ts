import { RemovalPolicy, Stack, aws_iam as iam, aws_secretsmanager as secretsmanager, aws_ssm as ssm } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { hostedServiceStatements, messagingEnvironment, type HostedServiceGrants } from "../plan/host-bootstrap.js";
import { configEntries, hostedServiceNames, serviceSecretName } from "../plan/hosts.js";
import { serviceNamed } from "../plan/lookup.js";
import { pascalCase } from "../plan/naming.js";
import type { LandingZonePlan, ServicePlan } from "../plan/types.js";
import type { ServiceMessagingArns } from "./service-workload.js";

/**
 * The parts `VmService` and `PaasService` share: the service's generated secrets, its configuration
 * in Parameter Store, its messaging environment and the statements of its instance role.
 */
export interface HostedServiceParts {
  /** Secret key → the secret. */
  readonly secrets: ReadonlyMap<string, secretsmanager.Secret>;
  /** Config key → its parameter. */
  readonly configParameters: ReadonlyMap<string, ssm.StringParameter>;
  /** Topic and queue ARNs by env var name. */
  readonly env: Readonly<Record<string, string>>;
}

/** Finds the service in the plan or throws naming the choices. */
export function findService(plan: LandingZonePlan, serviceName: string, construct: string): ServicePlan {
  const service = serviceNamed(plan, serviceName);
  if (!service) throw new Error(`${construct}: serviceName "${serviceName}" is not in the plan. Fix: use one of ${plan.services.map((s) => s.name).join(", ")}`);
  return service;
}

/** Secrets generated once (the team rotates them) and the configuration path the instances read. */
export function createHostedServiceParts(scope: Construct, plan: LandingZonePlan, service: ServicePlan, messaging: ServiceMessagingArns | undefined, removalPolicy: RemovalPolicy): HostedServiceParts {
  const secrets = new Map<string, secretsmanager.Secret>();
  for (const key of service.secrets) {
    secrets.set(
      key,
      new secretsmanager.Secret(scope, `Secret${pascalCase(key.toLowerCase())}`, {
        secretName: serviceSecretName(plan, service, key),
        description: `${key} of ${service.name}; generated once, rotated by the team`,
        generateSecretString: { passwordLength: 32, excludePunctuation: true },
        removalPolicy,
      }),
    );
  }
  const names = hostedServiceNames(plan, service);
  const configParameters = new Map<string, ssm.StringParameter>();
  for (const [key, value] of configEntries(service)) {
    configParameters.set(
      key,
      new ssm.StringParameter(scope, `Config${pascalCase(key.toLowerCase())}`, { parameterName: `${names.configPath}${key}`, stringValue: value, description: `${key} of ${service.name}` }),
    );
  }
  const missing = (kind: string, key: string) => {
    throw new Error(`${scope.node.path}: messagingArns.${kind}["${key}"] is undefined but ${service.name} uses it. Fix: add its ARN (from the messaging stack's parameters)`);
  };
  const env = messaging
    ? messagingEnvironment(plan, service, {
        topic: (event) => messaging.topicArns[event] ?? missing("topicArns", event),
        queue: (subscription) => messaging.queueArns[subscription] ?? missing("queueArns", subscription),
      })
    : {};
  const usesBroker = service.publishes.length > 0 || (plan.broker?.topics ?? []).some((t) => t.subscriptions.some((s) => s.subscriber === service.name));
  if (usesBroker && !messaging) throw new Error(`${scope.node.path}: messagingArns is undefined but ${service.name} publishes or subscribes. Fix: pass the topic and queue ARNs`);
  return { secrets, configParameters, env };
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
