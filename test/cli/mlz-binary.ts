import { join } from "node:path";
import { runCommand } from "../command.js";

const tsx = join(process.cwd(), "node_modules/.bin/tsx");

/** Runs the real `mlz` binary from the sources, as `npm run mlz` does; `code` is its exit code. */
export async function mlz(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const result = await runCommand(tsx, ["bin/mlz.ts", ...args]);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
