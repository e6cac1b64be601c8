import { readFileSync } from "node:fs";
import { parse as parseYaml, YAMLParseError } from "yaml";
import type { z } from "zod";
import { formatPath, SpecError, type SpecIssue } from "./errors.js";
import { normalizeSpec } from "./normalize.js";
import { landingZoneSchema, type LandingZoneInput } from "./schema.js";
import type { LandingZoneSpec } from "./types.js";
import { checkSpecRules } from "./validate.js";

export type SpecResult = { readonly ok: true; readonly spec: LandingZoneSpec } | { readonly ok: false; readonly issues: readonly SpecIssue[] };

/** Parses, normalizes and validates a spec object without throwing. */
export function validateSpec(input: unknown): SpecResult {
  const parsed = landingZoneSchema.safeParse(input);
  if (!parsed.success) return { ok: false, issues: parsed.error.issues.map((i) => toSpecIssue(i, input)) };
  const spec = normalizeSpec(parsed.data);
  const issues = checkSpecRules(spec);
  return issues.length > 0 ? { ok: false, issues } : { ok: true, spec };
}

/** Parses, normalizes and validates a spec object; throws a {@link SpecError} listing every problem. */
export function parseSpec(input: LandingZoneInput | LandingZoneSpec | unknown, source?: string): LandingZoneSpec {
  const result = validateSpec(input);
  if (!result.ok) throw new SpecError(result.issues, source);
  return result.spec;
}

/** Parses YAML (or JSON) text into a validated spec. */
export function parseSpecText(text: string, source?: string): LandingZoneSpec {
  let data: unknown;
  try {
    data = parseYaml(text, { prettyErrors: true, logLevel: "error" });
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const [line, col] = error.linePos?.[0] ? [error.linePos[0].line, error.linePos[0].col] : [0, 0];
      throw new SpecError([{ path: "", message: `YAML syntax error at line ${line}, column ${col}: ${error.message.split("\n")[0]}`, fix: "correct the YAML syntax" }], source);
    }
    // The parser reports some document errors (an alias to no anchor, say) as plain errors.
    throw new SpecError([{ path: "", message: `YAML error: ${(error as Error).message.split("\n")[0]}`, fix: "correct the YAML document" }], source);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new SpecError([{ path: "", message: "the document is not a mapping", fix: "start the file with keys such as name: and cloud:" }], source);
  }
  return parseSpec(data, source);
}

/** Reads and validates a spec file. */
export function loadSpecFile(file: string): LandingZoneSpec {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new SpecError([{ path: "", message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, fix: "pass the path of an existing landing-zone.yaml" }], file);
  }
  return parseSpecText(text, file);
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = input;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return `"${value}"`;
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : `a list of ${value.length}`;
  if (value === null) return "null";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${String(value)}`;
}

function toSpecIssue(issue: z.core.$ZodIssue, input: unknown): SpecIssue {
  const path = formatPath(issue.path);
  const received = valueAt(input, issue.path);
  switch (issue.code) {
    case "invalid_value": {
      const options = issue.values.map((v) => String(v)).join(" | ");
      return { path, message: `expected one of ${options}, got ${describe(received)}`, fix: `use one of: ${options}` };
    }
    case "invalid_type":
      if (received === undefined) return { path, message: "is required", fix: `add ${path || "the key"} (${issue.expected})` };
      return { path, message: `expected ${issue.expected}, got ${describe(received)}`, fix: `write a ${issue.expected}` };
    case "unrecognized_keys":
      return {
        path: issue.keys.length === 1 ? formatPath([...issue.path, issue.keys[0]!]) : path,
        message: `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`,
        fix: "remove it or check its spelling against the schema (schema/landing-zone.schema.json)",
      };
    case "too_small":
    case "too_big": {
      const bound = issue.code === "too_small" ? "at least" : "at most";
      const limit = String(issue.code === "too_small" ? issue.minimum : issue.maximum);
      const unit = issue.origin === "string" ? " characters" : issue.origin === "array" ? " items" : "";
      return { path, message: `must be ${bound} ${limit}${unit}, got ${describe(received)}`, fix: `use a value ${bound} ${limit}${unit}` };
    }
    case "invalid_union":
      return { path, message: `got ${describe(received)}, which matches none of the accepted forms`, fix: "see the schema for the accepted forms" };
    default:
      return { path, message: `${issue.message}, got ${describe(received)}` };
  }
}
