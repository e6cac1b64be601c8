import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cidrContains, cidrsOverlap, parseCidr } from "../../lib/plan/cidr.js";
import { appEngineLocation, appEngineServiceName, gcpImage, gcpNetworkLayout, gcpServiceAccountId } from "../../lib/plan/gcp.js";

describe("GCP planning helpers", () => {
  it("lays a /16 out as subnet, private service access and control-plane ranges", () => {
    expect(gcpNetworkLayout({ cidr: "10.0.0.0/16", podsCidr: "100.64.0.0/14", servicesCidr: "100.68.0.0/20" })).toEqual({
      subnet: "10.0.0.0/17",
      pods: "100.64.0.0/14",
      services: "100.68.0.0/20",
      privateServiceAccess: { address: "10.0.192.0", prefixLength: 18, cidr: "10.0.192.0/18" },
      controlPlane: "10.0.128.0/28",
    });
  });

  it("keeps every range inside the VPC and apart from the others, for any /16-/22", () => {
    const vpcs = fc.tuple(fc.integer({ min: 1, max: 99 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 16, max: 22 }));
    fc.assert(
      fc.property(vpcs, ([a, b, prefix]) => {
        const base = (((a << 24) >>> 0) + (b << 16)) >>> 0;
        const masked = (base & ((0xffffffff << (32 - prefix)) >>> 0)) >>> 0;
        const cidr = `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.0/${prefix}`;
        const layout = gcpNetworkLayout({ cidr, podsCidr: "100.64.0.0/14", servicesCidr: "100.68.0.0/20" });
        const own = [layout.subnet, layout.privateServiceAccess.cidr, layout.controlPlane].map(parseCidr);
        for (const range of own) expect(cidrContains(parseCidr(cidr), range)).toBe(true);
        own.forEach((x, i) => own.slice(i + 1).forEach((y) => expect(cidrsOverlap(x, y)).toBe(false)));
        expect(layout.privateServiceAccess.prefixLength).toBeLessThanOrEqual(24);
      }),
    );
  });

  it("names service accounts within GCP's 6-30 character rule", () => {
    expect(gcpServiceAccountId("shop", "orders")).toBe("shop-orders");
    expect(gcpServiceAccountId("a", "b")).toBe("a-b-sa");
    const long = gcpServiceAccountId("a-very-long-landing-zone", "order-history-projection");
    expect(long.length).toBe(30);
    expect(long).toMatch(/^[a-z][-a-z0-9]*[a-z0-9]$/);
  });

  it("maps regions to App Engine locations and the first service to App Engine's default service", () => {
    expect(appEngineLocation("us-central1")).toBe("us-central");
    expect(appEngineLocation("europe-west1")).toBe("europe-west");
    expect(appEngineLocation("asia-northeast3")).toBe("asia-northeast3");
    const plan = { services: [{ name: "orders" }, { name: "payments" }] };
    expect(appEngineServiceName(plan, "orders")).toBe("default");
    expect(appEngineServiceName(plan, "payments")).toBe("payments");
    expect(() => appEngineServiceName(plan, "ghost")).toThrow(/"ghost" is not in plan.services. Fix: use one of orders, payments/);
  });

  it("puts planned images under their Artifact Registry repository and leaves the spec's own images alone", () => {
    const registry = "asia-northeast3-docker.pkg.dev/p/shop-orders";
    expect(gcpImage({ image: "shop-orders:latest", repository: "shop-orders" }, registry)).toBe(`${registry}/shop-orders:latest`);
    expect(gcpImage({ image: "ghcr.io/acme/orders:1.2", repository: "shop-orders" }, registry)).toBe("ghcr.io/acme/orders:1.2");
  });
});
