import { Fn, RemovalPolicy, Validations, aws_kms as kms, aws_ssm as ssm } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { createLogKey } from "../lib/cdk/log-key.js";
import { Network } from "../lib/cdk/network.js";
import { PlanStack, type PlanStackProps } from "./plan-stack.js";
import { sharedParameters } from "./shared-parameters.js";

export type NetworkStackProps = PlanStackProps;

/**
 * `<name>-<env>-network`: the VPC every other stack runs in; publishes its id and private subnets for
 * the service stacks, and the zone's log key (the flow-log key) that every stack's log groups use.
 */
export class NetworkStack extends PlanStack {
  readonly network: Network;
  private readonly ownLogKey: kms.IKey;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { network, protection } = props.plan;
    this.network = new Network(this, "Network", {
      availabilityZones: network.availabilityZones,
      cidr: network.cidr,
      subnetCidrs: network.subnets,
      natGateways: network.natGateways,
      flowLogs: network.flowLogs,
      flowLogRetentionDays: network.flowLogRetentionDays,
      removalPolicy: protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    Validations.of(this.network).acknowledge({
      id: "CloudFormation-Validate::W3010",
      reason: "Zones come from the plan so synthesis never needs an account lookup; the plan names them per region",
    });
    const { plan } = props;
    if (!network.flowLogs) {
      const off = "The spec turns VPC flow logs off (network.flowLogs: false); the gateway's access logs and its load balancers' logs still record every request that enters the zone.";
      Validations.of(this.network.vpc.node.defaultChild!).acknowledge(
        { id: "AwsSolutions::AwsSolutions-VPC7", reason: off },
        { id: "NIST.800.53.R5::NIST.800.53.R5-VPCFlowLogsEnabled", reason: off },
      );
    }
    this.ownLogKey =
      this.network.logKey ??
      createLogKey(this, "LogKey", { description: `Encrypts the CloudWatch log groups of ${plan.name}/${plan.environment}`, removalPolicy: protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY });
    new ssm.StringParameter(this, "LogKeyArnParameter", { parameterName: sharedParameters.logKeyArn(plan), stringValue: this.ownLogKey.keyArn });
    new ssm.StringParameter(this, "VpcIdParameter", { parameterName: sharedParameters.vpcId(plan), stringValue: this.network.vpc.vpcId });
    new ssm.StringParameter(this, "PrivateSubnetIdsParameter", {
      parameterName: sharedParameters.privateSubnetIds(plan),
      stringValue: Fn.join(",", this.network.vpc.selectSubnets(this.network.subnets.private).subnetIds),
    });
    // One parameter per isolated subnet: service stacks place their databases there, one subnet per zone.
    this.network.vpc.selectSubnets(this.network.subnets.isolated).subnets.forEach((subnet, i) => {
      new ssm.StringParameter(this, `IsolatedSubnet${i}Parameter`, { parameterName: sharedParameters.isolatedSubnetId(plan, i), stringValue: subnet.subnetId });
    });
  }

  /** Key of every CloudWatch log group of the landing zone in its region: the flow-log key, or one of its own without flow logs. */
  override get logKey(): kms.IKey {
    return this.ownLogKey;
  }
}
