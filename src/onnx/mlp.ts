// An MLP as ONNX: optional standardization, then per layer one Gemm and its activation, in
// float32, with the scores, the class and (when the loss defines them) the probabilities.
import type { LossName } from "../losses.js";
import { ACTIVATION_TABLE, type Activation, type MLP } from "../nn.js";
import { type ModelFile, type ModelMetadata, modelToJSON } from "../serialize.js";
import { BEYOND_FLOAT32, float32s, LIBRARY_VERSION } from "./metadata.js";
import {
  floatAttribute,
  GraphBuilder,
  intAttribute,
  modelBytes,
  TensorProto_DataType,
  tensorInfo,
} from "./proto.js";

/** The names of an MLP graph's input and outputs, for `session.run` and `results[name]`. */
export const ONNX_NAMES = {
  input: "input",
  scores: "scores",
  probabilities: "probabilities",
  class: "class",
} as const;

/** The keys of an MLP's `metadata_props` (ONNX Runtime's custom metadata): every value is a string. */
export const ONNX_METADATA_KEYS = {
  version: "micrograd_version",
  loss: "loss",
  classNames: "class_names",
  featureNames: "feature_names",
  notes: "notes",
} as const;

/** `toOnnx` for an MLP (see there). */
export function mlpToOnnx(model: MLP, metadata: ModelMetadata = {}): Uint8Array {
  const file = checkedModelFile(model, metadata);
  const loss = lossOf(model, file);
  file.parameters.forEach((p, i) => {
    if (!Number.isFinite(Math.fround(p))) {
      throw new RangeError(`toOnnx: parameter ${i} is ${p}, ${BEYOND_FLOAT32}`);
    }
  });

  const graph = new GraphBuilder();
  const input = file.scaler ? standardize(graph, file.scaler) : ONNX_NAMES.input;
  layers(graph, model, input);
  const outputs = [
    tensorInfo(ONNX_NAMES.scores, TensorProto_DataType.FLOAT, ["batch", model.nout], SCORES_DOC),
  ];
  if (hasProbabilities(loss)) outputs.push(probabilities(graph, loss, model.nout));
  outputs.push(predictedClass(graph, model.nout));

  const { nin, nouts, activation, outputActivation } = file.architecture;
  const sizes = [nin, ...nouts].join("-");
  const inputDoc = file.scaler
    ? "raw features, one row per sample; the graph standardizes them as in training"
    : "features, one row per sample";
  return modelBytes({
    graphName: "micrograd_mlp",
    docString: `MLP ${sizes} (hidden ${activation}, output ${outputActivation}), trained with the ${loss} loss`,
    graph,
    inputs: [tensorInfo(ONNX_NAMES.input, TensorProto_DataType.FLOAT, ["batch", nin], inputDoc)],
    outputs,
    metadata: metadataProps(file, loss),
  });
}

/** The model as its file: the same checks as saving it (finite weights, metadata that fits). */
function checkedModelFile(model: MLP, metadata: ModelMetadata): ModelFile {
  try {
    return modelToJSON(model, metadata);
  } catch (error) {
    const message = (error as Error).message.replace(/^modelToJSON: /, "");
    throw error instanceof RangeError
      ? new RangeError(`toOnnx: ${message}`)
      : new TypeError(`toOnnx: ${message}`);
  }
}

/** Raw features standardized with the training scaler's mean and std; returns the standardized tensor. */
function standardize(graph: GraphBuilder, scaler: NonNullable<ModelFile["scaler"]>): string {
  const mean = float32s("toOnnx", "the scaler's mean", scaler.mean);
  const std = float32s("toOnnx", "the scaler's std", scaler.std);
  const tiny = std.indexOf(0);
  if (tiny !== -1) {
    throw new RangeError(`toOnnx: the scaler's std[${tiny}] is ${scaler.std[tiny]}, which is 0 in float32`);
  }
  graph.constant("scaler.mean", [mean.length], mean);
  graph.constant("scaler.std", [std.length], std);
  const centered = graph.node("Sub", [ONNX_NAMES.input, "scaler.mean"], "standardize.centered");
  return graph.node("Div", [centered, "scaler.std"], "standardized");
}

/** Per layer one Gemm and its activation; the last layer's output is the scores. */
function layers(graph: GraphBuilder, model: MLP, input: string): void {
  let h = input;
  model.layers.forEach((layer, i) => {
    const isLast = i === model.layers.length - 1;
    const weights = layer.neurons.flatMap((n) => n.weights.map((w) => w.data));
    const biases = layer.neurons.map((n) => n.bias.data);
    graph.constant(`layer${i}.weight`, [layer.nout, layer.nin], weights);
    graph.constant(`layer${i}.bias`, [layer.nout], biases);
    const linear = isLast && layer.activation === "linear" ? ONNX_NAMES.scores : `layer${i}.linear`;
    // Each row of the weight matrix is one neuron (an output), as stored: hence transB.
    h = graph.node("Gemm", [h, `layer${i}.weight`, `layer${i}.bias`], linear, [intAttribute("transB", 1)]);
    if (layer.activation !== "linear") {
      const output = isLast ? ONNX_NAMES.scores : `layer${i}.${layer.activation}`;
      h = activationNode(graph, layer.activation, h, output);
    }
  });
}

/** The probabilities output of a softmax or bce model (one output: [1 − σ, σ]). */
function probabilities(graph: GraphBuilder, loss: LossName, nout: number) {
  if (loss === "softmax") {
    graph.node("Softmax", [ONNX_NAMES.scores], ONNX_NAMES.probabilities, [intAttribute("axis", 1)]);
  } else if (nout > 1) {
    graph.node("Sigmoid", [ONNX_NAMES.scores], ONNX_NAMES.probabilities);
  } else {
    graph.constant("one", [], [1]);
    const p1 = graph.node("Sigmoid", [ONNX_NAMES.scores], "probability.class1");
    const p0 = graph.node("Sub", ["one", p1], "probability.class0");
    graph.node("Concat", [p0, p1], ONNX_NAMES.probabilities, [intAttribute("axis", 1)]);
  }
  const doc = loss === "softmax" ? "softmax of the scores" : "sigmoid of each score, as in training with bce";
  const classes = nout === 1 ? 2 : nout;
  return tensorInfo(ONNX_NAMES.probabilities, TensorProto_DataType.FLOAT, ["batch", classes], doc);
}

/** The class output, by predict()'s rule. */
function predictedClass(graph: GraphBuilder, nout: number) {
  if (nout === 1) {
    // The engine's rule: class 1 when the score is above 0 (a score of exactly 0 is class 0).
    graph.constant("zero", [], [0]);
    graph.constant("class.axes", [1], [1], TensorProto_DataType.INT64);
    const positive = graph.node("Greater", [ONNX_NAMES.scores, "zero"], "class.positive");
    const asInteger = graph.node("Cast", [positive], "class.column", [
      intAttribute("to", TensorProto_DataType.INT64),
    ]);
    graph.node("Squeeze", [asInteger, "class.axes"], ONNX_NAMES.class);
  } else {
    // ArgMax picks the first of equal scores, as predict() does.
    graph.node("ArgMax", [ONNX_NAMES.scores], ONNX_NAMES.class, [
      intAttribute("axis", 1),
      intAttribute("keepdims", 0),
    ]);
  }
  return tensorInfo(ONNX_NAMES.class, TensorProto_DataType.INT64, ["batch"], CLASS_DOC);
}

/** `onnxOutputNames` for an MLP. */
export function mlpOutputNames(model: MLP, metadata: ModelMetadata = {}): string[] {
  const probabilities = hasProbabilities(lossOf(model, metadata)) ? [ONNX_NAMES.probabilities] : [];
  return [ONNX_NAMES.scores, ...probabilities, ONNX_NAMES.class];
}

/** The loss named in the metadata, or the one `fit` uses when none is named. */
function lossOf(model: MLP, metadata: ModelMetadata): LossName {
  const loss = (metadata.loss as LossName | undefined) ?? (model.nout === 1 ? "hinge" : "softmax");
  if (loss === "softmax" && model.nout === 1) {
    throw new RangeError(
      "toOnnx: the loss is softmax, which needs one output per class, but this model has 1 output",
    );
  }
  return loss;
}

/** Softmax and bce train the scores as log-odds; hinge and mse scores are not probabilities. */
function hasProbabilities(loss: LossName): boolean {
  return loss === "softmax" || loss === "bce";
}

const SCORES_DOC = "the network's outputs, as micrograd's scores()";
const CLASS_DOC = "the predicted class index, as micrograd's predict()";

function activationNode(
  graph: GraphBuilder,
  activation: Exclude<Activation, "linear">,
  input: string,
  output: string,
): string {
  const { op, alpha } = ACTIVATION_TABLE[activation].onnx;
  return graph.node(op, [input], output, alpha === undefined ? [] : [floatAttribute("alpha", alpha)]);
}

function metadataProps(file: ModelMetadata, loss: LossName): Record<string, string> {
  const props: Record<string, string> = {
    [ONNX_METADATA_KEYS.version]: LIBRARY_VERSION,
    [ONNX_METADATA_KEYS.loss]: loss,
  };
  if (file.classNames) props[ONNX_METADATA_KEYS.classNames] = JSON.stringify(file.classNames);
  if (file.featureNames) props[ONNX_METADATA_KEYS.featureNames] = JSON.stringify(file.featureNames);
  if (file.notes) props[ONNX_METADATA_KEYS.notes] = JSON.stringify(file.notes);
  return props;
}
