import { describe, expect, it } from "vitest";
import { planLandingZone } from "../../lib/plan/planner.js";
import { planWarnings } from "../../lib/report/plan-warnings.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";

const base: LandingZoneInput = { name: "shop", services: [{ name: "orders" }] };
const warn = (spec: Partial<LandingZoneInput>) => planWarnings(planLandingZone({ ...base, ...spec }));

describe("planWarnings", () => {
  it("warns that dev data is disposable, and prod data only when retention is turned off", () => {
    expect(warn({ environment: "dev" }).join("\n")).toContain("dev: stateful resources are deleted");
    expect(warn({ environment: "prod" }).join("\n")).not.toContain("deleted with their stacks");
    expect(warn({ environment: "prod", retainData: false }).join("\n")).toContain("retainData is false in prod");
  });

  it("warns of a zone outage cutting outbound traffic, with the fix in prod", () => {
    expect(warn({ environment: "prod", network: { natGateways: 1 } }).join("\n")).toContain("1 NAT gateway(s) for 3 zones: a zone outage cuts the others' outbound traffic. Fix: set network.natGateways");
    expect(warn({ environment: "prod" }).join("\n")).not.toContain("NAT gateway(s) for");
  });

  it("warns of open routes, a missing WAF in prod and an unbuffered log pipeline", () => {
    const warnings = warn({ environment: "prod", gateway: { auth: "none", waf: false }, logging: { buffer: "none" } }).join("\n");
    expect(warnings).toContain("gateway.auth is none");
    expect(warnings).toContain("gateway.waf is false in prod");
    expect(warnings).toContain("logging.buffer is none");
  });

  it("warns when the gateway's HTTP API needs more routes than API Gateway's default quota, on AWS only", () => {
    const services = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `svc-${i}` }));
    // The catch-all serves the first load balancer: 90 routes, or 45 on Beanstalk, whose host rule per environment counts too.
    expect(warn({ tier: "paas", services: services(195) }).join("\n")).toContain("the gateway's HTTP API needs 302 routes, above API Gateway's default quota of 300 routes per API");
    expect(warn({ tier: "paas", services: services(194) }).join("\n")).not.toContain("routes per API");
    expect(warn({ services: services(240) }).join("\n")).toContain("the gateway's HTTP API needs 302 routes");
    expect(warn({ services: services(239) }).join("\n")).not.toContain("routes per API");
    expect(warn({ cloud: "gcp", services: services(240) }).join("\n")).not.toContain("routes per API");
  });

  it("names what is billed hourly, and nothing for an existing cluster's control plane", () => {
    expect(warn({}).at(-1)).toBe("billed hourly even when idle: the Kubernetes control plane, 1 NAT gateway(s), the OpenSearch domain, the session cache");
    expect(warn({ cloud: "kubernetes", tier: "caas" }).join("\n")).not.toContain("billed hourly");
  });
});

describe("renderChecks", () => {
  const stack = { stackName: "s", resources: 10, outputs: 1, templateBytes: 2048, resourceTypes: {}, imports: 0, dynamicReferences: 0 };
  it("passes stacks within every limit and fails the ones past a limit, naming them", async () => {
    const { renderChecks } = await import("../../lib/cli/commands.js");
    expect(renderChecks([stack])).not.toContain("✗");
    const failing = renderChecks([stack, { ...stack, stackName: "big", resources: 501, imports: 2, dynamicReferences: 61 }]);
    expect(failing).toContain("✗ resources: largest big has 501 of 500");
    expect(failing).toContain("✗ dynamic references: largest big has 61 of 60");
    expect(failing).toContain("✗ stacks importing exports: big");
  });
});
