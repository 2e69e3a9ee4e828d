// micrograd/onnx: trained models as files other tools run. An MLP or a GPT as an ONNX model, so
// that ONNX Runtime (Node, browsers, Python, C#, C++) can run it without this library; a GPT's
// weights as safetensors, for PyTorch. This module writes these files; nothing here reads them.
//
// mlp.ts and gpt.ts build the graphs, proto.ts the ONNX file around them (with message types
// generated from ONNX's onnx.proto, in generated/), safetensors.ts the weights file, and
// metadata.ts what both say about a model.
import { GPT } from "../gpt.js";
import { MLP } from "../nn.js";
import type { ModelMetadata } from "../serialize.js";
import { GPT_ONNX_NAMES, gptToOnnx } from "./gpt.js";
import type { GPTExportMetadata } from "./metadata.js";
import { mlpOutputNames, mlpToOnnx } from "./mlp.js";

export { GPT_ONNX_NAMES } from "./gpt.js";
export { GPT_METADATA_KEYS, type GPTExportMetadata } from "./metadata.js";
export { ONNX_METADATA_KEYS, ONNX_NAMES } from "./mlp.js";
export { ONNX_IR_VERSION, ONNX_OPSET } from "./proto.js";
export {
  SAFETENSORS_DTYPES,
  type SafetensorsDtype,
  type SafetensorsOptions,
  toSafetensors,
} from "./safetensors.js";

/**
 * An MLP as ONNX bytes (save them as `model.onnx`). The graph takes raw features of shape
 * [batch, nin] as `input` — standardized inside the graph when `metadata.scaler` is given — and
 * returns:
 *  - `scores`, [batch, nout]: what `scores()` returns, in float32;
 *  - `class`, [batch] int64: what `predict()` returns (the sign of a single score, else the largest);
 *  - `probabilities`, [batch, classes], when the loss defines them: softmax → Softmax;
 *    bce → each output's sigmoid (one output: [1 − σ, σ]). Hinge and mse scores are not
 *    probabilities, so those models have none.
 * Without `metadata.loss`, the model counts as trained with `fit`'s default loss (hinge for one
 * output, softmax for several). Class names, feature names, notes, the loss and this library's
 * version are stored as `metadata_props` (values are strings; lists and notes as JSON).
 * Throws, naming the reason, for a model that cannot be written: a parameter that is not finite
 * or beyond float32, metadata that does not fit the model, a softmax loss on one output.
 */
export function toOnnx(model: MLP, metadata?: ModelMetadata): Uint8Array;
/**
 * A GPT as ONNX bytes. The graph takes `tokens`, int64 [batch, time] with time at most the
 * block size (BOS first, as in training), and returns `logits`, [batch, time, vocab] float32:
 * at every position, the logits `GPT.forward` gives for the next token; and `probabilities`,
 * [batch, vocab]: the softmax of the last position's. `metadata_props` holds the vocabulary
 * (the characters by id, JSON), the BOS id, the configuration and notes (JSON) and the version.
 * Throws, naming the weight, for a weight that is not finite or beyond float32.
 */
export function toOnnx(model: GPT, metadata: GPTExportMetadata): Uint8Array;
export function toOnnx(model: MLP | GPT, metadata?: ModelMetadata | GPTExportMetadata): Uint8Array {
  if (model instanceof GPT) return gptToOnnx(model, metadata as GPTExportMetadata);
  if (model instanceof MLP) return mlpToOnnx(model, metadata as ModelMetadata);
  throw new TypeError(`toOnnx: expected an MLP or a GPT, got ${String(model)}`);
}

/** The names of the outputs `toOnnx(model, metadata)` writes, in order. */
export function onnxOutputNames(model: MLP | GPT, metadata: ModelMetadata = {}): string[] {
  if (model instanceof GPT) return [GPT_ONNX_NAMES.logits, GPT_ONNX_NAMES.probabilities];
  return mlpOutputNames(model, metadata);
}
