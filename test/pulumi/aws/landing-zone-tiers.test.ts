import { beforeAll, describe, expect, it } from "vitest";
import program from "../../../bin/pulumi.js";
import { BEANSTALK_PATH_LISTENER_PORT } from "../../../lib/plan/gateway-paths.js";
import { BEANSTALK_ENVIRONMENT_METRICS } from "../../../lib/plan/hosts.js";
import { ADOT_COLLECTOR_IMAGE, XRAY_WRITE_ACTIONS, otelEnvironment } from "../../../lib/plan/tracing.js";
import { LandingZone } from "../../../lib/pulumi/aws/landing-zone.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { ecrLifecyclePolicy } from "../../../lib/plan/delivery.js";
import { byType, childrenOf, jsonInput, runProgram, single, type RegisteredResource } from "../harness.js";

const SERVICES = ["orders", "payments", "inventory", "order-history", "web", "mobile"];

async function runExample(tier: "iaas" | "paas"): Promise<{ resources: RegisteredResource[]; outputs: Record<string, unknown> }> {
  let outputs: Record<string, unknown> = {};
  const { resources } = await runProgram(
    async () => {
      outputs = await program();
    },
    { config: { "msa:spec": `examples/aws-${tier}/landing-zone.yaml` } },
  );
  return { resources, outputs };
}

const privateSubnetIds = (resources: RegisteredResource[]) => byType(resources, "aws:ec2/subnet:Subnet").filter((r) => r.name.includes("-private-")).map((r) => r.outputs["id"]);
const settingsOf = (environment: RegisteredResource) => environment.inputs["settings"] as { namespace: string; name: string; value: string }[];
const setting = (environment: RegisteredResource, namespace: string, name: string) => settingsOf(environment).find((s) => s.namespace === namespace && s.name === name)?.value;

describe("the Pulumi program on examples/aws-iaas", () => {
  let resources: RegisteredResource[];
  let outputs: Record<string, unknown>;
  beforeAll(async () => {
    ({ resources, outputs } = await runExample("iaas"));
  });

  it("builds the VM platform and a VmService per service under msa:aws:LandingZone", () => {
    const parts = childrenOf(resources, "shop").map((r) => r.type);
    expect(parts).toEqual(expect.arrayContaining(["msa:aws:Network", "msa:aws:VmPlatform", "msa:aws:ApiGateway", "msa:aws:SessionStore", "msa:aws:LogPipeline", "msa:aws:MessageBroker"]));
    expect(parts).not.toContain("msa:aws:KubernetesPlatform");
    expect(childrenOf(resources, "shop").filter((r) => r.type === "msa:aws:VmService").map((r) => r.name)).toEqual(SERVICES.map((s) => `shop-${s}`));
    expect(byType(resources, "aws:eks/cluster:Cluster")).toEqual([]);
    expect(Object.keys(outputs).sort()).toEqual(["alarmTopicArn", "discoveryNamespace", "gatewayUrl", "logDashboardsUrl", "sessionEndpoint", "topicArns"]);
  });

  it("runs each fleet on hardened AL2023 instances in private subnets behind an instance target group", () => {
    const launchTemplate = single(resources, "aws:ec2/launchTemplate:LaunchTemplate", "shop-orders-instances");
    expect(launchTemplate.inputs).toMatchObject({
      imageId: "ami-0123456789abcdef0",
      instanceType: "m6i.large",
      metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 },
      networkInterfaces: [{ associatePublicIpAddress: "false" }],
      blockDeviceMappings: [{ ebs: { encrypted: "true", volumeType: "gp3" } }],
    });
    expect(launchTemplate.inputs).not.toHaveProperty("keyName");
    const script = Buffer.from(launchTemplate.inputs["userData"] as string, "base64").toString("utf8");
    expect(script).toContain("SERVICE_ID='srv-shop-orders-registry'");
    expect(script).toContain("ExecStop=/usr/local/bin/msa-registry deregister");

    const group = single(resources, "aws:autoscaling/group:Group", "shop-orders-instances");
    const targetGroup = byType(resources, "aws:lb/targetGroup:TargetGroup").find((t) => t.inputs["name"] === "shop-prod-orders")!;
    expect(targetGroup.inputs).toMatchObject({ targetType: "instance", port: 8080 });
    expect(group.inputs).toMatchObject({
      name: "shop-prod-orders",
      minSize: 2,
      maxSize: 6,
      healthCheckType: "ELB",
      vpcZoneIdentifiers: privateSubnetIds(resources),
      targetGroupArns: [targetGroup.outputs["arn"]],
      initialLifecycleHooks: [{ name: "msa-deregister", lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING", defaultResult: "CONTINUE" }],
      instanceRefresh: { strategy: "Rolling" },
    });
  });

  it("scopes each instance role to its own registry entry, secrets and topics", () => {
    const policy = jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", "shop-orders-service"), "policy") as { Statement: { Sid: string; Resource: string[]; Condition?: unknown }[] };
    const register = policy.Statement.find((s) => s.Sid === "Register")!;
    expect(register.Resource).toEqual([single(resources, "aws:servicediscovery/service:Service", "shop-orders-registry").outputs["arn"]]);
    const secret = single(resources, "aws:secretsmanager/secret:Secret", "shop-orders-config-signing-key");
    expect(secret.inputs["name"]).toBe("msa/shop/prod/orders/SIGNING_KEY");
    expect(policy.Statement.find((s) => s.Sid === "ReadSecrets")!.Resource).toContain(secret.outputs["arn"]);
    expect(single(resources, "aws:secretsmanager/secretVersion:SecretVersion", "shop-orders-config-signing-key-value").secretInputs).toContain("secretString");
    expect(JSON.stringify(jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", "shop-orders-messaging"), "policy"))).toContain("sns:Publish");
    expect(single(resources, "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace").inputs).toMatchObject({ name: "prod.shop.internal" });
  });

  it("keeps each service's configuration and secrets in its ConfigStore, read by the instances at start, never in the user data", () => {
    const store = single(resources, "msa:aws:ConfigStore", "shop-orders-config");
    expect(store.parent).toBe("shop-orders");
    const parameter = single(resources, "aws:ssm/parameter:Parameter", "shop-orders-config-order-timeout-seconds");
    expect(parameter.inputs).toMatchObject({ name: "/msa/shop/prod/config/orders/ORDER_TIMEOUT_SECONDS", value: "30" });
    // One secret per key in the whole program: the VM fleet has no second copy.
    expect(byType(resources, "aws:secretsmanager/secret:Secret").filter((s) => s.inputs["name"] === "msa/shop/prod/orders/SIGNING_KEY")).toHaveLength(1);
    const secret = single(resources, "aws:secretsmanager/secret:Secret", "shop-orders-config-signing-key");
    const script = Buffer.from(single(resources, "aws:ec2/launchTemplate:LaunchTemplate", "shop-orders-instances").inputs["userData"] as string, "base64").toString("utf8");
    expect(script).toContain("--path '/msa/shop/prod/config/orders/'");
    expect(script).toContain(`value="$(aws secretsmanager get-secret-value --region 'us-east-1' --secret-id '${String(secret.outputs["arn"])}' --query SecretString --output text)"; printf 'SIGNING_KEY=%s\\n' "$value" >> /etc/msa/service.env`);
    expect(script).not.toContain(String(single(resources, "random:index/randomPassword:RandomPassword", "shop-orders-config-signing-key").outputs["result"]));
    const policy = jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", "shop-orders-service"), "policy") as { Statement: { Sid: string; Action: string[]; Resource: string[] }[] };
    expect(policy.Statement.find((s) => s.Sid === "ReadConfig")).toMatchObject({ Action: ["ssm:GetParameters", "ssm:GetParametersByPath"], Resource: ["arn:aws:ssm:us-east-1:123456789012:parameter/msa/shop/prod/config/orders/*"] });
  });

  it("gives every fleet the session store's endpoint, and its AUTH token read with the instance role at start", () => {
    const endpoint = String(byType(resources, "aws:elasticache/replicationGroup:ReplicationGroup")[0]!.outputs["primaryEndpointAddress"]);
    const token = single(resources, "aws:secretsmanager/secret:Secret", "shop-sessions-cache-auth-token").outputs["arn"];
    for (const service of SERVICES) {
      const script = Buffer.from(single(resources, "aws:ec2/launchTemplate:LaunchTemplate", `shop-${service}-instances`).inputs["userData"] as string, "base64").toString("utf8");
      expect(script, service).toContain(`SESSION_STORE_ENDPOINT=${endpoint}:6379`);
      expect(script, service).toContain("SESSION_STORE_TLS=true");
      expect(script, service).toContain(`value="$(aws secretsmanager get-secret-value --region 'us-east-1' --secret-id '${String(token)}' --query SecretString --output text)"; printf 'SESSION_STORE_PASSWORD=%s\\n' "$value" >> /etc/msa/service.env`);
      const policy = jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", `shop-${service}-service`), "policy") as { Statement: { Sid: string; Resource: string[] }[] };
      expect(policy.Statement.find((s) => s.Sid === "ReadSecrets")!.Resource, service).toContain(token);
    }
  });

  it("gives each fleet a dashboard and alarms on its target group, CPU and agent memory, notifying the alarm topic", () => {
    const alarms = byType(resources, "aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms.filter((a) => String(a.inputs["name"]).startsWith("shop-prod-orders-")).map((a) => [a.inputs["name"], a.inputs["threshold"]])).toEqual([
      ["shop-prod-orders-server-errors", 2],
      ["shop-prod-orders-latency", 1.5],
      ["shop-prod-orders-unhealthy-hosts", 1],
      ["shop-prod-orders-memory", 90],
    ]);
    const topicArn = single(resources, "aws:sns/topic:Topic", "shop-monitoring-alarms").outputs["arn"];
    for (const alarm of alarms) expect(alarm.inputs["alarmActions"], String(alarm.inputs["name"])).toEqual([topicArn]);
    const queries = (name: string) => alarms.find((a) => a.inputs["name"] === name)!.inputs["metricQueries"] as { metric?: { namespace: string; metricName: string; dimensions: Record<string, string> } }[];
    const targetGroup = single(resources, "aws:lb/targetGroup:TargetGroup", "shop-gateway-lb0-orders");
    expect(queries("shop-prod-orders-server-errors")[0]!.metric!.dimensions).toEqual({ TargetGroup: targetGroup.outputs["arnSuffix"], LoadBalancer: single(resources, "aws:lb/loadBalancer:LoadBalancer", "shop-gateway-lb0").outputs["arnSuffix"] });
    expect(queries("shop-prod-orders-memory")[0]!.metric).toMatchObject({ namespace: "MSA/shop/prod", metricName: "mem_used_percent", dimensions: { AutoScalingGroupName: "shop-prod-orders" } });
    const dashboard = single(resources, "aws:cloudwatch/dashboard:Dashboard", "shop-monitoring-orders").inputs["dashboardBody"] as string;
    expect(dashboard).toContain('["AWS/EC2","CPUUtilization","AutoScalingGroupName","shop-prod-orders"');
    expect(byType(resources, "aws:eks/addon:Addon")).toEqual([]);
  });

  it("runs Logstash on its own hosts, the only principal of the domain, and lets the services reach the buffer", () => {
    const logstash = single(resources, "msa:aws:LogstashHosts");
    expect(logstash.parent).toBe("shop-logging");
    const domain = single(resources, "aws:opensearch/domain:Domain");
    const role = single(resources, "aws:iam/role:Role", "shop-logging-logstash-role");
    expect(JSON.parse(role.inputs["assumeRolePolicy"] as string).Statement[0].Principal).toEqual({ Service: "ec2.amazonaws.com" });
    expect(JSON.parse(domain.inputs["accessPolicies"] as string).Statement[0].Principal).toEqual({ AWS: role.outputs["arn"] });
    const workloads = single(resources, "aws:ec2/securityGroup:SecurityGroup", "shop-platform-workloads").outputs["id"];
    const bufferGroup = byType(resources, "aws:ec2/securityGroup:SecurityGroup").find((g) => g.parent === "shop-logging-buffer")!.outputs["id"];
    const rules = byType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs);
    expect(rules).toEqual(expect.arrayContaining([expect.objectContaining({ securityGroupId: bufferGroup, referencedSecurityGroupId: workloads, fromPort: 6379 })]));
    const userData = Buffer.from(single(resources, "aws:ec2/launchTemplate:LaunchTemplate", "shop-logging-logstash-hosts").inputs["userData"] as string, "base64").toString("utf8");
    expect(userData).toContain(`hosts => ["https://${String(domain.outputs["endpoint"])}:443"]`);
  });

  it("runs an X-Ray collector beside each service, whose role gets exactly the X-Ray write actions and whose container gets the OTEL variables", () => {
    for (const service of SERVICES) {
      const policy = jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", `shop-${service}-service`), "policy") as { Statement: { Sid: string; Action: string[]; Resource: string[] }[] };
      expect(policy.Statement.filter((s) => s.Sid === "Trace")).toEqual([expect.objectContaining({ Action: [...XRAY_WRITE_ACTIONS], Resource: ["*"] })]);
      const userData = Buffer.from(single(resources, "aws:ec2/launchTemplate:LaunchTemplate", `shop-${service}-instances`).inputs["userData"] as string, "base64").toString("utf8");
      expect(userData).toContain(`${ADOT_COLLECTOR_IMAGE} --config=/etc/otel/config.yaml`);
      expect(userData).toContain("region: ap-northeast-2");
      expect(userData).toContain("--name app --network msa --env-file /etc/msa/service.env");
      for (const [key, value] of Object.entries(otelEnvironment({ implementation: "otel-collector", backend: "xray", samplingRate: 0.1, collectorEndpoint: "http://otel-collector:4317" }, service))) {
        expect(userData).toContain(`\n${key}=${value}\n`);
      }
    }
  });
});

describe("the Pulumi program on examples/aws-paas", () => {
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runExample("paas"));
  });

  it("builds the Beanstalk platform and an environment per service on the gateway's shared load balancer", () => {
    expect(childrenOf(resources, "shop").filter((r) => r.type === "msa:aws:PaasService").map((r) => r.name)).toEqual(SERVICES.map((s) => `shop-${s}`));
    single(resources, "aws:elasticbeanstalk/application:Application");
    const environment = single(resources, "aws:elasticbeanstalk/environment:Environment", "shop-orders-environment");
    expect(environment.inputs).toMatchObject({ name: "shop-prod-orders", cnamePrefix: "shop-prod-orders-123456789012", solutionStackName: expect.stringMatching(/running Docker$/), tier: "WebServer" });
    const loadBalancer = single(resources, "aws:lb/loadBalancer:LoadBalancer");
    expect(setting(environment, "aws:elbv2:loadbalancer", "SharedLoadBalancer")).toBe(loadBalancer.outputs["arn"]);
    expect(setting(environment, "aws:ec2:vpc", "Subnets")).toBe(privateSubnetIds(resources).join(","));
    expect(setting(environment, "aws:elasticbeanstalk:healthreporting:system", "SystemType")).toBe("enhanced");
    expect(setting(environment, "aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled")).toBe("true");
    expect(setting(environment, "aws:elasticbeanstalk:application:environmentsecrets", "SIGNING_KEY")).toBe(single(resources, "aws:secretsmanager/secret:Secret", "shop-orders-config-signing-key").outputs["arn"]);
    expect(byType(resources, "aws:lb/targetGroup:TargetGroup")).toEqual([]);
  });

  it("feeds each environment its ConfigStore's parameters and secrets and the session store by reference, never a value", () => {
    expect(single(resources, "msa:aws:ConfigStore", "shop-orders-config").parent).toBe("shop-orders");
    expect(byType(resources, "aws:secretsmanager/secret:Secret").filter((s) => s.inputs["name"] === "msa/shop/prod/orders/SIGNING_KEY")).toHaveLength(1);
    const environment = single(resources, "aws:elasticbeanstalk/environment:Environment", "shop-orders-environment");
    const secrets = "aws:elasticbeanstalk:application:environmentsecrets";
    expect(setting(environment, secrets, "ORDER_TIMEOUT_SECONDS")).toBe(single(resources, "aws:ssm/parameter:Parameter", "shop-orders-config-order-timeout-seconds").outputs["arn"]);
    const endpoint = String(byType(resources, "aws:elasticache/replicationGroup:ReplicationGroup")[0]!.outputs["primaryEndpointAddress"]);
    const token = single(resources, "aws:secretsmanager/secret:Secret", "shop-sessions-cache-auth-token").outputs["arn"];
    for (const service of SERVICES) {
      const env = single(resources, "aws:elasticbeanstalk/environment:Environment", `shop-${service}-environment`);
      expect(setting(env, "aws:elasticbeanstalk:application:environment", "SESSION_STORE_ENDPOINT"), service).toBe(`${endpoint}:6379`);
      expect(setting(env, "aws:elasticbeanstalk:application:environment", "SESSION_STORE_TLS"), service).toBe("true");
      expect(setting(env, secrets, "SESSION_STORE_PASSWORD"), service).toBe(token);
      const policy = jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", `shop-${service}-service`), "policy") as { Statement: { Sid: string; Resource: string[] }[] };
      expect(policy.Statement.find((s) => s.Sid === "ReadSecrets")!.Resource, service).toContain(token);
    }
    const values = settingsOf(environment).map((s) => s.value).join("\n");
    expect(values).not.toContain(String(single(resources, "random:index/randomPassword:RandomPassword", "shop-orders-config-signing-key").outputs["result"]));
  });

  it("monitors each environment through its enhanced-health metrics, which it publishes to CloudWatch", () => {
    const environment = single(resources, "aws:elasticbeanstalk/environment:Environment", "shop-orders-environment");
    const document = JSON.parse(setting(environment, "aws:elasticbeanstalk:healthreporting:system", "ConfigDocument")!);
    expect(document).toEqual({ Version: 1, CloudWatchMetrics: { Environment: Object.fromEntries(BEANSTALK_ENVIRONMENT_METRICS.map((m) => [m, 60])) } });
    const alarms = byType(resources, "aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => String(a.inputs["name"]).startsWith("shop-prod-orders-"));
    expect(alarms.map((a) => [a.inputs["name"], a.inputs["threshold"]])).toEqual([
      ["shop-prod-orders-server-errors", 2],
      ["shop-prod-orders-latency", 1.5],
      ["shop-prod-orders-unhealthy-hosts", 1],
    ]);
    const queries = alarms[0]!.inputs["metricQueries"] as { metric?: { namespace: string; metricName: string; dimensions: Record<string, string> } }[];
    expect(queries[1]!.metric).toMatchObject({ namespace: "AWS/ElasticBeanstalk", metricName: "ApplicationRequests5xx", dimensions: { EnvironmentName: environment.inputs["name"] } });
    const topicArn = single(resources, "aws:sns/topic:Topic", "shop-monitoring-alarms").outputs["arn"];
    for (const alarm of alarms) expect(alarm.inputs["alarmActions"]).toEqual([topicArn]);
  });

  it("leaves port 80 to Beanstalk's host rules and has each environment add its path rules to the path listener", () => {
    const http = single(resources, "aws:lb/listener:Listener", "shop-gateway-lb0-http");
    const paths = single(resources, "aws:lb/listener:Listener", "shop-gateway-lb0-paths");
    expect([http.inputs["port"], paths.inputs["port"]]).toEqual([80, BEANSTALK_PATH_LISTENER_PORT]);
    // The API's one integration per load balancer reaches the path listener; the catch-all serves every route.
    const integration = single(resources, "aws:apigatewayv2/integration:Integration", "shop-gateway-lb0");
    expect(integration.inputs["integrationUri"]).toBe(paths.outputs["arn"]);
    expect(byType(resources, "aws:apigatewayv2/integration:Integration")).toHaveLength(1);
    expect(byType(resources, "aws:apigatewayv2/route:Route").map((r) => r.inputs["routeKey"]).sort()).toEqual(["ANY /", "ANY /{proxy+}"]);
    expect(byType(resources, "aws:lb/listenerRule:ListenerRule")).toEqual([]);
    expect(single(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "shop-gateway-lb0-from-vpc-link").inputs).toMatchObject({ fromPort: BEANSTALK_PATH_LISTENER_PORT, toPort: BEANSTALK_PATH_LISTENER_PORT });
    const environment = single(resources, "aws:elasticbeanstalk/environment:Environment", "shop-orders-environment");
    expect(setting(environment, "aws:elasticbeanstalk:customoption", "GatewayPathListenerArn")).toBe(paths.outputs["arn"]);
    const registration = single(resources, "aws:servicediscovery/instance:Instance", "shop-orders-registration");
    expect(registration.inputs).toMatchObject({ instanceId: "shop-prod-orders", attributes: { host: "shop-prod-orders-123456789012.us-east-1.elasticbeanstalk.com", port: "80" } });
    expect(registration.dependsOn).toContain("shop-orders-environment");
  });

  it("gives each environment's instance profile exactly the X-Ray write actions and its app the OTEL variables", () => {
    for (const service of SERVICES) {
      const policy = jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", `shop-${service}-service`), "policy") as { Statement: { Sid: string; Action: string[]; Resource: string[] }[] };
      expect(policy.Statement.filter((s) => s.Sid === "Trace")).toEqual([expect.objectContaining({ Action: [...XRAY_WRITE_ACTIONS], Resource: ["*"] })]);
      const environment = single(resources, "aws:elasticbeanstalk/environment:Environment", `shop-${service}-environment`);
      for (const [key, value] of Object.entries({ OTEL_SERVICE_NAME: service, OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel-collector:4317", OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" })) {
        expect(setting(environment, "aws:elasticbeanstalk:application:environment", key), `${service} ${key}`).toBe(value);
      }
    }
  });
});

describe("the Pulumi landing zone across tiers", () => {
  const base = loadSpecFile("examples/aws-iaas/landing-zone.yaml");
  const inputsByTier = new Map<string, RegisteredResource[]>();

  beforeAll(async () => {
    for (const tier of ["iaas", "caas", "paas"] as const) {
      const { resources } = await runProgram(() => {
        new LandingZone("shop", { spec: { ...base, tier } as LandingZoneSpec });
      });
      inputsByTier.set(tier, resources);
    }
  }, 120_000);

  it("gives every service one scanned, immutable, KMS-encrypted repository on every tier, keeping the images the plan decides", () => {
    for (const [tier, resources] of inputsByTier) {
      const repositories = byType(resources, "aws:ecr/repository:Repository");
      expect(repositories.map((r) => r.inputs["name"]).sort(), tier).toEqual(expect.arrayContaining(base.services!.map((s) => `shop-${s.name}`)));
      for (const repository of repositories) {
        expect(repository.inputs, `${tier} ${repository.name}`).toMatchObject({ imageScanningConfiguration: { scanOnPush: true }, imageTagMutability: "IMMUTABLE", encryptionConfigurations: [{ encryptionType: "KMS" }] });
      }
      const lifecycles = byType(resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy");
      expect(lifecycles, tier).toHaveLength(repositories.length);
      for (const lifecycle of lifecycles) expect(lifecycle.inputs["policy"], `${tier} ${lifecycle.name}`).toBe(ecrLifecyclePolicy());
    }
  });

  it("changes the platform and keeps network, broker, gateway, sessions and logging with the same settings", () => {
    const LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer";
    const platform = (tier: string) => childrenOf(inputsByTier.get(tier)!, "shop").find((r) => r.name === "shop-platform")!.type;
    expect(["iaas", "caas", "paas"].map(platform)).toEqual(["msa:aws:VmPlatform", "msa:aws:KubernetesPlatform", "msa:aws:PaasPlatform"]);
    const inputs = (tier: string, type: string) =>
      byType(inputsByTier.get(tier)!, type).map((r) =>
        JSON.stringify({ name: r.name, inputs: r.inputs }, (key, value) => (key === "tags" || key === "subnetIds" || key === "allowedSecurityGroupIds" || (key === "subnets" && type === LOAD_BALANCER) ? undefined : value)),
      );
    const subnetsOf = (tier: string, kind: string) => byType(inputsByTier.get(tier)!, "aws:ec2/subnet:Subnet").filter((r) => r.name.includes(`-${kind}-`)).map((r) => r.outputs["id"]);
    // On EKS the load balancers sit in the public subnets, where no pod lives (plan.gateway.loadBalancerSubnets).
    for (const tier of ["iaas", "caas", "paas"]) {
      expect(single(inputsByTier.get(tier)!, LOAD_BALANCER).inputs["subnets"], tier).toEqual(subnetsOf(tier, tier === "caas" ? "public" : "private"));
    }
    for (const tier of ["caas", "paas"]) {
      for (const type of ["aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway", "aws:sns/topic:Topic", "aws:sqs/queue:Queue", "aws:lb/loadBalancer:LoadBalancer", "aws:wafv2/webAcl:WebAcl", "aws:apigatewayv2/stage:Stage", "aws:cognito/userPool:UserPool", "aws:elasticache/replicationGroup:ReplicationGroup", "aws:opensearch/domain:Domain"]) {
        expect(inputs(tier, type), `${tier} ${type}`).toEqual(inputs("iaas", type));
      }
    }
  });
});

describe.each(["iaas", "paas"] as const)("the Pulumi gateway delegating to a dedicated auth service on aws/%s", (tier) => {
  let resources: RegisteredResource[];
  beforeAll(async () => {
    const base = loadSpecFile(`examples/aws-${tier}/landing-zone.yaml`);
    const spec: LandingZoneSpec = {
      ...base,
      gateway: { ...base.gateway, auth: "authorizer", authorizerCacheSeconds: 60 },
      auth: { ...base.auth, service: "auth" },
      services: [...base.services, { ...base.services[2]!, name: "auth", path: "/auth", publishes: [], subscribes: [], secrets: [], config: {} }],
    };
    ({ resources } = await runProgram(() => {
      new LandingZone("shop", { spec });
    }));
  });

  it("asks the auth service's own routes from a VPC Lambda authorizer, leaving only those routes open", () => {
    expect(byType(resources, "aws:cognito/userPool:UserPool")).toEqual([]);
    const fn = single(resources, "aws:lambda/function:Function", "shop-gateway-authorizer");
    // The path rules answer on the load balancer's own name; on Beanstalk load balancers on the path listener's port.
    const host = String(single(resources, "aws:lb/loadBalancer:LoadBalancer", "shop-gateway-lb0").outputs["dnsName"]) + (tier === "paas" ? ":8080" : "");
    expect((fn.inputs["environment"] as { variables: Record<string, string> }).variables["AUTHORIZE_URL"]).toBe(`http://${host}/auth/authorize`);
    const authorizer = single(resources, "aws:apigatewayv2/authorizer:Authorizer");
    expect(authorizer.inputs).toMatchObject({ authorizerType: "REQUEST", authorizerResultTtlInSeconds: 60 });
    // The catch-all serves every checked route and only the auth service's open ones remain.
    const routes = byType(resources, "aws:apigatewayv2/route:Route");
    expect(routes.map((r) => String(r.inputs["routeKey"])).sort()).toEqual(["ANY /", "ANY /{proxy+}", "ANY /auth", "ANY /auth/{proxy+}"].sort());
    for (const route of routes) {
      const key = String(route.inputs["routeKey"]);
      if (key.startsWith("ANY /auth")) expect(route.inputs["authorizationType"], key).toBe("NONE");
      else expect(route.inputs, key).toMatchObject({ authorizationType: "CUSTOM", authorizerId: authorizer.outputs["id"] });
    }
  });
});

describe("hosted service components on their own", () => {
  it("refuse a plan of another tier or a missing broker before registering anything", async () => {
    const { planLandingZone } = await import("../../../lib/plan/planner.js");
    const { VmService } = await import("../../../lib/pulumi/aws/vm-service.js");
    const { PaasService } = await import("../../../lib/pulumi/aws/paas-service.js");
    const spec = loadSpecFile("examples/aws-paas/landing-zone.yaml");
    const paasPlan = planLandingZone(spec);
    const errors: string[] = [];
    const run = await runProgram(() => {
      const common = { privateSubnetIds: ["s-1"], workloadSecurityGroupId: "sg-1", image: "x" };
      for (const create of [
        () => new VmService("vm", { plan: paasPlan, service: "orders", ...common }),
        () => new PaasService("paas", { plan: paasPlan, service: "orders", ...common, applicationName: "a", serviceRoleArn: "r", bundleBucket: "b", vpcId: "v", loadBalancer: { arn: "l", securityGroupId: "sg" } }),
        () => new PaasService("nope", { plan: paasPlan, service: "nope", ...common, applicationName: "a", serviceRoleArn: "r", bundleBucket: "b", vpcId: "v", loadBalancer: { arn: "l", securityGroupId: "sg" } }),
        () => new PaasService("nolistener", { plan: paasPlan, service: "web", ...common, applicationName: "a", serviceRoleArn: "r", bundleBucket: "b", vpcId: "v", loadBalancer: { arn: "l", securityGroupId: "sg" } }),
      ]) {
        try {
          create();
        } catch (error) {
          errors.push((error as Error).message);
        }
      }
    });
    expect(errors).toEqual([
      expect.stringMatching(/VmService vm: plan tier is "paas", which has no VM fleet\. Fix: plan the landing zone with tier: iaas/),
      expect.stringMatching(/PaasService paas: broker is undefined but orders publishes or subscribes\. Fix: pass the landing zone's MessageBroker/),
      expect.stringMatching(/PaasService nope: service "nope" is not in plan.services .*Fix: pass one of those names/),
      expect.stringMatching(/PaasService nolistener: web has gateway routes, but loadBalancer\.pathListenerArn is undefined.*Fix: pass the path listener of its load balancer/),
    ]);
    expect(run.resources).toEqual([]);
  });
});
