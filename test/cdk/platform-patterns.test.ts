import { App } from "aws-cdk-lib";
import { beforeAll, describe, expect, it } from "vitest";
import { LandingZone } from "../../lib/cdk/landing-zone.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../lib/spec/types.js";
import { XRAY_WRITE_ACTIONS } from "../../lib/plan/tracing.js";

// The example is synthesized with strict CloudFormation validation in landing-zone.test.ts; here the
// wiring between the stacks is checked, so validation stays off to keep the suite fast.
const EXAMPLE = "examples/shop/landing-zone.yaml";

type Resource = { Type: string; Properties: Record<string, any> };
interface CfnTemplate {
  Resources: Record<string, Resource>;
  Parameters?: Record<string, { Type: string; Default?: string }>;
}

function synth(spec: LandingZoneSpec) {
  const app = new App({ builtinCloudFormationValidation: false });
  const zone = new LandingZone(app, "Shop", { spec, account: "111111111111" });
  const templates = new Map(app.synth().stacks.map((s) => [s.stackName.replace(/^shop-prod-/, ""), s.template as CfnTemplate]));
  return { zone, template: (name: string) => templates.get(name)! };
}

const ofType = (t: CfnTemplate, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
/** The logical id of the CloudFormation parameter that reads SSM parameter `name`. */
const parameterRef = (t: CfnTemplate, name: string) => ({ Ref: Object.entries(t.Parameters ?? {}).find(([, p]) => p.Default === name)![0] });
/** Kubernetes objects applied by a stack, with CloudFormation joins flattened to text for matching. */
function manifests(t: CfnTemplate): { text: string; objects: Record<string, any>[] } {
  const raw = ofType(t, "Custom::AWSCDK-EKS-KubernetesResource").map(([, r]) => r.Properties.Manifest);
  const text = raw.map((m) => (typeof m === "string" ? m : (m["Fn::Join"][1] as unknown[]).map((p) => (typeof p === "string" ? p : `<${JSON.stringify(p)}>`)).join(""))).join("\n");
  const objects = raw.filter((m): m is string => typeof m === "string").flatMap((m) => JSON.parse(m) as Record<string, any>[]);
  return { text, objects };
}
const policyStatements = (t: CfnTemplate) => ofType(t, "AWS::IAM::Policy").flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[]);

describe("CDK platform patterns (examples/shop)", () => {
  let template: (name: string) => CfnTemplate;
  beforeAll(() => ({ template } = synth(loadSpecFile(EXAMPLE))));

  it("stores a service's configuration as Parameter Store parameters its ConfigMap and role reference", () => {
    const orders = template("svc-orders");
    const [parameterId, parameter] = ofType(orders, "AWS::SSM::Parameter")[0]!;
    expect(parameter.Properties).toMatchObject({ Name: "/msa/shop/prod/config/orders/ORDER_TIMEOUT_SECONDS", Value: "30", Type: "String" });
    // The ConfigMap's value is the parameter's, not a copy of the literal.
    expect(manifests(orders).text).toContain(`"ORDER_TIMEOUT_SECONDS":"<${JSON.stringify({ "Fn::GetAtt": [parameterId, "Value"] })}>"`);
    expect(manifests(orders).text).toContain('"CONFIG_PARAMETER_PATH":"/msa/shop/prod/config/orders/"');
    const read = policyStatements(orders).find((s) => JSON.stringify(s.Action).includes("ssm:GetParametersByPath"))!;
    expect(read.Action).toEqual(["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]);
    expect(JSON.stringify(read.Resource)).toMatch(/:ssm:ap-northeast-2:111111111111:parameter\/msa\/shop\/prod\/config\/orders".*parameter\/msa\/shop\/prod\/config\/orders\/\*"/);
    // Another service's stack holds none of orders' configuration.
    expect(JSON.stringify(template("svc-payments"))).not.toContain("ORDER_TIMEOUT_SECONDS");
  });

  it("generates each secret in Secrets Manager and hands it to the pods by reference, through the Secrets Store CSI driver", () => {
    const orders = template("svc-orders");
    const [secretId, secret] = ofType(orders, "AWS::SecretsManager::Secret")[0]!;
    expect(secret.Properties).toMatchObject({ Name: "msa/shop/prod/orders/SIGNING_KEY", GenerateSecretString: { PasswordLength: 32, ExcludePunctuation: true } });
    const { text } = manifests(orders);
    expect(text).toContain('"kind":"SecretProviderClass"');
    expect(text).toContain('"usePodIdentity":"true"');
    expect(text).toContain(`\\"objectName\\":\\"<${JSON.stringify({ Ref: secretId })}>\\",\\"objectType\\":\\"secretsmanager\\",\\"objectAlias\\":\\"SIGNING_KEY\\"`);
    expect(text).toContain('{"name":"SIGNING_KEY","valueFrom":{"secretKeyRef":{"name":"orders-secrets","key":"SIGNING_KEY"}}}');
    expect(text).toContain('"csi":{"driver":"secrets-store.csi.k8s.io","readOnly":true,"volumeAttributes":{"secretProviderClass":"orders-secrets"}}');
    // No value and no dynamic reference (custom resources do not resolve them) in any service template.
    for (const name of ["svc-orders", "svc-payments", "svc-web"]) expect(JSON.stringify(template(name)), name).not.toContain("{{resolve:secretsmanager");
    expect(text).not.toContain('"kind":"Secret"');
    expect(policyStatements(orders)).toContainEqual({ Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Effect: "Allow", Resource: { Ref: secretId } });
  });

  it("installs the Secrets Store CSI driver with the AWS provider on the platform, syncing secrets for env vars", () => {
    const charts = ofType(template("platform"), "Custom::AWSCDK-EKS-HelmChart").map(([, r]) => r.Properties);
    const provider = charts.find((c) => c.Chart === "secrets-store-csi-driver-provider-aws")!;
    expect(provider).toMatchObject({ Repository: "https://aws.github.io/secrets-store-csi-driver-provider-aws", Version: "2.2.0", Namespace: "kube-system" });
    expect(JSON.parse(provider.Values)["secrets-store-csi-driver"]).toMatchObject({ install: true, syncSecret: { enabled: true } });
  });

  it("gives every service the session store's endpoint and AUTH token by reference, and lets its role read only that token", () => {
    const platform = template("platform");
    const published = Object.fromEntries(ofType(platform, "AWS::SSM::Parameter").map(([, r]) => [r.Properties.Name, r.Properties.Value]));
    const [tokenId] = ofType(platform, "AWS::SecretsManager::Secret").find(([id]) => id.startsWith("Sessions"))!;
    expect(published["/msa/shop/prod/sessions/auth-token-arn"]).toEqual({ Ref: tokenId });
    expect(published["/msa/shop/prod/sessions/endpoint"]).toEqual({ "Fn::GetAtt": [expect.stringMatching(/^Sessions/), "PrimaryEndPoint.Address"] });
    for (const service of ["orders", "inventory", "web", "mobile"]) {
      const t = template(`svc-${service}`);
      const tokenArn = parameterRef(t, "/msa/shop/prod/sessions/auth-token-arn");
      const { text } = manifests(t);
      expect(text, service).toContain(`"SESSION_STORE_ENDPOINT":"<${JSON.stringify(parameterRef(t, "/msa/shop/prod/sessions/endpoint"))}>:<${JSON.stringify(parameterRef(t, "/msa/shop/prod/sessions/port"))}>"`);
      expect(text, service).toContain('"SESSION_STORE_TLS":"true"');
      expect(text, service).toContain(`\\"objectName\\":\\"<${JSON.stringify(tokenArn)}>\\",\\"objectType\\":\\"secretsmanager\\",\\"objectAlias\\":\\"SESSION_STORE_PASSWORD\\"`);
      expect(text, service).toContain(`{"name":"SESSION_STORE_PASSWORD","valueFrom":{"secretKeyRef":{"name":"${service}-secrets","key":"SESSION_STORE_PASSWORD"}}}`);
      expect(policyStatements(t), service).toContainEqual({ Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], Effect: "Allow", Resource: tokenArn });
    }
  });

  it("routes each BFF's prefix from the HTTP API's catch-all through its load balancer rule to the target group its workload binds, rule and group in the BFF's own stack", () => {
    const platform = template("platform");
    // One load balancer: the catch-all pair reaches it, and its listener rules route by prefix.
    const catchAll = ofType(platform, "AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties);
    expect(catchAll.map((r) => r.RouteKey).sort()).toEqual(["ANY /", "ANY /{proxy+}"]);
    const [integrationId, integration] = ofType(platform, "AWS::ApiGatewayV2::Integration")[0]!;
    for (const route of catchAll) expect(route.Target).toEqual({ "Fn::Join": ["", ["integrations/", { Ref: integrationId }]] });
    const [listenerId] = ofType(platform, "AWS::ElasticLoadBalancingV2::Listener")[0]!;
    expect(integration.Properties).toMatchObject({ ConnectionType: "VPC_LINK", IntegrationUri: { Ref: listenerId } });
    for (const bff of ["web", "mobile"]) {
      const t = template(`svc-${bff}`);
      expect(ofType(t, "AWS::ApiGatewayV2::Route")).toEqual([]);
      const [, rule] = ofType(t, "AWS::ElasticLoadBalancingV2::ListenerRule")[0]!;
      expect(rule.Properties.Conditions[0].PathPatternConfig.Values).toEqual([`/${bff}`, `/${bff}/*`]);
      expect(rule.Properties.ListenerArn).toEqual(parameterRef(t, "/msa/shop/prod/gateway/load-balancers/0/listener-arn"));
      const [targetGroupId] = ofType(t, "AWS::ElasticLoadBalancingV2::TargetGroup")[0]!;
      expect(rule.Properties.Actions[0].TargetGroupArn).toEqual({ Ref: targetGroupId });
      expect(manifests(t).text).toContain(`"kind":"TargetGroupBinding","metadata":{"name":"${bff}"`);
      expect(manifests(t).text).toContain(`"targetGroupARN":"<${JSON.stringify({ Ref: targetGroupId })}>"`);
    }
  });

  it("throttles the HTTP API stage and puts a WAF with a per-client rate rule on the load balancer", () => {
    const platform = template("platform");
    expect(ofType(platform, "AWS::ApiGatewayV2::Stage")[0]![1].Properties.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 });
    const [aclId, acl] = ofType(platform, "AWS::WAFv2::WebACL")[0]!;
    expect(acl.Properties.Rules.map((r: { Name: string }) => r.Name)).toEqual(["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList", "RateLimitPerClient"]);
    expect(acl.Properties.Rules[3].Statement.RateBasedStatement).toMatchObject({ Limit: 12000, AggregateKeyType: "FORWARDED_IP" });
    expect(ofType(platform, "AWS::WAFv2::WebACLAssociation").map(([, a]) => a.Properties.WebACLArn)).toEqual([{ "Fn::GetAtt": [aclId, "Arn"] }]);
  });

  it("validates the user pool's JWTs at the gateway on every route: the catch-all serves them all", () => {
    const platform = template("platform");
    const [authorizerId, authorizer] = ofType(platform, "AWS::ApiGatewayV2::Authorizer")[0]!;
    const [poolId] = ofType(platform, "AWS::Cognito::UserPool")[0]!;
    expect(authorizer.Properties).toMatchObject({ AuthorizerType: "JWT", JwtConfiguration: { Issuer: { "Fn::GetAtt": [poolId, "ProviderURL"] } } });
    const published = ofType(platform, "AWS::SSM::Parameter").find(([, p]) => p.Properties.Name === "/msa/shop/prod/gateway/authorizer-id")![1];
    expect(published.Properties.Value).toEqual({ Ref: authorizerId });
    const routes = ofType(platform, "AWS::ApiGatewayV2::Route");
    expect(routes).toHaveLength(2);
    for (const [, route] of routes) expect(route.Properties).toMatchObject({ AuthorizationType: "JWT", AuthorizerId: { Ref: authorizerId } });
    for (const service of ["orders", "payments", "inventory", "order-history", "web", "mobile"]) expect(ofType(template(`svc-${service}`), "AWS::ApiGatewayV2::Route"), service).toEqual([]);
  });

  it("runs Istio with STRICT mTLS and sidecar injection, and a circuit breaker, retries and timeout per service from the spec", () => {
    const { text } = manifests(template("platform"));
    expect(text).toContain('"kind":"PeerAuthentication","metadata":{"name":"default","namespace":"istio-system"');
    expect(text).toContain('"spec":{"mtls":{"mode":"STRICT"}}');
    expect(text).toContain('"istio-injection":"enabled"');
    const orders = manifests(template("svc-orders")).text;
    expect(orders).toContain('"outlierDetection":{"consecutive5xxErrors":5,"interval":"10s","baseEjectionTime":"30s","maxEjectionPercent":50}');
    expect(orders).toContain('"connectionPool":{"tcp":{"maxConnections":100},"http":{"http1MaxPendingRequests":100}}');
    expect(orders).toContain('"retries":{"attempts":3,"perTryTimeout":"2s"');
    expect(orders).toContain('"timeout":"10s"');
  });

  it("notifies a KMS-encrypted topic only CloudWatch alarms of the account may publish to", () => {
    const observability = template("observability");
    const [topicId, topic] = ofType(observability, "AWS::SNS::Topic")[0]!;
    const [keyId, key] = ofType(observability, "AWS::KMS::Key").find(([id]) => id.startsWith("Monitoring"))!;
    expect(topic.Properties).toMatchObject({ TopicName: "shop-prod-alarms", KmsMasterKeyId: { "Fn::GetAtt": [keyId, "Arn"] } });
    expect(key.Properties.KeyPolicy.Statement).toContainEqual({ Sid: "CloudWatchAlarmsEncrypt", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: ["kms:Decrypt", "kms:GenerateDataKey*"], Resource: "*" });
    const policy = ofType(observability, "AWS::SNS::TopicPolicy")[0]![1].Properties.PolicyDocument.Statement;
    expect(policy).toContainEqual(expect.objectContaining({ Sid: "CloudWatchAlarmsPublish", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish", Resource: { Ref: topicId } }));
    expect(policy).toContainEqual(expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }));
    const published = ofType(observability, "AWS::SSM::Parameter").find(([, p]) => p.Properties.Name === "/msa/shop/prod/observability/alarm-topic-arn")![1];
    expect(published.Properties.Value).toEqual({ Ref: topicId });
  });

  it("gives the gateway and each service a dashboard and alarms whose actions notify that topic", () => {
    const observability = template("observability");
    const gatewayAlarms = ofType(observability, "AWS::CloudWatch::Alarm").map(([, a]) => a.Properties);
    expect(gatewayAlarms.map((a) => a.AlarmName)).toEqual(["shop-prod-gateway-server-errors", "shop-prod-gateway-latency"]);
    for (const a of gatewayAlarms) expect(a.AlarmActions).toEqual([{ Ref: ofType(observability, "AWS::SNS::Topic")[0]![0] }]);
    expect(ofType(observability, "AWS::CloudWatch::Dashboard")[0]![1].Properties.DashboardName).toBe("shop-prod-gateway");

    const orders = template("svc-orders");
    const topic = parameterRef(orders, "/msa/shop/prod/observability/alarm-topic-arn");
    const alarms = ofType(orders, "AWS::CloudWatch::Alarm").map(([, a]) => a.Properties);
    expect(alarms.map((a) => [a.AlarmName, a.Threshold])).toEqual([
      ["shop-prod-orders-server-errors", 2],
      ["shop-prod-orders-latency", 1.5],
      ["shop-prod-orders-unhealthy-hosts", 1],
      ["shop-prod-orders-memory", 90],
    ]);
    for (const a of alarms) {
      expect(a.AlarmActions).toEqual([topic]);
      expect(a.OKActions).toEqual([topic]);
    }
    // The metrics of the target group the service's own stack attaches, on the load balancer the platform names.
    const dimensions = alarms[0]!.Metrics[0].MetricStat.Metric.Dimensions;
    const [targetGroupId] = ofType(orders, "AWS::ElasticLoadBalancingV2::TargetGroup")[0]!;
    expect(dimensions).toEqual([
      { Name: "TargetGroup", Value: { "Fn::GetAtt": [targetGroupId, "TargetGroupFullName"] } },
      { Name: "LoadBalancer", Value: parameterRef(orders, "/msa/shop/prod/gateway/load-balancers/0/metric-name") },
    ]);
    const platform = template("platform");
    const metricNames = Object.fromEntries(ofType(platform, "AWS::SSM::Parameter").map(([, r]) => [r.Properties.Name, r.Properties.Value]));
    expect(metricNames["/msa/shop/prod/gateway/load-balancers/0/metric-name"]).toEqual({ "Fn::GetAtt": [expect.stringMatching(/LoadBalancer0/), "LoadBalancerFullName"] });
    const dashboard = JSON.stringify(ofType(orders, "AWS::CloudWatch::Dashboard")[0]![1].Properties);
    expect(dashboard).toContain("shop-prod-orders");
    for (const metric of ["RequestCount", "HTTPCode_Target_5XX_Count", "TargetResponseTime", "pod_cpu_utilization", "pod_memory_utilization_over_pod_limit"]) expect(dashboard).toContain(metric);
  });

  it("collects Container Insights with the CloudWatch add-on under its own Pod Identity", () => {
    const observability = template("observability");
    const [roleId, role] = ofType(observability, "AWS::IAM::Role").find(([id]) => id.startsWith("ContainerInsights"))!;
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain(":iam::aws:policy/CloudWatchAgentServerPolicy");
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0]).toMatchObject({ Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] });
    expect(ofType(observability, "AWS::EKS::Addon")[0]![1].Properties).toMatchObject({
      AddonName: "amazon-cloudwatch-observability",
      ClusterName: parameterRef(observability, "/msa/shop/prod/platform/cluster-name"),
      ConfigurationValues: '{"containerLogs":{"enabled":false}}',
      PodIdentityAssociations: [{ ServiceAccount: "cloudwatch-agent", RoleArn: { "Fn::GetAtt": [roleId, "Arn"] } }],
    });
  });

  it("runs the OpenTelemetry collector exporting to X-Ray with a Pod Identity role that may only write traces", () => {
    const observability = template("observability");
    const chart = ofType(observability, "Custom::AWSCDK-EKS-HelmChart").find(([, c]) => c.Properties.Chart === "opentelemetry-collector")![1].Properties;
    const values = JSON.parse(chart.Values);
    expect(values.config.exporters).toEqual({ awsxray: { region: "ap-northeast-2" } });
    expect(values.serviceAccount).toEqual({ create: true, name: "otel-collector" });
    const [associationId, association] = ofType(observability, "AWS::EKS::PodIdentityAssociation").find(([, a]) => a.Properties.ServiceAccount === "otel-collector")!;
    expect(association.Properties.Namespace).toBe("observability");
    const roleId = association.Properties.RoleArn["Fn::GetAtt"][0];
    const policy = ofType(observability, "AWS::IAM::Policy").find(([, p]) => p.Properties.Roles[0].Ref === roleId)![1];
    expect(policy.Properties.PolicyDocument.Statement).toEqual([{ Action: [...XRAY_WRITE_ACTIONS], Effect: "Allow", Resource: "*" }]);
    // The collector's pods start after the association, so they get credentials.
    const chartId = ofType(observability, "Custom::AWSCDK-EKS-HelmChart").find(([, c]) => c.Properties.Chart === "opentelemetry-collector")![0];
    expect((observability.Resources[chartId] as unknown as { DependsOn: string[] }).DependsOn).toContain(associationId);
    // Services export to the collector.
    expect(manifests(template("svc-orders")).text).toContain('"OTEL_EXPORTER_OTLP_ENDPOINT":"http://otel-collector.observability.svc.cluster.local:4317"');
  });
});

describe("CDK gateway with a dedicated auth service", () => {
  let template: (name: string) => CfnTemplate;
  beforeAll(() => {
    const example = loadSpecFile(EXAMPLE);
    const spec: LandingZoneSpec = {
      ...example,
      gateway: { ...example.gateway, auth: "authorizer", authorizerCacheSeconds: 60 },
      auth: { ...example.auth, service: "auth" },
      services: [...example.services, { ...example.services[2]!, name: "auth", repository: "auth", path: "/auth", publishes: [], subscribes: [], secrets: [], config: {} }],
    };
    ({ template } = synth(spec));
  });

  it("points a Lambda REQUEST authorizer at the auth service's internal load balancer, caching answers for the spec's seconds", () => {
    const platform = template("platform");
    expect(ofType(platform, "AWS::Cognito::UserPool")).toEqual([]);
    const [fnId, fn] = ofType(platform, "AWS::Lambda::Function").find(([id]) => id.startsWith("GatewayAuthorizer"))!;
    expect(fn.Properties).toMatchObject({ Runtime: "nodejs24.x", VpcConfig: { SubnetIds: expect.any(Array) } });
    expect(fn.Properties.Environment.Variables.AUTHORIZE_URL).toEqual({ "Fn::Join": ["", ["http://", { "Fn::GetAtt": [expect.stringMatching(/^GatewayLoadBalancer0/), "DNSName"] }, "/auth/authorize"]] });
    const [authorizerId, authorizer] = ofType(platform, "AWS::ApiGatewayV2::Authorizer")[0]!;
    expect(authorizer.Properties).toMatchObject({ AuthorizerType: "REQUEST", AuthorizerResultTtlInSeconds: 60, IdentitySource: ["$request.header.Authorization"] });
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(fnId);
    const published = ofType(platform, "AWS::SSM::Parameter").find(([, p]) => p.Properties.Name === "/msa/shop/prod/gateway/authorizer-id")![1];
    expect(published.Properties.Value).toEqual({ Ref: authorizerId });
    // The catch-all checks every route; only the auth service's stack adds routes, open for sign-in.
    const catchAll = ofType(platform, "AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties);
    expect(catchAll.map((r) => r.RouteKey).sort()).toEqual(["ANY /", "ANY /{proxy+}"]);
    for (const route of catchAll) expect(route).toMatchObject({ AuthorizationType: "CUSTOM", AuthorizerId: { Ref: authorizerId } });
    const auth = ofType(template("svc-auth"), "AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties);
    expect(auth.map((r) => [r.RouteKey, r.AuthorizationType])).toEqual([["ANY /auth", "NONE"], ["ANY /auth/{proxy+}", "NONE"]]);
    for (const service of ["orders", "web"]) expect(ofType(template(`svc-${service}`), "AWS::ApiGatewayV2::Route"), service).toEqual([]);
  });
});

describe("CDK gateway trusting an external issuer", () => {
  it("validates the issuer's tokens for the listed audiences, without a user pool", () => {
    const example = loadSpecFile(EXAMPLE);
    const { template } = synth({ ...example, auth: { ...example.auth, issuer: "https://login.example.com/realms/shop", audiences: ["shop-web", "shop-mobile"] } });
    const platform = template("platform");
    expect(ofType(platform, "AWS::Cognito::UserPool")).toEqual([]);
    expect(ofType(platform, "AWS::ApiGatewayV2::Authorizer")[0]![1].Properties).toMatchObject({
      AuthorizerType: "JWT",
      JwtConfiguration: { Issuer: "https://login.example.com/realms/shop", Audience: ["shop-web", "shop-mobile"] },
    });
  });
});
