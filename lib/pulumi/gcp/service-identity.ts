import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { gcpServiceAccountId } from "../../plan/gcp.js";
import type { LandingZonePlan, ServicePlan } from "../../plan/types.js";
import { projectOf } from "./project.js";

/** Role that reads a secret's versions, granted per secret. */
export const SECRET_ACCESSOR_ROLE = "roles/secretmanager.secretAccessor";

/** What a service may do on the event bus: publish to its events' topics, consume its own subscriptions. */
export interface PubSubGrants {
  readonly publish: readonly { readonly event: string; readonly topicId: pulumi.Input<string> }[];
  readonly consume: readonly { readonly subscription: string; readonly subscriptionId: pulumi.Input<string> }[];
}

/** A project-level role, narrowed to one resource by an IAM condition where the service supports it. */
export interface ProjectRoleGrant {
  readonly role: string;
  readonly condition?: { readonly title: string; readonly expression: pulumi.Input<string> };
}

/**
 * What a service receives from something it owns or uses (its database, event store, read model):
 * environment, conditioned project roles, secrets by environment variable and IAM database users.
 */
export interface ServiceAttachment {
  readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
  readonly projectRoles?: readonly ProjectRoleGrant[];
  /** Secret Manager secrets the service may read, by environment variable, with their values (synced into the GKE Secret) and the version holding the value (what reads it at start waits for it). */
  readonly secrets?: Readonly<Record<string, { readonly secretId: pulumi.Input<string>; readonly value: pulumi.Input<string>; readonly version: pulumi.Resource }>>;
  /** Cloud SQL IAM users created for the service's account. */
  readonly sqlUsers?: readonly { readonly instance: pulumi.Input<string>; readonly name: pulumi.Input<string> }[];
}

/** Arguments of {@link ServiceIdentity}. */
export interface ServiceIdentityArgs {
  /** The landing-zone plan. */
  readonly plan: LandingZonePlan;
  /** Name of the service or BFF in `plan.services`. */
  readonly service: string;
  /**
   * Values of the service's declared `secrets`, by key (e.g. from `pulumi config set --secret`).
   * @default - a generated 32-character value per secret, rotated by replacing its RandomPassword
   */
  readonly secretValues?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Landing-zone secrets the service may read, by environment variable, as Secret Manager secret ids (e.g. the session store's AUTH string).
   * @default - none
   */
  readonly sharedSecrets?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Pub/Sub topics and subscriptions the service publishes to and consumes (`MessageBroker.grantsFor`).
   * @default - no messaging permission
   */
  readonly pubsub?: PubSubGrants;
  /**
   * Artifact Registry repository (full name) the service's VMs or App Engine instances pull their image from.
   * @default - no registry permission (GKE nodes pull with their own account)
   */
  readonly repository?: { readonly name: pulumi.Input<string>; readonly location: string };
  /**
   * Project roles for the service, each optionally narrowed by a condition (log and metric writers on VMs, Cloud SQL client on its own instance).
   * @default - none
   */
  readonly projectRoles?: readonly ProjectRoleGrant[];
  /**
   * Cloud SQL IAM database users to create for this account (they need the account to exist).
   * @default - none
   */
  readonly sqlUsers?: ServiceAttachment["sqlUsers"];
  /**
   * The Kubernetes ServiceAccount that impersonates this identity through Workload Identity (GKE).
   * @default - none
   */
  readonly workloadIdentity?: { readonly workloadPool: pulumi.Input<string>; readonly namespace: string; readonly serviceAccount: string };
  /**
   * Protect the secrets and turn on their deletion protection (prod).
   * @default plan.protection.retain
   */
  readonly retain?: boolean;
  /**
   * Labels on the secrets.
   * @default - none
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly account?: (args: gcp.serviceaccount.AccountArgs) => void;
    readonly secret?: (args: gcp.secretmanager.SecretArgs, key: string) => void;
  };
}

/**
 * The cloud identity of one service, the same in every service model: a service account holding
 * only what the service needs. Each declared secret becomes its own Secret Manager secret (value
 * generated unless given, kept as a Pulumi secret) that only this account may read; it may read the
 * shared secrets it is given, publish to its events' topics, consume its own subscriptions, pull its
 * own image, and be impersonated by its own Kubernetes ServiceAccount.
 *
 * @example
 * const identity = new ServiceIdentity("orders", { plan, service: "orders", pubsub: broker.grantsFor("orders") });
 * export const ordersAccount = identity.email;
 */
export class ServiceIdentity extends pulumi.ComponentResource {
  readonly email: pulumi.Output<string>;
  /** `serviceAccount:<email>`. */
  readonly member: pulumi.Output<string>;
  /** Secret Manager secret ids by environment variable: the declared secrets, then the shared ones. */
  readonly secretIds: Readonly<Record<string, pulumi.Output<string>>>;
  /** Values of the declared secrets by key, as a Pulumi secret (for syncing into a Kubernetes Secret). */
  readonly secretValues: pulumi.Output<Record<string, string>>;
  readonly nodes: {
    readonly account: gcp.serviceaccount.Account;
    readonly secrets: Readonly<Record<string, gcp.secretmanager.Secret>>;
    /** The versions holding the declared secrets' values: what reads them at start waits for them. */
    readonly secretVersions: readonly gcp.secretmanager.SecretVersion[];
    readonly bindings: readonly pulumi.CustomResource[];
  };

  constructor(name: string, args: ServiceIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    const service = findService(args.plan, args.service, "ServiceIdentity");
    const unknown = Object.keys(args.secretValues ?? {}).filter((key) => !service.secrets.includes(key));
    if (unknown.length > 0) {
      throw new Error(`ServiceIdentity ${name}: secretValues has ${unknown.join(", ")}, which services[${service.name}].secrets does not declare. Fix: declare them in the spec or drop them`);
    }
    const clash = Object.keys(args.sharedSecrets ?? {}).find((key) => service.secrets.includes(key));
    if (clash) throw new Error(`ServiceIdentity ${name}: sharedSecrets.${clash} is also a declared secret of ${service.name}. Fix: rename one of them`);
    super("msa:gcp:ServiceIdentity", name, {}, opts);
    const parent = { parent: this };
    const { plan } = args;
    const retain = args.retain ?? plan.protection.retain;
    const project = projectOf(this);

    const accountArgs: gcp.serviceaccount.AccountArgs = {
      accountId: gcpServiceAccountId(plan.name, service.name),
      displayName: `${service.name} (${plan.name})`,
      description: `Identity of the ${service.kind} ${service.name}; holds only its own grants`,
    };
    args.transform?.account?.(accountArgs);
    const account = new gcp.serviceaccount.Account(`${name}-account`, accountArgs, parent);
    const member = account.member;
    const bindings: pulumi.CustomResource[] = [];

    const secrets: Record<string, gcp.secretmanager.Secret> = {};
    const secretVersions: gcp.secretmanager.SecretVersion[] = [];
    const values: Record<string, pulumi.Output<string>> = {};
    for (const key of service.secrets) {
      const suffix = key.toLowerCase().replace(/_/g, "-");
      const given = args.secretValues?.[key];
      values[key] = given !== undefined ? pulumi.secret(given) : new random.RandomPassword(`${name}-${suffix}`, { length: 32, special: false }, parent).result;
      const secretArgs: gcp.secretmanager.SecretArgs = {
        secretId: `${plan.name}-${service.name}-${key}`,
        replication: { auto: {} },
        deletionProtection: retain,
        labels: { ...args.labels, service: service.name },
      };
      args.transform?.secret?.(secretArgs, key);
      const secret = new gcp.secretmanager.Secret(`${name}-${suffix}`, secretArgs, { parent: this, protect: retain, retainOnDelete: retain });
      secretVersions.push(new gcp.secretmanager.SecretVersion(`${name}-${suffix}`, { secret: secret.id, secretData: values[key] }, parent));
      bindings.push(new gcp.secretmanager.SecretIamMember(`${name}-${suffix}-access`, { secretId: secret.id, role: SECRET_ACCESSOR_ROLE, member }, parent));
      secrets[key] = secret;
    }
    for (const [key, secretId] of Object.entries(args.sharedSecrets ?? {})) {
      bindings.push(new gcp.secretmanager.SecretIamMember(`${name}-${key.toLowerCase().replace(/_/g, "-")}-access`, { secretId, role: SECRET_ACCESSOR_ROLE, member }, parent));
    }

    for (const { event, topicId } of args.pubsub?.publish ?? []) {
      bindings.push(new gcp.pubsub.TopicIAMMember(`${name}-publish-${event}`, { topic: topicId, role: "roles/pubsub.publisher", member }, parent));
    }
    for (const { subscription, subscriptionId } of args.pubsub?.consume ?? []) {
      bindings.push(new gcp.pubsub.SubscriptionIAMMember(`${name}-consume-${subscription.replace(/_/g, "-")}`, { subscription: subscriptionId, role: "roles/pubsub.subscriber", member }, parent));
    }
    if (args.repository) {
      bindings.push(
        new gcp.artifactregistry.RepositoryIamMember(`${name}-image-pull`, { repository: args.repository.name, location: args.repository.location, role: "roles/artifactregistry.reader", member }, parent),
      );
    }
    (args.projectRoles ?? []).forEach((grant) => {
      const suffix = grant.role.replace(/^roles\//, "").replace(/[^a-zA-Z0-9]+/g, "-").toLowerCase();
      bindings.push(new gcp.projects.IAMMember(`${name}-${suffix}`, { project: project.id, role: grant.role, member, ...(grant.condition ? { condition: grant.condition } : {}) }, parent));
    });
    (args.sqlUsers ?? []).forEach((user, i) =>
      bindings.push(new gcp.sql.User(`${name}-database-user-${i}`, { instance: user.instance, name: user.name, type: "CLOUD_IAM_SERVICE_ACCOUNT" }, { parent: this, dependsOn: [account] })),
    );
    if (args.workloadIdentity) {
      const { workloadPool, namespace, serviceAccount } = args.workloadIdentity;
      bindings.push(
        new gcp.serviceaccount.IAMMember(
          `${name}-workload-identity`,
          { serviceAccountId: account.name, role: "roles/iam.workloadIdentityUser", member: pulumi.interpolate`serviceAccount:${workloadPool}[${namespace}/${serviceAccount}]` },
          parent,
        ),
      );
    }

    this.email = account.email;
    this.member = member;
    this.secretIds = {
      ...Object.fromEntries(Object.entries(secrets).map(([key, secret]) => [key, secret.id])),
      ...Object.fromEntries(Object.entries(args.sharedSecrets ?? {}).map(([key, id]) => [key, pulumi.output(id)])),
    };
    this.secretValues = pulumi.secret(pulumi.all(values));
    this.nodes = { account, secrets, secretVersions, bindings };
    this.registerOutputs({ email: this.email });
  }
}

/** The plan's entry for `service`, or an error naming the component and the services it knows. */
export function findService(plan: LandingZonePlan, service: string, component: string): ServicePlan {
  const found = plan.services.find((s) => s.name === service);
  if (!found) throw new Error(`${component}: service "${service}" is not in plan.services (${plan.services.map((s) => s.name).join(", ")}). Fix: pass one of those names`);
  return found;
}

/** Several attachments as one: environments merged in order, roles, secrets and users concatenated; a variable given twice is an error. */
export function mergeAttachments(attachments: readonly ServiceAttachment[], component: string): Required<ServiceAttachment> {
  const env: Record<string, pulumi.Input<string>> = {};
  const secrets: Record<string, { secretId: pulumi.Input<string>; value: pulumi.Input<string>; version: pulumi.Resource }> = {};
  const claim = (key: string) => {
    if (key in env || key in secrets) throw new Error(`${component}: two attachments set ${key}. Fix: give each attachment its own variable names`);
  };
  for (const attachment of attachments) {
    for (const [key, value] of Object.entries(attachment.env ?? {})) {
      claim(key);
      env[key] = value;
    }
    for (const [key, secret] of Object.entries(attachment.secrets ?? {})) {
      claim(key);
      secrets[key] = secret;
    }
  }
  return {
    env,
    secrets,
    projectRoles: attachments.flatMap((a) => a.projectRoles ?? []),
    sqlUsers: attachments.flatMap((a) => a.sqlUsers ?? []),
  };
}
