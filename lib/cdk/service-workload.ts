import { RemovalPolicy, aws_iam as iam, aws_secretsmanager as secretsmanager } from "aws-cdk-lib";
import { Construct } from "constructs";
import { Secret as KubernetesSecret } from "kubernetes-models/v1/Secret";
import { labelsFor } from "../kubernetes/labels.js";
import { servicePolicies } from "../kubernetes/mesh.js";
import { workloadNamespace } from "../kubernetes/namespace.js";
import { validatedManifest } from "../kubernetes/render.js";
import { targetGroupBinding } from "../kubernetes/target-group-binding.js";
import type { ManifestObject } from "../kubernetes/types.js";
import { serviceWorkload } from "../kubernetes/workload.js";
import { serviceNamed, subscriptionsOf } from "../plan/lookup.js";
import { pascalCase } from "../plan/naming.js";
import type { LandingZonePlan, ServicePlan, SubscriptionPlan } from "../plan/types.js";
import type { IKubernetesTarget } from "./kubernetes-target.js";
import type { MessageBroker } from "./message-broker.js";

/** ARNs of the broker resources a service uses, when the broker is deployed from another stack. */
export interface ServiceMessagingArns {
  /** Event → SNS topic ARN, for at least the events the service publishes. */
  readonly topicArns: Readonly<Record<string, string>>;
  /** Subscription name (`<subscriber>_<event>`) → SQS queue ARN, for at least the service's subscriptions. */
  readonly queueArns: Readonly<Record<string, string>>;
  /**
   * Customer-managed KMS key encrypting the topics and queues.
   * @default - the broker uses AWS-managed keys, which need no grant
   */
  readonly encryptionKeyArn?: string;
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
   * Topic and queue ARNs read from another stack's parameters.
   * @default - `broker`
   */
  readonly messagingArns?: ServiceMessagingArns;
  /**
   * What happens to the service's secrets when the stack is deleted.
   * @default - RETAIN when `plan.protection.retain`, else DESTROY
   */
  readonly secretsRemovalPolicy?: RemovalPolicy;
}

/**
 * One service on the platform: a generated Secrets Manager secret per `secrets` key (the team
 * rotates them), the Kubernetes workload, mesh policies and gateway binding, and an EKS Pod
 * Identity role that reads only its own secrets and publishes/consumes only its own topics/queues.
 *
 * @example
 * new ServiceWorkload(stack, "Orders", { target: platform, plan, serviceName: "orders", broker, targetGroupArn });
 */
export class ServiceWorkload extends Construct {
  readonly service: ServicePlan;
  /** Secret key (env var name) → its Secrets Manager secret. */
  readonly secrets: ReadonlyMap<string, secretsmanager.Secret>;
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

    const namespace = workloadNamespace(plan);
    const identity = target.addWorkloadIdentity(`${pascalCase(service.name)}Identity`, { name: service.name, namespace });
    this.role = identity.role;
    this.serviceAccountName = identity.serviceAccountName;

    const removalPolicy = props.secretsRemovalPolicy ?? (plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    const secrets = new Map<string, secretsmanager.Secret>();
    for (const key of service.secrets) {
      const secret = new secretsmanager.Secret(this, `Secret${pascalCase(key.toLowerCase())}`, {
        secretName: `msa/${plan.name}/${plan.environment}/${service.name}/${key}`,
        description: `${key} of ${service.name}; generated once, rotated by the team`,
        generateSecretString: { passwordLength: 32, excludePunctuation: true },
        removalPolicy,
      });
      secret.grantRead(this.role);
      secrets.set(key, secret);
    }
    this.secrets = secrets;

    const env = { ...this.grantMessaging(service, props) };
    const secretName = `${service.name}-secrets`;
    const manifests: ManifestObject[] = [];
    if (secrets.size > 0) {
      manifests.push(
        validatedManifest(
          new KubernetesSecret({
            metadata: { name: secretName, namespace, labels: labelsFor(plan, service.name) },
            type: "Opaque",
            // CloudFormation dynamic references: resolved at deploy time, so the template never holds a value.
            stringData: Object.fromEntries([...secrets].map(([key, secret]) => [key, secret.secretValue.unsafeUnwrap()])),
          }),
        ),
      );
    }
    manifests.push(
      // The workload identity created the ServiceAccount, bound to the role.
      ...serviceWorkload(plan, service, {
        ...(secrets.size > 0 ? { secretName } : {}),
        ...(props.image ? { image: props.image } : {}),
        ...(Object.keys(env).length > 0 ? { env } : {}),
      }).filter((m) => m.kind !== "ServiceAccount"),
      ...servicePolicies(plan, service),
      ...(props.targetGroupArn ? [targetGroupBinding(plan, service, props.targetGroupArn)] : []),
    );
    this.manifests = target.addManifests(`${pascalCase(service.name)}Workload`, manifests);
    // Pod Identity injects credentials only into pods created after the association exists.
    this.manifests.node.addDependency(identity.role.node.scope ?? identity.role);
  }

  /** Grants the role its topics and queues; returns the env vars naming them. */
  private grantMessaging(service: ServicePlan, props: ServiceWorkloadProps): Record<string, string> {
    const env: Record<string, string> = {};
    const arns = props.messagingArns;
    for (const event of service.publishes) {
      if (props.broker) {
        props.broker.grantPublish(event, this.role);
        env[envName("TOPIC", event)] = props.broker.topic(event).topicArn;
      } else if (arns) {
        const topicArn = required(arns.topicArns, event, `messagingArns.topicArns["${event}"]`, service.name);
        this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ["sns:Publish"], resources: [topicArn] }));
        env[envName("TOPIC", event)] = topicArn;
      }
    }
    for (const subscription of this.subscriptions) {
      if (props.broker) {
        props.broker.grantConsume(subscription.name, this.role);
        env[envName("QUEUE", subscription.name)] = props.broker.queue(subscription.name).queueArn;
      } else if (arns) {
        const queueArn = required(arns.queueArns, subscription.name, `messagingArns.queueArns["${subscription.name}"]`, service.name);
        this.role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
            resources: [queueArn],
          }),
        );
        env[envName("QUEUE", subscription.name)] = queueArn;
      }
    }
    if (arns?.encryptionKeyArn && Object.keys(env).length > 0) {
      // SNS and SQS encrypt and decrypt with the caller's permissions on a customer-managed key.
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [arns.encryptionKeyArn] }));
    }
    return env;
  }
}

/** `TOPIC_ORDER_PLACED_ARN`, `QUEUE_PAYMENTS_ORDER_PLACED_ARN`. */
function envName(kind: "TOPIC" | "QUEUE", name: string): string {
  return `${kind}_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_ARN`;
}

function required(values: Readonly<Record<string, string>>, key: string, prop: string, service: string): string {
  const value = values[key];
  if (value === undefined) throw new Error(`ServiceWorkload ${service}: ${prop} is undefined. Fix: add the ARN of "${key}"`);
  return value;
}
