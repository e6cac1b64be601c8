import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCommand } from "../command.js";

const tsx = join(process.cwd(), "node_modules/.bin/tsx");
const bench = (...args: string[]) => runCommand(tsx, ["bench/run.ts", ...args]);

describe("npm run bench: its arguments", () => {
  it.each([
    [["--runs", "0"], '--runs: "0" is not a whole number of at least 1'],
    [["--n", "10,abc"], '--n: "abc" is not a whole number of at least 1'],
    [["--n=10,1e2"], '--n: "1e2" is not a whole number of at least 1'],
    [["--pulumi-max-n="], '--pulumi-max-n: "" is not a whole number of at least 0'],
    [["--only", "ours,cdk"], '--only: "cdk" is not a variant. Fix: use floor, l1, ours, ours-tsx, pulumi'],
    [["--validation", "maybe"], '--validation: "maybe" is not off, on or both'],
    [["--quik"], "Unknown option '--quik'"],
  ])("refuses %j before building anything, with the usage and exit 2", async (args, message) => {
    const run = await bench(...args);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`npm run bench: ${message}`);
    expect(run.stderr).toContain("Usage: npm run bench -- [--quick]");
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stdout).toBe("");
  });
});
