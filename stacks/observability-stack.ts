import { RemovalPolicy, Validations, aws_ec2 as ec2, aws_ssm as ssm } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { ContainerInsights } from "../lib/cdk/container-insights.js";
import { KubernetesPlatform } from "../lib/cdk/kubernetes-platform.js";
import { LogPipeline } from "../lib/cdk/log-pipeline.js";
import { Monitoring } from "../lib/cdk/monitoring.js";
import { Tracing } from "../lib/cdk/tracing.js";
import { workloadNamespace } from "../lib/kubernetes/namespace.js";
import { cloudWatchMonitors } from "../lib/plan/monitoring.js";
import { PlanStack, acknowledgeSingleZoneRedis, type PlanStackProps } from "./plan-stack.js";
import { readParameter, sharedParameters } from "./shared-parameters.js";

export interface ObservabilityStackProps extends PlanStackProps {
  /** The VPC from the network stack. */
  readonly vpc: ec2.IVpc;
}

/**
 * `<name>-<env>-observability`: the ELK pipeline (OpenSearch, the Redis buffer, and Logstash), the
 * alarm topic with the gateway's dashboard and alarms, Container Insights and the OpenTelemetry
 * collector, each when the plan asks. On caas, Logstash, the shippers, Container Insights and the
 * collector run on the cluster named by the platform's SSM parameters; on iaas and paas, Logstash
 * runs on its own small Auto Scaling group and the services' hosts ship into the buffer, whose
 * address and token this stack publishes for them. It publishes the alarm topic for the service
 * stacks' own alarms.
 */
export class ObservabilityStack extends PlanStack {
  readonly logging?: LogPipeline;
  readonly monitoring?: Monitoring;
  readonly containerInsights?: ContainerInsights;
  readonly tracing?: Tracing;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { plan, vpc } = props;
    if (!plan.logging && !plan.monitoring && !plan.tracing) {
      throw new Error(`ObservabilityStack: the plan has no logging, monitoring or tracing. Fix: turn one of them on in the spec, or leave this stack out`);
    }
    const read = (parameterName: string) => readParameter(this, parameterName);
    const clusterName = plan.cluster ? read(sharedParameters.clusterName(plan)) : undefined;
    const target = clusterName
      ? KubernetesPlatform.fromPlatformAttributes(this, "Platform", {
          clusterName,
          kubectlServiceToken: read(sharedParameters.kubectlServiceToken(plan)),
          workloadSecurityGroupId: read(sharedParameters.workloadSecurityGroupId(plan)),
          namespace: workloadNamespace(plan),
        })
      : undefined;
    const removalPolicy = plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const logging = plan.logging;
    if (logging) {
      const { search, buffer } = logging;
      const common = {
        vpc,
        engineVersion: search.engineVersion,
        instanceType: search.instanceType,
        instanceCount: search.instanceCount,
        dedicatedMasters: search.dedicatedMasters,
        masterInstanceType: search.masterInstanceType,
        volumeGiB: search.volumeGiB,
        zoneAwareness: search.zoneAwareness,
        logEncryptionKey: this.logKey,
        buffer: buffer ? { nodeType: buffer.nodeType, replicas: buffer.replicas, multiAz: buffer.multiAz, engineVersion: buffer.engineVersion, port: buffer.port } : (false as const),
        removalPolicy,
      };
      if (target) {
        this.logging = new LogPipeline(this, "Logging", { ...common, target, plan });
      } else {
        const shippers = ec2.SecurityGroup.fromSecurityGroupId(this, "Workloads", read(sharedParameters.workloadSecurityGroupId(plan)), { mutable: false });
        this.logging = new LogPipeline(this, "Logging", { ...common, hosts: { plan, shippers } });
        const bufferStore = this.logging.buffer!;
        new ssm.StringParameter(this, "LogBufferHostParameter", { parameterName: sharedParameters.logBufferHost(plan), stringValue: bufferStore.endpoint });
        new ssm.StringParameter(this, "LogBufferSecretArnParameter", { parameterName: sharedParameters.logBufferSecretArn(plan), stringValue: bufferStore.authToken.secretArn });
      }
      if (this.logging.buffer && buffer && !buffer.multiAz) acknowledgeSingleZoneRedis(this.logging.buffer, plan);
      const dev = `The ${plan.environment} landing zone sizes its log domain as one data node to keep its cost low; losing it loses only recent diagnostics, and prod runs three nodes over three zones with dedicated masters.`;
      if (search.dedicatedMasters === 0) Validations.of(this.logging.domain.node.defaultChild!).acknowledge({ id: "AwsSolutions::AwsSolutions-OS4", reason: dev });
      if (!search.zoneAwareness) Validations.of(this.logging.domain.node.defaultChild!).acknowledge({ id: "AwsSolutions::AwsSolutions-OS7", reason: dev });
    }

    const monitoring = plan.monitoring;
    if (monitoring) {
      this.monitoring = new Monitoring(this, "Monitoring", {
        topicName: monitoring.topicName,
        ...(monitoring.alarmEmail ? { alarmEmail: monitoring.alarmEmail } : {}),
        monitors: cloudWatchMonitors(plan).filter((m) => m.name === "gateway"),
        dimensions: { gateway: { apiId: read(sharedParameters.gatewayApiId(plan)) } },
        dashboards: monitoring.dashboards,
        removalPolicy,
      });
      new ssm.StringParameter(this, "AlarmTopicArnParameter", { parameterName: sharedParameters.alarmTopicArn(plan), stringValue: this.monitoring.alarmTopic.topicArn });
      if (clusterName) this.containerInsights = new ContainerInsights(this, "ContainerInsights", { clusterName });
    }

    // On VMs and Beanstalk each service's instances run their own collector (lib/plan/host-bootstrap.ts).
    if (plan.tracing && plan.tier === "caas") {
      if (!target) throw new Error(`ObservabilityStack: the OpenTelemetry collector runs on the cluster, but plan.cluster is undefined. Fix: set tier: caas, or tracing.backend: none`);
      this.tracing = new Tracing(this, "Tracing", { target, plan });
    }
  }
}
