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
 * `<name>-<env>-observability`: the ELK pipeline (OpenSearch, the Redis buffer, and Logstash with
 * the shippers on the cluster). It reaches the cluster through the platform's SSM parameters, so
 * its in-cluster part lives and changes in this stack.
 */
export class ObservabilityStack extends PlanStack {
  readonly logging: LogPipeline;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { plan, vpc } = props;
    const logging = plan.logging;
    if (!logging) throw new Error(`ObservabilityStack: plan.logging is undefined. Fix: set logging.stack: elk, or leave this stack out`);
    const read = (parameterName: string) => ssm.StringParameter.valueForStringParameter(this, parameterName);
    const target = KubernetesPlatform.fromPlatformAttributes(this, "Platform", {
      clusterName: read(sharedParameters.clusterName(plan)),
      kubectlServiceToken: read(sharedParameters.kubectlServiceToken(plan)),
      workloadSecurityGroupId: read(sharedParameters.workloadSecurityGroupId(plan)),
      namespace: workloadNamespace(plan),
    });
    const { search, buffer } = logging;
    this.logging = new LogPipeline(this, "Logging", {
      vpc,
      engineVersion: search.engineVersion,
      instanceType: search.instanceType,
      instanceCount: search.instanceCount,
      dedicatedMasters: search.dedicatedMasters,
      masterInstanceType: search.masterInstanceType,
      volumeGiB: search.volumeGiB,
      zoneAwareness: search.zoneAwareness,
      buffer: buffer ? { nodeType: buffer.nodeType, replicas: buffer.replicas, multiAz: buffer.multiAz, engineVersion: buffer.engineVersion, port: buffer.port } : false,
      removalPolicy: plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      target,
      plan,
    });
  }
}
