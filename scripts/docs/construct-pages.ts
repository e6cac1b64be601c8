import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import ts from "typescript";

/** One documented prop (CDK) or arg (Pulumi) of a construct. */
export interface PropDoc {
  readonly name: string;
  readonly type: string;
  readonly optional: boolean;
  readonly summary: string;
  readonly defaultValue?: string;
}

export interface ConstructDoc {
  readonly name: string;
  /** `cdk`, or `pulumi/<cloud>`. */
  readonly engine: string;
  /** Import path a user writes: `msa-landing-zone/cdk`, `msa-landing-zone/pulumi/aws`... */
  readonly importPath: string;
  /** Source file, relative to the repository root. */
  readonly source: string;
  readonly summary: string;
  readonly example?: string;
  readonly propsName?: string;
  readonly props: readonly PropDoc[];
}

/** Folders whose files each hold one construct or component, and the import path users write. */
export const CONSTRUCT_FOLDERS: readonly { readonly folder: string; readonly engine: string; readonly importPath: string }[] = [
  { folder: "lib/cdk", engine: "cdk", importPath: "msa-landing-zone/cdk" },
  ...["aws", "gcp", "azure", "kubernetes"].map((cloud) => ({ folder: `lib/pulumi/${cloud}`, engine: `pulumi/${cloud}`, importPath: `msa-landing-zone/pulumi/${cloud}` })),
];

/** Where interfaces of options shared by both engines' props live. */
const SHARED_OPTIONS_FOLDER = "lib/plan";

const BASES = new Set(["Construct", "Stack", "ComponentResource", "pulumi.ComponentResource"]);

function jsDocParts(node: ts.Node): { summary: string; tags: Map<string, string> } {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const doc = docs.at(-1);
  const text = (comment: string | ts.NodeArray<ts.JSDocComment> | undefined) => (typeof comment === "string" ? comment : (comment?.map((c) => c.text).join("") ?? ""));
  const tags = new Map<string, string>();
  for (const tag of doc?.tags ?? []) tags.set(tag.tagName.text, text(tag.comment).trim());
  return { summary: text(doc?.comment).replace(/\s*\n\s*/g, " ").trim(), tags };
}

/** The class's own props interface: the constructor's third (CDK) or second (Pulumi) parameter. */
function propsTypeName(cls: ts.ClassDeclaration): string | undefined {
  const ctor = cls.members.find(ts.isConstructorDeclaration);
  const param = ctor?.parameters.find((p) => p.type && ts.isTypeReferenceNode(p.type) && /(Props|Args)$/.test(p.type.typeName.getText()));
  return param?.type && ts.isTypeReferenceNode(param.type) ? param.type.typeName.getText() : undefined;
}

/**
 * The documented members of an interface in `sources`; a type alias `Omit<Base, "a" | "b">` or
 * `Base` resolves to Base's members (minus the omitted ones), wherever Base is declared.
 */
function propsOf(sources: readonly ts.SourceFile[], typeName: string): PropDoc[] {
  for (const source of sources) {
    for (const statement of source.statements) {
      if (!ts.isTypeAliasDeclaration(statement) || statement.name.text !== typeName || !ts.isTypeReferenceNode(statement.type)) continue;
      const target = statement.type.typeName.getText(source);
      if (target === "Omit" && statement.type.typeArguments?.length === 2) {
        const [base, omitted] = statement.type.typeArguments;
        const names = new Set((omitted!.getText(source).match(/"[^"]+"/g) ?? []).map((n) => n.slice(1, -1)));
        return propsOf(sources, base!.getText(source)).filter((p) => !names.has(p.name));
      }
      return propsOf(sources, target);
    }
    const found = interfaceProps(source, typeName);
    if (found) {
      // Inherited props first (VmServiceArgs extends HostedServiceArgs), then the interface's own.
      const inherited = found.bases.flatMap((base) => propsOf(sources, base)).filter((p) => !found.props.some((own) => own.name === p.name));
      return [...inherited, ...found.props];
    }
  }
  return [];
}

function interfaceProps(source: ts.SourceFile, typeName: string): { readonly props: PropDoc[]; readonly bases: string[] } | undefined {
  let props: PropDoc[] | undefined;
  let bases: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === typeName) {
      props = [];
      bases = (node.heritageClauses ?? []).flatMap((clause) => clause.types.map((t) => t.expression.getText(source)));
      for (const member of node.members) {
        if (!ts.isPropertySignature(member) || !member.name) continue;
        const { summary, tags } = jsDocParts(member);
        const defaultValue = tags.get("default");
        props!.push({
          name: member.name.getText(source),
          type: (member.type?.getText(source) ?? "unknown").replace(/\s+/g, " "),
          optional: member.questionToken !== undefined,
          summary,
          ...(defaultValue !== undefined ? { defaultValue } : {}),
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return props ? { props, bases } : undefined;
}

/** Reads every construct and component class with its TSDoc and its props/args interface. */
export function constructDocs(root = "."): ConstructDoc[] {
  const docs: ConstructDoc[] = [];
  // Options both engines share (AwsDatabaseOptions) are declared once in lib/plan; props interfaces extend them.
  const shared = readdirSync(join(root, SHARED_OPTIONS_FOLDER))
    .filter((f) => f.endsWith(".ts") && f !== "index.ts")
    .sort()
    .map((file) => ts.createSourceFile(join(SHARED_OPTIONS_FOLDER, file), readFileSync(join(root, SHARED_OPTIONS_FOLDER, file), "utf8"), ts.ScriptTarget.ES2022, true));
  for (const { folder, engine, importPath } of CONSTRUCT_FOLDERS) {
    let files: string[];
    try {
      files = readdirSync(join(root, folder)).filter((f) => f.endsWith(".ts") && f !== "index.ts");
    } catch {
      continue;
    }
    const sources = files.sort().map((file) => ts.createSourceFile(join(folder, file), readFileSync(join(root, folder, file), "utf8"), ts.ScriptTarget.ES2022, true));
    // A class extending one of this folder's constructs (SessionStore extends ManagedRedis) is one too.
    const bases = new Set(BASES);
    for (let grew = true; grew; ) {
      grew = false;
      for (const source of sources) {
        for (const statement of source.statements) {
          const base = ts.isClassDeclaration(statement) ? statement.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression.getText(source) : undefined;
          if (base && bases.has(base) && ts.isClassDeclaration(statement) && statement.name && !bases.has(statement.name.text)) {
            bases.add(statement.name.text);
            grew = true;
          }
        }
      }
    }
    for (const source of sources) {
      const path = source.fileName;
      for (const statement of source.statements) {
        if (!ts.isClassDeclaration(statement) || !statement.name) continue;
        const exported = statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
        const base = statement.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression.getText(source);
        if (!exported || !base || !bases.has(base)) continue;
        const { summary, tags } = jsDocParts(statement);
        const propsName = propsTypeName(statement);
        const example = tags.get("example");
        docs.push({
          name: statement.name.text,
          engine,
          importPath,
          source: path,
          summary,
          ...(example ? { example } : {}),
          ...(propsName ? { propsName } : {}),
          props: propsName ? propsOf([source, ...sources.filter((other) => other !== source), ...shared], propsName) : [],
        });
      }
    }
  }
  return docs;
}

/** File name of a construct's page: `cdk-session-store.md`, `pulumi-aws-session-store.md`. */
export function constructPageName(doc: ConstructDoc): string {
  return `${doc.engine.replace("/", "-")}-${basename(doc.source, ".ts")}.md`;
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderConstructPage(doc: ConstructDoc): string {
  const lines = [
    `# ${doc.name} (${doc.engine === "cdk" ? "AWS CDK" : `Pulumi, ${doc.engine.split("/")[1]}`})`,
    "",
    `\`import { ${doc.name} } from "${doc.importPath}";\` · source: [\`${doc.source}\`](../../${doc.source})`,
    "",
    doc.summary,
    "",
  ];
  if (doc.example) lines.push("## Example", "", "```ts", doc.example, "```", "");
  if (doc.propsName) {
    lines.push(`## ${doc.propsName}`, "", "| Name | Type | Default | Description |", "|---|---|---|---|");
    for (const p of doc.props) lines.push(`| \`${p.name}\`${p.optional ? "" : " (required)"} | \`${cell(p.type)}\` | ${cell(p.defaultValue ?? "")} | ${cell(p.summary)} |`);
    lines.push("");
  }
  return lines.join("\n");
}

export function renderConstructIndex(docs: readonly ConstructDoc[]): string {
  const lines = ["# Constructs and components", "", "Generated from the sources' TSDoc (`npm run docs`). Each works on its own; `LandingZone` composes them from a spec.", ""];
  for (const engine of [...new Set(docs.map((d) => d.engine))]) {
    lines.push(`## ${engine === "cdk" ? "AWS CDK (`msa-landing-zone/cdk`)" : `Pulumi ${engine.split("/")[1]} (\`msa-landing-zone/${engine}\`)`}`, "");
    for (const doc of docs.filter((d) => d.engine === engine)) lines.push(`- [${doc.name}](${constructPageName(doc)}): ${doc.summary.split(/(?<=\.)\s/)[0] ?? ""}`);
    lines.push("");
  }
  return lines.join("\n");
}
