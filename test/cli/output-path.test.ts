import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assertReplaceableAssembly, OutputPathError, replaceAssembly, writeOutputFile, writingTo } from "../../lib/cli/output-path.js";

const scratch = () => mkdtempSync(join(tmpdir(), "mlz-output-"));

describe("writingTo", () => {
  it("turns the operating system's refusal into an error naming the path, the reason and the fix", () => {
    const dir = scratch();
    writeFileSync(join(dir, "file"), "x");
    const target = join(dir, "file", "out.yaml");
    const error = (() => {
      try {
        writingTo(target, () => writeFileSync(target, "y"));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(OutputPathError);
    expect((error as Error).message).toBe(`cannot write ${target}: ENOTDIR: not a directory, open '${target}'. Fix: a file stands where the path needs a directory; choose another path, or move that file`);
  });

  it("names the caller's fix for a code when it has one", () => {
    const dir = scratch();
    const target = join(dir, "spec.yaml");
    writeFileSync(target, "kept");
    expect(() => writingTo(target, () => writeFileSync(target, "new", { flag: "wx" }), { EEXIST: "pass --force" })).toThrow(/^cannot write .*spec\.yaml: EEXIST: .*\. Fix: pass --force$/);
    expect(readFileSync(target, "utf8")).toBe("kept");
  });

  it("lets anything but a file-system error through unchanged", () => {
    const bug = new TypeError("a bug");
    expect(() =>
      writingTo("x", () => {
        throw bug;
      }),
    ).toThrow(bug);
  });
});

describe("writeOutputFile", () => {
  it("creates the missing parent directories", () => {
    const target = join(scratch(), "docs", "diagrams", "zone.svg");
    writeOutputFile(target, "<svg/>");
    expect(readFileSync(target, "utf8")).toBe("<svg/>");
  });

  it("keeps an existing file when told not to overwrite, with the caller's fix", () => {
    const target = join(scratch(), "landing-zone.yaml");
    writeFileSync(target, "kept");
    expect(() => writeOutputFile(target, "new", { overwrite: false, fixes: { EEXIST: "pass --force to overwrite it" } })).toThrow(/Fix: pass --force to overwrite it$/);
    expect(() => writeOutputFile(target, "new", { overwrite: false })).toThrow(/Fix: the file exists; remove it or choose another path$/);
    expect(readFileSync(target, "utf8")).toBe("kept");
    writeOutputFile(target, "new");
    expect(readFileSync(target, "utf8")).toBe("new");
  });

  it("names the file in the way of a parent directory", () => {
    const dir = scratch();
    writeFileSync(join(dir, "docs"), "a file");
    expect(() => writeOutputFile(join(dir, "docs", "zone.svg"), "<svg/>")).toThrow(new RegExp(`^cannot write ${join(dir, "docs", "zone.svg")}: EEXIST: file already exists, mkdir '${join(dir, "docs")}'\\. Fix: a file stands where`));
  });
});

describe("assertReplaceableAssembly", () => {
  it("accepts a missing path, an empty directory and an earlier cloud assembly", () => {
    const dir = scratch();
    expect(() => assertReplaceableAssembly(join(dir, "cdk.out"))).not.toThrow();
    mkdirSync(join(dir, "empty"));
    expect(() => assertReplaceableAssembly(join(dir, "empty"))).not.toThrow();
    const assembly = join(dir, "assembly");
    mkdirSync(assembly);
    writeFileSync(join(assembly, "manifest.json"), '{"version":"48.0.0","artifacts":{}}');
    writeFileSync(join(assembly, "cdk.out"), '{"version":"48.0.0"}');
    writeFileSync(join(assembly, "Stack.template.json"), "{}");
    expect(() => assertReplaceableAssembly(assembly)).not.toThrow();
  });

  it("refuses a directory holding anything else, so `--out .` cannot delete a project", () => {
    const project = scratch();
    mkdirSync(join(project, "src"));
    writeFileSync(join(project, "src", "main.ts"), "keep me");
    // A manifest.json alone (a web app's, say) does not make a cloud assembly.
    writeFileSync(join(project, "manifest.json"), "{}");
    expect(() => assertReplaceableAssembly(project)).toThrow(
      `cannot write ${project}: it holds files that are not a cloud assembly, and synthesis replaces the whole directory; nothing was changed. Fix: choose a new or empty directory, or an earlier cloud assembly (such as cdk.out)`,
    );
    expect(existsSync(join(project, "src", "main.ts"))).toBe(true);
  });

  it("does not take a CDK project's root for an assembly: its cdk.out is a directory", () => {
    const project = scratch();
    writeFileSync(join(project, "manifest.json"), '{"manifest_version":3,"version":"1.0","artifacts":{}}');
    mkdirSync(join(project, "cdk.out"));
    writeFileSync(join(project, "package.json"), "{}");
    expect(() => assertReplaceableAssembly(project)).toThrow(/it holds files that are not a cloud assembly/);
    writeFileSync(join(project, "cdk.out.json"), "{}");
    rmSync(join(project, "cdk.out"), { recursive: true });
    writeFileSync(join(project, "cdk.out"), "not json");
    expect(() => assertReplaceableAssembly(project)).toThrow(/it holds files that are not a cloud assembly/);
  });

  it("refuses a directory holding a kept path (the current directory, the spec), even an empty or assembly one", () => {
    const dir = scratch();
    const out = join(dir, "out");
    mkdirSync(join(out, "inner"), { recursive: true });
    expect(() => assertReplaceableAssembly(out, { "the current directory": join(out, "inner") })).toThrow(
      `cannot write ${out}: synthesis replaces the whole directory, and it holds the current directory (${join(out, "inner")}); nothing was changed.`,
    );
    expect(() => assertReplaceableAssembly(out, { "the current directory": out })).toThrow(`and it is the current directory; nothing was changed.`);
    expect(() => assertReplaceableAssembly(join(dir, "new"), { cwd: dir, spec: join(dir, "out-spec.yaml"), sibling: join(dir, "new", "..x", "..", "..", "y") })).not.toThrow();
    // A directory whose name starts with two dots is still inside.
    expect(() => assertReplaceableAssembly(join(dir, "new"), { "the spec": join(dir, "new", "..x", "spec.yaml") })).toThrow(/it holds the spec/);
  });

  it("refuses a file", () => {
    const file = join(scratch(), "cdk.out");
    writeFileSync(file, "not a directory");
    expect(() => assertReplaceableAssembly(file)).toThrow(`cannot write ${file}: it is a file, and synthesis replaces the whole directory.`);
  });
});

describe("replaceAssembly", () => {
  it("moves the new assembly into place and deletes the earlier one", () => {
    const dir = scratch();
    const [staging, out] = [join(dir, ".mlz-synth-1"), join(dir, "cdk.out")];
    mkdirSync(staging);
    writeFileSync(join(staging, "new.template.json"), "{}");
    mkdirSync(out);
    writeFileSync(join(out, "old.template.json"), "{}");
    expect(replaceAssembly(staging, out)).toBeUndefined();
    expect(readdirSync(out)).toEqual(["new.template.json"]);
    expect(readdirSync(dir)).toEqual(["cdk.out"]);
  });

  it("puts the earlier assembly back when the new one cannot move in", () => {
    const dir = scratch();
    const out = join(dir, "cdk.out");
    mkdirSync(out);
    writeFileSync(join(out, "old.template.json"), "{}");
    expect(() => replaceAssembly(join(dir, ".mlz-synth-missing"), out)).toThrow(OutputPathError);
    expect(readdirSync(out)).toEqual(["old.template.json"]);
    expect(readdirSync(dir)).toEqual(["cdk.out"]);
  });
});
