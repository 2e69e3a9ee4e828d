// Model files on disk. Saving is atomic: the JSON goes to a temporary file in the same folder,
// which then replaces the target in one rename, so a crash never leaves half a model behind.
import type { GPT } from "../gpt.js";
import type { MLP } from "../nn.js";
import { checkOptions } from "../options.js";
import {
  gptFromJSON,
  gptToJSON,
  type ModelMetadata,
  type ModelReadOptions,
  modelFromJSON,
  modelToJSON,
} from "../serialize.js";
import type { CharTokenizer } from "../tokenizer.js";
import { firstControlCharacter, readTextFile, writeFileAtomic } from "./files.js";

/** Writes `model` (and its metadata) to `path` as JSON, replacing any file there only when complete. */
export function saveModel(path: string, model: MLP, metadata: ModelMetadata = {}): void {
  writeFileAtomic(path, `${JSON.stringify(modelToJSON(model, metadata), null, 1)}\n`);
}

/**
 * What to say when a model file holds the other kind of model (a GPT where an MLP was asked for,
 * or the other way round): by default, the function that reads it; a program names its command.
 */
export interface ModelFileOptions extends ModelReadOptions {
  otherKind?: string;
}

/** Reads a model saved by `saveModel`; any problem is an Error that names the file and the reason. */
export function loadModel(
  path: string,
  options: ModelFileOptions = {},
): { model: MLP; metadata: ModelMetadata } {
  const { otherKind, maxParameters } = checkOptions("loadModel", options, {
    otherKind: true,
    maxParameters: true,
  });
  const fromJSON = (json: unknown) => modelFromJSON(json, { maxParameters });
  return readModelFile(path, "mlp", fromJSON, otherKind ?? "read it with loadGPT");
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
export function loadGPT(path: string, options: ModelFileOptions = {}): ReturnType<typeof gptFromJSON> {
  const { otherKind, maxParameters } = checkOptions("loadGPT", options, {
    otherKind: true,
    maxParameters: true,
  });
  const fromJSON = (json: unknown) => gptFromJSON(json, { maxParameters });
  return readModelFile(path, "gpt", fromJSON, otherKind ?? "read it with loadModel");
}

/** Reads JSON from `path` and builds a model from it, naming the file in every error. */
function readModelFile<T>(
  path: string,
  kind: "mlp" | "gpt",
  fromJSON: (json: unknown) => T,
  otherKind: string,
): T {
  const text = readTextFile(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // An exported ONNX file (protobuf) starts with its IR version field and names its producer.
    const onnx = text.charCodeAt(0) === 0x08 && text.slice(0, 64).includes("micrograd");
    const start = text.slice(0, 4096);
    const binary = onnx || firstControlCharacter(start) !== -1 || start.includes("\ufffd");
    throw new Error(
      onnx
        ? `${path}: this is an ONNX file, which micrograd does not read; give the model.json it was exported from`
        : `${path}: not a valid micrograd model: the file is not JSON${binary ? " (it holds binary data)" : ` (${(error as Error).message})`}`,
    );
  }
  const isObject = typeof json === "object" && json !== null;
  const isGPT = isObject && (json as { kind?: unknown }).kind === "gpt";
  const isMLP = isObject && (json as { format?: unknown }).format === "micrograd-model" && !isGPT;
  if ((kind === "mlp" && isGPT) || (kind === "gpt" && isMLP)) {
    throw new Error(
      `${path}: this is ${isGPT ? "a GPT" : "an MLP"} model, not ${isGPT ? "an MLP" : "a GPT"}; ${otherKind}`,
    );
  }
  try {
    return fromJSON(json);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}
