import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { planLandingZone } from "../../lib/plan/planner.js";
import { diagramModel, renderSvg, toMermaid } from "../../lib/report/diagram.js";
import { withFeatureTables } from "../../lib/report/feature-table.js";
import { renderSpecReference } from "../../lib/report/spec-reference.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import { constructDocs, constructPageName, renderConstructIndex, renderConstructPage } from "./construct-pages.js";

/** Every example spec, by folder name. */
export function exampleSpecs(root = "."): { name: string; file: string }[] {
  return readdirSync(join(root, "examples"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({ name: entry.name, file: `examples/${entry.name}/landing-zone.yaml` }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The first comment lines of a spec file: what the example is for. */
function introOf(text: string): string {
  const lines: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("#")) break;
    lines.push(line.replace(/^#\s?/, ""));
  }
  return lines.join(" ").replace(/\s+/g, " ").trim();
}

async function gallery(root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const sections = ["# Examples", "", "Every spec under `examples/`, drawn with `mlz diagram` (`npm run docs` regenerates this page and the pictures).", ""];
  for (const { name, file } of exampleSpecs(root)) {
    const text = readFileSync(join(root, file), "utf8");
    const spec = loadSpecFile(join(root, file));
    const model = diagramModel(planLandingZone(spec));
    files.set(`docs/examples/${name}.svg`, await renderSvg(model));
    files.set(`docs/examples/${name}.mmd`, toMermaid(model));
    const engine = spec.cloud === "aws" ? `\`npx cdk synth -c spec=${file}\` or \`pulumi up\` with \`msa:spec: ${file}\`` : `\`pulumi up\` with \`msa:spec: ${file}\``;
    sections.push(
      `## ${name}`,
      "",
      introOf(text),
      "",
      `${spec.cloud}/${spec.tier} · ${spec.environment} · ${spec.services.length} services, ${spec.bffs.length} BFFs · [spec](../${file}) · ${engine}`,
      "",
      `![${name}](examples/${name}.svg)`,
      "",
    );
  }
  files.set("docs/examples.md", sections.join("\n"));
  return files;
}

/** Every generated documentation file by path, from the current sources. */
export async function generatedDocs(root = "."): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  files.set("README.md", withFeatureTables(readFileSync(join(root, "README.md"), "utf8")));
  files.set("docs/spec-reference.md", renderSpecReference());
  for (const [path, content] of await gallery(root)) files.set(path, content);
  const constructs = constructDocs(root);
  files.set("docs/constructs/README.md", renderConstructIndex(constructs));
  for (const doc of constructs) files.set(`docs/constructs/${constructPageName(doc)}`, renderConstructPage(doc));
  return files;
}

/** Folders whose every file is generated, so a file no longer generated there is stale. */
export const GENERATED_FOLDERS = ["docs/constructs", "docs/examples"] as const;
