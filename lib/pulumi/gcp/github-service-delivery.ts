import * as gcp from "@pulumi/gcp";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { deploymentRollerRbac } from "../../kubernetes/delivery.js";
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
   */
  readonly deployerRole: pulumi.Input<string>;
  /**
   * The release secret (its latest version is the released image, which the deploy job adds to): created here
   * with the image it starts from, or the one the VMs' component created and reads at boot.
   */
  readonly release: ServiceDeliveryNewReleaseArgs | ServiceDeliveryExistingReleaseArgs;
  /** The one Deployment the deploy account may roll, or the one managed instance group whose VMs it may replace. */
  readonly target: GitHubServiceDeliveryTargetArgs | GitHubServiceDeliveryInstanceGroupArgs;
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
 * No cost beyond the release secret (Secret Manager bills per version).
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
    /** The deployer role on the project: unconditioned for GKE (its RBAC Role narrows it), conditioned on the group for VMs. */
    readonly clusterAccess: gcp.projects.IAMMember;
    /** The release secret, when created here. */
    readonly releaseSecret?: gcp.secretmanager.Secret;
    readonly releaseWriter: gcp.secretmanager.SecretIamMember;
    /** Reads the previous release to roll back to (VMs). */
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
    const clusterAccess =
      target.kind === "instance-group"
        ? new gcp.projects.IAMMember(`${name}-instance-group`, { project: project.id, role: args.deployerRole, member: deployAccount.member, condition: instanceGroupCondition(project.id, target.region, target.instanceGroupManager, args.serviceName) }, parent)
        : new gcp.projects.IAMMember(`${name}-cluster`, { project: project.id, role: args.deployerRole, member: deployAccount.member }, parent);
    const created = "secretId" in args.release ? createReleaseSecret(`${name}-release`, { serviceName: args.serviceName, secretId: args.release.secretId, initialImage: args.release.initialImage, ...(args.release.retain ? { retain: true } : {}) }, this) : undefined;
    const secret = created ? created.secret : pulumi.output((args.release as ServiceDeliveryExistingReleaseArgs).secret);
    const releaseWriter = new gcp.secretmanager.SecretIamMember(`${name}-release-writer`, { secretId: secret, role: GCP_GITHUB_ROLES.recordRelease, member: deployAccount.member }, parent);
    const releaseReader =
      target.kind === "instance-group" ? new gcp.secretmanager.SecretIamMember(`${name}-release-reader`, { secretId: secret, role: GCP_GITHUB_ROLES.readRelease, member: deployAccount.member }, parent) : undefined;
    const deployment = target.kind === "instance-group" ? undefined : target;
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
      clusterAccess,
      ...(created ? { releaseSecret: created.nodes.secret } : {}),
      releaseWriter,
      ...(releaseReader ? { releaseReader } : {}),
      ...(rbac ? { rbac } : {}),
    };
    this.registerOutputs({ publishEmail: this.publishEmail, deployEmail: this.deployEmail });
  }
}
