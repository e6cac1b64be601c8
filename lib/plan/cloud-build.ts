/**
 * Cloud Build delivery on GCP, decided once for every engine: the steps of a service's build (unit
 * tests, image build, push by digest, rollout of its one Deployment), the substitutions the trigger
 * sets, the roles of its account and the private pool it runs in.
 */
import { DELIVERY_SETTINGS, type ServiceDeliveryPlan } from "./delivery.js";
import { gcpServiceAccountId } from "./gcp.js";
import { physicalName } from "./naming.js";

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
} as const;

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

const sub = (key: keyof typeof CLOUD_BUILD_SUBSTITUTIONS) => `\${${CLOUD_BUILD_SUBSTITUTIONS[key]}}`;

/**
 * The steps of a GKE service's build, in order: unit tests, image build tagged with the commit,
 * push and the pushed digest recorded, then `kubectl set image` on its one Deployment, a wait for
 * the rollout, and the digest added to the release secret the infrastructure deploys. Shell variables are written `$$NAME` so Cloud Build leaves them to bash.
 */
export function gkeRolloutSteps(options: GkeRolloutOptions): CloudBuildStepPlan[] {
  const tagged = `${sub("image")}:$COMMIT_SHA`;
  const steps: Array<Omit<CloudBuildStepPlan, "waitFors">> = [
    // The command is the user's shell: its $ are bash's, not Cloud Build substitutions.
    { id: "test", name: CLOUD_BUILD_IMAGES.docker, entrypoint: "bash", args: ["-c", options.testCommand.replace(/\$/g, () => "$$")] },
    { id: "build", name: CLOUD_BUILD_IMAGES.docker, entrypoint: "bash", args: ["-c", `docker build --tag "${tagged}" .`] },
    {
      id: "push",
      name: CLOUD_BUILD_IMAGES.docker,
      entrypoint: "bash",
      args: ["-c", [`docker push "${tagged}"`, `docker inspect --format '{{index .RepoDigests 0}}' "${tagged}" > ${DIGEST_FILE}`].join("\n")],
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
          // Only a digest of the service's own image is ever rolled out.
          `if [[ "$$IMAGE" != "${sub("image")}"@sha256:* ]]; then echo "Refusing $$IMAGE: only a digest of ${sub("image")} is deployed"; exit 1; fi`,
          `gcloud container clusters get-credentials "${sub("cluster")}" --location "${sub("location")}"${options.privateEndpoint ? " --internal-ip" : ""}`,
          `kubectl --namespace "${sub("namespace")}" set image "deployment/${sub("deployment")}" "${sub("container")}=$$IMAGE"`,
          `kubectl --namespace "${sub("namespace")}" rollout status "deployment/${sub("deployment")}" --timeout=${DELIVERY_SETTINGS.rolloutTimeoutSeconds}s`,
          // Recorded only once rolled out, so `pulumi up` keeps the running release.
          `printf '%s' "$$IMAGE" | gcloud secrets versions add "${sub("release")}" --data-file=-`,
        ].join("\n"),
      ],
    },
  ];
  return steps.map((step, i) => ({ ...step, waitFors: i === 0 ? [] : [steps[i - 1]!.id] }));
}

/** The substitutions of a GKE service's trigger: the only image it pushes and the only Deployment it rolls. */
export function gkeRolloutSubstitutions(target: Readonly<Record<keyof typeof CLOUD_BUILD_SUBSTITUTIONS, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(CLOUD_BUILD_SUBSTITUTIONS).map(([key, name]) => [name, target[key as keyof typeof CLOUD_BUILD_SUBSTITUTIONS]]));
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

/** Name of the landing zone's private pool (1-63 lowercase letters, digits and '-'). */
export function workerPoolName(zone: string, environment: string): string {
  return physicalName("kubernetes", zone, environment, "builds");
}

/** The deploy kinds Cloud Build delivery builds; the planner's support table lists the same tiers. */
export function checkCloudBuildDeploy(delivery: ServiceDeliveryPlan): void {
  if (delivery.deploy.kind !== "kubernetes-rollout") {
    throw new Error(
      `pipelines: Cloud Build delivery of ${delivery.service} deploys to GKE only, not ${delivery.deploy.kind}. Fix: set tier: caas, or pipelines.provider: github-actions and run \`mlz workflows\``,
    );
  }
}
