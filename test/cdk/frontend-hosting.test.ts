import { readFileSync } from "node:fs";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { EdgeWebAcl } from "../../lib/cdk/edge-web-acl.js";
import { FrontendHosting } from "../../lib/cdk/frontend-hosting.js";
import { LandingZone } from "../../lib/cdk/landing-zone.js";
import { planLandingZone } from "../../lib/plan/planner.js";
import type { LandingZonePlan } from "../../lib/plan/types.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import { FrontendsEdgeStack } from "../../stacks/frontends-edge-stack.js";
import { FrontendsStack } from "../../stacks/frontends-stack.js";

const CDK_CONTEXT = (JSON.parse(readFileSync("cdk.json", "utf8")) as { context: Record<string, unknown> }).context;
type Resource = { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string };
interface CfnTemplate {
  Resources: Record<string, Resource>;
  Parameters?: Record<string, { Type: string; Default?: string }>;
}

const spec: LandingZoneInput = {
  name: "shop",
  region: "ap-northeast-2",
  environment: "prod",
  bffs: ["web", "mobile"],
  gateway: { auth: "none" },
  mesh: { kind: "none" },
  tracing: { backend: "none" },
  monitoring: { dashboards: false, alarms: false },
  pipelines: { provider: "github-actions", repositoryOwner: "acme" },
  frontends: { shell: "web", fragments: ["catalog", "cart"] },
  services: [{ name: "orders" }],
};

/** The frontends stacks alone, as the landing zone builds them, with strict validation. */
function frontendsStacks(plan: LandingZonePlan, validate = true) {
  const app = new App({ context: validate ? CDK_CONTEXT : {}, builtinCloudFormationValidation: validate });
  const env = { account: "111111111111", region: plan.region };
  const edge = plan.frontends!.waf && plan.region !== "us-east-1" ? new FrontendsEdgeStack(app, "Edge", { plan, env: { ...env, region: "us-east-1" }, stackName: "shop-prod-frontends-edge" }) : undefined;
  new FrontendsStack(app, "Frontends", { plan, env, stackName: "shop-prod-frontends", ...(edge ? { webAclArn: edge.webAcl.webAclArn } : {}) });
  const assembly = app.synth();
  return {
    frontends: assembly.getStackByName("shop-prod-frontends").template as CfnTemplate,
    edge: edge ? (assembly.getStackByName("shop-prod-frontends-edge").template as CfnTemplate) : undefined,
  };
}
const ofType = (t: CfnTemplate, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const parameterRef = (t: CfnTemplate, name: string) => ({ Ref: Object.entries(t.Parameters ?? {}).find(([, p]) => p.Default === name)![0] });

describe("micro-frontend hosting (prod, outside us-east-1)", () => {
  let frontends: CfnTemplate;
  let edge: CfnTemplate;
  beforeAll(() => {
    ({ frontends, edge } = frontendsStacks(planLandingZone(spec, { engine: "cdk" })) as { frontends: CfnTemplate; edge: CfnTemplate });
  });

  it("keeps a bucket per app, none public: encrypted, versioned, TLS-only, access-logged and retained", () => {
    const t = Template.fromJSON(frontends);
    const buckets = ofType(frontends, "AWS::S3::Bucket");
    expect(buckets).toHaveLength(4);
    for (const [, bucket] of buckets) {
      expect(bucket.DeletionPolicy).toBe("Retain");
      expect(bucket.Properties!.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(bucket.Properties!.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] });
    }
    const [logId] = buckets.find(([id]) => id.startsWith("FrontendsLogs"))!;
    for (const app of ["Web", "Catalog", "Cart"]) {
      const [, bucket] = buckets.find(([id]) => id.startsWith(`Frontends${app}Bucket`))!;
      expect(bucket.Properties).toMatchObject({ VersioningConfiguration: { Status: "Enabled" }, LoggingConfiguration: { DestinationBucketName: { Ref: logId }, LogFilePrefix: `s3/${app.toLowerCase()}/` } });
    }
    for (const [, policy] of ofType(frontends, "AWS::S3::BucketPolicy")) {
      const statements = (policy.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
      expect(statements).toContainEqual(expect.objectContaining({ Effect: "Deny", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } }));
      // Nothing is granted to everyone; reads come only from the CloudFront service with this distribution as source.
      for (const s of statements.filter((st) => st.Effect === "Allow")) {
        expect(s.Principal).not.toBe("*");
        if (JSON.stringify(s.Principal).includes("cloudfront")) expect(JSON.stringify(s.Condition)).toContain("AWS:SourceArn");
      }
    }
    t.resourceCountIs("AWS::CloudFront::OriginAccessControl", 3);
  });

  it("routes each fragment under its prefix, the shell by default and the shell BFF's routes to the gateway", () => {
    const [, distribution] = ofType(frontends, "AWS::CloudFront::Distribution")[0]!;
    const config = distribution.Properties!.DistributionConfig as {
      CacheBehaviors: { PathPattern: string; TargetOriginId: string; ViewerProtocolPolicy: string; AllowedMethods?: string[] }[];
      DefaultCacheBehavior: { TargetOriginId: string };
      Origins: { Id: string; DomainName: unknown; OriginAccessControlId?: unknown; CustomOriginConfig?: unknown }[];
      Logging: { Bucket: unknown };
      WebACLId: unknown;
      DefaultRootObject: string;
    };
    expect(config.CacheBehaviors.map((b) => b.PathPattern)).toEqual(["/catalog/*", "/cart/*", "/web", "/web/*"]);
    const originOf = (id: string) => config.Origins.find((o) => o.Id === id)!;
    expect(originOf(config.DefaultCacheBehavior.TargetOriginId).DomainName).toEqual({ "Fn::GetAtt": [expect.stringMatching(/^FrontendsWebBucket/), "RegionalDomainName"] });
    expect(originOf(config.CacheBehaviors[0]!.TargetOriginId).DomainName).toEqual({ "Fn::GetAtt": [expect.stringMatching(/^FrontendsCatalogBucket/), "RegionalDomainName"] });
    expect(originOf(config.CacheBehaviors[1]!.TargetOriginId).DomainName).toEqual({ "Fn::GetAtt": [expect.stringMatching(/^FrontendsCartBucket/), "RegionalDomainName"] });
    const api = originOf(config.CacheBehaviors[2]!.TargetOriginId);
    expect(api).toMatchObject({
      DomainName: { "Fn::Join": ["", [parameterRef(frontends, "/msa/shop/prod/gateway/api-id"), ".execute-api.", { Ref: "AWS::Region" }, ".", { Ref: "AWS::URLSuffix" }]] },
      CustomOriginConfig: { OriginProtocolPolicy: "https-only", OriginSSLProtocols: ["TLSv1.2"] },
    });
    expect(config.CacheBehaviors[3]).toMatchObject({ ViewerProtocolPolicy: "https-only", AllowedMethods: expect.arrayContaining(["POST", "DELETE"]) });
    for (const origin of config.Origins.filter((o) => !o.CustomOriginConfig)) expect(origin.OriginAccessControlId).toBeDefined();
    expect(config.DefaultRootObject).toBe("index.html");
    expect(config.Logging.Bucket).toEqual({ "Fn::GetAtt": [expect.stringMatching(/^FrontendsLogs/), "RegionalDomainName"] });
  });

  it("sends the security headers on every behaviour", () => {
    Template.fromJSON(frontends).hasResourceProperties("AWS::CloudFront::ResponseHeadersPolicy", {
      ResponseHeadersPolicyConfig: {
        SecurityHeadersConfig: {
          StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Override: true },
          ContentSecurityPolicy: { ContentSecurityPolicy: Match.stringLikeRegexp("default-src 'self'.*frame-ancestors 'none'"), Override: true },
          FrameOptions: { FrameOption: "DENY", Override: true },
          ContentTypeOptions: { Override: true },
        },
      },
    });
    const [policyId] = ofType(frontends, "AWS::CloudFront::ResponseHeadersPolicy")[0]!;
    const config = ofType(frontends, "AWS::CloudFront::Distribution")[0]![1].Properties!.DistributionConfig as { CacheBehaviors: { ResponseHeadersPolicyId: unknown }[]; DefaultCacheBehavior: { ResponseHeadersPolicyId: unknown } };
    for (const behaviour of [config.DefaultCacheBehavior, ...config.CacheBehaviors]) expect(behaviour.ResponseHeadersPolicyId).toEqual({ Ref: policyId });
  });

  it("puts the web ACL in us-east-1 and attaches it across regions", () => {
    Template.fromJSON(edge).hasResourceProperties("AWS::WAFv2::WebACL", {
      Scope: "CLOUDFRONT",
      Rules: [
        Match.objectLike({ Name: "AWSManagedRulesCommonRuleSet" }),
        Match.objectLike({ Name: "AWSManagedRulesKnownBadInputsRuleSet" }),
        Match.objectLike({ Name: "RateLimitPerClient", Statement: { RateBasedStatement: { AggregateKeyType: "IP", EvaluationWindowSec: 60, Limit: 6000 } } }),
      ],
    });
    const config = ofType(frontends, "AWS::CloudFront::Distribution")[0]![1].Properties!.DistributionConfig as { WebACLId: { "Fn::GetStackOutput": { StackName: string; Region: string } } };
    expect(config.WebACLId["Fn::GetStackOutput"]).toMatchObject({ StackName: "shop-prod-frontends-edge", Region: "us-east-1" });
  });

  it("lets each app's deploy role, trusted by its own repository's environment, write only its files and invalidate", () => {
    const roles = ofType(frontends, "AWS::IAM::Role");
    const policies = ofType(frontends, "AWS::IAM::Policy");
    for (const app of ["web", "catalog", "cart"]) {
      const [roleId, role] = roles.find(([, r]) => r.Properties!.RoleName === `shop-prod-ui-${app}-deploy`)!;
      expect(JSON.stringify(role.Properties!.AssumeRolePolicyDocument)).toContain(`"token.actions.githubusercontent.com:sub":"repo:acme/${app}-ui:environment:prod"`);
      const statements = policies.filter(([, p]) => JSON.stringify(p.Properties!.Roles).includes(roleId)).flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
      const bucketId = Object.keys(frontends.Resources).find((id) => id.startsWith(`Frontends${app[0]!.toUpperCase()}${app.slice(1)}Bucket`) && frontends.Resources[id]!.Type === "AWS::S3::Bucket")!;
      const prefix = app === "web" ? "/*" : `/${app}/*`;
      expect(statements).toContainEqual({ Action: ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], Effect: "Allow", Resource: { "Fn::Join": ["", [{ "Fn::GetAtt": [bucketId, "Arn"] }, prefix]] } });
      expect(statements).toContainEqual(expect.objectContaining({ Action: ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"] }));
      expect(JSON.stringify(statements)).not.toMatch(/"Resource":"\*"/);
    }
  });
});

describe("micro-frontend hosting elsewhere", () => {
  it("keeps the web ACL in the frontends stack in us-east-1, and has none in dev", () => {
    const east = frontendsStacks(planLandingZone({ ...spec, region: "us-east-1" }, { engine: "cdk" }));
    expect(east.edge).toBeUndefined();
    expect(ofType(east.frontends, "AWS::WAFv2::WebACL")).toHaveLength(1);
    const dev = frontendsStacks(planLandingZone({ ...spec, environment: "dev" }, { engine: "cdk" }), false);
    expect(dev.edge).toBeUndefined();
    expect(ofType(dev.frontends, "AWS::WAFv2::WebACL")).toHaveLength(0);
    expect(JSON.stringify(dev.frontends)).not.toContain("WebACLId");
  });

  it.each(["iaas", "paas"] as const)("serves the shell BFF's routes through the gateway on %s too", (tier) => {
    const example = loadSpecFile(`examples/aws-${tier}/landing-zone.yaml`);
    const plan = planLandingZone({ ...example, frontends: { shell: "web", fragments: ["catalog"] } }, { engine: "cdk" });
    const { frontends: t } = frontendsStacks(plan, false);
    const config = ofType(t, "AWS::CloudFront::Distribution")[0]![1].Properties!.DistributionConfig as { CacheBehaviors: { PathPattern: string }[]; Origins: { DomainName: unknown }[] };
    expect(config.CacheBehaviors.map((b) => b.PathPattern)).toEqual(["/catalog/*", "/web", "/web/*"]);
    expect(JSON.stringify(config.Origins)).toContain(JSON.stringify(parameterRef(t, "/msa/shop/prod/gateway/api-id")));
  });

  it("needs TLS 1.2 from viewers on a custom domain", () => {
    const plan = planLandingZone({ ...spec, frontends: { ...spec.frontends!, domainName: "shop.example.com", certificateArn: "arn:aws:acm:us-east-1:111111111111:certificate/0f9c2a1e-1b2c-4d5e-8f90-123456789abc" } }, { engine: "cdk" });
    const config = ofType(frontendsStacks(plan, false).frontends, "AWS::CloudFront::Distribution")[0]![1].Properties!.DistributionConfig as Record<string, unknown>;
    expect(config).toMatchObject({ Aliases: ["shop.example.com"], ViewerCertificate: { MinimumProtocolVersion: "TLSv1.2_2021", SslSupportMethod: "sni-only" } });
  });

  it("adding a fragment adds its bucket, role and route and changes no other stack", () => {
    const base = { ...loadSpecFile("examples/shop/landing-zone.yaml"), pipelines: { perService: false, provider: "native" as const, branch: "main", testCommand: "docker build --target test ." } };
    const zone = (fragments: string[]) => {
      const app = new App();
      new LandingZone(app, "Shop", { spec: { ...base, frontends: { shell: "web", fragments } }, account: "111111111111" });
      return new Map(app.synth().stacks.map((s) => [s.stackName, s.template as CfnTemplate]));
    };
    const before = zone(["catalog", "cart"]);
    const after = zone(["catalog", "cart", "account"]);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    expect([...before.keys()].filter((n) => JSON.stringify(before.get(n)) !== JSON.stringify(after.get(n)))).toEqual(["shop-prod-frontends"]);
    const [b, a] = [before.get("shop-prod-frontends")!, after.get("shop-prod-frontends")!];
    expect(Object.keys(b.Resources).filter((id) => !(id in a.Resources))).toEqual([]);
    expect(Object.entries(a.Resources).filter(([id]) => !(id in b.Resources)).map(([, r]) => r.Type).sort()).toEqual(
      ["AWS::CloudFront::OriginAccessControl", "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::SSM::Parameter"].sort(),
    );
    for (const id of Object.keys(b.Resources).filter((i) => b.Resources[i]!.Type === "AWS::S3::Bucket")) expect(a.Resources[id]).toEqual(b.Resources[id]);
    const patterns = (t: CfnTemplate) => (ofType(t, "AWS::CloudFront::Distribution")[0]![1].Properties!.DistributionConfig as { CacheBehaviors: { PathPattern: string }[] }).CacheBehaviors.map((c) => c.PathPattern);
    expect(patterns(a)).toEqual(["/catalog/*", "/cart/*", "/account/*", "/web", "/web/*"]);
    expect(patterns(b)).toEqual(["/catalog/*", "/cart/*", "/web", "/web/*"]);
  });
});

describe("FrontendHosting and EdgeWebAcl on their own", () => {
  it("reject duplicate apps, too many behaviours and a web ACL outside us-east-1, naming the fix", () => {
    const stack = new Stack(new App(), "S", { env: { region: "eu-west-1" } });
    expect(() => new FrontendHosting(stack, "Dup", { shell: "web", fragments: ["web"] })).toThrow(/"web" is both the shell and a fragment.*Fix: give every app a unique name/);
    expect(() => new FrontendHosting(stack, "Many", { shell: "web", fragments: Array.from({ length: 26 }, (_, i) => `f${i}`) })).toThrow(/26 behaviours pass CloudFront's default quota of 25/);
    expect(() => new EdgeWebAcl(stack, "Acl")).toThrow(/region is eu-west-1, but CloudFront web ACLs must be in us-east-1/);
  });
});
