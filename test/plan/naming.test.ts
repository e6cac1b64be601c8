import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NAME_RULES, pascalCase, physicalName, stackName, type NameKind } from "../../lib/plan/naming.js";

describe("physical names", () => {
  it("joins parts and keeps short names readable", () => {
    expect(physicalName("elasticache", "shop", "prod", "sessions")).toBe("shop-prod-sessions");
    expect(stackName("shop", "prod", "svc-orders")).toBe("shop-prod-svc-orders");
    expect(physicalName("azureStorage", "shop", "prod", "logs")).toBe("shopprodlogs");
  });

  it("truncates with a hash so long names stay distinct", () => {
    const a = physicalName("opensearch", "a-very-long-landing-zone", "prod", "logs-one");
    const b = physicalName("opensearch", "a-very-long-landing-zone", "prod", "logs-two");
    expect(a.length).toBeLessThanOrEqual(28);
    expect(a).not.toBe(b);
  });

  it("obeys every rule for any input", () => {
    const kinds = Object.keys(NAME_RULES) as NameKind[];
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.array(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 4 }), (kind, parts) => {
        const rule = NAME_RULES[kind];
        const name = physicalName(kind, ...parts);
        expect(name.length).toBeLessThanOrEqual(rule.maxLength);
        for (const c of name) expect(rule.allowed.test(c)).toBe(true);
        if (rule.lowercase) expect(name).toBe(name.toLowerCase());
        if (rule.leadingLetter) expect(name).toMatch(/^[A-Za-z]/);
        expect(physicalName(kind, ...parts)).toBe(name);
      }),
      { numRuns: 500 },
    );
  });

  it("makes construct IDs", () => {
    expect(pascalCase("order-history")).toBe("OrderHistory");
  });
});
