import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ENGINE_SUPPORT } from "../../lib/plan/catalog.js";
import { renderCoverageTable, renderFeatureTable, withFeatureTables } from "../../lib/report/feature-table.js";

describe("README feature tables", () => {
  it("are committed and current (regenerate with `npm run docs`)", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    expect(withFeatureTables(readme)).toBe(readme);
  });

  it("mark a pattern per target only where the engine builds it", () => {
    const table = renderFeatureTable();
    const row = (pattern: string) => table.split("\n").find((line) => line.startsWith(`| ${pattern}`))!.split("|").slice(2, -1).map((c) => c.trim());
    const [cdkAws] = row("Central session store (Redis)");
    expect(cdkAws).toContain("elasticache-redis");
    for (const [cloud, support] of Object.entries(ENGINE_SUPPORT.pulumi)) {
      if (!support?.saga) expect(row("Saga (orchestration or choreography)")[["aws", "gcp", "azure", "kubernetes"].indexOf(cloud) + 1]).toBe("—");
    }
  });

  it("shows the clouds' service models, built or not", () => {
    const coverage = renderCoverageTable();
    expect(coverage).toMatch(/\| aws \| .* \| ✓ CDK, Pulumi \| .* \|/);
    expect(coverage).toMatch(/\| kubernetes \| — \| ✓ Pulumi \| — \|/);
  });

  it("refuses a README without the markers, naming the fix", () => {
    expect(() => withFeatureTables("# readme")).toThrow(/Fix: add both markers/);
  });
});
