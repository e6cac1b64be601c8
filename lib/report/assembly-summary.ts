import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderTable } from "./table.js";

export interface StackSummary {
  readonly stackName: string;
  readonly resources: number;
  readonly outputs: number;
  readonly templateBytes: number;
  readonly resourceTypes: Readonly<Record<string, number>>;
  /** `Fn::ImportValue` uses: reads of another stack's exports, which pin that stack. */
  readonly imports: number;
  /** `{{resolve:...}}` dynamic references; CloudFormation allows 60 per template. */
  readonly dynamicReferences: number;
}

interface ManifestArtifact {
  readonly type: string;
  readonly properties?: { readonly templateFile?: string; readonly stackName?: string };
}

interface CfnTemplate {
  readonly Resources?: Readonly<Record<string, { readonly Type: string }>>;
  readonly Outputs?: Readonly<Record<string, unknown>>;
}

/** Summarizes a cloud assembly directory (cdk.out): one row per stack. Reads files only, loads no CDK. */
export function summarizeAssembly(outdir: string): StackSummary[] {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as { artifacts?: Record<string, ManifestArtifact> };
  return Object.entries(manifest.artifacts ?? {})
    .filter(([, a]) => a.type === "aws:cloudformation:stack" && a.properties?.templateFile)
    .map(([id, a]) => {
      const text = readFileSync(join(outdir, a.properties!.templateFile!), "utf8");
      const template = JSON.parse(text) as CfnTemplate;
      const resourceTypes: Record<string, number> = {};
      for (const r of Object.values(template.Resources ?? {})) resourceTypes[r.Type] = (resourceTypes[r.Type] ?? 0) + 1;
      return {
        stackName: a.properties?.stackName ?? id,
        resources: Object.keys(template.Resources ?? {}).length,
        outputs: Object.keys(template.Outputs ?? {}).length,
        templateBytes: Buffer.byteLength(text),
        resourceTypes,
        imports: text.split('"Fn::ImportValue"').length - 1,
        dynamicReferences: text.split("{{resolve:").length - 1,
      };
    });
}

export function renderAssemblySummary(stacks: readonly StackSummary[]): string {
  const rows = stacks.map((s) => [s.stackName, String(s.resources), String(s.outputs), `${(s.templateBytes / 1024).toFixed(0)} KiB`]);
  const total = stacks.reduce((n, s) => n + s.resources, 0);
  return `${renderTable(["STACK", "RESOURCES", "OUTPUTS", "TEMPLATE"], rows)}\n\n${stacks.length} stacks, ${total} resources`;
}
