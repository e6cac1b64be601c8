/** One problem in a landing-zone spec, located by a path such as `services[2].database.engine`. */
export interface SpecIssue {
  readonly path: string;
  readonly message: string;
  /** What to change to fix it. */
  readonly fix?: string;
}

export function formatIssue(issue: SpecIssue): string {
  const where = issue.path === "" ? "(spec)" : issue.path;
  return issue.fix ? `${where}: ${issue.message}. Fix: ${issue.fix}` : `${where}: ${issue.message}`;
}

/** Thrown for a spec a user must correct; its message lists every issue, one per line. */
export class SpecError extends Error {
  readonly issues: readonly SpecIssue[];

  constructor(issues: readonly SpecIssue[], source?: string) {
    const header = `Invalid landing-zone spec${source ? ` ${source}` : ""} (${issues.length} ${issues.length === 1 ? "problem" : "problems"}):`;
    super([header, ...issues.map((i) => `  - ${formatIssue(i)}`)].join("\n"));
    this.name = "SpecError";
    this.issues = issues;
  }
}

/** Renders a zod-style path (`["services", 2, "name"]`) as `services[2].name`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}
