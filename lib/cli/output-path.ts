import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

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
  writingTo(path, () => writeFileSync(path, content, { flag: options.overwrite === false ? "wx" : "w" }), options.fixes);
}

/** Whether `dir` holds a cloud assembly: CDK writes `manifest.json` and a `cdk.out` version file into every one. */
function isCloudAssembly(dir: string): boolean {
  return existsSync(join(dir, "manifest.json")) && existsSync(join(dir, "cdk.out"));
}

/**
 * Refuses an output directory that synthesis would replace but that is not one of its own: anything
 * there but nothing, an empty directory or an earlier cloud assembly. `--out .` must never delete a
 * project.
 */
export function assertReplaceableAssembly(outdir: string): void {
  if (!existsSync(outdir)) return;
  const stats = writingTo(outdir, () => statSync(outdir));
  if (!stats.isDirectory()) throw new OutputPathError(`cannot write ${outdir}: it is a file, and synthesis replaces the whole directory. Fix: choose a new or empty directory, or an earlier cloud assembly (such as cdk.out)`);
  if (isCloudAssembly(outdir) || writingTo(outdir, () => readdirSync(outdir)).length === 0) return;
  throw new OutputPathError(`cannot write ${outdir}: it holds files that are not a cloud assembly, and synthesis replaces the whole directory; nothing was changed. Fix: choose a new or empty directory, or an earlier cloud assembly (such as cdk.out)`);
}
