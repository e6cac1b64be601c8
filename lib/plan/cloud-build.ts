/**
 * Cloud Build delivery on GCP, decided once for every engine: the steps of a service's build (unit
 * tests, image build, push by digest, then the release of its one Deployment, managed instance group
 * or App Engine service), the substitutions the trigger sets, the roles of its account and the
 * private pool it runs in.
 */
import { DELIVERY_SETTINGS, type ServiceDeliveryPlan } from "./delivery.js";
import { pushOnce } from "./image-push.js";
import { gcpServiceAccountId } from "./gcp.js";
import { physicalName } from "./naming.js";
import { APP_ENGINE_VERSION_HASH_LENGTH } from "./app-engine-version.js";

/** Builder images: Docker for the build, the Google Cloud CLI (with kubectl and the GKE auth plugin) for the rollout. */
export const CLOUD_BUILD_IMAGES = {
  docker: "gcr.io/cloud-builders/docker",
  cloudCli: "gcr.io/google.com/cloudsdktool/google-cloud-cli:stable",
} as const;

/** Worker size of the private pool and the build's time limit. */
export const CLOUD_BUILD_SETTINGS = {
  /** Docker builds get 4 vCPUs and 16 GB. */
  machineType: "e2-standard-4",
  diskSizeGb: 100,
  /** Build and rollout share one build: their AWS timeouts added up. */
  timeout: `${(DELIVERY_SETTINGS.buildTimeoutMinutes + DELIVERY_SETTINGS.deployTimeoutMinutes) * 60}s`,
} as const;

/**
 * Roles of a service's build account. `artifactWriter` is granted on its own repository only;
 * `clusterCredentials` is project-wide because GKE has no per-cluster IAM binding, and it only
 * reads cluster metadata: what the account may change inside the cluster is the RBAC Role on its
 * one Deployment (`deploymentRollerRbac`).
 */
export const CLOUD_BUILD_ROLES = {
  artifactWriter: "roles/artifactregistry.writer",
  logWriter: "roles/logging.logWriter",
  clusterCredentials: "roles/container.clusterViewer",
  /** On the service's release secret only: the rollout records the digest it released. */
  releaseWriter: "roles/secretmanager.secretVersionAdder",
  /** On the service's release secret only (VMs, App Engine): a failed release reads the image it rolls back to. */
  releaseReader: "roles/secretmanager.secretAccessor",
  /**
   * App Engine (project-wide: App Engine has no per-service IAM and no resource-name conditions): the
   * deployer creates versions but cannot move traffic...
   */
  appEngineDeployer: "roles/appengine.deployer",
  /** ...and the service admin moves traffic (`appengine.services.update`), the promotion and the rollback; it cannot deploy. */
  appEngineTraffic: "roles/appengine.serviceAdmin",
  /** On the service's runtime account only: a version runs as it (`iam.serviceAccounts.actAs`). */
  runtimeUser: "roles/iam.serviceAccountUser",
} as const;

/**
 * Permissions of the custom role a VM service's build account holds, bound with a condition on its
 * own managed instance group's `resource.name`: `rolling-action replace` patches the group
 * (regionInstanceGroupManagers.patch needs get and update on the group) and `wait-until --stable` reads it.
 */
export const INSTANCE_GROUP_ROLLER_PERMISSIONS = ["compute.instanceGroupManagers.get", "compute.instanceGroupManagers.update"] as const;

/** User-defined substitutions of a trigger (Cloud Build requires the leading underscore). */
export const CLOUD_BUILD_SUBSTITUTIONS = {
  image: "_IMAGE",
  cluster: "_CLUSTER",
  location: "_LOCATION",
  namespace: "_NAMESPACE",
  deployment: "_DEPLOYMENT",
  container: "_CONTAINER",
  release: "_RELEASE_SECRET",
} as const;

/** Substitutions of a VM service's trigger: its image, release secret and the one managed instance group it replaces. */
export const INSTANCE_GROUP_SUBSTITUTIONS = {
  image: "_IMAGE",
  release: "_RELEASE_SECRET",
  group: "_GROUP",
  region: "_REGION",
} as const;

/** Substitutions of an App Engine service's trigger: its image, release secret and the one App Engine service it deploys. */
export const APP_ENGINE_SUBSTITUTIONS = {
  image: "_IMAGE",
  release: "_RELEASE_SECRET",
  service: "_SERVICE",
} as const;

/** File the push step writes and the rollout step reads: `<image>@sha256:<digest>`. */
export const DIGEST_FILE = "/workspace/image-digest.txt";

/** One step of a build, as `gcp.cloudbuild.Trigger` takes it. */
export interface CloudBuildStepPlan {
  readonly id: "test" | "build" | "push" | "deploy";
  readonly name: string;
  readonly entrypoint: "bash";
  readonly args: readonly ["-c", string];
  /** Steps run one after another; each waits for the one before. */
  readonly waitFors: readonly string[];
}

/** What a rollout needs to know about its cluster. */
export interface GkeRolloutOptions {
  /** Commands that run the unit tests (the Docker builder runs them). */
  readonly testCommand: string;
  /** The cluster's endpoint is private: credentials name its internal address. */
  readonly privateEndpoint: boolean;
}

const ref = (name: string) => `\${${name}}`;
const sub = (key: keyof typeof CLOUD_BUILD_SUBSTITUTIONS) => ref(CLOUD_BUILD_SUBSTITUTIONS[key]);

/**
 * Unit tests, image build tagged with the commit, push and the pushed digest recorded, then the
 * deploy script; each step waits for the one before. The deploy script first refuses anything but a
 * digest of the service's own image (`_IMAGE`). Shell variables are written `$$NAME` so Cloud Build leaves them to bash.
 */
function cloudBuildSteps(testCommand: string, deploy: readonly string[]): CloudBuildStepPlan[] {
  const tagged = `${ref("_IMAGE")}:$COMMIT_SHA`;
  const steps: Array<Omit<CloudBuildStepPlan, "waitFors">> = [
    // The command is the user's shell: its $ are bash's, not Cloud Build substitutions.
    { id: "test", name: CLOUD_BUILD_IMAGES.docker, entrypoint: "bash", args: ["-c", testCommand.replace(/\$/g, () => "$$")] },
    { id: "build", name: CLOUD_BUILD_IMAGES.docker, entrypoint: "bash", args: ["-c", `docker build --tag "${tagged}" .`] },
    {
      id: "push",
      name: CLOUD_BUILD_IMAGES.docker,
      entrypoint: "bash",
      // Without -e a failed push would still record the digest of an image the registry never got.
      args: ["-c", ["set -euo pipefail", pushOnce(`"${tagged}"`), `docker inspect --format '{{index .RepoDigests 0}}' "${tagged}" > ${DIGEST_FILE}`].join("\n")],
    },
    {
      id: "deploy",
      name: CLOUD_BUILD_IMAGES.cloudCli,
      entrypoint: "bash",
      args: [
        "-c",
        [
          "set -euo pipefail",
          `IMAGE="$$(cat ${DIGEST_FILE})"`,
          // Only a digest of the service's own image is ever released.
          `if [[ "$$IMAGE" != "${ref("_IMAGE")}"@sha256:* ]]; then echo "Refusing $$IMAGE: only a digest of ${ref("_IMAGE")} is deployed"; exit 1; fi`,
          ...deploy,
        ].join("\n"),
      ],
    },
  ];
  return steps.map((step, i) => ({ ...step, waitFors: i === 0 ? [] : [steps[i - 1]!.id] }));
}

/**
 * The steps of a GKE service's build: {@link cloudBuildSteps} whose deploy runs `kubectl set image`
 * on its one Deployment, waits for the rollout, and adds the digest to the release secret the infrastructure deploys.
 */
export function gkeRolloutSteps(options: GkeRolloutOptions): CloudBuildStepPlan[] {
  return cloudBuildSteps(options.testCommand, [
    `gcloud container clusters get-credentials "${sub("cluster")}" --location "${sub("location")}"${options.privateEndpoint ? " --internal-ip" : ""}`,
    `kubectl --namespace "${sub("namespace")}" set image "deployment/${sub("deployment")}" "${sub("container")}=$$IMAGE"`,
    `kubectl --namespace "${sub("namespace")}" rollout status "deployment/${sub("deployment")}" --timeout=${DELIVERY_SETTINGS.rolloutTimeoutSeconds}s`,
    // Recorded only once rolled out, so `pulumi up` keeps the running release.
    `printf '%s' "$$IMAGE" | gcloud secrets versions add "${sub("release")}" --data-file=-`,
  ]);
}

/** How a managed instance group replaces its VMs: a surge of one VM per zone, never one fewer serving (decided once for the group's update policy and the pipeline's replace). */
export function instanceGroupRollout(zoneCount: number): { readonly maxSurge: number; readonly maxUnavailable: 0 } {
  return { maxSurge: zoneCount, maxUnavailable: 0 };
}

/** What a VM service's release needs to know about its group. */
export interface InstanceGroupReleaseOptions {
  readonly testCommand: string;
  /** Number of zones the regional group spans ({@link instanceGroupRollout}). */
  readonly zoneCount: number;
}

/** The one managed instance group a release replaces, and its release secret. */
export interface InstanceGroupReleaseTarget {
  /** Name of the regional managed instance group. */
  readonly group: string;
  readonly region: string;
  /** Secret Manager secret the VMs read their image from at boot. */
  readonly releaseSecret: string;
  /** Number of zones the regional group spans ({@link instanceGroupRollout}). */
  readonly zoneCount: number;
}

/**
 * The bash that releases `image` to a VM service, run by Cloud Build and by the GitHub deploy job alike:
 * add it to the release secret the VMs read at boot, replace the VMs of the one managed instance group
 * (the template never changes per release) and wait until the group is stable. When the replace or the
 * wait fails, it adds the previous image back, replaces again and fails. `dollar` is how a shell `$` is
 * written: `$$` inside a Cloud Build step, whose substitutions would otherwise take it.
 */
export function instanceGroupReleaseScript(target: InstanceGroupReleaseTarget, image: string, dollar: "$" | "$$" = "$"): string[] {
  const d = dollar;
  const { maxSurge, maxUnavailable } = instanceGroupRollout(target.zoneCount);
  const group = `"${target.group}" --region "${target.region}"`;
  return [
    `PREVIOUS="${d}(gcloud secrets versions access latest --secret "${target.releaseSecret}")"`,
    "release() {",
    `  printf '%s' "${d}1" | gcloud secrets versions add "${target.releaseSecret}" --data-file=- &&`,
    `  gcloud compute instance-groups managed rolling-action replace ${group} --max-surge ${maxSurge} --max-unavailable ${maxUnavailable} &&`,
    `  gcloud compute instance-groups managed wait-until ${group} --stable --timeout ${DELIVERY_SETTINGS.rolloutTimeoutSeconds}`,
    "}",
    `if release "${image}"; then exit 0; fi`,
    `echo "Release of ${image} failed: rolling ${target.group} back to ${d}PREVIOUS"`,
    `release "${d}PREVIOUS" || echo "Rolling ${target.group} back failed too: check the group by hand"`,
    "exit 1",
  ];
}

/**
 * The steps of a VM service's build: {@link cloudBuildSteps} whose deploy is {@link instanceGroupReleaseScript}
 * on the trigger's substitutions.
 */
export function instanceGroupReleaseSteps(options: InstanceGroupReleaseOptions): CloudBuildStepPlan[] {
  const s = (key: keyof typeof INSTANCE_GROUP_SUBSTITUTIONS) => ref(INSTANCE_GROUP_SUBSTITUTIONS[key]);
  return cloudBuildSteps(options.testCommand, instanceGroupReleaseScript({ group: s("group"), region: s("region"), releaseSecret: s("release"), zoneCount: options.zoneCount }, "$$IMAGE", "$$"));
}

/**
 * Name of a VM service's regional managed instance group when GitHub Actions releases it (the workflow
 * names it; 1-63 lowercase letters, digits and '-'). Cloud Build reads the created group's name instead.
 */
export function instanceGroupManagerName(zone: string, environment: string, service: string): string {
  return physicalName("kubernetes", zone, environment, service, "vms");
}

/** What an App Engine service's release needs: the app.yaml of its versions and the digest of their settings. */
export interface AppEngineReleaseOptions {
  readonly testCommand: string;
  /** `appEngineAppYaml` of the service's settings, which Pulumi's versions use too. */
  readonly appYaml: string;
  /** `appEngineSettingsDigest` of the same settings: with the image, it names the version. */
  readonly settingsDigest: string;
}

/** The one App Engine service a release deploys, and its release secret. */
export interface AppEngineReleaseTarget {
  /** App Engine service name (`appEngineServiceName`). */
  readonly service: string;
  /** Secret Manager secret whose latest version is the released image. */
  readonly releaseSecret: string;
}

/**
 * The bash that releases `image` to an App Engine service from the `app.yaml` in the working directory, run
 * by Cloud Build and by the GitHub deploy job alike: create a version of its one service running the image
 * (`--image-url`, version id `appEngineVersionId` of the image and `settingsDigest`), check it is serving,
 * promote it and add the image to the release secret. When anything after the deploy fails, it sends all
 * traffic back to the version that had it and fails. `dollar` is how a shell `$` is written (`$$` in Cloud Build).
 */
export function appEngineReleaseScript(target: AppEngineReleaseTarget, image: string, settingsDigest: string, dollar: "$" | "$$" = "$"): string[] {
  const d = dollar;
  const service = `--service "${target.service}"`;
  return [
    // The same rule as appEngineVersionId, so `pulumi up` finds the version the pipeline deployed.
    `VERSION="v-${d}(printf '%s\\n%s' "${image}" "${settingsDigest}" | sha256sum | cut -c1-${APP_ENGINE_VERSION_HASH_LENGTH})"`,
    `PREVIOUS="${d}(gcloud app versions list ${service} --filter 'traffic_split>0.5' --format 'value(id)' --limit 1)"`,
    `gcloud app deploy app.yaml --image-url "${image}" --version "${d}VERSION" --no-promote --quiet`,
    "release() {",
    `  [[ "${d}(gcloud app versions describe "${d}VERSION" ${service} --format 'value(servingStatus)')" == SERVING ]] &&`,
    `  gcloud app services set-traffic "${target.service}" --splits "${d}VERSION=1" --quiet &&`,
    `  printf '%s' "${image}" | gcloud secrets versions add "${target.releaseSecret}" --data-file=-`,
    "}",
    "if release; then exit 0; fi",
    `echo "Release of ${d}VERSION failed: sending ${target.service} back to ${d}PREVIOUS"`,
    `if [[ -n "${d}PREVIOUS" ]]; then gcloud app services set-traffic "${target.service}" --splits "${d}PREVIOUS=1" --quiet; fi`,
    "exit 1",
  ];
}

/**
 * The steps of an App Engine service's build: {@link cloudBuildSteps} whose deploy writes the app.yaml
 * Pulumi's versions use, then runs {@link appEngineReleaseScript} on the trigger's substitutions.
 */
export function appEngineReleaseSteps(options: AppEngineReleaseOptions): CloudBuildStepPlan[] {
  const s = (key: keyof typeof APP_ENGINE_SUBSTITUTIONS) => ref(APP_ENGINE_SUBSTITUTIONS[key]);
  if (!/^[0-9a-f]{64}$/.test(options.settingsDigest)) throw new Error(`appEngineReleaseSteps settingsDigest: "${options.settingsDigest}" is not a SHA-256. Fix: pass appEngineSettingsDigest(settings)`);
  return cloudBuildSteps(options.testCommand, [
    // Base64 keeps the file's characters away from Cloud Build's substitutions and bash's quoting.
    `printf '%s' '${Buffer.from(options.appYaml, "utf8").toString("base64")}' | base64 -d > app.yaml`,
    ...appEngineReleaseScript({ service: s("service"), releaseSecret: s("release") }, "$$IMAGE", options.settingsDigest, "$$"),
  ]);
}

/** The substitutions of a GKE service's trigger: the only image it pushes and the only Deployment it rolls. */
export function gkeRolloutSubstitutions(target: Readonly<Record<keyof typeof CLOUD_BUILD_SUBSTITUTIONS, string>>): Record<string, string> {
  return substitutionsOf(CLOUD_BUILD_SUBSTITUTIONS, target);
}

/** A trigger's substitutions: each value under the name its steps read. */
export function substitutionsOf<K extends string>(names: Readonly<Record<K, string>>, values: Readonly<Record<K, string>>): Record<string, string> {
  return Object.fromEntries((Object.keys(names) as K[]).map((key) => [names[key], values[key]]));
}

/** Names of a service's Cloud Build trigger, account and release secret. */
export function cloudBuildNames(zone: string, environment: string, delivery: Pick<ServiceDeliveryPlan, "service">): { readonly trigger: string; readonly accountId: string; readonly releaseSecret: string } {
  return {
    releaseSecret: physicalName("kubernetes", zone, environment, delivery.service, "release"),
    // Trigger names allow 64 of [A-Za-z0-9_-]; a DNS label (63) always fits.
    trigger: physicalName("kubernetes", zone, environment, delivery.service, "build"),
    accountId: gcpServiceAccountId(zone, `${delivery.service}-cd`),
  };
}

/** Id of the landing zone's custom role that replaces a managed instance group's VMs (3-64 letters, digits, '_' and '.'). */
export function instanceGroupRollerRoleId(zone: string, environment: string): string {
  return `${zone}_${environment}_mig_roller`.replace(/[^A-Za-z0-9_.]/g, "_").slice(0, 64);
}

/** Name of the landing zone's private pool (1-63 lowercase letters, digits and '-'). */
export function workerPoolName(zone: string, environment: string): string {
  return physicalName("kubernetes", zone, environment, "builds");
}
