import { beforeAll, describe, expect, it } from "vitest";
import { plannedBeanstalkBundle } from "../../../lib/plan/beanstalk-release.js";
import { shortHash } from "../../../lib/plan/naming.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { LandingZone } from "../../../lib/pulumi/aws/landing-zone.js";
import { ServiceDelivery } from "../../../lib/pulumi/aws/service-delivery.js";
import { wildcardProblems } from "../../../lib/pulumi/policy/aws.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { byType, childrenOf, jsonInput, MOCK_ACCOUNT, MOCK_REGION, runProgram, single, type RegisteredResource } from "../harness.js";

const EXAMPLE = loadSpecFile("examples/aws-paas/landing-zone.yaml");
const SERVICES = [...EXAMPLE.services.map((s) => s.name), ...EXAMPLE.bffs.map((b) => b.name)];
const RELEASED = `${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com/released@sha256:${"0".repeat(64)}`;

async function zone(spec: LandingZoneSpec): Promise<RegisteredResource[]> {
  return (await runProgram(() => void new LandingZone("shop", { spec }))).resources;
}
const under = (resources: RegisteredResource[], component: string) => resources.filter((r) => r.path.split("/").includes(component));
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Sid?: string; Condition?: unknown };
const statements = (r: RegisteredResource) => (jsonInput(r, "policy") as { Statement: Statement[] }).Statement;
const environmentOf = (project: RegisteredResource) =>
  Object.fromEntries((project.inputs["environment"] as { environmentVariables: { name: string; value: string }[] }).environmentVariables.map((v) => [v.name, v.value]));

/** The release statements of `service`'s deployer in the mock account and region. */
function releaseStatements(service: string, env: string, release: unknown): Statement[] {
  const at = (name: string, resource: string) => `arn:aws:${name}:${MOCK_REGION}:${MOCK_ACCOUNT}:${resource}`;
  const environment = `shop-${env}-${service}`;
  const tagged = (key: string) => ({ StringEquals: { [key]: environment } });
  const bucket = `arn:aws:s3:::elasticbeanstalk-${MOCK_REGION}-${MOCK_ACCOUNT}`;
  return [
    { Sid: "ReadPreviousRelease", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [release] },
    { Sid: "WriteReleaseBundle", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: [`${bucket}/msa-releases/${environment}/*`] },
    {
      Sid: "CreateVersion",
      Effect: "Allow",
      Action: ["elasticbeanstalk:CreateApplicationVersion"],
      Resource: [at("elasticbeanstalk", `applicationversion/shop-${env}/*`)],
      Condition: { StringEquals: { "elasticbeanstalk:InApplication": at("elasticbeanstalk", `application/shop-${env}`) } },
    },
    { Sid: "UpdateEnvironment", Effect: "Allow", Action: ["elasticbeanstalk:DescribeEnvironments", "elasticbeanstalk:DescribeEvents", "elasticbeanstalk:UpdateEnvironment"], Resource: [at("elasticbeanstalk", `environment/shop-${env}/${environment}`)] },
    { Sid: "BeanstalkBucketObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: [`${bucket}/resources/environments/*`] },
    { Sid: "BeanstalkBucket", Effect: "Allow", Action: ["s3:GetBucketLocation", "s3:ListBucket"], Resource: [bucket] },
    {
      Sid: "EnvironmentStack",
      Effect: "Allow",
      Action: ["cloudformation:CancelUpdateStack", "cloudformation:ContinueUpdateRollback", "cloudformation:DescribeStackEvents", "cloudformation:DescribeStackResource", "cloudformation:DescribeStackResources", "cloudformation:DescribeStacks", "cloudformation:GetTemplate", "cloudformation:UpdateStack"],
      Resource: [at("cloudformation", "stack/awseb-e-*-stack/*")],
    },
    {
      Sid: "EnvironmentGroup",
      Effect: "Allow",
      Action: ["autoscaling:ResumeProcesses", "autoscaling:SuspendProcesses", "autoscaling:TerminateInstanceInAutoScalingGroup", "autoscaling:UpdateAutoScalingGroup"],
      Resource: [at("autoscaling", "autoScalingGroup:*:autoScalingGroupName/awseb-e-*")],
      Condition: tagged("autoscaling:ResourceTag/elasticbeanstalk:environment-name"),
    },
    { Sid: "EnvironmentLaunchTemplate", Effect: "Allow", Action: ["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"], Resource: [at("ec2", "launch-template/*")], Condition: tagged("aws:ResourceTag/elasticbeanstalk:environment-name") },
    { Sid: "EnvironmentTargets", Effect: "Allow", Action: ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"], Resource: [at("elasticloadbalancing", "targetgroup/awseb-*/*")], Condition: tagged("aws:ResourceTag/elasticbeanstalk:environment-name") },
    {
      Sid: "DescribeEnvironmentResources",
      Effect: "Allow",
      Action: [
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
      Resource: ["*"],
    },
  ];
}

describe("ServiceDelivery on paas (Pulumi, native, prod)", () => {
  let resources: RegisteredResource[];
  const spec = { ...EXAMPLE, environment: "prod" as const, pipelines: { ...EXAMPLE.pipelines, perService: true, provider: "native" as const, repositoryOwner: "acme" } };
  beforeAll(async () => {
    resources = await zone(spec);
  });

  it("gives each service and BFF one pipeline: source, build, approval, then a release to its own environment", () => {
    expect(childrenOf(resources, "shop").filter((r) => r.type === "msa:aws:ServiceDelivery").map((d) => d.name)).toEqual(SERVICES.map((s) => `shop-${s}-delivery`));
    for (const service of SERVICES) {
      const own = under(resources, `shop-${service}-delivery`);
      const stages = single(own, "aws:codepipeline/pipeline:Pipeline").inputs["stages"] as { name: string; actions: { provider: string; configuration?: Record<string, unknown> }[] }[];
      expect(stages.map((s) => s.name)).toEqual(["Source", "Build", "Approve", "Deploy"]);
      expect(stages.map((s) => s.actions[0]!.provider)).toEqual(["CodeStarSourceConnection", "CodeBuild", "Manual", "CodeBuild"]);
      expect(stages[0]!.actions[0]!.configuration).toMatchObject({ FullRepositoryId: `acme/${service}` });
      expect(stages[3]!.actions[0]!.configuration).toEqual({ ProjectName: `shop-prod-${service}-deploy` });
    }
  });

  it("releases to only the service's environment, outside the VPC, with the bundle its environment starts with", () => {
    const plan = planLandingZone(spec, { engine: "pulumi" });
    for (const service of SERVICES) {
      const own = under(resources, `shop-${service}-delivery`);
      const project = single(own, "aws:codebuild/project:Project", `shop-${service}-delivery-deploy`);
      const env = environmentOf(project);
      expect(env).toEqual({
        REPOSITORY_URI: `${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com/shop-${service}`,
        APPLICATION: "shop-prod",
        ENVIRONMENT: `shop-prod-${service}`,
        BUNDLE_BUCKET: `elasticbeanstalk-${MOCK_REGION}-${MOCK_ACCOUNT}`,
        BUNDLE_PREFIX: `msa-releases/shop-prod-${service}/`,
        BUNDLE_FILES: expect.any(String),
        RELEASE_PARAMETER: `/msa/shop/prod/delivery/${service}/image`,
      });
      const bundle = JSON.parse(Buffer.from(env["BUNDLE_FILES"]!, "base64").toString("utf8")) as Record<string, string>;
      expect(bundle).toEqual(plannedBeanstalkBundle(plan, plan.services.find((s) => s.name === service)!));
      // The environment's own first version ships the same files.
      const initial = single(resources, "aws:s3/bucketObjectv2:BucketObjectv2", `shop-${service}-bundle`);
      expect(initial.inputs["key"]).toBe(`${service}/${shortHash(JSON.stringify(Object.entries(bundle).sort()), 16)}.zip`);
      expect(project.inputs).not.toHaveProperty("vpcConfig");
      expect(project.inputs["buildTimeout"]).toBe(45);
      const buildSpec = String((project.inputs["source"] as { buildspec: string }).buildspec);
      expect(buildSpec.indexOf('--version-label "$PREVIOUS_LABEL"')).toBeGreaterThan(buildSpec.indexOf('--version-label "$LABEL"'));
      expect(buildSpec.indexOf('put-parameter --name "$RELEASE_PARAMETER"')).toBeGreaterThan(buildSpec.indexOf('--version-label "$PREVIOUS_LABEL"'));
      expect(byType(own, "aws:eks/accessEntry:AccessEntry")).toEqual([]);
      expect(byType(own, "aws:ec2/securityGroup:SecurityGroup")).toEqual([]);
    }
  });

  it("grants the deployer exactly its release parameter, bundle prefix, version, environment and the environment's resources", () => {
    const own = under(resources, "shop-orders-delivery");
    const release = single(own, "aws:ssm/parameter:Parameter");
    const policy = single(own, "aws:iam/rolePolicy:RolePolicy", "shop-orders-delivery-deployer-policy");
    const all = statements(policy);
    expect(all.slice(0, 11)).toEqual(releaseStatements("orders", "prod", release.outputs["arn"]));
    expect(all.slice(11).map((s) => [s.Action, s.Resource])).toEqual([
      [["ssm:PutParameter"], release.outputs["arn"]],
      [["logs:CreateLogStream", "logs:PutLogEvents"], expect.stringMatching(/:\*$/)],
      [["s3:GetObject", "s3:GetObjectVersion"], expect.stringMatching(/\/\*$/)],
      [["kms:Decrypt", "kms:DescribeKey"], expect.stringMatching(/^arn:aws:kms:/)],
    ]);
    expect(JSON.stringify(all)).not.toContain("shop-prod-payments");
    expect(wildcardProblems(policy.inputs["policy"])).toEqual([]);
  });

  it("runs each environment on the released image, so `pulumi up` keeps what the pipeline deployed", () => {
    for (const service of SERVICES) {
      const environment = single(resources, "aws:elasticbeanstalk/environment:Environment", `shop-${service}-environment`);
      const settings = environment.inputs["settings"] as { namespace: string; name: string; value: string }[];
      expect(settings.find((s) => s.namespace === "aws:elasticbeanstalk:application:environment" && s.name === "MSA_IMAGE")?.value).toBe(RELEASED);
    }
  });
});

describe("ServiceDelivery on paas (Pulumi, GitHub Actions, dev)", () => {
  it("gives each service a deploy project its environment's role may start, releasing to its own environment, no pipeline", async () => {
    const resources = await zone({ ...EXAMPLE, environment: "dev", pipelines: { ...EXAMPLE.pipelines, perService: true, provider: "github-actions", repositoryOwner: "acme" } });
    expect(byType(resources, "aws:codepipeline/pipeline:Pipeline")).toEqual([]);
    for (const service of SERVICES) {
      const own = under(resources, `shop-${service}-delivery`);
      const project = single(own, "aws:codebuild/project:Project", `shop-${service}-delivery-deploy`);
      expect(environmentOf(project)).toMatchObject({ APPLICATION: "shop-dev", ENVIRONMENT: `shop-dev-${service}` });
      expect(project.inputs["source"]).toMatchObject({ type: "NO_SOURCE" });
      const deployRole = statements(single(own, "aws:iam/rolePolicy:RolePolicy", `shop-${service}-delivery-deploy-role-policy`));
      expect(deployRole[0]).toEqual({ Effect: "Allow", Action: ["codebuild:BatchGetBuilds", "codebuild:StartBuild"], Resource: project.outputs["arn"] });
    }
  });
});

describe("ServiceDelivery on a Beanstalk environment, on its own", () => {
  it("releases the given bundle to the given environment with an existing repository", async () => {
    const { resources } = await runProgram(
      () =>
        void new ServiceDelivery("orders", {
          serviceName: "orders",
          existingRepository: { repositoryUrl: `${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com/orders`, arn: `arn:aws:ecr:${MOCK_REGION}:${MOCK_ACCOUNT}:repository/orders` },
          source: { connectionArn: "arn:aws:codeconnections:us-east-1:111111111111:connection/x", owner: "acme", repository: "orders" },
          deploy: { applicationName: "shop", environmentName: "orders-env", bundle: { "docker-compose.yml": "services: {}\n" } },
        }),
    );
    expect(environmentOf(single(resources, "aws:codebuild/project:Project", "orders-deploy"))).toMatchObject({ APPLICATION: "shop", ENVIRONMENT: "orders-env", RELEASE_PARAMETER: "/msa/delivery/orders/image" });
    expect(JSON.stringify(statements(single(resources, "aws:iam/rolePolicy:RolePolicy", "orders-deployer-policy")))).toContain(`arn:aws:elasticbeanstalk:${MOCK_REGION}:${MOCK_ACCOUNT}:environment/shop/orders-env`);
    expect(byType(resources, "aws:eks/accessEntry:AccessEntry")).toEqual([]);
  });

  it("refuses a bundle without its compose file before registering anything, naming the prop and the fix", async () => {
    let error: unknown;
    const { resources } = await runProgram(() => {
      try {
        new ServiceDelivery("orders", { serviceName: "orders", repositoryName: "orders", deploy: { applicationName: "shop", environmentName: "orders-env", bundle: {} } });
      } catch (e) {
        error = e;
      }
    });
    expect(String(error)).toMatch(/ServiceDelivery orders: deploy.bundle has no docker-compose.yml \(files: none\).*Fix: pass plannedBeanstalkBundle/);
    expect(resources).toEqual([]);
  });
});
