import { describe, expect, it } from "vitest";
import { renderComponentSummary, summarizeComponents, type RegisteredNode } from "../../lib/report/component-summary.js";

const component = (name: string, type: string, parent?: string): RegisteredNode => ({ name, type, custom: false, ...(parent ? { parent } : {}) });
const resource = (name: string, type: string, parent?: string): RegisteredNode => ({ name, type, custom: true, ...(parent ? { parent } : {}) });

describe("summarizeComponents", () => {
  const nodes = [
    component("zone", "msa:aws:LandingZone"),
    component("zone-network", "msa:aws:Network", "zone"),
    resource("zone-vpc", "aws:ec2/vpc:Vpc", "zone-network"),
    resource("zone-subnet-a", "aws:ec2/subnet:Subnet", "zone-network"),
    resource("zone-subnet-b", "aws:ec2/subnet:Subnet", "zone-network"),
    component("zone-orders", "msa:aws:ServiceWorkload", "zone"),
    component("zone-orders-data", "msa:aws:ServiceDatabase", "zone-orders"),
    resource("zone-orders-db", "aws:rds/instance:Instance", "zone-orders-data"),
    resource("zone-orders-role", "aws:iam/role:Role", "zone-orders"),
    resource("zone-dashboard", "aws:cloudwatch/dashboard:Dashboard", "zone"),
    resource("default_7_0_0", "pulumi:providers:aws"),
  ];

  it("rolls nested components up into the component directly under the landing zone, by type", () => {
    const rows = summarizeComponents(nodes);
    expect(rows.map((r) => [r.name, r.type, r.resources])).toEqual([
      ["zone", "msa:aws:LandingZone", 1],
      ["zone-network", "msa:aws:Network", 3],
      ["zone-orders", "msa:aws:ServiceWorkload", 2],
    ]);
    expect(rows[1]!.resourceTypes).toEqual({ "aws:ec2/vpc:Vpc": 1, "aws:ec2/subnet:Subnet": 2 });
    expect(rows[2]!.resourceTypes).toEqual({ "aws:rds/instance:Instance": 1, "aws:iam/role:Role": 1 });
  });

  it("leaves out the SDK's default providers and a root that holds nothing itself", () => {
    const rows = summarizeComponents(nodes.filter((n) => n.name !== "zone-dashboard"));
    expect(rows.map((r) => r.name)).toEqual(["zone-network", "zone-orders"]);
    expect(renderComponentSummary(rows)).toMatch(/2 components, 5 resources$/);
  });
});
