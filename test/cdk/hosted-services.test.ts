import { App, Stack, aws_ec2 as ec2 } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { ApiGateway } from "../../lib/cdk/api-gateway.js";
import { ConfigStore } from "../../lib/cdk/config-store.js";
import { GatewayRoutes } from "../../lib/cdk/gateway-routes.js";
import { LogPipeline } from "../../lib/cdk/log-pipeline.js";
import { Network } from "../../lib/cdk/network.js";
import { PaasPlatform } from "../../lib/cdk/paas-platform.js";
import { PaasService } from "../../lib/cdk/paas-service.js";
import { VmPlatform } from "../../lib/cdk/vm-platform.js";
import { VmService } from "../../lib/cdk/vm-service.js";
import { serviceConfigOf } from "../../lib/plan/config-store.js";
import { BEANSTALK_PATH_LISTENER_PORT } from "../../lib/plan/gateway-paths.js";
import { PATH_LISTENER_OPTION } from "../../lib/plan/host-bootstrap.js";
import { planLandingZone } from "../../lib/plan/planner.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";

const STRICT = { "@aws-cdk/core:validateAgainstDefaultRules": true, "@aws-cdk/core:strictCfnValidateErrors": true };
const ZONES = ["ap-northeast-2a", "ap-northeast-2b"];
const spec = (tier: "iaas" | "paas"): LandingZoneInput => ({
  name: "shop",
  region: "ap-northeast-2",
  tier,
  gateway: { auth: "none" },
  tracing: { backend: "none" },
  monitoring: { dashboards: false, alarms: false },
  pipelines: { perService: false },
  logging: { stack: "none", buffer: "none" },
  auth: { sessions: "none" },
  services: [{ name: "orders", image: "public.ecr.aws/shop/orders:1.0.0", replicas: { min: 1, max: 3 } }],
});

function stackWithNetwork(validate: boolean) {
  const app = new App({ context: validate ? STRICT : {}, builtinCloudFormationValidation: validate });
  const stack = new Stack(app, "Hosted", { env: { account: "111111111111", region: "ap-northeast-2" } });
  const network = new Network(stack, "Network", { availabilityZones: ZONES, natGateways: 1 });
  return { app, stack, vpc: network.vpc };
}

describe("VmPlatform and VmService on their own, in one stack", () => {
  const plan = planLandingZone(spec("iaas"));
  const { app, stack, vpc } = stackWithNetwork(true);
  const platform = new VmPlatform(stack, "Platform", { vpc, namespace: plan.hosts!.discovery!.namespace });
  const gateway = new ApiGateway(stack, "Gateway", { vpc, routes: [{ path: "/orders", target: "orders", port: 8080 }], auth: { kind: "none" }, targetType: "instance", workloadSecurityGroup: platform.workloadSecurityGroup, accessLogs: false });
  const service = new VmService(stack, "Orders", {
    plan,
    serviceName: "orders",
    vpc,
    workloadSecurityGroup: platform.workloadSecurityGroup,
    image: "public.ecr.aws/shop/orders:1.0.0",
    targetGroupArns: gateway.targetGroups("orders").map((t) => t.targetGroupArn),
    discovery: { namespaceId: platform.namespace!.attrId, hostedZoneId: platform.namespace!.attrHostedZoneId },
  });
  const template = Template.fromStack(stack);
  app.synth();

  it("registers the fleet in the gateway's instance target group and health-checks it through the load balancer", () => {
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::TargetGroup", { TargetType: "instance", Port: 8080 });
    template.hasResourceProperties("AWS::AutoScaling::AutoScalingGroup", { HealthCheckType: "ELB", MinSize: "1", MaxSize: "3", TargetGroupARNs: [{ Ref: stack.getLogicalId(gateway.targetGroup("orders").node.defaultChild as never) }] });
    template.hasResourceProperties("AWS::AutoScaling::ScalingPolicy", { PolicyType: "TargetTrackingScaling", TargetTrackingConfiguration: { TargetValue: 70 } });
  });

  it("keeps the instances private, SSH-less and on IMDSv2, and lets services reach each other", () => {
    const data = Object.values(template.findResources("AWS::EC2::LaunchTemplate"))[0]!.Properties.LaunchTemplateData as Record<string, unknown>;
    expect(data).toMatchObject({ MetadataOptions: { HttpTokens: "required" }, NetworkInterfaces: [{ AssociatePublicIpAddress: false }] });
    expect(data).not.toHaveProperty("KeyName");
    template.hasResourceProperties("AWS::EC2::SecurityGroupIngress", { IpProtocol: "tcp", FromPort: 0, ToPort: 65535, Description: "Services of the landing zone" });
  });

  it("pulls a public image without ECR permissions and ships no logs without a buffer", () => {
    const statements = Object.values(template.findResources("AWS::IAM::Policy")).flatMap((p) => (p.Properties.PolicyDocument as { Statement: { Sid: string }[] }).Statement.map((s) => s.Sid));
    expect(statements).not.toContain("PullImage");
    expect(statements).toEqual(expect.arrayContaining(["Register", "RegisterRecords", "CompleteTerminationHook", "Metrics", "BootLog"]));
    expect(JSON.stringify(template.toJSON())).not.toContain("msa-filebeat");
    expect(service.discoveryService).toBeDefined();
  });

  it("refuses a plan of another tier and a publisher without topic ARNs, naming the fix", () => {
    const other = new Stack(new App(), "Other");
    const otherVpc = ec2.Vpc.fromVpcAttributes(other, "Vpc", { vpcId: "vpc-1", availabilityZones: ZONES, privateSubnetIds: ["s-1", "s-2"] });
    const sg = ec2.SecurityGroup.fromSecurityGroupId(other, "Sg", "sg-1");
    expect(() => new VmService(other, "P", { plan: planLandingZone(spec("paas")), serviceName: "orders", vpc: otherVpc, workloadSecurityGroup: sg, image: "x" })).toThrow(/plan tier is "paas", which has no VM fleet\. Fix: plan the landing zone with tier: iaas/);
    const publisher = planLandingZone({ ...spec("iaas"), services: [{ name: "orders", publishes: ["order-placed"] }] });
    expect(() => new VmService(other, "Q", { plan: publisher, serviceName: "orders", vpc: otherVpc, workloadSecurityGroup: sg, image: "x" })).toThrow(/messagingArns is undefined but orders publishes or subscribes\. Fix/);
    expect(() => new VmService(other, "R", { plan: publisher, serviceName: "nope", vpc: otherVpc, workloadSecurityGroup: sg, image: "x" })).toThrow(/serviceName "nope" is not in the plan\. Fix: use one of orders/);
  });

  it("uses the ConfigStore it is given instead of a second copy of the secrets, and refuses another service's", () => {
    const configured = planLandingZone({ ...spec("iaas"), services: [{ name: "orders", secrets: ["SIGNING_KEY"], config: { CURRENCY: "KRW" } }, { name: "payments", secrets: ["API_KEY"] }] });
    const own = new Stack(new App(), "Own", { env: { account: "111111111111", region: "ap-northeast-2" } });
    const ownVpc = ec2.Vpc.fromVpcAttributes(own, "Vpc", { vpcId: "vpc-1", availabilityZones: ZONES, privateSubnetIds: ["s-1", "s-2"] });
    const sg = ec2.SecurityGroup.fromSecurityGroupId(own, "Sg", "sg-1");
    const store = new ConfigStore(own, "Config", { config: serviceConfigOf(configured.configStore!, "orders") });
    const fleet = new VmService(own, "Orders", { plan: configured, serviceName: "orders", vpc: ownVpc, workloadSecurityGroup: sg, image: "x", configStore: store });
    expect(fleet.configStore).toBe(store);
    expect(fleet.secrets.get("SIGNING_KEY")).toBe(store.secrets.get("SIGNING_KEY"));
    const secrets = Template.fromStack(own).findResources("AWS::SecretsManager::Secret");
    expect(Object.keys(secrets)).toEqual([own.getLogicalId(store.secrets.get("SIGNING_KEY")!.node.defaultChild as never)]);
    expect(() => new VmService(own, "Payments", { plan: configured, serviceName: "payments", vpc: ownVpc, workloadSecurityGroup: sg, image: "x", configStore: store })).toThrow(/configStore belongs to "orders"\. Fix: pass the ConfigStore of payments/);
  });
});

describe("PaasPlatform and PaasService on their own", () => {
  const plan = planLandingZone(spec("paas"));
  const { stack, vpc } = stackWithNetwork(false);
  const platform = new PaasPlatform(stack, "Platform", { vpc, applicationName: "shop-dev", namespace: plan.hosts!.discovery!.namespace });
  const gateway = new ApiGateway(stack, "Gateway", {
    vpc,
    routes: [{ path: "/orders", target: "orders", port: 8080 }],
    auth: { kind: "none" },
    attachment: "services",
    sharedWithBeanstalk: true,
    workloadSecurityGroup: platform.workloadSecurityGroup,
    accessLogs: false,
  });
  const service = new PaasService(stack, "Orders", {
    plan,
    serviceName: "orders",
    applicationName: platform.applicationName,
    serviceRoleArn: platform.serviceRole.roleArn,
    vpc,
    workloadSecurityGroup: platform.workloadSecurityGroup,
    loadBalancer: { arn: gateway.loadBalancers[0]!.loadBalancerArn, securityGroupId: gateway.securityGroup.securityGroupId, pathListenerArn: gateway.listeners[0]!.listenerArn },
    image: "public.ecr.aws/shop/orders:1.0.0",
    discoveryNamespaceId: platform.namespace!.attrId,
  });
  // A route on a second load balancer, which the catch-all does not reach: API routes only.
  const elsewhere = new GatewayRoutes(stack, "Routes", {
    apiId: gateway.httpApi.apiId,
    routes: [{ path: "/payments", loadBalancer: 1, priority: 1 }],
    loadBalancers: [{ index: 1, integrationId: "integration-1" }],
    target: { kind: "environment" },
  });
  const template = Template.fromStack(stack);

  it("gives Beanstalk a service role for enhanced health and managed updates, and the instances a minimal profile", () => {
    const roles = Object.values(template.findResources("AWS::IAM::Role")).map((r) => JSON.stringify(r.Properties));
    expect(roles.find((r) => r.includes("elasticbeanstalk.amazonaws.com"))).toMatch(/service-role\/AWSElasticBeanstalkEnhancedHealth.*AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy/);
    expect(roles.find((r) => r.includes("Beanstalk instances of orders"))).toMatch(/AWSElasticBeanstalkWebTier.*AmazonSSMManagedInstanceCore/);
    template.resourceCountIs("AWS::IAM::InstanceProfile", 1);
  });

  it("leaves port 80 to Beanstalk's host rules and routes the API by path on a listener of its own", () => {
    const listeners = template.findResources("AWS::ElasticLoadBalancingV2::Listener");
    expect(Object.values(listeners).map((l) => l.Properties.Port).sort()).toEqual([80, BEANSTALK_PATH_LISTENER_PORT]);
    for (const listener of Object.values(listeners)) expect(listener.Properties.DefaultActions[0].FixedResponseConfig.StatusCode).toBe("404");
    expect(stack.resolve(gateway.environmentListeners[0]!.listenerArn)).not.toEqual(stack.resolve(gateway.listeners[0]!.listenerArn));
    // The API reaches only the path listener; its integration and the catch-all point there.
    const integration = Object.values(template.findResources("AWS::ApiGatewayV2::Integration"))[0]!;
    expect(integration.Properties.IntegrationUri).toEqual(stack.resolve(gateway.listeners[0]!.listenerArn));
    expect(integration.Properties.RequestParameters).toBeUndefined();
    template.hasResourceProperties("AWS::EC2::SecurityGroupIngress", { FromPort: BEANSTALK_PATH_LISTENER_PORT, ToPort: BEANSTALK_PATH_LISTENER_PORT, Description: "API Gateway VPC link" });
    expect(Object.values(template.findResources("AWS::ApiGatewayV2::Route")).map((r) => r.Properties.RouteKey).sort()).toEqual(["ANY /", "ANY /payments", "ANY /payments/{proxy+}", "ANY /{proxy+}"]);
    // The gateway's load balancers reach the instances' group, on any port (each service picks its own).
    template.hasResourceProperties("AWS::EC2::SecurityGroupIngress", { FromPort: 0, ToPort: 65535, Description: "Gateway load balancers" });
  });

  it("names the path listener to the environment, whose bundle adds the path rules, and registers its URL in Cloud Map", () => {
    const environment = Object.values(template.findResources("AWS::ElasticBeanstalk::Environment"))[0]!;
    const option = (environment.Properties.OptionSettings as { Namespace: string; OptionName: string; Value: unknown }[]).find((o) => o.OptionName === PATH_LISTENER_OPTION.optionName)!;
    expect(option).toMatchObject({ Namespace: "aws:elasticbeanstalk:customoption", Value: stack.resolve(gateway.listeners[0]!.listenerArn) });
    // Beanstalk owns the environments' target groups and rules; neither the gateway nor GatewayRoutes makes any.
    template.resourceCountIs("AWS::ElasticLoadBalancingV2::TargetGroup", 0);
    template.resourceCountIs("AWS::ElasticLoadBalancingV2::ListenerRule", 0);
    expect(elsewhere.targetGroupArns).toEqual([]);
    // The account completes the CNAME prefix, since CNAMEs are unique per region across accounts.
    expect(stack.resolve(service.host)).toBe("shop-dev-orders-111111111111.ap-northeast-2.elasticbeanstalk.com");
    template.hasResourceProperties("AWS::ServiceDiscovery::Service", { Name: "orders", Type: "HTTP" });
    template.hasResourceProperties("AWS::ServiceDiscovery::Instance", { InstanceId: "shop-dev-orders" });
  });

  it("refuses an environment with routes but no path listener for its rules", () => {
    const fresh = stackWithNetwork(false);
    const freshPlatform = new PaasPlatform(fresh.stack, "Platform", { vpc: fresh.vpc, applicationName: "shop-dev" });
    expect(
      () =>
        new PaasService(fresh.stack, "Orders", {
          plan,
          serviceName: "orders",
          applicationName: freshPlatform.applicationName,
          serviceRoleArn: freshPlatform.serviceRole.roleArn,
          vpc: fresh.vpc,
          workloadSecurityGroup: freshPlatform.workloadSecurityGroup,
          loadBalancer: { arn: "arn:lb", securityGroupId: "sg-lb" },
          image: "public.ecr.aws/shop/orders:1.0.0",
        }),
    ).toThrow(/orders has gateway routes, but loadBalancer\.pathListenerArn is undefined.*Fix: pass the path listener of its load balancer/);
  });

  it("refuses Beanstalk load balancers whose gateway would make the target groups itself", () => {
    const fresh = stackWithNetwork(false);
    expect(() => new ApiGateway(fresh.stack, "Mixed", { vpc: fresh.vpc, routes: [{ path: "/x", target: "x", port: 80 }], auth: { kind: "none" }, sharedWithBeanstalk: true })).toThrow(
      /sharedWithBeanstalk is true with attachment "gateway".*Fix: use attachment: "services"/,
    );
  });
});

describe("GatewayRoutes and LogPipeline errors", () => {
  it("name the missing load balancer and the conflicting Logstash placements", () => {
    const { stack, vpc } = stackWithNetwork(false);
    expect(
      () =>
        new GatewayRoutes(stack, "Routes", {
          apiId: "api",
          routes: [{ path: "/orders", loadBalancer: 1, priority: 1 }],
          loadBalancers: [{ index: 0, listenerArn: "l", integrationId: "i" }],
          target: { kind: "target-group", targetType: "instance", vpcId: "vpc", port: 8080, healthCheckPath: "/health" },
        }),
    ).toThrow(/route "\/orders" is on load balancer 1, which loadBalancers lacks\. Fix/);
    expect(
      () =>
        new GatewayRoutes(stack, "NoApi", {
          routes: [{ path: "/orders", loadBalancer: 0, priority: 1 }],
          loadBalancers: [{ index: 0, listenerArn: "l", integrationId: "i" }],
          target: { kind: "target-group", targetType: "instance", vpcId: "vpc", port: 8080, healthCheckPath: "/health" },
        }),
    ).toThrow(/apiId is undefined, but routes need HTTP API routes of their own\. Fix: pass the gateway's API id, or set ownApiRoutes: false/);
    expect(
      () =>
        new GatewayRoutes(stack, "NoListener", {
          apiId: "api",
          routes: [{ path: "/orders", loadBalancer: 0, priority: 1 }],
          loadBalancers: [{ index: 0, integrationId: "i" }],
          target: { kind: "target-group", targetType: "instance", vpcId: "vpc", port: 8080, healthCheckPath: "/health" },
        }),
    ).toThrow(/loadBalancers\[index 0\]\.listenerArn is undefined, but target-group routes add their rules to it\. Fix/);
    expect(
      () =>
        new GatewayRoutes(stack, "NoIntegration", {
          apiId: "api",
          routes: [{ path: "/orders", loadBalancer: 0, priority: 1 }],
          loadBalancers: [{ index: 0 }],
          target: { kind: "environment" },
        }),
    ).toThrow(/integrationId is undefined, but route "\/orders" has API routes of its own.*Fix: pass the integration id/);
    const plan = planLandingZone({ ...spec("iaas"), logging: { stack: "elk", buffer: "redis" } });
    const sg = new ec2.SecurityGroup(stack, "Sg", { vpc });
    expect(() => new LogPipeline(stack, "Logs", { vpc, hosts: { plan, shippers: sg }, buffer: false })).toThrow(/hosts need the Redis buffer.*Fix: set logging.buffer: redis/);
  });
});
