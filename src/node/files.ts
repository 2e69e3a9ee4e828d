// Reading and writing files with errors a user can act on, and writes that are all or nothing.
import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { checkOptions } from "../options.js";

/** The largest file `readTextFile` reads unless told otherwise: 100 MB. */
export const MAX_FILE_BYTES = 100 * 1024 * 1024;

export interface TextFileOptions {
  /** The most bytes the file may have (default 100 MB). */
  maxBytes?: number;
  /** Refuse bytes that are not UTF-8 and control characters, naming the line. */
  plainText?: boolean;
  /** What a plain-text refusal asks for; default "a text file (UTF-8, one document per line)". */
  kind?: string;
}

/**
 * The text of `path`, which must be a regular file of at most `maxBytes` (default 100 MB).
 * A failure says which file and why ("no such file" rather than ENOENT). A pipe, a device such
 * as /dev/zero or a folder is refused before reading, so it can neither hang nor fill memory.
 */
export function readTextFile(path: string, options: TextFileOptions = {}): string {
  checkOptions("readTextFile", options, { maxBytes: true, plainText: true, kind: true });
  const maxBytes = options.maxBytes ?? MAX_FILE_BYTES;
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO would otherwise wait for a writer that may never come.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new Error(`cannot read ${path}: ${reason(error)}`);
  }
  try {
    // The checks look at the file that was opened, so it cannot be swapped after them.
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      const kind = stats.isDirectory()
        ? "a folder"
        : stats.isFIFO()
          ? "a pipe (FIFO)"
          : stats.isCharacterDevice() || stats.isBlockDevice()
            ? "a device"
            : stats.isSocket()
              ? "a socket"
              : "not a regular file";
      throw new Error(`cannot read ${path}: it is ${kind}; give a regular file`);
    }
    if (stats.size > maxBytes) {
      // Sizes that round alike are given in bytes, so that the message never reads "100 MB, more than 100 MB".
      const exact = megabytes(stats.size) === megabytes(maxBytes);
      const size = (bytes: number) => (exact ? `${bytes.toLocaleString("en-US")} bytes` : megabytes(bytes));
      throw new Error(
        `cannot read ${path}: it is ${size(stats.size)}, more than the ${size(maxBytes)} a file may have`,
      );
    }
    // Read at most one byte past the limit, in case the file grew after fstat.
    const buffer = Buffer.alloc(Math.min(stats.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) {
        throw new Error(`cannot read ${path}: it is more than the ${megabytes(maxBytes)} a file may have`);
      }
      if (length === buffer.length) break;
    }
    const text = buffer.toString("utf8", 0, length);
    if (options.plainText) {
      checkPlainText(
        path,
        buffer.subarray(0, length),
        text,
        options.kind ?? "a text file (UTF-8, one document per line)",
      );
    }
    return text;
  } catch (error) {
    if ((error as Error).message.startsWith(`cannot read ${path}`)) throw error;
    throw new Error(`cannot read ${path}: ${reason(error)}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Refuses bytes that are not UTF-8 text, or text with control characters other than tab, line
 * feed and carriage return (a binary file, most likely), naming the first bad line.
 */
function checkPlainText(path: string, bytes: Uint8Array, text: string, kind: string): void {
  // UTF-16 (as Windows' Notepad and Excel's "Unicode text" save) starts with a byte-order mark,
  // or without one has a zero byte beside every ASCII character.
  const bom16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  const zeros = bytes.subarray(0, 200).filter((b) => b === 0).length;
  if (bom16 || (bytes.length >= 4 && zeros >= Math.min(bytes.length, 200) / 4)) {
    throw new Error(`cannot read ${path}: it is UTF-16 text, not UTF-8; save it as UTF-8 and give it again`);
  }
  let valid = true;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    valid = false;
  }
  // The lenient decoding marks a bad byte with U+FFFD; a genuine U+FFFD passes the strict one.
  const bad = valid ? firstControlCharacter(text) : text.indexOf("\ufffd");
  if (bad === -1) return;
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < bad; i = text.indexOf("\n", i + 1)) line++;
  const what = valid
    ? `a control character (U+${text.charCodeAt(bad).toString(16).toUpperCase().padStart(4, "0")})`
    : "bytes that are not UTF-8 text";
  throw new Error(`cannot read ${path}: line ${line} has ${what}; give ${kind}`);
}

/** The index of the first control character other than tab, LF and CR, or -1. */
export function firstControlCharacter(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 32 && code !== 9 && code !== 10 && code !== 13) || code === 127) return i;
  }
  return -1;
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "it is a folder; give a regular file";
  return (error as Error).message;
}

function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  if (mb < 1) return `${bytes.toLocaleString("en-US")} bytes`;
  return `${mb >= 10 || Number.isInteger(mb) ? Math.round(mb) : mb.toPrecision(2)} MB`;
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
    try {
      rmSync(temporary, { force: true });
    } catch {
      // The folder cannot be reached (a file stands where it should be): nothing was written there.
    }
    // Name the file the caller asked for, not the temporary one.
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "no such folder"
        : code === "EISDIR"
          ? "a folder is in the way"
          : code === "ENOTDIR"
            ? "a file is in the way of its folder"
            : code === "EACCES" || code === "EPERM"
              ? "permission denied"
              : (error as Error).message;
    throw new Error(`cannot write ${path}: ${reason}`);
  }
}
