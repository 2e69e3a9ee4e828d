// A GPT as ONNX: the forward pass of src/gpt.ts for a whole batch of sequences at once. Where
// the engine feeds one position at a time through a key/value cache, the graph computes every
// position together and hides the later ones from each query with a causal mask, which gives
// the same numbers. Weight matrices are stored transposed ([in, out]) so that each linear map
// is one MatMul on [batch, time, in].
import { type GPT, type GPTConfig, RMS_EPS } from "../gpt.js";
import { checkedStateDict, type GPTExportMetadata, gptMetadata } from "./metadata.js";
import {
  GraphBuilder,
  intAttribute,
  intsAttribute,
  modelBytes,
  TensorProto_DataType,
  tensorInfo,
} from "./proto.js";

/** The names of a GPT graph's input and outputs. */
export const GPT_ONNX_NAMES = {
  tokens: "tokens",
  logits: "logits",
  probabilities: "probabilities",
} as const;

/** `toOnnx` for a GPT (see there). */
export function gptToOnnx(gpt: GPT, metadata: GPTExportMetadata): Uint8Array {
  const stateDict = checkedStateDict("toOnnx", gpt, metadata, true);
  const graph = new GraphBuilder();
  const weights = { graph, stateDict };
  sharedConstants(graph, gpt.config);
  const { x: embedded, causalMask } = embeddings(weights, gpt.config);
  let x = embedded;
  for (let layer = 0; layer < gpt.config.nLayer; layer++) {
    const name = (part: string) => `layer${layer}.${part}`;
    x = graph.node("Add", [x, attention(weights, x, causalMask, name)], name("after_attn"));
    x = graph.node("Add", [x, mlp(weights, x, name)], name("after_mlp"));
  }
  head(weights, x);
  return modelBytes({
    graphName: "micrograd_gpt",
    docString: `${gpt}, character-level; tokens [batch, time] with time at most ${gpt.config.blockSize}`,
    graph,
    ...graphInputsAndOutputs(gpt.config, metadata),
    metadata: gptMetadata(gpt, metadata),
  });
}

/** The graph being built and the weights it reads. */
interface Weights {
  graph: GraphBuilder;
  stateDict: Record<string, number[][]>;
}

/** A matrix of the state dict, rows as stored ([out][in]), as the [in, out] a MatMul takes. */
function transposed({ graph, stateDict }: Weights, key: string): string {
  const rows = stateDict[key];
  const values: number[] = [];
  for (let j = 0; j < rows[0].length; j++) for (const row of rows) values.push(row[j]);
  return graph.constant(`${key}.T`, [rows[0].length, rows.length], values, undefined, `${key}, transposed`);
}

function rmsnorm(graph: GraphBuilder, x: string, name: string): string {
  const square = graph.node("Mul", [x, x], `${name}.square`);
  const meanSquare = graph.node("ReduceMean", [square, "axis.last"], `${name}.mean_square`, [
    intAttribute("keepdims", 1),
  ]);
  const shifted = graph.node("Add", [meanSquare, "rms_eps"], `${name}.mean_square_eps`);
  const rms = graph.node("Sqrt", [shifted], `${name}.rms`);
  return graph.node("Div", [x, rms], name);
}

/** Constants every layer shares: axes, shapes, the norm's epsilon, the attention's scale and mask. */
function sharedConstants(graph: GraphBuilder, { nEmbd, nHead, blockSize }: GPTConfig): void {
  const headDim = nEmbd / nHead;
  const int64 = (name: string, dims: number[], values: number[]) =>
    graph.constant(name, dims, values, TensorProto_DataType.INT64);
  int64("axis.first", [1], [0]);
  int64("axis.last", [1], [-1]);
  int64("zeros.1", [1], [0]);
  int64("zeros.2", [2], [0, 0]);
  int64("axes.0_1", [2], [0, 1]);
  int64("shape.heads", [4], [0, 0, nHead, headDim]);
  int64("shape.embd", [3], [0, 0, nEmbd]);
  graph.constant("rms_eps", [], [RMS_EPS]);
  graph.constant("attention.scale", [], [1 / Math.sqrt(headDim)]);
  // 0 where a query may look (its own position and earlier ones), −∞ above the diagonal.
  const mask: number[] = [];
  for (let query = 0; query < blockSize; query++) {
    for (let key = 0; key < blockSize; key++) mask.push(key <= query ? 0 : Number.NEGATIVE_INFINITY);
  }
  graph.constant("causal_mask", [blockSize, blockSize], mask);
}

/**
 * Embeddings: row `token` of wte plus row `position` of wpe, positions 0 … time − 1, normed;
 * and the causal mask cut to time × time.
 */
function embeddings({ graph, stateDict }: Weights, { vocabSize, nEmbd, blockSize }: GPTConfig) {
  const tokens = GPT_ONNX_NAMES.tokens;
  graph.constant("wte", [vocabSize, nEmbd], stateDict.wte.flat());
  graph.constant("wpe", [blockSize, nEmbd], stateDict.wpe.flat());
  const time = graph.node("Shape", [tokens], "time", [intAttribute("start", 1), intAttribute("end", 2)]);
  const timeByTime = graph.node("Concat", [time, time], "time.time", [intAttribute("axis", 0)]);
  const causalMask = graph.node("Slice", ["causal_mask", "zeros.2", timeByTime, "axes.0_1"], "mask");
  const tokenEmbedding = graph.node("Gather", ["wte", tokens], "embedding.token", [intAttribute("axis", 0)]);
  const positionEmbedding = graph.node("Slice", ["wpe", "zeros.1", time, "axis.first"], "embedding.position");
  const sum = graph.node("Add", [tokenEmbedding, positionEmbedding], "embedding");
  return { x: rmsnorm(graph, sum, "embedding.norm"), causalMask };
}

/** Causal self-attention of a block: [batch, time, nEmbd] → per head [batch, head, time, headDim] and back. */
function attention(weights: Weights, x: string, causalMask: string, name: (part: string) => string): string {
  const { graph } = weights;
  const normed = rmsnorm(graph, x, name("attn_norm"));
  const heads = (key: "q" | "k" | "v", perm: number[]) => {
    const projected = graph.node("MatMul", [normed, transposed(weights, name(`attn_w${key}`))], name(key));
    const split = graph.node("Reshape", [projected, "shape.heads"], name(`${key}.heads`));
    return graph.node("Transpose", [split], name(`${key}.by_head`), [intsAttribute("perm", perm)]);
  };
  const q = heads("q", [0, 2, 1, 3]);
  const kT = heads("k", [0, 2, 3, 1]);
  const v = heads("v", [0, 2, 1, 3]);
  const dots = graph.node("MatMul", [q, kT], name("scores.unscaled"));
  const scaled = graph.node("Mul", [dots, "attention.scale"], name("scores.scaled"));
  const masked = graph.node("Add", [scaled, causalMask], name("scores"));
  const attentionWeights = graph.node("Softmax", [masked], name("attention"), [intAttribute("axis", -1)]);
  const mixed = graph.node("MatMul", [attentionWeights, v], name("mixed.by_head"));
  const byPosition = graph.node("Transpose", [mixed], name("mixed.heads"), [
    intsAttribute("perm", [0, 2, 1, 3]),
  ]);
  const joined = graph.node("Reshape", [byPosition, "shape.embd"], name("mixed"));
  return graph.node("MatMul", [joined, transposed(weights, name("attn_wo"))], name("attn_out"));
}

/** The MLP of a block: ReLU between two linear maps, 4 × nEmbd wide. */
function mlp(weights: Weights, x: string, name: (part: string) => string): string {
  const { graph } = weights;
  const mlpIn = rmsnorm(graph, x, name("mlp_norm"));
  const hidden = graph.node("MatMul", [mlpIn, transposed(weights, name("mlp_fc1"))], name("mlp_hidden"));
  const relu = graph.node("Relu", [hidden], name("mlp_relu"));
  return graph.node("MatMul", [relu, transposed(weights, name("mlp_fc2"))], name("mlp_out"));
}

/** The logits at every position, and the softmax of the last one's. */
function head(weights: Weights, x: string): void {
  const { graph } = weights;
  const logits = graph.node("MatMul", [x, transposed(weights, "lm_head")], GPT_ONNX_NAMES.logits);
  graph.constant("position.last", [], [-1], TensorProto_DataType.INT64);
  const last = graph.node("Gather", [logits, "position.last"], "logits.last", [intAttribute("axis", 1)]);
  graph.node("Softmax", [last], GPT_ONNX_NAMES.probabilities, [intAttribute("axis", -1)]);
}

function graphInputsAndOutputs({ vocabSize, blockSize }: GPTConfig, metadata: GPTExportMetadata) {
  const { FLOAT, INT64 } = TensorProto_DataType;
  return {
    inputs: [
      tensorInfo(
        GPT_ONNX_NAMES.tokens,
        INT64,
        ["batch", "time"],
        `token ids 0..${vocabSize - 1}, BOS (${metadata.tokenizer.bos}) first; time at most ${blockSize}`,
      ),
    ],
    outputs: [
      tensorInfo(
        GPT_ONNX_NAMES.logits,
        FLOAT,
        ["batch", "time", vocabSize],
        "the next token's logits at every position, as GPT.forward",
      ),
      tensorInfo(
        GPT_ONNX_NAMES.probabilities,
        FLOAT,
        ["batch", vocabSize],
        "softmax of the last position's logits: the next token's probabilities",
      ),
    ],
  };
}
