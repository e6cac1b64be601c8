import { readFileSync } from "node:fs";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { LandingZone } from "../../lib/cdk/landing-zone.js";
import { BEANSTALK_ENVIRONMENT_METRICS } from "../../lib/plan/hosts.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../lib/spec/types.js";

/** The context `cdk synth` runs with: recommended flags plus the strict validation keys. */
const CDK_CONTEXT = (JSON.parse(readFileSync("cdk.json", "utf8")) as { context: Record<string, unknown> }).context;
const SERVICES = ["orders", "payments", "inventory", "order-history", "web", "mobile"];
const SHARED = ["network", "platform", "observability", "messaging"];

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; UpdatePolicy?: unknown; CreationPolicy?: unknown }>;
interface CfnTemplate {
  Resources: Resources;
  Parameters?: Record<string, { Type: string; Default?: string }>;
  Outputs?: Record<string, unknown>;
}

/** Synthesizes through the same path as bin/cdk.ts: `new LandingZone` in an App, then `app.synth()`. */
function synth(spec: LandingZoneSpec, validate: boolean): Map<string, CfnTemplate> {
  const app = new App({ context: validate ? CDK_CONTEXT : {}, builtinCloudFormationValidation: validate });
  new LandingZone(app, "Shop", { spec, account: "111111111111" });
  return new Map(app.synth().stacks.map((s) => [s.stackName, s.template as CfnTemplate]));
}

const ofType = (t: CfnTemplate, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const only = (t: CfnTemplate, type: string) => {
  const found = ofType(t, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const parameterOf = (t: CfnTemplate, name: string) => Object.entries(t.Parameters ?? {}).find(([, p]) => p.Default === name)![0];
const optionValue = (env: { Properties?: Record<string, unknown> }, namespace: string, optionName: string) =>
  (env.Properties!.OptionSettings as { Namespace: string; OptionName: string; Value: unknown }[]).find((o) => o.Namespace === namespace && o.OptionName === optionName)?.Value;

describe.each(["iaas", "paas"] as const)("LandingZone (examples/aws-%s) through the CDK app path", (tier) => {
  let templates: Map<string, CfnTemplate>;
  const template = (part: string) => templates.get(`shop-prod-${part}`)!;

  beforeAll(() => {
    // Strict flags: a CloudFormation schema error or an unacknowledged warning throws here.
    templates = synth(loadSpecFile(`examples/aws-${tier}/landing-zone.yaml`), true);
  });

  it("synthesizes the shared stacks and, per service, its registry's stack and its own stack", () => {
    expect(loadSpecFile(`examples/aws-${tier}/landing-zone.yaml`).tier).toBe(tier);
    expect([...templates.keys()].sort()).toEqual([...SHARED, ...SERVICES.flatMap((s) => [`delivery-${s}`, `svc-${s}`])].map((p) => `shop-prod-${p}`).sort());
  });

  it("keeps each service's repository in its delivery stack, deployed before the service, whose instances pull from it by name", () => {
    expect(ofType(template("platform"), "AWS::ECR::Repository")).toEqual([]);
    for (const service of SERVICES) {
      const [, repository] = only(template(`delivery-${service}`), "AWS::ECR::Repository");
      expect(repository.Properties!.RepositoryName, service).toBe(`shop-${service}`);
      const pull = ofType(template(`svc-${service}`), "AWS::IAM::Policy")
        .flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: { Sid?: string; Resource: unknown }[] }).Statement)
        .find((st) => st.Sid === "PullImage");
      expect(JSON.stringify(pull?.Resource), service).toContain(`:repository/shop-${service}`);
    }
  });

  it("keeps every stack inside CloudFormation's limits and imports no export into a service stack", () => {
    for (const [name, t] of templates) {
      const text = JSON.stringify(t);
      expect(Object.keys(t.Resources).length, name).toBeLessThan(400);
      expect((text.match(/\{\{resolve:/g) ?? []).length, name).toBeLessThan(48);
      if (name.includes("-svc-")) expect(text, name).not.toContain("Fn::ImportValue");
    }
  });

  it("runs Logstash on its own hosts, draining the buffer the services ship into", () => {
    const observability = template("observability");
    only(observability, "AWS::OpenSearchService::Domain");
    const [, logstash] = only(observability, "AWS::AutoScaling::AutoScalingGroup");
    expect(logstash.Properties).toMatchObject({ MinSize: "2", MaxSize: "2" });
    const userData = JSON.stringify(only(observability, "AWS::EC2::LaunchTemplate")[1].Properties);
    expect(userData).toContain("opensearchproject/logstash-oss-with-opensearch-output-plugin");
    expect(userData).toContain('data_type => \\"list\\"');
    const names = ofType(observability, "AWS::SSM::Parameter").map(([, r]) => r.Properties!.Name);
    expect(names).toEqual(expect.arrayContaining(["/msa/shop/prod/logging/buffer-host", "/msa/shop/prod/logging/buffer-secret-arn"]));
    // The buffer admits the services' workload security group, read from the platform's parameter.
    const workloads = parameterOf(observability, "/msa/shop/prod/platform/workload-security-group-id");
    expect(ofType(observability, "AWS::EC2::SecurityGroupIngress").map(([, r]) => r.Properties)).toEqual(
      expect.arrayContaining([expect.objectContaining({ FromPort: 6379, SourceSecurityGroupId: { Ref: workloads } })]),
    );
  });

  it("keeps each service's configuration and secrets in its own ConfigStore, one secret per key, handed to the instances by reference", () => {
    const orders = template("svc-orders");
    const [secretId, secret] = only(orders, "AWS::SecretsManager::Secret");
    expect(secretId).toMatch(/^Config/);
    expect(secret.Properties).toMatchObject({ Name: "msa/shop/prod/orders/SIGNING_KEY", GenerateSecretString: { PasswordLength: 32 } });
    const [parameterId, parameter] = only(orders, "AWS::SSM::Parameter");
    expect(parameterId).toMatch(/^Config/);
    expect(parameter.Properties).toMatchObject({ Name: "/msa/shop/prod/config/orders/ORDER_TIMEOUT_SECONDS", Value: "30" });
    for (const [name, t] of templates) if (name.includes("-svc-")) expect(JSON.stringify(t), name).not.toContain("{{resolve:secretsmanager");
    const statements = ofType(orders, "AWS::IAM::Policy").flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
    const token = { Ref: parameterOf(orders, "/msa/shop/prod/sessions/auth-token-arn") };
    expect(statements.find((st) => st.Sid === "ReadSecrets")!.Resource).toEqual(expect.arrayContaining([{ Ref: secretId }, token]));
    expect(statements.find((st) => st.Sid === "ReadConfig")!.Action).toEqual(["ssm:GetParameters", "ssm:GetParametersByPath"]);
    if (tier === "iaas") {
      const userData = JSON.stringify(only(orders, "AWS::EC2::LaunchTemplate")[1].Properties);
      expect(userData).toContain("--path '/msa/shop/prod/config/orders/'");
      expect(userData).toContain(`--secret-id '",{"Ref":"${secretId}"}`);
    } else {
      const [, environment] = only(orders, "AWS::ElasticBeanstalk::Environment");
      expect(JSON.stringify(optionValue(environment, "aws:elasticbeanstalk:application:environmentsecrets", "ORDER_TIMEOUT_SECONDS"))).toContain(`{"Ref":"${parameterId}"}`);
    }
  });

  it("gives every service the session store's endpoint, and its AUTH token only by reference", () => {
    const platform = template("platform");
    const published = Object.fromEntries(ofType(platform, "AWS::SSM::Parameter").map(([, r]) => [r.Properties!.Name, r.Properties!.Value]));
    expect(published["/msa/shop/prod/sessions/auth-token-arn"]).toEqual({ Ref: expect.stringMatching(/^Sessions/) });
    for (const service of SERVICES) {
      const t = template(`svc-${service}`);
      const ref = (name: string) => ({ Ref: parameterOf(t, `/msa/shop/prod/sessions/${name}`) });
      if (tier === "iaas") {
        const userData = JSON.stringify(only(t, "AWS::EC2::LaunchTemplate")[1].Properties);
        expect(userData, service).toContain(`SESSION_STORE_ENDPOINT=",${JSON.stringify(ref("endpoint"))},":",${JSON.stringify(ref("port"))}`);
        expect(userData, service).toContain("SESSION_STORE_TLS=true");
        expect(userData, service).toContain(
          `value=\\"$(aws secretsmanager get-secret-value --region 'ap-northeast-2' --secret-id '",${JSON.stringify(ref("auth-token-arn"))},"' --query SecretString --output text)\\"; printf 'SESSION_STORE_PASSWORD=%s\\\\n' \\"$value\\" >> /etc/msa/service.env`,
        );
      } else {
        const [, environment] = only(t, "AWS::ElasticBeanstalk::Environment");
        expect(optionValue(environment, "aws:elasticbeanstalk:application:environment", "SESSION_STORE_ENDPOINT"), service).toEqual({ "Fn::Join": ["", [ref("endpoint"), ":", ref("port")]] });
        expect(optionValue(environment, "aws:elasticbeanstalk:application:environment", "SESSION_STORE_TLS"), service).toBe("true");
        expect(optionValue(environment, "aws:elasticbeanstalk:application:environmentsecrets", "SESSION_STORE_PASSWORD"), service).toEqual(ref("auth-token-arn"));
      }
    }
  });

  it("gives each service a dashboard and alarms from its own stack, notifying the observability stack's topic", () => {
    const observability = template("observability");
    const [topicId] = only(observability, "AWS::SNS::Topic");
    expect(ofType(observability, "AWS::SSM::Parameter").find(([, p]) => p.Properties!.Name === "/msa/shop/prod/observability/alarm-topic-arn")![1].Properties!.Value).toEqual({ Ref: topicId });
    expect(ofType(observability, "AWS::EKS::Addon")).toEqual([]);
    const orders = template("svc-orders");
    const topic = { Ref: parameterOf(orders, "/msa/shop/prod/observability/alarm-topic-arn") };
    const alarms = ofType(orders, "AWS::CloudWatch::Alarm").map(([, a]) => a.Properties as Record<string, any>);
    expect(alarms.map((a) => [a.AlarmName, a.Threshold])).toEqual([
      ["shop-prod-orders-server-errors", 2],
      ["shop-prod-orders-latency", 1.5],
      ["shop-prod-orders-unhealthy-hosts", 1],
      ...(tier === "iaas" ? [["shop-prod-orders-memory", 90]] : []),
    ]);
    for (const a of alarms) expect(a.AlarmActions).toEqual([topic]);
    const errors = alarms[0]!.Metrics[0].MetricStat.Metric;
    if (tier === "iaas") {
      const [targetGroupId] = only(orders, "AWS::ElasticLoadBalancingV2::TargetGroup");
      expect(errors.Dimensions).toEqual([
        { Name: "TargetGroup", Value: { "Fn::GetAtt": [targetGroupId, "TargetGroupFullName"] } },
        { Name: "LoadBalancer", Value: { Ref: parameterOf(orders, "/msa/shop/prod/gateway/load-balancers/0/metric-name") } },
      ]);
      expect(alarms[3]!.Metrics[0].MetricStat.Metric).toEqual({ Namespace: "MSA/shop/prod", MetricName: "mem_used_percent", Dimensions: [{ Name: "AutoScalingGroupName", Value: "shop-prod-orders" }] });
      const published = ofType(template("platform"), "AWS::SSM::Parameter").find(([, p]) => p.Properties!.Name === "/msa/shop/prod/gateway/load-balancers/0/metric-name")![1];
      expect(published.Properties!.Value).toEqual({ "Fn::GetAtt": [expect.stringMatching(/LoadBalancer0/), "LoadBalancerFullName"] });
    } else {
      expect(errors).toEqual({ Namespace: "AWS/ElasticBeanstalk", MetricName: "ApplicationRequestsTotal", Dimensions: [{ Name: "EnvironmentName", Value: "shop-prod-orders" }] });
    }
    expect(only(orders, "AWS::CloudWatch::Dashboard")[1].Properties).toMatchObject({ DashboardName: "shop-prod-orders" });
  });

  it("attaches each service to the gateway from its own stack, with its planned priority and the JWT authorizer", () => {
    const orders = template("svc-orders");
    const routes = ofType(orders, "AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties!);
    // The platform's catch-all reaches the load balancer, whose rule for /orders routes it; no API parameter is read.
    expect(routes).toEqual([]);
    expect(Object.values(orders.Parameters ?? {}).map((p) => String(p.Default)).filter((name) => /gateway\/(api-id|authorizer-id)|integration-id/.test(name))).toEqual([]);
    const catchAll = ofType(template("platform"), "AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties!);
    expect(catchAll.map((r) => [r.RouteKey, r.AuthorizationType]).sort()).toEqual([["ANY /", "JWT"], ["ANY /{proxy+}", "JWT"]]);
    expect(JSON.stringify(orders)).not.toContain("Fn::ImportValue");
  });

  if (tier === "iaas") {
    it("runs each service as an Auto Scaling group of hardened AL2023 instances behind its target group", () => {
      const orders = template("svc-orders");
      const [, launchTemplate] = only(orders, "AWS::EC2::LaunchTemplate");
      const data = launchTemplate.Properties!.LaunchTemplateData as Record<string, unknown>;
      expect(data).toMatchObject({
        ImageId: { Ref: parameterOf(orders, "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64") },
        InstanceType: "m6i.large",
        MetadataOptions: { HttpTokens: "required", HttpPutResponseHopLimit: 2 },
        BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { Encrypted: true, VolumeType: "gp3", VolumeSize: 30 } }],
        NetworkInterfaces: [{ AssociatePublicIpAddress: false, Groups: [{ Ref: parameterOf(orders, "/msa/shop/prod/platform/workload-security-group-id") }] }],
      });
      expect(data).not.toHaveProperty("KeyName");
      const [targetGroupId, targetGroup] = only(orders, "AWS::ElasticLoadBalancingV2::TargetGroup");
      expect(targetGroup.Properties).toMatchObject({ TargetType: "instance", Port: 8080, HealthCheckPath: "/health" });
      expect(only(orders, "AWS::ElasticLoadBalancingV2::ListenerRule")[1].Properties).toMatchObject({
        Priority: 1,
        ListenerArn: { Ref: parameterOf(orders, "/msa/shop/prod/gateway/load-balancers/0/listener-arn") },
      });
      const [, asg] = only(orders, "AWS::AutoScaling::AutoScalingGroup");
      const subnets = parameterOf(orders, "/msa/shop/prod/network/private-subnet-ids");
      expect(asg.Properties).toMatchObject({
        AutoScalingGroupName: "shop-prod-orders",
        MinSize: "2",
        MaxSize: "6",
        HealthCheckType: "ELB",
        TargetGroupARNs: [{ Ref: targetGroupId }],
        VPCZoneIdentifier: [0, 1, 2].map((i) => ({ "Fn::Select": [i, { "Fn::Split": [",", { Ref: subnets }] }] })),
        LifecycleHookSpecificationList: [{ LifecycleHookName: "msa-deregister", LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING", DefaultResult: "CONTINUE", HeartbeatTimeout: 120 }],
      });
      expect(asg.UpdatePolicy).toMatchObject({ AutoScalingRollingUpdate: { MaxBatchSize: 1, WaitOnResourceSignals: true } });
      expect(asg.CreationPolicy).toEqual({ ResourceSignal: { Count: 2, Timeout: "PT15M" } });
    });

    it("registers each service in the Cloud Map namespace with a role scoped to its own entry", () => {
      const platform = template("platform");
      expect(only(platform, "AWS::ServiceDiscovery::PrivateDnsNamespace")[1].Properties).toMatchObject({ Name: "prod.shop.internal" });
      const orders = template("svc-orders");
      const [registryId, registry] = only(orders, "AWS::ServiceDiscovery::Service");
      expect(registry.Properties).toMatchObject({ Name: "orders", DnsConfig: { DnsRecords: [{ Type: "A", TTL: 10 }], RoutingPolicy: "MULTIVALUE" } });
      const statements = ofType(orders, "AWS::IAM::Policy").flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
      expect(statements).toEqual(
        expect.arrayContaining([
          {
            Sid: "Register",
            Effect: "Allow",
            Action: ["servicediscovery:DeregisterInstance", "servicediscovery:RegisterInstance"],
            Resource: { "Fn::GetAtt": [registryId, "Arn"] },
          },
          expect.objectContaining({ Sid: "CompleteTerminationHook", Action: "autoscaling:CompleteLifecycleAction" }),
        ]),
      );
      const roles = ofType(orders, "AWS::IAM::Role").map(([, r]) => JSON.stringify(r.Properties!.ManagedPolicyArns));
      expect(roles.join()).toContain("AmazonSSMManagedInstanceCore");
      const userData = JSON.stringify(only(orders, "AWS::EC2::LaunchTemplate")[1].Properties);
      expect(userData).toContain("msa-registry register");
      expect(userData).toContain("msa-registry deregister");
      expect(userData).toContain(`SERVICE_ID='",{"Fn::GetAtt":["${registryId}","Id"]}`);
    });
  }

  if (tier === "paas") {
    it("runs each service as a Docker Beanstalk environment on the gateway's shared internal load balancer", () => {
      const platform = template("platform");
      expect(only(platform, "AWS::ElasticBeanstalk::Application")[1].Properties).toMatchObject({ ApplicationName: "shop-prod" });
      only(platform, "AWS::ServiceDiscovery::HttpNamespace");
      const orders = template("svc-orders");
      const [, environment] = only(orders, "AWS::ElasticBeanstalk::Environment");
      expect(environment.Properties).toMatchObject({ ApplicationName: "shop-prod", EnvironmentName: "shop-prod-orders", SolutionStackName: expect.stringMatching(/Amazon Linux 2023 .* running Docker$/) });
      expect(optionValue(environment, "aws:elbv2:loadbalancer", "SharedLoadBalancer")).toEqual({ Ref: parameterOf(orders, "/msa/shop/prod/gateway/load-balancers/0/arn") });
      expect(optionValue(environment, "aws:autoscaling:asg", "MinSize")).toBe("2");
      expect(optionValue(environment, "aws:elasticbeanstalk:healthreporting:system", "SystemType")).toBe("enhanced");
      expect(optionValue(environment, "aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled")).toBe("true");
      expect(optionValue(environment, "aws:elasticbeanstalk:cloudwatch:logs", "StreamLogs")).toBe("true");
      const [secretId] = only(orders, "AWS::SecretsManager::Secret");
      expect(optionValue(environment, "aws:elasticbeanstalk:application:environmentsecrets", "SIGNING_KEY")).toEqual({ Ref: secretId });
      // Enhanced health publishes the environment metrics the service's dashboard and alarms read.
      expect(JSON.parse(optionValue(environment, "aws:elasticbeanstalk:healthreporting:system", "ConfigDocument") as string)).toEqual({
        Version: 1,
        CloudWatchMetrics: { Environment: Object.fromEntries(BEANSTALK_ENVIRONMENT_METRICS.map((m) => [m, 60])) },
      });
      expect(only(orders, "AWS::ElasticBeanstalk::ApplicationVersion")[1].Properties).toMatchObject({ SourceBundle: { S3Key: expect.stringMatching(/\.zip$/) } });
      // The environment adds its own path rule (from its bundle) to the path listener it is told of; Beanstalk owns its target group.
      expect(optionValue(environment, "aws:elasticbeanstalk:customoption", "GatewayPathListenerArn")).toEqual({ Ref: parameterOf(orders, "/msa/shop/prod/gateway/load-balancers/0/listener-arn") });
      expect(ofType(orders, "AWS::ApiGatewayV2::Integration")).toEqual([]);
      expect(ofType(orders, "AWS::ElasticLoadBalancingV2::TargetGroup")).toEqual([]);
      // Port 80 keeps Beanstalk's host rules (services calling each other by host name); the API and path rules use their own listener.
      const platformListeners = ofType(platform, "AWS::ElasticLoadBalancingV2::Listener").map(([, l]) => l.Properties!.Port);
      expect(platformListeners.sort()).toEqual([80, 8080]);
      const published = ofType(platform, "AWS::SSM::Parameter").find(([, p]) => p.Properties!.Name === "/msa/shop/prod/gateway/load-balancers/0/listener-arn")![1];
      const [pathListenerId] = ofType(platform, "AWS::ElasticLoadBalancingV2::Listener").find(([, l]) => l.Properties!.Port === 8080)!;
      expect(published.Properties!.Value).toEqual({ Ref: pathListenerId });
      const [, registration] = only(orders, "AWS::ServiceDiscovery::Instance");
      expect(registration.Properties).toMatchObject({ InstanceId: "shop-prod-orders", InstanceAttributes: { port: "80" } });
    });
  }
});

describe.each(["iaas", "paas"] as const)("LandingZone (aws/%s) delegating to a dedicated auth service", (tier) => {
  let templates: Map<string, CfnTemplate>;
  beforeAll(() => {
    const base = loadSpecFile(`examples/aws-${tier}/landing-zone.yaml`);
    templates = synth(
      {
        ...base,
        gateway: { ...base.gateway, auth: "authorizer", authorizerCacheSeconds: 60 },
        auth: { ...base.auth, service: "auth" },
        services: [...base.services, { ...base.services[2]!, name: "auth", path: "/auth", publishes: [], subscribes: [], secrets: [], config: {} }],
      },
      false,
    );
  });

  it("asks the auth service through a VPC Lambda authorizer and leaves only the auth service's own routes open", () => {
    const platform = templates.get("shop-prod-platform")!;
    expect(ofType(platform, "AWS::Cognito::UserPool")).toEqual([]);
    const [, fn] = ofType(platform, "AWS::Lambda::Function").find(([id]) => id.startsWith("GatewayAuthorizer"))!;
    const url = JSON.stringify((fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables["AUTHORIZE_URL"]);
    // The path rules answer on the load balancer's own name; on Beanstalk load balancers on the path listener's port.
    const port = tier === "paas" ? ":8080" : "";
    expect(url).toBe(JSON.stringify({ "Fn::Join": ["", ["http://", { "Fn::GetAtt": [ofType(platform, "AWS::ElasticLoadBalancingV2::LoadBalancer")[0]![0], "DNSName"] }, `${port}/auth/authorize`]] }));
    const [authorizerId, authorizer] = only(platform, "AWS::ApiGatewayV2::Authorizer");
    expect(authorizer.Properties).toMatchObject({ AuthorizerType: "REQUEST", AuthorizerResultTtlInSeconds: 60 });
    const published = ofType(platform, "AWS::SSM::Parameter").find(([, p]) => p.Properties!.Name === "/msa/shop/prod/gateway/authorizer-id")![1];
    expect(published.Properties!.Value).toEqual({ Ref: authorizerId });
    // The platform's catch-all serves every checked route and only the auth service's open ones remain.
    const catchAll = ofType(platform, "AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties!);
    expect(catchAll.map((r) => r.RouteKey).sort()).toEqual(["ANY /", "ANY /{proxy+}"]);
    for (const route of catchAll) expect(route).toMatchObject({ AuthorizationType: "CUSTOM", AuthorizerId: { Ref: authorizerId } });
    for (const service of ["auth", ...SERVICES]) {
      const t = templates.get(`shop-prod-svc-${service}`)!;
      const routes = ofType(t, "AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties!);
      expect(routes.length, service).toBe(service === "auth" ? 2 : 0);
      for (const route of routes) {
        if (service === "auth") expect(route.AuthorizationType, String(route.RouteKey)).toBe("NONE");
        else expect(route, String(route.RouteKey)).toMatchObject({ AuthorizationType: "CUSTOM", AuthorizerId: { Ref: parameterOf(t, "/msa/shop/prod/gateway/authorizer-id") } });
      }
    }
  });
});

describe("LandingZone across tiers", () => {
  const base = loadSpecFile("examples/aws-iaas/landing-zone.yaml");
  const byTier = new Map<string, Map<string, CfnTemplate>>();
  const at = (tier: string) => byTier.get(tier)!;

  beforeAll(() => {
    for (const tier of ["iaas", "caas", "paas"] as const) byTier.set(tier, synth({ ...base, tier }, false));
  });

  it("changes the platform with the tier and keeps network, broker, gateway, sessions and logging", () => {
    const compute = { iaas: "AWS::AutoScaling::AutoScalingGroup", caas: "AWS::EKS::Cluster", paas: "AWS::ElasticBeanstalk::Application" };
    for (const [tier, type] of Object.entries(compute)) {
      expect(ofType(at(tier).get("shop-prod-platform")!, type).length, tier).toBe(tier === "iaas" ? 0 : 1);
    }
    expect(ofType(at("iaas").get("shop-prod-svc-orders")!, compute.iaas)).toHaveLength(1);
    expect(ofType(at("paas").get("shop-prod-svc-orders")!, "AWS::ElasticBeanstalk::Environment")).toHaveLength(1);

    const settings = (tier: string, stack: string, type: string) =>
      ofType(at(tier).get(`shop-prod-${stack}`)!, type).map(([, r]) => JSON.stringify(r.Properties, (key, value) => (key === "Tags" || key === "SubnetIds" ? undefined : value)));
    for (const tier of ["caas", "paas"]) {
      // EKS tags the subnets it may place load balancers in; everything else about the network is the same.
      for (const type of ["AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::NatGateway", "AWS::EC2::FlowLog"]) expect(settings(tier, "network", type), `${tier} ${type}`).toEqual(settings("iaas", "network", type));
      expect(JSON.stringify(at(tier).get("shop-prod-messaging")), tier).toBe(JSON.stringify(at("iaas").get("shop-prod-messaging")));
      // Beanstalk keeps port 80 for its host rules, so paas load balancers add a path listener (tested with the paas example).
      const listeners = settings(tier, "platform", "AWS::ElasticLoadBalancingV2::Listener");
      expect(tier === "paas" ? listeners.filter((l) => !l.includes('"Port":8080')) : listeners, `${tier} listeners`).toEqual(settings("iaas", "platform", "AWS::ElasticLoadBalancingV2::Listener"));
      // On EKS the load balancers sit in the public subnets, where no pod lives (plan.gateway.loadBalancerSubnets); the rest is the same.
      const balancers = (t: string) => ofType(at(t).get("shop-prod-platform")!, "AWS::ElasticLoadBalancingV2::LoadBalancer").map(([, r]) => r.Properties as Record<string, unknown>);
      const withoutSubnets = (t: string) => balancers(t).map(({ Subnets: _subnets, Tags: _tags, ...rest }) => rest);
      expect(withoutSubnets(tier), `${tier} load balancers`).toEqual(withoutSubnets("iaas"));
      for (const properties of balancers(tier)) expect(JSON.stringify(properties["Subnets"]), tier).toMatch(tier === "caas" ? /PublicSubnet/ : /PrivateSubnet/);
      expect(JSON.stringify(balancers(tier).map((p) => p["Subnets"])), tier).not.toMatch(tier === "caas" ? /PrivateSubnet/ : /PublicSubnet/);
      for (const type of ["AWS::WAFv2::WebACL", "AWS::ApiGatewayV2::Stage", "AWS::ApiGatewayV2::Authorizer", "AWS::Cognito::UserPool", "AWS::ElastiCache::ReplicationGroup"]) {
        expect(settings(tier, "platform", type), `${tier} ${type}`).toEqual(settings("iaas", "platform", type));
      }
      for (const type of ["AWS::OpenSearchService::Domain", "AWS::ElastiCache::ReplicationGroup"]) expect(settings(tier, "observability", type), `${tier} ${type}`).toEqual(settings("iaas", "observability", type));
    }
  });

  it.each(["iaas", "caas", "paas"])("changes only the service's own template when its image, port and replicas change (%s)", (tier) => {
    const spec: LandingZoneSpec = { ...base, tier: tier as LandingZoneSpec["tier"] };
    const changed: LandingZoneSpec = {
      ...spec,
      services: spec.services.map((s) => (s.name === "payments" ? { ...s, image: "registry.example.com/payments:2.0.0", port: 9090, replicas: { min: 3, max: 9 } } : s)),
    };
    const before = at(tier);
    const after = synth(changed, false);
    const differing = [...before.keys()].filter((name) => JSON.stringify(before.get(name)) !== JSON.stringify(after.get(name)));
    expect(differing).toEqual(["shop-prod-svc-payments"]);
    const payments = Template.fromJSON(after.get("shop-prod-svc-payments")!);
    if (tier === "iaas") payments.hasResourceProperties("AWS::AutoScaling::AutoScalingGroup", { MinSize: "3", MaxSize: "9" });
    if (tier === "paas") expect(JSON.stringify(after.get("shop-prod-svc-payments"))).toContain('"Value":"registry.example.com/payments:2.0.0"');
    if (tier !== "paas") payments.hasResourceProperties("AWS::ElasticLoadBalancingV2::TargetGroup", { Port: 9090 });
  });
});
