import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { allocateSubnets, cidrContains, cidrsOverlap, parseCidr, type SubnetLayout } from "../../plan/cidr.js";
import type { NetworkPlan } from "../../plan/types.js";

/** Retention periods CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS: readonly number[] = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

export type SubnetTier = "public" | "private" | "isolated";

/** Arguments of {@link Network}. */
export interface NetworkArgs {
  /**
   * IPv4 range of the VPC.
   * @default "10.0.0.0/16"
   */
  readonly cidr?: string;
  /** Availability zones, in order; each gets one public, one private and one isolated subnet. */
  readonly availabilityZones: readonly string[];
  /**
   * Subnet ranges per tier, one per zone in zone order.
   * @default - `allocateSubnets(cidr, availabilityZones.length)`: private half, public and isolated quarters
   */
  readonly subnetCidrs?: SubnetLayout;
  /**
   * NAT gateways, placed in the first public subnets; private subnets share them round-robin.
   * 0 leaves private subnets without internet egress. Cost: each NAT gateway is billed hourly and per GB.
   * @default - one per zone
   */
  readonly natGateways?: number;
  /**
   * Record all VPC traffic to a KMS-encrypted CloudWatch log group.
   * @default true
   */
  readonly flowLogs?: boolean;
  /**
   * Days the flow logs are kept.
   * @default 365
   */
  readonly flowLogRetentionDays?: number;
  /**
   * Keep the flow-log group and its key when the stack is destroyed, and protect them (as CDK's RemovalPolicy.RETAIN).
   * @default true
   */
  readonly retainFlowLogs?: boolean;
  /**
   * Tags added to every resource.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: {
    readonly vpc?: (args: aws.ec2.VpcArgs) => void;
    readonly subnet?: (args: aws.ec2.SubnetArgs, tier: SubnetTier, zoneIndex: number) => void;
    readonly natGateway?: (args: aws.ec2.NatGatewayArgs) => void;
    readonly flowLogGroup?: (args: aws.cloudwatch.LogGroupArgs) => void;
    readonly flowLog?: (args: aws.ec2.FlowLogArgs) => void;
  };
}

/** Maps a plan's network entry to {@link NetworkArgs}. */
export function networkArgsFromPlan(plan: NetworkPlan, tags?: Readonly<Record<string, string>>): NetworkArgs {
  return {
    cidr: plan.cidr,
    availabilityZones: plan.availabilityZones,
    subnetCidrs: plan.subnets,
    natGateways: plan.natGateways,
    flowLogs: plan.flowLogs,
    flowLogRetentionDays: plan.flowLogRetentionDays,
    ...(tags ? { tags } : {}),
  };
}

/**
 * A VPC with public, private (NAT egress) and isolated (no internet route) subnets per zone, flow logs,
 * S3/DynamoDB gateway endpoints and a default security group stripped of every rule.
 *
 * @example
 * const network = new Network("shop", { cidr: "10.0.0.0/16", availabilityZones: ["us-east-1a", "us-east-1b"] });
 * export const vpcId = network.vpcId;
 */
export class Network extends pulumi.ComponentResource {
  readonly vpc: aws.ec2.Vpc;
  readonly vpcId: pulumi.Output<string>;
  readonly publicSubnets: aws.ec2.Subnet[];
  readonly privateSubnets: aws.ec2.Subnet[];
  readonly isolatedSubnets: aws.ec2.Subnet[];
  readonly publicSubnetIds: pulumi.Output<string[]>;
  readonly privateSubnetIds: pulumi.Output<string[]>;
  readonly isolatedSubnetIds: pulumi.Output<string[]>;
  readonly availabilityZones: readonly string[];
  /** The flow-log group, when flow logs are on. */
  readonly flowLogGroup?: aws.cloudwatch.LogGroup;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("msa:aws:Network", name, {}, opts);
    const cidr = args.cidr ?? "10.0.0.0/16";
    const layout = validateNetworkArgs(cidr, args);
    const zones = args.availabilityZones;
    const natCount = args.natGateways ?? zones.length;
    const tags = (resource: string, extra?: Record<string, string>) => ({ ...args.tags, Name: resource, ...extra });
    const parent = { parent: this };
    this.availabilityZones = zones;

    const vpcArgs: aws.ec2.VpcArgs = { cidrBlock: cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags(name) };
    args.transform?.vpc?.(vpcArgs);
    this.vpc = new aws.ec2.Vpc(`${name}-vpc`, vpcArgs, parent);
    const vpcId = this.vpc.id;

    // With no rules the default group denies everything, so nothing falls back onto it by accident.
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId, tags: tags(`${name}-default`) }, parent);

    const subnet = (tier: SubnetTier, index: number, extraTags: Record<string, string>) => {
      const subnetArgs: aws.ec2.SubnetArgs = {
        vpcId,
        cidrBlock: layout[tier][index]!,
        availabilityZone: zones[index]!,
        mapPublicIpOnLaunch: false,
        tags: tags(`${name}-${tier}-${zones[index]}`, { "msa-landing-zone/tier": tier, ...extraTags }),
      };
      args.transform?.subnet?.(subnetArgs, tier, index);
      return new aws.ec2.Subnet(`${name}-${tier}-${index}`, subnetArgs, parent);
    };
    // The role tags let the AWS Load Balancer Controller discover subnets for public and internal load balancers.
    this.publicSubnets = zones.map((_, i) => subnet("public", i, { "kubernetes.io/role/elb": "1" }));
    this.privateSubnets = zones.map((_, i) => subnet("private", i, { "kubernetes.io/role/internal-elb": "1" }));
    this.isolatedSubnets = zones.map((_, i) => subnet("isolated", i, {}));
    this.publicSubnetIds = pulumi.all(this.publicSubnets.map((s) => s.id));
    this.privateSubnetIds = pulumi.all(this.privateSubnets.map((s) => s.id));
    this.isolatedSubnetIds = pulumi.all(this.isolatedSubnets.map((s) => s.id));

    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId, tags: tags(`${name}-igw`) }, parent);
    const publicRoutes = new aws.ec2.RouteTable(`${name}-public-rt`, { vpcId, tags: tags(`${name}-public`) }, parent);
    new aws.ec2.Route(`${name}-public-default`, { routeTableId: publicRoutes.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id }, parent);
    this.publicSubnets.forEach(
      (s, i) => new aws.ec2.RouteTableAssociation(`${name}-public-rta-${i}`, { subnetId: s.id, routeTableId: publicRoutes.id }, parent),
    );

    const natGateways = Array.from({ length: natCount }, (_, i) => {
      const eip = new aws.ec2.Eip(`${name}-nat-eip-${i}`, { domain: "vpc", tags: tags(`${name}-nat-${zones[i]}`) }, { ...parent, dependsOn: [igw] });
      const natArgs: aws.ec2.NatGatewayArgs = {
        allocationId: eip.id,
        subnetId: this.publicSubnets[i]!.id,
        connectivityType: "public",
        tags: tags(`${name}-nat-${zones[i]}`),
      };
      args.transform?.natGateway?.(natArgs);
      return new aws.ec2.NatGateway(`${name}-nat-${i}`, natArgs, { ...parent, dependsOn: [igw] });
    });

    // One route table per private subnet so each zone egresses through its own NAT gateway when there is one.
    const privateRoutes = this.privateSubnets.map((s, i) => {
      const table = new aws.ec2.RouteTable(`${name}-private-rt-${i}`, { vpcId, tags: tags(`${name}-private-${zones[i]}`) }, parent);
      if (natGateways.length > 0) {
        const nat = natGateways[i % natGateways.length]!;
        new aws.ec2.Route(`${name}-private-default-${i}`, { routeTableId: table.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id }, parent);
      }
      new aws.ec2.RouteTableAssociation(`${name}-private-rta-${i}`, { subnetId: s.id, routeTableId: table.id }, parent);
      return table;
    });
    // Isolated subnets have no default route at all: data stores there cannot reach or be reached from the internet.
    const isolatedRoutes = new aws.ec2.RouteTable(`${name}-isolated-rt`, { vpcId, tags: tags(`${name}-isolated`) }, parent);
    this.isolatedSubnets.forEach(
      (s, i) => new aws.ec2.RouteTableAssociation(`${name}-isolated-rta-${i}`, { subnetId: s.id, routeTableId: isolatedRoutes.id }, parent),
    );

    const region = aws.getRegionOutput({}, parent).region;
    const endpointRouteTables = [...privateRoutes, isolatedRoutes].map((t) => t.id);
    for (const service of ["s3", "dynamodb"]) {
      new aws.ec2.VpcEndpoint(
        `${name}-${service}-endpoint`,
        {
          vpcId,
          serviceName: pulumi.interpolate`com.amazonaws.${region}.${service}`,
          vpcEndpointType: "Gateway",
          routeTableIds: endpointRouteTables,
          tags: tags(`${name}-${service}`),
        },
        parent,
      );
    }

    if (args.flowLogs ?? true) this.flowLogGroup = this.createFlowLogs(name, args, vpcId, tags(`${name}-flow-logs`));

    this.vpcId = vpcId;
    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      isolatedSubnetIds: this.isolatedSubnetIds,
    });
  }

  private createFlowLogs(name: string, args: NetworkArgs, vpcId: pulumi.Output<string>, tags: Record<string, string>): aws.cloudwatch.LogGroup {
    const parent = { parent: this };
    const kept = (args.retainFlowLogs ?? true) ? { parent: this, protect: true, retainOnDelete: true } : parent;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;
    const region = aws.getRegionOutput({}, parent).region;
    const partition = aws.getPartitionOutput({}, parent).partition;
    const key = new aws.kms.Key(
      `${name}-flow-logs-key`,
      {
        description: `${name} VPC flow logs`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AccountAdministers",
              Effect: "Allow",
              Principal: { AWS: pulumi.interpolate`arn:${partition}:iam::${account}:root` },
              Action: "kms:*",
              Resource: "*",
            },
            {
              Sid: "CloudWatchLogsEncrypts",
              Effect: "Allow",
              Principal: { Service: pulumi.interpolate`logs.${region}.amazonaws.com` },
              Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
              Resource: "*",
              Condition: {
                ArnLike: { "kms:EncryptionContext:aws:logs:arn": pulumi.interpolate`arn:${partition}:logs:${region}:${account}:log-group:*` },
              },
            },
          ],
        }),
        tags,
      },
      kept,
    );
    const groupArgs: aws.cloudwatch.LogGroupArgs = {
      retentionInDays: args.flowLogRetentionDays ?? 365,
      kmsKeyId: key.arn,
      tags,
    };
    args.transform?.flowLogGroup?.(groupArgs);
    const group = new aws.cloudwatch.LogGroup(`${name}-flow-logs`, groupArgs, kept);
    const role = new aws.iam.Role(
      `${name}-flow-logs-role`,
      {
        assumeRolePolicy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "vpc-flow-logs.amazonaws.com" },
              Action: "sts:AssumeRole",
              Condition: { StringEquals: { "aws:SourceAccount": account } },
            },
          ],
        }),
        tags,
      },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-flow-logs-policy`,
      {
        role: role.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
              Resource: [group.arn, pulumi.interpolate`${group.arn}:*`],
            },
          ],
        }),
      },
      parent,
    );
    const flowLogArgs: aws.ec2.FlowLogArgs = {
      vpcId,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: group.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
      tags,
    };
    args.transform?.flowLog?.(flowLogArgs);
    new aws.ec2.FlowLog(`${name}-flow-log`, flowLogArgs, parent);
    return group;
  }
}

function validateNetworkArgs(cidr: string, args: NetworkArgs): SubnetLayout {
  const zones = args.availabilityZones.length;
  if (zones < 1) throw new Error(`Network: availabilityZones is empty. Fix: list at least one zone, e.g. ["us-east-1a", "us-east-1b"]`);
  const vpc = parseCidr(cidr);
  const layout = args.subnetCidrs ?? allocateSubnets(cidr, zones);
  const natGateways = args.natGateways ?? zones;
  if (!Number.isInteger(natGateways) || natGateways < 0 || natGateways > zones) {
    throw new Error(`Network: natGateways is ${natGateways}. Fix: use an integer from 0 to ${zones} (one per availability zone at most)`);
  }
  const retention = args.flowLogRetentionDays ?? 365;
  if ((args.flowLogs ?? true) && !LOG_RETENTION_DAYS.includes(retention)) {
    throw new Error(`Network: flowLogRetentionDays is ${retention}. Fix: use one of CloudWatch Logs' values ${LOG_RETENTION_DAYS.join(", ")}`);
  }
  const all: Array<{ tier: SubnetTier; cidr: string }> = [];
  for (const tier of ["public", "private", "isolated"] as const) {
    if (layout[tier].length !== zones) {
      throw new Error(`Network: subnetCidrs.${tier} has ${layout[tier].length} entries for ${zones} zones. Fix: give one CIDR per availability zone`);
    }
    for (const subnet of layout[tier]) {
      if (!cidrContains(vpc, parseCidr(subnet))) {
        throw new Error(`Network: subnetCidrs.${tier} entry ${subnet} is outside the VPC range ${cidr}. Fix: pick a range inside ${cidr}`);
      }
      const clash = all.find((other) => cidrsOverlap(parseCidr(other.cidr), parseCidr(subnet)));
      if (clash) throw new Error(`Network: subnetCidrs.${tier} entry ${subnet} overlaps ${clash.tier} subnet ${clash.cidr}. Fix: give every subnet its own range`);
      all.push({ tier, cidr: subnet });
    }
  }
  return layout;
}
