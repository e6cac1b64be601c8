import { App, RemovalPolicy, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { Network, type NetworkProps } from "../../lib/cdk/network.js";
import { allocateSubnets } from "../../lib/plan/cidr.js";

const ZONES = ["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"];

function synth(props: Partial<NetworkProps> = {}): { stack: Stack; network: Network; template: Template } {
  const app = new App({ context: { "@aws-cdk/core:validateAgainstDefaultRules": true, "@aws-cdk/core:strictCfnValidateErrors": true } });
  const stack = new Stack(app, "NetworkStack", { env: { account: "111111111111", region: "ap-northeast-2" } });
  const network = new Network(stack, "Network", { availabilityZones: ZONES, ...props });
  const template = Template.fromStack(stack);
  app.synth();
  return { stack, network, template };
}

function subnetCidrs(template: Template, tier: string): string[] {
  return Object.values(template.findResources("AWS::EC2::Subnet", { Properties: { Tags: Match.arrayWith([{ Key: "aws-cdk:subnet-name", Value: tier }]) } })).map(
    (subnet) => (subnet as { Properties: { CidrBlock: string } }).Properties.CidrBlock,
  );
}

describe("Network", () => {
  const { template, network } = synth();

  it("uses exactly the CIDRs allocateSubnets plans, per zone", () => {
    const planned = allocateSubnets("10.0.0.0/16", 3);
    template.hasResourceProperties("AWS::EC2::VPC", { CidrBlock: "10.0.0.0/16" });
    expect(subnetCidrs(template, "Public")).toEqual(planned.public);
    expect(subnetCidrs(template, "Private")).toEqual(planned.private);
    expect(subnetCidrs(template, "Isolated")).toEqual(planned.isolated);
    template.resourceCountIs("AWS::EC2::Subnet", 9);
    for (const [i, zone] of ZONES.entries()) {
      template.hasResourceProperties("AWS::EC2::Subnet", { AvailabilityZone: zone, CidrBlock: planned.private[i] });
    }
  });

  it("takes given subnet CIDRs as they are", () => {
    const subnetCidrs_ = { public: ["10.1.0.0/24", "10.1.1.0/24"], private: ["10.1.8.0/21", "10.1.16.0/21"], isolated: ["10.1.2.0/24", "10.1.3.0/24"] };
    const { template: custom } = synth({ cidr: "10.1.0.0/16", availabilityZones: ZONES.slice(0, 2), subnetCidrs: subnetCidrs_, natGateways: 1 });
    expect(subnetCidrs(custom, "Private")).toEqual(subnetCidrs_.private);
    expect(subnetCidrs(custom, "Isolated")).toEqual(subnetCidrs_.isolated);
    custom.resourceCountIs("AWS::EC2::NatGateway", 1);
  });

  it("gives private subnets NAT egress in every zone and isolated subnets no route out", () => {
    template.resourceCountIs("AWS::EC2::NatGateway", 3);
    const isolatedRoutes = template.findResources("AWS::EC2::Route", {
      Properties: { RouteTableId: { Ref: Match.stringLikeRegexp("NetworkIsolatedSubnet") } },
    });
    expect(Object.keys(isolatedRoutes)).toHaveLength(0);
    template.hasResourceProperties("AWS::EC2::Route", { RouteTableId: { Ref: Match.stringLikeRegexp("NetworkPrivateSubnet1") }, NatGatewayId: Match.anyValue() });
  });

  it("never assigns public IPs on launch", () => {
    for (const subnet of Object.values(template.findResources("AWS::EC2::Subnet"))) {
      expect((subnet as { Properties: { MapPublicIpOnLaunch: boolean } }).Properties.MapPublicIpOnLaunch).toBe(false);
    }
  });

  it("sends all traffic to a KMS-encrypted flow-log group with rotation and the given retention", () => {
    template.hasResourceProperties("AWS::EC2::FlowLog", { ResourceType: "VPC", TrafficType: "ALL", LogDestinationType: "cloud-watch-logs" });
    template.hasResourceProperties("AWS::Logs::LogGroup", { KmsKeyId: { "Fn::GetAtt": [Match.stringLikeRegexp("FlowLogKey"), "Arn"] }, RetentionInDays: 365 });
    template.hasResourceProperties("AWS::KMS::Key", {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: "logs.ap-northeast-2.amazonaws.com" },
            Condition: {
              ArnLike: { "kms:EncryptionContext:aws:logs:arn": { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":logs:ap-northeast-2:111111111111:log-group:*"]] } },
            },
          }),
        ]),
      },
    });
    template.hasResource("AWS::Logs::LogGroup", { DeletionPolicy: "Retain" });
  });

  it("deletes the flow-log group and key when asked", () => {
    const { template: disposable } = synth({ removalPolicy: RemovalPolicy.DESTROY, flowLogRetentionDays: 30 });
    disposable.hasResource("AWS::Logs::LogGroup", { DeletionPolicy: "Delete", Properties: { RetentionInDays: 30 } });
    disposable.hasResource("AWS::KMS::Key", { DeletionPolicy: "Delete" });
  });

  it("adds S3 and DynamoDB gateway endpoints on the private and isolated route tables", () => {
    template.resourceCountIs("AWS::EC2::VPCEndpoint", 2);
    for (const service of ["s3", "dynamodb"]) {
      const endpoint = Object.values(
        template.findResources("AWS::EC2::VPCEndpoint", { Properties: { VpcEndpointType: "Gateway", ServiceName: { "Fn::Join": ["", Match.arrayWith([`.${service}`])] } } }),
      )[0] as { Properties: { RouteTableIds: { Ref: string }[] } } | undefined;
      expect(endpoint, service).toBeDefined();
      const tables = endpoint!.Properties.RouteTableIds.map((t) => t.Ref);
      expect(tables).toHaveLength(6);
      expect(tables.every((t) => /Private|Isolated/.test(t))).toBe(true);
    }
  });

  it("strips the default security group of its rules", () => {
    template.resourceCountIs("Custom::VpcRestrictDefaultSG", 1);
  });

  it("exposes the VPC and subnet selections by kind", () => {
    expect(network.vpc.privateSubnets).toHaveLength(3);
    expect(network.vpc.isolatedSubnets).toHaveLength(3);
    expect(network.vpc.selectSubnets(network.subnets.isolated).subnets).toHaveLength(3);
  });

  it("keeps construct IDs stable", () => {
    expect(Object.keys(template.findResources("AWS::EC2::VPC"))).toEqual([expect.stringMatching(/^Network[0-9A-F]{8}$/)]);
    expect(network.vpc.node.id).toBe("Resource");
  });

  it("makes private subnets isolated when there is no NAT gateway", () => {
    const { network: noNat, template: noNatTemplate } = synth({ natGateways: 0 });
    noNatTemplate.resourceCountIs("AWS::EC2::NatGateway", 0);
    expect(noNat.vpc.selectSubnets(noNat.subnets.private).subnets).toHaveLength(3);
  });

  it("leaves out flow logs when turned off", () => {
    const { template: quiet } = synth({ flowLogs: false });
    quiet.resourceCountIs("AWS::EC2::FlowLog", 0);
    quiet.resourceCountIs("AWS::Logs::LogGroup", 0);
  });

  it.each<[Partial<NetworkProps>, RegExp]>([
    [{ availabilityZones: [] }, /availabilityZones is empty/],
    [{ natGateways: 4 }, /natGateways is 4; it must be an integer from 0 to the number of zones \(3\)/],
    [{ flowLogRetentionDays: 42 }, /flowLogRetentionDays is 42; CloudWatch Logs accepts 1, 3, 5/],
    [{ subnetCidrs: { public: ["10.0.0.0/24"], private: [], isolated: [] } }, /subnetCidrs.public has 1 CIDRs for 3 zones/],
    [
      { availabilityZones: ZONES.slice(0, 1), subnetCidrs: { public: ["10.9.0.0/24"], private: ["10.0.1.0/24"], isolated: ["10.0.2.0/24"] } },
      /subnetCidrs.public has 10.9.0.0\/24, outside the VPC range 10.0.0.0\/16/,
    ],
    [
      { availabilityZones: ZONES.slice(0, 1), subnetCidrs: { public: ["10.0.0.0/24"], private: ["10.0.0.0/23"], isolated: ["10.0.2.0/24"] } },
      /overlapping subnets 10.0.0.0\/24 and 10.0.0.0\/23/,
    ],
  ])("rejects bad props: %o", (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
