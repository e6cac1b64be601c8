import * as gcp from "@pulumi/gcp";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { deploymentRollerRbac } from "../../kubernetes/delivery.js";
import { appEngineAppYaml, appEngineSettingsDigest, type AppEngineVersionSettings } from "../../plan/app-engine-version.js";
import {
  APP_ENGINE_SUBSTITUTIONS,
  appEngineReleaseSteps,
  CLOUD_BUILD_ROLES,
  CLOUD_BUILD_SETTINGS,
  gkeRolloutSteps,
  gkeRolloutSubstitutions,
  INSTANCE_GROUP_SUBSTITUTIONS,
  instanceGroupReleaseSteps,
  substitutionsOf,
  type CloudBuildStepPlan,
} from "../../plan/cloud-build.js";
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
  /**
   * What the build deploys to.
   * @default "gke"
   */
  readonly kind?: "gke";
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

/** The one regional managed instance group whose VMs a release replaces (they read the release secret at boot). */
export interface ServiceDeliveryInstanceGroupArgs {
  readonly kind: "instance-group";
  /** Name of the regional managed instance group. */
  readonly instanceGroupManager: pulumi.Input<string>;
  readonly region: string;
  /** Zones the group spans: one VM per zone surges during a replace, none is taken out first. */
  readonly zoneCount: number;
  /**
   * Custom role holding `INSTANCE_GROUP_ROLLER_PERMISSIONS` (`projects/<p>/roles/<id>`); the account
   * gets it on the project with a condition naming only this group.
   */
  readonly rollerRole: pulumi.Input<string>;
}

/** The one App Engine flexible service a release deploys a version of, promotes, or rolls back. */
export interface ServiceDeliveryAppEngineArgs {
  readonly kind: "app-engine";
  /** The settings of the service's versions (`appEngineVersionSettings`), the same Pulumi's versions use. */
  readonly settings: pulumi.Input<AppEngineVersionSettings>;
  /** The service's runtime account (`projects/<p>/serviceAccounts/<email>`): the only account the build may act as. */
  readonly runtimeAccount: pulumi.Input<string>;
}

/** Where a release goes: a GKE Deployment, a managed instance group, or an App Engine service. */
export type ServiceDeliveryDeployArgs = ServiceDeliveryGkeArgs | ServiceDeliveryInstanceGroupArgs | ServiceDeliveryAppEngineArgs;

/** A release secret created by {@link ServiceDelivery}, with the image it starts from. */
export interface ServiceDeliveryNewReleaseArgs {
  readonly secretId: string;
  readonly initialImage: pulumi.Input<string>;
  /**
   * Protect the secret and keep it when the stack deletes it (prod): losing it would put the planned image back.
   * @default false
   */
  readonly retain?: boolean;
}

/** A release secret the service's own component created and reads (`createReleaseSecret`). */
export interface ServiceDeliveryExistingReleaseArgs {
  /** `projects/<p>/secrets/<id>`. */
  readonly secret: pulumi.Input<string>;
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
   * Secret Manager secret the release adds each released digest to: created here with `initialImage`
   * as its first version, or one the service's component created (`createReleaseSecret`; VMs read it at
   * boot). `releasedImage` reads its latest, so the infrastructure deploys what the pipeline released.
   */
  readonly release: ServiceDeliveryNewReleaseArgs | ServiceDeliveryExistingReleaseArgs;
  /** The one GKE Deployment, managed instance group or App Engine service the build releases to. */
  readonly deploy: ServiceDeliveryDeployArgs;
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
 * tests, the image build, a push to its own Artifact Registry repository and a release of the pushed
 * digest, as a service account of its own holding writer on that repository, log writer and version
 * adder on its release secret, and for the release exactly:
 * - GKE (`deploy.kind` "gke"): cluster viewer (credentials only) and, inside the cluster, an RBAC Role on its one Deployment;
 * - VMs ("instance-group"): a custom role with the group's get and update, conditioned on its one
 *   managed instance group's name, and reader of its release secret (a failed replace rolls back to the previous image);
 * - App Engine ("app-engine"): App Engine deployer and service admin (project-wide: App Engine has no
 *   narrower grant), service account user on only the service's runtime account, reader of its release secret.
 * In prod a person approves each build before it runs.
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
 * // On VMs, the InstanceGroupService (release: { secretId }) creates the secret its VMs read at boot:
 * new ServiceDelivery("payments", {
 *   ...common, release: { secret: payments.release!.secret },
 *   deploy: { kind: "instance-group", instanceGroupManager: payments.instanceGroupManagerName, region: "asia-northeast3", zoneCount: 3, rollerRole: migRoller.name },
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
    /** The release secret, when created here. */
    readonly releaseSecret?: gcp.secretmanager.Secret;
    readonly releaseWriter: gcp.secretmanager.SecretIamMember;
    /** Reads the previous release to roll back to (VMs, App Engine). */
    readonly releaseReader?: gcp.secretmanager.SecretIamMember;
    /** Acting as the App Engine service's runtime account. */
    readonly runtimeUser?: gcp.serviceaccount.IAMMember;
    readonly rbac?: pulumi.Resource;
  };

  constructor(name: string, args: ServiceDeliveryArgs, opts?: pulumi.ComponentResourceOptions) {
    if (!/^[a-z]([-a-z0-9]{4,28}[a-z0-9])$/.test(args.accountId)) throw new Error(`ServiceDelivery ${name}: accountId "${args.accountId}" is invalid. Fix: use 6-30 lowercase letters, digits and '-', starting with a letter`);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(args.triggerName)) throw new Error(`ServiceDelivery ${name}: triggerName "${args.triggerName}" is invalid. Fix: use 1-64 letters, digits, '-' and '_'`);
    const deploy = args.deploy;
    if (deploy.kind !== "instance-group" && deploy.kind !== "app-engine" && deploy.privateEndpoint && !args.workerPool) {
      throw new Error(`ServiceDelivery ${name}: deploy.privateEndpoint is true, but Cloud Build's default pool cannot reach a private endpoint. Fix: pass workerPool (a BuildWorkerPool in the cluster's VPC)`);
    }
    if (deploy.kind === "instance-group" && (!Number.isInteger(deploy.zoneCount) || deploy.zoneCount < 1)) {
      throw new Error(`ServiceDelivery ${name}: deploy.zoneCount ${deploy.zoneCount} is not a number of zones. Fix: pass the number of zones the group spans (1 or more)`);
    }
    super("msa:gcp:ServiceDelivery", name, {}, opts);
    const parent = { parent: this };
    const project = projectOf(this);
    const testCommand = args.testCommand ?? "docker build --target test .";

    const account = new gcp.serviceaccount.Account(`${name}-account`, { accountId: args.accountId, displayName: `Cloud Build of ${args.serviceName}`, description: `Builds ${args.source.owner}/${args.source.repository} and releases ${args.serviceName}` }, parent);
    const repositoryWriter = new gcp.artifactregistry.RepositoryIamMember(
      `${name}-push`,
      { location: args.repository.location, repository: args.repository.name, role: CLOUD_BUILD_ROLES.artifactWriter, member: account.member },
      parent,
    );
    const created = "secretId" in args.release ? createReleaseSecret(`${name}-release`, { serviceName: args.serviceName, secretId: args.release.secretId, initialImage: args.release.initialImage, ...(args.release.retain ? { retain: true } : {}) }, this) : undefined;
    const secret = created ? created.secret : pulumi.output((args.release as ServiceDeliveryExistingReleaseArgs).secret);
    const releaseWriter = new gcp.secretmanager.SecretIamMember(`${name}-release-writer`, { secretId: secret, role: CLOUD_BUILD_ROLES.releaseWriter, member: account.member }, parent);
    const releaseReader =
      deploy.kind === "instance-group" || deploy.kind === "app-engine"
        ? new gcp.secretmanager.SecretIamMember(`${name}-release-reader`, { secretId: secret, role: CLOUD_BUILD_ROLES.releaseReader, member: account.member }, parent)
        : undefined;
    this.releasedImage = created ? created.image : latestRelease(secret, this);

    const projectRole = (suffix: string, role: pulumi.Input<string>, condition?: gcp.types.input.projects.IAMMemberCondition) =>
      new gcp.projects.IAMMember(`${name}-${suffix}`, { project: project.id, role, member: account.member, ...(condition ? { condition } : {}) }, parent);
    const projectRoles = [projectRole("logs", CLOUD_BUILD_ROLES.logWriter)];
    let rbac: pulumi.Resource | undefined;
    let runtimeUser: gcp.serviceaccount.IAMMember | undefined;
    let release: { steps: pulumi.Input<CloudBuildStepPlan[]>; substitutions: pulumi.Input<Record<string, string>>; does: string };
    const secretId = secret.apply((id) => id.split("/").pop()!);
    if (deploy.kind === "instance-group") {
      projectRoles.push(projectRole("instance-group", deploy.rollerRole, instanceGroupCondition(project.id, deploy.region, deploy.instanceGroupManager, args.serviceName)));
      release = {
        steps: instanceGroupReleaseSteps({ testCommand, zoneCount: deploy.zoneCount }),
        substitutions: pulumi
          .all([args.image, secretId, deploy.instanceGroupManager])
          .apply(([image, release, group]) => substitutionsOf(INSTANCE_GROUP_SUBSTITUTIONS, { image, release, group, region: deploy.region })),
        does: "replace the VMs of its managed instance group",
      };
    } else if (deploy.kind === "app-engine") {
      // Unconfirmed: that `gcloud app deploy --image-url` stages nothing in Cloud Storage (no storage role is granted).
      projectRoles.push(projectRole("app-engine-deploy", CLOUD_BUILD_ROLES.appEngineDeployer), projectRole("app-engine-traffic", CLOUD_BUILD_ROLES.appEngineTraffic));
      runtimeUser = new gcp.serviceaccount.IAMMember(`${name}-runtime-user`, { serviceAccountId: deploy.runtimeAccount, role: CLOUD_BUILD_ROLES.runtimeUser, member: account.member }, parent);
      const settings = pulumi.output(deploy.settings);
      release = {
        steps: settings.apply((s) => appEngineReleaseSteps({ testCommand, appYaml: appEngineAppYaml(s), settingsDigest: appEngineSettingsDigest(s) })),
        substitutions: pulumi.all([args.image, secretId, settings]).apply(([image, release, s]) => substitutionsOf(APP_ENGINE_SUBSTITUTIONS, { image, release, service: s.service })),
        does: "deploy and promote a version of its App Engine service",
      };
    } else {
      projectRoles.push(projectRole("cluster", CLOUD_BUILD_ROLES.clusterCredentials));
      // GKE authenticates a Google service account as the user named by its email; this Role is all it may do in the cluster.
      rbac = deploy.rbac
        ? applyManifests(
            `${name}-rbac`,
            account.email.apply((email) => deploymentRollerRbac(args.serviceName, deploy, { kind: "User", name: email }, deploy.rbac?.labels)),
            { provider: deploy.rbac.provider, parent: this, dependsOn: deploy.rbac.dependsOn ?? [] },
          )
        : undefined;
      release = {
        steps: gkeRolloutSteps({ testCommand, privateEndpoint: deploy.privateEndpoint }),
        substitutions: pulumi
          .all([args.image, deploy.clusterName, secretId])
          .apply(([image, cluster, release]) =>
            gkeRolloutSubstitutions({ image, cluster, location: deploy.location, namespace: deploy.namespace, deployment: deploy.deployment, container: deploy.container ?? deploy.deployment, release }),
          ),
        does: `roll out Deployment ${deploy.namespace}/${deploy.deployment}`,
      };
    }

    const triggerArgs: gcp.cloudbuild.TriggerArgs = {
      name: args.triggerName,
      location: args.region,
      description: `Build, test, push and ${release.does} (${args.serviceName}) on each push to ${args.source.owner}/${args.source.repository}@${args.source.branch ?? "main"}`,
      github: { owner: args.source.owner, name: args.source.repository, push: { branch: `^${escapeRegex(args.source.branch ?? "main")}$` } },
      serviceAccount: account.id,
      approvalConfig: { approvalRequired: args.approval ?? false },
      substitutions: release.substitutions,
      ...(args.tags ? { tags: [...args.tags] } : {}),
      build: {
        steps: pulumi.output(release.steps).apply((steps) => steps.map(({ waitFors, ...step }) => ({ ...step, args: [...step.args], ...(waitFors.length > 0 ? { waitFors: [...waitFors] } : {}) }))),
        timeout: CLOUD_BUILD_SETTINGS.timeout,
        // A build running as a user-managed account must say where its logs go.
        options: { logging: "CLOUD_LOGGING_ONLY", substitutionOption: "MUST_MATCH", ...(args.workerPool ? { workerPool: args.workerPool } : {}) },
      },
    };
    args.transform?.trigger?.(triggerArgs);
    const grants = [repositoryWriter, releaseWriter, ...projectRoles, ...(releaseReader ? [releaseReader] : []), ...(runtimeUser ? [runtimeUser] : []), ...(rbac ? [rbac] : [])];
    const trigger = new gcp.cloudbuild.Trigger(`${name}-trigger`, triggerArgs, { parent: this, dependsOn: grants });

    this.email = account.email;
    this.member = account.member;
    this.triggerId = trigger.triggerId;
    this.nodes = {
      account,
      trigger,
      repositoryWriter,
      projectRoles,
      ...(created ? { releaseSecret: created.nodes.secret } : {}),
      releaseWriter,
      ...(releaseReader ? { releaseReader } : {}),
      ...(runtimeUser ? { runtimeUser } : {}),
      ...(rbac ? { rbac } : {}),
    };
    this.registerOutputs({ email: this.email, triggerId: this.triggerId });
  }
}

/** Arguments of {@link createReleaseSecret}. */
export interface ReleaseSecretArgs {
  /** Service (or BFF) name, in the secret's label and annotation. */
  readonly serviceName: string;
  /** Secret id (1-255 letters, digits, '-' and '_'). */
  readonly secretId: string;
  /** The first version, until a pipeline adds others. */
  readonly initialImage: pulumi.Input<string>;
  /**
   * Labels on the secret.
   * @default - only `service`
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Protect the secret and keep it when the stack deletes it (prod): losing it would put the planned image back.
   * @default false
   */
  readonly retain?: boolean;
}

/** A release secret, its first version and the image released last. */
export interface ReleaseSecret {
  /** `projects/<p>/secrets/<id>`. */
  readonly secret: pulumi.Output<string>;
  /** The latest version: the image released last. */
  readonly image: pulumi.Output<string>;
  readonly nodes: { readonly secret: gcp.secretmanager.Secret; readonly firstVersion: gcp.secretmanager.SecretVersion };
}

/**
 * The Secret Manager secret (named `name`, a child of `parent`) whose latest version is a service's
 * released image: Pulumi writes only the first version, its pipeline adds the others, and `image`
 * reads the latest, so `pulumi up` deploys what the pipeline released. VMs read it at boot.
 *
 * Cost: Secret Manager bills per active secret version and per access.
 *
 * @example
 * const release = createReleaseSecret("orders-release", { serviceName: "orders", secretId: "shop-prod-orders-release", initialImage: image }, component);
 */
export function createReleaseSecret(name: string, args: ReleaseSecretArgs, parent: pulumi.Resource): ReleaseSecret {
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(args.secretId)) throw new Error(`${name}: release secretId "${args.secretId}" is invalid. Fix: use 1-255 letters, digits, '-' and '_'`);
  const secret = new gcp.secretmanager.Secret(
    name,
    { secretId: args.secretId, replication: { auto: {} }, labels: { ...args.labels, service: args.serviceName }, annotations: { purpose: `image of ${args.serviceName} released by its pipeline` } },
    { parent, ...(args.retain ? { protect: true, retainOnDelete: true } : {}) },
  );
  // The pipeline owns later versions; Pulumi writes only the first.
  const firstVersion = new gcp.secretmanager.SecretVersion(name, { secret: secret.id, secretData: pulumi.secret(args.initialImage) }, { parent, ignoreChanges: ["secretData"] });
  return { secret: secret.id, image: latestRelease(secret.id, parent, [firstVersion]), nodes: { secret, firstVersion } };
}

/**
 * The condition narrowing a project grant of the instance group roller role to one group: Compute has no IAM
 * policy on a managed instance group, so Cloud Build's and GitHub's release accounts hold it by name.
 * Unconfirmed: that regional groups honour resource.name conditions, and that the patch (it re-sends the group's template) checks nothing on the template or the VMs' account.
 */
export function instanceGroupCondition(project: pulumi.Input<string>, region: string, group: pulumi.Input<string>, serviceName: string): gcp.types.input.projects.IAMMemberCondition {
  const resourceName = pulumi.interpolate`projects/${project}/regions/${region}/instanceGroupManagers/${group}`;
  return {
    title: `replace-${serviceName}`.slice(0, 100),
    description: `Only the managed instance group of ${serviceName}`,
    expression: pulumi.interpolate`resource.name == "${resourceName}"`,
  };
}

/** The latest version of a release secret. An image reference is not sensitive, and a secret would hide the workload's whole diff. */
export function latestRelease(secret: pulumi.Input<string>, parent: pulumi.Resource, dependsOn: pulumi.Resource[] = []): pulumi.Output<string> {
  return pulumi.unsecret(gcp.secretmanager.getSecretVersionOutput({ secret }, { parent, dependsOn }).secretData);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
