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

/** A model file of either kind, as `loadModel` or `loadGPT` reads it. */
export type SavedModel =
  | ({ kind: "mlp" } & ReturnType<typeof modelFromJSON>)
  | ({ kind: "gpt" } & ReturnType<typeof gptFromJSON>);

/** Reads a model file of either kind (for commands that take both, such as export). */
export function loadSavedModel(path: string, options: { maxParameters?: number } = {}): SavedModel {
  const { maxParameters } = checkOptions("loadSavedModel", options, { maxParameters: true });
  return readModelFile(path, "either", (json) => {
    const fields = (isObject(json) ? json : {}) as { kind?: unknown; format?: unknown };
    if (fields.kind === "gpt") return { kind: "gpt", ...gptFromJSON(json, { maxParameters }) };
    try {
      return { kind: "mlp", ...modelFromJSON(json, { maxParameters }) };
    } catch (error) {
      if (fields.format === "micrograd-model") throw error;
      const reason = (error as Error).message.replace(/^not a valid micrograd model: /, "");
      throw new Error(`not a micrograd model (neither an MLP nor a GPT): ${reason}`);
    }
  });
}

/** Reads JSON from `path` and builds a model from it, naming the file in every error. */
function readModelFile<T>(
  path: string,
  kind: "mlp" | "gpt" | "either",
  fromJSON: (json: unknown) => T,
  otherKind = "",
): T {
  const text = readTextFile(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // An exported ONNX file (protobuf) starts with its IR version field and names its producer;
    // an exported safetensors file, with its header's length and then the header, metadata first.
    const onnx = text.charCodeAt(0) === 0x08 && text.slice(0, 64).includes("micrograd");
    const safetensors = text.slice(8, 24) === '{"__metadata__":';
    const exported = onnx ? "an ONNX file" : safetensors ? "a safetensors file" : undefined;
    const start = text.slice(0, 4096);
    const binary = firstControlCharacter(start) !== -1 || start.includes("\ufffd");
    throw new Error(
      exported
        ? `${path}: this is ${exported}, which micrograd does not read; give the model.json it was exported from`
        : `${path}: not a valid micrograd model: the file is not JSON${binary ? " (it holds binary data)" : ` (${(error as Error).message})`}`,
    );
  }
  const isGPT = isObject(json) && json.kind === "gpt";
  const isMLP = isObject(json) && json.format === "micrograd-model" && !isGPT;
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

function isObject(json: unknown): json is Record<string, unknown> {
  return typeof json === "object" && json !== null && !Array.isArray(json);
}
