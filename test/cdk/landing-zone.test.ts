import { readFileSync } from "node:fs";
import { App, type Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { LandingZone } from "../../lib/cdk/landing-zone.js";
import { PlanError } from "../../lib/plan/planner.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../lib/spec/types.js";

const EXAMPLE = "examples/shop/landing-zone.yaml";
/** The context `cdk synth` runs with: recommended flags plus the strict validation keys. */
const CDK_CONTEXT = (JSON.parse(readFileSync("cdk.json", "utf8")) as { context: Record<string, unknown> }).context;
const SERVICES = ["orders", "payments", "inventory", "order-history", "web", "mobile"];

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;
interface CfnTemplate {
  Resources: Resources;
  Parameters?: Record<string, { Type: string; Default?: string }>;
  Outputs?: Record<string, unknown>;
}

function landingZone(spec: LandingZoneSpec, context: Record<string, unknown>, validate: boolean) {
  const app = new App({ context, builtinCloudFormationValidation: validate });
  const zone = new LandingZone(app, "Shop", { spec, account: "111111111111" });
  const assembly = app.synth();
  const templates = new Map<string, CfnTemplate>();
  for (const stack of assembly.stacks) templates.set(stack.stackName, stack.template as CfnTemplate);
  return { zone, templates };
}

const ofType = (template: CfnTemplate, type: string) => Object.values(template.Resources).filter((r) => r.Type === type);

describe("LandingZone (examples/shop)", () => {
  let zone: LandingZone;
  let templates: Map<string, CfnTemplate>;
  const template = (name: string) => templates.get(`shop-prod-${name}`)!;

  beforeAll(() => {
    // Strict flags: a CloudFormation validation error or an unacknowledged warning throws here.
    ({ zone, templates } = landingZone(loadSpecFile(EXAMPLE), CDK_CONTEXT, true));
  });

  it("synthesizes with strict CloudFormation validation into the planned stacks", () => {
    expect(CDK_CONTEXT).toMatchObject({ "@aws-cdk/core:validateAgainstDefaultRules": true, "@aws-cdk/core:strictCfnValidateErrors": true });
    expect([...templates.keys()].sort()).toEqual(
      ["network", "platform", "observability", "messaging", "delivery", "frontends", "frontends-edge", ...SERVICES.flatMap((s) => [`svc-${s}`, `delivery-${s}`])].map((p) => `shop-prod-${p}`).sort(),
    );
    expect([...zone.serviceStacks.keys()]).toEqual(SERVICES);
    // The CDN's web ACL lives in us-east-1, the only region CloudFront reads web ACLs from.
    expect(zone.frontendsEdgeStack!.region).toBe("us-east-1");
    for (const stack of [zone.networkStack, zone.platformStack, zone.frontendsStack!, ...zone.serviceStacks.values(), ...zone.serviceDeliveryStacks.values()] as Stack[]) {
      expect(stack.region).toBe("ap-northeast-2");
      expect(stack.availabilityZones).toEqual(["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"]);
    }
  });

  it("stays inside CloudFormation's limits in every stack", () => {
    for (const [name, t] of templates) {
      expect(Object.keys(t.Resources).length, name).toBeLessThan(500);
      expect(Object.keys(t.Outputs ?? {}).length, name).toBeLessThan(200);
      expect(Object.keys(t.Parameters ?? {}).length, name).toBeLessThan(200);
      expect(JSON.stringify(t).length, name).toBeLessThan(1_000_000);
      expect((JSON.stringify(t).match(/\{\{resolve:/g) ?? []).length, name).toBeLessThanOrEqual(60);
    }
  });

  it("builds the platform from the plan and publishes its attributes as SSM parameters", () => {
    const platform = Template.fromJSON(template("platform"));
    platform.hasResourceProperties("AWS::EKS::Cluster", { Name: zone.plan.cluster!.name, Version: zone.plan.cluster!.kubernetesVersion });
    platform.hasResourceProperties("AWS::EKS::Nodegroup", { InstanceTypes: ["m6i.xlarge"], ScalingConfig: { MinSize: 3, DesiredSize: 3, MaxSize: 12 } });
    expect(ofType(template("platform"), "AWS::ECR::Repository").map((r) => r.Properties!.RepositoryName)).toEqual(SERVICES.map((s) => `shop-${s}`));
    const parameterNames = ofType(template("platform"), "AWS::SSM::Parameter").map((r) => r.Properties!.Name);
    expect(parameterNames).toEqual(
      expect.arrayContaining([
        "/msa/shop/prod/platform/cluster-name",
        "/msa/shop/prod/platform/kubectl-service-token",
        "/msa/shop/prod/platform/kubectl-role-arn",
        "/msa/shop/prod/platform/workload-security-group-id",
        "/msa/shop/prod/gateway/api-id",
        "/msa/shop/prod/gateway/authorizer-id",
        "/msa/shop/prod/gateway/load-balancers/0/listener-arn",
        "/msa/shop/prod/gateway/load-balancers/0/integration-id",
      ]),
    );
    // Routes belong to the services' stacks, so the platform's size does not grow with them.
    for (const type of ["AWS::ElasticLoadBalancingV2::TargetGroup", "AWS::ElasticLoadBalancingV2::ListenerRule", "AWS::ApiGatewayV2::Route"]) platform.resourceCountIs(type, 0);
    platform.resourceCountIs("AWS::ApiGatewayV2::Integration", 1);
    platform.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", { AuthorizerType: "JWT" });
    platform.resourceCountIs("AWS::ElastiCache::ReplicationGroup", 1);
    platform.resourceCountIs("AWS::Cognito::UserPool", 1);
    // Istio comes with the platform because the example asks for a mesh.
    expect(JSON.stringify(template("platform"))).toContain('"Chart":"istiod"');
  });

  it("publishes every topic, queue and the broker key for the service stacks", () => {
    const names = ofType(template("messaging"), "AWS::SSM::Parameter").map((r) => r.Properties!.Name);
    expect(names).toEqual(
      expect.arrayContaining([
        "/msa/shop/prod/messaging/key-arn",
        "/msa/shop/prod/messaging/topics/order-placed",
        "/msa/shop/prod/messaging/queues/payments_order-placed",
        "/msa/shop/prod/messaging/queues/orders_stock-reserved",
      ]),
    );
  });

  it("runs the log pipeline in its own stack, against the cluster named by the platform's parameters", () => {
    const observability = template("observability");
    expect(ofType(observability, "AWS::OpenSearchService::Domain")).toHaveLength(1);
    expect(Object.values(observability.Parameters ?? {}).map((p) => p.Default)).toContain("/msa/shop/prod/platform/cluster-name");
  });

  it("hands the clusters no secret: no kubectl manifest or Helm value holds a dynamic reference, which CloudFormation would not resolve there", () => {
    let manifests = 0;
    for (const [name, t] of templates) {
      for (const resource of [...ofType(t, "Custom::AWSCDK-EKS-KubernetesResource"), ...ofType(t, "Custom::AWSCDK-EKS-HelmChart")]) {
        manifests += 1;
        expect(JSON.stringify(resource.Properties), name).not.toContain("{{resolve:");
      }
    }
    expect(manifests).toBeGreaterThan(0);
    // The log buffer's token reaches Logstash and Filebeat through the Secrets Store CSI driver the platform installs.
    const logging = ofType(template("observability"), "Custom::AWSCDK-EKS-KubernetesResource").map((r) => JSON.stringify(r.Properties!.Manifest)).join("\n");
    expect(logging).toContain("SecretProviderClass");
    expect(logging).toMatch(/\{"Ref":"LoggingBufferAuthToken[0-9A-F]{8}"\}/);
    expect(ofType(template("platform"), "Custom::AWSCDK-EKS-HelmChart").map((r) => r.Properties!.Chart)).toContain("secrets-store-csi-driver-provider-aws");
  });

  it("deploys each service from its own stack with its Deployment, its gateway routes and parameters read at deploy time", () => {
    for (const service of SERVICES) {
      const t = template(`svc-${service}`);
      const manifests = JSON.stringify(ofType(t, "Custom::AWSCDK-EKS-KubernetesResource").map((r) => r.Properties!.Manifest));
      expect(manifests, service).toContain(`\\"kind\\":\\"Deployment\\",\\"metadata\\":{\\"name\\":\\"${service}\\"`);
      expect(manifests, service).toContain('\\"kind\\":\\"TargetGroupBinding\\"');
      // The ALB reaches the pods' port straight from the private subnets, plaintext under the STRICT mesh.
      expect(manifests, service).toContain(`\\"name\\":\\"${service}-from-load-balancer\\"`);
      const ssmParameters = Object.values(t.Parameters ?? {}).filter((p) => p.Type === "AWS::SSM::Parameter::Value<String>");
      expect(ssmParameters.map((p) => p.Default), service).toEqual(
        expect.arrayContaining(["/msa/shop/prod/platform/cluster-name", "/msa/shop/prod/platform/kubectl-service-token", "/msa/shop/prod/gateway/load-balancers/0/listener-arn"]),
      );
      // The service's own target group (pod IPs), bound by its TargetGroupBinding, and its rule and routes.
      const [targetGroupId] = Object.entries(t.Resources).find(([, r]) => r.Type === "AWS::ElasticLoadBalancingV2::TargetGroup")!;
      expect(t.Resources[targetGroupId]!.Properties).toMatchObject({ TargetType: "ip", Port: 8080 });
      expect(manifests, service).toContain(`{\"Ref\":\"${targetGroupId}\"}`);
      expect(ofType(t, "AWS::ElasticLoadBalancingV2::ListenerRule").length, service).toBeGreaterThanOrEqual(1);
      expect(ofType(t, "AWS::ApiGatewayV2::Route").map((r) => r.Properties!.AuthorizationType), service).toEqual(expect.arrayContaining(["JWT"]));
    }
  });

  it("never imports a CloudFormation export into a service stack", () => {
    for (const service of SERVICES) expect(JSON.stringify(template(`svc-${service}`)), service).not.toContain("Fn::ImportValue");
  });

  it("lets a service read only its own secret and publish or consume only its own topics and queues", () => {
    const orders = template("svc-orders");
    const parameterOf = (name: string) => Object.entries(orders.Parameters!).find(([, p]) => p.Default === name)![0];
    const statements = ofType(orders, "AWS::IAM::Policy").flatMap((p) => (p.Properties!.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
    const secretId = Object.entries(orders.Resources).find(([, r]) => r.Type === "AWS::SecretsManager::Secret")![0];
    expect(statements).toEqual(
      expect.arrayContaining([
        // Its own secret and the session store's AUTH token, nothing else in Secrets Manager.
        {
          Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
          Effect: "Allow",
          Resource: [{ Ref: secretId }, { Ref: parameterOf("/msa/shop/prod/sessions/auth-token-arn") }],
        },
        // Its own configuration path only.
        {
          Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
          Effect: "Allow",
          Resource: ["arn:aws:ssm:ap-northeast-2:111111111111:parameter/msa/shop/prod/config/orders", "arn:aws:ssm:ap-northeast-2:111111111111:parameter/msa/shop/prod/config/orders/*"],
        },
        { Action: "sns:Publish", Effect: "Allow", Resource: { Ref: parameterOf("/msa/shop/prod/messaging/topics/order-placed") } },
        {
          Action: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
          Effect: "Allow",
          Resource: [{ Ref: parameterOf("/msa/shop/prod/messaging/queues/orders_payment-completed") }, { Ref: parameterOf("/msa/shop/prod/messaging/queues/orders_stock-reserved") }],
        },
      ]),
    );
    expect(JSON.stringify(statements)).not.toMatch(/"Resource":"\*"/);
    // Pods fetch the secret by its ARN with their own identity: the template holds neither value nor dynamic reference.
    const manifests = ofType(orders, "Custom::AWSCDK-EKS-KubernetesResource").map((r) => JSON.stringify(r.Properties!.Manifest)).join("\n");
    expect(manifests).toContain(`{"Ref":"${secretId}"}`);
    expect(JSON.stringify(orders)).not.toContain("{{resolve:secretsmanager");
  });
});

describe("LandingZone independence and errors", () => {
  it("changes only the service's own template when one service's spec changes", () => {
    const spec = loadSpecFile(EXAMPLE);
    const changed: LandingZoneSpec = { ...spec, services: spec.services.map((s) => (s.name === "payments" ? { ...s, config: { PROVIDER: "acme" } } : s)) };
    const before = landingZone(spec, {}, false).templates;
    const after = landingZone(changed, {}, false).templates;
    const differing = [...before.keys()].filter((name) => JSON.stringify(before.get(name)) !== JSON.stringify(after.get(name)));
    expect(differing).toEqual(["shop-prod-svc-payments"]);
  });

  it("installs the Secrets Store CSI driver for the log buffer alone, with no sessions and no service secrets", () => {
    const spec = loadSpecFile(EXAMPLE);
    const bufferOnly: LandingZoneSpec = { ...spec, auth: { ...spec.auth, sessions: "none" }, services: spec.services.map((s) => ({ ...s, secrets: [] })) };
    const { templates: built } = landingZone(bufferOnly, {}, false);
    expect(ofType(built.get("shop-prod-platform")!, "Custom::AWSCDK-EKS-HelmChart").map((r) => r.Properties!.Chart)).toContain("secrets-store-csi-driver-provider-aws");
  });

  it("refuses a spec asking for what the CDK engine does not build, naming the key", () => {
    const spec = loadSpecFile(EXAMPLE);
    const asking = { ...spec, services: [...spec.services, { ...spec.services[0]!, name: "ledger", repository: "ledger", path: "/ledger", database: { engine: "postgres" as const, size: "small" as const, storageGiB: 20 } }] };
    expect(() => new LandingZone(new App(), "Shop", { spec: asking })).toThrow(PlanError);
    expect(() => new LandingZone(new App(), "Shop", { spec: asking })).toThrow(/database \(asked by services\[\]\.database\)/);
  });
});
