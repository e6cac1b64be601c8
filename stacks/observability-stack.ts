import { RemovalPolicy, aws_ec2 as ec2, aws_ssm as ssm } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { KubernetesPlatform } from "../lib/cdk/kubernetes-platform.js";
import { LogPipeline } from "../lib/cdk/log-pipeline.js";
import { workloadNamespace } from "../lib/kubernetes/namespace.js";
import { PlanStack, type PlanStackProps } from "./plan-stack.js";
import { sharedParameters } from "./shared-parameters.js";

export interface ObservabilityStackProps extends PlanStackProps {
  /** The VPC from the network stack. */
  readonly vpc: ec2.IVpc;
}

/**
 * `<name>-<env>-observability`: the ELK pipeline (OpenSearch, the Redis buffer, and Logstash). On
 * caas, Logstash and the shippers run on the cluster named by the platform's SSM parameters; on
 * iaas and paas, Logstash runs on its own small Auto Scaling group and the services' hosts ship
 * into the buffer, whose address and token this stack publishes for them.
 */
export class ObservabilityStack extends PlanStack {
  readonly logging: LogPipeline;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { plan, vpc } = props;
    const logging = plan.logging;
    if (!logging) throw new Error(`ObservabilityStack: plan.logging is undefined. Fix: set logging.stack: elk, or leave this stack out`);
    const read = (parameterName: string) => ssm.StringParameter.valueForStringParameter(this, parameterName);
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
      buffer: buffer ? { nodeType: buffer.nodeType, replicas: buffer.replicas, multiAz: buffer.multiAz, engineVersion: buffer.engineVersion, port: buffer.port } : (false as const),
      removalPolicy: plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    };
    if (plan.tier === "caas") {
      const target = KubernetesPlatform.fromPlatformAttributes(this, "Platform", {
        clusterName: read(sharedParameters.clusterName(plan)),
        kubectlServiceToken: read(sharedParameters.kubectlServiceToken(plan)),
        workloadSecurityGroupId: read(sharedParameters.workloadSecurityGroupId(plan)),
        namespace: workloadNamespace(plan),
      });
      this.logging = new LogPipeline(this, "Logging", { ...common, target, plan });
      return;
    }
    const shippers = ec2.SecurityGroup.fromSecurityGroupId(this, "Workloads", read(sharedParameters.workloadSecurityGroupId(plan)), { mutable: false });
    this.logging = new LogPipeline(this, "Logging", { ...common, hosts: { plan, shippers } });
    const bufferStore = this.logging.buffer!;
    new ssm.StringParameter(this, "LogBufferHostParameter", { parameterName: sharedParameters.logBufferHost(plan), stringValue: bufferStore.endpoint });
    new ssm.StringParameter(this, "LogBufferSecretArnParameter", { parameterName: sharedParameters.logBufferSecretArn(plan), stringValue: bufferStore.authToken.secretArn });
  }
}
