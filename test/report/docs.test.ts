import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { constructDocs } from "../../scripts/docs/construct-pages.js";
import { GENERATED_FOLDERS, generatedDocs } from "../../scripts/docs/generated.js";
import { specReferenceRows } from "../../lib/report/spec-reference.js";

let files: Map<string, string>;
beforeAll(async () => {
  files = await generatedDocs();
}, 120_000);

describe("generated documentation", () => {
  it("is committed and current: README tables, spec reference, examples gallery, construct pages (`npm run docs`)", () => {
    for (const [path, content] of files) {
      expect(existsSync(path), `${path} is missing: run npm run docs`).toBe(true);
      expect(readFileSync(path, "utf8") === content, `${path} is stale: run npm run docs`).toBe(true);
    }
    for (const folder of GENERATED_FOLDERS) {
      for (const file of readdirSync(folder)) expect(files.has(join(folder, file)), `${folder}/${file} is no longer generated`).toBe(true);
    }
  });

  it("draws every example in the gallery", () => {
    const examples = readdirSync("examples", { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    const gallery = files.get("docs/examples.md")!;
    for (const name of examples) {
      expect(gallery).toContain(`![${name}](examples/${name}.svg)`);
      expect(files.get(`docs/examples/${name}.svg`)).toMatch(/^<\?xml|^<svg/);
    }
  });

  it("documents every construct with a summary, an example and every prop, optional ones with their default", () => {
    const docs = constructDocs();
    expect(docs.map((d) => `${d.engine}:${d.name}`)).toEqual(expect.arrayContaining(["cdk:SessionStore", "cdk:LandingZone", "pulumi/aws:SessionStore", "pulumi/kubernetes:LandingZone"]));
    for (const doc of docs) {
      expect(doc.summary, `${doc.source} ${doc.name}`).not.toBe("");
      expect(doc.example, `${doc.source} ${doc.name} has no @example`).toBeDefined();
      expect(doc.propsName, `${doc.source} ${doc.name} takes no Props/Args`).toBeDefined();
      for (const prop of doc.props) {
        expect(prop.summary, `${doc.source} ${doc.propsName}.${prop.name} has no TSDoc`).not.toBe("");
        if (prop.optional) expect(prop.defaultValue, `${doc.source} ${doc.propsName}.${prop.name} has no @default`).toBeDefined();
      }
    }
  });

  it("resolves props declared as Omit<> of another construct's props", () => {
    const sessions = constructDocs().find((d) => d.engine === "cdk" && d.name === "SessionStore")!;
    expect(sessions.props.map((p) => p.name)).toContain("vpc");
    expect(sessions.props.map((p) => p.name)).not.toContain("description");
  });

  it("lists every spec key in the reference", () => {
    const paths = specReferenceRows().map((r) => r.path);
    expect(paths).toEqual(expect.arrayContaining(["name", "network.cidr", "services[].database.engine", "sagas[].steps[].compensate", "mesh.circuitBreaker.consecutiveErrors"]));
  });

  it("describes every spec key, so the reference and editor completion explain each one", () => {
    const undescribed = specReferenceRows()
      .filter((r) => !r.description || r.description.trim().length < 10)
      .map((r) => r.path);
    expect(undescribed).toEqual([]);
  });
});
