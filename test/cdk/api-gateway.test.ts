import { App, Stack, Validations, aws_ec2 as ec2 } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { Capture, Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ApiGateway, type ApiGatewayProps } from "../../lib/cdk/api-gateway.js";
import { UserDirectory } from "../../lib/cdk/user-directory.js";
import { MAX_RULES_PER_LOAD_BALANCER, planLandingZone } from "../../lib/plan/index.js";

const STRICT = { "@aws-cdk/core:validateAgainstDefaultRules": true, "@aws-cdk/core:strictCfnValidateErrors": true };

function newStack() {
  const app = new App({ context: STRICT });
  const stack = new Stack(app, "Gateway", { env: { account: "123456789012", region: "ap-northeast-2" } });
  const vpc = new ec2.Vpc(stack, "Vpc", { availabilityZones: ["ap-northeast-2a", "ap-northeast-2c"], natGateways: 1 });
  return { app, stack, vpc };
}

type GatewayOptions = Omit<ApiGatewayProps, "vpc" | "auth"> & Partial<Pick<ApiGatewayProps, "auth">>;

function build(options: GatewayOptions = {}) {
  const { app, stack, vpc } = newStack();
  const gateway = new ApiGateway(stack, "Api", {
    vpc,
    auth: { kind: "none" },
    ...(options.loadBalancers ? {} : { routes: [{ path: "/api/orders", target: "orders", port: 8080 }] }),
    ...options,
  });
  app.synth(); // strict CloudFormation validation runs here
  return { stack, vpc, gateway, template: Template.fromStack(stack) };
}

const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } } | undefined): string =>
  stack.getLogicalId((construct as { node: { defaultChild: never } }).node.defaultChild);

describe("ApiGateway from a plan of 100 services", () => {
  const plan = planLandingZone({
    name: "shop",
    region: "ap-northeast-2",
    gateway: { auth: "jwt", waf: true },
    services: Array.from({ length: 100 }, (_, i) => ({ name: `svc-${String(i).padStart(3, "0")}`, port: 8000 + (i % 3) })),
  });
  let built: ReturnType<typeof build> & { directory: UserDirectory };

  beforeAll(() => {
    const { app, stack, vpc } = newStack();
    const directory = new UserDirectory(stack, "Users");
    const gateway = new ApiGateway(stack, "Api", {
      vpc,
      loadBalancers: plan.gateway.loadBalancers,
      auth: { kind: "jwt", directory },
      waf: plan.gateway.waf,
      rateLimit: plan.gateway.rateLimit,
    });
    app.synth();
    built = { stack, vpc, gateway, directory, template: Template.fromStack(stack) };
  });

  it("creates one internal load balancer per planned load balancer", () => {
    expect(plan.gateway.loadBalancers).toHaveLength(2);
    built.template.resourceCountIs("AWS::ElasticLoadBalancingV2::LoadBalancer", 2);
    built.template.resourceCountIs("AWS::ElasticLoadBalancingV2::ListenerRule", 100);
    // The catch-all pair serves the first load balancer's 90 routes; the second's 10 have their own.
    built.template.resourceCountIs("AWS::ApiGatewayV2::Route", 2 + 2 * 10);
    built.template.resourceCountIs("AWS::ApiGatewayV2::Integration", 2);
    expect(built.gateway.defaultLoadBalancer).toBe(0);
  });

  it("sends ANY / and ANY /{proxy+} to the first load balancer under the JWT authorizer, and gives its routes none of their own", () => {
    const [first] = built.gateway.listeners.map((l) => built.stack.getLogicalId(l.node.defaultChild as never));
    const routes = Object.values(built.template.findResources("AWS::ApiGatewayV2::Route")) as { Properties: { RouteKey: string; AuthorizationType: string; Target: { "Fn::Join": [string, [string, { Ref: string }]] } } }[];
    const keys = routes.map((r) => r.Properties.RouteKey);
    const servicesWithRoutes = new Set(keys.flatMap((k) => /^ANY \/svc-(\d+)/.exec(k)?.[1] ?? []).map(Number));
    expect([...servicesWithRoutes].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => MAX_RULES_PER_LOAD_BALANCER + i));
    for (const key of ["ANY /", "ANY /{proxy+}"]) {
      const route = routes.find((r) => r.Properties.RouteKey === key)!;
      expect(route.Properties.AuthorizationType).toBe("JWT");
      const integration = built.template.toJSON().Resources[route.Properties.Target["Fn::Join"][1][1].Ref];
      expect(integration.Properties.IntegrationUri).toEqual({ Ref: first });
    }
    expect(new Set(routes.map((r) => r.Properties.AuthorizationType))).toEqual(new Set(["JWT"]));
  });

  it("gives each route a rule at its planned priority on its own load balancer's listener", () => {
    const [first, second] = built.gateway.listeners.map((l) => built.stack.getLogicalId(l.node.defaultChild as never));
    const rules = Object.values(built.template.findResources("AWS::ElasticLoadBalancingV2::ListenerRule")) as {
      Properties: { ListenerArn: { Ref: string }; Priority: number; Conditions: { Field: string; PathPatternConfig: { Values: string[] } }[] };
    }[];
    const priorities = (listener: string | undefined) => rules.filter((r) => r.Properties.ListenerArn.Ref === listener).map((r) => r.Properties.Priority).sort((a, b) => a - b);
    expect(priorities(first)).toEqual(Array.from({ length: MAX_RULES_PER_LOAD_BALANCER }, (_, i) => i + 1));
    expect(priorities(second)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));

    built.template.hasResourceProperties("AWS::ElasticLoadBalancingV2::ListenerRule", {
      ListenerArn: { Ref: second },
      Priority: 1,
      Conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: ["/svc-090", "/svc-090/*"] } }],
      Actions: [{ Type: "forward", TargetGroupArn: { Ref: built.stack.getLogicalId(built.gateway.targetGroup("svc-090").node.defaultChild as never) } }],
    });
  });

  it("routes ANY <path> and ANY <path>/{proxy+} to the listener of the route's load balancer through the VPC link", () => {
    const [, second] = built.gateway.listeners.map((l) => built.stack.getLogicalId(l.node.defaultChild as never));
    const integration = new Capture();
    built.template.hasResourceProperties("AWS::ApiGatewayV2::Route", { RouteKey: "ANY /svc-095", Target: { "Fn::Join": ["", ["integrations/", { Ref: integration }]] } });
    built.template.hasResourceProperties("AWS::ApiGatewayV2::Route", {
      RouteKey: "ANY /svc-095/{proxy+}",
      Target: { "Fn::Join": ["", ["integrations/", { Ref: integration.asString() }]] },
    });
    expect(built.template.toJSON().Resources[integration.asString()]).toMatchObject({
      Type: "AWS::ApiGatewayV2::Integration",
      Properties: {
        IntegrationType: "HTTP_PROXY",
        ConnectionType: "VPC_LINK",
        ConnectionId: { Ref: logicalId(built.stack, built.gateway.vpcLink as never) },
        IntegrationUri: { Ref: second },
      },
    });
  });

  it("validates JWTs from the directory's pool for its app client on every route", () => {
    const issuer = new Capture();
    built.template.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "JWT",
      IdentitySource: ["$request.header.Authorization"],
      JwtConfiguration: Match.objectLike({ Issuer: issuer, Audience: [{ Ref: logicalId(built.stack, built.directory.userPoolClient) }] }),
    });
    expect(issuer.asObject()).toEqual({ "Fn::GetAtt": [logicalId(built.stack, built.directory.userPool), "ProviderURL"] });
    const routes = Object.values(built.template.findResources("AWS::ApiGatewayV2::Route")) as { Properties: { AuthorizationType: string } }[];
    expect(routes.every((r) => r.Properties.AuthorizationType === "JWT")).toBe(true);
  });

  it("attaches one web ACL to every load balancer when waf is on, with a per-client rate rule from rateLimit", () => {
    built.template.resourceCountIs("AWS::WAFv2::WebACL", 1);
    built.template.resourceCountIs("AWS::WAFv2::WebACLAssociation", 2);
    for (const lb of built.gateway.loadBalancers) {
      built.template.hasResourceProperties("AWS::WAFv2::WebACLAssociation", { ResourceArn: { Ref: logicalId(built.stack, lb) } });
    }
    built.template.hasResourceProperties("AWS::WAFv2::WebACL", {
      Scope: "REGIONAL",
      Rules: Match.arrayWith([
        Match.objectLike({ Statement: { ManagedRuleGroupStatement: { VendorName: "AWS", Name: "AWSManagedRulesCommonRuleSet" } } }),
        Match.objectLike({ Statement: { ManagedRuleGroupStatement: { VendorName: "AWS", Name: "AWSManagedRulesKnownBadInputsRuleSet" } } }),
        Match.objectLike({ Statement: { ManagedRuleGroupStatement: { VendorName: "AWS", Name: "AWSManagedRulesAmazonIpReputationList" } } }),
        Match.objectLike({
          Action: { Block: {} },
          Statement: { RateBasedStatement: Match.objectLike({ Limit: plan.gateway.rateLimit.requestsPerSecond * 60, EvaluationWindowSec: 60, AggregateKeyType: "FORWARDED_IP" }) },
        }),
      ]),
    });
  });

  it("opens the workloads' ports (each distinct target port once) from the load balancers to the VPC", () => {
    const sg = built.template.toJSON().Resources[logicalId(built.stack, built.gateway.securityGroup)];
    expect(sg.Properties.SecurityGroupEgress.map((e: { FromPort: number }) => e.FromPort).sort()).toEqual([8000, 8001, 8002]);
  });
});

describe("ApiGateway load balancers", () => {
  it("are internal, in private subnets, behind a security group that admits only the VPC link on the listener port", () => {
    const { stack, vpc, gateway, template } = build();
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", {
      Scheme: "internal",
      Subnets: vpc.privateSubnets.map((s) => ({ Ref: stack.getLogicalId(s.node.defaultChild as never) })),
      SecurityGroups: [{ "Fn::GetAtt": [logicalId(stack, gateway.securityGroup), "GroupId"] }],
      LoadBalancerAttributes: Match.arrayWith([{ Key: "routing.http.drop_invalid_header_fields.enabled", Value: "true" }]),
    });
    const sg = template.toJSON().Resources[logicalId(stack, gateway.securityGroup)];
    expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
    const ingress = Object.values(template.findResources("AWS::EC2::SecurityGroupIngress")).map((r) => r.Properties);
    expect(ingress).toEqual([
      expect.objectContaining({
        GroupId: { "Fn::GetAtt": [logicalId(stack, gateway.securityGroup), "GroupId"] },
        SourceSecurityGroupId: { "Fn::GetAtt": [logicalId(stack, gateway.vpcLinkSecurityGroup), "GroupId"] },
        FromPort: 80,
        ToPort: 80,
      }),
    ]);
    template.hasResourceProperties("AWS::ApiGatewayV2::VpcLink", {
      SubnetIds: vpc.privateSubnets.map((s) => ({ Ref: stack.getLogicalId(s.node.defaultChild as never) })),
      SecurityGroupIds: [{ "Fn::GetAtt": [logicalId(stack, gateway.vpcLinkSecurityGroup), "GroupId"] }],
    });
  });

  it("sit in loadBalancerSubnets when given (the landing zone's public subnets on EKS), still internal, while the VPC link stays private", () => {
    const { stack, vpc, template } = build({ loadBalancerSubnets: { subnetType: ec2.SubnetType.PUBLIC } });
    const refs = (subnets: readonly ec2.ISubnet[]) => subnets.map((s) => ({ Ref: stack.getLogicalId(s.node.defaultChild as never) }));
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", { Scheme: "internal", Subnets: refs(vpc.publicSubnets) });
    template.hasResourceProperties("AWS::ApiGatewayV2::VpcLink", { SubnetIds: refs(vpc.privateSubnets) });
  });

  it("answer unknown paths with a fixed 404 on an HTTP listener", () => {
    build().template.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", {
      Port: 80,
      Protocol: "HTTP",
      DefaultActions: [{ Type: "fixed-response", FixedResponseConfig: Match.objectLike({ StatusCode: "404" }) }],
    });
  });

  it("forward to one IP target group per target, health-checked on the route's path or the default", () => {
    const { gateway, template } = build({
      healthCheckPath: "/ready",
      routes: [
        { path: "/api/orders", target: "orders", port: 8080, healthCheckPath: "/orders/health" },
        { path: "/web", target: "web-bff", port: 3000 },
        { path: "/web-api", target: "web-bff", port: 3000 },
      ],
    });
    template.resourceCountIs("AWS::ElasticLoadBalancingV2::TargetGroup", 2);
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::TargetGroup", { TargetType: "ip", Port: 8080, Protocol: "HTTP", HealthCheckPath: "/orders/health" });
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::TargetGroup", { TargetType: "ip", Port: 3000, HealthCheckPath: "/ready" });
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::ListenerRule", { Priority: 3, Conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: ["/web-api", "/web-api/*"] } }] });
    expect(gateway.targetGroups("web-bff")).toHaveLength(1);
  });

  it("admit the load balancers into the workload security group on each target port", () => {
    const { stack, vpc } = newStack();
    const workloads = new ec2.SecurityGroup(stack, "Workloads", { vpc });
    const gateway = new ApiGateway(stack, "Api", { vpc, auth: { kind: "none" }, routes: [{ path: "/a", target: "a", port: 8080 }], workloadSecurityGroup: workloads });
    const template = Template.fromStack(stack);
    template.hasResourceProperties("AWS::EC2::SecurityGroupIngress", {
      GroupId: { "Fn::GetAtt": [stack.getLogicalId(workloads.node.defaultChild as never), "GroupId"] },
      SourceSecurityGroupId: { "Fn::GetAtt": [logicalId(stack, gateway.securityGroup), "GroupId"] },
      FromPort: 8080,
    });
    expect(template.toJSON().Resources[logicalId(stack, gateway.securityGroup)].Properties.SecurityGroupEgress).toBeUndefined();
  });

  it("write access logs to an SSE-S3, TLS-only, private bucket that expires them", () => {
    const { stack, gateway, template } = build({ accessLogRetentionDays: 30 });
    template.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30, Status: "Enabled" })] },
    });
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]) },
    });
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: "access_logs.s3.enabled", Value: "true" },
        { Key: "access_logs.s3.bucket", Value: { Ref: logicalId(stack, gateway.loadBalancerLogBucket) } },
      ]),
    });
  });
});

describe("ApiGateway stage", () => {
  it("throttles at the rate limit and logs JSON to a KMS-encrypted log group with retention", () => {
    const { stack, gateway, template } = build({ rateLimit: { requestsPerSecond: 250, burst: 500 }, accessLogRetentionDays: 90 });
    const format = new Capture();
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 250, ThrottlingBurstLimit: 500 },
      AccessLogSettings: { DestinationArn: { "Fn::GetAtt": [logicalId(stack, gateway.accessLogGroup), "Arn"] }, Format: format },
    });
    expect(JSON.parse(format.asString())).toMatchObject({ requestId: "$context.requestId", status: "$context.status", routeKey: "$context.routeKey", path: "$context.path", integrationStatus: "$context.integration.status" });
    const key = new Capture();
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 90, KmsKeyId: { "Fn::GetAtt": [key, "Arn"] } });
    expect(template.toJSON().Resources[key.asString()]).toMatchObject({
      Type: "AWS::KMS::Key",
      DeletionPolicy: "Retain",
      Properties: {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: expect.arrayContaining([
            expect.objectContaining({
              Principal: { Service: "logs.ap-northeast-2.amazonaws.com" },
              Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": expect.anything() } },
            }),
          ]),
        },
      },
    });
  });

  it("leaves out log groups, log key and log bucket when access logs are off", () => {
    const { template } = build({ accessLogs: false });
    template.resourceCountIs("AWS::Logs::LogGroup", 0);
    template.resourceCountIs("AWS::KMS::Key", 0);
    template.resourceCountIs("AWS::S3::Bucket", 0);
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", { AccessLogSettings: Match.absent() });
  });

  it("has no web ACL when waf is off", () => {
    const { template } = build();
    template.resourceCountIs("AWS::WAFv2::WebACL", 0);
    template.resourceCountIs("AWS::WAFv2::WebACLAssociation", 0);
  });

  it("routes without an authorizer when auth is none, and to the root for path /", () => {
    const { template } = build({ routes: [{ path: "/", target: "shell", port: 80 }] });
    template.resourceCountIs("AWS::ApiGatewayV2::Authorizer", 0);
    template.hasResourceProperties("AWS::ApiGatewayV2::Route", { RouteKey: "ANY /", AuthorizationType: "NONE" });
    template.hasResourceProperties("AWS::ApiGatewayV2::Route", { RouteKey: "ANY /{proxy+}" });
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::ListenerRule", { Conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: ["/*"] } }] });
  });
});

describe("ApiGateway request authorizer", () => {
  const routes = [
    { path: "/orders", target: "orders", port: 8080 },
    { path: "/auth", target: "auth", port: 8081 },
  ];

  it("runs a Node.js 24 function in the private subnets with its own role, encrypted log group and Authorization cache", () => {
    const { stack, vpc, gateway, template } = build({ routes, auth: { kind: "authorizer", target: "auth", cacheSeconds: 120 } });
    const fn = template.toJSON().Resources[logicalId(stack, gateway.authorizerFunction)];
    expect(fn.Properties).toMatchObject({
      Runtime: "nodejs24.x",
      Architectures: ["arm64"],
      Timeout: 5,
      VpcConfig: { SubnetIds: vpc.privateSubnets.map((s) => ({ Ref: stack.getLogicalId(s.node.defaultChild as never) })) },
      LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/AuthorizerLogs/) } },
    });
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 365, KmsKeyId: Match.anyValue() });
    template.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "REQUEST",
      AuthorizerPayloadFormatVersion: "2.0",
      EnableSimpleResponses: true,
      IdentitySource: ["$request.header.Authorization"],
      AuthorizerResultTtlInSeconds: 120,
      AuthorizerUri: Match.objectLike({ "Fn::Join": ["", Match.arrayWith([{ "Fn::GetAtt": [logicalId(stack, gateway.authorizerFunction), "Arn"] }])] }),
    });
    template.hasResourceProperties("AWS::Lambda::Permission", { Action: "lambda:InvokeFunction", Principal: "apigateway.amazonaws.com" });
  });

  it("grants the function exactly its own logs and its network interfaces, with no managed policy", () => {
    const { stack, gateway, template } = build({ routes, auth: { kind: "authorizer", target: "auth" } });
    const role = template.toJSON().Resources[stack.getLogicalId(gateway.authorizerFunction!.role!.node.defaultChild as never)];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const logGroup = stack.getLogicalId(gateway.node.findChild("AuthorizerLogs").node.defaultChild as never);
    expect(role.Properties.Policies[0].PolicyDocument.Statement).toEqual([
      { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: { "Fn::Join": ["", [{ "Fn::GetAtt": [logGroup, "Arn"] }, ":*"]] } },
      { Sid: "DescribeNetwork", Effect: "Allow", Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], Resource: "*" },
      {
        Sid: "ManageNetworkInterfaces",
        Effect: "Allow",
        Action: ["ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"],
        Resource: stack.resolve(`arn:${stack.partition}:ec2:ap-northeast-2:123456789012:*/*`),
      },
    ]);
  });

  it("asks the auth service through its internal load balancer, the only place the function may connect to", () => {
    const { stack, gateway, template } = build({ routes, auth: { kind: "authorizer", target: "auth" } });
    const fn = template.toJSON().Resources[logicalId(stack, gateway.authorizerFunction)];
    expect(fn.Properties.Environment.Variables.AUTHORIZE_URL).toEqual({ "Fn::Join": ["", ["http://", { "Fn::GetAtt": [logicalId(stack, gateway.loadBalancers[0]), "DNSName"] }, "/auth/authorize"]] });
    const functionSg = logicalId(stack, gateway.node.findChild("AuthorizerSecurityGroup") as never);
    const lbSg = logicalId(stack, gateway.securityGroup);
    expect(template.toJSON().Resources[functionSg].Properties.SecurityGroupEgress).toBeUndefined();
    template.hasResourceProperties("AWS::EC2::SecurityGroupEgress", { GroupId: { "Fn::GetAtt": [functionSg, "GroupId"] }, DestinationSecurityGroupId: { "Fn::GetAtt": [lbSg, "GroupId"] }, FromPort: 80, ToPort: 80 });
    template.hasResourceProperties("AWS::EC2::SecurityGroupIngress", { GroupId: { "Fn::GetAtt": [lbSg, "GroupId"] }, SourceSecurityGroupId: { "Fn::GetAtt": [functionSg, "GroupId"] }, FromPort: 80, ToPort: 80 });
  });

  it("checks every route but the auth service's own, so clients can sign in", () => {
    const { template } = build({ routes, auth: { kind: "authorizer", target: "auth" } });
    const routeAuth = Object.values(template.findResources("AWS::ApiGatewayV2::Route")).map((r) => [r.Properties.RouteKey, r.Properties.AuthorizationType]);
    // orders is served by the catch-all, under the authorizer; only the auth service's own routes are open.
    expect(Object.fromEntries(routeAuth)).toEqual({ "ANY /": "CUSTOM", "ANY /{proxy+}": "CUSTOM", "ANY /auth": "NONE", "ANY /auth/{proxy+}": "NONE" });
  });

  it("reaches an auth service elsewhere on its URL's port only", () => {
    const { stack, gateway, template } = build({ auth: { kind: "authorizer", handlerUrl: "http://auth.internal:8081/authorize/" } });
    const fn = template.toJSON().Resources[logicalId(stack, gateway.authorizerFunction)];
    expect(fn.Properties.Environment.Variables.AUTHORIZE_URL).toBe("http://auth.internal:8081/authorize");
    template.hasResourceProperties("AWS::EC2::SecurityGroup", {
      GroupDescription: "Gateway request authorizer",
      SecurityGroupEgress: [Match.objectLike({ CidrIp: "0.0.0.0/0", FromPort: 8081, ToPort: 8081 })],
    });
    const routeAuth = Object.values(template.findResources("AWS::ApiGatewayV2::Route")).map((r) => r.Properties.AuthorizationType);
    expect(new Set(routeAuth)).toEqual(new Set(["CUSTOM"]));
  });

  it("deploys the shared handler, which forwards only the Authorization header and fails closed", async () => {
    const { stack, gateway, template } = build({ routes, auth: { kind: "authorizer", target: "auth" } });
    const fn = template.toJSON().Resources[logicalId(stack, gateway.authorizerFunction)];
    const module = { exports: {} as { handler: (event: unknown) => Promise<{ isAuthorized: boolean }> } };
    new Function("exports", fn.Properties.Code.ZipFile)(module.exports);
    const fetchMock = vi.fn();
    vi.stubGlobal("fetch", fetchMock);
    vi.stubEnv("AUTHORIZE_URL", "http://internal-lb/auth/authorize");
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      fetchMock.mockResolvedValueOnce({ status: 200 });
      await expect(module.exports.handler({ rawPath: "/orders/1", headers: { authorization: "Bearer good", cookie: "x" } })).resolves.toEqual({ isAuthorized: true });
      expect(fetchMock).toHaveBeenCalledWith("http://internal-lb/auth/authorize/orders/1", expect.objectContaining({ headers: { authorization: "Bearer good" } }));
      fetchMock.mockResolvedValueOnce({ status: 401 });
      await expect(module.exports.handler({ rawPath: "/orders/1", headers: { authorization: "Bearer bad" } })).resolves.toEqual({ isAuthorized: false });
      fetchMock.mockRejectedValueOnce(new Error("timeout"));
      await expect(module.exports.handler({ rawPath: "/orders/1", headers: { authorization: "Bearer slow" } })).resolves.toEqual({ isAuthorized: false });
      await expect(module.exports.handler({ headers: {} })).resolves.toEqual({ isAuthorized: false });
      expect(fetchMock).toHaveBeenCalledTimes(3);
      expect(logged).toHaveBeenCalledOnce();
    } finally {
      logged.mockRestore();
      vi.unstubAllGlobals();
      vi.unstubAllEnvs();
    }
  });
});

describe("ApiGateway bad input", () => {
  const { stack, vpc } = newStack();
  let n = 0;
  const make = (props: Omit<ApiGatewayProps, "vpc">) => () => new ApiGateway(stack, `Bad${n++}`, { vpc, ...props });
  const route = { path: "/a", target: "a", port: 8080 };
  const none = { kind: "none" } as const;

  it.each([
    ["neither routes nor loadBalancers", { auth: none }, /neither loadBalancers nor routes is set/],
    ["both", { auth: none, routes: [route], loadBalancers: [] }, /both loadBalancers and routes are set/],
    [
      "too many routes on a load balancer",
      { auth: none, loadBalancers: [{ index: 0, routes: Array.from({ length: MAX_RULES_PER_LOAD_BALANCER + 1 }, (_, i) => ({ ...route, path: `/s${i}`, priority: i + 1 })) }] },
      /has 91 routes; a load balancer is given at most 90 rules\. Fix: split/,
    ],
    ["a duplicate priority", { auth: none, loadBalancers: [{ index: 0, routes: [{ ...route, priority: 1 }, { ...route, path: "/b", priority: 1 }] }] }, /priority 1 must be .* unique/],
    ["a path routed twice", { auth: none, routes: [route, { ...route, path: "/a/" }] }, /path \/a is routed twice/],
    ["a bad path", { auth: none, routes: [{ ...route, path: "api" }] }, /path must match/],
    ["one target on two ports", { auth: none, routes: [route, { ...route, path: "/b", port: 9090 }] }, /target "a" already has port 8080/],
    ["a retention CloudWatch lacks", { auth: none, routes: [route], accessLogRetentionDays: 42 }, /accessLogRetentionDays 42 is not a CloudWatch Logs retention/],
    ["a zero rate", { auth: none, routes: [route], rateLimit: { requestsPerSecond: 0, burst: 10 } }, /rateLimit\.requestsPerSecond 0 must be a positive integer/],
    ["jwt without issuer", { auth: { kind: "jwt", audience: ["x"] }, routes: [route] }, /auth \{ kind: "jwt" \} has no issuer\. Fix: pass auth\.directory/],
    ["jwt without audience", { auth: { kind: "jwt", issuer: "https://issuer.example.com" }, routes: [route] }, /has no audience/],
    ["an authorizer URL that is not one", { auth: { kind: "authorizer", handlerUrl: "auth:8080" }, routes: [route] }, /auth\.handlerUrl "auth:8080" must be http or https/],
    ["an authorizer with two destinations", { auth: { kind: "authorizer", handlerUrl: "http://auth:8080", target: "a" }, routes: [route] }, /has both target and handlerUrl/],
    ["an authorizer on an unknown target", { auth: { kind: "authorizer", target: "ghost" }, routes: [route] }, /auth\.target "ghost" has no route on this gateway\. Fix: use one of a/],
    ["an authorizer cache over an hour", { auth: { kind: "authorizer", target: "a", cacheSeconds: 7200 }, routes: [route] }, /auth\.cacheSeconds 7200 is outside 0-3600/],
  ] as const)("rejects %s", (_name, props, message) => {
    expect(make(props as Omit<ApiGatewayProps, "vpc">)).toThrow(message);
  });

  it("names the known targets when asked for an unknown one, and sends split targets to targetGroups", () => {
    const routes = Array.from({ length: MAX_RULES_PER_LOAD_BALANCER + 1 }, (_, i) => ({ path: `/bff/r${i}`, target: i < MAX_RULES_PER_LOAD_BALANCER - 1 ? `s${i}` : "bff", port: 8080 }));
    const gateway = make({ auth: none, routes })();
    expect(gateway.loadBalancers).toHaveLength(2);
    expect(() => gateway.targetGroup("nope")).toThrow(/no route targets "nope"\. Fix: use one of s0, .*bff/);
    expect(() => gateway.targetGroup("bff")).toThrow(/routes on 2 load balancers.*Fix: use targetGroups\("bff"\)/);
    expect(gateway.targetGroups("bff")).toHaveLength(2);
    expect(gateway.targetGroup("s0")).toBe(gateway.targetGroups("s0")[0]);
  });

  it("warns when the routes pass the HTTP API route quota, counting only routes the catch-all does not serve", () => {
    const routes = (n: number) => Array.from({ length: n }, (_, i) => ({ ...route, target: `t${i}`, path: `/q${i}` }));
    const warnings = (c: ApiGateway) => c.node.metadata.filter((m) => m.type === "aws:cdk:warning").map((m) => String(m.data));
    // The catch-all serves the first load balancer; only routes past it have two each.
    expect(warnings(make({ auth: none, routes: routes(MAX_RULES_PER_LOAD_BALANCER + 149) })())).toEqual([]);
    expect(warnings(make({ auth: none, routes: routes(MAX_RULES_PER_LOAD_BALANCER + 150) })())).toEqual([expect.stringMatching(/302 API routes pass the default HTTP API quota of 300/)]);
  });
});

describe("ApiGateway under cdk-nag", () => {
  it("passes the AWS Solutions pack, each acknowledgement with a reason", () => {
    const { app, stack, vpc } = newStack();
    vpc.addFlowLog("FlowLogs");
    const directory = new UserDirectory(stack, "Users");
    new ApiGateway(stack, "Jwt", { vpc, routes: [{ path: "/a", target: "a", port: 8080 }], auth: { kind: "jwt", directory }, waf: true });
    new ApiGateway(stack, "Delegated", { vpc, routes: [{ path: "/a", target: "a", port: 8080 }], auth: { kind: "authorizer", handlerUrl: "https://auth.example.com/authorize" } });
    new ApiGateway(stack, "AuthService", { vpc, routes: [{ path: "/a", target: "a", port: 8080 }, { path: "/auth", target: "auth", port: 8080 }], auth: { kind: "authorizer", target: "auth" } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
    const reasons = stack.node
      .findAll()
      .flatMap((c: IConstruct) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(reasons.map(([id]) => id)).toEqual(expect.arrayContaining(["AwsSolutions::AwsSolutions-S1", "AwsSolutions::AwsSolutions-COG2", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"]));
    // The current Node.js runtime needs no acknowledgement, and no managed policy is attached.
    expect(reasons.map(([id]) => id).filter((id) => /-L1|-IAM4/.test(id))).toEqual([]);
    for (const [id, reason] of reasons) expect(reason.length, id).toBeGreaterThan(30);
  });
});
