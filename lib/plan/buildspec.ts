/**
 * The CodeBuild build specifications of a service's pipeline, shared by both engines (and the
 * GitHub deploy job, which runs the same deploy project).
 */
import { DELIVERY_SETTINGS, type ServiceDeliveryPlan } from "./delivery.js";
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

/** Build stage: unit tests, image build, push tagged with the commit, the pushed digest as artifact. */
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
          'docker push "$REPOSITORY_URI:$IMAGE_TAG"',
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
          `IMAGE="\${IMAGE:-$(jq -r .image ${IMAGE_ARTIFACT})}"`,
          'if [[ "$IMAGE" != "$REPOSITORY_URI"@sha256:* || ! "${IMAGE##*@sha256:}" =~ ^[0-9a-f]{64}$ ]]; then echo "Refusing $IMAGE: only a digest of $REPOSITORY_URI is deployed"; exit 1; fi',
          'aws eks update-kubeconfig --name "$CLUSTER_NAME" --region "$AWS_REGION"',
          'kubectl --namespace "$NAMESPACE" set image "deployment/$DEPLOYMENT" "$CONTAINER=$IMAGE"',
          `kubectl --namespace "$NAMESPACE" rollout status "deployment/$DEPLOYMENT" --timeout=${DELIVERY_SETTINGS.rolloutTimeoutSeconds}s`,
          'aws ssm put-parameter --name "$RELEASE_PARAMETER" --type String --value "$IMAGE" --overwrite',
        ],
      },
    },
  };
}
