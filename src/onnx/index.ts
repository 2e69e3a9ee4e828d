// micrograd/onnx: a trained MLP as an ONNX model, so that ONNX Runtime (Node, browsers, Python,
// C#, C++) can run it without this library. This module writes ONNX; nothing here reads it.
//
// The messages come from onnx-buf (ONNX's own schema compiled for @bufbuild/protobuf), so the
// bytes are protobuf's encoding, not ours. The graph is the model as the engine computes it:
// optional standardization, then per layer one Gemm and its activation, in float32.
import { create, toBinary } from "@bufbuild/protobuf";
import manifest from "micrograd/package.json" with { type: "json" };
import {
  type AttributeProto,
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  type TensorProto,
  TensorProto_DataType,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from "onnx-buf";
import { Value } from "../engine.js";
import type { LossName } from "../losses.js";
import { type Activation, activate, MLP } from "../nn.js";
import { type ModelFile, type ModelMetadata, modelToJSON } from "../serialize.js";

/** IR version 13 and opset 25 are those of ONNX 1.20, the schema onnx-buf compiles. */
export const ONNX_IR_VERSION = 13;
export const ONNX_OPSET = 25;

/** The names of the graph's input and outputs, for `session.run` and `results[name]`. */
export const ONNX_NAMES = {
  input: "input",
  scores: "scores",
  probabilities: "probabilities",
  class: "class",
} as const;

/** The keys of `metadata_props` (ONNX Runtime's custom metadata): every value is a string. */
export const ONNX_METADATA_KEYS = {
  version: "micrograd_version",
  loss: "loss",
  classNames: "class_names",
  featureNames: "feature_names",
  notes: "notes",
} as const;

/**
 * The model as ONNX bytes (save them as `model.onnx`). The graph takes raw features of shape
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
export function toOnnx(model: MLP, metadata: ModelMetadata = {}): Uint8Array {
  if (!(model instanceof MLP)) throw new TypeError(`toOnnx: expected an MLP, got ${String(model)}`);
  // The same checks as saving a model file: finite weights, metadata that fits the architecture.
  let file: ModelFile;
  try {
    file = modelToJSON(model, metadata);
  } catch (error) {
    const message = (error as Error).message.replace(/^modelToJSON: /, "");
    throw error instanceof RangeError
      ? new RangeError(`toOnnx: ${message}`)
      : new TypeError(`toOnnx: ${message}`);
  }
  const nout = model.nout;
  const loss = lossOf(model, file);
  file.parameters.forEach((p, i) => {
    if (!Number.isFinite(Math.fround(p))) {
      throw new RangeError(`toOnnx: parameter ${i} is ${p}, ${BEYOND_FLOAT32}`);
    }
  });

  const graph = new GraphBuilder();
  let h: string = ONNX_NAMES.input;
  if (file.scaler) {
    const mean = float32s("the scaler's mean", file.scaler.mean);
    const std = float32s("the scaler's std", file.scaler.std);
    const tiny = std.indexOf(0);
    if (tiny !== -1) {
      throw new RangeError(
        `toOnnx: the scaler's std[${tiny}] is ${file.scaler.std[tiny]}, which is 0 in float32`,
      );
    }
    graph.constant("scaler.mean", [mean.length], mean);
    graph.constant("scaler.std", [std.length], std);
    h = graph.node("Sub", [h, "scaler.mean"], "standardize.centered");
    h = graph.node("Div", [h, "scaler.std"], "standardized");
  }
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
      h = graph.activation(layer.activation, h, output);
    }
  });

  const classes = nout === 1 ? 2 : nout;
  const outputs = [tensorInfo(ONNX_NAMES.scores, TensorProto_DataType.FLOAT, ["batch", nout], SCORES_DOC)];
  if (hasProbabilities(loss)) {
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
    const doc =
      loss === "softmax" ? "softmax of the scores" : "sigmoid of each score, as in training with bce";
    outputs.push(tensorInfo(ONNX_NAMES.probabilities, TensorProto_DataType.FLOAT, ["batch", classes], doc));
  }
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
  outputs.push(tensorInfo(ONNX_NAMES.class, TensorProto_DataType.INT64, ["batch"], CLASS_DOC));

  const { nin, nouts, activation, outputActivation } = file.architecture;
  const sizes = [nin, ...nouts].join("-");
  const inputDoc = file.scaler
    ? "raw features, one row per sample; the graph standardizes them as in training"
    : "features, one row per sample";
  const onnxModel = create(ModelProtoSchema, {
    irVersion: BigInt(ONNX_IR_VERSION),
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: BigInt(ONNX_OPSET) })],
    producerName: "micrograd",
    producerVersion: LIBRARY_VERSION,
    docString: `MLP ${sizes} (hidden ${activation}, output ${outputActivation}), trained with the ${loss} loss`,
    graph: create(GraphProtoSchema, {
      name: "micrograd_mlp",
      node: graph.nodes,
      initializer: graph.initializers,
      input: [tensorInfo(ONNX_NAMES.input, TensorProto_DataType.FLOAT, ["batch", nin], inputDoc)],
      output: outputs,
    }),
    metadataProps: metadataProps(file, loss),
  });
  return toBinary(ModelProtoSchema, onnxModel);
}

/** The names of the outputs `toOnnx(model, metadata)` writes, in order. */
export function onnxOutputNames(model: MLP, metadata: ModelMetadata = {}): string[] {
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

const LIBRARY_VERSION: string = manifest.version;

const BEYOND_FLOAT32 = "beyond the range of float32 (about ±3.4e38)";
const SCORES_DOC = "the network's outputs, as micrograd's scores()";
const CLASS_DOC = "the predicted class index, as micrograd's predict()";

/** ONNX's slope for LeakyRelu: the one the engine uses, read from the engine rather than restated. */
const LEAKY_RELU_SLOPE = -activate(new Value(-1), "leakyRelu").data;

/** Nodes and constant tensors, appended in the order they compute. */
class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];

  /** Adds `opType(inputs) → output` and returns the output's name. */
  node(opType: string, inputs: string[], output: string, attribute: AttributeProto[] = []): string {
    this.nodes.push(
      create(NodeProtoSchema, { name: output, opType, input: inputs, output: [output], attribute }),
    );
    return output;
  }

  activation(activation: Exclude<Activation, "linear">, input: string, output: string): string {
    switch (activation) {
      case "relu":
        return this.node("Relu", [input], output);
      case "tanh":
        return this.node("Tanh", [input], output);
      case "sigmoid":
        return this.node("Sigmoid", [input], output);
      case "leakyRelu":
        return this.node("LeakyRelu", [input], output, [floatAttribute("alpha", LEAKY_RELU_SLOPE)]);
    }
  }

  /** A constant tensor of float32 (or int64) numbers. */
  constant(
    name: string,
    dims: number[],
    values: readonly number[],
    dataType = TensorProto_DataType.FLOAT,
  ): void {
    const isFloat = dataType === TensorProto_DataType.FLOAT;
    this.initializers.push(
      create(TensorProtoSchema, {
        name,
        dims: dims.map(BigInt),
        dataType,
        ...(isFloat ? { floatData: [...values] } : { int64Data: values.map(BigInt) }),
      }),
    );
  }
}

/** The numbers as float32, or an error naming the first that float32 cannot hold. */
function float32s(what: string, values: readonly number[]): number[] {
  return values.map((x, i) => {
    const single = Math.fround(x);
    if (!Number.isFinite(single)) {
      throw new RangeError(`toOnnx: ${what}[${i}] is ${x}, ${BEYOND_FLOAT32}`);
    }
    return single;
  });
}

function intAttribute(name: string, value: number): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(value) });
}

function floatAttribute(name: string, value: number): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOAT, f: value });
}

/** A named tensor of `elemType` whose first dimension is the symbolic batch size. */
function tensorInfo(
  name: string,
  elemType: TensorProto_DataType,
  shape: (string | number)[],
  docString: string,
): ValueInfoProto {
  const dim = shape.map((d) =>
    create(TensorShapeProto_DimensionSchema, {
      value: typeof d === "string" ? { case: "dimParam", value: d } : { case: "dimValue", value: BigInt(d) },
    }),
  );
  return create(ValueInfoProtoSchema, {
    name,
    docString,
    type: create(TypeProtoSchema, {
      value: {
        case: "tensorType",
        value: create(TypeProto_TensorSchema, { elemType, shape: create(TensorShapeProtoSchema, { dim }) }),
      },
    }),
  });
}

function metadataProps(file: ModelMetadata, loss: LossName) {
  const props: Record<string, string> = {
    [ONNX_METADATA_KEYS.version]: LIBRARY_VERSION,
    [ONNX_METADATA_KEYS.loss]: loss,
  };
  if (file.classNames) props[ONNX_METADATA_KEYS.classNames] = JSON.stringify(file.classNames);
  if (file.featureNames) props[ONNX_METADATA_KEYS.featureNames] = JSON.stringify(file.featureNames);
  if (file.notes) props[ONNX_METADATA_KEYS.notes] = JSON.stringify(file.notes);
  return Object.entries(props).map(([key, value]) => create(StringStringEntryProtoSchema, { key, value }));
}
