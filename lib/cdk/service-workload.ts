import { RemovalPolicy, Tags, aws_iam as iam, type aws_secretsmanager as secretsmanager } from "aws-cdk-lib";
import { Construct } from "constructs";
import { servicePolicies } from "../kubernetes/mesh.js";
import { workloadNamespace } from "../kubernetes/namespace.js";
import { awsSecretProviderClass, SECRETS_STORE_READ_ACTIONS, type StoredSecret } from "../kubernetes/secrets-store.js";
import { targetGroupAccess, targetGroupBinding } from "../kubernetes/target-group-binding.js";
import type { ManifestObject } from "../kubernetes/types.js";
import { PLATFORM_ENV, serviceWorkload } from "../kubernetes/workload.js";
import { serviceConfigOf } from "../plan/config-store.js";
import { directPublishes } from "../plan/data.js";
import { messagingEnvName } from "../plan/hosts.js";
import { eventSource, QUEUE_CONSUME_ACTIONS, SERVICE_TAG_KEY } from "../plan/messaging.js";
import { serviceNamed, subscriptionsOf } from "../plan/lookup.js";
import { pascalCase } from "../plan/naming.js";
import type { LandingZonePlan, ServicePlan, SubscriptionPlan } from "../plan/types.js";
import { ConfigStore } from "./config-store.js";
import type { IKubernetesTarget } from "./kubernetes-target.js";
import type { MessageBroker } from "./message-broker.js";

/** ARNs of the broker resources a service uses, when the broker is deployed from another stack (its own queues may be `SubscriptionQueue`s beside it). */
export interface ServiceMessagingArns {
  /** Event → SNS topic ARN, for at least the events the service publishes (sns-sqs). */
  readonly topicArns: Readonly<Record<string, string>>;
  /**
   * The EventBridge bus the service puts its events on, as detail-type `<event>` and source `<zone>.<service>`.
   * @default - SNS topics (`topicArns`)
   */
  readonly eventBusArn?: string;
  /** Subscription name (`<subscriber>_<event>`) → SQS queue ARN, for at least the service's subscriptions (e.g. its `SubscriptionQueue`s' queues). */
  readonly queueArns: Readonly<Record<string, string>>;
  /**
   * Customer-managed KMS key encrypting the topics and queues.
   * @default - the broker uses AWS-managed keys, which need no grant
   */
  readonly encryptionKeyArn?: string;
}

/** The central session store as a service reaches it (design a of the seed). */
export interface ServiceSessionStore {
  /** Host name of the store (e.g. `SessionStore.endpoint` or an SSM parameter's value). */
  readonly endpoint: string;
  /** Port of the store. */
  readonly port: number | string;
  /** ARN of the Secrets Manager secret holding the AUTH token; the pods read it with their own identity. */
  readonly authTokenSecretArn: string;
  /**
   * Whether the store takes only TLS connections.
   * @default true
   */
  readonly tls?: boolean;
}

export interface ServiceWorkloadProps {
  /** The cluster the workload runs on (`KubernetesPlatform` or `KubernetesPlatform.fromPlatformAttributes`). */
  readonly target: IKubernetesTarget;
  /** The landing-zone plan holding the service. */
  readonly plan: LandingZonePlan;
  /** Name of the service or BFF in `plan.services`. */
  readonly serviceName: string;
  /**
   * Container image, e.g. the service's ECR repository URI with a release tag.
   * @default - the plan's image
   */
  readonly image?: string;
  /**
   * ARN of the gateway target group the service registers its pods in (a TargetGroupBinding).
   * @default - no binding: the service is reached only inside the cluster
   */
  readonly targetGroupArn?: string;
  /**
   * The broker in the same stack or app; its grants give the service its topics and queues.
   * Give this or `messagingArns` when the service publishes or subscribes.
   * @default - `messagingArns`
   */
  readonly broker?: MessageBroker;
  /**
   * Topic ARNs read from the broker stack's parameters, and the ARNs of the service's queues.
   * @default - `broker`
   */
  readonly messagingArns?: ServiceMessagingArns;
  /**
   * Environment variables added to the service's ConfigMap (where its database, tables and sagas
   * are). Plain values or references only: secrets come through `configStore`, never here.
   * @default - none
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The service's configuration store (parameters and generated secrets).
   * @default - a `ConfigStore` child from `plan.configStore`, when the service has configuration or secrets
   */
  readonly configStore?: ConfigStore;
  /**
   * The session store every service shares; the service gets its endpoint and AUTH token.
   * @default - no session store
   */
  readonly sessionStore?: ServiceSessionStore;
  /**
   * What happens to the secrets of the default configuration store when the stack is deleted.
   * @default - RETAIN when `plan.protection.retain`, else DESTROY
   */
  readonly secretsRemovalPolicy?: RemovalPolicy;
}

/**
 * One service on the platform: its configuration store (parameters and generated secrets), the
 * Kubernetes workload, mesh policies and gateway binding, and an EKS Pod Identity role that reads
 * only its own configuration, secrets and session token and publishes/consumes only its own
 * topics/queues. Configuration reaches the pods through a ConfigMap whose values reference the
 * parameters; secrets through the Secrets Store CSI driver, which the pods' own identity feeds from
 * Secrets Manager into the Kubernetes Secret their env vars reference. No secret value passes
 * through CloudFormation (dynamic references do not resolve inside custom resources anyway).
 * The role carries the tag `msa:service=<name>`, which the broker's resource policies require.
 *
 * @example
 * new ServiceWorkload(stack, "Orders", { target: platform, plan, serviceName: "orders", broker, targetGroupArn });
 */
export class ServiceWorkload extends Construct {
  readonly service: ServicePlan;
  /** The service's configuration store, when it has configuration or secrets. */
  readonly configStore?: ConfigStore;
  /** Secret key (env var name) → its Secrets Manager secret. */
  readonly secrets: ReadonlyMap<string, secretsmanager.ISecret>;
  /** The role the service's pods assume. */
  readonly role: iam.IRole;
  readonly serviceAccountName: string;
  /** The applied workload manifests; later parts can depend on it. */
  readonly manifests: Construct;
  /** Subscriptions the service consumes. */
  readonly subscriptions: readonly SubscriptionPlan[];

  constructor(scope: Construct, id: string, props: ServiceWorkloadProps) {
    super(scope, id);
    const { plan, target } = props;
    const service = serviceNamed(plan, props.serviceName);
    if (!service) {
      throw new Error(`ServiceWorkload: serviceName "${props.serviceName}" is not in the plan. Fix: use one of ${plan.services.map((s) => s.name).join(", ")}`);
    }
    this.service = service;
    this.subscriptions = subscriptionsOf(plan, service.name);
    if (props.broker && props.messagingArns) {
      throw new Error(`ServiceWorkload ${service.name}: both broker and messagingArns are set. Fix: give one of them`);
    }
    const usesBroker = service.publishes.length > 0 || this.subscriptions.length > 0;
    if (usesBroker && !props.broker && !props.messagingArns) {
      throw new Error(`ServiceWorkload ${service.name}: broker and messagingArns are undefined but the service uses the broker. Fix: pass broker (same app) or messagingArns`);
    }
    if (props.configStore && props.configStore.service !== service.name) {
      throw new Error(`ServiceWorkload ${service.name}: configStore belongs to "${props.configStore.service}". Fix: pass the ConfigStore of ${service.name}`);
    }

    const namespace = workloadNamespace(plan);
    const identity = target.addWorkloadIdentity(`${pascalCase(service.name)}Identity`, { name: service.name, namespace });
    this.role = identity.role;
    Tags.of(identity.role).add(SERVICE_TAG_KEY, service.name);
    this.serviceAccountName = identity.serviceAccountName;

    const planned = plan.configStore ? serviceConfigOf(plan.configStore, service.name) : undefined;
    const store =
      props.configStore ??
      (planned && (planned.parameters.length > 0 || planned.secrets.length > 0)
        ? new ConfigStore(this, "Config", { config: planned, removalPolicy: props.secretsRemovalPolicy ?? (plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY) })
        : undefined);
    if (store) {
      this.configStore = store;
      store.grantRead(this.role);
    }
    this.secrets = store?.secrets ?? new Map();

    const env: Record<string, string> = {
      // The ConfigMap takes each value from its parameter, so the parameter store is the source.
      ...Object.fromEntries([...(store?.parameters ?? [])].map(([key, parameter]) => [key, parameter.stringValue])),
      ...(store ? { [PLATFORM_ENV.configParameterPath]: store.parameterPath } : {}),
      ...props.env,
      ...this.grantMessaging(plan, service, props),
    };
    const stored: StoredSecret[] = [...this.secrets].map(([key, secret]) => ({ key, secretArn: secret.secretArn }));
    const session = props.sessionStore;
    if (session) {
      env[PLATFORM_ENV.sessionStoreEndpoint] = `${session.endpoint}:${session.port}`;
      env[PLATFORM_ENV.sessionStoreTls] = String(session.tls ?? true);
      stored.push({ key: PLATFORM_ENV.sessionStorePassword, secretArn: session.authTokenSecretArn });
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...SECRETS_STORE_READ_ACTIONS], resources: [session.authTokenSecretArn] }));
    }

    const secretName = `${service.name}-secrets`;
    const workloadService: ServicePlan = { ...service, secrets: stored.map((s) => s.key) };
    const manifests: ManifestObject[] = [
      ...(stored.length > 0 ? [awsSecretProviderClass(plan, service, secretName, stored)] : []),
      // The workload identity created the ServiceAccount, bound to the role.
      ...serviceWorkload(plan, workloadService, {
        ...(stored.length > 0 ? { secretName, secretProviderClass: secretName } : {}),
        ...(props.image ? { image: props.image } : {}),
        ...(Object.keys(env).length > 0 ? { env } : {}),
      }).filter((m) => m.kind !== "ServiceAccount"),
      ...servicePolicies(plan, service),
      ...(props.targetGroupArn ? [targetGroupBinding(plan, service, props.targetGroupArn), ...targetGroupAccess(plan, service)] : []),
    ];
    this.manifests = target.addManifests(`${pascalCase(service.name)}Workload`, manifests);
    // Pod Identity injects credentials only into pods created after the association exists.
    this.manifests.node.addDependency(identity.role.node.scope ?? identity.role);
  }

  /** Grants the role its topics and queues; returns the env vars naming them. */
  private grantMessaging(plan: LandingZonePlan, service: ServicePlan, props: ServiceWorkloadProps): Record<string, string> {
    const env: Record<string, string> = {};
    const arns = props.messagingArns;
    // Events an event store forwards reach the broker through its stream, never from the service.
    const publishes = directPublishes(service);
    const eventBusArn = arns?.eventBusArn ?? props.broker?.eventBus?.eventBusArn;
    if (eventBusArn !== undefined) {
      if (publishes.length > 0) {
        const source = eventSource(plan.name, service.name);
        if (props.broker) for (const event of publishes) props.broker.grantPublish(event, this.role);
        else {
          this.role.addToPrincipalPolicy(
            new iam.PolicyStatement({ actions: ["events:PutEvents"], resources: [eventBusArn], conditions: { StringEquals: { "events:detail-type": publishes, "events:source": source } } }),
          );
        }
        env["EVENT_BUS_ARN"] = eventBusArn;
        env["EVENT_SOURCE"] = source;
      }
    } else {
      for (const event of publishes) {
        if (props.broker) {
          props.broker.grantPublish(event, this.role);
          env[messagingEnvName("TOPIC", event)] = props.broker.topic(event).topicArn;
        } else if (arns) {
          const topicArn = required(arns.topicArns, event, `messagingArns.topicArns["${event}"]`, service.name);
          this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ["sns:Publish"], resources: [topicArn] }));
          env[messagingEnvName("TOPIC", event)] = topicArn;
        }
      }
    }
    for (const subscription of this.subscriptions) {
      if (props.broker) {
        props.broker.grantConsume(subscription.name, this.role);
        env[messagingEnvName("QUEUE", subscription.name)] = props.broker.queue(subscription.name).queueArn;
      } else if (arns) {
        const queueArn = required(arns.queueArns, subscription.name, `messagingArns.queueArns["${subscription.name}"]`, service.name);
        this.role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: [...QUEUE_CONSUME_ACTIONS],
            resources: [queueArn],
          }),
        );
        env[messagingEnvName("QUEUE", subscription.name)] = queueArn;
      }
    }
    if (arns?.encryptionKeyArn && Object.keys(env).length > 0) {
      // SNS and SQS encrypt and decrypt with the caller's permissions on a customer-managed key.
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [arns.encryptionKeyArn] }));
    }
    return env;
  }
}

function required(values: Readonly<Record<string, string>>, key: string, prop: string, service: string): string {
  const value = values[key];
  if (value === undefined) throw new Error(`ServiceWorkload ${service}: ${prop} is undefined. Fix: add the ARN of "${key}"`);
  return value;
}
