import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mlz } from "./mlz-binary.js";
import { diagramFormatFor } from "../../lib/cli/index.js";



const tempDir = () => mkdtempSync(join(tmpdir(), "mlz-diagram-"));

describe("mlz diagram (the real binary)", () => {
  it("writes Mermaid for .mmd, with the platform and broker subgraphs and the event edges", async () => {
    const out = join(tempDir(), "zone.mmd");
    const run = await mlz("diagram", "test/fixtures/minimal.yaml", "-o", out);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Wrote ${out} \\(mermaid: \\d+ nodes, \\d+ edges\\)`));
    const text = readFileSync(out, "utf8");
    expect(text).toContain("flowchart LR");
    expect(text).toContain('subgraph g_platform["EKS (caas)"]');
    expect(text).toContain('subgraph g_broker["Broker (sns-sqs)"]');
    expect(text).toContain('service__orders -->|"publish"| topic__order_placed');
    expect(text).toContain('topic__order_placed -->|"subscribe"| service__payments');
  });

  it("renders SVG for .svg with the services, topic and platform on it, into a directory it creates", async () => {
    const out = join(tempDir(), "docs", "zone.svg");
    const run = await mlz("diagram", "test/fixtures/minimal.yaml", "--out", out);
    expect(run.code).toBe(0);
    const svg = readFileSync(out, "utf8");
    expect(svg).toMatch(/^(<\?xml|<svg)/);
    for (const text of [">orders</text>", ">payments</text>", ">order&#45;placed</text>", ">EKS (caas)</text>"]) expect(svg).toContain(text);
  });

  it("prints Mermaid on stdout without -o", async () => {
    const run = await mlz("diagram", "test/fixtures/minimal.yaml");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^---\ntitle: "mini \(aws\/caas, dev, ap-northeast-2\)"\n---\nflowchart LR\n/);
  });

  it("exits 1 with the spec's problems and writes nothing for an invalid spec", async () => {
    const dir = tempDir();
    const run = await mlz("diagram", "test/fixtures/invalid.yaml", "-o", join(dir, "zone.svg"));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Invalid landing-zone spec test/fixtures/invalid.yaml");
    expect(run.stderr).toContain('cloud: expected one of aws | gcp | azure | kubernetes, got "oracle"');
    expect(run.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("exits 1 naming a directory path it cannot write, without a stack trace", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "zone.svg"));
    const run = await mlz("diagram", "test/fixtures/minimal.yaml", "-o", join(dir, "zone.svg"));
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`cannot write ${join(dir, "zone.svg")}: EISDIR: illegal operation on a directory, open '${join(dir, "zone.svg")}'. Fix: the path is a directory; name a file\n`);
  });

  it("exits 1 for an output extension it cannot render, writing nothing", async () => {
    const dir = tempDir();
    const run = await mlz("diagram", "test/fixtures/minimal.yaml", "-o", join(dir, "zone.png"));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot tell the diagram format of .*zone\.png\. Fix: end the file name in \.svg, \.mmd/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("diagramFormatFor", () => {
  it("picks the format from the extension, case-insensitively", async () => {
    expect(["a.svg", "a.SVG", "a.mmd", "a.mermaid", "a.dot", "a.gv", "a.png", "a"].map(diagramFormatFor)).toEqual(["svg", "svg", "mermaid", "mermaid", "dot", "dot", undefined, undefined]);
  });
});
