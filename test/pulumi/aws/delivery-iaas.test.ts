import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { INSTANCE_REFRESH_PREFERENCES, instanceRefreshStageSpec } from "../../../lib/plan/buildspec.js";
import { DELIVERY_SETTINGS } from "../../../lib/plan/delivery.js";
import { LandingZone } from "../../../lib/pulumi/aws/landing-zone.js";
import { ServiceDelivery } from "../../../lib/pulumi/aws/service-delivery.js";
import { wildcardProblems } from "../../../lib/pulumi/policy/aws.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { byType, childrenOf, jsonInput, MOCK_ACCOUNT, MOCK_REGION, runProgram, single, type RegisteredResource } from "../harness.js";

const EXAMPLE = loadSpecFile("examples/aws-iaas/landing-zone.yaml");
const SERVICES = [...EXAMPLE.services.map((s) => s.name), ...EXAMPLE.bffs.map((b) => b.name)];
const RELEASED = `${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com/released@sha256:${"0".repeat(64)}`;

async function zone(spec: LandingZoneSpec): Promise<RegisteredResource[]> {
  return (await runProgram(() => void new LandingZone("shop", { spec }))).resources;
}
const under = (resources: RegisteredResource[], component: string) => resources.filter((r) => r.path.split("/").includes(component));
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Sid?: string };
const statements = (r: RegisteredResource) => (jsonInput(r, "policy") as { Statement: Statement[] }).Statement;
const environmentOf = (project: RegisteredResource) =>
  Object.fromEntries((project.inputs["environment"] as { environmentVariables: { name: string; value: string }[] }).environmentVariables.map((v) => [v.name, v.value]));

describe("ServiceDelivery on iaas (Pulumi, native, prod)", () => {
  let resources: RegisteredResource[];
  beforeAll(async () => {
    resources = await zone({ ...EXAMPLE, environment: "prod", pipelines: { ...EXAMPLE.pipelines, perService: true, provider: "native", repositoryOwner: "acme" } });
  });

  it("gives each service and BFF one pipeline: source, build, approval, then a refresh of its own fleet", () => {
    expect(childrenOf(resources, "shop").filter((r) => r.type === "msa:aws:ServiceDelivery").map((d) => d.name)).toEqual(SERVICES.map((s) => `shop-${s}-delivery`));
    for (const service of SERVICES) {
      const own = under(resources, `shop-${service}-delivery`);
      const pipeline = single(own, "aws:codepipeline/pipeline:Pipeline");
      const stages = pipeline.inputs["stages"] as { name: string; actions: { provider: string; configuration?: Record<string, unknown> }[] }[];
      expect(stages.map((s) => s.name)).toEqual(["Source", "Build", "Approve", "Deploy"]);
      expect(stages.map((s) => s.actions[0]!.provider)).toEqual(["CodeStarSourceConnection", "CodeBuild", "Manual", "CodeBuild"]);
      expect(stages[0]!.actions[0]!.configuration).toMatchObject({ FullRepositoryId: `acme/${service}` });
      expect(stages[3]!.actions[0]!.configuration).toEqual({ ProjectName: `shop-prod-${service}-deploy` });
      // The platform's registry is pushed to; the delivery creates none.
      expect(byType(own, "aws:ecr/repository:Repository")).toEqual([]);
    }
  });

  it("refreshes only the service's Auto Scaling group, outside the VPC, after recording the digest its instances read", () => {
    for (const service of SERVICES) {
      const own = under(resources, `shop-${service}-delivery`);
      const project = single(own, "aws:codebuild/project:Project", `shop-${service}-delivery-deploy`);
      expect(environmentOf(project)).toEqual({
        REPOSITORY_URI: `${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com/shop-${service}`,
        AUTO_SCALING_GROUP: `shop-prod-${service}`,
        RELEASE_PARAMETER: `/msa/shop/prod/delivery/${service}/image`,
      });
      expect(project.inputs).not.toHaveProperty("vpcConfig");
      // Long enough to refresh back after a failed release.
      expect(project.inputs["buildTimeout"]).toBe(DELIVERY_SETTINGS.instanceRefreshReleaseTimeoutMinutes);
      const spec = String((project.inputs["source"] as { buildspec: string }).buildspec);
      // The plan's stage, whose release and rollback test/plan/delivery.test.ts runs.
      expect(parse(spec)).toEqual(instanceRefreshStageSpec());
      expect(spec).toContain(JSON.stringify(INSTANCE_REFRESH_PREFERENCES));
      expect(byType(own, "aws:eks/accessEntry:AccessEntry")).toEqual([]);
      expect(byType(own, "aws:ec2/securityGroup:SecurityGroup")).toEqual([]);
    }
  });

  it("grants the deployer exactly its release parameter, its group's refresh and its cancel (to roll back), the refresh status, its logs and artifacts", () => {
    const own = under(resources, "shop-orders-delivery");
    const release = single(own, "aws:ssm/parameter:Parameter");
    const policy = single(own, "aws:iam/rolePolicy:RolePolicy", "shop-orders-delivery-deployer-policy");
    expect(statements(policy).map((s) => [s.Action, s.Resource])).toEqual([
      [["ssm:GetParameter"], release.outputs["arn"]],
      [["autoscaling:CancelInstanceRefresh", "autoscaling:StartInstanceRefresh"], `arn:aws:autoscaling:${MOCK_REGION}:${MOCK_ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/shop-prod-orders`],
      [["autoscaling:DescribeInstanceRefreshes"], "*"],
      [["ssm:PutParameter"], release.outputs["arn"]],
      [["logs:CreateLogStream", "logs:PutLogEvents"], expect.stringMatching(/:\*$/)],
      [["s3:GetObject", "s3:GetObjectVersion"], expect.stringMatching(/\/\*$/)],
      [["kms:Decrypt", "kms:DescribeKey"], expect.stringMatching(/^arn:aws:kms:/)],
    ]);
    expect(wildcardProblems(policy.inputs["policy"])).toEqual([]);
  });

  it("boots each fleet on the released image, read from its release parameter, which only its instance role may read", () => {
    for (const service of SERVICES) {
      const script = Buffer.from(single(resources, "aws:ec2/launchTemplate:LaunchTemplate", `shop-${service}-instances`).inputs["userData"] as string, "base64").toString("utf8");
      expect(script).toContain(`IMAGE='${RELEASED}'`);
      expect(script).toContain(`--name '/msa/shop/prod/delivery/${service}/image' --query Parameter.Value --output text)"; printf 'IMAGE=%q\\n' "$value" >> /etc/msa/registry.env`);
      const policy = single(resources, "aws:iam/rolePolicy:RolePolicy", `shop-${service}-service`);
      expect(statements(policy).filter((s) => s.Sid === "ReadRelease")).toEqual([
        { Sid: "ReadRelease", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [`arn:aws:ssm:${MOCK_REGION}:${MOCK_ACCOUNT}:parameter/msa/shop/prod/delivery/${service}/image`] },
      ]);
    }
  });
});

describe("ServiceDelivery on iaas (Pulumi, GitHub Actions, dev)", () => {
  it("gives each service a deploy project its environment's role may start, refreshing its own group, and no pipeline", async () => {
    const resources = await zone({ ...EXAMPLE, environment: "dev", pipelines: { ...EXAMPLE.pipelines, perService: true, provider: "github-actions", repositoryOwner: "acme" } });
    expect(byType(resources, "aws:codepipeline/pipeline:Pipeline")).toEqual([]);
    for (const service of SERVICES) {
      const own = under(resources, `shop-${service}-delivery`);
      const project = single(own, "aws:codebuild/project:Project", `shop-${service}-delivery-deploy`);
      expect(environmentOf(project)).toMatchObject({ AUTO_SCALING_GROUP: `shop-dev-${service}` });
      expect(project.inputs["source"]).toMatchObject({ type: "NO_SOURCE" });
      const deployRole = statements(single(own, "aws:iam/rolePolicy:RolePolicy", `shop-${service}-delivery-deploy-role-policy`));
      expect(deployRole[0]).toEqual({ Effect: "Allow", Action: ["codebuild:BatchGetBuilds", "codebuild:StartBuild"], Resource: project.outputs["arn"] });
    }
  });
});

describe("ServiceDelivery on a fleet, on its own", () => {
  it("refreshes the given group with an existing repository", async () => {
    const { resources } = await runProgram(
      () =>
        void new ServiceDelivery("orders", {
          serviceName: "orders",
          existingRepository: { repositoryUrl: `${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com/orders`, arn: `arn:aws:ecr:${MOCK_REGION}:${MOCK_ACCOUNT}:repository/orders` },
          source: { connectionArn: "arn:aws:codeconnections:us-east-1:111111111111:connection/x", owner: "acme", repository: "orders" },
          deploy: { autoScalingGroupName: "orders-fleet" },
        }),
    );
    expect(environmentOf(single(resources, "aws:codebuild/project:Project", "orders-deploy"))).toMatchObject({ AUTO_SCALING_GROUP: "orders-fleet", RELEASE_PARAMETER: "/msa/delivery/orders/image" });
    expect(byType(resources, "aws:eks/accessEntry:AccessEntry")).toEqual([]);
  });
});
