import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { azureSubnetLayout, AZURE_SUBNET_ROLES } from "../../../lib/plan/azure.js";
import { cidrContains, cidrsOverlap, formatCidr, parseCidr, subdivide } from "../../../lib/plan/cidr.js";
import { regionalSubnets } from "../../../lib/plan/regional-subnets.js";
import { DENY_ALL_INBOUND_PRIORITY, Network, securityRules } from "../../../lib/pulumi/azure/network.js";
import { LogWorkspace } from "../../../lib/pulumi/azure/log-workspace.js";
import { byType, runProgram, single } from "../harness.js";

type Rule = { name: string; priority: number; access: string; direction: string; protocol: string; sourceAddressPrefix: string; destinationAddressPrefix?: string; destinationPortRange?: string; destinationPortRanges?: string[] };

describe("Azure subnet layout", () => {
  it("gives each role one regional subnet carved from the zonal allocation's blocks", () => {
    expect(regionalSubnets("10.0.0.0/16")).toEqual({ private: "10.0.0.0/17", public: "10.0.128.0/18", isolated: "10.0.192.0/18" });
    expect(azureSubnetLayout({ cidr: "10.0.0.0/16" })).toEqual({
      gateway: "10.0.128.0/18",
      workloads: "10.0.0.0/17",
      endpoints: "10.0.192.0/19",
      databases: "10.0.224.0/19",
    });
  });

  it("splits the private block between App Service and a logging cluster only when asked", () => {
    expect(azureSubnetLayout({ cidr: "10.0.0.0/16" }, { loggingSubnet: true })).toEqual({
      gateway: "10.0.128.0/18",
      workloads: "10.0.0.0/18",
      logging: "10.0.64.0/18",
      endpoints: "10.0.192.0/19",
      databases: "10.0.224.0/19",
    });
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 24 }), (prefix) => {
        const vnet = { base: (10 << 24) >>> 0, prefix };
        const layout = azureSubnetLayout({ cidr: formatCidr(vnet) }, { loggingSubnet: true });
        const all = [...AZURE_SUBNET_ROLES.map((role) => layout[role]), layout.logging!].map(parseCidr);
        for (const subnet of all) expect(cidrContains(vnet, subnet)).toBe(true);
        for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) expect(cidrsOverlap(all[i]!, all[j]!)).toBe(false);
      }),
    );
  });

  it("refuses a VNet too small for an Application Gateway subnet", () => {
    expect(() => azureSubnetLayout({ cidr: "10.0.0.0/25" })).toThrow(/network.cidr: 10.0.0.0\/25 is too small .* Fix: use a \/24 or larger range/);
  });

  it("never overlaps and always stays inside the VNet", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 8, max: 24 }), (a, prefix) => {
        const vnet = subdivide({ base: (10 << 24) >>> 0, prefix: 8 }, prefix, a % 2 ** (prefix - 8));
        const layout = azureSubnetLayout({ cidr: formatCidr(vnet) });
        const all = AZURE_SUBNET_ROLES.map((role) => parseCidr(layout[role]));
        for (const subnet of all) expect(cidrContains(vnet, subnet)).toBe(true);
        for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) expect(cidrsOverlap(all[i]!, all[j]!)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe("NSG rules", () => {
  const layout = azureSubnetLayout({ cidr: "10.0.0.0/16" });
  const rules = securityRules(layout, { podsCidr: "100.64.0.0/14", workloadPorts: ["80"] }) as Record<string, Rule[]>;

  it("end every subnet's rules with a deny of all inbound traffic, before Azure's AllowVnetInBound", () => {
    for (const role of AZURE_SUBNET_ROLES) {
      const last = rules[role]!.at(-1)!;
      expect(last).toMatchObject({ name: "DenyAllInbound", access: "Deny", direction: "Inbound", sourceAddressPrefix: "*", priority: DENY_ALL_INBOUND_PRIORITY });
      expect(DENY_ALL_INBOUND_PRIORITY).toBeLessThan(65000);
      for (const rule of rules[role]!.slice(0, -1)) {
        expect(rule.access, `${role}/${rule.name}`).toBe("Allow");
        expect(rule.priority).toBeLessThan(DENY_ALL_INBOUND_PRIORITY);
        expect(rule.sourceAddressPrefix, `${role}/${rule.name} admits any source`).not.toBe("*");
      }
    }
  });

  it("admit only what each role needs", () => {
    const summary = (role: string) => rules[role]!.filter((r) => r.access === "Allow").map((r) => `${r.sourceAddressPrefix}->${r.destinationPortRange ?? r.destinationPortRanges!.join(",")}`);
    // The gateway's HTTP listener (a redirect once it has a certificate) and its HTTPS listener.
    expect(summary("gateway")).toEqual(["GatewayManager->65200-65535", "Internet->80,443", "AzureLoadBalancer->*"]);
    expect(summary("workloads")).toEqual([`${layout.gateway}->80`, `${layout.workloads}->*`, "100.64.0.0/14->*", "100.64.0.0/14->*", `${layout.workloads}->*`, "AzureLoadBalancer->*"]);
    expect(summary("endpoints")).toEqual([`${layout.workloads}->443,5671-5672,6380`, `${layout.gateway}->443`, "100.64.0.0/14->443,5671-5672,6380"]);
    expect(summary("databases")).toEqual([`${layout.workloads}->5432`, `${layout.databases}->5432`]);
  });

  it("let pods reach nodes and each other, and nodes reach pods, as Azure CNI Overlay needs with a subnet NSG (pod traffic is not encapsulated)", () => {
    const flows = rules["workloads"]!.filter((r) => r.access === "Allow" && r.protocol === "*").map((r) => `${r.name}: ${r.sourceAddressPrefix} -> ${r.destinationAddressPrefix}`);
    expect(flows).toEqual([
      `AllowWorkloads: ${layout.workloads} -> ${layout.workloads}`,
      `AllowPods: 100.64.0.0/14 -> ${layout.workloads}`,
      "AllowPodsToPods: 100.64.0.0/14 -> 100.64.0.0/14",
      `AllowNodesToPods: ${layout.workloads} -> 100.64.0.0/14`,
    ]);
    // Without a pod range (VMs, App Service) there is no pod rule at all.
    const vms = securityRules(layout, { workloadPorts: ["8080"] }) as Record<string, Rule[]>;
    expect(vms["workloads"]!.map((r) => r.name)).toEqual(["AllowGateway", "AllowWorkloads", "AllowAzureLoadBalancer", "DenyAllInbound"]);
  });
});

describe("Network", async () => {
  const { resources } = await runProgram(() => {
    const logs = new LogWorkspace("logs", { resourceGroupName: "shop-prod-rg", location: "eastus", retentionDays: 365, retain: true });
    new Network("net", {
      resourceGroupName: "shop-prod-rg",
      location: "eastus",
      cidr: "10.0.0.0/16",
      databaseSubnet: true,
      podsCidr: "100.64.0.0/14",
      diagnosticsWorkspaceId: logs.workspaceId,
      flowLogs: { workspaceResourceId: logs.workspaceId, workspaceId: logs.customerId, storageAccountName: "shopprodflow1a2b3c", retentionDays: 90 },
      privateDnsZones: ["privatelink.azurecr.io", "privatelink.vaultcore.azure.net"],
      tags: { "msa:landing-zone": "shop" },
    });
  });

  it("creates the VNet and one subnet per role, each with its own NSG and no default outbound access", () => {
    const vnet = single(resources, "azure-native:network:VirtualNetwork");
    expect(vnet.parent).toBe("net");
    expect(vnet.inputs["addressSpace"]).toEqual({ addressPrefixes: ["10.0.0.0/16"] });
    const subnets = byType(resources, "azure-native:network:Subnet");
    expect(subnets.map((s) => s.inputs["subnetName"])).toEqual(["gateway", "workloads", "endpoints", "databases"]);
    const groups = byType(resources, "azure-native:network:NetworkSecurityGroup");
    for (const subnet of subnets) {
      expect(subnet.inputs["defaultOutboundAccess"]).toBe(false);
      const nsg = groups.find((g) => g.outputs["id"] === (subnet.inputs["networkSecurityGroup"] as { id: string }).id)!;
      expect(nsg.name).toBe(`net-${String(subnet.inputs["subnetName"])}-nsg`);
      expect((nsg.inputs["securityRules"] as Rule[]).at(-1)!.name).toBe("DenyAllInbound");
    }
    // Azure rejects concurrent subnet changes in one VNet, so each waits for the one before.
    expect(subnets.slice(1).map((s) => s.dependsOn)).toEqual(subnets.slice(0, -1).map((s) => [s.name]));
  });

  it("routes only the workloads subnet through the NAT gateway and enables NSGs on private endpoints", () => {
    const nat = single(resources, "azure-native:network:NatGateway");
    expect(nat.inputs["sku"]).toEqual({ name: "Standard" });
    const ip = single(resources, "azure-native:network:PublicIPAddress");
    expect(nat.inputs["publicIpAddresses"]).toEqual([{ id: ip.outputs["id"] }]);
    const subnet = (role: string) => byType(resources, "azure-native:network:Subnet").find((s) => s.inputs["subnetName"] === role)!;
    expect(subnet("workloads").inputs["natGateway"]).toEqual({ id: nat.outputs["id"] });
    for (const role of ["gateway", "endpoints", "databases"]) expect(subnet(role).inputs["natGateway"]).toBeUndefined();
    expect(subnet("endpoints").inputs["privateEndpointNetworkPolicies"]).toBe("Enabled");
    expect(subnet("databases").inputs["delegations"]).toEqual([{ name: "Microsoft-DBforPostgreSQL", serviceName: "Microsoft.DBforPostgreSQL/flexibleServers" }]);
  });

  it("records VNet flow logs to a locked-down, retained storage account with Traffic Analytics into the workspace", () => {
    const flowLog = single(resources, "azure-native:network:FlowLog");
    const vnet = single(resources, "azure-native:network:VirtualNetwork");
    const account = single(resources, "azure-native:storage:StorageAccount");
    const workspace = single(resources, "azure-native:operationalinsights:Workspace");
    expect(flowLog.inputs).toMatchObject({
      networkWatcherName: "NetworkWatcher_eastus",
      resourceGroupName: "NetworkWatcherRG",
      targetResourceId: vnet.outputs["id"],
      storageId: account.outputs["id"],
      enabled: true,
      retentionPolicy: { enabled: true, days: 90 },
      flowAnalyticsConfiguration: { networkWatcherFlowAnalyticsConfiguration: { enabled: true, workspaceResourceId: workspace.outputs["id"], workspaceId: workspace.outputs["customerId"], workspaceRegion: "eastus" } },
    });
    expect(account.inputs).toMatchObject({ accountName: "shopprodflow1a2b3c", enableHttpsTrafficOnly: true, minimumTlsVersion: "TLS1_2", allowBlobPublicAccess: false, networkRuleSet: { defaultAction: "Deny", bypass: "AzureServices" } });
    expect(account.protect && account.retainOnDelete).toBe(true);
    expect(workspace.protect && workspace.retainOnDelete).toBe(true);
    expect(workspace.inputs["retentionInDays"]).toBe(365);
  });

  it("sends every NSG's and the VNet's diagnostics to the workspace", () => {
    const workspace = single(resources, "azure-native:operationalinsights:Workspace");
    const settings = byType(resources, "azure-native:monitor:DiagnosticSetting");
    const targets = settings.map((s) => String(s.inputs["resourceUri"]).split("/").pop());
    expect(targets.sort()).toEqual(["databases-nsg", "endpoints-nsg", "gateway-nsg", "net-vnet", "workloads-nsg"].map((t) => (t === "net-vnet" ? t : `net-${t}`)).sort());
    for (const setting of settings) {
      expect(setting.inputs["workspaceId"]).toBe(workspace.outputs["id"]);
      expect(setting.inputs["logs"]).toEqual([{ categoryGroup: "allLogs", enabled: true }]);
    }
  });

  it("creates and links the private DNS zones of the private endpoints", () => {
    const zones = byType(resources, "azure-native:privatedns:PrivateZone");
    expect(zones.map((z) => z.inputs["privateZoneName"])).toEqual(["privatelink.azurecr.io", "privatelink.vaultcore.azure.net"]);
    const links = byType(resources, "azure-native:privatedns:VirtualNetworkLink");
    expect(links).toHaveLength(2);
    for (const link of links) {
      expect(link.inputs["virtualNetwork"]).toEqual({ id: single(resources, "azure-native:network:VirtualNetwork").outputs["id"] });
      expect(link.inputs["registrationEnabled"]).toBe(false);
    }
  });

  it("rejects bad input before anything is registered", async () => {
    const attempt = (args: Partial<ConstructorParameters<typeof Network>[1]>) =>
      runProgram(() => {
        new Network("bad", { resourceGroupName: "rg", location: "eastus", ...args });
      });
    await expect(attempt({ cidr: "10.0.0.0/16", podsCidr: "10.0.0.0/14" })).rejects.toThrow(/podsCidr 10.0.0.0\/14 overlaps the VNet range 10.0.0.0\/16. Fix:/);
    await expect(attempt({ cidr: "10.0.0.0/16", subnetCidrs: { gateway: "10.1.0.0/24", workloads: "10.0.0.0/17", endpoints: "10.0.192.0/19", databases: "10.0.224.0/19" } })).rejects.toThrow(
      /subnetCidrs.gateway 10.1.0.0\/24 is outside the VNet range/,
    );
    await expect(attempt({ cidr: "10.0.0.0/16", subnetCidrs: { gateway: "10.0.128.0/27", workloads: "10.0.0.0/17", endpoints: "10.0.192.0/19", databases: "10.0.224.0/19" } })).rejects.toThrow(
      /smaller than the \/26 Application Gateway v2 needs/,
    );
  });
});
