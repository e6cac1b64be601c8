import { landingZoneJsonSchema } from "../spec/json-schema.js";

/** The subset of JSON Schema the spec's schema uses. */
interface SchemaNode {
  readonly type?: string | readonly string[];
  readonly description?: string;
  readonly default?: unknown;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly pattern?: string;
  readonly format?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly items?: SchemaNode;
  readonly additionalProperties?: SchemaNode | boolean;
  readonly anyOf?: readonly SchemaNode[];
}

export interface SpecReferenceRow {
  /** `services[].database.engine`. */
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly default?: string;
  /** Allowed values, range or pattern. */
  readonly constraint?: string;
  readonly description?: string;
}

function typeOf(node: SchemaNode): string {
  if (node.anyOf) return node.anyOf.map(typeOf).join(" or ");
  if (node.enum) return "enum";
  if (node.type === "array") return `list of ${node.items ? typeOf(node.items) : "values"}`;
  if (node.type === "object" && node.additionalProperties && typeof node.additionalProperties === "object" && !node.properties) {
    return `map of ${typeOf(node.additionalProperties)}`;
  }
  return Array.isArray(node.type) ? node.type.join(" | ") : String(node.type ?? "any");
}

function constraintOf(node: SchemaNode): string | undefined {
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(", ");
  const parts: string[] = [];
  // zod writes "no upper bound" on integers as the largest safe integer.
  const maximum = node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER ? node.maximum : undefined;
  const minimum = node.minimum ?? (node.exclusiveMinimum !== undefined ? `> ${node.exclusiveMinimum}` : undefined);
  if (minimum !== undefined && maximum !== undefined) parts.push(`${minimum}–${maximum}`);
  else if (minimum !== undefined) parts.push(typeof minimum === "number" ? `≥ ${minimum}` : minimum);
  else if (maximum !== undefined) parts.push(`≤ ${maximum}`);
  if (node.minLength !== undefined && node.minLength > 1) parts.push(`at least ${node.minLength} characters`);
  if (node.maxLength !== undefined) parts.push(`at most ${node.maxLength} characters`);
  if (node.minItems !== undefined && node.minItems > 0) parts.push(`at least ${node.minItems} items`);
  if (node.format) parts.push(node.format);
  // A named format says more than its regular expression.
  if (node.pattern && !node.format) parts.push(`\`${node.pattern}\``);
  return parts.length > 0 ? parts.join(", ") : undefined;
}

function formatDefault(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "object" && value !== null && Object.keys(value).length === 0) return undefined;
  return `\`${JSON.stringify(value)}\``;
}

/** Every key of the spec with its type, default, constraint and description, in schema order. */
export function specReferenceRows(): SpecReferenceRow[] {
  const rows: SpecReferenceRow[] = [];
  const visit = (node: SchemaNode, path: string, required: boolean): void => {
    const objectForm = node.anyOf?.find((n) => n.type === "object");
    const defaultText = formatDefault(node.default);
    const constraint = constraintOf(node);
    if (path !== "") {
      rows.push({
        path,
        type: typeOf(node),
        required,
        ...(defaultText ? { default: defaultText } : {}),
        ...(constraint ? { constraint } : {}),
        ...(node.description ? { description: node.description } : {}),
      });
    }
    const object = node.type === "object" ? node : objectForm;
    for (const [key, child] of Object.entries(object?.properties ?? {})) visit(child, path === "" ? key : `${path}.${key}`, object?.required?.includes(key) ?? false);
    if (node.type === "array" && node.items) {
      const items = node.items.anyOf?.find((n) => n.type === "object") ?? node.items;
      for (const [key, child] of Object.entries(items.properties ?? {})) visit(child, `${path}[].${key}`, items.required?.includes(key) ?? false);
    }
  };
  visit(landingZoneJsonSchema() as SchemaNode, "", true);
  return rows;
}

const cell = (text: string | undefined) => (text ?? "").replace(/\|/g, "\\|").replace(/\n/g, " ");

/** The spec reference page, generated from the schema the parser itself uses. */
export function renderSpecReference(): string {
  const rows = specReferenceRows();
  return [
    "# Spec reference",
    "",
    "Generated from `lib/spec/schema.ts` (`npm run docs`); the same schema ships as",
    "[`schema/landing-zone.schema.json`](../schema/landing-zone.schema.json) for editor completion. Defaults that",
    "depend on other keys (environment, tier, cloud) are described in the text; `mlz validate --json`",
    "prints a spec with every default applied.",
    "",
    "| Key | Type | Default | Allowed | Description |",
    "|---|---|---|---|---|",
    ...rows.map((r) => `| \`${r.path}\`${r.required ? " (required)" : ""} | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.constraint)} | ${cell(r.description)} |`),
    "",
  ].join("\n");
}
