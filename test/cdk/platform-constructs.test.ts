import { App, Stack, Validations, aws_sns as sns } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { describe, expect, it } from "vitest";
import { ConfigStore } from "../../lib/cdk/config-store.js";
import { ContainerInsights } from "../../lib/cdk/container-insights.js";
import { KubernetesPlatform } from "../../lib/cdk/kubernetes-platform.js";
import { Monitoring } from "../../lib/cdk/monitoring.js";
import { Tracing } from "../../lib/cdk/tracing.js";
import { cloudWatchMonitors, planLandingZone, serviceConfigOf } from "../../lib/plan/index.js";

const STRICT = { "@aws-cdk/core:validateAgainstDefaultRules": true, "@aws-cdk/core:strictCfnValidateErrors": true };
const plan = planLandingZone({
  name: "shop",
  environment: "prod",
  config: { values: { LOG_LEVEL: "info" } },
  services: [{ name: "orders", secrets: ["SIGNING_KEY"], config: { TIMEOUT: "30" } }],
  tracing: { backend: "zipkin" },
  monitoring: { alarmEmail: "ops@example.com" },
});

function newStack(validate = true) {
  const app = new App({ context: validate ? STRICT : {}, builtinCloudFormationValidation: validate });
  const stack = new Stack(app, "Observability", { env: { account: "123456789012", region: "ap-northeast-2" } });
  return { app, stack };
}

const imported = (stack: Stack) =>
  KubernetesPlatform.fromPlatformAttributes(stack, "Platform", { clusterName: "shop-prod", kubectlServiceToken: "arn:aws:lambda:ap-northeast-2:123456789012:function:kubectl", namespace: "shop" });

describe("Monitoring", () => {
  it("creates the KMS-encrypted topic with the email subscription, and builds each monitor's dashboard and alarms on it", () => {
    const { app, stack } = newStack();
    const monitors = cloudWatchMonitors(plan);
    const monitoring = new Monitoring(stack, "Monitoring", {
      topicName: "shop-prod-alarms",
      alarmEmail: "ops@example.com",
      monitors,
      dimensions: { gateway: { apiId: "abc123" }, orders: { targetGroup: "targetgroup/tg/1", loadBalancer: "app/lb/2", clusterName: "shop-prod" } },
    });
    app.synth();
    const template = Template.fromStack(stack);
    template.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "ops@example.com" });
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 2);
    template.resourceCountIs("AWS::CloudWatch::Alarm", monitors.flatMap((m) => m.alarms).length);
    const topic = stack.getLogicalId(monitoring.alarmTopic.node.defaultChild as never);
    for (const alarm of Object.values(template.findResources("AWS::CloudWatch::Alarm"))) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
      expect(alarm.Properties.TreatMissingData).toBe("notBreaching");
    }
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmName: "shop-prod-orders-memory",
      Metrics: [{ Id: "memory", ReturnData: true, MetricStat: { Stat: "Average", Period: 60, Metric: { Namespace: "ContainerInsights", MetricName: "pod_memory_utilization_over_pod_limit", Dimensions: [{ Name: "ClusterName", Value: "shop-prod" }, { Name: "Namespace", Value: "shop" }, { Name: "Service", Value: "orders" }] } }, Label: "Memory % of limit" }],
    });
    expect(monitoring.alarms.size).toBe(6);
  });

  it("uses a given topic without creating one, and leaves dashboards out when asked", () => {
    const { app, stack } = newStack();
    const topic = sns.Topic.fromTopicArn(stack, "Topic", "arn:aws:sns:ap-northeast-2:123456789012:shop-prod-alarms");
    const monitoring = new Monitoring(stack, "Monitoring", { alarmTopic: topic, monitors: cloudWatchMonitors(plan).filter((m) => m.name === "gateway"), dimensions: { gateway: { apiId: "abc123" } }, dashboards: false });
    app.synth();
    const template = Template.fromStack(stack);
    template.resourceCountIs("AWS::SNS::Topic", 0);
    template.resourceCountIs("AWS::KMS::Key", 0);
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 0);
    template.hasResourceProperties("AWS::CloudWatch::Alarm", { AlarmName: "shop-prod-gateway-latency", AlarmActions: ["arn:aws:sns:ap-northeast-2:123456789012:shop-prod-alarms"] });
    expect(monitoring.topicKey).toBeUndefined();
  });

  it("names a missing dimension and a duplicated monitor", () => {
    const { stack } = newStack(false);
    const monitors = cloudWatchMonitors(plan);
    expect(() => new Monitoring(stack, "A", { monitors })).toThrow('monitor "gateway" needs dimensions apiId, which are undefined. Fix: pass dimensions["gateway"].apiId');
    expect(() => new Monitoring(stack, "B", { monitors: [monitors[0]!, monitors[0]!], dimensions: { gateway: { apiId: "x" } } })).toThrow('monitor "gateway" is given twice');
  });
});

describe("ConfigStore", () => {
  it("creates one parameter per configuration value under the service's path and one generated secret per key", () => {
    const { app, stack } = newStack();
    const store = new ConfigStore(stack, "Config", { config: serviceConfigOf(plan.configStore!, "orders") });
    app.synth();
    const template = Template.fromStack(stack);
    template.hasResourceProperties("AWS::SSM::Parameter", { Name: "/msa/shop/prod/config/orders/TIMEOUT", Value: "30" });
    template.hasResourceProperties("AWS::SSM::Parameter", { Name: "/msa/shop/prod/config/orders/LOG_LEVEL", Value: "info" });
    template.hasResource("AWS::SecretsManager::Secret", { Properties: { Name: "msa/shop/prod/orders/SIGNING_KEY" }, DeletionPolicy: "Retain" });
    expect([...store.parameters.keys()].sort()).toEqual(["LOG_LEVEL", "TIMEOUT"]);
    expect([...store.secrets.keys()]).toEqual(["SIGNING_KEY"]);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/"SecretString":/);
  });

  it("rejects a path and a parameter outside it", () => {
    const { stack } = newStack(false);
    const config = serviceConfigOf(plan.configStore!, "orders");
    expect(() => new ConfigStore(stack, "A", { config: { ...config, parameterPath: "msa/x" } })).toThrow('config.parameterPath "msa/x" is not a parameter path');
    expect(() => new ConfigStore(stack, "B", { config: { ...config, parameters: [{ key: "X", name: "/elsewhere/X", value: "1" }] } })).toThrow('parameter X is named "/elsewhere/X", outside /msa/shop/prod/config/orders/');
  });
});

describe("Tracing and Container Insights", () => {
  it("deploys zipkin with the collector and no cloud identity when the backend is in the cluster", () => {
    const { app, stack } = newStack(false);
    const tracing = new Tracing(stack, "Tracing", { target: imported(stack), plan });
    app.synth();
    expect(tracing.exporter).toBe("zipkin");
    expect(tracing.identity).toBeUndefined();
    const template = Template.fromStack(stack);
    template.resourceCountIs("AWS::EKS::PodIdentityAssociation", 0);
    template.hasResourceProperties("Custom::AWSCDK-EKS-HelmChart", { Chart: "opentelemetry-collector", Namespace: "observability" });
    expect(JSON.stringify(template.toJSON())).toContain("openzipkin/zipkin");
  });

  it("refuses a plan without tracing", () => {
    const { stack } = newStack(false);
    expect(() => new Tracing(stack, "Tracing", { target: imported(stack), plan: planLandingZone({ name: "shop", tracing: { backend: "none" } }) })).toThrow("plan.tracing is undefined");
  });

  it("passes the AWS Solutions pack with X-Ray tracing, Container Insights, monitoring and a config store, each acknowledgement with a reason", () => {
    const { app, stack } = newStack(false);
    const xray = planLandingZone({ name: "shop", tracing: { backend: "xray" }, services: [{ name: "orders", secrets: ["SIGNING_KEY"] }] });
    new Tracing(stack, "Tracing", { target: imported(stack), plan: xray });
    new ContainerInsights(stack, "ContainerInsights", { clusterName: "shop-prod" });
    new Monitoring(stack, "Monitoring", { topicName: "shop-prod-alarms" });
    new ConfigStore(stack, "Config", { config: serviceConfigOf(xray.configStore!, "orders") });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const errors: string[] = [];
    try {
      app.synth();
    } catch (error) {
      errors.push(String(error));
    }
    expect(errors).toEqual([]);
    const reasons = stack.node
      .findAll()
      .flatMap((c: IConstruct) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(reasons.map(([id]) => id)).toEqual(
      expect.arrayContaining(["AwsSolutions::AwsSolutions-IAM5[Resource::*]", "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/CloudWatchAgentServerPolicy]", "AwsSolutions::AwsSolutions-SMG4"]),
    );
    for (const [id, reason] of reasons) expect(reason.length, id).toBeGreaterThan(30);
  });
});
