// What the exported files say about a model besides its graph or tensors, and the checks every
// export makes on the numbers. Nothing here needs protobuf, so safetensors needs no package.
import manifest from "micrograd/package.json" with { type: "json" };
import type { GPT } from "../gpt.js";
import type { CharTokenizer } from "../tokenizer.js";

export const LIBRARY_VERSION: string = manifest.version;

export const BEYOND_FLOAT32 = "beyond the range of float32 (about ±3.4e38)";

/** The numbers as float32, or an error naming the first that float32 cannot hold. */
export function float32s(caller: string, what: string, values: readonly number[]): number[] {
  return values.map((x, i) => {
    const single = Math.fround(x);
    if (!Number.isFinite(single)) {
      throw new RangeError(`${caller}: ${what}[${i}] is ${x}, ${BEYOND_FLOAT32}`);
    }
    return single;
  });
}

/** What a GPT needs beside its weights to be used elsewhere: its vocabulary, and how it was trained. */
export interface GPTExportMetadata {
  /** The tokenizer it was trained with: its characters, in id order, and BOS. */
  tokenizer: CharTokenizer;
  /** Training notes, as `saveGPT` stores them (data, steps, loss…). */
  notes?: Record<string, string | number | boolean>;
}

/** The metadata keys of an exported GPT, the same in ONNX's `metadata_props` and safetensors. */
export const GPT_METADATA_KEYS = {
  version: "micrograd_version",
  vocabulary: "vocabulary",
  bos: "bos",
  config: "config",
  notes: "notes",
} as const;

/**
 * The GPT's state dict, checked for export: every weight finite and, when `float32` is asked
 * for, within float32's range. Errors name the caller, the key and the position.
 */
export function checkedStateDict(
  caller: string,
  gpt: GPT,
  metadata: GPTExportMetadata,
  float32: boolean,
): Record<string, number[][]> {
  const tokenizer = metadata?.tokenizer;
  if (typeof tokenizer?.vocabSize !== "number" || !Array.isArray(tokenizer.chars)) {
    throw new TypeError(
      `${caller}: a GPT needs { tokenizer } (its CharTokenizer), so the file can say which character each id is`,
    );
  }
  if (tokenizer.vocabSize !== gpt.config.vocabSize) {
    throw new RangeError(
      `${caller}: the tokenizer has ${tokenizer.vocabSize} tokens (with BOS) but the model ${gpt.config.vocabSize}`,
    );
  }
  const stateDict = gpt.stateDict();
  for (const [name, rows] of Object.entries(stateDict)) {
    rows.forEach((row, i) => {
      row.forEach((x, j) => {
        if (!Number.isFinite(x)) {
          throw new RangeError(`${caller}: ${name}[${i}][${j}] is ${x}, not a finite number`);
        }
        if (float32 && !Number.isFinite(Math.fround(x))) {
          throw new RangeError(`${caller}: ${name}[${i}][${j}] is ${x}, ${BEYOND_FLOAT32}`);
        }
      });
    });
  }
  return stateDict;
}

/** The GPT's metadata as strings: lists, the configuration and notes as JSON. */
export function gptMetadata(gpt: GPT, metadata: GPTExportMetadata): Record<string, string> {
  const props: Record<string, string> = {
    [GPT_METADATA_KEYS.version]: LIBRARY_VERSION,
    [GPT_METADATA_KEYS.vocabulary]: JSON.stringify(metadata.tokenizer.chars),
    [GPT_METADATA_KEYS.bos]: String(metadata.tokenizer.bos),
    [GPT_METADATA_KEYS.config]: JSON.stringify(gpt.config),
  };
  if (metadata.notes && Object.keys(metadata.notes).length > 0) {
    props[GPT_METADATA_KEYS.notes] = JSON.stringify(metadata.notes);
  }
  return props;
}
