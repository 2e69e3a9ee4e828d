// Model files on disk. Saving is atomic: the JSON goes to a temporary file in the same folder,
// which then replaces the target in one rename, so a crash never leaves half a model behind.
import { randomBytes } from "node:crypto";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { MLP } from "../nn.js";
import { type ModelMetadata, modelFromJSON, modelToJSON } from "../serialize.js";

/** Writes `model` (and its metadata) to `path` as JSON, replacing any file there only when complete. */
export function saveModel(path: string, model: MLP, metadata: ModelMetadata = {}): void {
  writeFileAtomic(path, `${JSON.stringify(modelToJSON(model, metadata), null, 1)}\n`);
}

/** Reads a model saved by `saveModel`; any problem is an Error that names the file and the reason. */
export function loadModel(path: string): { model: MLP; metadata: ModelMetadata } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${path}: ${code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${path}: not a valid micrograd model: the file is not JSON (${(error as Error).message})`,
    );
  }
  try {
    return modelFromJSON(json);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}

/** Writes `text` to `path` through a temporary sibling and a rename. */
export function writeFileAtomic(path: string, text: string | Uint8Array): void {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(temporary, text, { flag: "wx" });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
