import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { hostedServiceStatements, messagingEnvironment, type HostedServiceGrants, type HostSessionStore, type PolicyStatementData } from "../../plan/host-bootstrap.js";
import { serviceConfigOf } from "../../plan/config-store.js";
import type { LandingZonePlan, ServicePlan } from "../../plan/types.js";
import { ConfigStore } from "./config-store.js";
import type { ServiceMessaging } from "./service-workload.js";

/** What a hosted service needs from the event bus: its policy and the ARNs it names in its environment. A `MessageBroker` fits. */
export type HostedServiceMessaging = ServiceMessaging;

/** The log buffer, as Pulumi inputs. */
export interface HostLogBufferInput {
  /** Primary endpoint of the Redis buffer. */
  readonly host: pulumi.Input<string>;
  /** Its TLS port. */
  readonly port: number;
  /** Secrets Manager secret with its AUTH token. */
  readonly secretArn: pulumi.Input<string>;
}

/** The session store every service shares, as Pulumi inputs; a `SessionStore` fits. */
export interface HostSessionStoreInput {
  readonly endpoint: pulumi.Input<string>;
  readonly port: pulumi.Input<number>;
  /** Secrets Manager secret with its AUTH token, read by the instances at start. */
  readonly authTokenSecretArn: pulumi.Input<string>;
}

/** The session store as the plan's bootstrap takes it, once its inputs resolve. */
export function resolveSessionStore(store: HostSessionStoreInput | undefined): pulumi.Output<HostSessionStore | undefined> {
  if (!store) return pulumi.output(undefined);
  return pulumi.all([store.endpoint, store.port, store.authTokenSecretArn]).apply(([endpoint, port, authTokenSecretArn]) => ({ endpoint, port, authTokenSecretArn }));
}

/** What a service on VMs (`VmService`) and on Elastic Beanstalk (`PaasService`) take alike. */
export interface HostedServiceArgs {
  /** The landing-zone plan (tier iaas or paas). */
  readonly plan: LandingZonePlan;
  /** Name of the service or BFF in `plan.services`. */
  readonly service: string;
  /** Private subnets of the instances. */
  readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The landing zone's workload security group (`VmPlatform` or `PaasPlatform` `workloadSecurityGroupId`). */
  readonly workloadSecurityGroupId: pulumi.Input<string>;
  /** Container image the service runs. */
  readonly image: pulumi.Input<string>;
  /**
   * ECR repository the image comes from; the instances may pull from it.
   * @default - no ECR pull permission (a public image)
   */
  readonly repositoryName?: string;
  /**
   * The event bus; required when the service publishes or subscribes. A `MessageBroker` fits.
   * @default - none
   */
  readonly broker?: HostedServiceMessaging;
  /**
   * Environment variables added to the service's: where its database, tables and sagas are.
   * @default - none
   */
  readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * The log buffer the Filebeat container beside the service pushes the service's logs to.
   * @default - no shipper
   */
  readonly logBuffer?: HostLogBufferInput;
  /**
   * Values of the service's `secrets`, by name, for the default configuration store.
   * @default - a generated 32-character value per secret
   */
  readonly secretValues?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * The service's configuration store; its instances read the parameters and secrets at start with their role.
   * @default - a `ConfigStore` child from `plan.configStore`, when the service has configuration or secrets
   */
  readonly configStore?: ConfigStore;
  /**
   * The session store every service shares; the service gets its endpoint and reads its AUTH token at start.
   * @default - no session store
   */
  readonly sessionStore?: HostSessionStoreInput;
  /**
   * Tags on every taggable child.
   * @default - plan.tags
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/** Finds the service in the plan or throws naming the choices. */
export function findService(plan: LandingZonePlan, serviceName: string, component: string): ServicePlan {
  const service = plan.services.find((s) => s.name === serviceName);
  if (!service) throw new Error(`${component}: service "${serviceName}" is not in plan.services (${plan.services.map((s) => s.name).join(", ")}). Fix: pass one of those names`);
  return service;
}

/**
 * Throws before anything is registered when the service uses the broker but none is given, secret
 * values it does not declare, or a configuration store that is not its own or comes with secret values.
 */
export function checkHostedService(
  component: string,
  plan: LandingZonePlan,
  service: ServicePlan,
  broker: HostedServiceMessaging | undefined,
  secretValues?: Readonly<Record<string, unknown>>,
  configStore?: ConfigStore,
): void {
  if (configStore && configStore.service !== service.name) throw new Error(`${component}: configStore belongs to "${configStore.service}". Fix: pass the ConfigStore of ${service.name}`);
  if (configStore && secretValues) throw new Error(`${component}: secretValues are for the default configuration store, but configStore is given. Fix: pass the values to that ConfigStore`);
  const subscribes = (plan.broker?.topics ?? []).some((t) => t.subscriptions.some((s) => s.subscriber === service.name));
  if ((service.publishes.length > 0 || subscribes) && !broker) {
    throw new Error(`${component}: broker is undefined but ${service.name} publishes or subscribes. Fix: pass the landing zone's MessageBroker`);
  }
  const unknown = Object.keys(secretValues ?? {}).filter((key) => !service.secrets.includes(key));
  if (unknown.length > 0) throw new Error(`${component}: secretValues has ${unknown.join(", ")}, which services[${service.name}].secrets does not declare. Fix: add them to the spec's secrets or remove them`);
}

/**
 * The given configuration store, or one of its own (`<name>-config`, the same `ConfigStore` the other
 * tiers use) when the plan gives the service configuration or secrets.
 */
export function hostedConfigStore(
  parent: pulumi.ComponentResource,
  name: string,
  plan: LandingZonePlan,
  service: ServicePlan,
  options: { readonly configStore?: ConfigStore | undefined; readonly secretValues?: Readonly<Record<string, pulumi.Input<string>>> | undefined; readonly tags: Record<string, string> },
): ConfigStore | undefined {
  if (options.configStore) return options.configStore;
  const planned = plan.configStore ? serviceConfigOf(plan.configStore, service.name) : undefined;
  if (!planned || (planned.parameters.length === 0 && planned.secrets.length === 0)) return undefined;
  return new ConfigStore(
    `${name}-config`,
    { config: planned, retain: plan.protection.retain, tags: options.tags, ...(options.secretValues ? { secretValues: options.secretValues } : {}) },
    { parent },
  );
}

/** The service's topic and queue ARNs by env var name. */
export function messagingEnv(plan: LandingZonePlan, service: ServicePlan, broker: HostedServiceMessaging | undefined): pulumi.Output<Record<string, string>> {
  if (!broker) return pulumi.output<Record<string, string>>({});
  return pulumi.all([broker.topicArns, broker.queueArns]).apply(([topics, queues]) => messagingEnvironment(plan, service, { topic: (event) => topics[event]!, queue: (subscription) => queues[subscription] }));
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
