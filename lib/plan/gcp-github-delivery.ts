/**
 * GitHub Actions delivery on GCP (`pipelines.provider: github-actions`), decided once: the Workload
 * Identity Federation pool every GitHub workflow of the zone signs in through (services and
 * micro-frontends), and per service a publish and a deploy account, each impersonable by one OIDC subject.
 */
import { APP_ENGINE_DIGEST_LINE } from "./app-engine-version.js";
import { appEngineReleaseScript, CLOUD_BUILD_ROLES, cloudBuildNames, instanceGroupManagerName, instanceGroupRollerRoleId, type AppEngineReleaseTarget } from "./cloud-build.js";
import { appEngineServiceName, gcpServiceAccountId } from "./gcp.js";
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
  /** Deploy account on App Engine, on the service's own app.yaml secret: the settings Pulumi's versions run with. */
  readAppYaml: CLOUD_BUILD_ROLES.releaseReader,
  /** Deploy account on App Engine, project-wide as Cloud Build's: create versions... */
  appEngineDeploy: CLOUD_BUILD_ROLES.appEngineDeployer,
  /** ...and move traffic (promotion and rollback). */
  appEngineTraffic: CLOUD_BUILD_ROLES.appEngineTraffic,
  /** Deploy account on App Engine, on the service's runtime account only: its versions run as it. */
  runtimeUser: CLOUD_BUILD_ROLES.runtimeUser,
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
  /** On App Engine (paas): the one App Engine service the deploy job deploys and promotes. */
  readonly appEngineService?: string;
  /** On App Engine (paas): Secret Manager secret holding the service's app.yaml ({@link appEngineReleaseFile}), written by the engine. */
  readonly appYamlSecret?: string;
}

export interface GcpGithubDeliveryPlan {
  readonly poolId: string;
  readonly providerId: string;
  /** The deploy accounts' custom role: the GKE deployer, or on VMs the instance group roller Cloud Build's accounts hold too; none on App Engine (predefined roles). */
  readonly deployerRoleId?: string;
  readonly services: readonly GcpGithubServicePlan[];
}

/** The GitHub delivery of a gcp plan with `pipelines.provider: github-actions` and an owner; undefined otherwise. */
export function planGcpGithubDelivery(plan: LandingZonePlan): GcpGithubDeliveryPlan | undefined {
  const delivery = plan.delivery;
  if (plan.cloud !== "gcp" || delivery?.provider !== "github-actions" || !delivery.owner) return undefined;
  return {
    poolId: githubPoolId(plan.name, plan.environment),
    providerId: "github",
    ...(plan.tier === "paas" ? {} : { deployerRoleId: plan.tier === "iaas" ? instanceGroupRollerRoleId(plan.name, plan.environment) : gkeDeployerRoleId(plan.name, plan.environment) }),
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
      ...(plan.tier === "paas" ? { appEngineService: appEngineServiceName(plan, service.service), appYamlSecret: appYamlSecretName(plan.name, plan.environment, service.service) } : {}),
    })),
  };
}

/** Secret Manager secret holding an App Engine service's app.yaml for its GitHub deploy job. */
export function appYamlSecretName(zone: string, environment: string, service: string): string {
  return physicalName("kubernetes", zone, environment, service, "appyaml");
}

/**
 * The GitHub deploy job's release of `image` to an App Engine service: fetch the app.yaml the engine stored
 * (the runtime account, environment and network exist only once the zone is deployed), read the settings'
 * digest from its first line, then run the same {@link appEngineReleaseScript} as Cloud Build.
 */
export function appEngineGithubReleaseScript(target: AppEngineReleaseTarget & { readonly appYamlSecret: string }, image: string): string[] {
  return [
    `gcloud secrets versions access latest --secret "${target.appYamlSecret}" > app.yaml`,
    `DIGEST="$(head -n 1 app.yaml)"`,
    `DIGEST="\${DIGEST#"${APP_ENGINE_DIGEST_LINE}"}"`,
    `if [[ ! "$DIGEST" =~ ^[0-9a-f]{64}$ ]]; then echo "${target.appYamlSecret} does not start with '${APP_ENGINE_DIGEST_LINE}<sha256>': run pulumi up"; exit 1; fi`,
    ...appEngineReleaseScript({ service: target.service, releaseSecret: target.releaseSecret }, image, "$DIGEST"),
  ];
}
