/**
 * GitHub Actions delivery on GCP (`pipelines.provider: github-actions`), decided once: the Workload
 * Identity Federation pool every GitHub workflow of the zone signs in through (services and
 * micro-frontends), and per service a publish and a deploy account, each impersonable by one OIDC subject.
 */
import type { LandingZoneSpec } from "../spec/types.js";
import { CLOUD_BUILD_ROLES, cloudBuildNames, instanceGroupManagerName, instanceGroupRollerRoleId } from "./cloud-build.js";
import type { DeliveryPlan } from "./delivery.js";
import { gcpServiceAccountId } from "./gcp.js";
import { physicalName } from "./naming.js";
import type { LandingZonePlan } from "./types.js";

/** Roles of the GitHub accounts, each granted on one resource only. */
export const GCP_GITHUB_ROLES = {
  /** Publish account, on the service's own Artifact Registry repository. */
  publish: CLOUD_BUILD_ROLES.artifactWriter,
  /** On each account, to the one subject that may act as it. */
  impersonate: "roles/iam.workloadIdentityUser",
  /** Deploy account, on the service's own release secret: the deploy job records the digest it rolled out. */
  recordRelease: CLOUD_BUILD_ROLES.releaseWriter,
  /** Deploy account on VMs, on the service's own release secret: a failed replace reads the image it rolls back to. */
  readRelease: CLOUD_BUILD_ROLES.releaseReader,
} as const;

/**
 * The deploy accounts' custom role: cluster metadata, credentials, and `container.clusters.connect`, which the
 * IAM-authorized DNS endpoint checks. Exactly these, rather than `roles/container.clusterViewer`, whose
 * inclusion of `connect` is not documented in one place we could confirm.
 */
export const GKE_DEPLOYER_PERMISSIONS = ["container.clusters.connect", "container.clusters.get", "container.clusters.getCredentials"] as const;

/** Workload Identity Federation pool id of the zone's GitHub workflows (4-32 characters; "gh-" first: ids may not start with "gcp-"). */
export function githubPoolId(zone: string, environment: string): string {
  return physicalName("gcpPool", "gh", zone, environment);
}

/** Id of the custom role the deploy accounts hold (3-64 letters, digits, '_' and '.'). */
export function gkeDeployerRoleId(zone: string, environment: string): string {
  return `${zone}_${environment}_gke_deployer`.replace(/[^A-Za-z0-9_.]/g, "_").slice(0, 64);
}

/** One service's GitHub accounts and the exact subject allowed to act as each. */
export interface GcpGithubServicePlan {
  readonly service: string;
  /** Pushes the image from the build job (branch subject). */
  readonly publishAccountId: string;
  readonly publishSubject: string;
  /** Rolls the Deployment and records the release from the deploy job (environment subject: approval in prod). */
  readonly deployAccountId: string;
  readonly deploySubject: string;
  /** The one Deployment the deploy account may roll (the delivery plan's target). */
  readonly namespace: string;
  readonly deployment: string;
  /** Secret Manager secret holding the released image, which the Deployment is deployed from (VMs read it at boot). */
  readonly releaseSecret: string;
  /** On VMs (iaas): the one regional managed instance group the deploy job replaces, named at plan time for the workflow. */
  readonly instanceGroup?: string;
}

export interface GcpGithubDeliveryPlan {
  readonly poolId: string;
  readonly providerId: string;
  /** The deploy accounts' custom role: the GKE deployer, or on VMs the instance group roller Cloud Build's accounts hold too. */
  readonly deployerRoleId: string;
  readonly services: readonly GcpGithubServicePlan[];
}

/** The GitHub delivery of a gcp plan with `pipelines.provider: github-actions` and an owner; undefined otherwise. */
export function planGcpGithubDelivery(plan: LandingZonePlan): GcpGithubDeliveryPlan | undefined {
  const delivery = plan.delivery;
  if (plan.cloud !== "gcp" || delivery?.provider !== "github-actions" || !delivery.owner) return undefined;
  return {
    poolId: githubPoolId(plan.name, plan.environment),
    providerId: "github",
    deployerRoleId: plan.tier === "iaas" ? instanceGroupRollerRoleId(plan.name, plan.environment) : gkeDeployerRoleId(plan.name, plan.environment),
    services: delivery.services.map((service) => ({
      service: service.service,
      publishAccountId: gcpServiceAccountId(plan.name, `${service.service}-pub`),
      // The subjects are the ones every cloud trusts (lib/plan/delivery.ts); an owner makes them defined.
      publishSubject: service.github.publishSubject!,
      deployAccountId: gcpServiceAccountId(plan.name, `${service.service}-dep`),
      deploySubject: service.github.deploySubject!,
      namespace: service.deploy.namespace,
      deployment: service.deploy.deployment,
      releaseSecret: cloudBuildNames(plan.name, plan.environment, service).releaseSecret,
      ...(plan.tier === "iaas" ? { instanceGroup: instanceGroupManagerName(plan.name, plan.environment, service.service) } : {}),
    })),
  };
}

/** What GitHub delivery on GCP does not build yet: App Engine releases (GKE rollouts and VM replaces are). */
export function gcpGithubDeliveryProblems(spec: LandingZoneSpec, delivery: DeliveryPlan): string[] {
  if (spec.cloud !== "gcp" || delivery.provider !== "github-actions" || spec.tier !== "paas") return [];
  return [
    `pipelines.provider "github-actions" is not built on gcp/${spec.tier} (GitHub workflows deploy to GKE and VMs on gcp, not App Engine). Fix: set pipelines.provider: native (Cloud Build), tier: caas or iaas, or pipelines.perService: false`,
  ];
}
