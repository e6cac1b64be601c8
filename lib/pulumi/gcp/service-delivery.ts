import * as gcp from "@pulumi/gcp";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { deploymentRollerRbac } from "../../kubernetes/delivery.js";
import { CLOUD_BUILD_ROLES, CLOUD_BUILD_SETTINGS, gkeRolloutSteps, gkeRolloutSubstitutions } from "../../plan/cloud-build.js";
import { applyManifests } from "../kubernetes/add-on.js";
import { projectOf } from "./project.js";

/** The GitHub repository whose pushes start the build (the Cloud Build GitHub App must be installed on it). */
export interface ServiceDeliverySourceArgs {
  readonly owner: string;
  readonly repository: string;
  /**
   * Branch whose pushes are built and deployed.
   * @default "main"
   */
  readonly branch?: string;
}

/** The one Deployment the build rolls, and the cluster it runs in. */
export interface ServiceDeliveryGkeArgs {
  readonly clusterName: pulumi.Input<string>;
  /** Region (or zone) of the cluster. */
  readonly location: string;
  /** The cluster's endpoint is private: the build asks for its internal address (run it in a `BuildWorkerPool`). */
  readonly privateEndpoint: boolean;
  readonly namespace: string;
  readonly deployment: string;
  /**
   * Container running the service's image.
   * @default - the deployment name
   */
  readonly container?: string;
  /**
   * Provider of the cluster: the Role on the Deployment and its binding to the build account are applied with it.
   * @default - not applied: bind the account's email yourself (`deploymentRollerRbac`)
   */
  readonly rbac?: { readonly provider: k8s.Provider; readonly labels?: Readonly<Record<string, string>>; readonly dependsOn?: pulumi.Input<pulumi.Resource>[] };
}

/** Arguments of {@link ServiceDelivery}. */
export interface ServiceDeliveryArgs {
  /** Service (or BFF) name, used in descriptions and the RBAC objects. */
  readonly serviceName: string;
  /** Id of the build's own service account (6-30 lowercase letters, digits and '-'). */
  readonly accountId: string;
  /** Trigger name (1-64 letters, digits, '-' and '_'). */
  readonly triggerName: string;
  /** Region of the trigger (a private pool's region). */
  readonly region: string;
  /** The GitHub repository and branch whose pushes start the trigger. */
  readonly source: ServiceDeliverySourceArgs;
  /** The service's Artifact Registry repository: the only one the account may write. */
  readonly repository: { readonly name: pulumi.Input<string>; readonly location: string };
  /** Image the build pushes, `<region>-docker.pkg.dev/<project>/<repository>/<image>` (no tag). */
  readonly image: pulumi.Input<string>;
  /**
   * Secret Manager secret the rollout adds each released digest to, created here with `initialImage`
   * as its first version; `releasedImage` reads its latest, so the infrastructure deploys what the
   * pipeline released.
   */
  readonly release: { readonly secretId: string; readonly initialImage: pulumi.Input<string> };
  /** The one GKE Deployment the build rolls out, and the cluster it runs on. */
  readonly deploy: ServiceDeliveryGkeArgs;
  /**
   * A person approves each build before it runs (prod).
   * @default false
   */
  readonly approval?: boolean;
  /**
   * Command of the step that runs the unit tests.
   * @default "docker build --target test ."
   */
  readonly testCommand?: string;
  /**
   * Private pool the build runs in (`BuildWorkerPool.id`); required with a private cluster endpoint.
   * @default - Cloud Build's default pool
   */
  readonly workerPool?: pulumi.Input<string>;
  /**
   * Tags on the trigger (for filtering builds).
   * @default - none
   */
  readonly tags?: readonly string[];
  /**
   * Escape hatch: patches the trigger's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: { readonly trigger?: (args: gcp.cloudbuild.TriggerArgs) => void };
}

/**
 * A service's delivery on Cloud Build: a trigger on pushes to its GitHub repository running unit
 * tests, the image build, a push to its own Artifact Registry repository and a rollout of its one
 * GKE Deployment to the pushed digest, as a service account of its own holding exactly: writer on
 * that repository, log writer, cluster viewer (credentials only), version adder on its release
 * secret and, inside the cluster, an RBAC Role on that one Deployment. In prod a person approves each build before it runs.
 *
 * Cost: Cloud Build bills per build minute (the default pool has a free tier; a private pool has none).
 *
 * @example
 * const delivery = new ServiceDelivery("orders", {
 *   serviceName: "orders", accountId: "shop-orders-cd", triggerName: "shop-prod-orders-build", region: "asia-northeast3",
 *   source: { owner: "acme", repository: "orders" },
 *   repository: { name: registry.repositoryNames["shop-orders"], location: "asia-northeast3" },
 *   image: pulumi.interpolate`${registry.repositoryUrls["shop-orders"]}/shop-orders`,
 *   release: { secretId: "shop-prod-orders-release", initialImage: pulumi.interpolate`${registry.repositoryUrls["shop-orders"]}/shop-orders:latest` },
 *   deploy: { clusterName: platform.clusterName, location: "asia-northeast3", privateEndpoint: true, namespace: "shop", deployment: "orders", rbac: { provider: platform.provider } },
 *   workerPool: pool.id, approval: true,
 * });
 */
export class ServiceDelivery extends pulumi.ComponentResource {
  /** The build's service account. */
  readonly email: pulumi.Output<string>;
  /** The image the pipeline released last (the release secret's latest version); deploy the Deployment with it. */
  readonly releasedImage: pulumi.Output<string>;
  readonly member: pulumi.Output<string>;
  readonly triggerId: pulumi.Output<string>;
  readonly nodes: {
    readonly account: gcp.serviceaccount.Account;
    readonly trigger: gcp.cloudbuild.Trigger;
    readonly repositoryWriter: gcp.artifactregistry.RepositoryIamMember;
    readonly projectRoles: readonly gcp.projects.IAMMember[];
    readonly releaseSecret: gcp.secretmanager.Secret;
    readonly releaseWriter: gcp.secretmanager.SecretIamMember;
    readonly rbac?: pulumi.Resource;
  };

  constructor(name: string, args: ServiceDeliveryArgs, opts?: pulumi.ComponentResourceOptions) {
    if (!/^[a-z]([-a-z0-9]{4,28}[a-z0-9])$/.test(args.accountId)) throw new Error(`ServiceDelivery ${name}: accountId "${args.accountId}" is invalid. Fix: use 6-30 lowercase letters, digits and '-', starting with a letter`);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(args.triggerName)) throw new Error(`ServiceDelivery ${name}: triggerName "${args.triggerName}" is invalid. Fix: use 1-64 letters, digits, '-' and '_'`);
    if (args.deploy.privateEndpoint && !args.workerPool) {
      throw new Error(`ServiceDelivery ${name}: deploy.privateEndpoint is true, but Cloud Build's default pool cannot reach a private endpoint. Fix: pass workerPool (a BuildWorkerPool in the cluster's VPC)`);
    }
    super("msa:gcp:ServiceDelivery", name, {}, opts);
    const parent = { parent: this };
    const project = projectOf(this);
    const deploy = args.deploy;

    const account = new gcp.serviceaccount.Account(`${name}-account`, { accountId: args.accountId, displayName: `Cloud Build of ${args.serviceName}`, description: `Builds ${args.source.owner}/${args.source.repository} and rolls Deployment ${deploy.namespace}/${deploy.deployment}` }, parent);
    const repositoryWriter = new gcp.artifactregistry.RepositoryIamMember(
      `${name}-push`,
      { location: args.repository.location, repository: args.repository.name, role: CLOUD_BUILD_ROLES.artifactWriter, member: account.member },
      parent,
    );
    const releaseSecret = new gcp.secretmanager.Secret(
      `${name}-release`,
      { secretId: args.release.secretId, replication: { auto: {} }, labels: { service: args.serviceName }, annotations: { purpose: `image of ${args.serviceName} released by its pipeline` } },
      parent,
    );
    // The pipeline owns later versions; Pulumi writes only the first.
    const firstRelease = new gcp.secretmanager.SecretVersion(`${name}-release`, { secret: releaseSecret.id, secretData: pulumi.secret(args.release.initialImage) }, { parent: this, ignoreChanges: ["secretData"] });
    const releaseWriter = new gcp.secretmanager.SecretIamMember(`${name}-release-writer`, { secretId: releaseSecret.id, role: CLOUD_BUILD_ROLES.releaseWriter, member: account.member }, parent);
    // An image reference is not sensitive, and a secret would hide the Deployment's whole diff.
    this.releasedImage = pulumi.unsecret(gcp.secretmanager.getSecretVersionOutput({ secret: releaseSecret.id }, { parent: this, dependsOn: [firstRelease] }).secretData);
    const projectRoles = [
      new gcp.projects.IAMMember(`${name}-logs`, { project: project.id, role: CLOUD_BUILD_ROLES.logWriter, member: account.member }, parent),
      new gcp.projects.IAMMember(`${name}-cluster`, { project: project.id, role: CLOUD_BUILD_ROLES.clusterCredentials, member: account.member }, parent),
    ];
    // GKE authenticates a Google service account as the user named by its email; this Role is all it may do in the cluster.
    const rbac = deploy.rbac
      ? applyManifests(
          `${name}-rbac`,
          account.email.apply((email) => deploymentRollerRbac(args.serviceName, deploy, { kind: "User", name: email }, deploy.rbac?.labels)),
          { provider: deploy.rbac.provider, parent: this, dependsOn: deploy.rbac.dependsOn ?? [] },
        )
      : undefined;

    const substitutions = pulumi
      .all([args.image, deploy.clusterName, releaseSecret.secretId])
      .apply(([image, cluster, release]) =>
        gkeRolloutSubstitutions({ image, cluster, location: deploy.location, namespace: deploy.namespace, deployment: deploy.deployment, container: deploy.container ?? deploy.deployment, release }),
      );
    const triggerArgs: gcp.cloudbuild.TriggerArgs = {
      name: args.triggerName,
      location: args.region,
      description: `Build, test, push and roll out ${args.serviceName} on each push to ${args.source.owner}/${args.source.repository}@${args.source.branch ?? "main"}`,
      github: { owner: args.source.owner, name: args.source.repository, push: { branch: `^${escapeRegex(args.source.branch ?? "main")}$` } },
      serviceAccount: account.id,
      approvalConfig: { approvalRequired: args.approval ?? false },
      substitutions,
      ...(args.tags ? { tags: [...args.tags] } : {}),
      build: {
        steps: gkeRolloutSteps({ testCommand: args.testCommand ?? "docker build --target test .", privateEndpoint: deploy.privateEndpoint }).map(({ waitFors, ...step }) => ({ ...step, args: [...step.args], ...(waitFors.length > 0 ? { waitFors: [...waitFors] } : {}) })),
        timeout: CLOUD_BUILD_SETTINGS.timeout,
        // A build running as a user-managed account must say where its logs go.
        options: { logging: "CLOUD_LOGGING_ONLY", substitutionOption: "MUST_MATCH", ...(args.workerPool ? { workerPool: args.workerPool } : {}) },
      },
    };
    args.transform?.trigger?.(triggerArgs);
    const trigger = new gcp.cloudbuild.Trigger(`${name}-trigger`, triggerArgs, { parent: this, dependsOn: [repositoryWriter, releaseWriter, ...projectRoles, ...(rbac ? [rbac] : [])] });

    this.email = account.email;
    this.member = account.member;
    this.triggerId = trigger.triggerId;
    this.nodes = { account, trigger, repositoryWriter, projectRoles, releaseSecret, releaseWriter, ...(rbac ? { rbac } : {}) };
    this.registerOutputs({ email: this.email, triggerId: this.triggerId });
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
