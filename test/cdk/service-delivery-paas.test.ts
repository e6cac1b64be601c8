import { App, Stack, aws_ecr as ecr } from "aws-cdk-lib";
import { beforeAll, describe, expect, it } from "vitest";
import { ServiceDelivery } from "../../lib/cdk/service-delivery.js";
import { plannedBeanstalkBundle } from "../../lib/plan/beanstalk-release.js";
import { planLandingZone } from "../../lib/plan/planner.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import { CDK_CONTEXT, buildSpecOf, deployProjectOf, environmentOf, ofType, policiesOf, roleIdOf, synthDelivery, type CfnTemplate } from "./delivery-fixture.js";

const EXAMPLE = loadSpecFile("examples/aws-paas/landing-zone.yaml");
const SERVICES = [...EXAMPLE.services.map((s) => s.name), ...EXAMPLE.bffs.map((b) => b.name)];

/** The release statements of a deployer in ap-northeast-2, account 111111111111, for the prod environment of `service`. */
function releaseStatements(service: string, env: string, release: unknown): Record<string, unknown>[] {
  const at = (service: string, resource: string) => `arn:aws:${service}:ap-northeast-2:111111111111:${resource}`;
  const environment = `shop-${env}-${service}`;
  const tagged = (key: string) => ({ StringEquals: { [key]: environment } });
  const bucket = "arn:aws:s3:::elasticbeanstalk-ap-northeast-2-111111111111";
  return [
    { Sid: "ReadPreviousRelease", Action: "ssm:GetParameter", Effect: "Allow", Resource: release },
    { Sid: "WriteReleaseBundle", Action: ["s3:GetObject", "s3:PutObject"], Effect: "Allow", Resource: `${bucket}/msa-releases/${environment}/*` },
    {
      Sid: "CreateVersion",
      Action: "elasticbeanstalk:CreateApplicationVersion",
      Effect: "Allow",
      Resource: at("elasticbeanstalk", `applicationversion/shop-${env}/*`),
      Condition: { StringEquals: { "elasticbeanstalk:InApplication": at("elasticbeanstalk", `application/shop-${env}`) } },
    },
    { Sid: "UpdateEnvironment", Action: ["elasticbeanstalk:DescribeEnvironments", "elasticbeanstalk:DescribeEvents", "elasticbeanstalk:UpdateEnvironment"], Effect: "Allow", Resource: at("elasticbeanstalk", `environment/shop-${env}/${environment}`) },
    { Sid: "BeanstalkBucketObjects", Action: ["s3:GetObject", "s3:PutObject"], Effect: "Allow", Resource: `${bucket}/resources/environments/*` },
    { Sid: "BeanstalkBucket", Action: ["s3:GetBucketLocation", "s3:ListBucket"], Effect: "Allow", Resource: bucket },
    {
      Sid: "EnvironmentStack",
      Action: ["cloudformation:CancelUpdateStack", "cloudformation:ContinueUpdateRollback", "cloudformation:DescribeStackEvents", "cloudformation:DescribeStackResource", "cloudformation:DescribeStackResources", "cloudformation:DescribeStacks", "cloudformation:GetTemplate", "cloudformation:UpdateStack"],
      Effect: "Allow",
      Resource: at("cloudformation", "stack/awseb-e-*-stack/*"),
    },
    {
      Sid: "EnvironmentGroup",
      Action: ["autoscaling:ResumeProcesses", "autoscaling:SuspendProcesses", "autoscaling:TerminateInstanceInAutoScalingGroup", "autoscaling:UpdateAutoScalingGroup"],
      Effect: "Allow",
      Resource: at("autoscaling", "autoScalingGroup:*:autoScalingGroupName/awseb-e-*"),
      Condition: tagged("autoscaling:ResourceTag/elasticbeanstalk:environment-name"),
    },
    { Sid: "EnvironmentLaunchTemplate", Action: ["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"], Effect: "Allow", Resource: at("ec2", "launch-template/*"), Condition: tagged("aws:ResourceTag/elasticbeanstalk:environment-name") },
    { Sid: "EnvironmentTargets", Action: ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"], Effect: "Allow", Resource: at("elasticloadbalancing", "targetgroup/awseb-*/*"), Condition: tagged("aws:ResourceTag/elasticbeanstalk:environment-name") },
    {
      Sid: "DescribeEnvironmentResources",
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
      Effect: "Allow",
      Resource: "*",
    },
  ];
}

describe("per-service delivery on paas (native CodePipeline, prod)", () => {
  let templates: Map<string, CfnTemplate>;
  const template = (part: string) => templates.get(`shop-prod-${part}`)!;
  const spec = { ...EXAMPLE, environment: "prod" as const, pipelines: { ...EXAMPLE.pipelines, perService: true, provider: "native" as const, repositoryOwner: "acme" } };
  beforeAll(() => {
    templates = synthDelivery(spec);
  });

  it("gives each service and BFF one pipeline: source, build, approval, then a release to its own environment", () => {
    for (const service of SERVICES) {
      const t = template(`delivery-${service}`);
      const pipelines = ofType(t, "AWS::CodePipeline::Pipeline");
      expect(pipelines).toHaveLength(1);
      const stages = pipelines[0]![1].Properties!.Stages as { Name: string; Actions: { ActionTypeId: { Provider: string }; Configuration?: Record<string, unknown> }[] }[];
      expect(stages.map((s) => s.Name)).toEqual(["Source", "Build", "Approve", "Deploy"]);
      expect(stages.map((s) => s.Actions[0]!.ActionTypeId.Provider)).toEqual(["CodeStarSourceConnection", "CodeBuild", "Manual", "CodeBuild"]);
      expect(stages[0]!.Actions[0]!.Configuration).toMatchObject({ FullRepositoryId: `acme/${service}` });
      const project = deployProjectOf(t, service, "prod");
      expect(stages[3]!.Actions[0]!.Configuration).toMatchObject({ ProjectName: { Ref: Object.entries(t.Resources).find(([, r]) => r === project)![0] } });
    }
  });

  it("releases to only the service's environment, outside the VPC, with the bundle its environment runs", () => {
    const plan = planLandingZone(spec, { engine: "cdk" });
    for (const service of SERVICES) {
      const project = deployProjectOf(template(`delivery-${service}`), service, "prod");
      const env = environmentOf(project);
      expect(env).toMatchObject({
        APPLICATION: "shop-prod",
        ENVIRONMENT: `shop-prod-${service}`,
        BUNDLE_BUCKET: "elasticbeanstalk-ap-northeast-2-111111111111",
        BUNDLE_PREFIX: `msa-releases/shop-prod-${service}/`,
        RELEASE_PARAMETER: `/msa/shop/prod/delivery/${service}/image`,
      });
      const bundle = JSON.parse(Buffer.from(String(env.BUNDLE_FILES), "base64").toString("utf8")) as Record<string, string>;
      expect(bundle).toEqual(plannedBeanstalkBundle(plan, plan.services.find((s) => s.name === service)!));
      expect(bundle["docker-compose.yml"]).toContain("image: ${MSA_IMAGE}");
      expect(project.Properties!.VpcConfig).toBeUndefined();
      expect(project.Properties!.TimeoutInMinutes).toBe(45);
      const buildSpec = buildSpecOf(project);
      const upload = buildSpec.indexOf('aws s3 cp bundle.zip "s3://$BUNDLE_BUCKET/$KEY"');
      const version = buildSpec.indexOf("aws elasticbeanstalk create-application-version");
      const update = buildSpec.indexOf('aws elasticbeanstalk update-environment --application-name "$APPLICATION" --environment-name "$ENVIRONMENT" --version-label "$LABEL"');
      const rollback = buildSpec.indexOf('--version-label "$PREVIOUS_LABEL"');
      const record = buildSpec.indexOf('put-parameter --name "$RELEASE_PARAMETER" --type String --value "$IMAGE"');
      expect([upload, version, update, rollback, record].every((i) => i > -1)).toBe(true);
      expect(upload < version && version < update && update < rollback && rollback < record).toBe(true);
      expect(buildSpec).toContain('"$STATUS" == Ready && "$HEALTH" == Green && "$RUNNING" == "$LABEL"');
      expect(buildSpec).not.toContain("kubectl");
    }
  });

  it("grants the deployer exactly its release parameter, bundle prefix, version, environment and the environment's resources", () => {
    const t = template("delivery-orders");
    const project = deployProjectOf(t, "orders", "prod");
    const [releaseId] = ofType(t, "AWS::SSM::Parameter")[0]!;
    const release = { "Fn::Join": ["", ["arn:aws:ssm:ap-northeast-2:111111111111:parameter", { Ref: releaseId }]] };
    const statements = policiesOf(t, roleIdOf(project));
    const own = statements.filter((s) => s.Sid !== undefined || String(([] as unknown[]).concat(s.Action)[0]).startsWith("ssm:"));
    expect(own).toEqual([...releaseStatements("orders", "prod", release), { Action: "ssm:PutParameter", Effect: "Allow", Resource: release }]);
    // Nothing else of Beanstalk, no action family wildcard, no network.
    const actions = statements.flatMap((s) => ([] as unknown[]).concat(s.Action));
    expect(actions).not.toContain("elasticbeanstalk:*");
    expect(actions.filter((a) => String(a).startsWith("elasticbeanstalk:"))).toEqual(["elasticbeanstalk:CreateApplicationVersion", "elasticbeanstalk:DescribeEnvironments", "elasticbeanstalk:DescribeEvents", "elasticbeanstalk:UpdateEnvironment"]);
    expect(JSON.stringify(statements)).not.toContain("shop-prod-payments");
    expect(ofType(t, "AWS::EKS::AccessEntry")).toEqual([]);
    expect(ofType(t, "AWS::EC2::SecurityGroup")).toEqual([]);
  });

  it("runs the service's environment on the release its pipeline recorded, so redeploying the stack keeps it", () => {
    const t = template("svc-orders");
    const [, environment] = ofType(t, "AWS::ElasticBeanstalk::Environment")[0]!;
    const image = (environment.Properties!.OptionSettings as { Namespace: string; OptionName: string; Value: unknown }[]).find((o) => o.OptionName === "MSA_IMAGE")!;
    expect(image.Namespace).toBe("aws:elasticbeanstalk:application:environment");
    const parameter = (image.Value as { Ref: string }).Ref;
    expect(t.Parameters![parameter]).toEqual({ Type: "AWS::SSM::Parameter::Value<String>", Default: "/msa/shop/prod/delivery/orders/image" });
    expect(environment.Properties!.EnvironmentName).toBe(environmentOf(deployProjectOf(template("delivery-orders"), "orders", "prod")).ENVIRONMENT);
  });
});

describe("per-service delivery on paas (GitHub Actions, dev)", () => {
  it("gives each service a deploy project its environment's role may start, releasing to its own environment, no approval, no pipeline", () => {
    const templates = synthDelivery({ ...EXAMPLE, environment: "dev", pipelines: { ...EXAMPLE.pipelines, perService: true, provider: "github-actions", repositoryOwner: "acme" } });
    for (const service of SERVICES) {
      const t = templates.get(`shop-dev-delivery-${service}`)!;
      expect(ofType(t, "AWS::CodePipeline::Pipeline")).toEqual([]);
      expect(environmentOf(deployProjectOf(t, service, "dev"))).toMatchObject({ APPLICATION: "shop-dev", ENVIRONMENT: `shop-dev-${service}` });
      expect(ofType(t, "AWS::IAM::Role").map(([, r]) => r.Properties!.RoleName)).toEqual(expect.arrayContaining([`shop-dev-${service}-publish`, `shop-dev-${service}-deploy`]));
    }
  });
});

describe("ServiceDelivery on a Beanstalk environment, on its own", () => {
  it("releases the given bundle to the given environment from an existing repository, with no VPC, cluster or access entry", () => {
    const app = new App({ context: CDK_CONTEXT });
    const stack = new Stack(app, "Beanstalk", { env: { account: "111111111111", region: "eu-west-1" } });
    new ServiceDelivery(stack, "Orders", {
      serviceName: "orders",
      existingRepository: ecr.Repository.fromRepositoryName(stack, "Repository", "orders"),
      source: { connectionArn: "arn:aws:codeconnections:eu-west-1:111111111111:connection/x", owner: "acme", repository: "orders" },
      deploy: { applicationName: "shop", environmentName: "orders-env", bundle: { "docker-compose.yml": "services: {}\n" } },
    });
    const t = app.synth().getStackByName("Beanstalk").template as CfnTemplate;
    const project = ofType(t, "AWS::CodeBuild::Project").find(([, p]) => String(p.Properties!.Description).startsWith("Releases"))![1];
    expect(environmentOf(project)).toMatchObject({ APPLICATION: "shop", ENVIRONMENT: "orders-env", RELEASE_PARAMETER: "/msa/delivery/orders/image", BUNDLE_FILES: Buffer.from('{"docker-compose.yml":"services: {}\\n"}').toString("base64") });
    expect(JSON.stringify(policiesOf(t, roleIdOf(project)))).toContain("arn:aws:elasticbeanstalk:eu-west-1:111111111111:environment/shop/orders-env");
    expect(ofType(t, "AWS::EKS::AccessEntry")).toEqual([]);
    expect(ofType(t, "AWS::EC2::SecurityGroup")).toEqual([]);
  });

  it("refuses a bundle without its compose file before creating anything, naming the prop and the fix", () => {
    const stack = new Stack(new App({ context: CDK_CONTEXT }), "Bad", { env: { account: "111111111111", region: "eu-west-1" } });
    expect(
      () => new ServiceDelivery(stack, "Orders", { serviceName: "orders", repositoryName: "orders", deploy: { applicationName: "shop", environmentName: "orders-env", bundle: { Dockerfile: "FROM scratch" } } }),
    ).toThrow(/ServiceDelivery orders: deploy.bundle has no docker-compose.yml \(files: Dockerfile\).*Fix: pass plannedBeanstalkBundle/);
    expect(stack.node.findChild("Orders").node.children).toEqual([]);
  });
});
