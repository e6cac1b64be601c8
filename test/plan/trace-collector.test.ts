import { describe, expect, it } from "vitest";
import { centralCollectorAddress, collectorEndpoint, PlanError, planLandingZone } from "../../lib/plan/index.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";

const base = {
  name: "shop",
  cloud: "gcp",
  region: "asia-northeast3",
  tier: "paas",
  mesh: { kind: "none" },
  tracing: { backend: "cloud" },
  logging: { stack: "elk", buffer: "redis" },
  services: [{ name: "orders" }],
} satisfies LandingZoneInput;
const network = (cidr: string) => ({ cidr, podsCidr: "100.64.0.0/14", servicesCidr: "100.68.0.0/20" });

describe("where services export OTLP", () => {
  it("is the central collector's private address on GCP App Engine: the last one a resource may hold in the services' subnet", () => {
    expect(centralCollectorAddress(network("10.0.0.0/16"))).toBe("10.0.127.253");
    expect(centralCollectorAddress(network("172.16.0.0/20"))).toBe("172.16.7.253");
    expect(planLandingZone(base).tracing?.collectorEndpoint).toBe("http://10.0.127.253:4317");
    expect(planLandingZone({ ...base, network: { cidr: "10.8.0.0/20" } }).tracing?.collectorEndpoint).toBe("http://10.8.7.253:4317");
  });

  it("stays the cluster's collector on caas and the host's collector on VMs and other app platforms", () => {
    expect(planLandingZone({ ...base, tier: "caas" }).tracing?.collectorEndpoint).toBe(collectorEndpoint("caas"));
    expect(planLandingZone({ ...base, tier: "iaas" }).tracing?.collectorEndpoint).toBe(collectorEndpoint("iaas"));
    expect(planLandingZone({ ...base, cloud: "aws", region: "ap-northeast-2", logging: { stack: "none", buffer: "none" } }).tracing?.collectorEndpoint).toBe(collectorEndpoint("paas"));
  });

  it("refuses tracing on App Engine without the logging cluster the collector runs on", () => {
    const plan = () => planLandingZone({ ...base, logging: { stack: "none", buffer: "none" } });
    expect(plan).toThrow(PlanError);
    expect(plan).toThrow(/tracing.backend: "cloud" on gcp\/paas exports through a collector on the logging cluster, but logging.stack is "none", so there is none. Fix: set logging.stack: elk, or tracing.backend: none/);
    expect(planLandingZone({ ...base, tracing: { backend: "none" }, logging: { stack: "none", buffer: "none" } }).tracing).toBeUndefined();
  });
});
