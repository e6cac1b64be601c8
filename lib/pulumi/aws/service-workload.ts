import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { servicePolicies } from "../../kubernetes/mesh.js";
import { workloadNamespace } from "../../kubernetes/namespace.js";
import { targetGroupBinding } from "../../kubernetes/target-group-binding.js";
import type { ManifestObject } from "../../kubernetes/types.js";
import { serviceWorkload } from "../../kubernetes/workload.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { applyManifests } from "../kubernetes/add-on.js";
import { assumeRolePolicy } from "./kubernetes-platform.js";

/** What a service needs from the event bus: the IAM policy for one service, or undefined when it neither publishes nor consumes. */
export interface ServiceMessaging {
  servicePolicyDocument(service: string): pulumi.Output<string> | undefined;
}

export interface ServiceWorkloadArgs {
  /** The landing-zone plan: namespace, labels, mesh and broker topics come from it. */
  readonly plan: LandingZonePlan;
  /** Name of the service or BFF in `plan.services`. */
  readonly service: string;
  /** EKS cluster the workload runs in (for its Pod Identity association). */
  readonly clusterName: pulumi.Input<string>;
  /** Provider of that cluster. */
  readonly provider: k8s.Provider;
  /**
   * Registry repository URL; replaces the repository name in the plan's default image.
   * @default - the plan's image unchanged
   */
  readonly repositoryUrl?: pulumi.Input<string>;
  /**
   * Gateway target groups the pods are registered in (TargetGroupBinding), usually one.
   * @default - none: the service is not reachable through the gateway
   */
  readonly targetGroupArns?: readonly pulumi.Input<string>[];
  /**
   * The event bus; the role gets exactly what the broker grants this service (publish on its
   * `publishes` topics, consume its own subscriptions). A `MessageBroker` fits.
   * @default - no messaging permission
   */
  readonly broker?: ServiceMessaging;
  /**
   * Values of the service's `secrets`, by name (e.g. from `pulumi config set --secret`).
   * @default - a generated 32-character value per secret, rotated by replacing its RandomPassword
   */
  readonly secretValues?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Non-secret environment variables added to the service's ConfigMap.
   * @default - none
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Resources the workload waits for (the platform's nodes and add-ons).
   * @default - none
   */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly secret?: (args: aws.secretsmanager.SecretArgs) => void;
    readonly role?: (args: aws.iam.RoleArgs) => void;
    readonly manifests?: (manifests: ManifestObject[]) => void;
  };
}

/**
 * One service on the cluster: its secrets in Secrets Manager and synced into a Kubernetes Secret
 * (as Pulumi secrets, never plain), a Pod Identity role allowed only its own secret and what the
 * broker grants it (its own topics and queues), the workload (Deployment, Service, HPA, PDB...), mesh policies, and the
 * TargetGroupBinding that registers its pods in the gateway's target group.
 *
 * @example
 * new ServiceWorkload("orders", { plan, service: "orders", clusterName: platform.clusterName, provider: platform.provider });
 */
export class ServiceWorkload extends pulumi.ComponentResource {
  /** ARN of the role the service's pods assume. */
  readonly roleArn: pulumi.Output<string>;
  /** ARN of the service's Secrets Manager secret, when it has secrets. */
  readonly secretArn?: pulumi.Output<string>;
  readonly nodes: {
    readonly role: aws.iam.Role;
    readonly podIdentity: aws.eks.PodIdentityAssociation;
    readonly secret?: aws.secretsmanager.Secret;
    readonly kubernetesSecret?: k8s.core.v1.Secret;
    readonly workload: k8s.yaml.v2.ConfigGroup;
    readonly binding?: k8s.yaml.v2.ConfigGroup;
  };

  constructor(name: string, args: ServiceWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    // Bad input is rejected before anything is registered.
    const { plan } = args;
    const service = plan.services.find((s) => s.name === args.service);
    if (!service) {
      throw new Error(`ServiceWorkload ${name}: service "${args.service}" is not in plan.services (${plan.services.map((s) => s.name).join(", ")}). Fix: pass one of those names`);
    }
    const unknownSecrets = Object.keys(args.secretValues ?? {}).filter((key) => !service.secrets.includes(key));
    if (unknownSecrets.length > 0) {
      throw new Error(`ServiceWorkload ${name}: secretValues has ${unknownSecrets.join(", ")}, which services[${service.name}].secrets does not declare. Fix: add them to the spec's secrets or remove them`);
    }
    super("msa:aws:ServiceWorkload", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const namespace = workloadNamespace(plan);
    const secretName = `${service.name}-secrets`;

    let secret: aws.secretsmanager.Secret | undefined;
    let kubernetesSecret: k8s.core.v1.Secret | undefined;
    if (service.secrets.length > 0) {
      const values = Object.fromEntries(
        service.secrets.map((key) => [
          key,
          args.secretValues?.[key] !== undefined
            ? pulumi.secret(args.secretValues[key]!)
            : new random.RandomPassword(`${name}-${key.toLowerCase().replace(/_/g, "-")}`, { length: 32, special: false }, parent).result,
        ]),
      );
      const document = pulumi.secret(pulumi.all(values).apply((resolved) => JSON.stringify(resolved)));
      const secretArgs: aws.secretsmanager.SecretArgs = { name: `${plan.name}/${service.name}`, description: `Secrets of ${service.name}`, recoveryWindowInDays: plan.protection.retain ? 30 : 7, tags };
      args.transform?.secret?.(secretArgs);
      secret = new aws.secretsmanager.Secret(`${name}-secret`, secretArgs, plan.protection.retain ? { parent: this, protect: true, retainOnDelete: true } : parent);
      new aws.secretsmanager.SecretVersion(`${name}-secret-value`, { secretId: secret.id, secretString: document }, parent);
      kubernetesSecret = new k8s.core.v1.Secret(
        `${name}-secret`,
        {
          metadata: { name: secretName, namespace, labels: { "app.kubernetes.io/name": service.name, "app.kubernetes.io/part-of": plan.name } },
          type: "Opaque",
          stringData: pulumi.secret(pulumi.all(values)),
        },
        { parent: this, provider: args.provider, dependsOn: args.dependsOn ?? [] },
      );
    }

    const roleArgs: aws.iam.RoleArgs = { assumeRolePolicy: assumeRolePolicy("pods.eks.amazonaws.com"), description: `Pods of ${service.name}`, tags };
    args.transform?.role?.(roleArgs);
    const role = new aws.iam.Role(`${name}-role`, roleArgs, parent);
    if (secret) {
      new aws.iam.RolePolicy(
        `${name}-secret-read`,
        {
          role: role.name,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: secret.arn }],
          }),
        },
        parent,
      );
    }
    const messagingPolicy = args.broker?.servicePolicyDocument(service.name);
    if (messagingPolicy) new aws.iam.RolePolicy(`${name}-messaging`, { role: role.name, policy: messagingPolicy }, parent);
    const podIdentity = new aws.eks.PodIdentityAssociation(`${name}-identity`, { clusterName: args.clusterName, namespace, serviceAccount: service.name, roleArn: role.arn, tags }, parent);

    const image = args.repositoryUrl && service.image.startsWith(`${service.repository}:`) ? pulumi.interpolate`${args.repositoryUrl}${service.image.slice(service.repository.length)}` : pulumi.output(service.image);
    const manifests = image.apply((resolvedImage) => {
      const objects = [
        ...serviceWorkload(plan, service, { image: resolvedImage, ...(kubernetesSecret ? { secretName } : {}), ...(args.env ? { env: { ...args.env } } : {}) }),
        ...servicePolicies(plan, service),
      ];
      args.transform?.manifests?.(objects);
      return objects;
    });
    const workload = applyManifests(`${name}-workload`, manifests, {
      provider: args.provider,
      parent: this,
      dependsOn: [...(args.dependsOn ?? []), podIdentity, ...(kubernetesSecret ? [kubernetesSecret] : [])],
    });

    const targetGroupArns = args.targetGroupArns ?? [];
    const binding =
      targetGroupArns.length > 0
        ? applyManifests(
            `${name}-binding`,
            pulumi.all([...targetGroupArns]).apply((arns) => arns.map((arn, i) => withSuffix(targetGroupBinding(plan, service, arn), i))),
            { provider: args.provider, parent: this, dependsOn: [workload] },
          )
        : undefined;

    this.roleArn = role.arn;
    if (secret) this.secretArn = secret.arn;
    this.nodes = { role, podIdentity, workload, ...(secret ? { secret } : {}), ...(kubernetesSecret ? { kubernetesSecret } : {}), ...(binding ? { binding } : {}) };
    this.registerOutputs({ roleArn: this.roleArn, ...(secret ? { secretArn: secret.arn } : {}) });
  }
}

/** Second and later bindings of one service get an index, so each target group has its own object. */
function withSuffix(manifest: ManifestObject, index: number): ManifestObject {
  return index === 0 ? manifest : { ...manifest, metadata: { ...manifest.metadata, name: `${manifest.metadata.name}-${index}` } };
}
