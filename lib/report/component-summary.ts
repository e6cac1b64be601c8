import { renderTable } from "./table.js";

/** A resource as a Pulumi program registered it (the mock harness's record, or a preview's). */
export interface RegisteredNode {
  readonly type: string;
  readonly name: string;
  /** Logical name of the parent; undefined at the top. */
  readonly parent?: string;
  /** True for provider-managed resources, false for components. */
  readonly custom: boolean;
}

export interface ComponentSummary {
  /** Type token, e.g. `msa:aws:Network`. */
  readonly type: string;
  readonly name: string;
  /** Cloud resources (custom resources) anywhere below the component. */
  readonly resources: number;
  /** Resource count per type token below the component. */
  readonly resourceTypes: Readonly<Record<string, number>>;
}

/**
 * One row per component directly under the landing zone (the root component of the program), with
 * the cloud resources below it. Resources the root holds itself get the root's own row.
 */
export function summarizeComponents(nodes: readonly RegisteredNode[]): ComponentSummary[] {
  const components = nodes.filter((n) => !n.custom);
  const root = components.find((n) => n.parent === undefined);
  if (!root) return [];
  const parentOf = new Map(components.map((c) => [c.name, c.parent]));
  const rows = new Map<string, { type: string; name: string; resources: number; resourceTypes: Record<string, number> }>();
  for (const c of [root, ...components.filter((c) => c.parent === root.name)]) rows.set(c.name, { type: c.type, name: c.name, resources: 0, resourceTypes: {} });
  // The component directly under the root that holds `component`, or the root itself.
  const rowOf = (component: string) => {
    let current = component;
    while (current !== root.name && parentOf.get(current) !== root.name && parentOf.get(current) !== undefined) current = parentOf.get(current)!;
    return rows.get(current);
  };
  for (const node of nodes) {
    // Default providers and other SDK-added resources sit outside the landing zone's tree.
    if (!node.custom || node.parent === undefined) continue;
    const row = rowOf(node.parent);
    if (!row) continue;
    row.resources += 1;
    row.resourceTypes[node.type] = (row.resourceTypes[node.type] ?? 0) + 1;
  }
  return [...rows.values()].filter((row) => row.name !== root.name || row.resources > 0);
}

export function renderComponentSummary(components: readonly ComponentSummary[]): string {
  const rows = components.map((c) => [c.name, c.type, String(c.resources)]);
  const total = components.reduce((n, c) => n + c.resources, 0);
  return `${renderTable(["COMPONENT", "TYPE", "RESOURCES"], rows)}\n\n${components.length} components, ${total} resources`;
}
