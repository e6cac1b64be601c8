import { Fn, RemovalPolicy, Validations, aws_ssm as ssm } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { Network } from "../lib/cdk/network.js";
import { PlanStack, type PlanStackProps } from "./plan-stack.js";
import { sharedParameters } from "./shared-parameters.js";

export type NetworkStackProps = PlanStackProps;

/** `<name>-<env>-network`: the VPC every other stack runs in; publishes its id and private subnets for the service stacks. */
export class NetworkStack extends PlanStack {
  readonly network: Network;

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
    new ssm.StringParameter(this, "VpcIdParameter", { parameterName: sharedParameters.vpcId(plan), stringValue: this.network.vpc.vpcId });
    new ssm.StringParameter(this, "PrivateSubnetIdsParameter", {
      parameterName: sharedParameters.privateSubnetIds(plan),
      stringValue: Fn.join(",", this.network.vpc.selectSubnets(this.network.subnets.private).subnetIds),
    });
  }
}
