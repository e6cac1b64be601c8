import { readFileSync } from "node:fs";
import { App, type Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { LandingZone } from "../../lib/cdk/landing-zone.js";
import { GATEWAY_LOAD_BALANCER_POLICY } from "../../lib/kubernetes/target-group-binding.js";
import { EVENT_STORE_ACTIONS, TABLE_DATA_ACTIONS } from "../../lib/plan/data.js";
import { messagingRoles } from "./messaging-roles.js";
import { PlanError } from "../../lib/plan/planner.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../lib/spec/types.js";

const EXAMPLE = "examples/shop/landing-zone.yaml";
/** The context `cdk synth` runs with: recommended flags plus the strict validation keys. */
const CDK_CONTEXT = (JSON.parse(readFileSync("cdk.json", "utf8")) as { context: Record<string, unknown> }).context;
const SERVICES = ["orders", "payments", "inventory", "order-history", "web", "mobile"];

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] }>;
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

/** Logical ID of the template parameter reading an SSM parameter. */
function parameterIdOf(template: CfnTemplate, name: string): string {
  return Object.entries(template.Parameters ?? {}).find(([, p]) => p.Default === name)![0];
}

/** Logical ID of the service stack's queue of `event`: the target of its SNS subscription or EventBridge rule. */
function queueIdOf(template: CfnTemplate, event: string): string {
  const topic = { Ref: parameterIdOf(template, `/msa/shop/prod/messaging/topics/${event}`) };
  const subscription = Object.values(template.Resources).find((r) => r.Type === "AWS::SNS::Subscription" && JSON.stringify(r.Properties!["TopicArn"]) === JSON.stringify(topic))!;
  return (subscription.Properties!["Endpoint"] as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
}

/** Renders an intrinsic as text: parameters as `ssm:<name>`, other refs as `ref:<id>`, attributes as `${id.attr}`. */
function render(template: CfnTemplate, value: unknown): string {
  if (typeof value === "string") return value;
  const v = value as Record<string, unknown>;
  if ("Ref" in v) {
    const ref = v["Ref"] as string;
    const parameter = template.Parameters?.[ref];
    if (parameter?.Type.startsWith("AWS::SSM::Parameter::Value")) return `ssm:${parameter.Default}`;
    return ref.startsWith("AWS::") ? `\${${ref}}` : `ref:${ref}`;
  }
  if ("Fn::GetAtt" in v) return `\${${(v["Fn::GetAtt"] as string[]).join(".")}}`;
  if ("Fn::Join" in v) {
    const [separator, parts] = v["Fn::Join"] as [string, unknown[]];
    return parts.map((p) => render(template, p)).join(separator);
  }
  return JSON.stringify(value);
}

/**
 * Every grant of the template's IAM policies (optionally of one role) as `<action> on <resource>[ if <condition>]`,
 * one line per action and resource, sorted: minimized statements compare exactly.
 */
function grantsOf(template: CfnTemplate, role?: string, withConditions = true): string[] {
  const grants = ofType(template, "AWS::IAM::Policy")
    .filter((p) => role === undefined || JSON.stringify(p.Properties!["Roles"]).includes(`"${role}"`))
    .flatMap((p) => (p.Properties!["PolicyDocument"] as { Statement: { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> }[] }).Statement)
    .filter((s) => s.Effect === "Allow")
    .flatMap((s) => {
      const condition = s.Condition && withConditions
        ? ` if ${Object.values(s.Condition).flatMap((c) => Object.entries(c).map(([k, v]) => `${k}=${[v].flat().map((x) => render(template, x)).join(",")}`)).join(" and ")}`
        : "";
      return [s.Action].flat().flatMap((a) => [s.Resource].flat().map((r) => `${a} on ${render(template, r)}${condition}`));
    });
  return [...new Set(grants)].sort();
}

/** The saga state machine's definition with each token rendered as `${id.attr}`. */
function definitionOf(template: CfnTemplate): Record<string, any> {
  const machine = ofType(template, "AWS::StepFunctions::StateMachine")[0]!;
  const text = render(template, machine.Properties!["DefinitionString"]).replace(/ref:(\w+?)[0-9A-F]{8}\b/g, "ref:$1");
  return JSON.parse(text) as Record<string, any>;
}

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
      ["network", "platform", "observability", "messaging", "sagas", "delivery", "frontends", "frontends-edge", ...SERVICES.flatMap((s) => [`svc-${s}`, `delivery-${s}`])].map((p) => `shop-prod-${p}`).sort(),
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
    // Each service's registry sits in its own delivery stack, so the platform does not grow with the services.
    platform.resourceCountIs("AWS::ECR::Repository", 0);
    for (const service of SERVICES) {
      const repositories = ofType(template(`delivery-${service}`), "AWS::ECR::Repository") as { Properties?: Record<string, unknown>; DeletionPolicy?: string }[];
      expect(repositories.map((r) => [r.Properties!.RepositoryName, r.Properties!.ImageTagMutability, r.Properties!.EncryptionConfiguration, r.DeletionPolicy]), service).toEqual([
        [`shop-${service}`, "IMMUTABLE", { EncryptionType: "KMS" }, "Retain"],
      ]);
    }
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
    for (const type of ["AWS::ElasticLoadBalancingV2::TargetGroup", "AWS::ElasticLoadBalancingV2::ListenerRule"]) platform.resourceCountIs(type, 0);
    // Only the catch-all pair, which reaches the load balancer whose rules the service stacks add: the platform does not grow with the services.
    expect(ofType(template("platform"), "AWS::ApiGatewayV2::Route").map((r) => [r.Properties!.RouteKey, r.Properties!.AuthorizationType]).sort()).toEqual([["ANY /", "JWT"], ["ANY /{proxy+}", "JWT"]]);
    platform.resourceCountIs("AWS::ApiGatewayV2::Integration", 1);
    platform.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", { AuthorizerType: "JWT" });
    platform.resourceCountIs("AWS::ElastiCache::ReplicationGroup", 1);
    platform.resourceCountIs("AWS::Cognito::UserPool", 1);
    // Istio comes with the platform because the example asks for a mesh.
    expect(JSON.stringify(template("platform"))).toContain('"Chart":"istiod"');
  });

  it("publishes every topic and the broker key for the service stacks, and holds no queue", () => {
    const names = ofType(template("messaging"), "AWS::SSM::Parameter").map((r) => r.Properties!.Name);
    const events = zone.plan.broker!.topics.map((t) => t.event);
    expect(names.sort()).toEqual(["/msa/shop/prod/messaging/key-arn", ...events.map((e) => `/msa/shop/prod/messaging/topics/${e}`)].sort());
    expect(ofType(template("messaging"), "AWS::SNS::Topic")).toHaveLength(events.length);
    for (const type of ["AWS::SQS::Queue", "AWS::SQS::QueuePolicy", "AWS::SNS::Subscription"]) expect(ofType(template("messaging"), type), type).toHaveLength(0);
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

  it("deploys each service from its own stack with its Deployment, its load balancer rule and parameters read at deploy time", () => {
    for (const service of SERVICES) {
      const t = template(`svc-${service}`);
      const manifests = JSON.stringify(ofType(t, "Custom::AWSCDK-EKS-KubernetesResource").map((r) => r.Properties!.Manifest));
      expect(manifests, service).toContain(`\\"kind\\":\\"Deployment\\",\\"metadata\\":{\\"name\\":\\"${service}\\"`);
      expect(manifests, service).toContain('\\"kind\\":\\"TargetGroupBinding\\"');
      // The ALB reaches the pods' port, plaintext under the STRICT mesh; which addresses may is the platform's one policy.
      expect(manifests, service).toContain(`\\"kind\\":\\"PeerAuthentication\\",\\"metadata\\":{\\"name\\":\\"${service}-from-load-balancer\\"`);
      expect(manifests, service).not.toContain('\\"kind\\":\\"NetworkPolicy\\",\\"metadata\\":{\\"name\\":\\"' + service + "-from-load-balancer");
      const ssmParameters = Object.values(t.Parameters ?? {}).filter((p) => p.Type === "AWS::SSM::Parameter::Value<String>");
      expect(ssmParameters.map((p) => p.Default), service).toEqual(
        expect.arrayContaining(["/msa/shop/prod/platform/cluster-name", "/msa/shop/prod/platform/kubectl-service-token", "/msa/shop/prod/gateway/load-balancers/0/listener-arn"]),
      );
      // The service's own target group (pod IPs), bound by its TargetGroupBinding, and its rule and routes.
      const [targetGroupId] = Object.entries(t.Resources).find(([, r]) => r.Type === "AWS::ElasticLoadBalancingV2::TargetGroup")!;
      expect(t.Resources[targetGroupId]!.Properties).toMatchObject({ TargetType: "ip", Port: 8080 });
      expect(manifests, service).toContain(`{\"Ref\":\"${targetGroupId}\"}`);
      expect(ofType(t, "AWS::ElasticLoadBalancingV2::ListenerRule").length, service).toBeGreaterThanOrEqual(1);
      // The platform's catch-all reaches the load balancer holding this rule, so the service adds no API route.
      expect(ofType(t, "AWS::ApiGatewayV2::Route"), service).toEqual([]);
    }
  });

  it("admits the gateway's load balancers to the pods from the public subnets before placing the balancers there", () => {
    const platform = template("platform");
    const [accessId, access] = Object.entries(platform.Resources).find(([, r]) => r.Type === "Custom::AWSCDK-EKS-KubernetesResource" && JSON.stringify(r.Properties!.Manifest).includes(GATEWAY_LOAD_BALANCER_POLICY))!;
    const [policy] = JSON.parse(access.Properties!.Manifest as string) as { spec: { podSelector: object; ingress: { from: { ipBlock: { cidr: string } }[] }[] } }[];
    expect(policy!.spec.podSelector).toEqual({});
    expect(policy!.spec.ingress[0]!.from.map((peer) => peer.ipBlock.cidr)).toEqual(zone.plan.network.subnets.public);
    const balancers = Object.values(platform.Resources).filter((r) => r.Type === "AWS::ElasticLoadBalancingV2::LoadBalancer");
    expect(balancers.length).toBeGreaterThan(0);
    for (const balancer of balancers) expect(balancer.DependsOn).toContain(accessId);
  });

  it("passes no dynamic reference to a Kubernetes manifest, which CloudFormation would not resolve in a custom resource", () => {
    const manifests = [...templates.values()].flatMap((t) => ofType(t, "Custom::AWSCDK-EKS-KubernetesResource"));
    expect(manifests.length).toBeGreaterThan(SERVICES.length);
    for (const manifest of manifests) expect(JSON.stringify(manifest.Properties!.Manifest)).not.toContain("{{resolve:");
    // The database's credentials reach orders by the secret's ARN, read with its own role.
    const orders = ofType(template("svc-orders"), "Custom::AWSCDK-EKS-KubernetesResource").map((r) => JSON.stringify(r.Properties!.Manifest)).join("\n");
    expect(orders).toContain('\\"DATABASE_SECRET_ARN\\":\\"",{\"Fn::GetAtt\":[\"DataDatabaseInstanceD6914DB2\",\"MasterUserSecret.SecretArn\"]}');
  });

  it("gives each service one env: its configuration, the session store, its data, its broker and tracing", () => {
    const manifests = ofType(template("svc-orders"), "Custom::AWSCDK-EKS-KubernetesResource").map((r) => render(template("svc-orders"), r.Properties!.Manifest)).join("\n");
    const configMap = (JSON.parse(manifests.split("\n").find((m) => m.includes('"kind":"ConfigMap"'))!) as { kind: string; data: Record<string, string> }[]).find((o) => o.kind === "ConfigMap")!;
    expect(Object.keys(configMap.data).sort()).toEqual(
      expect.arrayContaining([
        "ORDER_TIMEOUT_SECONDS",
        "CONFIG_PARAMETER_PATH",
        "SESSION_STORE_ENDPOINT",
        "SESSION_STORE_TLS",
        "DATABASE_ENGINE",
        "DATABASE_HOST",
        "DATABASE_PORT",
        "DATABASE_NAME",
        "DATABASE_USER",
        "DATABASE_SECRET_ARN",
        "SAGA_PLACE_ORDER_STATE_MACHINE_ARN",
        "TOPIC_ORDER_PLACED_ARN",
        "QUEUE_ORDERS_PAYMENT_COMPLETED_ARN",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
      ]),
    );
    expect(configMap.data["DATABASE_HOST"]).toBe("${DataDatabaseInstanceD6914DB2.Endpoint.Address}");
    // Secrets are no env value: they come from the CSI-mirrored Secret.
    expect(Object.keys(configMap.data)).not.toContain("SIGNING_KEY");
    expect(Object.keys(configMap.data)).not.toContain("SESSION_STORE_PASSWORD");
  });

  it("never imports a CloudFormation export into a service stack", () => {
    for (const service of SERVICES) expect(JSON.stringify(template(`svc-${service}`)), service).not.toContain("Fn::ImportValue");
  });

  it("lets a service read only its own secrets and configuration and publish or consume only its own topics and queues", () => {
    const orders = template("svc-orders");
    const secretId = Object.entries(orders.Resources).find(([, r]) => r.Type === "AWS::SecretsManager::Secret")![0];
    const ordersGrants = grantsOf(orders);
    expect(ordersGrants).toEqual(
      expect.arrayContaining([
        `secretsmanager:GetSecretValue on ref:${secretId}`,
        "secretsmanager:GetSecretValue on ssm:/msa/shop/prod/sessions/auth-token-arn",
        "ssm:GetParametersByPath on arn:aws:ssm:ap-northeast-2:111111111111:parameter/msa/shop/prod/config/orders/*",
        "sns:Publish on ssm:/msa/shop/prod/messaging/topics/order-placed",
        `sqs:ReceiveMessage on \${${queueIdOf(orders, "payment-completed")}.Arn}`,
        `sqs:ReceiveMessage on \${${queueIdOf(orders, "stock-reserved")}.Arn}`,
        "kms:GenerateDataKey on ssm:/msa/shop/prod/messaging/key-arn",
      ]),
    );
    // Secrets Manager: its own secret, the session store's AUTH token and its database's credentials, nothing else.
    expect(ordersGrants.filter((g) => g.startsWith("secretsmanager:GetSecretValue"))).toEqual([
      "secretsmanager:GetSecretValue on ${DataDatabaseInstanceD6914DB2.MasterUserSecret.SecretArn}",
      `secretsmanager:GetSecretValue on ref:${secretId}`,
      "secretsmanager:GetSecretValue on ssm:/msa/shop/prod/sessions/auth-token-arn",
    ]);
    // Its own configuration path only.
    expect(ordersGrants.filter((g) => g.startsWith("ssm:"))).toEqual(
      ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"].flatMap((a) => [
        `${a} on arn:aws:ssm:ap-northeast-2:111111111111:parameter/msa/shop/prod/config/orders`,
        `${a} on arn:aws:ssm:ap-northeast-2:111111111111:parameter/msa/shop/prod/config/orders/*`,
      ]).sort(),
    );
    expect(ordersGrants.filter((g) => g.startsWith("sns:"))).toEqual(["sns:Publish on ssm:/msa/shop/prod/messaging/topics/order-placed"]);
    expect(ordersGrants.filter((g) => g.endsWith(" on *"))).toEqual([]);
    // Pods fetch the secret by its ARN with their own identity: the template holds neither value nor dynamic reference.
    const manifests = ofType(orders, "Custom::AWSCDK-EKS-KubernetesResource").map((r) => JSON.stringify(r.Properties!.Manifest)).join("\n");
    expect(manifests).toContain(`{"Ref":"${secretId}"}`);
    expect(JSON.stringify(orders)).not.toContain("{{resolve:secretsmanager");
  });

  it("gives orders its own RDS PostgreSQL: isolated subnets, encrypted, TLS forced, IAM auth, generated password, retained in prod", () => {
    const orders = Template.fromJSON(template("svc-orders"));
    const parameter = (name: string) => ({ Ref: parameterIdOf(template("svc-orders"), name) });
    orders.hasResource("AWS::RDS::DBInstance", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({
        Engine: "postgres",
        EngineVersion: "16.10",
        DBInstanceClass: "db.r7g.large",
        DBInstanceIdentifier: "shop-prod-orders",
        DBName: "orders",
        MultiAZ: true,
        StorageEncrypted: true,
        KmsKeyId: { "Fn::GetAtt": [Match.stringLikeRegexp("^DataKey"), "Arn"] },
        ManageMasterUserPassword: true,
        MasterUserSecret: { KmsKeyId: { "Fn::GetAtt": [Match.stringLikeRegexp("^DataKey"), "Arn"] } },
        MasterUsername: "postgres",
        EnableIAMDatabaseAuthentication: true,
        PubliclyAccessible: false,
        DeletionProtection: true,
        BackupRetentionPeriod: 14,
        StorageType: "gp3",
      }),
    });
    expect(JSON.stringify(template("svc-orders"))).not.toMatch(/"MasterUserPassword"/);
    orders.hasResourceProperties("AWS::RDS::DBParameterGroup", { Family: "postgres16", Parameters: { "rds.force_ssl": "1" } });
    orders.hasResourceProperties("AWS::RDS::DBSubnetGroup", {
      SubnetIds: [0, 1, 2].map((i) => parameter(`/msa/shop/prod/network/isolated-subnets/${i}`)),
    });
    // The only way in: the workloads' security group on 5432.
    orders.resourceCountIs("AWS::EC2::SecurityGroupIngress", 1);
    orders.hasResourceProperties("AWS::EC2::SecurityGroupIngress", { IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, SourceSecurityGroupId: parameter("/msa/shop/prod/platform/workload-security-group-id") });
    orders.hasResourceProperties("AWS::EC2::SecurityGroup", { VpcId: parameter("/msa/shop/prod/network/vpc-id"), SecurityGroupIngress: Match.absent() });
    expect(grantsOf(template("svc-orders"))).toEqual(
      expect.arrayContaining([
        "rds-db:connect on arn:aws:rds-db:ap-northeast-2:111111111111:dbuser:${DataDatabaseInstanceD6914DB2.DbiResourceId}/orders",
        "secretsmanager:GetSecretValue on ${DataDatabaseInstanceD6914DB2.MasterUserSecret.SecretArn}",
        "kms:Decrypt on ${DataKey5F086070.Arn} if kms:ViaService=secretsmanager.ap-northeast-2.amazonaws.com",
      ]),
    );
    const network = ofType(template("network"), "AWS::SSM::Parameter").map((r) => r.Properties!.Name);
    expect(network).toEqual(expect.arrayContaining(["/msa/shop/prod/network/vpc-id", "/msa/shop/prod/network/isolated-subnets/0", "/msa/shop/prod/network/isolated-subnets/2"]));
  });

  it("gives inventory a DynamoDB table and exactly the item actions on it, through its key", () => {
    const inventory = Template.fromJSON(template("svc-inventory"));
    inventory.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({
        TableName: "shop-prod-inventory",
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: "KMS", KMSMasterKeyId: { "Fn::GetAtt": [Match.stringLikeRegexp("^DataKey"), "Arn"] } },
        DeletionProtectionEnabled: true,
      }),
    });
    const grants = grantsOf(template("svc-inventory"));
    const tableGrants = grants.filter((g) => g.startsWith("dynamodb:"));
    // Stable logical IDs: a changed one would replace the table.
    const table = "${DataDatabaseTableDCC49499.Arn}";
    expect(tableGrants).toEqual(
      TABLE_DATA_ACTIONS.flatMap((a) => [`${a} on ${table}`, `${a} on ${table}/index/*`]).sort(),
    );
    expect(grants).toContain("kms:Decrypt on ${DataKey5F086070.Arn} if kms:ViaService=dynamodb.ap-northeast-2.amazonaws.com");
  });

  it("gives payments an append-only event store whose stream publishes its events, and no direct publish", () => {
    const payments = Template.fromJSON(template("svc-payments"));
    payments.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({
        TableName: "shop-prod-payments-events",
        KeySchema: [
          { AttributeName: "aggregateId", KeyType: "HASH" },
          { AttributeName: "sequence", KeyType: "RANGE" },
        ],
        AttributeDefinitions: [
          { AttributeName: "aggregateId", AttributeType: "S" },
          { AttributeName: "sequence", AttributeType: "N" },
        ],
        StreamSpecification: { StreamViewType: "NEW_IMAGE" },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    });
    const topic = { Ref: parameterIdOf(template("svc-payments"), "/msa/shop/prod/messaging/topics/payment-completed") };
    payments.hasResourceProperties("AWS::Pipes::Pipe", {
      Source: { "Fn::GetAtt": [Match.stringLikeRegexp("^DataEventStoreTable"), "StreamArn"] },
      Target: topic,
      SourceParameters: {
        DynamoDBStreamParameters: Match.objectLike({ StartingPosition: "TRIM_HORIZON", DeadLetterConfig: { Arn: { "Fn::GetAtt": [Match.stringLikeRegexp("^DataEventStoreDeadLetterQueue"), "Arn"] } } }),
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ["INSERT"], dynamodb: { NewImage: { eventType: { S: ["payment-completed"] } } } }) }] },
      },
    });
    payments.hasResourceProperties("AWS::IAM::Role", {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: "pipes.amazonaws.com" } })] },
      Tags: Match.arrayWith([{ Key: "msa:service", Value: "payments" }]),
    });
    const grants = grantsOf(template("svc-payments"));
    expect(grants.filter((g) => g.startsWith("dynamodb:") && g.includes("DataEventStoreTable") && !g.includes("StreamArn"))).toEqual(
      EVENT_STORE_ACTIONS.map((a) => `${a} on \${DataEventStoreTableFD680A2D.Arn}`).sort(),
    );
    // Only the pipe publishes payment-completed; the service's role cannot.
    expect(grants.filter((g) => g.startsWith("sns:Publish"))).toEqual(["sns:Publish on ssm:/msa/shop/prod/messaging/topics/payment-completed"]);
    const pipeRole = Object.keys(payments.findResources("AWS::IAM::Role", { Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: "pipes.amazonaws.com" } })] } } }))[0]!;
    expect(grantsOf(template("svc-payments"), pipeRole).filter((g) => g.startsWith("sns:"))).toEqual(["sns:Publish on ssm:/msa/shop/prod/messaging/topics/payment-completed"]);
  });

  it("gives order-history its own read table and the queues of its sources' events", () => {
    const history = Template.fromJSON(template("svc-order-history"));
    history.hasResourceProperties("AWS::DynamoDB::Table", { TableName: "shop-prod-order-history-read", KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }] });
    const grants = grantsOf(template("svc-order-history"));
    expect(grants.filter((g) => g.startsWith("sqs:ReceiveMessage"))).toEqual(
      ["order-placed", "payment-completed"].map((event) => `sqs:ReceiveMessage on \${${queueIdOf(template("svc-order-history"), event)}.Arn}`).sort(),
    );
    expect(grants.filter((g) => g.startsWith("dynamodb:PutItem"))).toEqual([expect.stringMatching(/^dynamodb:PutItem on \$\{DataReadModelTable[0-9A-F]{8}\.Arn\}$/), expect.stringMatching(/index/)]);
    expect(zone.plan.broker!.topics.flatMap((t) => t.subscriptions.filter((s) => s.subscriber === "order-history").map((s) => s.name))).toEqual([
      "order-history_order-placed",
      "order-history_payment-completed",
    ]);
  });

  it("isolates every service's data: a service's grants name only its own stores, queues and topics", () => {
    for (const service of zone.plan.services) {
      const t = template(`svc-${service.name}`);
      const own = new Set(Object.keys(t.Resources));
      // Its own events: published by the service, or forwarded from its event store by its pipe.
      const topics = service.publishes.join("|") || "-";
      // The session store's token is shared by design (design a of the seed); nothing else outside the service.
      const allowed = new RegExp(
        `^ssm:/msa/shop/prod/(messaging/(topics/(${topics})|key-arn)|sagas/(key-arn|place-order/(state-machine-arn|queues/${service.name}))|sessions/auth-token-arn)$`,
      );
      const ownConfig = new RegExp(`^arn:aws:ssm:ap-northeast-2:111111111111:parameter/msa/shop/prod/config/${service.name}(/\\*)?$`);
      for (const grant of grantsOf(t, undefined, false)) {
        const resource = grant.split(" on ")[1]!;
        if (resource.startsWith("ssm:")) expect(resource, `${service.name}: ${grant}`).toMatch(allowed);
        else if (resource.startsWith("arn:aws:ssm:")) expect(resource, `${service.name}: ${grant}`).toMatch(ownConfig);
        else {
          // Anything else is a resource of the service's own stack.
          const ids = [...resource.matchAll(/(?:ref:|\$\{)(\w+)/g)].map((m) => m[1]!).filter((id) => !id.startsWith("AWS"));
          expect(ids.length, `${service.name}: ${grant}`).toBeGreaterThan(0);
          for (const id of ids) expect(own.has(id), `${service.name}: ${grant}`).toBe(true);
        }
      }
    }
  });

  it("runs the place-order saga on Step Functions over each service's command queue, compensating in reverse", () => {
    const sagas = Template.fromJSON(template("sagas"));
    sagas.hasResourceProperties("AWS::StepFunctions::StateMachine", {
      StateMachineName: "shop-prod-place-order",
      StateMachineType: "STANDARD",
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: "ALL", IncludeExecutionData: true, Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }] },
    });
    sagas.hasResourceProperties("AWS::Logs::LogGroup", { LogGroupName: "/aws/vendedlogs/states/shop-prod-place-order", KmsKeyId: { "Fn::GetAtt": [Match.stringLikeRegexp("^Key"), "Arn"] } });
    sagas.resourceCountIs("AWS::SQS::Queue", 6);
    const definition = definitionOf(template("sagas"));
    expect(definition.StartAt).toBe("1-orders-create");
    const path = (state: string) => {
      const visited: string[] = [];
      for (let next = definition.States[state].Catch[0].Next; next; next = definition.States[next].Next) visited.push(next);
      return visited;
    };
    expect(path("3-payments-charge")).toEqual(["undo-2-inventory-release", "undo-1-orders-cancel", "rolled-back"]);
    expect(definition.States["2-inventory-reserve"].Parameters.QueueUrl).toBe("ref:PlaceOrderInventoryQueue");
    const roleGrants = grantsOf(template("sagas"));
    expect(roleGrants.filter((g) => g.startsWith("sqs:")).map((g) => g.replace(/[0-9A-F]{8}\./, "."))).toEqual(
      ["Inventory", "Orders", "Payments"].map((s) => `sqs:SendMessage on \${PlaceOrder${s}Queue.Arn}`),
    );
    // Log delivery and X-Ray take no resource-level permission: "*" is the only choice there.
    expect(roleGrants.filter((g) => g.endsWith(" on *")).map((g) => g.split(" ")[0]!.split(":")[0])).toEqual(expect.arrayContaining(["logs", "xray"]));
    expect(roleGrants.filter((g) => g.endsWith(" on *") && !/^(logs|xray):/.test(g))).toEqual([]);
    const parameterNames = ofType(template("sagas"), "AWS::SSM::Parameter").map((r) => r.Properties!.Name);
    expect(parameterNames).toEqual(expect.arrayContaining(["/msa/shop/prod/sagas/place-order/state-machine-arn", "/msa/shop/prod/sagas/place-order/queues/payments"]));
  });

  it("lets each participant answer its tasks and only the initiator start the saga", () => {
    for (const service of ["orders", "inventory", "payments"]) {
      const grants = grantsOf(template(`svc-${service}`));
      expect(grants, service).toEqual(expect.arrayContaining(["states:SendTaskSuccess on ssm:/msa/shop/prod/sagas/place-order/state-machine-arn", `sqs:ReceiveMessage on ssm:/msa/shop/prod/sagas/place-order/queues/${service}`]));
      expect(grants.includes("states:StartExecution on ssm:/msa/shop/prod/sagas/place-order/state-machine-arn"), service).toBe(service === "orders");
    }
    expect(grantsOf(template("svc-order-history")).some((g) => g.startsWith("states:"))).toBe(false);
  });

  it("tags every role that publishes or consumes events with its service, as the broker's and sagas' policies require", () => {
    const tagged = messagingRoles(templates);
    // The services' pod roles and the pipe forwarding payments' stored events; the BFFs use no broker.
    expect(tagged.checked.map((r) => r.replace(/[0-9A-F]{8}$/, "")).sort()).toEqual([
      "shop-prod-svc-inventory/PlatformInventoryIdentityRole",
      "shop-prod-svc-order-history/PlatformOrderHistoryIdentityRole",
      "shop-prod-svc-orders/PlatformOrdersIdentityRole",
      "shop-prod-svc-payments/DataEventStorePipeRole",
      "shop-prod-svc-payments/PlatformPaymentsIdentityRole",
    ]);
    expect(tagged.untagged).toEqual([]);
  });

  it("gives each subscriber its own queue of each event in its own stack, fed by the topic the messaging stack publishes", () => {
    for (const topic of zone.plan.broker!.topics) {
      for (const { subscriber } of topic.subscriptions) {
        const t = template(`svc-${subscriber}`);
        const topicArn = { Ref: parameterIdOf(t, `/msa/shop/prod/messaging/topics/${topic.event}`) };
        const key = { Ref: parameterIdOf(t, "/msa/shop/prod/messaging/key-arn") };
        const queueId = queueIdOf(t, topic.event);
        const queueArn = { "Fn::GetAtt": [queueId, "Arn"] };
        const queue = t.Resources[queueId] as { Properties: Record<string, unknown>; DeletionPolicy?: string };
        const deadLetterQueueId = (queue.Properties["RedrivePolicy"] as { deadLetterTargetArn: { "Fn::GetAtt": [string, string] } }).deadLetterTargetArn["Fn::GetAtt"][0];
        const deadLetterQueue = t.Resources[deadLetterQueueId] as { Properties: Record<string, unknown>; DeletionPolicy?: string };
        const where = `${subscriber} of ${topic.event}`;
        // Both queues under the broker's key (read from its parameter), kept in prod; failed messages move after 5 receives and stay 14 days.
        expect(queue.Properties, where).toMatchObject({ KmsMasterKeyId: key, MessageRetentionPeriod: 4 * 86400, RedrivePolicy: { maxReceiveCount: 5 } });
        expect(deadLetterQueue.Properties, where).toMatchObject({ KmsMasterKeyId: key, MessageRetentionPeriod: 14 * 86400 });
        expect([queue.DeletionPolicy, deadLetterQueue.DeletionPolicy], where).toEqual(["Retain", "Retain"]);
        const subscription = Template.fromJSON(t).findResources("AWS::SNS::Subscription", { Properties: { TopicArn: topicArn } });
        expect(Object.values(subscription).map((r) => r["Properties"]), where).toEqual([{ TopicArn: topicArn, Protocol: "sqs", Endpoint: queueArn, RawMessageDelivery: true }]);
        // Only that topic may send; only the subscriber may consume; TLS only.
        const policy = Object.entries(Template.fromJSON(t).findResources("AWS::SQS::QueuePolicy", { Properties: { Queues: [{ Ref: queueId }] } }));
        expect(policy, where).toHaveLength(1);
        const [policyId, { Properties: policyProperties }] = policy[0]!;
        expect(policyProperties.PolicyDocument.Statement, where).toEqual([
          { Action: "sqs:*", Condition: { Bool: { "aws:SecureTransport": "false" } }, Effect: "Deny", Principal: { AWS: "*" }, Resource: queueArn },
          { Action: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"], Condition: { StringNotEquals: { "aws:PrincipalTag/msa:service": subscriber } }, Effect: "Deny", Principal: { AWS: "*" }, Resource: queueArn },
          { Action: "sqs:SendMessage", Condition: { ArnEquals: { "aws:SourceArn": topicArn } }, Effect: "Allow", Principal: { Service: "sns.amazonaws.com" }, Resource: queueArn },
        ]);
        // SNS checks it may send before it confirms the subscription.
        expect(Object.values(subscription)[0]!["DependsOn"], where).toEqual([policyId]);
      }
    }
  });

  it("admits only declared publishers to each topic, and tags every service role as the policies require", () => {
    const messaging = Template.fromJSON(template("messaging"));
    messaging.hasResourceProperties("AWS::SNS::TopicPolicy", {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Action: "sns:Publish", Condition: { StringNotEquals: { "aws:PrincipalTag/msa:service": ["payments"] } } })]) },
    });
    for (const service of SERVICES) {
      Template.fromJSON(template(`svc-${service}`)).hasResourceProperties("AWS::IAM::Role", {
        AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: "pods.eks.amazonaws.com" } })] },
        Tags: Match.arrayWith([{ Key: "msa:service", Value: service }]),
      });
    }
  });
});

describe("LandingZone (examples/shop on EventBridge)", () => {
  let templates: Map<string, CfnTemplate>;
  const template = (name: string) => templates.get(`shop-prod-${name}`)!;

  beforeAll(() => {
    const spec = loadSpecFile(EXAMPLE);
    ({ templates } = landingZone({ ...spec, messaging: { ...spec.messaging, broker: "eventbridge" } }, CDK_CONTEXT, true));
  });

  it("publishes the bus for the services and routes each subscription by a rule on it in the subscriber's own stack", () => {
    const messaging = Template.fromJSON(template("messaging"));
    messaging.resourceCountIs("AWS::Events::EventBus", 1);
    messaging.resourceCountIs("AWS::SNS::Topic", 0);
    for (const type of ["AWS::Events::Rule", "AWS::SQS::Queue"]) messaging.resourceCountIs(type, 0);
    expect(ofType(template("messaging"), "AWS::SSM::Parameter").map((r) => r.Properties!.Name).sort()).toEqual(["/msa/shop/prod/messaging/event-bus-arn", "/msa/shop/prod/messaging/key-arn"]);
    // The key lets EventBridge encrypt deliveries for the bus's rules, wherever they are deployed.
    messaging.hasResourceProperties("AWS::KMS::Key", {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: "events.amazonaws.com" }, Condition: { ArnLike: { "aws:SourceArn": Match.anyValue() } } })]) },
    });

    const payments = template("svc-payments");
    const bus = { Ref: parameterIdOf(payments, "/msa/shop/prod/messaging/event-bus-arn") };
    const [ruleId, rule] = Object.entries(payments.Resources).find(([, r]) => r.Type === "AWS::Events::Rule")!;
    expect(ofType(payments, "AWS::Events::Rule")).toHaveLength(1);
    const target = (rule.Properties!["Targets"] as { Arn: { "Fn::GetAtt": [string, string] }; DeadLetterConfig: unknown; RetryPolicy: unknown }[])[0]!;
    const queueId = target.Arn["Fn::GetAtt"][0];
    expect(rule.Properties).toMatchObject({ EventPattern: { "detail-type": ["order-placed"], source: ["shop.orders"] }, EventBusName: { "Fn::Select": [1, { "Fn::Split": ["/", { "Fn::Select": [5, { "Fn::Split": [":", bus] }] }] }] } });
    const deadLetterQueueId = (payments.Resources[queueId]!.Properties!["RedrivePolicy"] as { deadLetterTargetArn: { "Fn::GetAtt": [string, string] } }).deadLetterTargetArn["Fn::GetAtt"][0];
    expect(target).toMatchObject({ DeadLetterConfig: { Arn: { "Fn::GetAtt": [deadLetterQueueId, "Arn"] } }, RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 } });
    // Only this rule may send to the queue and its dead-letter queue.
    for (const id of [queueId, deadLetterQueueId]) {
      Template.fromJSON(payments).hasResourceProperties("AWS::SQS::QueuePolicy", {
        Queues: [{ Ref: id }],
        PolicyDocument: { Statement: Match.arrayWith([{ Action: "sqs:SendMessage", Condition: { ArnEquals: { "aws:SourceArn": { "Fn::GetAtt": [ruleId, "Arn"] } } }, Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Resource: { "Fn::GetAtt": [id, "Arn"] } }]) },
      });
    }
    // Its own queue (a same-stack reference) beside its saga command queue.
    expect(grantsOf(payments).filter((g) => g.startsWith("sqs:ReceiveMessage"))).toEqual([
      `sqs:ReceiveMessage on \${${queueId}.Arn}`,
      "sqs:ReceiveMessage on ssm:/msa/shop/prod/sagas/place-order/queues/payments",
    ]);
  });

  it("lets orders put only its own events, from its own source", () => {
    const orders = template("svc-orders");
    expect(grantsOf(orders).filter((g) => g.startsWith("events:"))).toEqual([
      "events:PutEvents on ssm:/msa/shop/prod/messaging/event-bus-arn if events:detail-type=order-placed and events:source=shop.orders",
    ]);
  });

  it("puts every stored payment event on the bus through one pipe, typed by the record", () => {
    const payments = Template.fromJSON(template("svc-payments"));
    payments.resourceCountIs("AWS::Pipes::Pipe", 1);
    payments.hasResourceProperties("AWS::Pipes::Pipe", {
      Target: { Ref: parameterIdOf(template("svc-payments"), "/msa/shop/prod/messaging/event-bus-arn") },
      TargetParameters: Match.objectLike({ EventBridgeEventBusParameters: { DetailType: "$.dynamodb.NewImage.eventType.S", Source: "shop.payments" } }),
    });
    expect(grantsOf(template("svc-payments")).filter((g) => g.startsWith("events:"))).toEqual([
      "events:PutEvents on ssm:/msa/shop/prod/messaging/event-bus-arn if events:detail-type=payment-completed and events:source=shop.payments",
    ]);
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
    // Every capability the AWS tiers offer is built; the CDK engine builds no other cloud.
    const asking = loadSpecFile("examples/gcp/landing-zone.yaml");
    expect(() => new LandingZone(new App(), "Shop", { spec: asking })).toThrow(PlanError);
    expect(() => new LandingZone(new App(), "Shop", { spec: asking })).toThrow(/compute \(asked by tier\) is not supported yet on gcp\/\w+ by the cdk engine/);
  });
});
