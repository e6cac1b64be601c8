import { describe, expect, it } from "vitest";
import { allocateSubnets } from "../../../lib/plan/cidr.js";
import { Network } from "../../../lib/pulumi/aws/network.js";
import { byType, childrenOf, jsonInput, runProgram, single, type RegisteredResource } from "../harness.js";

const zones = ["us-east-1a", "us-east-1b", "us-east-1c"];

async function network(args: Partial<ConstructorParameters<typeof Network>[1]> = {}): Promise<RegisteredResource[]> {
  const { resources } = await runProgram(() => {
    new Network("net", { cidr: "10.0.0.0/16", availabilityZones: zones, ...args });
  });
  return resources;
}

describe("Network (Pulumi, AWS)", () => {
  it("creates subnets on exactly the planned CIDRs, one per tier and zone", async () => {
    const resources = await network();
    const layout = allocateSubnets("10.0.0.0/16", 3);
    const subnets = byType(resources, "aws:ec2/subnet:Subnet");
    expect(subnets).toHaveLength(9);
    for (const tier of ["public", "private", "isolated"] as const) {
      const ofTier = subnets.filter((s) => s.name.startsWith(`net-${tier}-`));
      expect(ofTier.map((s) => s.inputs["cidrBlock"])).toEqual(layout[tier]);
      expect(ofTier.map((s) => s.inputs["availabilityZone"])).toEqual(zones);
      expect(ofTier.every((s) => s.inputs["vpcId"] === "vpc-net-vpc")).toBe(true);
    }
    expect(subnets.every((s) => s.inputs["mapPublicIpOnLaunch"] === false)).toBe(true);
  });

  it("parents every child to the component", async () => {
    const resources = await network();
    const component = single(resources, "msa:aws:Network");
    expect(component.parent).toBeUndefined();
    const others = resources.filter((r) => r !== component && !r.type.startsWith("pulumi:providers:"));
    expect(others.every((r) => r.parent === "net" && r.parentType === "msa:aws:Network")).toBe(true);
    expect(childrenOf(resources, "net").length).toBe(others.length);
  });

  it("takes explicit subnet CIDRs", async () => {
    const subnetCidrs = { public: ["10.1.0.0/24"], private: ["10.1.1.0/24"], isolated: ["10.1.2.0/24"] };
    const resources = await network({ cidr: "10.1.0.0/16", availabilityZones: ["us-east-1a"], subnetCidrs, natGateways: 1 });
    expect(byType(resources, "aws:ec2/subnet:Subnet").map((s) => s.inputs["cidrBlock"])).toEqual(["10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24"]);
  });

  it("routes public subnets to the internet gateway, private ones to NAT, isolated ones nowhere", async () => {
    const resources = await network({ natGateways: 2 });
    const nats = byType(resources, "aws:ec2/natGateway:NatGateway");
    expect(nats.map((n) => n.inputs["subnetId"])).toEqual(["subnet-net-public-0", "subnet-net-public-1"]);
    const routes = byType(resources, "aws:ec2/route:Route");
    const publicDefault = single(resources, "aws:ec2/route:Route", "net-public-default");
    expect(publicDefault.inputs).toMatchObject({ destinationCidrBlock: "0.0.0.0/0", gatewayId: "igw-net-igw", routeTableId: "rtb-net-public-rt" });
    // Zone 3 shares the first NAT gateway round-robin.
    expect(routes.filter((r) => r.name.startsWith("net-private-default-")).map((r) => [r.inputs["routeTableId"], r.inputs["natGatewayId"]])).toEqual([
      ["rtb-net-private-rt-0", "nat-net-nat-0"],
      ["rtb-net-private-rt-1", "nat-net-nat-1"],
      ["rtb-net-private-rt-2", "nat-net-nat-0"],
    ]);
    expect(routes.some((r) => r.inputs["routeTableId"] === "rtb-net-isolated-rt")).toBe(false);
    const isolatedAssociations = byType(resources, "aws:ec2/routeTableAssociation:RouteTableAssociation").filter((a) => a.inputs["routeTableId"] === "rtb-net-isolated-rt");
    expect(isolatedAssociations.map((a) => a.inputs["subnetId"])).toEqual(["subnet-net-isolated-0", "subnet-net-isolated-1", "subnet-net-isolated-2"]);
  });

  it("defaults to one NAT gateway per zone and allows none", async () => {
    expect(byType(await network(), "aws:ec2/natGateway:NatGateway")).toHaveLength(3);
    const without = await network({ natGateways: 0 });
    expect(byType(without, "aws:ec2/natGateway:NatGateway")).toHaveLength(0);
    expect(byType(without, "aws:ec2/route:Route").map((r) => r.name)).toEqual(["net-public-default"]);
  });

  it("strips every rule from the default security group", async () => {
    const sg = single(await network(), "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup");
    expect(sg.inputs["vpcId"]).toBe("vpc-net-vpc");
    expect(sg.inputs["ingress"] ?? []).toEqual([]);
    expect(sg.inputs["egress"] ?? []).toEqual([]);
  });

  it("adds S3 and DynamoDB gateway endpoints on the private and isolated route tables", async () => {
    const endpoints = byType(await network(), "aws:ec2/vpcEndpoint:VpcEndpoint");
    expect(endpoints.map((e) => e.inputs["serviceName"])).toEqual(["com.amazonaws.us-east-1.s3", "com.amazonaws.us-east-1.dynamodb"]);
    for (const endpoint of endpoints) {
      expect(endpoint.inputs["vpcEndpointType"]).toBe("Gateway");
      expect(endpoint.inputs["routeTableIds"]).toEqual(["rtb-net-private-rt-0", "rtb-net-private-rt-1", "rtb-net-private-rt-2", "rtb-net-isolated-rt"]);
    }
  });

  it("sends all traffic to a KMS-encrypted, retained log group with retention", async () => {
    const resources = await network({ flowLogRetentionDays: 90 });
    const key = single(resources, "aws:kms/key:Key");
    expect(key.inputs["enableKeyRotation"]).toBe(true);
    const keyPolicy = jsonInput(key, "policy") as { Statement: Array<{ Principal: { Service?: string }; Condition?: unknown }> };
    const logsStatement = keyPolicy.Statement.find((s) => s.Principal.Service === "logs.us-east-1.amazonaws.com");
    expect(logsStatement?.Condition).toEqual({ ArnLike: { "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:123456789012:log-group:*" } });
    const group = single(resources, "aws:cloudwatch/logGroup:LogGroup");
    expect(group.inputs).toMatchObject({ retentionInDays: 90, kmsKeyId: key.outputs["arn"] });
    expect(group.retainOnDelete).toBe(true);
    expect(key.retainOnDelete).toBe(true);
    const flowLog = single(resources, "aws:ec2/flowLog:FlowLog");
    expect(flowLog.inputs).toMatchObject({ vpcId: "vpc-net-vpc", trafficType: "ALL", logDestination: group.outputs["arn"], logDestinationType: "cloud-watch-logs" });
    const policy = jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy"), "policy") as { Statement: Array<{ Action: string[]; Resource: string[] }> };
    expect(policy.Statement[0]!.Resource).toEqual([group.outputs["arn"], `${group.outputs["arn"]}:*`]);
    expect(policy.Statement[0]!.Action).not.toContain("logs:*");
  });

  it("skips flow logs when asked", async () => {
    const resources = await network({ flowLogs: false });
    expect(byType(resources, "aws:ec2/flowLog:FlowLog")).toHaveLength(0);
    expect(byType(resources, "aws:cloudwatch/logGroup:LogGroup")).toHaveLength(0);
  });

  it("applies transforms to the children's args", async () => {
    const resources = await network({
      transform: {
        vpc: (args) => void (args.enableNetworkAddressUsageMetrics = true),
        subnet: (args, tier) => void (args.tags = { custom: tier }),
      },
    });
    expect(single(resources, "aws:ec2/vpc:Vpc").inputs["enableNetworkAddressUsageMetrics"]).toBe(true);
    expect(single(resources, "aws:ec2/subnet:Subnet", "net-isolated-2").inputs["tags"]).toEqual({ custom: "isolated" });
  });

  it("rejects bad input with the prop, the value and the fix", async () => {
    const make = (args: Partial<ConstructorParameters<typeof Network>[1]>) => () =>
      runProgram(() => void new Network("bad", { cidr: "10.0.0.0/16", availabilityZones: zones, ...args }));
    await expect(make({ natGateways: 4 })()).rejects.toThrow(/natGateways is 4\. Fix: use an integer from 0 to 3/);
    await expect(make({ availabilityZones: [] })()).rejects.toThrow(/availabilityZones is empty/);
    await expect(make({ subnetCidrs: { public: ["10.0.0.0/24"], private: ["10.0.1.0/24"], isolated: ["10.0.2.0/24"] } })()).rejects.toThrow(
      /subnetCidrs\.public has 1 entries for 3 zones/,
    );
    await expect(
      make({ availabilityZones: ["us-east-1a"], subnetCidrs: { public: ["10.9.0.0/24"], private: ["10.0.1.0/24"], isolated: ["10.0.2.0/24"] } })(),
    ).rejects.toThrow(/10\.9\.0\.0\/24 is outside the VPC range 10\.0\.0\.0\/16/);
    await expect(
      make({ availabilityZones: ["us-east-1a"], subnetCidrs: { public: ["10.0.0.0/24"], private: ["10.0.0.0/23"], isolated: ["10.0.2.0/24"] } })(),
    ).rejects.toThrow(/overlaps public subnet 10\.0\.0\.0\/24/);
    await expect(make({ flowLogRetentionDays: 42 })()).rejects.toThrow(/flowLogRetentionDays is 42/);
  });
});
