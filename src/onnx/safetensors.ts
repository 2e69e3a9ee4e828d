// A GPT's weights as a .safetensors file, the format PyTorch and Hugging Face tools load without
// running any code from the file: 8 bytes (little-endian) giving the header's length, the header
// (JSON: each tensor's dtype, shape and byte range, and "__metadata__" of strings), then the
// tensors' numbers, little-endian, one after another in state-dict order.
import type { GPT } from "../gpt.js";
import { checkedStateDict, type GPTExportMetadata, gptMetadata } from "./metadata.js";

/** The number types a safetensors file can hold the weights in. */
export const SAFETENSORS_DTYPES = ["float32", "float64"] as const;
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

export interface SafetensorsOptions extends GPTExportMetadata {
  /** float32 (the default, as PyTorch trains) or float64 (every bit the engine has). */
  dtype?: SafetensorsDtype;
}

const FORMAT = {
  float32: { name: "F32", bytes: 4 },
  float64: { name: "F64", bytes: 8 },
} as const;

/**
 * The GPT as safetensors bytes (save them as `model.safetensors`). The keys are `stateDict()`'s
 * (wte, wpe, lm_head, layer0.attn_wq, …), each a [rows, columns] tensor with rows as outputs, as
 * PyTorch's nn.Linear stores its weight. `__metadata__` holds the vocabulary (the characters by
 * id, as JSON), the BOS id, the configuration and the training notes (JSON), and the version.
 * Throws, naming the weight, for a weight that is not finite or (float32) beyond float32.
 */
export function toSafetensors(gpt: GPT, options: SafetensorsOptions): Uint8Array {
  const dtype = options?.dtype ?? "float32";
  if (!SAFETENSORS_DTYPES.includes(dtype)) {
    throw new RangeError(
      `toSafetensors: dtype must be ${SAFETENSORS_DTYPES.join(" or ")}, got ${JSON.stringify(dtype)}`,
    );
  }
  const stateDict = checkedStateDict("toSafetensors", gpt, options, dtype === "float32");
  const format = FORMAT[dtype];
  const header: Record<string, unknown> = { __metadata__: gptMetadata(gpt, options) };
  let dataBytes = 0;
  for (const [name, rows] of Object.entries(stateDict)) {
    const size = rows.length * rows[0].length * format.bytes;
    header[name] = {
      dtype: format.name,
      shape: [rows.length, rows[0].length],
      data_offsets: [dataBytes, dataBytes + size],
    };
    dataBytes += size;
  }
  // Spaces pad the header to a multiple of 8 bytes, so that every tensor starts aligned for its
  // type and a reader can view the numbers where they lie (the format allows trailing spaces).
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = Math.ceil(json.length / 8) * 8;
  const bytes = new Uint8Array(8 + headerBytes + dataBytes);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(headerBytes), true);
  bytes.set(json, 8);
  bytes.fill(0x20, 8 + json.length, 8 + headerBytes);
  let offset = 8 + headerBytes;
  for (const rows of Object.values(stateDict)) {
    for (const row of rows) {
      for (const x of row) {
        if (dtype === "float32") view.setFloat32(offset, x, true);
        else view.setFloat64(offset, x, true);
        offset += format.bytes;
      }
    }
  }
  return bytes;
}
