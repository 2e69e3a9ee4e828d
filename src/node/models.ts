// Model files on disk. Saving is atomic: the JSON goes to a temporary file in the same folder,
// which then replaces the target in one rename, so a crash never leaves half a model behind.
import type { GPT } from "../gpt.js";
import type { MLP } from "../nn.js";
import { gptFromJSON, gptToJSON, type ModelMetadata, modelFromJSON, modelToJSON } from "../serialize.js";
import type { CharTokenizer } from "../tokenizer.js";
import { readTextFile, writeFileAtomic } from "./files.js";

/** Writes `model` (and its metadata) to `path` as JSON, replacing any file there only when complete. */
export function saveModel(path: string, model: MLP, metadata: ModelMetadata = {}): void {
  writeFileAtomic(path, `${JSON.stringify(modelToJSON(model, metadata), null, 1)}\n`);
}

/** Reads a model saved by `saveModel`; any problem is an Error that names the file and the reason. */
export function loadModel(path: string): { model: MLP; metadata: ModelMetadata } {
  return readModelFile(path, modelFromJSON);
}

/** Writes a GPT and its tokenizer to `path` as JSON, atomically, as `saveModel` does. */
export function saveGPT(
  path: string,
  gpt: GPT,
  tokenizer: CharTokenizer,
  notes?: Record<string, string | number | boolean>,
): void {
  writeFileAtomic(path, `${JSON.stringify(gptToJSON(gpt, tokenizer, notes))}\n`);
}

/** Reads a GPT saved by `saveGPT`; any problem is an Error that names the file and the reason. */
export function loadGPT(path: string): ReturnType<typeof gptFromJSON> {
  return readModelFile(path, gptFromJSON);
}

/** Reads JSON from `path` and builds a model from it, naming the file in every error. */
function readModelFile<T>(path: string, fromJSON: (json: unknown) => T): T {
  const text = readTextFile(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${path}: not a valid micrograd model: the file is not JSON (${(error as Error).message})`,
    );
  }
  try {
    return fromJSON(json);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}
