import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * One temporary directory per test run: CDK apps without an outdir, `mlz` children and asset
 * bundles write below it (workers and children inherit TMPDIR), and it is removed when the run ends,
 * so repeated runs never fill the disk.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "msa-landing-zone-tests-"));
  process.env["TMPDIR"] = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
