/**
 * The deploy stage of a paas service on AWS (Elastic Beanstalk), shared by both engines: the
 * source bundle it releases (the same files the environment starts with), the commands that
 * release one image digest to one environment, and the exact IAM statements that allows.
 */
import { RELEASED_IMAGE } from "./buildspec.js";
import { DELIVERY_SETTINGS } from "./delivery.js";
import { beanstalkBundle, type PolicyStatementData } from "./host-bootstrap.js";
import type { LandingZonePlan, ServicePlan } from "./types.js";

/** What a Beanstalk release may touch: one environment of one application, and its release parameter. */
export interface BeanstalkReleaseTarget {
  readonly application: string;
  readonly environment: string;
  readonly releaseParameter: string;
}

/** Where a release is published, and the account it runs in. */
export interface BeanstalkReleaseLocation {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** Environment property the compose file takes the service's image from (as `beanstalkOptionSettings` sets it). */
export const BEANSTALK_IMAGE_PROPERTY = { namespace: "aws:elasticbeanstalk:application:environment", optionName: "MSA_IMAGE" } as const;

/** Beanstalk's own bucket of the account and region, which it reads bundles and writes environment templates in. */
export function beanstalkBucket(region: string, account: string): string {
  return `elasticbeanstalk-${region}-${account}`;
}

/** Key prefix of an environment's release bundles; only its deployer may write below it. */
export function beanstalkReleasePrefix(environment: string): string {
  return `msa-releases/${environment}/`;
}

/**
 * The bundle a service's environment runs, as both engines' service stacks build it (Filebeat with
 * a log buffer, session variables with a session store): a release ships exactly these files.
 */
export function plannedBeanstalkBundle(plan: LandingZonePlan, service: ServicePlan): Record<string, string> {
  return beanstalkBundle(plan, service, { logBuffer: plan.logging?.buffer !== undefined, sessionStore: plan.sessions !== undefined });
}

/** Why a bundle given to a deploy target cannot be released, or undefined; `owner` names the prop in the message. */
export function beanstalkBundleProblem(owner: string, bundle: Readonly<Record<string, string>>): string | undefined {
  return bundle["docker-compose.yml"] === undefined
    ? `${owner}: deploy.bundle has no docker-compose.yml (files: ${Object.keys(bundle).join(", ") || "none"}), so the release would not run the service. Fix: pass plannedBeanstalkBundle(plan, service), the files the environment starts with`
    : undefined;
}

/** Environment of a paas service's deploy project: the one environment it releases to, its bundle and its release parameter. */
export function beanstalkReleaseEnvironment(target: BeanstalkReleaseTarget, repositoryUri: string, bundleBucket: string, bundle: Readonly<Record<string, string>>): Record<string, string> {
  const files = Object.fromEntries(Object.entries(bundle).sort(([a], [b]) => a.localeCompare(b)));
  return {
    REPOSITORY_URI: repositoryUri,
    APPLICATION: target.application,
    ENVIRONMENT: target.environment,
    BUNDLE_BUCKET: bundleBucket,
    BUNDLE_PREFIX: beanstalkReleasePrefix(target.environment),
    // Base64 keeps the YAML's quotes and newlines intact through CodeBuild's variables.
    BUNDLE_FILES: Buffer.from(JSON.stringify(files)).toString("base64"),
    RELEASE_PARAMETER: target.releaseParameter,
  };
}

const DESCRIBE = 'aws elasticbeanstalk describe-environments --application-name "$APPLICATION" --environment-names "$ENVIRONMENT"';

/**
 * Deploy stage of a paas service: writes the service's bundle as a new application version
 * labelled with the digest and build, deploys it with the digest as the image property to its one
 * environment, and waits until the environment is Ready and Green on that version. Otherwise it
 * redeploys the previous version with the previous image and fails. The release parameter is
 * written only after success, so a redeploy of the service's stack keeps the running image.
 */
export function beanstalkReleaseStageSpec(): Record<string, unknown> {
  const image = (value: string) => `"$(jq -nc --arg v "${value}" '[{Namespace:"${BEANSTALK_IMAGE_PROPERTY.namespace}",OptionName:"${BEANSTALK_IMAGE_PROPERTY.optionName}",Value:$v}]')"`;
  const update = (label: string, value: string) => `aws elasticbeanstalk update-environment --application-name "$APPLICATION" --environment-name "$ENVIRONMENT" --version-label "${label}" --option-settings ${image(value)} > /dev/null`;
  return {
    version: "0.2",
    env: { shell: "bash" },
    phases: {
      build: {
        "on-failure": "ABORT",
        commands: [
          ...RELEASED_IMAGE,
          'LABEL="${IMAGE##*@sha256:}"; LABEL="${LABEL:0:12}-${CODEBUILD_BUILD_NUMBER}"',
          'KEY="${BUNDLE_PREFIX}${LABEL}.zip"',
          // The same files the environment started with; the image stays in its MSA_IMAGE property.
          [
            'mkdir -p bundle && printf "%s" "$BUNDLE_FILES" | base64 -d > bundle.json',
            "jq -r 'keys[]' bundle.json | while IFS= read -r file; do",
            '  mkdir -p "bundle/$(dirname "$file")" && jq -j --arg f "$file" \'.[$f]\' bundle.json > "bundle/$file"',
            "done",
            "(cd bundle && zip -qrX ../bundle.zip .)",
          ].join("\n"),
          'aws s3 cp bundle.zip "s3://$BUNDLE_BUCKET/$KEY"',
          `PREVIOUS_LABEL="$(${DESCRIBE} --query "Environments[0].VersionLabel" --output text)"`,
          'PREVIOUS="$(aws ssm get-parameter --name "$RELEASE_PARAMETER" --query Parameter.Value --output text)"',
          'aws elasticbeanstalk create-application-version --application-name "$APPLICATION" --version-label "$LABEL" --description "${IMAGE:0:200}" --source-bundle "S3Bucket=$BUNDLE_BUCKET,S3Key=$KEY" > /dev/null',
          update("$LABEL", "$IMAGE"),
          [
            `DEADLINE=$((SECONDS + ${DELIVERY_SETTINGS.environmentUpdateTimeoutSeconds}))`,
            // Polled after a pause: right after the call the environment may still report Ready on the old version.
            "while sleep 15; do",
            `  read -r STATUS HEALTH RUNNING <<< "$(${DESCRIBE} --query "Environments[0].[Status,Health,VersionLabel]" --output text)"`,
            '  if [[ "$STATUS" == Ready && "$HEALTH" == Green && "$RUNNING" == "$LABEL" ]]; then break; fi',
            // Ready on another version: Beanstalk gave the deployment up; Red: the new version is failing.
            '  if [[ ( "$STATUS" == Ready && ( "$RUNNING" != "$LABEL" || "$HEALTH" == Red ) ) || $SECONDS -gt $DEADLINE ]]; then',
            '    echo "$ENVIRONMENT is $STATUS/$HEALTH on $RUNNING, not Ready/Green on $LABEL: redeploying $PREVIOUS_LABEL ($PREVIOUS)"',
            `    aws elasticbeanstalk wait environment-updated --application-name "$APPLICATION" --environment-names "$ENVIRONMENT"`,
            `    ${update("$PREVIOUS_LABEL", "$PREVIOUS")}`,
            `    aws elasticbeanstalk wait environment-updated --application-name "$APPLICATION" --environment-names "$ENVIRONMENT"`,
            "    exit 1",
            "  fi",
            "done",
          ].join("\n"),
          'aws ssm put-parameter --name "$RELEASE_PARAMETER" --type String --value "$IMAGE" --overwrite',
        ],
      },
    },
  };
}

/** Tag Beanstalk puts on every resource of an environment. */
const ENVIRONMENT_TAG = "elasticbeanstalk:environment-name";

/**
 * The deploy project's statements beyond recording its release (`DELIVERY_ACTIONS.recordRelease`):
 * UpdateEnvironment acts with the caller's rights on the environment's stack, Auto Scaling group,
 * launch template, target group and Beanstalk's bucket, so each is granted, scoped to what is
 * known before the environment exists (Beanstalk generates the environment id in those names) and,
 * where the service supports it, to resources tagged with the environment's name.
 */
export function beanstalkReleaseStatements(target: BeanstalkReleaseTarget, at: BeanstalkReleaseLocation & { readonly releaseParameterArn: string }): PolicyStatementData[] {
  const arn = (service: string, resource: string, region = at.region, account = at.account) => `arn:${at.partition}:${service}:${region}:${account}:${resource}`;
  const bucket = `arn:${at.partition}:s3:::${beanstalkBucket(at.region, at.account)}`;
  const tagged = (key: string) => ({ StringEquals: { [key]: target.environment } });
  return [
    { sid: "ReadPreviousRelease", actions: ["ssm:GetParameter"], resources: [at.releaseParameterArn] },
    { sid: "WriteReleaseBundle", actions: ["s3:GetObject", "s3:PutObject"], resources: [`${bucket}/${beanstalkReleasePrefix(target.environment)}*`] },
    {
      sid: "CreateVersion",
      actions: ["elasticbeanstalk:CreateApplicationVersion"],
      resources: [arn("elasticbeanstalk", `applicationversion/${target.application}/*`)],
      condition: { StringEquals: { "elasticbeanstalk:InApplication": arn("elasticbeanstalk", `application/${target.application}`) } },
    },
    {
      sid: "UpdateEnvironment",
      actions: ["elasticbeanstalk:DescribeEnvironments", "elasticbeanstalk:DescribeEvents", "elasticbeanstalk:UpdateEnvironment"],
      resources: [arn("elasticbeanstalk", `environment/${target.application}/${target.environment}`)],
    },
    // Beanstalk keeps each environment's template and state under resources/environments/<environment id>/.
    { sid: "BeanstalkBucketObjects", actions: ["s3:GetObject", "s3:PutObject"], resources: [`${bucket}/resources/environments/*`] },
    { sid: "BeanstalkBucket", actions: ["s3:GetBucketLocation", "s3:ListBucket"], resources: [bucket] },
    {
      sid: "EnvironmentStack",
      actions: ["cloudformation:CancelUpdateStack", "cloudformation:ContinueUpdateRollback", "cloudformation:DescribeStackEvents", "cloudformation:DescribeStackResource", "cloudformation:DescribeStackResources", "cloudformation:DescribeStacks", "cloudformation:GetTemplate", "cloudformation:UpdateStack"],
      resources: [arn("cloudformation", "stack/awseb-e-*-stack/*")],
    },
    {
      sid: "EnvironmentGroup",
      actions: ["autoscaling:ResumeProcesses", "autoscaling:SuspendProcesses", "autoscaling:TerminateInstanceInAutoScalingGroup", "autoscaling:UpdateAutoScalingGroup"],
      resources: [arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/awseb-e-*")],
      condition: tagged(`autoscaling:ResourceTag/${ENVIRONMENT_TAG}`),
    },
    {
      sid: "EnvironmentLaunchTemplate",
      actions: ["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"],
      resources: [arn("ec2", "launch-template/*")],
      condition: tagged(`aws:ResourceTag/${ENVIRONMENT_TAG}`),
    },
    {
      sid: "EnvironmentTargets",
      actions: ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"],
      resources: [arn("elasticloadbalancing", "targetgroup/awseb-*/*")],
      condition: tagged(`aws:ResourceTag/${ENVIRONMENT_TAG}`),
    },
    {
      sid: "DescribeEnvironmentResources",
      actions: [
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeScalingActivities",
        "ec2:DescribeInstances",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:DescribeLaunchTemplates",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
      ],
      resources: ["*"],
    },
  ];
}

/** Why a release statement (by sid) keeps a wildcard in its resource; cdk-nag acknowledgements quote it. */
export const BEANSTALK_RELEASE_WILDCARDS: Readonly<Record<string, string>> = {
  WriteReleaseBundle: "Each release writes a new bundle named after its digest and build, below the environment's own release prefix.",
  CreateVersion: "Each release creates a version labelled by its digest and build; the condition keeps it in the landing zone's application.",
  BeanstalkBucketObjects: "Beanstalk writes each environment's template under resources/environments/<generated environment id>/ with the caller's rights.",
  EnvironmentStack: "Beanstalk names the environment's stack awseb-<generated environment id>-stack; the id is unknown until the environment exists.",
  EnvironmentGroup: "The environment's Auto Scaling group is named awseb-<generated id>; the condition limits it to groups tagged with this environment's name.",
  EnvironmentLaunchTemplate: "Launch template ids are generated; the condition limits the actions to templates tagged with this environment's name.",
  EnvironmentTargets: "Beanstalk names its target groups awseb-<generated>; the condition limits the actions to groups tagged with this environment's name.",
  DescribeEnvironmentResources: "Auto Scaling, EC2 and Elastic Load Balancing Describe calls, with which Beanstalk follows the rolling deployment, have no resource-level permissions.",
};
