import { App, Stack, aws_ec2 as ec2, aws_ecr as ecr, aws_iam as iam } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { LandingZone } from "../../lib/cdk/landing-zone.js";
import { ServiceDelivery } from "../../lib/cdk/service-delivery.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../lib/spec/types.js";
import { synthDelivery, type CfnTemplate } from "./delivery-fixture.js";

const EXAMPLE = loadSpecFile("examples/shop/landing-zone.yaml");
const SERVICES = [...EXAMPLE.services.map((s) => s.name), ...EXAMPLE.bffs.map((b) => b.name)];

/** The whole landing zone, unvalidated: for comparing every stack. */
function synth(spec: LandingZoneSpec): Map<string, CfnTemplate> {
  const app = new App({ builtinCloudFormationValidation: false });
  new LandingZone(app, "Shop", { spec, account: "111111111111" });
  const templates = new Map<string, CfnTemplate>();
  for (const stack of app.synth().stacks) templates.set(stack.stackName, stack.template as CfnTemplate);
  return templates;
}

const withPipelines = (spec: LandingZoneSpec, pipelines: Partial<LandingZoneSpec["pipelines"]>): LandingZoneSpec => ({
  ...spec,
  pipelines: { ...spec.pipelines, perService: true, repositoryOwner: "acme", ...pipelines },
});
const ofType = (t: CfnTemplate, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const parameterRef = (t: CfnTemplate, name: string) => ({ Ref: Object.entries(t.Parameters ?? {}).find(([, p]) => p.Default === name)![0] });
const statementsOf = (t: CfnTemplate, roleId: string) =>
  ofType(t, "AWS::IAM::Policy")
    .filter(([, p]) => JSON.stringify((p.Properties!.Roles as unknown[]) ?? []).includes(roleId))
    .flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);

describe("per-service delivery (native CodePipeline, prod)", () => {
  let templates: Map<string, CfnTemplate>;
  const template = (part: string) => templates.get(`shop-prod-${part}`)!;

  beforeAll(() => {
    // Strict CloudFormation validation: any schema error or unacknowledged warning throws here.
    templates = synthDelivery(withPipelines(EXAMPLE, { provider: "native" }));
  });

  it("gives each service and BFF one pipeline and its registry, in its own delivery stack", () => {
    for (const service of SERVICES) {
      expect(ofType(template(`delivery-${service}`), "AWS::CodePipeline::Pipeline"), service).toHaveLength(1);
      expect(ofType(template(`delivery-${service}`), "AWS::ECR::Repository").map(([, r]) => [r.Properties!.RepositoryName, r.DeletionPolicy]), service).toEqual([[`shop-${service}`, "Retain"]]);
    }
    // The shared stack holds only the connection every pipeline uses (the spec names none).
    expect(ofType(template("delivery"), "AWS::CodeStarConnections::Connection")).toHaveLength(1);
  });

  it("runs source, build, approval and deploy in order, from the service's own repository", () => {
    for (const service of SERVICES) {
      const t = template(`delivery-${service}`);
      const [, pipeline] = ofType(t, "AWS::CodePipeline::Pipeline")[0]!;
      const stages = pipeline.Properties!.Stages as { Name: string; Actions: { ActionTypeId: { Provider: string }; Configuration?: Record<string, unknown> }[] }[];
      expect(pipeline.Properties!.PipelineType).toBe("V2");
      expect(stages.map((s) => s.Name)).toEqual(["Source", "Build", "Approve", "Deploy"]);
      expect(stages.map((s) => s.Actions[0]!.ActionTypeId.Provider)).toEqual(["CodeStarSourceConnection", "CodeBuild", "Manual", "CodeBuild"]);
      expect(stages[0]!.Actions[0]!.Configuration).toEqual({ ConnectionArn: parameterRef(t, "/msa/shop/prod/delivery/connection-arn"), FullRepositoryId: `acme/${service}`, BranchName: "main" });
      expect(stages[1]!.Actions[0]!.Configuration!.EnvironmentVariables).toBe('[{"name":"IMAGE_TAG","type":"PLAINTEXT","value":"#{Source.CommitId}"}]');
    }
  });

  it("builds privileged with the unit tests first, logs with a retention, artifacts under the pipeline's KMS key", () => {
    const t = Template.fromJSON(template("delivery-orders"));
    t.hasResourceProperties("AWS::CodeBuild::Project", {
      Name: "shop-prod-orders-build",
      Environment: { PrivilegedMode: true, ComputeType: "BUILD_GENERAL1_MEDIUM" },
      EncryptionKey: { "Fn::GetAtt": [Match.stringLikeRegexp("ArtifactsKey"), "Arn"] },
      Source: { BuildSpec: Match.stringLikeRegexp("docker build --target test \\.[\\s\\S]*docker push") },
    });
    t.resourcePropertiesCountIs("AWS::Logs::LogGroup", { RetentionInDays: 365 }, 2);
    t.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
  });

  it("keeps the artifact bucket private, KMS-encrypted, TLS-only and retained in prod", () => {
    const t = Template.fromJSON(template("delivery-orders"));
    t.hasResource("AWS::S3::Bucket", {
      DeletionPolicy: "Retain",
      Properties: {
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms" }, BucketKeyEnabled: true }] },
      },
    });
    t.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } })]) },
    });
  });

  it("lets the deploy stage touch only its own service: its cluster, its release parameter, its Deployment", () => {
    for (const service of SERVICES) {
      const t = template(`delivery-${service}`);
      const [, project] = ofType(t, "AWS::CodeBuild::Project").find(([, p]) => p.Properties!.Name === `shop-prod-${service}-deploy`)!;
      const env = Object.fromEntries((project.Properties!.Environment as { EnvironmentVariables: { Name: string; Value: unknown }[] }).EnvironmentVariables.map((v) => [v.Name, v.Value]));
      expect(env).toMatchObject({ NAMESPACE: "shop", DEPLOYMENT: service, CONTAINER: service, RELEASE_PARAMETER: `/msa/shop/prod/delivery/${service}/image` });
      // In the VPC's private subnets, so a private cluster endpoint is reachable.
      expect((project.Properties!.VpcConfig as { Subnets: unknown[] }).Subnets).toHaveLength(3);
      const roleId = (project.Properties!.ServiceRole as { "Fn::GetAtt": string[] })["Fn::GetAtt"][0]!;
      const statements = statementsOf(t, roleId);
      const [releaseId] = ofType(t, "AWS::SSM::Parameter")[0]!;
      expect(statements).toEqual(
        expect.arrayContaining([
          { Action: "eks:DescribeCluster", Effect: "Allow", Resource: { "Fn::Join": ["", ["arn:aws:eks:ap-northeast-2:111111111111:cluster/", parameterRef(t, "/msa/shop/prod/platform/cluster-name")]] } },
          { Action: "ssm:PutParameter", Effect: "Allow", Resource: { "Fn::Join": ["", ["arn:aws:ssm:ap-northeast-2:111111111111:parameter", { Ref: releaseId }]] } },
        ]),
      );
      expect(JSON.stringify(statements)).not.toMatch(/"Action":"(eks|ssm|ecr):\*"|"eks:(?!DescribeCluster)/);
      Template.fromJSON(t).hasResourceProperties("AWS::EKS::AccessEntry", { KubernetesGroups: [`shop-${service}-deployer`], Type: "STANDARD", PrincipalArn: { "Fn::GetAtt": [roleId, "Arn"] } });
      const rbac = JSON.stringify(ofType(t, "Custom::AWSCDK-EKS-KubernetesResource").map(([, r]) => r.Properties!.Manifest));
      expect(rbac).toContain(`\\"resourceNames\\":[\\"${service}\\"],\\"verbs\\":[\\"get\\",\\"list\\",\\"watch\\",\\"patch\\"]`);
      expect(rbac).toContain(`\\"kind\\":\\"Group\\",\\"name\\":\\"shop-${service}-deployer\\"`);
      // The project may only speak HTTPS out; the cluster admits it on 443 from its own security group.
      const [sgId] = ofType(t, "AWS::EC2::SecurityGroup").find(([id]) => id.includes("DeploySecurityGroup"))!;
      expect(t.Resources[sgId]!.Properties!.SecurityGroupEgress).toEqual([{ CidrIp: "0.0.0.0/0", Description: "HTTPS to AWS APIs, the cluster endpoint and dl.k8s.io", FromPort: 443, IpProtocol: "tcp", ToPort: 443 }]);
      expect(project.Properties!.VpcConfig).toMatchObject({ SecurityGroupIds: [{ "Fn::GetAtt": [sgId, "GroupId"] }] });
      Template.fromJSON(t).hasResourceProperties("AWS::EC2::SecurityGroupIngress", {
        FromPort: 443,
        ToPort: 443,
        GroupId: parameterRef(t, "/msa/shop/prod/platform/workload-security-group-id"),
        SourceSecurityGroupId: { "Fn::GetAtt": [sgId, "GroupId"] },
      });
    }
  });

  it("lets the build push only to its own repository", () => {
    const t = template("delivery-payments");
    const [repositoryId] = ofType(t, "AWS::ECR::Repository")[0]!;
    const [, project] = ofType(t, "AWS::CodeBuild::Project").find(([, p]) => p.Properties!.Name === "shop-prod-payments-build")!;
    const statements = statementsOf(t, (project.Properties!.ServiceRole as { "Fn::GetAtt": string[] })["Fn::GetAtt"][0]!);
    expect(statements).toEqual(
      expect.arrayContaining([
        { Action: "ecr:GetAuthorizationToken", Effect: "Allow", Resource: "*" },
        {
          Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"],
          Effect: "Allow",
          Resource: { "Fn::GetAtt": [repositoryId, "Arn"] },
        },
      ]),
    );
  });

  it("deploys the workload from the release its pipeline recorded", () => {
    const t = template("svc-orders");
    expect(Object.values(t.Parameters ?? {}).map((p) => p.Default)).toContain("/msa/shop/prod/delivery/orders/image");
    expect(JSON.stringify(t)).not.toContain("Fn::ImportValue");
    expect(JSON.stringify(template("delivery-orders"))).not.toContain("Fn::ImportValue");
  });
});

describe("per-service delivery (GitHub Actions, dev)", () => {
  let templates: Map<string, CfnTemplate>;
  beforeAll(() => {
    templates = synthDelivery(
      withPipelines({ ...EXAMPLE, environment: "dev", network: { ...EXAMPLE.network, zones: 2, availabilityZones: EXAMPLE.network.availabilityZones.slice(0, 2), natGateways: 1 }, retainData: false }, { provider: "github-actions" }),
    );
  });

  it("creates the account's GitHub OIDC provider once and no pipeline", () => {
    const shared = Template.fromJSON(templates.get("shop-dev-delivery")!);
    shared.hasResourceProperties("AWS::IAM::OIDCProvider", { Url: "https://token.actions.githubusercontent.com", ClientIdList: ["sts.amazonaws.com"] });
    for (const t of templates.values()) expect(ofType(t, "AWS::CodePipeline::Pipeline")).toHaveLength(0);
  });

  it("trusts only the service's main branch to push and its environment to deploy, with no long-lived keys", () => {
    for (const service of SERVICES) {
      const t = templates.get(`shop-dev-delivery-${service}`)!;
      const roles = Object.fromEntries(ofType(t, "AWS::IAM::Role").map(([id, r]) => [r.Properties!.RoleName, { id, trust: r.Properties!.AssumeRolePolicyDocument }]));
      const trust = (sub: string) => ({
        Version: "2012-10-17",
        Statement: [
          {
            Action: "sts:AssumeRoleWithWebIdentity",
            Effect: "Allow",
            Principal: { Federated: parameterRef(t, "/msa/shop/dev/delivery/github-oidc-provider-arn") },
            Condition: { StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": sub } },
          },
        ],
      });
      expect(roles[`shop-dev-${service}-publish`]!.trust).toEqual(trust(`repo:acme/${service}:ref:refs/heads/main`));
      expect(roles[`shop-dev-${service}-deploy`]!.trust).toEqual(trust(`repo:acme/${service}:environment:dev`));
      const [projectId] = ofType(t, "AWS::CodeBuild::Project")[0]!;
      expect(statementsOf(t, roles[`shop-dev-${service}-deploy`]!.id)).toEqual(
        expect.arrayContaining([{ Action: ["codebuild:BatchGetBuilds", "codebuild:StartBuild"], Effect: "Allow", Resource: { "Fn::GetAtt": [projectId, "Arn"] } }]),
      );
      expect(ofType(t, "AWS::IAM::AccessKey")).toHaveLength(0);
      expect(ofType(t, "AWS::IAM::User")).toHaveLength(0);
    }
  });

  it("deletes what dev does not keep", () => {
    for (const [, group] of ofType(templates.get("shop-dev-delivery-orders")!, "AWS::Logs::LogGroup")) expect(group.DeletionPolicy).toBe("Delete");
  });
});

describe("delivery independence", () => {
  it("adding a service adds its delivery and workload stacks and changes no other stack", () => {
    const spec = withPipelines(EXAMPLE, {});
    const before = synth(spec);
    const after = synth({ ...spec, services: [...spec.services, { ...spec.services[0]!, name: "shipping", repository: "shipping", expose: false, path: "/shipping", publishes: [], subscribes: [], secrets: [] }] });
    const added = [...after.keys()].filter((name) => !before.has(name)).sort();
    expect(added).toEqual(["shop-prod-delivery-shipping", "shop-prod-svc-shipping"]);
    const changed = [...before.keys()].filter((name) => JSON.stringify(before.get(name)) !== JSON.stringify(after.get(name)));
    expect(changed).toEqual([]);
    expect(ofType(after.get("shop-prod-delivery-shipping")!, "AWS::CodePipeline::Pipeline")).toHaveLength(1);
    // One registry per service, each in its own delivery stack beside its pipeline.
    for (const [name, t] of after) {
      const service = /^shop-prod-delivery-(.+)$/.exec(name)?.[1];
      expect(ofType(t, "AWS::ECR::Repository").map(([, r]) => r.Properties!.RepositoryName), name).toEqual(service ? [`shop-${service}`] : []);
      expect(ofType(t, "AWS::CodePipeline::Pipeline"), name).toHaveLength(service ? 1 : 0);
    }
  });

  it("keeps every registry in its delivery stack without pipelines, where turning them on neither moves nor replaces it", () => {
    const off = synth({ ...EXAMPLE, pipelines: { ...EXAMPLE.pipelines, perService: false } });
    const on = synth(withPipelines(EXAMPLE, {}));
    expect([...off.keys()].filter((n) => n.includes("-delivery-")).sort()).toEqual(SERVICES.map((s) => `shop-prod-delivery-${s}`).sort());
    // The shared stack stays for the micro-frontends, which deploy from GitHub: their OIDC provider alone.
    expect(Object.values(off.get("shop-prod-delivery")!.Resources).map((r) => r.Type).sort()).toEqual(["AWS::IAM::OIDCProvider", "AWS::SSM::Parameter"]);
    for (const service of SERVICES) {
      const [offStack, onStack] = [off, on].map((templates) => templates.get(`shop-prod-delivery-${service}`)!);
      // Without pipelines the stack is the registry alone.
      expect(Object.values(offStack.Resources).map((r) => r.Type), service).toEqual(["AWS::ECR::Repository"]);
      expect(ofType(onStack, "AWS::ECR::Repository"), service).toEqual(ofType(offStack, "AWS::ECR::Repository"));
    }
  });

  it("deploys each service's stack after its delivery stack, which needs the shared stacks only for a pipeline", () => {
    const dependencies = (spec: LandingZoneSpec) => {
      const zone = new LandingZone(new App({ builtinCloudFormationValidation: false }), "Shop", { spec, account: "111111111111" });
      return (service: string) => ({
        service: zone.serviceStacks.get(service)!.dependencies.map((s) => s.stackName),
        delivery: zone.serviceDeliveryStacks.get(service)!.dependencies.map((s) => s.stackName).sort(),
      });
    };
    const off = dependencies({ ...EXAMPLE, pipelines: { ...EXAMPLE.pipelines, perService: false } });
    const on = dependencies(withPipelines(EXAMPLE, {}));
    for (const service of SERVICES) {
      expect(off(service).service, service).toContain(`shop-prod-delivery-${service}`);
      expect(off(service).delivery, service).toEqual([]);
      expect(on(service).delivery, service).toEqual(["shop-prod-delivery", "shop-prod-network", "shop-prod-platform"]);
    }
  });
});

describe("ServiceDelivery on its own", () => {
  const stack = () => new Stack(new App(), "S", { env: { region: "eu-west-1", account: "111111111111" } });
  const deploy = (s: Stack) => ({ clusterName: "c", namespace: "n", deployment: "d", kubernetesGroup: "g", vpc: new ec2.Vpc(s, "Vpc") });

  it("is a registry alone without a source, and creates none for an existing repository", () => {
    const s = stack();
    new ServiceDelivery(s, "Orders", { serviceName: "orders", repositoryName: "orders" });
    const t = Template.fromStack(s);
    t.resourceCountIs("AWS::ECR::Repository", 1);
    t.resourceCountIs("AWS::CodeBuild::Project", 0);
    const other = stack();
    const existingRepository = ecr.Repository.fromRepositoryName(other, "Existing", "payments");
    const source = { connectionArn: "arn:aws:codeconnections:eu-west-1:111111111111:connection/0f9c2a1e-1b2c-4d5e-8f90-123456789abc", owner: "acme", repository: "payments" };
    new ServiceDelivery(other, "Payments", { serviceName: "payments", existingRepository, source, deploy: deploy(other) });
    Template.fromStack(other).resourceCountIs("AWS::ECR::Repository", 0);
    Template.fromStack(other).resourceCountIs("AWS::CodePipeline::Pipeline", 1);
  });

  it("refuses both a pipeline source and GitHub roles, and a pipeline without a target", () => {
    const s = stack();
    const oidcProvider = iam.OidcProviderNative.fromOidcProviderArn(s, "Oidc", "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com");
    const source = { connectionArn: "arn:aws:codeconnections:eu-west-1:111111111111:connection/0f9c2a1e-1b2c-4d5e-8f90-123456789abc", owner: "acme", repository: "orders" };
    expect(() => new ServiceDelivery(s, "Both", { serviceName: "orders", repositoryName: "a", source, github: { oidcProvider, publishSubject: "x", deploySubject: "y" }, deploy: deploy(s) })).toThrow(
      /both source and github are set. Fix: give source for a CodePipeline, or github for GitHub Actions/,
    );
    expect(() => new ServiceDelivery(s, "NoTarget", { serviceName: "orders", repositoryName: "b", source })).toThrow(/deploy is undefined, but a pipeline needs a target. Fix: pass deploy/);
    expect(() => new ServiceDelivery(s, "Kept", { serviceName: "orders", repositoryName: "c", imagesKept: 0 })).toThrow(/imagesKept 0 is not a positive integer/);
    expect(() => new ServiceDelivery(s, "Neither", { serviceName: "orders" })).toThrow(/give exactly one of repositoryName \(create\) and existingRepository \(reuse\)/);
  });
});
