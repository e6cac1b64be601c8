import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { servicePolicies } from "../../kubernetes/mesh.js";
import { workloadNamespace } from "../../kubernetes/namespace.js";
import { awsSecretProviderClass, SECRETS_STORE_READ_ACTIONS, type StoredSecret } from "../../kubernetes/secrets-store.js";
import { targetGroupAccess, targetGroupBinding } from "../../kubernetes/target-group-binding.js";
import type { ManifestObject } from "../../kubernetes/types.js";
import { PLATFORM_ENV, serviceWorkload } from "../../kubernetes/workload.js";
import { serviceConfigOf } from "../../plan/config-store.js";
import { directPublishes } from "../../plan/data.js";
import { messagingEnvironment } from "../../plan/host-bootstrap.js";
import { SERVICE_TAG_KEY } from "../../plan/messaging.js";
import type { LandingZonePlan, ServicePlan } from "../../plan/types.js";
import { applyManifests } from "../kubernetes/add-on.js";
import { ConfigStore } from "./config-store.js";
import { assumeRolePolicy } from "./kubernetes-platform.js";
import { allowPolicyDocument, mergePolicyDocuments } from "./policy-document.js";

/**
 * What a service needs from the event bus: the IAM policy for one service (publishing only `publishes`
 * when given), or undefined when it neither publishes nor consumes; and the ARNs its pods are told.
 */
export interface ServiceMessaging {
  servicePolicyDocument(service: string, publishes?: readonly string[]): pulumi.Output<string> | undefined;
  /** Event → topic ARN. */
  readonly topicArns: pulumi.Output<Record<string, string>>;
  /** Subscription name (`<subscriber>_<event>`) → queue ARN. */
  readonly queueArns: pulumi.Output<Record<string, string>>;
  /**
   * The EventBridge bus services put their events on, as detail-type `<event>` and source `<zone>.<service>`.
   * @default - SNS topics (`topicArns`)
   */
  readonly eventBus?: { readonly arn: pulumi.Output<string> };
}

/** The central session store as a service reaches it (design a of the seed); a `SessionStore` fits. */
export interface ServiceSessionStore {
  readonly endpoint: pulumi.Input<string>;
  readonly port: pulumi.Input<number>;
  /** ARN of the Secrets Manager secret holding the AUTH token; the pods read it with their own identity, through the CSI driver. */
  readonly authTokenSecretArn: pulumi.Input<string>;
  /**
   * Whether the store takes only TLS connections.
   * @default true
   */
  readonly tls?: boolean;
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
   * The whole image, e.g. the release a pipeline recorded; wins over `repositoryUrl`.
   * @default - the plan's image, with `repositoryUrl` when given
   */
  readonly image?: pulumi.Input<string>;
  /**
   * Gateway target groups the pods are registered in (TargetGroupBinding), usually one.
   * @default - none: the service is not reachable through the gateway
   */
  readonly targetGroupArns?: readonly pulumi.Input<string>[];
  /**
   * The event bus; the role gets exactly what the broker grants this service (publish on its
   * `publishes` topics, consume its own subscriptions), and the pods their ARNs (`TOPIC_<EVENT>_ARN`,
   * or `EVENT_BUS_ARN` and `EVENT_SOURCE`; `QUEUE_<SUBSCRIPTION>_ARN`). A `MessageBroker` fits.
   * @default - no messaging permission
   */
  readonly broker?: ServiceMessaging;
  /**
   * Values of the service's `secrets`, by name (e.g. from `pulumi config set --secret`), for the default configuration store.
   * @default - a generated 32-character value per secret, rotated by replacing its RandomPassword
   */
  readonly secretValues?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * The service's configuration store.
   * @default - a `ConfigStore` child from `plan.configStore`, when the service has configuration or secrets
   */
  readonly configStore?: ConfigStore;
  /**
   * The session store every service shares; the service gets its endpoint and AUTH token.
   * @default - no session store
   */
  readonly sessionStore?: ServiceSessionStore;
  /**
   * Non-secret environment variables added to the service's ConfigMap (where its database, tables and sagas are).
   * @default - none
   */
  readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * More IAM policy documents for the role, by a short name: what the service owns (its database, event store, saga tasks).
   * @default - none
   */
  readonly policies?: Readonly<Record<string, pulumi.Input<string>>>;
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
    readonly secret?: (args: aws.secretsmanager.SecretArgs, key: string) => void;
    readonly role?: (args: aws.iam.RoleArgs) => void;
    readonly manifests?: (manifests: ManifestObject[]) => void;
  };
}

/**
 * One service on the cluster: its configuration store (parameters, and secrets in Secrets Manager),
 * a Pod Identity role with one inline policy allowing only its own configuration and secrets, the
 * session store's AUTH token and what the broker grants it (its own topics and queues), the workload
 * (Deployment, Service, HPA, PDB...) with its configuration in a ConfigMap read from the parameters,
 * the session store's endpoint and its topics' and queues' ARNs, mesh policies, and the TargetGroupBinding that registers its
 * pods in the gateway's target group. Secrets reach the pods as the CDK engine delivers them: a
 * SecretProviderClass lets the Secrets Store CSI driver read them with the pods' own identity and
 * mirror them into the Kubernetes Secret their env vars reference (the cluster needs
 * `secretsStoreAddOn()`); no secret value passes through Pulumi into the cluster.
 *
 * @example
 * new ServiceWorkload("orders", { plan, service: "orders", clusterName: platform.clusterName, provider: platform.provider });
 */
export class ServiceWorkload extends pulumi.ComponentResource {
  /** ARN of the role the service's pods assume. */
  readonly roleArn: pulumi.Output<string>;
  /** The service's configuration store, when it has configuration or secrets. */
  readonly configStore?: ConfigStore;
  readonly nodes: {
    readonly role: aws.iam.Role;
    readonly podIdentity: aws.eks.PodIdentityAssociation;
    /** The role's inline policy: configuration, secrets, session token and messaging, when it needs any. */
    readonly policy?: aws.iam.RolePolicy;
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
    if (args.configStore && args.configStore.service !== service.name) {
      throw new Error(`ServiceWorkload ${name}: configStore belongs to "${args.configStore.service}". Fix: pass the ConfigStore of ${service.name}`);
    }
    if (args.configStore && args.secretValues) {
      throw new Error(`ServiceWorkload ${name}: secretValues are for the default configuration store, but configStore is given. Fix: pass the values to that ConfigStore`);
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

    const planned = plan.configStore ? serviceConfigOf(plan.configStore, service.name) : undefined;
    const store =
      args.configStore ??
      (planned && (planned.parameters.length > 0 || planned.secrets.length > 0)
        ? new ConfigStore(
            `${name}-config`,
            {
              config: planned,
              retain: plan.protection.retain,
              tags,
              ...(args.secretValues ? { secretValues: args.secretValues } : {}),
              ...(args.transform?.secret ? { transform: { secret: args.transform.secret } } : {}),
            },
            parent,
          )
        : undefined);
    if (store) this.configStore = store;

    // Every secret the pods read, by env var: the service's own and the session store's AUTH token.
    const secretArns: Record<string, pulumi.Input<string>> = { ...store?.secretArns };
    if (args.sessionStore) secretArns[PLATFORM_ENV.sessionStorePassword] = args.sessionStore.authTokenSecretArn;
    const secretKeys = Object.keys(secretArns);

    // The broker's resource policies admit only principals tagged as a declared publisher or subscriber.
    const roleArgs: aws.iam.RoleArgs = { assumeRolePolicy: assumeRolePolicy("pods.eks.amazonaws.com"), description: `Pods of ${service.name}`, tags: { ...tags, [SERVICE_TAG_KEY]: service.name } };
    args.transform?.role?.(roleArgs);
    const role = new aws.iam.Role(`${name}-role`, roleArgs, parent);
    // Events an event store forwards reach the broker through its stream, never from the service.
    const messagingPolicy = args.broker?.servicePolicyDocument(service.name, directPublishes(service));
    const documents = [
      ...(store ? [store.readPolicyDocument()] : []),
      ...(args.sessionStore ? [allowPolicyDocument([{ Sid: "ReadSessionToken", Action: [...SECRETS_STORE_READ_ACTIONS], Resource: [args.sessionStore.authTokenSecretArn] }])] : []),
      ...(messagingPolicy ? [messagingPolicy] : []),
    ];
    const policy = documents.length > 0 ? new aws.iam.RolePolicy(`${name}-policy`, { role: role.name, policy: mergePolicyDocuments(documents) }, parent) : undefined;
    const extraPolicies = Object.entries(args.policies ?? {}).map(([policyName, extra]) => new aws.iam.RolePolicy(`${name}-${policyName}`, { role: role.name, policy: extra }, parent));
    const podIdentity = new aws.eks.PodIdentityAssociation(`${name}-identity`, { clusterName: args.clusterName, namespace, serviceAccount: service.name, roleArn: role.arn, tags }, parent);

    const image =
      args.image !== undefined
        ? pulumi.output(args.image)
        : args.repositoryUrl && service.image.startsWith(`${service.repository}:`) ? pulumi.interpolate`${args.repositoryUrl}${service.image.slice(service.repository.length)}` : pulumi.output(service.image);
    const messaging = args.broker ? messagingEnv(plan, service, args.broker) : pulumi.output<Record<string, string>>({});
    const session = args.sessionStore;
    // The ConfigMap takes each value from its parameter, so the parameter store is the source.
    const env = pulumi.all({
      ...store?.parameterValues,
      ...(store ? { [PLATFORM_ENV.configParameterPath]: store.parameterPath } : {}),
      ...(session ? { [PLATFORM_ENV.sessionStoreEndpoint]: pulumi.interpolate`${session.endpoint}:${session.port}`, [PLATFORM_ENV.sessionStoreTls]: String(session.tls ?? true) } : {}),
      ...args.env,
    });
    const workloadService: ServicePlan = { ...service, secrets: secretKeys };
    const manifests = pulumi.all([image, env, messaging, pulumi.all(secretArns)]).apply(([resolvedImage, plainEnv, messagingNames, resolvedSecrets]) => {
      const resolvedEnv = { ...plainEnv, ...messagingNames };
      const stored: StoredSecret[] = Object.entries(resolvedSecrets).map(([key, secretArn]) => ({ key, secretArn }));
      const objects = [
        ...(stored.length > 0 ? [awsSecretProviderClass(plan, service, secretName, stored)] : []),
        ...serviceWorkload(plan, workloadService, {
          image: resolvedImage,
          ...(stored.length > 0 ? { secretName, secretProviderClass: secretName } : {}),
          ...(Object.keys(resolvedEnv).length > 0 ? { env: resolvedEnv } : {}),
        }),
        ...servicePolicies(plan, service),
      ];
      args.transform?.manifests?.(objects);
      return objects;
    });
    const workload = applyManifests(`${name}-workload`, manifests, {
      provider: args.provider,
      parent: this,
      // Pod Identity injects credentials only into pods created after the association exists; the CSI
      // mount and the first calls need the role's policies too.
      dependsOn: [...(args.dependsOn ?? []), podIdentity, ...(policy ? [policy] : []), ...extraPolicies],
    });

    const targetGroupArns = args.targetGroupArns ?? [];
    const binding =
      targetGroupArns.length > 0
        ? applyManifests(
            `${name}-binding`,
            pulumi.all([...targetGroupArns]).apply((arns) => [...arns.map((arn, i) => withSuffix(targetGroupBinding(plan, service, arn), i)), ...targetGroupAccess(plan, service)]),
            { provider: args.provider, parent: this, dependsOn: [workload] },
          )
        : undefined;

    this.roleArn = role.arn;
    this.nodes = { role, podIdentity, workload, ...(policy ? { policy } : {}), ...(binding ? { binding } : {}) };
    this.registerOutputs({ roleArn: this.roleArn });
  }
}

/** The variables naming the service's topics and queues, as the CDK engine sets them (`messagingEnvironment`). */
function messagingEnv(plan: LandingZonePlan, service: ServicePlan, broker: ServiceMessaging): pulumi.Output<Record<string, string>> {
  const busArn = broker.eventBus?.arn ?? pulumi.output(undefined);
  return pulumi.all([broker.topicArns, broker.queueArns, busArn]).apply(([topics, queues, bus]) =>
    // Events an event store forwards reach the broker through its stream, never from the service.
    messagingEnvironment(plan, service, { topic: (event) => topics[event]!, queue: (subscription) => queues[subscription] }, { publishes: directPublishes(service), ...(bus === undefined ? {} : { eventBusArn: bus }) }),
  );
}

/** Second and later bindings of one service get an index, so each target group has its own object. */
function withSuffix(manifest: ManifestObject, index: number): ManifestObject {
  return index === 0 ? manifest : { ...manifest, metadata: { ...manifest.metadata, name: `${manifest.metadata.name}-${index}` } };
}
