import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { azureSubnetLayout } from "../../lib/plan/azure.js";
import { azureIaasAddressProblems, azureIaasDynamicAddresses, DISCOVERY_PORT, discoveryEnvironment, discoveryHost, discoveryUrl, logBufferPrivateIp } from "../../lib/plan/azure-discovery.js";
import { PlanError, planLandingZone } from "../../lib/plan/planner.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";

const example = parse(readFileSync("examples/azure/landing-zone.yaml", "utf8")) as LandingZoneInput;
/** The Azure example on VMs, with the given network and services. */
function onVms(overrides: Partial<LandingZoneInput> = {}): LandingZoneInput {
  return { ...example, tier: "iaas", mesh: { kind: "none" }, ...overrides } as LandingZoneInput;
}

describe("Azure VM discovery: values that never depend on the other services", () => {
  it("gives every service the same one variable, and reaches each service on port 80 by its name", () => {
    expect(discoveryEnvironment("shop")).toEqual({ SERVICE_DISCOVERY_DOMAIN: "shop.internal" });
    expect(DISCOVERY_PORT).toBe(80);
    expect(discoveryHost("shop", "order-history")).toBe("order-history.shop.internal");
    expect(discoveryUrl("shop", "orders")).toBe("http://orders.shop.internal");
  });

  it("puts the log buffer at the first reserved address of the workloads subnet, whatever the number of services", () => {
    const workloads = azureSubnetLayout({ cidr: "10.0.0.0/16" }).workloads;
    expect(workloads).toBe("10.0.0.0/17");
    expect(logBufferPrivateIp(workloads)).toBe("10.0.127.250");
    expect(logBufferPrivateIp(azureSubnetLayout({ cidr: "10.1.0.0/24" }).workloads)).toBe("10.1.0.122");
  });

  it("counts the dynamic addresses: instances at replicas.max, one frontend per service, the logging cluster's nodes", () => {
    const plan = planLandingZone(onVms(), { engine: "pulumi" });
    const instances = plan.services.reduce((sum, s) => sum + s.replicas.max, 0);
    // Logging cluster in prod: the system pool (max 6) and the logging pool at maxNodes, each plus one surge node.
    expect(azureIaasDynamicAddresses(plan)).toBe(instances + plan.services.length + 6 + 1 + plan.logging!.cluster!.maxNodes + 1);
    const noDiscovery = planLandingZone(onVms({ discovery: { enabled: false }, logging: { stack: "none", buffer: "none" } }), { engine: "pulumi" });
    expect(azureIaasDynamicAddresses(noDiscovery)).toBe(instances);
  });

  it("refuses a network whose dynamic addresses could reach the log buffer's fixed address, naming the path, values and fix", () => {
    const services = example.services!.map((s) => ({ ...s, replicas: { min: 2, max: 12 } }));
    const spec = onVms({ network: { ...example.network, cidr: "10.0.0.0/24" }, services } as Partial<LandingZoneInput>);
    expect(() => planLandingZone(spec, { engine: "pulumi" })).toThrow(PlanError);
    expect(() => planLandingZone(spec, { engine: "pulumi" })).toThrow(
      /network\.cidr: 10\.0\.0\.0\/24 leaves 60 dynamic addresses in the workloads subnet 10\.0\.0\.0\/25, but .* need up to \d+, which would reach the log buffer's fixed address 10\.0\.0\.122\. Fix: use a larger network\.cidr, or lower services\[\]\.replicas\.max/,
    );
    // The same services fit a larger network.
    expect(() => planLandingZone({ ...spec, network: { ...example.network, cidr: "10.0.0.0/22" } } as LandingZoneInput, { engine: "pulumi" })).not.toThrow();
  });

  it("applies only to azure iaas", () => {
    const plan = planLandingZone(onVms(), { engine: "pulumi" });
    expect(azureIaasAddressProblems({ ...plan, network: { ...plan.network, cidr: "10.0.0.0/24" }, services: plan.services.map((s) => ({ ...s, replicas: { min: 1, max: 100 } })) })).toHaveLength(1);
    expect(azureIaasAddressProblems({ ...plan, tier: "caas", network: { ...plan.network, cidr: "10.0.0.0/24" }, services: plan.services.map((s) => ({ ...s, replicas: { min: 1, max: 100 } })) })).toEqual([]);
  });
});
