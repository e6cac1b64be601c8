import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocateSubnets, cidrContains, cidrsOverlap, formatCidr, parseCidr, subdivide } from "../../lib/plan/cidr.js";

describe("CIDR maths", () => {
  it("parses and formats", () => {
    expect(formatCidr(parseCidr("10.1.0.0/16"))).toBe("10.1.0.0/16");
    expect(() => parseCidr("10.0.0.1/16")).toThrow(/host bits set/);
    expect(() => parseCidr("300.0.0.0/8")).toThrow(/octet above 255/);
  });

  it("subdivides", () => {
    expect(formatCidr(subdivide(parseCidr("10.0.0.0/16"), 18, 3))).toBe("10.0.192.0/18");
    expect(() => subdivide(parseCidr("10.0.0.0/16"), 18, 4)).toThrow(/out of range/);
  });

  it("lays out a /16 over three zones", () => {
    expect(allocateSubnets("10.0.0.0/16", 3)).toEqual({
      private: ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"],
      public: ["10.0.128.0/20", "10.0.144.0/20", "10.0.160.0/20"],
      isolated: ["10.0.192.0/20", "10.0.208.0/20", "10.0.224.0/20"],
    });
  });

  it("refuses subnets smaller than AWS allows", () => {
    expect(() => allocateSubnets("10.0.0.0/24", 6)).toThrow(/too small for 6 zones/);
  });

  it("never overlaps and always stays inside the VPC", () => {
    const vpcs = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 16, max: 22 }), fc.integer({ min: 1, max: 6 }));
    fc.assert(
      fc.property(vpcs, ([a, b, prefix, zones]) => {
        const vpc = subdivide({ base: ((a << 24) >>> 0) + (b << 16), prefix: 16 }, prefix, 0);
        const layout = allocateSubnets(formatCidr(vpc), zones);
        const all = [...layout.public, ...layout.private, ...layout.isolated].map(parseCidr);
        expect(all).toHaveLength(zones * 3);
        for (const subnet of all) expect(cidrContains(vpc, subnet)).toBe(true);
        for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) expect(cidrsOverlap(all[i]!, all[j]!)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
