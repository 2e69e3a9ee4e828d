// Reading and writing files with errors a user can act on, and writes that are all or nothing.
import { randomBytes } from "node:crypto";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** The text of `path`; a failure says which file and why ("no such file" rather than ENOENT). */
export function readTextFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${path}: ${code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
}

/**
 * Writes `content` to a temporary file beside `path`, then renames it over `path` in one step,
 * so that a crash leaves either the old file or the new one, never half of one.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(temporary, content, { flag: "wx" });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    // Name the file the caller asked for, not the temporary one.
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "no such folder"
        : code === "EISDIR"
          ? "a folder is in the way"
          : code === "EACCES" || code === "EPERM"
            ? "permission denied"
            : (error as Error).message;
    throw new Error(`cannot write ${path}: ${reason}`);
  }
}
