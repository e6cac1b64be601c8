import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

/** A path a command was asked to write cannot be written, or holds something the command must not replace. */
export class OutputPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputPathError";
  }
}

/** What to do about each file-system error a write can meet. */
const FIXES: Readonly<Record<string, string>> = {
  EACCES: "choose a path you may write to, or change the directory's permissions",
  EPERM: "choose a path you may write to, or change the directory's permissions",
  EROFS: "choose a path on a writable file system",
  ENOTDIR: "a file stands where the path needs a directory; choose another path, or move that file",
  EISDIR: "the path is a directory; name a file",
  // mkdir's answer when a file stands where a parent directory must go; exclusive writes name their own fix.
  EEXIST: "a file stands where the path needs a directory; choose another path, or move that file",
  ENOSPC: "free space on that file system, or choose a path on another",
  ENAMETOOLONG: "choose a shorter path",
};

function isSystemError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string" && typeof (error as NodeJS.ErrnoException).syscall === "string";
}

/**
 * Runs the file-system work of writing `path`, turning the operating system's refusal (no permission,
 * a file in the way, a full disk) into an `OutputPathError` that names the path, the reason and the
 * fix. Any other error propagates unchanged.
 */
export function writingTo<T>(path: string, action: () => T, fixes: Readonly<Record<string, string>> = {}): T {
  try {
    return action();
  } catch (error) {
    if (!isSystemError(error)) throw error;
    const fix = fixes[error.code] ?? FIXES[error.code] ?? "choose a writable path";
    throw new OutputPathError(`cannot write ${path}: ${error.message}. Fix: ${fix}`);
  }
}

/** Creates the directory that will hold `path`, with its missing parents. */
export function makeParentDirectory(path: string): void {
  writingTo(path, () => mkdirSync(dirname(path), { recursive: true }));
}

export interface WriteOutputOptions {
  /**
   * Replace a file already at the path.
   * @default true
   */
  readonly overwrite?: boolean;
  /**
   * Fixes to name instead of the usual ones, by error code (`EEXIST` when `overwrite` is false).
   * @default - the usual fix for each code
   */
  readonly fixes?: Readonly<Record<string, string>>;
}

/** Writes `content` to `path`, creating its missing parent directories; failures become `OutputPathError`s. */
export function writeOutputFile(path: string, content: string, options: WriteOutputOptions = {}): void {
  makeParentDirectory(path);
  const exclusive = options.overwrite === false;
  // An exclusive write's EEXIST is the file itself, not a file where a directory must go.
  const fixes = exclusive ? { EEXIST: "the file exists; remove it or choose another path", ...options.fixes } : options.fixes;
  writingTo(path, () => writeFileSync(path, content, { flag: exclusive ? "wx" : "w" }), fixes);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Whether `dir` holds a cloud assembly: CDK writes into every one a `cdk.out` file holding its schema
 * version and a `manifest.json` listing its artifacts. A project's `cdk.out/` directory or a web
 * app's `manifest.json` does not count.
 */
function isCloudAssembly(dir: string): boolean {
  const marker = join(dir, "cdk.out");
  if (!existsSync(marker) || !statSync(marker).isFile()) return false;
  const version = readJson(marker);
  const manifest = readJson(join(dir, "manifest.json"));
  return isRecord(version) && typeof version["version"] === "string" && isRecord(manifest) && typeof manifest["version"] === "string" && isRecord(manifest["artifacts"]);
}

/** Puts the previous assembly back after a failed move; if even that fails, says where it is. */
function restore(previous: string, outdir: string, cause: unknown): void {
  try {
    renameSync(previous, outdir);
  } catch {
    throw new OutputPathError(`cannot write ${outdir}: ${(cause as Error).message}; the previous assembly could not be put back and is at ${previous}. Fix: move it back to ${outdir}, then choose a writable path`);
  }
}

/** Whether `path` is `dir` or lies below it. */
function isWithin(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

const REPLACEABLE_FIX = "Fix: choose a new or empty directory, or an earlier cloud assembly (such as cdk.out)";

/**
 * Refuses an output directory that synthesis would replace but that is not one of its own: anything
 * there but nothing, an empty directory or an earlier cloud assembly, and never a directory that is
 * or holds one of `kept` (by what it is: "the current directory", "the spec"). `--out .` must never
 * delete a project.
 */
export function assertReplaceableAssembly(outdir: string, kept: Readonly<Record<string, string>> = {}): void {
  for (const [what, path] of Object.entries(kept)) {
    const full = resolve(path);
    if (!isWithin(outdir, full)) continue;
    const relation = full === outdir ? `it is ${what}` : `it holds ${what} (${full})`;
    throw new OutputPathError(`cannot write ${outdir}: synthesis replaces the whole directory, and ${relation}; nothing was changed. ${REPLACEABLE_FIX}`);
  }
  if (!existsSync(outdir)) return;
  const stats = writingTo(outdir, () => statSync(outdir));
  if (!stats.isDirectory()) throw new OutputPathError(`cannot write ${outdir}: it is a file, and synthesis replaces the whole directory. ${REPLACEABLE_FIX}`);
  if (writingTo(outdir, () => readdirSync(outdir)).length === 0 || isCloudAssembly(outdir)) return;
  throw new OutputPathError(`cannot write ${outdir}: it holds files that are not a cloud assembly, and synthesis replaces the whole directory; nothing was changed. ${REPLACEABLE_FIX}`);
}

/**
 * Moves a finished assembly from `staging` to `outdir`. An earlier assembly there is moved aside
 * first and put back if the move fails, then deleted; a failure to delete it is returned as a
 * warning, since the new assembly is in place by then.
 */
export function replaceAssembly(staging: string, outdir: string): string | undefined {
  // Beside the output, so both moves stay on one file system; named after the unique staging directory.
  const previous = existsSync(outdir) ? join(dirname(outdir), `${basename(staging)}-previous`) : undefined;
  writingTo(outdir, () => {
    if (previous) renameSync(outdir, previous);
    try {
      renameSync(staging, outdir);
    } catch (error) {
      if (previous) restore(previous, outdir, error);
      throw error;
    }
  });
  if (!previous) return undefined;
  try {
    rmSync(previous, { recursive: true, force: true });
    return undefined;
  } catch (error) {
    return `the previous assembly, moved to ${previous}, could not be deleted (${(error as Error).message}); delete it by hand`;
  }
}
