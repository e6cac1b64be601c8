import { beforeAll, describe, expect, it } from "vitest";
import { LandingZone } from "../../../lib/pulumi/aws/landing-zone.js";
import { XRAY_WRITE_ACTIONS } from "../../../lib/plan/tracing.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { MOCK_ACCOUNT, MOCK_REGION, byType, jsonInput, runProgram, single, type RegisteredResource } from "../harness.js";

const GROUP = "kubernetes:yaml/v2:ConfigGroup";
type Obj = { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; data?: Record<string, string>; spec?: any };
const objs = (resources: RegisteredResource[], name: string): Obj[] => single(resources, GROUP, name).inputs["objs"] as Obj[];
const kind = (objects: Obj[], k: string) => objects.find((o) => o.kind === k)!;

const SPEC: LandingZoneInput = {
  name: "shop",
  environment: "prod",
  gateway: { auth: "jwt", waf: true, rateLimit: { requestsPerSecond: 50, burst: 100 } },
  config: { values: { LOG_LEVEL: "info" } },
  mesh: { kind: "istio", circuitBreaker: { consecutiveErrors: 7, ejectSeconds: 45, maxConnections: 250 }, retries: { attempts: 2, perTryTimeoutSeconds: 1.5 }, timeoutSeconds: 8 },
  tracing: { backend: "xray" },
  monitoring: { alarmEmail: "ops@example.com", errorRatePercent: 3, latencyMs: 900 },
  logging: { stack: "none", buffer: "none" },
  pipelines: { perService: false },
  bffs: [{ name: "web", routes: ["/web", "/app"] }],
  services: [{ name: "orders", config: { TIMEOUT: "30" }, secrets: ["SIGNING_KEY"] }, { name: "worker", expose: false }],
};

describe("Pulumi AWS platform patterns", () => {
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => {
      new LandingZone("shop", { spec: SPEC });
    }));
  });

  it("keeps each configuration value in a Parameter Store parameter the service's ConfigMap is read from", () => {
    const parameter = single(resources, "aws:ssm/parameter:Parameter", "shop-orders-config-timeout");
    expect(parameter.inputs).toMatchObject({ name: "/msa/shop/prod/config/orders/TIMEOUT", type: "String", value: "30" });
    expect(single(resources, "aws:ssm/parameter:Parameter", "shop-orders-config-log-level").inputs).toMatchObject({ name: "/msa/shop/prod/config/orders/LOG_LEVEL", value: "info" });
    expect(single(resources, "aws:ssm/parameter:Parameter", "shop-web-config-log-level").inputs["name"]).toBe("/msa/shop/prod/config/web/LOG_LEVEL");
    const config = kind(objs(resources, "shop-orders-workload"), "ConfigMap").data!;
    expect(config).toMatchObject({ TIMEOUT: String(parameter.outputs["value"]), LOG_LEVEL: "info", CONFIG_PARAMETER_PATH: "/msa/shop/prod/config/orders/" });
  });

  it("generates each secret into Secrets Manager, and the pods read it with their own identity through the CSI driver", () => {
    const secret = single(resources, "aws:secretsmanager/secret:Secret", "shop-orders-config-signing-key");
    expect(secret.inputs).toMatchObject({ name: "msa/shop/prod/orders/SIGNING_KEY", recoveryWindowInDays: 30 });
    const value = String(single(resources, "random:index/randomPassword:RandomPassword", "shop-orders-config-signing-key").outputs["result"]);
    const version = single(resources, "aws:secretsmanager/secretVersion:SecretVersion", "shop-orders-config-signing-key-value");
    expect(version.secretInputs).toEqual(["secretString"]);
    expect(version.inputs["secretString"]).toBe(value);
    // No secret value passes through Pulumi into the cluster.
    expect(byType(resources, "kubernetes:core/v1:Secret")).toEqual([]);
    for (const group of byType(resources, GROUP)) expect(JSON.stringify(group.inputs).includes(value), group.name).toBe(false);
    const workload = objs(resources, "shop-orders-workload");
    const provider = kind(workload, "SecretProviderClass");
    expect(provider.metadata).toMatchObject({ name: "orders-secrets", namespace: "shop" });
    expect(provider.spec.provider).toBe("aws");
    expect(provider.spec.parameters.usePodIdentity).toBe("true");
    const sessionTokenArn = single(resources, "aws:secretsmanager/secret:Secret", "shop-sessions-cache-auth-token").outputs["arn"];
    expect(JSON.parse(provider.spec.parameters.objects)).toEqual([
      { objectName: secret.outputs["arn"], objectType: "secretsmanager", objectAlias: "SIGNING_KEY" },
      { objectName: sessionTokenArn, objectType: "secretsmanager", objectAlias: "SESSION_STORE_PASSWORD" },
    ]);
    expect(provider.spec.secretObjects).toEqual([expect.objectContaining({ secretName: "orders-secrets", data: [{ objectName: "SIGNING_KEY", key: "SIGNING_KEY" }, { objectName: "SESSION_STORE_PASSWORD", key: "SESSION_STORE_PASSWORD" }] })]);
    const pod = kind(workload, "Deployment").spec.template.spec;
    expect(pod.containers[0].env).toContainEqual({ name: "SIGNING_KEY", valueFrom: { secretKeyRef: { name: "orders-secrets", key: "SIGNING_KEY" } } });
    // Mounting the class is what makes the driver mirror the Secret.
    expect(pod.volumes).toContainEqual({ name: "secrets-store", csi: { driver: "secrets-store.csi.k8s.io", readOnly: true, volumeAttributes: { secretProviderClass: "orders-secrets" } } });
    // The role may read exactly these two secrets.
    const policy = jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", "shop-orders-policy"), "policy") as { Statement: { Action: string[]; Resource: unknown }[] };
    const readable = policy.Statement.filter((st) => st.Action.includes("secretsmanager:GetSecretValue")).flatMap((st) => [st.Resource].flat());
    expect(readable.sort()).toEqual([secret.outputs["arn"], sessionTokenArn].sort());
  });

  it("installs the Secrets Store CSI driver with the AWS provider, as the CDK platform does, before any workload", () => {
    const release = byType(resources, "kubernetes:helm.sh/v3:Release").find((r) => r.inputs["chart"] === "secrets-store-csi-driver-provider-aws");
    expect(release, "the ASCP chart").toBeDefined();
    expect(release!.inputs).toMatchObject({ namespace: "kube-system", version: "2.2.0", values: { "secrets-store-csi-driver": { install: true, syncSecret: { enabled: true }, enableSecretRotation: true } } });
    for (const service of ["orders", "worker", "web"]) expect(single(resources, GROUP, `shop-${service}-workload`).dependsOn, service).toContain(release!.name);
  });

  it("gives every service the session store's endpoint, and its AUTH token only by reference", () => {
    const token = String(single(resources, "random:index/randomPassword:RandomPassword", "shop-sessions-cache-auth-token").outputs["result"]);
    const tokenArn = single(resources, "aws:secretsmanager/secret:Secret", "shop-sessions-cache-auth-token").outputs["arn"];
    const endpoint = String(byType(resources, "aws:elasticache/replicationGroup:ReplicationGroup")[0]!.outputs["primaryEndpointAddress"]);
    for (const service of ["orders", "worker", "web"]) {
      const workload = objs(resources, `shop-${service}-workload`);
      expect(kind(workload, "ConfigMap").data, service).toMatchObject({ SESSION_STORE_ENDPOINT: `${endpoint}:6379`, SESSION_STORE_TLS: "true" });
      expect(kind(workload, "Deployment").spec.template.spec.containers[0].env, service).toContainEqual({ name: "SESSION_STORE_PASSWORD", valueFrom: { secretKeyRef: { name: `${service}-secrets`, key: "SESSION_STORE_PASSWORD" } } });
      expect(JSON.parse(kind(workload, "SecretProviderClass").spec.parameters.objects), service).toContainEqual({ objectName: tokenArn, objectType: "secretsmanager", objectAlias: "SESSION_STORE_PASSWORD" });
      expect(JSON.stringify(workload).includes(token), service).toBe(false);
    }
  });

  it("routes the BFF's prefixes from the HTTP API's catch-all through its load balancer rules to the target group its pods are bound to", () => {
    const routes = byType(resources, "aws:apigatewayv2/route:Route");
    expect(routes.map((r) => r.inputs["routeKey"])).toEqual(["ANY /", "ANY /{proxy+}"]);
    const integration = single(resources, "aws:apigatewayv2/integration:Integration");
    expect(integration.inputs["integrationUri"]).toBe(single(resources, "aws:lb/listener:Listener").outputs["arn"]);
    for (const route of routes) expect(route.inputs["target"]).toBe(`integrations/${integration.outputs["id"]}`);
    const targetGroup = single(resources, "aws:lb/targetGroup:TargetGroup", "shop-gateway-lb0-web");
    const rules = byType(resources, "aws:lb/listenerRule:ListenerRule").filter((r) => (r.inputs["actions"] as { targetGroupArn: string }[])[0]!.targetGroupArn === targetGroup.outputs["arn"]);
    expect(rules.map((r) => (r.inputs["conditions"] as { pathPattern: { values: string[] } }[])[0]!.pathPattern.values)).toEqual([["/web", "/web/*"], ["/app", "/app/*"]]);
    const binding = objs(resources, "shop-web-binding")[0]!;
    expect(binding.spec).toMatchObject({ serviceRef: { name: "web", port: 80 }, targetGroupARN: targetGroup.outputs["arn"] });
    // A service that is not exposed has no route, target group or binding.
    expect(byType(resources, GROUP).map((g) => g.name)).not.toContain("shop-worker-binding");
  });

  it("throttles the stage and puts the shared WAF rules, with the per-client rate rule, on the load balancer", () => {
    expect(single(resources, "aws:apigatewayv2/stage:Stage").inputs["defaultRouteSettings"]).toMatchObject({ throttlingRateLimit: 50, throttlingBurstLimit: 100 });
    const acl = single(resources, "aws:wafv2/webAcl:WebAcl");
    const rules = acl.inputs["rules"] as { name: string; statement: { rateBasedStatement?: Record<string, unknown> } }[];
    expect(rules.map((r) => r.name)).toEqual(["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList", "RateLimitPerClient"]);
    expect(rules[3]!.statement.rateBasedStatement).toEqual({ aggregateKeyType: "FORWARDED_IP", forwardedIpConfig: { headerName: "X-Forwarded-For", fallbackBehavior: "MATCH" }, evaluationWindowSec: 60, limit: 3000 });
    expect(single(resources, "aws:wafv2/webAclAssociation:WebAclAssociation").inputs["webAclArn"]).toBe(acl.outputs["arn"]);
  });

  it("validates the user pool's tokens on every route", () => {
    const authorizer = single(resources, "aws:apigatewayv2/authorizer:Authorizer");
    expect(authorizer.inputs).toMatchObject({ authorizerType: "JWT", jwtConfiguration: { issuer: expect.stringMatching(/^https:\/\/cognito-idp\.us-east-1\.amazonaws\.com\//) } });
    for (const route of byType(resources, "aws:apigatewayv2/route:Route")) expect(route.inputs).toMatchObject({ authorizationType: "JWT", authorizerId: authorizer.outputs["id"] });
  });

  it("labels the namespace for sidecars, turns mTLS STRICT on and gives each service the spec's circuit breaker, retries and timeout", () => {
    const namespace = kind(objs(resources, "shop-platform-workloads-manifests"), "Namespace");
    expect(namespace.metadata.labels!["istio-injection"]).toBe("enabled");
    expect(kind(objs(resources, "shop-platform-istio-manifests"), "PeerAuthentication").spec).toEqual({ mtls: { mode: "STRICT" } });
    const orders = objs(resources, "shop-orders-workload");
    expect(kind(orders, "DestinationRule").spec.trafficPolicy).toEqual({
      connectionPool: { tcp: { maxConnections: 250 }, http: { http1MaxPendingRequests: 100 } },
      outlierDetection: { consecutive5xxErrors: 7, interval: "10s", baseEjectionTime: "45s", maxEjectionPercent: 50 },
      tls: { mode: "ISTIO_MUTUAL" },
    });
    expect(kind(orders, "VirtualService").spec.http[0]).toMatchObject({ retries: { attempts: 2, perTryTimeout: "1.5s" }, timeout: "8s" });
  });

  it("notifies a KMS-encrypted alarm topic that only CloudWatch alarms may publish to, with the email subscribed", () => {
    const topic = single(resources, "aws:sns/topic:Topic", "shop-monitoring-alarms");
    const key = single(resources, "aws:kms/key:Key", "shop-monitoring-topic-key");
    expect(topic.inputs).toMatchObject({ name: "shop-prod-alarms", kmsMasterKeyId: key.outputs["arn"] });
    expect((jsonInput(key, "policy") as { Statement: unknown[] }).Statement).toContainEqual({ Sid: "CloudWatchAlarmsEncrypt", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: ["kms:Decrypt", "kms:GenerateDataKey*"], Resource: "*" });
    const policy = jsonInput(single(resources, "aws:sns/topicPolicy:TopicPolicy"), "policy") as { Statement: unknown[] };
    expect(policy.Statement).toContainEqual({
      Sid: "CloudWatchAlarmsPublish",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: "sns:Publish",
      Resource: topic.outputs["arn"],
      Condition: { ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:${MOCK_REGION}:${MOCK_ACCOUNT}:alarm:*` } },
    });
    expect(single(resources, "aws:sns/topicSubscription:TopicSubscription").inputs).toMatchObject({ topic: topic.outputs["arn"], protocol: "email", endpoint: "ops@example.com" });
  });

  it("builds the same dashboards and alarms as the CDK engine, every alarm notifying the topic", () => {
    expect(byType(resources, "aws:cloudwatch/dashboard:Dashboard").map((d) => d.inputs["dashboardName"])).toEqual(["shop-prod-gateway", "shop-prod-orders", "shop-prod-worker", "shop-prod-web"]);
    const alarms = byType(resources, "aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms.map((a) => a.inputs["name"])).toEqual([
      "shop-prod-gateway-server-errors",
      "shop-prod-gateway-latency",
      ...["orders", "worker", "web"].flatMap((s) => (s === "worker" ? [`shop-prod-${s}-memory`] : ["server-errors", "latency", "unhealthy-hosts", "memory"].map((a) => `shop-prod-${s}-${a}`))),
    ]);
    const topicArn = single(resources, "aws:sns/topic:Topic", "shop-monitoring-alarms").outputs["arn"];
    for (const alarm of alarms) {
      expect(alarm.inputs["alarmActions"], String(alarm.inputs["name"])).toEqual([topicArn]);
      expect(alarm.inputs["okActions"]).toEqual([topicArn]);
      // As in the CDK templates (the goldens): no traffic is not an outage.
      expect(alarm.inputs["treatMissingData"]).toBe("notBreaching");
    }
    const errors = alarms.find((a) => a.inputs["name"] === "shop-prod-orders-server-errors")!;
    expect(errors.inputs["threshold"]).toBe(3);
    const queries = errors.inputs["metricQueries"] as { id: string; metric?: { dimensions: Record<string, string> }; expression?: string }[];
    const targetGroup = single(resources, "aws:lb/targetGroup:TargetGroup", "shop-gateway-lb0-orders");
    const loadBalancer = single(resources, "aws:lb/loadBalancer:LoadBalancer", "shop-gateway-lb0");
    expect(queries[0]!.metric!.dimensions).toEqual({ TargetGroup: targetGroup.outputs["arnSuffix"], LoadBalancer: loadBalancer.outputs["arnSuffix"] });
    expect(queries[2]!.expression).toBe("IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)");
    expect(alarms.find((a) => a.inputs["name"] === "shop-prod-orders-latency")!.inputs["threshold"]).toBe(0.9);
    const memory = alarms.find((a) => a.inputs["name"] === "shop-prod-worker-memory")!.inputs["metricQueries"] as { metric: { dimensions: Record<string, string> } }[];
    expect(memory[0]!.metric.dimensions).toEqual({ ClusterName: "shop-prod", Namespace: "shop", Service: "worker" });
    const gatewayDashboard = JSON.parse(single(resources, "aws:cloudwatch/dashboard:Dashboard", "shop-monitoring-gateway").inputs["dashboardBody"] as string);
    expect(gatewayDashboard.widgets[0].properties.metrics[0]).toEqual(["AWS/ApiGateway", "Count", "ApiId", single(resources, "aws:apigatewayv2/api:Api").outputs["id"], { stat: "Sum", label: "Requests", id: "requests" }]);
  });

  it("installs Container Insights with the agent's own Pod Identity role", () => {
    const addon = single(resources, "aws:eks/addon:Addon", "shop-insights-addon");
    const role = single(resources, "aws:iam/role:Role", "shop-insights-agent");
    expect(addon.inputs).toMatchObject({
      addonName: "amazon-cloudwatch-observability",
      clusterName: "shop-prod",
      configurationValues: '{"containerLogs":{"enabled":false}}',
      podIdentityAssociations: [{ serviceAccount: "cloudwatch-agent", roleArn: role.outputs["arn"] }],
    });
    expect(single(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "shop-insights-agent").inputs["policyArn"]).toBe("arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy");
  });

  it("runs the OpenTelemetry collector exporting to X-Ray under a Pod Identity role that may only write traces", () => {
    const release = single(resources, "kubernetes:helm.sh/v3:Release", "shop-tracing-collector-otel-collector");
    const values = release.inputs["values"] as { config: { exporters: Record<string, unknown> }; serviceAccount: Record<string, unknown> };
    expect(values.config.exporters).toEqual({ awsxray: { region: MOCK_REGION } });
    expect(values.serviceAccount).toEqual({ create: true, name: "otel-collector" });
    const association = single(resources, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "shop-tracing-collector");
    expect(association.inputs).toMatchObject({ namespace: "observability", serviceAccount: "otel-collector", roleArn: single(resources, "aws:iam/role:Role", "shop-tracing-collector").outputs["arn"] });
    expect(jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", "shop-tracing-collector-xray"), "policy")).toEqual({
      Version: "2012-10-17",
      Statement: [{ Sid: "WriteTraces", Effect: "Allow", Action: [...XRAY_WRITE_ACTIONS], Resource: "*" }],
    });
    expect(release.dependsOn).toContain("shop-tracing-collector");
  });
});

describe("Pulumi AWS gateway with a dedicated auth service", () => {
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => {
      new LandingZone("shop", {
        spec: { ...SPEC, gateway: { auth: "authorizer", authorizerCacheSeconds: 30 }, auth: { service: "auth" }, services: [...SPEC.services!, { name: "auth", path: "/auth" }] },
      });
    }));
  });

  it("delegates to the auth service through a VPC Lambda REQUEST authorizer that asks its internal load balancer", () => {
    expect(byType(resources, "aws:cognito/userPool:UserPool")).toEqual([]);
    const fn = single(resources, "aws:lambda/function:Function", "shop-gateway-authorizer");
    const securityGroup = single(resources, "aws:ec2/securityGroup:SecurityGroup", "shop-gateway-authorizer");
    const loadBalancer = single(resources, "aws:lb/loadBalancer:LoadBalancer", "shop-gateway-lb0");
    expect(fn.inputs).toMatchObject({
      name: "shop-prod-authorizer",
      runtime: "nodejs24.x",
      architectures: ["arm64"],
      handler: "index.handler",
      timeout: 5,
      environment: { variables: { AUTHORIZE_URL: `http://${String(loadBalancer.outputs["dnsName"])}/auth/authorize` } },
      vpcConfig: { securityGroupIds: [securityGroup.outputs["id"]] },
      loggingConfig: { logFormat: "JSON", logGroup: "/aws/lambda/shop-prod-authorizer" },
    });
    expect((fn.inputs["vpcConfig"] as { subnetIds: string[] }).subnetIds).toEqual(byType(resources, "aws:ec2/subnet:Subnet").filter((s) => s.name.includes("-private-")).map((s) => s.outputs["id"]));
    const authorizer = single(resources, "aws:apigatewayv2/authorizer:Authorizer");
    expect(authorizer.inputs).toMatchObject({
      authorizerType: "REQUEST",
      authorizerUri: fn.outputs["invokeArn"],
      authorizerPayloadFormatVersion: "2.0",
      enableSimpleResponses: true,
      identitySources: ["$request.header.Authorization"],
      authorizerResultTtlInSeconds: 30,
    });
    expect(single(resources, "aws:lambda/permission:Permission").inputs).toMatchObject({ action: "lambda:InvokeFunction", principal: "apigateway.amazonaws.com", sourceArn: expect.stringMatching(/\/authorizers\/.+$/) });
    for (const route of byType(resources, "aws:apigatewayv2/route:Route")) {
      const key = String(route.inputs["routeKey"]);
      if (key.startsWith("ANY /auth")) expect(route.inputs["authorizationType"], key).toBe("NONE");
      else expect(route.inputs, key).toMatchObject({ authorizationType: "CUSTOM", authorizerId: authorizer.outputs["id"] });
    }
  });

  it("lets the function reach only the load balancer and write only its own logs", () => {
    const securityGroup = single(resources, "aws:ec2/securityGroup:SecurityGroup", "shop-gateway-authorizer").outputs["id"];
    const lbSecurityGroup = single(resources, "aws:ec2/securityGroup:SecurityGroup", "shop-gateway-lb0").outputs["id"];
    expect(single(resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "shop-gateway-authorizer-to-lb").inputs).toMatchObject({ securityGroupId: securityGroup, referencedSecurityGroupId: lbSecurityGroup, fromPort: 80, toPort: 80 });
    expect(single(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "shop-gateway-lb-from-authorizer").inputs).toMatchObject({ securityGroupId: lbSecurityGroup, referencedSecurityGroupId: securityGroup });
    const logGroup = single(resources, "aws:cloudwatch/logGroup:LogGroup", "shop-gateway-authorizer-logs");
    expect(logGroup.inputs).toMatchObject({ name: "/aws/lambda/shop-prod-authorizer", kmsKeyId: expect.stringContaining(":kms:") });
    expect(jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", "shop-gateway-authorizer"), "policy")).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${String(logGroup.outputs["arn"])}:*` },
        { Sid: "DescribeNetwork", Effect: "Allow", Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], Resource: "*" },
        {
          Sid: "ManageNetworkInterfaces",
          Effect: "Allow",
          Action: ["ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"],
          Resource: `arn:aws:ec2:${MOCK_REGION}:${MOCK_ACCOUNT}:*/*`,
        },
      ],
    });
    expect(single(resources, "aws:lambda/function:Function", "shop-gateway-authorizer").dependsOn).toContain("shop-gateway-authorizer");
    expect(byType(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.parent === "shop-gateway")).toEqual([]);
  });
});

describe("Pulumi AWS gateway trusting an external issuer", () => {
  it("validates the issuer's tokens for the listed audiences, without a user pool", async () => {
    const { resources } = await runProgram(() => {
      new LandingZone("shop", { spec: { ...SPEC, auth: { issuer: "https://login.example.com/realms/shop", audiences: ["shop-web"] } } });
    });
    expect(byType(resources, "aws:cognito/userPool:UserPool")).toEqual([]);
    expect(single(resources, "aws:apigatewayv2/authorizer:Authorizer").inputs).toMatchObject({ authorizerType: "JWT", jwtConfiguration: { issuer: "https://login.example.com/realms/shop", audiences: ["shop-web"] } });
  });
});
