import { readFileSync } from "node:fs";
import { join } from "node:path";
import { App, Stack, Validations, aws_s3_assets as s3assets } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { ApiGateway } from "../../lib/cdk/api-gateway.js";
import { Network } from "../../lib/cdk/network.js";
import { PaasPlatform } from "../../lib/cdk/paas-platform.js";
import { PaasService } from "../../lib/cdk/paas-service.js";
import { VmPlatform } from "../../lib/cdk/vm-platform.js";
import { VmService } from "../../lib/cdk/vm-service.js";
import { planLandingZone } from "../../lib/plan/planner.js";
import { ADOT_COLLECTOR_IMAGE, XRAY_WRITE_ACTIONS } from "../../lib/plan/tracing.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";

const STRICT = { "@aws-cdk/core:validateAgainstDefaultRules": true, "@aws-cdk/core:strictCfnValidateErrors": true };
const ZONES = ["ap-northeast-2a", "ap-northeast-2b"];
const spec = (tier: "iaas" | "paas"): LandingZoneInput => ({
  name: "shop",
  region: "ap-northeast-2",
  tier,
  gateway: { auth: "none" },
  tracing: { backend: "xray", samplingRate: 0.2 },
  monitoring: { dashboards: false, alarms: false },
  pipelines: { perService: false },
  logging: { stack: "none", buffer: "none" },
  auth: { sessions: "none" },
  services: [{ name: "orders", image: "public.ecr.aws/shop/orders:1.0.0", replicas: { min: 1, max: 3 } }],
});
const OTEL = {
  OTEL_SERVICE_NAME: "orders",
  OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel-collector:4317",
  OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
  OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
  OTEL_TRACES_SAMPLER_ARG: "0.2",
};

type Statement = { Sid: string; Action: string | string[]; Resource: unknown };
const statementsOf = (template: Template) => Object.values(template.findResources("AWS::IAM::Policy")).flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
const acknowledgements = (stack: Stack) =>
  stack.node
    .findAll()
    .flatMap((c: IConstruct) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
    .flatMap((m) => Object.entries(m.data as Record<string, string>));

function synthesize(app: App): string[] {
  const errors: string[] = [];
  try {
    app.synth();
  } catch (error) {
    errors.push(String(error));
  }
  return errors;
}

describe("VmService with tracing", () => {
  const plan = planLandingZone(spec("iaas"), { engine: "cdk" });
  const app = new App({ context: STRICT });
  const stack = new Stack(app, "Traced", { env: { account: "111111111111", region: "ap-northeast-2" } });
  const { vpc } = new Network(stack, "Network", { availabilityZones: ZONES, natGateways: 1 });
  const platform = new VmPlatform(stack, "Platform", { vpc, namespace: plan.hosts!.discovery!.namespace });
  const gateway = new ApiGateway(stack, "Gateway", { vpc, routes: [{ path: "/orders", target: "orders", port: 8080 }], auth: { kind: "none" }, targetType: "instance", workloadSecurityGroup: platform.workloadSecurityGroup, accessLogs: false });
  new VmService(stack, "Orders", {
    plan,
    serviceName: "orders",
    vpc,
    workloadSecurityGroup: platform.workloadSecurityGroup,
    image: "public.ecr.aws/shop/orders:1.0.0",
    targetGroupArns: gateway.targetGroups("orders").map((t) => t.targetGroupArn),
    discovery: { namespaceId: platform.namespace!.attrId, hostedZoneId: platform.namespace!.attrHostedZoneId },
  });
  const errors = synthesize(app);
  const template = Template.fromStack(stack);

  it("gives the instance role exactly the X-Ray write actions on *, acknowledged for cdk-nag with the reason (the examples' compliance test runs the packs)", () => {
    expect(errors).toEqual([]);
    expect(statementsOf(template).filter((s) => s.Sid === "Trace")).toEqual([{ Sid: "Trace", Effect: "Allow", Action: [...XRAY_WRITE_ACTIONS], Resource: "*" }]);
    const wildcard = acknowledgements(stack).filter(([id]) => id === "AwsSolutions::AwsSolutions-IAM5[Resource::*]").map(([, reason]) => reason);
    expect(wildcard.some((reason) => reason.includes("X-Ray has no resource-level permissions"))).toBe(true);
  });

  it("runs the collector beside the container in the user data, and the container gets the OTEL variables", () => {
    const data = Object.values(template.findResources("AWS::EC2::LaunchTemplate"))[0]!.Properties.LaunchTemplateData as { UserData: unknown };
    const script = JSON.stringify(stack.resolve(data.UserData));
    expect(script).toContain("msa-otel-collector.service");
    expect(script).toContain(ADOT_COLLECTOR_IMAGE);
    expect(script).toContain("awsxray:");
    expect(script).toContain("--name app --network msa --env-file /etc/msa/service.env");
    for (const [key, value] of Object.entries(OTEL)) expect(script).toContain(`${key}=${value}`);
  });
});

describe("PaasService with tracing", () => {
  const plan = planLandingZone(spec("paas"), { engine: "cdk" });
  const app = new App({ context: STRICT });
  const stack = new Stack(app, "TracedPaas", { env: { account: "111111111111", region: "ap-northeast-2" } });
  const { vpc } = new Network(stack, "Network", { availabilityZones: ZONES, natGateways: 1 });
  const platform = new PaasPlatform(stack, "Platform", { vpc, applicationName: "shop-dev", namespace: plan.hosts!.discovery!.namespace });
  const gateway = new ApiGateway(stack, "Gateway", { vpc, routes: [{ path: "/orders", target: "orders", port: 8080 }], auth: { kind: "none" }, attachment: "services", sharedWithBeanstalk: true, workloadSecurityGroup: platform.workloadSecurityGroup, accessLogs: false });
  const service = new PaasService(stack, "Orders", {
    plan,
    serviceName: "orders",
    applicationName: platform.applicationName,
    serviceRoleArn: platform.serviceRole.roleArn,
    vpc,
    workloadSecurityGroup: platform.workloadSecurityGroup,
    loadBalancer: { arn: gateway.loadBalancers[0]!.loadBalancerArn, securityGroupId: gateway.securityGroup.securityGroupId, pathListenerArn: gateway.listeners[0]!.listenerArn },
    image: "public.ecr.aws/shop/orders:1.0.0",
  });
  const errors = synthesize(app);
  const template = Template.fromStack(stack);

  it("gives the instance profile's role exactly the X-Ray write actions on *", () => {
    expect(errors).toEqual([]);
    expect(statementsOf(template).filter((s) => s.Sid === "Trace")).toEqual([{ Sid: "Trace", Effect: "Allow", Action: [...XRAY_WRITE_ACTIONS], Resource: "*" }]);
  });

  it("sets the OTEL variables as environment properties, and the bundle's compose file runs the collector beside the app", () => {
    const environment = Object.values(template.findResources("AWS::ElasticBeanstalk::Environment"))[0]!;
    const properties = (environment.Properties.OptionSettings as { Namespace: string; OptionName: string; Value: unknown }[]).filter((s) => s.Namespace === "aws:elasticbeanstalk:application:environment");
    expect(Object.fromEntries(properties.map((s) => [s.OptionName, s.Value]))).toMatchObject(OTEL);
    const bundle = service.node.findChild("Bundle") as s3assets.Asset;
    const dir = join(app.outdir, bundle.assetPath);
    const compose = parse(readFileSync(join(dir, "docker-compose.yml"), "utf8")) as { services: Record<string, { image: string; environment?: Record<string, string> }> };
    expect(compose.services["otel-collector"]!.image).toBe(ADOT_COLLECTOR_IMAGE);
    expect(Object.keys(compose.services["app"]!.environment!)).toEqual(expect.arrayContaining(Object.keys(OTEL)));
    expect(readFileSync(join(dir, "otel-collector.yaml"), "utf8")).toContain("awsxray:");
  });
});
