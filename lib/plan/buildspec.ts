/**
 * The CodeBuild build specifications of a service's pipeline, shared by both engines (and the
 * GitHub deploy job, which runs the same deploy project).
 */
import { DELIVERY_SETTINGS, type ServiceDeliveryPlan } from "./delivery.js";
import { pushOnce } from "./image-push.js";
import { VERSIONS } from "./sizing.js";

/** File the build stage writes and the deploy stage reads: `{"image":"<repository>@sha256:..."}`. */
export const IMAGE_ARTIFACT = "image.json";

/** Environment of the build project: where to push. */
export function buildEnvironment(repositoryUri: string): Record<string, string> {
  return { REPOSITORY_URI: repositoryUri };
}

/** What a deploy project rolls and where it records the release (a `ServiceDeliveryPlan` fits). */
export interface DeployEnvironmentTarget {
  readonly deploy: Pick<ServiceDeliveryPlan["deploy"], "namespace" | "deployment" | "container">;
  readonly releaseParameter: string;
}

/** Environment of the deploy project: the only Deployment it may roll and where it records the release. */
export function deployEnvironment(target: DeployEnvironmentTarget, repositoryUri: string, clusterName: string): Record<string, string> {
  return {
    REPOSITORY_URI: repositoryUri,
    CLUSTER_NAME: clusterName,
    NAMESPACE: target.deploy.namespace,
    DEPLOYMENT: target.deploy.deployment,
    CONTAINER: target.deploy.container,
    RELEASE_PARAMETER: target.releaseParameter,
  };
}

/** The image to release, from the build artifact or `IMAGE`, refused unless it is a digest of the service's own repository. */
export const RELEASED_IMAGE = [
  `IMAGE="\${IMAGE:-$(jq -r .image ${IMAGE_ARTIFACT})}"`,
  'if [[ "$IMAGE" != "$REPOSITORY_URI"@sha256:* || ! "${IMAGE##*@sha256:}" =~ ^[0-9a-f]{64}$ ]]; then echo "Refusing $IMAGE: only a digest of $REPOSITORY_URI is deployed"; exit 1; fi',
] as const;

/** Build stage: unit tests, image build, push tagged with the commit (once: a retried run releases the image already pushed), the pushed digest as artifact. */
export function buildStageSpec(testCommand: string): Record<string, unknown> {
  return {
    version: "0.2",
    env: { shell: "bash" },
    phases: {
      build: {
        "on-failure": "ABORT",
        commands: [
          'aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "${REPOSITORY_URI%%/*}"',
          testCommand,
          // The pipeline passes the source commit; CodeBuild's resolved source version is the fallback.
          'IMAGE_TAG="${IMAGE_TAG:-$CODEBUILD_RESOLVED_SOURCE_VERSION}"',
          'docker build --tag "$REPOSITORY_URI:$IMAGE_TAG" .',
          pushOnce('"$REPOSITORY_URI:$IMAGE_TAG"'),
          `printf '{"image":"%s"}' "$(docker inspect --format '{{index .RepoDigests 0}}' "$REPOSITORY_URI:$IMAGE_TAG")" > ${IMAGE_ARTIFACT}`,
        ],
      },
    },
    artifacts: { files: [IMAGE_ARTIFACT] },
  };
}

/**
 * Deploy stage: refuses anything but a digest of the service's own repository, rolls the one
 * Deployment it may change, waits for the rollout and records the release. The image comes from
 * the build artifact, or from `IMAGE` when a GitHub deploy job starts the project.
 */
export function deployStageSpec(): Record<string, unknown> {
  const kubectl = "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/amd64/kubectl";
  return {
    version: "0.2",
    env: { shell: "bash" },
    phases: {
      install: {
        "on-failure": "ABORT",
        commands: [
          // The kubectl minor matches the cluster's, as Kubernetes' version skew policy asks.
          `KUBECTL_VERSION="$(curl -fsSL https://dl.k8s.io/release/stable-${VERSIONS.kubernetes}.txt)"`,
          `curl -fsSLo /usr/local/bin/kubectl "${kubectl}"`,
          `echo "$(curl -fsSL "${kubectl}.sha256")  /usr/local/bin/kubectl" | sha256sum --check`,
          "chmod +x /usr/local/bin/kubectl",
        ],
      },
      build: {
        "on-failure": "ABORT",
        commands: [
          ...RELEASED_IMAGE,
          'aws eks update-kubeconfig --name "$CLUSTER_NAME" --region "$AWS_REGION"',
          'kubectl --namespace "$NAMESPACE" set image "deployment/$DEPLOYMENT" "$CONTAINER=$IMAGE"',
          `kubectl --namespace "$NAMESPACE" rollout status "deployment/$DEPLOYMENT" --timeout=${DELIVERY_SETTINGS.rolloutTimeoutSeconds}s`,
          'aws ssm put-parameter --name "$RELEASE_PARAMETER" --type String --value "$IMAGE" --overwrite',
        ],
      },
    },
  };
}

/** What an instance refresh may touch: one Auto Scaling group, and the parameter its instances read the image from. */
export interface InstanceRefreshTarget {
  readonly autoScalingGroup: string;
  readonly releaseParameter: string;
}

/** Environment of a VM service's deploy project: the only group it may refresh and where it records the release. */
export function instanceRefreshEnvironment(target: InstanceRefreshTarget, repositoryUri: string): Record<string, string> {
  return { REPOSITORY_URI: repositoryUri, AUTO_SCALING_GROUP: target.autoScalingGroup, RELEASE_PARAMETER: target.releaseParameter };
}

/** Statuses after which an instance refresh changes nothing more, short of success. */
const REFRESH_FAILED = ["Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"] as const;
/** Statuses of a refresh still running, during which the group refuses to start another. */
const REFRESH_ACTIVE = ["Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking"] as const;

/**
 * Deploy stage of a VM service (iaas): records the digest in the release parameter the instances
 * read at boot, then replaces the instances of its one Auto Scaling group, launching before
 * terminating, and waits. When the refresh cannot start, fails, is cancelled or times out, it
 * cancels the group's refresh still running, puts the previous release back in the parameter and
 * refreshes the group again onto it, so no instance (nor later scale-out) keeps the failed release.
 */
export function instanceRefreshStageSpec(): Record<string, unknown> {
  const preferences = JSON.stringify(INSTANCE_REFRESH_PREFERENCES);
  const group = '--auto-scaling-group-name "$AUTO_SCALING_GROUP"';
  const active = REFRESH_ACTIVE.map((status) => `'${status}'`).join(",");
  return {
    version: "0.2",
    env: { shell: "bash" },
    phases: {
      build: {
        "on-failure": "ABORT",
        commands: [
          ...RELEASED_IMAGE,
          'PREVIOUS="$(aws ssm get-parameter --name "$RELEASE_PARAMETER" --query Parameter.Value --output text)"',
          [
            // Refreshes the group onto the recorded $1 and waits; fails unless the refresh ends Successful in time.
            "refresh() {",
            "  local id status deadline",
            `  id="$(aws autoscaling start-instance-refresh ${group} --preferences '${preferences}' --query InstanceRefreshId --output text)" || return 1`,
            `  deadline=$((SECONDS + ${DELIVERY_SETTINGS.instanceRefreshTimeoutSeconds}))`,
            "  while true; do",
            `    status="$(aws autoscaling describe-instance-refreshes ${group} --instance-refresh-ids "$id" --query "InstanceRefreshes[0].Status" --output text)"`,
            '    if [[ "$status" == Successful ]]; then return 0; fi',
            `    if [[ "$status" =~ ^(${REFRESH_FAILED.join("|")})$ || $SECONDS -gt $deadline ]]; then echo "Instance refresh $id of $AUTO_SCALING_GROUP onto $1 ended $status"; return 1; fi`,
            "    sleep 15",
            "  done",
            "}",
            // Waits until the group runs no refresh, so that the one back to the previous release may start.
            "settled() {",
            `  local deadline=$((SECONDS + ${DELIVERY_SETTINGS.instanceRefreshCancelTimeoutSeconds}))`,
            `  until [[ "$(aws autoscaling describe-instance-refreshes ${group} --query "length(InstanceRefreshes[?contains([${active}], Status)])" --output text)" == 0 ]]; do`,
            '    if [[ $SECONDS -gt $deadline ]]; then echo "$AUTO_SCALING_GROUP still runs an instance refresh"; return 1; fi',
            "    sleep 15",
            "  done",
            "}",
            'record() { aws ssm put-parameter --name "$RELEASE_PARAMETER" --type String --value "$1" --overwrite; }',
            'if ! { record "$IMAGE" && refresh "$IMAGE"; }; then',
            '  echo "Release of $IMAGE to $AUTO_SCALING_GROUP failed: putting $PREVIOUS back"',
            // Ours (timed out) or one left running by an earlier deploy; fails harmlessly when none runs.
            `  aws autoscaling cancel-instance-refresh ${group} || true`,
            // Recorded first, so instances launched from now on boot the previous release.
            '  if record "$PREVIOUS" && settled && refresh "$PREVIOUS"; then echo "$AUTO_SCALING_GROUP is back on $PREVIOUS"; else',
            '    echo "Rolling $AUTO_SCALING_GROUP back failed: its instances may run $IMAGE. Fix: set $RELEASE_PARAMETER to $PREVIOUS and start an instance refresh of $AUTO_SCALING_GROUP"',
            "  fi",
            "  exit 1",
            "fi",
          ].join("\n"),
        ],
      },
    },
  };
}

/**
 * Instance refresh preferences: new instances are launched and healthy before old ones stop
 * (the launch template is unchanged, so no instance may be skipped as already matching).
 */
export const INSTANCE_REFRESH_PREFERENCES = { MinHealthyPercentage: 100, MaxHealthyPercentage: 200, SkipMatching: false } as const;
