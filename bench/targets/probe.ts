/**
 * What every measured process reports when it exits, on one stderr line the runner parses:
 * peak RSS and CPU time from the kernel (`process.resourceUsage`), plus what the target counted.
 */
export const PROBE_PREFIX = "@bench ";

export interface ProbeReport {
  /** Peak resident set size, KiB. */
  readonly maxRssKiB: number;
  /** User + system CPU time, ms. */
  readonly cpuMs: number;
  /** Resources the target produced (templates or registrations), when it counts them. */
  readonly resources?: number;
  /** Templates over the landing zone's CloudFormation limit check, recorded instead of failing. */
  readonly overLimit?: readonly string[];
  /** Construct warnings the synthesis reported (validation on), recorded instead of failing. */
  readonly warnings?: readonly string[];
}

export function reportAtExit(counted: () => number | undefined = () => undefined, overLimit: () => readonly string[] = () => [], warned: () => readonly string[] = () => []): void {
  process.on("exit", () => {
    const usage = process.resourceUsage();
    const resources = counted();
    const problems = overLimit();
    const warnings = warned();
    const report: ProbeReport = {
      maxRssKiB: usage.maxRSS,
      cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000),
      ...(resources !== undefined ? { resources } : {}),
      ...(problems.length > 0 ? { overLimit: problems } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
    process.stderr.write(`${PROBE_PREFIX}${JSON.stringify(report)}\n`);
  });
}

/** `node target.js <args...>`: the arguments after the script. */
export function args(count: number, usage: string): string[] {
  const given = process.argv.slice(2);
  if (given.length !== count) {
    process.stderr.write(`usage: ${usage}\n`);
    process.exit(2);
  }
  return given;
}
