import { describe, expect, it } from "vitest";
import { ServiceDiscovery, type ServiceDiscoveryArgs } from "../../../lib/pulumi/azure/service-discovery.js";
import { byType, runProgram, single } from "../harness.js";

const args = (services: ServiceDiscoveryArgs["services"], extra: Partial<ServiceDiscoveryArgs> = {}): ServiceDiscoveryArgs => ({
  resourceGroupName: "shop-dev",
  location: "koreacentral",
  loadBalancerName: "shop-dev-discovery",
  zoneName: "shop.internal",
  virtualNetworkId: "/subscriptions/s/resourceGroups/shop-dev/providers/Microsoft.Network/virtualNetworks/v",
  subnetId: "/subscriptions/s/resourceGroups/shop-dev/providers/Microsoft.Network/virtualNetworks/v/subnets/workloads",
  zones: ["1", "2", "3"],
  services,
  ...extra,
});

describe("ServiceDiscovery on its own", () => {
  it("answers every service on port 80 by default, so callers need only the domain", async () => {
    let discovery: ServiceDiscovery | undefined;
    const { resources } = await runProgram(async () => {
      discovery = new ServiceDiscovery("shop", args([{ name: "orders", port: 8080, healthPath: "/health" }, { name: "payments", port: 9000, healthPath: "/ready" }]));
    });
    expect(discovery!.urls).toEqual({ orders: "http://orders.shop.internal", payments: "http://payments.shop.internal" });
    expect(discovery!.domain).toBe("shop.internal");
    const lb = single(resources, "azure-native:network:LoadBalancer");
    expect((lb.inputs["loadBalancingRules"] as { name: string; frontendPort: number; backendPort: number }[]).map((r) => [r.name, r.frontendPort, r.backendPort])).toEqual([
      ["orders", 80, 8080],
      ["payments", 80, 9000],
    ]);
    expect((lb.inputs["probes"] as { name: string; port: number; requestPath: string }[]).map((p) => [p.name, p.port, p.requestPath])).toEqual([
      ["orders", 8080, "/health"],
      ["payments", 9000, "/ready"],
    ]);
    // Each record carries the address its own frontend got from Azure.
    const got = Object.fromEntries((lb.outputs["frontendIPConfigurations"] as { name: string; privateIPAddress: string }[]).map((f) => [f.name, f.privateIPAddress]));
    expect(byType(resources, "azure-native:privatedns:PrivateRecordSet").map((r) => [r.name, r.inputs["aRecords"]])).toEqual([
      ["shop-orders", [{ ipv4Address: got["orders"] }]],
      ["shop-payments", [{ ipv4Address: got["payments"] }]],
    ]);
  });

  it("names the port in the URLs when the frontends answer elsewhere, and refuses a port TCP has not", async () => {
    let discovery: ServiceDiscovery | undefined;
    await runProgram(async () => {
      discovery = new ServiceDiscovery("shop", args([{ name: "orders", port: 8080, healthPath: "/health" }], { frontendPort: 8080 }));
    });
    expect(discovery!.urls).toEqual({ orders: "http://orders.shop.internal:8080" });
    expect(() => new ServiceDiscovery("bad", args([{ name: "orders", port: 8080, healthPath: "/health" }], { frontendPort: 70000 }))).toThrow(
      "ServiceDiscovery bad: frontendPort 70000 is not a TCP port. Fix: use an integer from 1 to 65535, or leave it unset for 80",
    );
  });
});
