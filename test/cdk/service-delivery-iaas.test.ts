import { App, Stack, aws_ecr as ecr } from "aws-cdk-lib";
import { beforeAll, describe, expect, it } from "vitest";
import { ServiceDelivery } from "../../lib/cdk/service-delivery.js";
import { parse } from "yaml";
import { INSTANCE_REFRESH_PREFERENCES, instanceRefreshStageSpec } from "../../lib/plan/buildspec.js";
import { DELIVERY_SETTINGS } from "../../lib/plan/delivery.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import { CDK_CONTEXT, deployProjectOf, environmentOf, ofType, policiesOf, roleIdOf, synthDelivery, type CfnTemplate } from "./delivery-fixture.js";

const EXAMPLE = loadSpecFile("examples/aws-iaas/landing-zone.yaml");
const SERVICES = [...EXAMPLE.services.map((s) => s.name), ...EXAMPLE.bffs.map((b) => b.name)];

describe("per-service delivery on iaas (native CodePipeline, prod)", () => {
  let templates: Map<string, CfnTemplate>;
  const template = (part: string) => templates.get(`shop-prod-${part}`)!;
  beforeAll(() => {
    templates = synthDelivery({ ...EXAMPLE, environment: "prod", pipelines: { ...EXAMPLE.pipelines, perService: true, provider: "native", repositoryOwner: "acme" } });
  });

  it("gives each service and BFF one pipeline: source, build, approval, then a refresh of its own fleet", () => {
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

  it("refreshes only the service's Auto Scaling group, outside the VPC, after recording the digest its instances read", () => {
    for (const service of SERVICES) {
      const project = deployProjectOf(template(`delivery-${service}`), service, "prod");
      expect(environmentOf(project)).toMatchObject({ AUTO_SCALING_GROUP: `shop-prod-${service}`, RELEASE_PARAMETER: `/msa/shop/prod/delivery/${service}/image` });
      expect(environmentOf(project)).not.toHaveProperty("CLUSTER_NAME");
      expect(project.Properties!.VpcConfig).toBeUndefined();
      // Long enough to refresh back after a failed release.
      expect(project.Properties!.TimeoutInMinutes).toBe(DELIVERY_SETTINGS.instanceRefreshReleaseTimeoutMinutes);
      const spec = String((project.Properties!.Source as { BuildSpec: string }).BuildSpec);
      // The plan's stage, whose release and rollback test/plan/delivery.test.ts runs.
      expect(parse(spec)).toEqual(instanceRefreshStageSpec());
      expect(spec).toContain(JSON.stringify(INSTANCE_REFRESH_PREFERENCES));
      expect(spec).not.toContain("kubectl");
    }
  });

  it("grants the deployer exactly its release parameter, its group's refresh and its cancel (to roll back), and the refresh status", () => {
    const t = template("delivery-orders");
    const project = deployProjectOf(t, "orders", "prod");
    const [releaseId] = ofType(t, "AWS::SSM::Parameter")[0]!;
    const release = { "Fn::Join": ["", ["arn:aws:ssm:ap-northeast-2:111111111111:parameter", { Ref: releaseId }]] };
    const own = policiesOf(t, roleIdOf(project)).filter((s) => /^(ssm|autoscaling):/.test(String(([] as unknown[]).concat(s.Action)[0])));
    expect(own).toEqual([
      { Action: ["ssm:GetParameter", "ssm:PutParameter"], Effect: "Allow", Resource: release },
      { Action: ["autoscaling:CancelInstanceRefresh", "autoscaling:StartInstanceRefresh"], Effect: "Allow", Resource: "arn:aws:autoscaling:ap-northeast-2:111111111111:autoScalingGroup:*:autoScalingGroupName/shop-prod-orders" },
      { Action: "autoscaling:DescribeInstanceRefreshes", Effect: "Allow", Resource: "*" },
    ]);
    // Nothing of a cluster or a network: no EKS access, no interfaces in the VPC.
    expect(JSON.stringify(policiesOf(t, roleIdOf(project)))).not.toMatch(/"(eks|ec2):/);
    expect(ofType(t, "AWS::EKS::AccessEntry")).toEqual([]);
    expect(ofType(t, "AWS::EC2::SecurityGroup")).toEqual([]);
  });

  it("boots the service's instances on the release its pipeline recorded, readable by their role only for that parameter", () => {
    const t = template("svc-orders");
    const [, launchTemplate] = ofType(t, "AWS::EC2::LaunchTemplate")[0]!;
    const userData = JSON.stringify((launchTemplate.Properties!.LaunchTemplateData as { UserData: unknown }).UserData);
    expect(userData).toContain("aws ssm get-parameter --region");
    expect(userData).toContain("--name '/msa/shop/prod/delivery/orders/image' --query Parameter.Value --output text");
    const statements = ofType(t, "AWS::IAM::Policy").flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
    expect(statements.filter((s) => s.Sid === "ReadRelease")).toEqual([
      { Sid: "ReadRelease", Action: "ssm:GetParameter", Effect: "Allow", Resource: "arn:aws:ssm:ap-northeast-2:111111111111:parameter/msa/shop/prod/delivery/orders/image" },
    ]);
  });
});

describe("per-service delivery on iaas (GitHub Actions, dev)", () => {
  it("gives each service a deploy project its environment's role may start, refreshing its own group, and no pipeline", () => {
    const templates = synthDelivery({ ...EXAMPLE, environment: "dev", pipelines: { ...EXAMPLE.pipelines, perService: true, provider: "github-actions", repositoryOwner: "acme" } });
    for (const service of SERVICES) {
      const t = templates.get(`shop-dev-delivery-${service}`)!;
      expect(ofType(t, "AWS::CodePipeline::Pipeline")).toEqual([]);
      expect(environmentOf(deployProjectOf(t, service, "dev"))).toMatchObject({ AUTO_SCALING_GROUP: `shop-dev-${service}` });
      expect(ofType(t, "AWS::IAM::Role").map(([, r]) => r.Properties!.RoleName)).toEqual(expect.arrayContaining([`shop-dev-${service}-publish`, `shop-dev-${service}-deploy`]));
    }
  });
});

describe("ServiceDelivery on a fleet, on its own", () => {
  it("refreshes the given group from an existing repository, with no VPC, cluster or access entry", () => {
    const app = new App({ context: CDK_CONTEXT });
    const stack = new Stack(app, "Fleet", { env: { account: "111111111111", region: "eu-west-1" } });
    new ServiceDelivery(stack, "Orders", {
      serviceName: "orders",
      existingRepository: ecr.Repository.fromRepositoryName(stack, "Repository", "orders"),
      source: { connectionArn: "arn:aws:codeconnections:eu-west-1:111111111111:connection/x", owner: "acme", repository: "orders" },
      deploy: { autoScalingGroupName: "orders-fleet" },
    });
    const t = app.synth().getStackByName("Fleet").template as CfnTemplate;
    const project = ofType(t, "AWS::CodeBuild::Project").find(([, p]) => String(p.Properties!.Description).startsWith("Refreshes"))![1];
    expect(environmentOf(project)).toMatchObject({ AUTO_SCALING_GROUP: "orders-fleet", RELEASE_PARAMETER: "/msa/delivery/orders/image" });
    expect(JSON.stringify(policiesOf(t, roleIdOf(project)))).toContain("arn:aws:autoscaling:eu-west-1:111111111111:autoScalingGroup:*:autoScalingGroupName/orders-fleet");
    expect(ofType(t, "AWS::EKS::AccessEntry")).toEqual([]);
    expect(ofType(t, "AWS::EC2::SecurityGroup")).toEqual([]);
    expect(ofType(t, "AWS::ECR::Repository")).toEqual([]);
  });
});
