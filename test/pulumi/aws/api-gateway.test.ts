import { describe, expect, it } from "vitest";
import { planLandingZone } from "../../../lib/plan/planner.js";
import type { GatewayPlan, LandingZonePlan } from "../../../lib/plan/types.js";
import { loadBalancerPathPatterns } from "../../../lib/plan/gateway-paths.js";
import { ApiGateway, routeKeys, type ApiGatewayArgs } from "../../../lib/pulumi/aws/api-gateway.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { byType, runProgram, single, type RegisteredResource } from "../harness.js";

const SUBNETS = ["subnet-private-a", "subnet-private-b"];

function plan(overrides: Partial<LandingZoneInput> = {}): LandingZonePlan {
  return planLandingZone({
    name: "shop",
    environment: "prod",
    services: [{ name: "orders", healthPath: "/healthz" }, { name: "payments" }],
    bffs: [{ name: "web", routes: ["/web", "/assets"] }],
    ...overrides,
  });
}

function args(gateway: GatewayPlan, extra: Partial<ApiGatewayArgs> = {}): ApiGatewayArgs {
  return { gateway, namePrefix: "shop-prod", vpcId: "vpc-1", privateSubnetIds: SUBNETS, workloadSecurityGroupId: "sg-pods", healthCheckPaths: { orders: "/healthz" }, retain: true, ...extra };
}

async function gateway(a: ApiGatewayArgs): Promise<RegisteredResource[]> {
  const { resources } = await runProgram(() => {
    new ApiGateway("gw", a);
  });
  return resources;
}

describe("ApiGateway", () => {
  it("puts an internal ALB in private subnets that only the VPC link may reach", async () => {
    const resources = await gateway(args(plan().gateway));
    const lb = single(resources, "aws:lb/loadBalancer:LoadBalancer");
    expect(lb.parent).toBe("gw");
    expect(lb.inputs).toMatchObject({ name: "shop-prod-lb", internal: true, loadBalancerType: "application", subnets: SUBNETS, dropInvalidHeaderFields: true, enableDeletionProtection: true });
    const lbGroup = single(resources, "aws:ec2/securityGroup:SecurityGroup", "gw-lb0");
    const vpcLinkGroup = single(resources, "aws:ec2/securityGroup:SecurityGroup", "gw-vpc-link");
    expect(lb.inputs["securityGroups"]).toEqual([lbGroup.outputs["id"]]);
    const ingress = byType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.inputs["securityGroupId"] === lbGroup.outputs["id"]);
    expect(ingress).toHaveLength(1);
    expect(ingress[0]!.inputs).toMatchObject({ referencedSecurityGroupId: vpcLinkGroup.outputs["id"], fromPort: 80, toPort: 80, ipProtocol: "tcp" });
    expect(ingress[0]!.inputs["cidrIpv4"]).toBeUndefined();
    // Pods admit the load balancer on the service port, and nothing else is opened on them.
    const podRules = byType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.inputs["securityGroupId"] === "sg-pods");
    expect(podRules.map((r) => [r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"]])).toEqual([[lbGroup.outputs["id"], 8080]]);
    const vpcLink = single(resources, "aws:apigatewayv2/vpcLink:VpcLink");
    expect(vpcLink.inputs).toMatchObject({ subnetIds: SUBNETS, securityGroupIds: [vpcLinkGroup.outputs["id"]] });
  });

  it("routes each path prefix through a listener rule with the planned priority to an IP target group", async () => {
    const p = plan();
    const resources = await gateway(args(p.gateway));
    const listener = single(resources, "aws:lb/listener:Listener");
    expect(listener.inputs).toMatchObject({ port: 80, protocol: "HTTP", defaultActions: [{ type: "fixed-response", fixedResponse: { statusCode: "404" } }] });
    const targetGroups = byType(resources, "aws:lb/targetGroup:TargetGroup");
    expect(targetGroups.map((t) => t.inputs["name"])).toEqual(["shop-prod-orders", "shop-prod-payments", "shop-prod-web"]);
    for (const tg of targetGroups) expect(tg.inputs).toMatchObject({ targetType: "ip", protocol: "HTTP", port: 8080, vpcId: "vpc-1" });
    expect(targetGroups.map((t) => (t.inputs["healthCheck"] as { path: string }).path)).toEqual(["/healthz", "/health", "/health"]);

    const rules = byType(resources, "aws:lb/listenerRule:ListenerRule");
    expect(rules.map((r) => r.inputs["priority"])).toEqual(p.gateway.routes.map((r) => r.priority));
    const webTarget = targetGroups.find((t) => t.inputs["name"] === "shop-prod-web")!;
    const assets = rules.find((r) => JSON.stringify(r.inputs["conditions"]).includes("/assets/*"))!;
    expect(assets.inputs).toMatchObject({ listenerArn: listener.outputs["arn"], conditions: [{ pathPattern: { values: ["/assets", "/assets/*"] } }], actions: [{ type: "forward", targetGroupArn: webTarget.outputs["arn"] }] });
  });

  it("proxies every path through the VPC link to the listener, whose rules route by prefix, behind a Cognito JWT authorizer", async () => {
    const resources = await gateway(args(plan().gateway));
    const api = single(resources, "aws:apigatewayv2/api:Api");
    expect(api.inputs["protocolType"]).toBe("HTTP");
    const integration = single(resources, "aws:apigatewayv2/integration:Integration");
    const listener = single(resources, "aws:lb/listener:Listener");
    const vpcLink = single(resources, "aws:apigatewayv2/vpcLink:VpcLink");
    expect(integration.inputs).toMatchObject({ integrationType: "HTTP_PROXY", connectionType: "VPC_LINK", connectionId: vpcLink.outputs["id"], integrationUri: listener.outputs["arn"], integrationMethod: "ANY" });

    const pool = single(resources, "aws:cognito/userPool:UserPool");
    const client = single(resources, "aws:cognito/userPoolClient:UserPoolClient");
    expect(pool.parentType).toBe("msa:aws:UserDirectory");
    expect(pool.protect).toBe(true);
    expect(client.inputs["generateSecret"]).toBe(false);
    const authorizer = single(resources, "aws:apigatewayv2/authorizer:Authorizer");
    expect(authorizer.inputs).toMatchObject({
      authorizerType: "JWT",
      identitySources: ["$request.header.Authorization"],
      jwtConfiguration: { issuer: `https://cognito-idp.us-east-1.amazonaws.com/${pool.outputs["id"]}`, audiences: [client.outputs["id"]] },
    });

    const routes = byType(resources, "aws:apigatewayv2/route:Route");
    // One load balancer: the catch-all pair reaches it and its listener rules route by prefix.
    expect(routes.map((r) => r.inputs["routeKey"])).toEqual(["ANY /", "ANY /{proxy+}"]);
    const rules = byType(resources, "aws:lb/listenerRule:ListenerRule").map((r) => (r.inputs["conditions"] as { pathPattern: { values: string[] } }[])[0]!.pathPattern.values);
    expect(rules).toEqual([["/orders", "/orders/*"], ["/payments", "/payments/*"], ["/web", "/web/*"], ["/assets", "/assets/*"]]);
    for (const route of routes) expect(route.inputs).toMatchObject({ target: `integrations/${integration.outputs["id"]}`, authorizationType: "JWT", authorizerId: authorizer.outputs["id"] });
  });

  it("throttles and writes access logs to a KMS-encrypted log group; a WAF web ACL guards the ALB", async () => {
    const p = plan();
    const resources = await gateway(args(p.gateway));
    const stage = single(resources, "aws:apigatewayv2/stage:Stage");
    const logGroup = single(resources, "aws:cloudwatch/logGroup:LogGroup");
    const key = single(resources, "aws:kms/key:Key");
    expect(stage.inputs).toMatchObject({
      name: "$default",
      autoDeploy: true,
      defaultRouteSettings: { throttlingRateLimit: p.gateway.rateLimit.requestsPerSecond, throttlingBurstLimit: p.gateway.rateLimit.burst },
      accessLogSettings: { destinationArn: logGroup.outputs["arn"] },
    });
    // The same fields as the CDK gateway's access log, so one log query serves either engine.
    const format = JSON.parse((stage.inputs["accessLogSettings"] as { format: string }).format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: "$context.requestId", status: "$context.status", routeKey: "$context.routeKey", path: "$context.path", integrationStatus: "$context.integration.status" });
    expect(logGroup.inputs).toMatchObject({ kmsKeyId: key.outputs["arn"], retentionInDays: p.gateway.accessLogRetentionDays });
    const keyPolicy = JSON.parse(key.inputs["policy"] as string) as { Statement: { Principal: { Service?: string }; Condition?: unknown }[] };
    const logsStatement = keyPolicy.Statement.find((s) => s.Principal.Service === "logs.us-east-1.amazonaws.com")!;
    expect(JSON.stringify(logsStatement.Condition)).toContain("log-group:/aws/apigateway/shop-prod/access");

    const acl = single(resources, "aws:wafv2/webAcl:WebAcl");
    expect(acl.inputs).toMatchObject({ scope: "REGIONAL", defaultAction: { allow: {} } });
    const association = single(resources, "aws:wafv2/webAclAssociation:WebAclAssociation");
    expect(association.inputs).toEqual({ resourceArn: single(resources, "aws:lb/loadBalancer:LoadBalancer").outputs["arn"], webAclArn: acl.outputs["arn"] });
  });

  it("leaves out the authorizer and the WAF when the plan asks for neither", async () => {
    const resources = await gateway(args(plan({ environment: "dev", gateway: { auth: "none", waf: false } }).gateway, { retain: false }));
    expect(byType(resources, "aws:apigatewayv2/authorizer:Authorizer")).toEqual([]);
    expect(byType(resources, "aws:cognito/userPool:UserPool")).toEqual([]);
    expect(byType(resources, "aws:wafv2/webAcl:WebAcl")).toEqual([]);
    expect(byType(resources, "aws:apigatewayv2/route:Route").every((r) => r.inputs["authorizationType"] === "NONE")).toBe(true);
  });

  it("builds one ALB, listener and integration per planned load balancer", async () => {
    const p = plan();
    const [first, ...rest] = p.gateway.routes;
    const split: GatewayPlan = {
      ...p.gateway,
      loadBalancers: [
        { index: 0, routes: [first!] },
        { index: 1, routes: rest.map((r, i) => ({ ...r, priority: i + 1 })) },
      ],
    };
    const resources = await gateway(args(split));
    expect(byType(resources, "aws:lb/loadBalancer:LoadBalancer").map((l) => l.inputs["name"])).toEqual(["shop-prod-lb", "shop-prod-lb-1"]);
    expect(byType(resources, "aws:apigatewayv2/integration:Integration")).toHaveLength(2);
    expect(byType(resources, "aws:wafv2/webAclAssociation:WebAclAssociation")).toHaveLength(2);
    const listeners = byType(resources, "aws:lb/listener:Listener");
    const secondRules = byType(resources, "aws:lb/listenerRule:ListenerRule").filter((r) => r.inputs["listenerArn"] === listeners[1]!.outputs["arn"]);
    expect(secondRules.map((r) => r.inputs["priority"])).toEqual([1, 2, 3]);
  });

  it("rejects two routes of one load balancer with the same priority, before registering anything", async () => {
    const p = plan();
    const clash: GatewayPlan = { ...p.gateway, loadBalancers: [{ index: 0, routes: p.gateway.routes.map((r) => ({ ...r, priority: 7 })) }] };
    let error: unknown;
    const { resources } = await runProgram(() => {
      try {
        new ApiGateway("gw", args(clash));
      } catch (e) {
        error = e;
      }
    });
    expect(String(error)).toMatch(/gateway\.loadBalancers\[0\] gives priority 7 to both \/orders and \/payments\. Fix:/);
    expect(resources).toEqual([]);
  });

  it("maps a root prefix to catch-all routes and patterns", () => {
    expect(routeKeys("/")).toEqual(["ANY /", "ANY /{proxy+}"]);
    expect(loadBalancerPathPatterns("/")).toEqual(["/*"]);
    expect(routeKeys("/api/orders")).toEqual(["ANY /api/orders", "ANY /api/orders/{proxy+}"]);
  });
});
