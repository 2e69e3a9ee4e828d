// What every ONNX file we write shares: the IR and opset versions, a graph builder that appends
// nodes and constant tensors in the order they compute, typed inputs and outputs, and the
// ModelProto around them. The message types are generated from ONNX's own onnx.proto (see
// generated/README.md), so the bytes are protobuf's encoding, not ours.
import { create, toBinary } from "@bufbuild/protobuf";
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
  Version,
} from "./generated/onnx_pb.js";
import { LIBRARY_VERSION } from "./metadata.js";

export { TensorProto_DataType };

/** The IR version of the onnx.proto the messages are generated from (ONNX 1.20: 13). */
export const ONNX_IR_VERSION: number = Version.IR_VERSION;
/** The operator set of ONNX 1.20, the release whose onnx.proto is compiled here. */
export const ONNX_OPSET = 25;

/** Nodes and constant tensors, appended in the order they compute. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];

  /** Adds `opType(inputs) → output` and returns the output's name. */
  node(opType: string, inputs: string[], output: string, attribute: AttributeProto[] = []): string {
    this.nodes.push(
      create(NodeProtoSchema, { name: output, opType, input: inputs, output: [output], attribute }),
    );
    return output;
  }

  /** A constant tensor of float32 (or int64) numbers; returns its name. */
  constant(
    name: string,
    dims: number[],
    values: readonly number[],
    dataType = TensorProto_DataType.FLOAT,
    docString = "",
  ): string {
    const isFloat = dataType === TensorProto_DataType.FLOAT;
    this.initializers.push(
      create(TensorProtoSchema, {
        name,
        // proto2 fields have presence: an empty doc string would still be written.
        ...(docString ? { docString } : {}),
        dims: dims.map(BigInt),
        dataType,
        ...(isFloat ? { floatData: [...values] } : { int64Data: values.map(BigInt) }),
      }),
    );
    return name;
  }
}

export function intAttribute(name: string, value: number): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(value) });
}

export function intsAttribute(name: string, values: readonly number[]): AttributeProto {
  return create(AttributeProtoSchema, {
    name,
    type: AttributeProto_AttributeType.INTS,
    ints: values.map(BigInt),
  });
}

export function floatAttribute(name: string, value: number): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOAT, f: value });
}

/** A named tensor of `elemType`; a string dimension is symbolic (such as "batch"). */
export function tensorInfo(
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

/** The parts of a model file that differ between models. */
export interface ModelParts {
  graphName: string;
  docString: string;
  graph: GraphBuilder;
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  /** `metadata_props`: ONNX Runtime's custom metadata, every value a string. */
  metadata: Record<string, string>;
}

/** The ModelProto's bytes: this IR version and opset, micrograd as the producer. */
export function modelBytes(parts: ModelParts): Uint8Array {
  const model = create(ModelProtoSchema, {
    irVersion: BigInt(ONNX_IR_VERSION),
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: BigInt(ONNX_OPSET) })],
    producerName: "micrograd",
    producerVersion: LIBRARY_VERSION,
    docString: parts.docString,
    graph: create(GraphProtoSchema, {
      name: parts.graphName,
      node: parts.graph.nodes,
      initializer: parts.graph.initializers,
      input: parts.inputs,
      output: parts.outputs,
    }),
    metadataProps: Object.entries(parts.metadata).map(([key, value]) =>
      create(StringStringEntryProtoSchema, { key, value }),
    ),
  });
  return toBinary(ModelProtoSchema, model);
}
