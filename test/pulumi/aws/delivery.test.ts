import { beforeAll, describe, expect, it } from "vitest";
import { LandingZone } from "../../../lib/pulumi/aws/landing-zone.js";
import { ServiceDelivery } from "../../../lib/pulumi/aws/service-delivery.js";
import { wildcardProblems } from "../../../lib/pulumi/policy/aws.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { byType, childrenOf, jsonInput, MOCK_ACCOUNT, MOCK_REGION, runProgram, single, type RegisteredResource } from "../harness.js";

const SPEC: LandingZoneInput = {
  name: "shop",
  region: MOCK_REGION,
  environment: "prod",
  gateway: { auth: "none" },
  mesh: { kind: "none" },
  tracing: { backend: "none" },
  monitoring: { dashboards: false, alarms: false },
  logging: { stack: "none", buffer: "none" },
  auth: { sessions: "none", tokens: "none" },
  pipelines: { repositoryOwner: "acme" },
  bffs: ["web"],
  frontends: { shell: "web", fragments: ["catalog", "cart"] },
  services: [{ name: "orders" }, { name: "payments", repository: "payments-service" }],
};
const SERVICES = ["orders", "payments", "web"];

async function zone(spec: LandingZoneInput | LandingZoneSpec): Promise<RegisteredResource[]> {
  return (await runProgram(() => void new LandingZone("shop", { spec }))).resources;
}
const under = (resources: RegisteredResource[], component: string) => resources.filter((r) => r.path.split("/").includes(component));
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Principal?: unknown; Condition?: unknown };
const statements = (r: RegisteredResource) => (jsonInput(r, "policy") as { Statement: Statement[] }).Statement;

describe("ServiceDelivery in the AWS landing zone (native, prod)", () => {
  let resources: RegisteredResource[];
  beforeAll(async () => {
    resources = await zone(SPEC);
  });

  it("gives each service and BFF one pipeline in its own component, pushing to its registry in the platform", () => {
    const deliveries = childrenOf(resources, "shop").filter((r) => r.type === "msa:aws:ServiceDelivery");
    expect(deliveries.map((d) => d.name)).toEqual(SERVICES.map((s) => `shop-${s}-delivery`));
    for (const service of SERVICES) {
      const own = under(resources, `shop-${service}-delivery`);
      expect(byType(own, "aws:codepipeline/pipeline:Pipeline")).toHaveLength(1);
      // The registry keeps its pinned URN under the platform; no second one is created.
      expect(byType(own, "aws:ecr/repository:Repository")).toEqual([]);
    }
    const registries = byType(resources, "aws:ecr/repository:Repository");
    expect(registries.map((r) => [r.inputs["name"], r.parent])).toEqual(["shop-orders", "shop-payments", "shop-web"].map((n) => [n, "shop-platform"]));
    expect(byType(resources, "aws:codepipeline/pipeline:Pipeline")).toHaveLength(SERVICES.length);
    expect(byType(resources, "aws:codestarconnections/connection:Connection").map((c) => c.inputs["providerType"])).toEqual(["GitHub"]);
  });

  it("runs source, build, approval and deploy in order, from the service's own repository", () => {
    for (const service of SERVICES) {
      const pipeline = byType(under(resources, `shop-${service}-delivery`), "aws:codepipeline/pipeline:Pipeline")[0]!;
      const stages = pipeline.inputs["stages"] as { name: string; actions: { provider: string; configuration?: Record<string, unknown> }[] }[];
      expect(pipeline.inputs).toMatchObject({ pipelineType: "V2", name: `shop-prod-${service}` });
      expect(stages.map((s) => s.name)).toEqual(["Source", "Build", "Approve", "Deploy"]);
      expect(stages.map((s) => s.actions[0]!.provider)).toEqual(["CodeStarSourceConnection", "CodeBuild", "Manual", "CodeBuild"]);
      expect(stages[0]!.actions[0]!.configuration).toMatchObject({ FullRepositoryId: service === "payments" ? "acme/payments-service" : `acme/${service}`, BranchName: "main" });
      expect(stages[3]!.actions[0]!.configuration).toEqual({ ProjectName: `shop-prod-${service}-deploy` });
    }
  });

  it("keeps artifacts in a private, KMS-encrypted, TLS-only, protected bucket", () => {
    const own = under(resources, "shop-orders-delivery");
    const bucket = single(own, "aws:s3/bucket:Bucket");
    expect(bucket.protect).toBe(true);
    expect(single(own, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    const key = single(own, "aws:kms/key:Key");
    expect(single(own, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs["rules"]).toEqual([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.outputs["arn"] }, bucketKeyEnabled: true },
    ]);
    expect(statements(single(own, "aws:s3/bucketPolicy:BucketPolicy"))[0]).toMatchObject({ Effect: "Deny", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    const pipeline = single(own, "aws:codepipeline/pipeline:Pipeline");
    expect(pipeline.inputs["artifactStores"]).toEqual([{ location: bucket.outputs["bucket"], type: "S3", encryptionKey: { id: key.outputs["arn"], type: "KMS" } }]);
    expect(single(own, "aws:codebuild/project:Project", "shop-orders-delivery-build").inputs).toMatchObject({ environment: { privilegedMode: true }, encryptionKey: key.outputs["arn"] });
    for (const logGroup of byType(own, "aws:cloudwatch/logGroup:LogGroup")) expect(logGroup.inputs["retentionInDays"]).toBe(365);
  });

  it("lets the deploy stage touch only its own service", () => {
    for (const service of SERVICES) {
      const own = under(resources, `shop-${service}-delivery`);
      const project = single(own, "aws:codebuild/project:Project", `shop-${service}-delivery-deploy`);
      const env = Object.fromEntries((project.inputs["environment"] as { environmentVariables: { name: string; value: string }[] }).environmentVariables.map((v) => [v.name, v.value]));
      expect(env).toMatchObject({ CLUSTER_NAME: "shop-prod", NAMESPACE: "shop", DEPLOYMENT: service, CONTAINER: service, RELEASE_PARAMETER: `/msa/shop/prod/delivery/${service}/image` });
      const release = single(own, "aws:ssm/parameter:Parameter");
      const policy = statements(single(own, "aws:iam/rolePolicy:RolePolicy", `shop-${service}-delivery-deployer-policy`));
      expect(policy.slice(0, 2)).toEqual([
        { Effect: "Allow", Action: ["eks:DescribeCluster"], Resource: `arn:aws:eks:${MOCK_REGION}:${MOCK_ACCOUNT}:cluster/shop-prod` },
        { Effect: "Allow", Action: ["ssm:PutParameter"], Resource: release.outputs["arn"] },
      ]);
      // Only Describe calls (which take no resource) and the registry login may use "*".
      expect(wildcardProblems(single(own, "aws:iam/rolePolicy:RolePolicy", `shop-${service}-delivery-deployer-policy`).inputs["policy"])).toEqual([]);
      expect(single(own, "aws:eks/accessEntry:AccessEntry").inputs).toMatchObject({ clusterName: "shop-prod", kubernetesGroups: [`shop-${service}-deployer`], type: "STANDARD" });
      const rbac = single(own, "kubernetes:yaml/v2:ConfigGroup").inputs["objs"] as { kind: string; rules?: unknown; subjects?: unknown }[];
      expect(rbac.find((o) => o.kind === "Role")!.rules).toEqual([{ apiGroups: ["apps"], resources: ["deployments"], resourceNames: [service], verbs: ["get", "list", "watch", "patch"] }]);
      expect(rbac.find((o) => o.kind === "RoleBinding")!.subjects).toEqual([{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: `shop-${service}-deployer` }]);
      expect(single(own, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs).toMatchObject({ fromPort: 443, toPort: 443, ipProtocol: "tcp" });
      expect(single(own, "aws:ec2/securityGroup:SecurityGroup").inputs["egress"]).toEqual([expect.objectContaining({ fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] })]);
    }
  });

  it("lets the build push only to its own repository", () => {
    const own = under(resources, "shop-orders-delivery");
    const policy = statements(single(own, "aws:iam/rolePolicy:RolePolicy", "shop-orders-delivery-builder-policy"));
    const repository = byType(resources, "aws:ecr/repository:Repository").find((r) => r.inputs["name"] === "shop-orders")!;
    expect(policy.slice(0, 2)).toEqual([
      { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
      {
        Effect: "Allow",
        Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"],
        Resource: repository.outputs["arn"],
      },
    ]);
  });

  it("runs the workload on the image its pipeline released", () => {
    const workload = single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-orders-workload");
    const deployment = (workload.inputs["objs"] as { kind: string; spec?: { template: { spec: { containers: { image: string }[] } } } }[]).find((o) => o.kind === "Deployment")!;
    expect(deployment.spec!.template.spec.containers[0]!.image).toBe(`${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com/released@sha256:${"0".repeat(64)}`);
  });
});

describe("FrontendHosting in the AWS landing zone (prod)", () => {
  let resources: RegisteredResource[];
  let hosting: RegisteredResource[];
  beforeAll(async () => {
    resources = await zone({ ...SPEC, region: "eu-west-1", pipelines: { ...SPEC.pipelines, provider: "github-actions" } });
    hosting = under(resources, "shop-frontends");
  });

  it("keeps a bucket per app (and the logs), none public, versioned, access-logged and protected", () => {
    const buckets = byType(hosting, "aws:s3/bucket:Bucket");
    expect(buckets.map((b) => b.name)).toEqual(["shop-frontends-logs", "shop-frontends-web", "shop-frontends-catalog", "shop-frontends-cart"]);
    for (const bucket of buckets) expect(bucket.protect).toBe(true);
    const blocks = byType(hosting, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    expect(blocks).toHaveLength(4);
    for (const block of blocks) expect(block.inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(byType(hosting, "aws:s3/bucketVersioning:BucketVersioning")).toHaveLength(3);
    const logs = buckets[0]!.outputs["bucket"];
    expect(byType(hosting, "aws:s3/bucketLogging:BucketLogging").map((l) => [l.inputs["targetBucket"], l.inputs["targetPrefix"]])).toEqual([
      [logs, "s3/web/"],
      [logs, "s3/catalog/"],
      [logs, "s3/cart/"],
    ]);
    const distributionArn = single(hosting, "aws:cloudfront/distribution:Distribution").outputs["arn"];
    for (const app of ["web", "catalog", "cart"]) {
      const policy = statements(single(hosting, "aws:s3/bucketPolicy:BucketPolicy", `shop-frontends-${app}-policy`));
      expect(policy[0]).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
      expect(policy[1]).toMatchObject({ Effect: "Allow", Principal: { Service: "cloudfront.amazonaws.com" }, Action: "s3:GetObject", Condition: { StringEquals: { "AWS:SourceArn": distributionArn } } });
      expect(policy).toHaveLength(2);
    }
  });

  it("routes fragments by prefix, the shell by default, the shell BFF's routes to the gateway, with security headers, logs and WAF", () => {
    const distribution = single(hosting, "aws:cloudfront/distribution:Distribution");
    const behaviours = distribution.inputs["orderedCacheBehaviors"] as { pathPattern: string; targetOriginId: string; responseHeadersPolicyId: string }[];
    expect(behaviours.map((b) => [b.pathPattern, b.targetOriginId])).toEqual([
      ["/catalog/*", "app-catalog"],
      ["/cart/*", "app-cart"],
      ["/web", "api"],
      ["/web/*", "api"],
    ]);
    expect(distribution.inputs["defaultCacheBehavior"]).toMatchObject({ targetOriginId: "app-web", viewerProtocolPolicy: "redirect-to-https" });
    const origins = distribution.inputs["origins"] as { originId: string; domainName: string; originAccessControlId?: string; customOriginConfig?: unknown }[];
    const oac = single(hosting, "aws:cloudfront/originAccessControl:OriginAccessControl");
    for (const origin of origins.filter((o) => o.originId.startsWith("app-"))) expect(origin.originAccessControlId).toBe(oac.outputs["id"]);
    expect(origins.find((o) => o.originId === "api")).toMatchObject({ domainName: expect.stringMatching(/execute-api|apigateway|\./), customOriginConfig: { originProtocolPolicy: "https-only", originSslProtocols: ["TLSv1.2"] } });
    const headers = single(hosting, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy");
    expect(headers.inputs["securityHeadersConfig"]).toMatchObject({
      strictTransportSecurity: { accessControlMaxAgeSec: 63072000, includeSubdomains: true, override: true },
      contentSecurityPolicy: { contentSecurityPolicy: expect.stringContaining("frame-ancestors 'none'") },
      frameOptions: { frameOption: "DENY" },
      contentTypeOptions: { override: true },
    });
    for (const b of behaviours) expect(b.responseHeadersPolicyId).toBe(headers.outputs["id"]);
    expect(distribution.inputs["loggingConfig"]).toMatchObject({ prefix: "cdn/" });
    const waf = single(hosting, "aws:wafv2/webAcl:WebAcl");
    expect(waf.inputs).toMatchObject({ scope: "CLOUDFRONT", region: "us-east-1" });
    expect(distribution.inputs["webAclId"]).toBe(waf.outputs["arn"]);
  });

  it("lets each app's role, trusted by its repository's environment, write only its files", () => {
    const oidc = single(resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider");
    for (const app of ["web", "catalog", "cart"]) {
      const role = single(hosting, "aws:iam/role:Role", `shop-frontends-${app}-deploy`);
      expect(role.inputs["name"]).toBe(`shop-prod-ui-${app}-deploy`);
      expect(statements({ ...role, inputs: { policy: role.inputs["assumeRolePolicy"] } })).toEqual([
        {
          Effect: "Allow",
          Principal: { Federated: oidc.outputs["arn"] },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: { StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": `repo:acme/${app}-ui:environment:prod` } },
        },
      ]);
      const bucketArn = single(hosting, "aws:s3/bucket:Bucket", `shop-frontends-${app}`).outputs["arn"];
      const policy = statements(single(hosting, "aws:iam/rolePolicy:RolePolicy", `shop-frontends-${app}-deploy-policy`));
      expect(policy[1]).toEqual({ Effect: "Allow", Action: ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], Resource: `${bucketArn}/${app === "web" ? "" : `${app}/`}*` });
      expect(JSON.stringify(policy)).not.toContain('"Resource":"*"');
    }
  });

  it("with GitHub Actions: publish and deploy roles trusted by the main branch and the environment, no pipeline", () => {
    expect(byType(resources, "aws:codepipeline/pipeline:Pipeline")).toEqual([]);
    const own = under(resources, "shop-orders-delivery");
    const trustOf = (name: string) => JSON.parse(single(own, "aws:iam/role:Role", name).inputs["assumeRolePolicy"] as string).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"];
    expect(trustOf("shop-orders-delivery-publish")).toBe("repo:acme/orders:ref:refs/heads/main");
    expect(trustOf("shop-orders-delivery-deploy-role")).toBe("repo:acme/orders:environment:prod");
    const deployProject = single(own, "aws:codebuild/project:Project");
    expect(statements(single(own, "aws:iam/rolePolicy:RolePolicy", "shop-orders-delivery-deploy-role-policy"))[0]).toEqual({
      Effect: "Allow",
      Action: ["codebuild:BatchGetBuilds", "codebuild:StartBuild"],
      Resource: deployProject.outputs["arn"],
    });
    expect(byType(resources, "aws:iam/accessKey:AccessKey")).toEqual([]);
  });
});

describe("FrontendHosting on the other service models", () => {
  it("routes the shell BFF's paths to the gateway on paas as on caas", async () => {
    const example = loadSpecFile("examples/aws-paas/landing-zone.yaml");
    const resources = await zone({ ...example, frontends: { shell: "web", fragments: ["catalog"] } });
    const distribution = single(resources, "aws:cloudfront/distribution:Distribution");
    const api = single(resources, "aws:apigatewayv2/api:Api");
    expect((distribution.inputs["origins"] as { originId: string; domainName: string }[]).find((o) => o.originId === "api")!.domainName).toBe(`${String(api.outputs["id"])}.execute-api.${MOCK_REGION}.amazonaws.com`);
    expect((distribution.inputs["orderedCacheBehaviors"] as { pathPattern: string }[]).map((b) => b.pathPattern)).toEqual(["/catalog/*", "/web", "/web/*"]);
  });
});

describe("independence (Pulumi, AWS)", () => {
  const signature = (resources: RegisteredResource[]) => new Map(resources.map((r) => [`${r.type}::${r.name}`, JSON.stringify(r.inputs)]));

  it("adding a service adds its registry, pipeline and workload and changes no other resource", async () => {
    const before = signature(await zone(SPEC));
    const afterResources = await zone({ ...SPEC, services: [...SPEC.services!, { name: "shipping", expose: false }] });
    const after = signature(afterResources);
    const added = afterResources.filter((r) => !before.has(`${r.type}::${r.name}`));
    expect([...before.keys()].filter((k) => !after.has(k))).toEqual([]);
    expect([...before.keys()].filter((k) => before.get(k) !== after.get(k))).toEqual([]);
    expect(added.every((r) => r.path.includes("shop-shipping") || r.name.startsWith("shop-platform-shop-shipping"))).toBe(true);
    expect(added.filter((r) => r.type === "aws:ecr/repository:Repository").map((r) => r.inputs["name"])).toEqual(["shop-shipping"]);
    expect(added.filter((r) => r.type === "aws:codepipeline/pipeline:Pipeline")).toHaveLength(1);
  });

  it("adding a fragment adds its bucket, role and route", async () => {
    const beforeResources = await zone(SPEC);
    const afterResources = await zone({ ...SPEC, frontends: { shell: "web", fragments: ["catalog", "cart", "account"] } });
    const [before, after] = [signature(beforeResources), signature(afterResources)];
    expect([...before.keys()].filter((k) => !after.has(k))).toEqual([]);
    const added = afterResources.filter((r) => !before.has(`${r.type}::${r.name}`));
    expect(added.every((r) => r.name.startsWith("shop-frontends-account"))).toBe(true);
    expect(added.map((r) => r.type)).toEqual(expect.arrayContaining(["aws:s3/bucket:Bucket", "aws:s3/bucketPolicy:BucketPolicy", "aws:iam/role:Role", "aws:ssm/parameter:Parameter"]));
    const changed = [...before.keys()].filter((k) => before.get(k) !== after.get(k));
    expect(changed).toEqual(["aws:cloudfront/distribution:Distribution::shop-frontends-cdn"]);
    const behaviours = (single(afterResources, "aws:cloudfront/distribution:Distribution").inputs["orderedCacheBehaviors"] as { pathPattern: string }[]).map((b) => b.pathPattern);
    expect(behaviours).toEqual(["/catalog/*", "/cart/*", "/account/*", "/web", "/web/*"]);
  });
});

describe("ServiceDelivery on its own", () => {
  it("refuses both a source and GitHub roles, and a pipeline without a target, before registering anything", async () => {
    const source = { connectionArn: "arn:aws:codeconnections:us-east-1:123456789012:connection/0f9c2a1e-1b2c-4d5e-8f90-123456789abc", owner: "acme", repository: "orders" };
    const github = { oidcProviderArn: "arn", publishSubject: "a", deploySubject: "b" };
    const run = await runProgram(() => {
      expect(() => new ServiceDelivery("neither", { serviceName: "orders" })).toThrow(/give exactly one of repositoryName \(create\) and existingRepository \(reuse\)/);
      expect(() => new ServiceDelivery("both", { serviceName: "orders", repositoryName: "orders", source, github })).toThrow(/both source and github are set/);
      expect(() => new ServiceDelivery("target", { serviceName: "orders", repositoryName: "orders", source })).toThrow(/deploy is undefined, but a pipeline needs a target. Fix: pass deploy/);
    });
    expect(run.resources).toEqual([]);
  });
});
