import * as gcp from "@pulumi/gcp";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { deploymentRollerRbac } from "../../kubernetes/delivery.js";
import { appEngineReleaseFile, type AppEngineVersionSettings } from "../../plan/app-engine-version.js";
import { GCP_GITHUB_ROLES } from "../../plan/gcp-github-delivery.js";
import { applyManifests } from "../kubernetes/add-on.js";
import { githubSubjectMember } from "./github-federation.js";
import { createReleaseSecret, instanceGroupCondition, latestRelease, type ServiceDeliveryExistingReleaseArgs, type ServiceDeliveryNewReleaseArgs } from "./service-delivery.js";
import { projectOf } from "./project.js";

/** The one GKE Deployment the deploy job rolls. */
export interface GitHubServiceDeliveryTargetArgs {
  /**
   * A GKE Deployment.
   * @default "gke"
   */
  readonly kind?: "gke";
  readonly namespace: string;
  readonly deployment: string;
  /**
   * Provider of the cluster: the Role on the Deployment and its binding to the deploy account are applied with it.
   * @default - not applied: bind the deploy account's email yourself (`deploymentRollerRbac`)
   */
  readonly rbac?: { readonly provider: k8s.Provider; readonly labels?: Readonly<Record<string, string>>; readonly dependsOn?: pulumi.Input<pulumi.Resource>[] };
}

/** The one regional managed instance group whose VMs the deploy job replaces (they read the release secret at boot). */
export interface GitHubServiceDeliveryInstanceGroupArgs {
  readonly kind: "instance-group";
  /** Name of the group: planned (`instanceGroupManagerName`), since the workflow names it. */
  readonly instanceGroupManager: pulumi.Input<string>;
  readonly region: string;
}

/** The one App Engine service the deploy job deploys and promotes, from the app.yaml stored here. */
export interface GitHubServiceDeliveryAppEngineArgs {
  readonly kind: "app-engine";
  /** The settings of the service's versions (`AppEngineService.versionSettings`): stored as the app.yaml the deploy job releases with. */
  readonly settings: pulumi.Input<AppEngineVersionSettings>;
  /** The runtime account the versions run as (`projects/<p>/serviceAccounts/<email>`): the only account the deploy account may act as. */
  readonly runtimeAccount: pulumi.Input<string>;
  /** Id of the Secret Manager secret holding the app.yaml: planned (`appYamlSecretName`), since the workflow names it. */
  readonly appYamlSecretId: string;
}

/** Arguments of {@link GitHubServiceDelivery}. */
export interface GitHubServiceDeliveryArgs {
  /** Service (or BFF) name, used in descriptions and the RBAC objects. */
  readonly serviceName: string;
  /** Workload Identity Federation pool the workflows sign in through (`GitHubFederation.poolName`, `projects/<n>/locations/global/workloadIdentityPools/<id>`). */
  readonly workloadIdentityPoolName: pulumi.Input<string>;
  /** The publish account: its id (6-30 characters) and the one OIDC subject that may act as it, e.g. `repo:acme/orders:ref:refs/heads/main`. */
  readonly publish: { readonly accountId: string; readonly subject: string };
  /** The deploy account: its id and its one subject, e.g. `repo:acme/orders:environment:prod` (the environment's reviewers approve). */
  readonly deploy: { readonly accountId: string; readonly subject: string };
  /** The service's Artifact Registry repository: the only one the publish account may write. */
  readonly repository: { readonly name: pulumi.Input<string>; readonly location: string };
  /**
   * Project custom role held by the deploy account: exactly `GKE_DEPLOYER_PERMISSIONS` for a Deployment, or
   * `INSTANCE_GROUP_ROLLER_PERMISSIONS` for VMs, then conditioned on the one group's name (`projects/<p>/roles/<id>`).
   * Required for a Deployment or VMs.
   * @default - none: App Engine takes predefined roles
   */
  readonly deployerRole?: pulumi.Input<string>;
  /**
   * The release secret (its latest version is the released image, which the deploy job adds to): created here
   * with the image it starts from, or the one the VMs' component created and reads at boot.
   */
  readonly release: ServiceDeliveryNewReleaseArgs | ServiceDeliveryExistingReleaseArgs;
  /** The one Deployment the deploy account may roll, the one managed instance group whose VMs it may replace, or the one App Engine service it may deploy. */
  readonly target: GitHubServiceDeliveryTargetArgs | GitHubServiceDeliveryInstanceGroupArgs | GitHubServiceDeliveryAppEngineArgs;
}

/**
 * A service's delivery from GitHub Actions onto GKE or VMs, with no key: a publish account that may only write
 * the service's own Artifact Registry repository, impersonable (`roles/iam.workloadIdentityUser`) only by
 * the workflow of its repository's branch, and a deploy account impersonable only from the repository's
 * GitHub environment, holding the deployer custom role (cluster get, credentials, and connect through the
 * DNS endpoint), version adder on its own release secret, and inside the cluster an RBAC Role on its one
 * Deployment bound to its email. On VMs (`target.kind` "instance-group") the deploy account instead holds,
 * as Cloud Build's account does, the instance group roller role conditioned on its one group's name, and
 * version adder and reader on the release secret (a failed replace rolls back to the previous image).
 * On App Engine (`target.kind` "app-engine") it holds exactly what Cloud Build's account holds there: App Engine
 * deployer and service admin (project-wide: App Engine has no per-service IAM), service account user on the
 * runtime account only, version adder and reader on the release secret, and reads the one secret created here
 * holding the app.yaml (`appEngineReleaseFile` of `settings`), rewritten whenever the settings change.
 * No cost beyond the secrets (Secret Manager bills per version).
 *
 * @example
 * const orders = new GitHubServiceDelivery("orders-github", {
 *   serviceName: "orders", workloadIdentityPoolName: federation.poolName,
 *   publish: { accountId: "shop-orders-pub", subject: "repo:acme/orders:ref:refs/heads/main" },
 *   deploy: { accountId: "shop-orders-dep", subject: "repo:acme/orders:environment:prod" },
 *   repository: { name: registry.repositoryNames["shop-orders"], location: "asia-northeast3" },
 *   deployerRole: deployerRole.name,
 *   release: { secretId: "shop-prod-orders-release", initialImage: image, retain: true },
 *   target: { namespace: "shop", deployment: "orders", rbac: { provider: platform.provider } },
 * });
 * // On VMs, the InstanceGroupService (release: { secretId }, instanceGroupManagerName) creates the secret its VMs read at boot:
 * new GitHubServiceDelivery("payments-github", {
 *   ...common, deployerRole: migRoller.name, release: { secret: payments.release!.secret },
 *   target: { kind: "instance-group", instanceGroupManager: "shop-prod-payments-vms", region: "asia-northeast3" },
 * });
 * // On App Engine, the AppEngineService creates the release secret and gives the settings and runtime account:
 * new GitHubServiceDelivery("orders-github", {
 *   ...common, release: { secret: orders.release!.secret },
 *   target: { kind: "app-engine", settings: orders.versionSettings, runtimeAccount: orders.identity.nodes.account.name, appYamlSecretId: "shop-prod-orders-appyaml" },
 * });
 */
export class GitHubServiceDelivery extends pulumi.ComponentResource {
  readonly publishEmail: pulumi.Output<string>;
  readonly deployEmail: pulumi.Output<string>;
  /** The image the deploy job released last; deploy the Deployment with it (VMs read it themselves). */
  readonly releasedImage: pulumi.Output<string>;
  readonly nodes: {
    readonly publishAccount: gcp.serviceaccount.Account;
    readonly deployAccount: gcp.serviceaccount.Account;
    readonly publishImpersonation: gcp.serviceaccount.IAMMember;
    readonly deployImpersonation: gcp.serviceaccount.IAMMember;
    readonly repositoryWriter: gcp.artifactregistry.RepositoryIamMember;
    /** The deployer role on the project: unconditioned for GKE (its RBAC Role narrows it), conditioned on the group for VMs; none on App Engine. */
    readonly clusterAccess?: gcp.projects.IAMMember;
    /** App Engine: deployer and service admin on the project. */
    readonly appEngineRoles?: readonly gcp.projects.IAMMember[];
    /** App Engine: acting as the runtime account only. */
    readonly runtimeUser?: gcp.serviceaccount.IAMMember;
    /** App Engine: the secret holding the app.yaml, its version, and the deploy account's read on it. */
    readonly appYamlSecret?: gcp.secretmanager.Secret;
    readonly appYamlVersion?: gcp.secretmanager.SecretVersion;
    readonly appYamlReader?: gcp.secretmanager.SecretIamMember;
    /** The release secret, when created here. */
    readonly releaseSecret?: gcp.secretmanager.Secret;
    readonly releaseWriter: gcp.secretmanager.SecretIamMember;
    /** Reads the release secret (VMs: the previous image to roll back to; App Engine: as Cloud Build's account). */
    readonly releaseReader?: gcp.secretmanager.SecretIamMember;
    readonly rbac?: pulumi.Resource;
  };

  constructor(name: string, args: GitHubServiceDeliveryArgs, opts?: pulumi.ComponentResourceOptions) {
    for (const [prop, id] of [["publish.accountId", args.publish.accountId], ["deploy.accountId", args.deploy.accountId]] as const) {
      if (!/^[a-z]([-a-z0-9]{4,28}[a-z0-9])$/.test(id)) throw new Error(`GitHubServiceDelivery ${name}: ${prop} "${id}" is invalid. Fix: use 6-30 lowercase letters, digits and '-', starting with a letter`);
    }
    for (const [prop, subject] of [["publish.subject", args.publish.subject], ["deploy.subject", args.deploy.subject]] as const) {
      // The subject becomes part of a principal URI: one exact workflow, never a pattern.
      if (!/^repo:[A-Za-z0-9-]+\/[A-Za-z0-9._-]+:[A-Za-z0-9/._:-]+$/.test(subject)) throw new Error(`GitHubServiceDelivery ${name}: ${prop} "${subject}" is not a GitHub OIDC subject. Fix: pass repo:<owner>/<repository>:ref:refs/heads/<branch> or repo:<owner>/<repository>:environment:<environment>`);
    }
    if (args.target.kind !== "app-engine" && args.deployerRole === undefined) throw new Error(`GitHubServiceDelivery ${name}: deployerRole is missing, and a Deployment or instance group target needs it. Fix: pass the GKE deployer or instance group roller custom role's name`);
    if (args.target.kind === "app-engine" && !/^[A-Za-z0-9_-]{1,255}$/.test(args.target.appYamlSecretId)) throw new Error(`GitHubServiceDelivery ${name}: target.appYamlSecretId "${args.target.appYamlSecretId}" is invalid. Fix: use 1-255 letters, digits, '-' and '_' (appYamlSecretName)`);
    super("msa:gcp:GitHubServiceDelivery", name, {}, opts);
    const parent = { parent: this };
    const project = projectOf(this);
    const publishAccount = new gcp.serviceaccount.Account(`${name}-publish`, { accountId: args.publish.accountId, displayName: `GitHub publish of ${args.serviceName}`, description: `Pushes images of ${args.serviceName} from ${args.publish.subject}` }, parent);
    const deployAccount = new gcp.serviceaccount.Account(`${name}-deploy`, { accountId: args.deploy.accountId, displayName: `GitHub deploy of ${args.serviceName}`, description: `Rolls out ${args.serviceName} from ${args.deploy.subject}` }, parent);
    const impersonation = (suffix: string, account: gcp.serviceaccount.Account, subject: string) =>
      new gcp.serviceaccount.IAMMember(`${name}-${suffix}-wif`, { serviceAccountId: account.name, role: GCP_GITHUB_ROLES.impersonate, member: githubSubjectMember(args.workloadIdentityPoolName, subject) }, parent);
    const publishImpersonation = impersonation("publish", publishAccount, args.publish.subject);
    const deployImpersonation = impersonation("deploy", deployAccount, args.deploy.subject);
    const repositoryWriter = new gcp.artifactregistry.RepositoryIamMember(
      `${name}-push`,
      { location: args.repository.location, repository: args.repository.name, role: GCP_GITHUB_ROLES.publish, member: publishAccount.member },
      parent,
    );
    const target = args.target;
    const projectRole = (suffix: string, role: pulumi.Input<string>, condition?: gcp.types.input.projects.IAMMemberCondition) =>
      new gcp.projects.IAMMember(`${name}-${suffix}`, { project: project.id, role, member: deployAccount.member, ...(condition ? { condition } : {}) }, parent);
    const clusterAccess =
      target.kind === "instance-group"
        ? projectRole("instance-group", args.deployerRole!, instanceGroupCondition(project.id, target.region, target.instanceGroupManager, args.serviceName))
        : target.kind === "app-engine"
          ? undefined
          : projectRole("cluster", args.deployerRole!);
    const appEngine = target.kind === "app-engine" ? this.appEngineAccess(name, target, deployAccount) : undefined;
    const appEngineRoles = appEngine ? [projectRole("app-engine-deploy", GCP_GITHUB_ROLES.appEngineDeploy), projectRole("app-engine-traffic", GCP_GITHUB_ROLES.appEngineTraffic)] : undefined;
    const created = "secretId" in args.release ? createReleaseSecret(`${name}-release`, { serviceName: args.serviceName, secretId: args.release.secretId, initialImage: args.release.initialImage, ...(args.release.retain ? { retain: true } : {}) }, this) : undefined;
    const secret = created ? created.secret : pulumi.output((args.release as ServiceDeliveryExistingReleaseArgs).secret);
    const releaseWriter = new gcp.secretmanager.SecretIamMember(`${name}-release-writer`, { secretId: secret, role: GCP_GITHUB_ROLES.recordRelease, member: deployAccount.member }, parent);
    const releaseReader =
      target.kind === "instance-group" || target.kind === "app-engine" ? new gcp.secretmanager.SecretIamMember(`${name}-release-reader`, { secretId: secret, role: GCP_GITHUB_ROLES.readRelease, member: deployAccount.member }, parent) : undefined;
    const deployment = target.kind === "instance-group" || target.kind === "app-engine" ? undefined : target;
    const rbacArgs = deployment?.rbac;
    // GKE authenticates a Google service account as the user named by its email; this Role is all it may do in the cluster.
    const rbac =
      deployment && rbacArgs
        ? applyManifests(
            `${name}-rbac`,
            deployAccount.email.apply((email) => deploymentRollerRbac(args.serviceName, deployment, { kind: "User", name: email }, rbacArgs.labels)),
            { provider: rbacArgs.provider, parent: this, dependsOn: rbacArgs.dependsOn ?? [] },
          )
        : undefined;

    this.publishEmail = publishAccount.email;
    this.deployEmail = deployAccount.email;
    this.releasedImage = created ? created.image : latestRelease(secret, this);
    this.nodes = {
      publishAccount,
      deployAccount,
      publishImpersonation,
      deployImpersonation,
      repositoryWriter,
      ...(clusterAccess ? { clusterAccess } : {}),
      ...(appEngine && appEngineRoles ? { appEngineRoles, ...appEngine } : {}),
      ...(created ? { releaseSecret: created.nodes.secret } : {}),
      releaseWriter,
      ...(releaseReader ? { releaseReader } : {}),
      ...(rbac ? { rbac } : {}),
    };
    this.registerOutputs({ publishEmail: this.publishEmail, deployEmail: this.deployEmail });
  }

  /** Acting as the runtime account, and the app.yaml secret the deploy job alone reads. */
  private appEngineAccess(name: string, target: GitHubServiceDeliveryAppEngineArgs, deployAccount: gcp.serviceaccount.Account) {
    const parent = { parent: this };
    const runtimeUser = new gcp.serviceaccount.IAMMember(`${name}-runtime-user`, { serviceAccountId: target.runtimeAccount, role: GCP_GITHUB_ROLES.runtimeUser, member: deployAccount.member }, parent);
    const appYamlSecret = new gcp.secretmanager.Secret(`${name}-app-yaml`, { secretId: target.appYamlSecretId, replication: { auto: {} }, annotations: { purpose: "app.yaml of the versions its GitHub deploy job releases" } }, parent);
    // Rewritten by each `pulumi up` whose settings changed (account, environment, network), so the job deploys what Pulumi's versions run.
    const appYamlVersion = new gcp.secretmanager.SecretVersion(`${name}-app-yaml`, { secret: appYamlSecret.id, secretData: pulumi.secret(pulumi.output(target.settings).apply(appEngineReleaseFile)) }, parent);
    const appYamlReader = new gcp.secretmanager.SecretIamMember(`${name}-app-yaml-reader`, { secretId: appYamlSecret.id, role: GCP_GITHUB_ROLES.readAppYaml, member: deployAccount.member }, parent);
    return { runtimeUser, appYamlSecret, appYamlVersion, appYamlReader };
  }
}
