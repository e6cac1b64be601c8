import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { hostedServiceStatements, messagingEnvironment, type HostedServiceGrants, type PolicyStatementData } from "../../plan/host-bootstrap.js";
import { configEntries, hostedServiceNames, serviceSecretName } from "../../plan/hosts.js";
import type { LandingZonePlan, ServicePlan } from "../../plan/types.js";
import type { ServiceMessaging } from "./service-workload.js";

/** What a hosted service needs from the event bus: its policy and the ARNs it names in its environment. A `MessageBroker` fits. */
export interface HostedServiceMessaging extends ServiceMessaging {
  /** Event → topic ARN. */
  readonly topicArns: pulumi.Output<Record<string, string>>;
  /** Subscription name → queue ARN. */
  readonly queueArns: pulumi.Output<Record<string, string>>;
}

/** Finds the service in the plan or throws naming the choices. */
export function findService(plan: LandingZonePlan, serviceName: string, component: string): ServicePlan {
  const service = plan.services.find((s) => s.name === serviceName);
  if (!service) throw new Error(`${component}: service "${serviceName}" is not in plan.services (${plan.services.map((s) => s.name).join(", ")}). Fix: pass one of those names`);
  return service;
}

/** Throws before anything is registered when the service uses the broker but none is given, or secret values it does not declare. */
export function checkHostedService(component: string, plan: LandingZonePlan, service: ServicePlan, broker: HostedServiceMessaging | undefined, secretValues?: Readonly<Record<string, unknown>>): void {
  const subscribes = (plan.broker?.topics ?? []).some((t) => t.subscriptions.some((s) => s.subscriber === service.name));
  if ((service.publishes.length > 0 || subscribes) && !broker) {
    throw new Error(`${component}: broker is undefined but ${service.name} publishes or subscribes. Fix: pass the landing zone's MessageBroker`);
  }
  const unknown = Object.keys(secretValues ?? {}).filter((key) => !service.secrets.includes(key));
  if (unknown.length > 0) throw new Error(`${component}: secretValues has ${unknown.join(", ")}, which services[${service.name}].secrets does not declare. Fix: add them to the spec's secrets or remove them`);
}

/** One Secrets Manager secret per key (the CDK layout), its value generated unless given, kept as a Pulumi secret. */
export function createServiceSecrets(
  parent: pulumi.ComponentResource,
  name: string,
  plan: LandingZonePlan,
  service: ServicePlan,
  options: { readonly secretValues?: Readonly<Record<string, pulumi.Input<string>>>; readonly tags: Record<string, string> },
): Record<string, aws.secretsmanager.Secret> {
  const secrets: Record<string, aws.secretsmanager.Secret> = {};
  for (const key of service.secrets) {
    const id = `${name}-${key.toLowerCase().replace(/_/g, "-")}`;
    const given = options.secretValues?.[key];
    const value = given !== undefined ? pulumi.secret(given) : new random.RandomPassword(id, { length: 32, special: false }, { parent }).result;
    const secret = new aws.secretsmanager.Secret(
      id,
      { name: serviceSecretName(plan, service, key), description: `${key} of ${service.name}; generated once, rotated by the team`, recoveryWindowInDays: plan.protection.retain ? 30 : 7, tags: options.tags },
      plan.protection.retain ? { parent, protect: true, retainOnDelete: true } : { parent },
    );
    new aws.secretsmanager.SecretVersion(`${id}-value`, { secretId: secret.id, secretString: value }, { parent });
    secrets[key] = secret;
  }
  return secrets;
}

/** The service's configuration in Parameter Store, under the path its instances read. */
export function createConfigParameters(parent: pulumi.ComponentResource, name: string, plan: LandingZonePlan, service: ServicePlan, tags: Record<string, string>): Record<string, aws.ssm.Parameter> {
  const path = hostedServiceNames(plan, service).configPath;
  return Object.fromEntries(
    configEntries(service).map(([key, value]) => [
      key,
      new aws.ssm.Parameter(`${name}-config-${key.toLowerCase().replace(/_/g, "-")}`, { name: `${path}${key}`, type: "String", value, description: `${key} of ${service.name}`, tags }, { parent }),
    ]),
  );
}

/** The service's topic and queue ARNs by env var name. */
export function messagingEnv(plan: LandingZonePlan, service: ServicePlan, broker: HostedServiceMessaging | undefined): pulumi.Output<Record<string, string>> {
  if (!broker) return pulumi.output<Record<string, string>>({});
  return pulumi.all([broker.topicArns, broker.queueArns]).apply(([topics, queues]) => messagingEnvironment(plan, service, { topic: (event) => topics[event]!, queue: (subscription) => queues[subscription]! }));
}

/** The plan's statements for the instance role, resolved into a policy document. */
export function hostedServicePolicy(plan: LandingZonePlan, service: ServicePlan, grants: pulumi.Input<Omit<HostedServiceGrants, "partition" | "region" | "account">>, parent: pulumi.Resource): pulumi.Output<string> {
  const opts = { parent };
  return pulumi
    .all([aws.getPartitionOutput({}, opts).partition, aws.getRegionOutput({}, opts).region, aws.getCallerIdentityOutput({}, opts).accountId, pulumi.output(grants)])
    .apply(([partition, region, account, resolved]) => policyJson(hostedServiceStatements(plan, service, { ...(resolved as HostedServiceGrants), partition, region, account })));
}

/** `PolicyStatementData` as an IAM policy document. */
export function policyJson(statements: readonly PolicyStatementData[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: statements.map((s) => ({ Sid: s.sid, Effect: "Allow", Action: [...s.actions], Resource: [...s.resources], ...(s.condition ? { Condition: s.condition } : {}) })),
  });
}
