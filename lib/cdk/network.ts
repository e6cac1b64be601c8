import { RemovalPolicy, Stack, Validations, aws_ec2 as ec2, aws_kms as kms, aws_logs as logs } from "aws-cdk-lib";
import { Construct } from "constructs";
import { acknowledgeInlinePolicy } from "./compliance.js";
import { allowLogGroupsToUse } from "./log-key.js";
import { allocateSubnets, cidrContains, cidrsOverlap, parseCidr, type SubnetLayout } from "../plan/cidr.js";

/** Subnet group names of the VPC; consumers select subnets by them (`{ subnetGroupName: "Private" }`). */
export const SUBNET_GROUPS = { public: "Public", private: "Private", isolated: "Isolated" } as const;

export interface NetworkProps {
  /**
   * Availability zone names, one subnet of each kind per zone. Explicit names keep synthesis offline
   * (a context lookup would need an account).
   */
  readonly availabilityZones: readonly string[];
  /**
   * IPv4 range of the VPC.
   * @default "10.0.0.0/16"
   */
  readonly cidr?: string;
  /**
   * CIDR of every subnet, one per zone in `availabilityZones` order.
   * @default - `allocateSubnets(cidr, zones)`: half the range private, a quarter public, a quarter isolated
   */
  readonly subnetCidrs?: SubnetLayout;
  /**
   * NAT gateways for the private subnets' egress. With 0, the private subnets have no route out.
   * Cost note: each NAT gateway is billed hourly plus per GB.
   * @default - one per zone
   */
  readonly natGateways?: number;
  /**
   * Record VPC flow logs (all traffic) to an encrypted CloudWatch log group.
   * @default true
   */
  readonly flowLogs?: boolean;
  /**
   * Days the flow-log group keeps records; one of CloudWatch Logs' retention values.
   * @default 365
   */
  readonly flowLogRetentionDays?: number;
  /**
   * What happens to the flow-log group and its key when the stack deletes them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A VPC laid out from a plan: public, private (NAT egress) and isolated subnets per zone on exactly
 * the planned CIDRs, flow logs to a KMS-encrypted log group, S3 and DynamoDB gateway endpoints, and a
 * default security group with every rule removed.
 *
 * @example
 * const network = new Network(stack, "Network", { availabilityZones: ["eu-west-1a", "eu-west-1b"] });
 * new SessionStore(stack, "Sessions", { vpc: network.vpc });
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  /** Subnet selections by kind. */
  readonly subnets: { readonly public: ec2.SubnetSelection; readonly private: ec2.SubnetSelection; readonly isolated: ec2.SubnetSelection };
  /** The flow-log group, when flow logs are on. */
  readonly flowLogGroup?: logs.LogGroup;
  /** The key of the flow-log group, which CloudWatch Logs may use for any log group of the account and region. */
  readonly logKey?: kms.Key;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const zones = props.availabilityZones;
    if (zones.length === 0) throw new Error(`Network availabilityZones is empty. Fix: list at least one zone name, e.g. ["${Stack.of(this).region}a"]`);
    const cidr = props.cidr ?? "10.0.0.0/16";
    const layout = props.subnetCidrs ?? allocateSubnets(cidr, zones.length);
    checkLayout(cidr, zones.length, layout);
    const natGateways = props.natGateways ?? zones.length;
    if (!Number.isInteger(natGateways) || natGateways < 0 || natGateways > zones.length) {
      throw new Error(`Network natGateways is ${natGateways}; it must be an integer from 0 to the number of zones (${zones.length})`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.vpc = new ec2.Vpc(this, "Resource", {
      ipAddresses: new PlannedIpAddresses(cidr, zones, layout),
      availabilityZones: [...zones],
      natGateways,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        { name: SUBNET_GROUPS.public, subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: false },
        // Without NAT there is no egress route, and CDK rejects PRIVATE_WITH_EGRESS subnets.
        { name: SUBNET_GROUPS.private, subnetType: natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED },
        { name: SUBNET_GROUPS.isolated, subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
    });
    for (const subnet of this.vpc.publicSubnets) {
      const route = subnet.node.tryFindChild("DefaultRoute");
      if (route) {
        Validations.of(route).acknowledge({
          id: "NIST.800.53.R5::NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",
          reason: "Only public subnets route 0.0.0.0/0 to the internet gateway, and they hold only NAT gateways and, on EKS, the gateway's internal load balancers (nothing gets a public IP); workloads and data stores sit in private and isolated subnets.",
        });
      }
    }
    this.subnets = {
      public: { subnetGroupName: SUBNET_GROUPS.public },
      private: { subnetGroupName: SUBNET_GROUPS.private },
      isolated: { subnetGroupName: SUBNET_GROUPS.isolated },
    };

    const endpointSubnets = [this.subnets.private, this.subnets.isolated];
    this.vpc.addGatewayEndpoint("S3Endpoint", { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: endpointSubnets });
    this.vpc.addGatewayEndpoint("DynamoDbEndpoint", { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets: endpointSubnets });

    if (props.flowLogs ?? true) {
      const retentionDays = props.flowLogRetentionDays ?? 365;
      const retention = Object.values(logs.RetentionDays).find((days): days is logs.RetentionDays => days === retentionDays);
      if (retention === undefined) {
        throw new Error(`Network flowLogRetentionDays is ${retentionDays}; CloudWatch Logs accepts ${retentionValues()}`);
      }
      const key = new kms.Key(this, "FlowLogKey", {
        description: `Encrypts the VPC flow logs of ${this.node.path}`,
        enableKeyRotation: true,
        removalPolicy,
      });
      allowLogGroupsToUse(key);
      this.logKey = key;
      this.flowLogGroup = new logs.LogGroup(this, "FlowLogGroup", { encryptionKey: key, retention, removalPolicy });
      const flowLog = this.vpc.addFlowLog("FlowLog", {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
        trafficType: ec2.FlowLogTrafficType.ALL,
      });
      acknowledgeInlinePolicy(flowLog.iamRole!, "the VPC flow-log delivery role");
    }
  }
}

/** Hands the VPC exactly the planned CIDRs instead of letting CDK split the range its own way. */
class PlannedIpAddresses implements ec2.IIpAddresses {
  constructor(
    private readonly cidr: string,
    private readonly zones: readonly string[],
    private readonly layout: SubnetLayout,
  ) {}

  allocateVpcCidr(): ec2.VpcIpamOptions {
    return { cidrBlock: this.cidr };
  }

  allocateSubnetsCidr(input: ec2.AllocateCidrRequest): ec2.SubnetIpamOptions {
    const byGroup: Record<string, readonly string[]> = {
      [SUBNET_GROUPS.public]: this.layout.public,
      [SUBNET_GROUPS.private]: this.layout.private,
      [SUBNET_GROUPS.isolated]: this.layout.isolated,
    };
    return {
      allocatedSubnets: input.requestedSubnets.map((request) => {
        const cidr = byGroup[request.configuration.name]?.[this.zones.indexOf(request.availabilityZone)];
        if (cidr === undefined) throw new Error(`Network has no planned CIDR for subnet group ${request.configuration.name} in ${request.availabilityZone}`);
        return { cidr };
      }),
    };
  }
}

function checkLayout(cidr: string, zones: number, layout: SubnetLayout): void {
  const vpc = parseCidr(cidr);
  for (const kind of ["public", "private", "isolated"] as const) {
    const cidrs = layout[kind];
    if (cidrs.length !== zones) {
      throw new Error(`Network subnetCidrs.${kind} has ${cidrs.length} CIDRs for ${zones} zones. Fix: give one CIDR per availability zone`);
    }
    for (const subnet of cidrs) {
      if (!cidrContains(vpc, parseCidr(subnet))) throw new Error(`Network subnetCidrs.${kind} has ${subnet}, outside the VPC range ${cidr}. Fix: pick a CIDR inside ${cidr}`);
    }
  }
  const all = [...layout.public, ...layout.private, ...layout.isolated];
  all.forEach((a, i) =>
    all.slice(i + 1).forEach((b) => {
      if (cidrsOverlap(parseCidr(a), parseCidr(b))) throw new Error(`Network subnetCidrs has overlapping subnets ${a} and ${b}. Fix: give every subnet its own range`);
    }),
  );
}

function retentionValues(): string {
  return Object.values(logs.RetentionDays).filter((days): days is number => typeof days === "number").join(", ");
}
