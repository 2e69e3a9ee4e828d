// A GPT exported as ONNX, run by ONNX Runtime itself: on held-out names, in batches and at
// several lengths, its logits must be the engine's (float32 against float64: within 1e-4,
// relative above 1), and the file must say what a user needs to feed it.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { CharTokenizer, GPT, gptToJSON, MLP, softmax } from "../src/index.js";
import { saveGPT, saveModel } from "../src/node.js";
import { ModelProtoSchema } from "../src/onnx/generated/onnx_pb.js";
import {
  GPT_METADATA_KEYS,
  GPT_ONNX_NAMES,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  onnxOutputNames,
  toOnnx,
} from "../src/onnx/index.js";
import { engineLogits, largestDifference, type TrainedGPT, trainedGPT, windows } from "./gpt-export.js";
import { micrograd, requireBuild } from "./program.js";

const folder = () => mkdtempSync(join(tmpdir(), "micrograd-onnx-gpt-"));
const root = join(import.meta.dirname, "..");
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };

/** ONNX Runtime's logits [batch][time][vocab] (flat) and last-position probabilities (flat). */
async function runOnnx(bytes: Uint8Array | string, sequences: readonly number[][], quiet = false) {
  // Quiet: ONNX Runtime would also log the errors a test expects.
  const session = await ort.InferenceSession.create(
    bytes as Uint8Array,
    quiet ? { logSeverityLevel: 4 } : {},
  );
  const [batch, time] = [sequences.length, sequences[0].length];
  const tokens = new ort.Tensor("int64", BigInt64Array.from(sequences.flat().map(BigInt)), [batch, time]);
  const results = await session.run({ [GPT_ONNX_NAMES.tokens]: tokens });
  const logits = results[GPT_ONNX_NAMES.logits];
  const probabilities = results[GPT_ONNX_NAMES.probabilities];
  return {
    logitsDims: logits.dims,
    logits: logits.data as Float32Array,
    probabilitiesDims: probabilities.dims,
    probabilities: probabilities.data as Float32Array,
  };
}

/** Runs batches of held-out windows of each length and compares every logit with the engine's. */
async function expectEngineLogits(trained: TrainedGPT, batch: number, lengths: number[]) {
  const bytes = toOnnx(trained.gpt, { tokenizer: trained.tokenizer });
  const { vocabSize } = trained.gpt.config;
  for (const [k, time] of lengths.entries()) {
    const sequences = windows(trained, batch, time, 3 * k);
    expect(sequences).toHaveLength(batch);
    const onnx = await runOnnx(bytes, sequences);
    expect(onnx.logitsDims).toEqual([batch, time, vocabSize]);
    const expected = engineLogits(trained.gpt, sequences);
    expect(largestDifference(onnx.logits, expected.flat(2)), `logits, time ${time}`).toBeLessThanOrEqual(
      1e-4,
    );
    // The logits are not all alike (a model that ignored its input would pass less easily).
    if (time > 1) expect(new Set(expected.map((s) => s[time - 1][0].toFixed(3))).size).toBeGreaterThan(1);
    expect(onnx.probabilitiesDims).toEqual([batch, vocabSize]);
    const lastProbabilities = expected.flatMap((positions) => softmax(positions[time - 1]));
    expect(
      largestDifference(onnx.probabilities, lastProbabilities),
      `probabilities, time ${time}`,
    ).toBeLessThanOrEqual(1e-5);
  }
}

describe("ONNX Runtime gives the engine's logits for a GPT", () => {
  let defaultModel: TrainedGPT;
  let twoLayers: TrainedGPT;
  beforeAll(() => {
    defaultModel = trainedGPT({ steps: 300 });
    twoLayers = trainedGPT({ nLayer: 2, nEmbd: 24, nHead: 3, steps: 150 });
  });

  it("the default model (1 layer, 16 wide, 4 heads, block 16): batches of 5 held-out names, time 1 to 16", async () => {
    expect(defaultModel.gpt.config).toEqual({ vocabSize: 27, nLayer: 1, nEmbd: 16, nHead: 4, blockSize: 16 });
    await expectEngineLogits(defaultModel, 5, [1, 2, 5, 9, 16]);
  });

  it("a 2-layer model with 3 heads of 8: batches of 3, time 3, 7 and 16", async () => {
    await expectEngineLogits(twoLayers, 3, [3, 7, 16]);
  });

  it("one sequence alone gives the same logits as inside a batch", async () => {
    const bytes = toOnnx(defaultModel.gpt, { tokenizer: defaultModel.tokenizer });
    const sequences = windows(defaultModel, 4, 6);
    const together = await runOnnx(bytes, sequences);
    const alone = await runOnnx(bytes, [sequences[2]]);
    const size = 6 * 27;
    expect(Array.from(alone.logits)).toEqual(Array.from(together.logits.slice(2 * size, 3 * size)));
  });

  it("a sequence longer than the block, or a token outside the vocabulary, is refused by ONNX Runtime", async () => {
    const bytes = toOnnx(defaultModel.gpt, { tokenizer: defaultModel.tokenizer });
    await expect(runOnnx(bytes, [Array.from({ length: 17 }, () => 26)], true)).rejects.toThrow(/16 by 17/);
    await expect(runOnnx(bytes, [[26, 27]], true)).rejects.toThrow(/idx=27/);
    await expect(runOnnx(bytes, [[26, -28]], true)).rejects.toThrow(/idx=-28/);
  });

  it("a negative id counts back from the end of the vocabulary, as the README says: −1 is BOS", async () => {
    const bytes = toOnnx(defaultModel.gpt, { tokenizer: defaultModel.tokenizer });
    const wrapped = await runOnnx(bytes, [[-1, -27, -2]]);
    const plain = await runOnnx(bytes, [[26, 0, 25]]);
    expect(Array.from(wrapped.logits)).toEqual(Array.from(plain.logits));
  });
});

describe("what a GPT's ONNX file says about itself", () => {
  const tokenizer = new CharTokenizer(["a", "b", "c", "é"]);
  const gpt = new GPT({ vocabSize: 5, nLayer: 2, nEmbd: 8, nHead: 2, blockSize: 6, seed: 3 });
  const notes = { data: "names.txt", steps: 1000, heldOutLoss: 2.36 };
  const onnx = fromBinary(ModelProtoSchema, toOnnx(gpt, { tokenizer, notes }));

  it("the vocabulary, BOS, configuration, notes and version as metadata_props; IR and opset as the MLP's", () => {
    expect(onnx.irVersion).toBe(BigInt(ONNX_IR_VERSION));
    expect(onnx.opsetImport.map((o) => [o.domain, o.version])).toEqual([["", BigInt(ONNX_OPSET)]]);
    expect([onnx.producerName, onnx.producerVersion]).toEqual(["micrograd", version]);
    const props = Object.fromEntries(onnx.metadataProps.map((p) => [p.key, p.value]));
    expect(Object.keys(props).sort()).toEqual(Object.values(GPT_METADATA_KEYS).sort());
    expect(JSON.parse(props.vocabulary)).toEqual(["a", "b", "c", "é"]);
    expect(props.bos).toBe("4");
    expect(JSON.parse(props.config)).toEqual({ vocabSize: 5, nLayer: 2, nEmbd: 8, nHead: 2, blockSize: 6 });
    expect(JSON.parse(props.notes)).toEqual(notes);
    expect(props.micrograd_version).toBe(version);
    const bare = fromBinary(ModelProtoSchema, toOnnx(gpt, { tokenizer }));
    expect(bare.metadataProps.map((p) => p.key)).not.toContain("notes");
  });

  it("tokens [batch, time] int64 in; logits [batch, time, vocab] and probabilities [batch, vocab] out", () => {
    const graph = onnx.graph;
    if (!graph) throw new Error("no graph");
    const describe = (info: (typeof graph.input)[number]) => {
      const type = info.type?.value;
      if (type?.case !== "tensorType") throw new Error(`${info.name} is not a tensor`);
      const dims = type.value.shape?.dim.map((d) =>
        d.value.case === "dimParam" ? d.value.value : Number(d.value.value),
      );
      return [info.name, type.value.elemType, dims];
    };
    expect(graph.input.map(describe)).toEqual([["tokens", 7, ["batch", "time"]]]);
    expect(graph.output.map(describe)).toEqual([
      ["logits", 1, ["batch", "time", 5]],
      ["probabilities", 1, ["batch", 5]],
    ]);
    expect(onnxOutputNames(gpt)).toEqual(["logits", "probabilities"]);
    // Standard operators only, and per layer one attention Softmax (the last Softmax is the output's).
    const ops = new Set(graph.node.map((n) => n.opType));
    expect([...ops].sort()).toEqual(
      [
        "Add",
        "Concat",
        "Div",
        "Gather",
        "MatMul",
        "Mul",
        "ReduceMean",
        "Relu",
        "Reshape",
        "Shape",
        "Slice",
        "Softmax",
        "Sqrt",
        "Transpose",
      ].sort(),
    );
    expect(graph.node.filter((n) => n.opType === "Softmax")).toHaveLength(3);
    expect(graph.node.every((n) => n.domain === "")).toBe(true);
  });

  it("weights under their state-dict names, matrices transposed for MatMul ([in, out])", () => {
    const initializers = new Map(onnx.graph?.initializer.map((t) => [t.name, t]));
    const stateDict = gpt.stateDict();
    const wte = initializers.get("wte");
    expect(wte?.dims.map(Number)).toEqual([5, 8]);
    expect(wte?.floatData).toEqual(stateDict.wte.flat().map(Math.fround));
    const fc1 = initializers.get("layer1.mlp_fc1.T");
    expect(fc1?.dims.map(Number)).toEqual([8, 32]);
    const column0 = stateDict["layer1.mlp_fc1"].map((row) => Math.fround(row[0]));
    expect(fc1?.floatData.slice(0, 32)).toEqual(column0);
    const matrices = Object.keys(stateDict).filter((key) => key !== "wte" && key !== "wpe");
    for (const key of matrices) expect(initializers.has(`${key}.T`), key).toBe(true);
  });
});

describe("a GPT that cannot be exported says why", () => {
  const tokenizer = new CharTokenizer(["a", "b"]);
  const fresh = () => new GPT({ vocabSize: 3, nEmbd: 4, nHead: 2, blockSize: 4, seed: 1 });

  it("names the weight that is not finite or beyond float32", () => {
    const gpt = fresh();
    gpt.blocks[0].attnWk[1][2].data = Number.NaN;
    expect(() => toOnnx(gpt, { tokenizer })).toThrow(
      "toOnnx: layer0.attn_wk[1][2] is NaN, not a finite number",
    );
    gpt.blocks[0].attnWk[1][2].data = 0;
    gpt.wpe[3][0].data = -1e300;
    expect(() => toOnnx(gpt, { tokenizer })).toThrow(
      "toOnnx: wpe[3][0] is -1e+300, beyond the range of float32 (about ±3.4e38)",
    );
  });

  it("needs the tokenizer it was trained with", () => {
    expect(() => toOnnx(fresh(), undefined as never)).toThrow(/toOnnx: a GPT needs \{ tokenizer \}/);
    expect(() => toOnnx(fresh(), { tokenizer: new CharTokenizer(["a", "b", "c"]) })).toThrow(
      "toOnnx: the tokenizer has 4 tokens (with BOS) but the model 3",
    );
  });

  it("anything else is neither an MLP nor a GPT", () => {
    expect(() => toOnnx({} as never)).toThrow("toOnnx: expected an MLP or a GPT");
  });
});

describe("micrograd export of a GPT", () => {
  requireBuild();
  const tokenizer = new CharTokenizer(["a", "b", "c"]);
  const gpt = new GPT({ vocabSize: 4, nEmbd: 8, nHead: 2, blockSize: 5, seed: 2, initStd: 0.3 });

  it("writes model.onnx beside model.json; ONNX Runtime gives the engine's logits", async () => {
    const dir = folder();
    const model = join(dir, "model.json");
    saveGPT(model, gpt, tokenizer, { steps: 3 });
    const run = await micrograd(["export", "--model", model]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = join(dir, "model.onnx");
    expect(run.stdout).toBe(
      `wrote ${out} (${readFileSync(out).length} bytes): tokens [batch, time ≤ 5] → logits, probabilities\n`,
    );
    const sequences = [
      [3, 0, 1, 2, 0],
      [3, 2, 2, 1, 1],
    ];
    const onnx = await runOnnx(out, sequences);
    expect(largestDifference(onnx.logits, engineLogits(gpt, sequences).flat(2))).toBeLessThanOrEqual(1e-4);
    const props = fromBinary(ModelProtoSchema, readFileSync(out)).metadataProps;
    expect(JSON.parse(props.find((p) => p.key === "notes")?.value ?? "null")).toEqual({ steps: 3 });
  });

  it("a file neither MLP nor GPT, or a GPT with weights float32 cannot hold, exits 1; nothing is written", async () => {
    const dir = folder();
    const model = join(dir, "model.json");
    const out = join(dir, "model.onnx");
    writeFileSync(out, "previous export");
    const file = gptToJSON(gpt, tokenizer);
    const withWeight = (x: string) => JSON.stringify(file).replace(/"wpe":\[\[[^,\]]+/, `"wpe":[[${x}`);
    const cases: [string, string][] = [
      [
        '{"hello": "world"}',
        `${model}: not a micrograd model (neither an MLP nor a GPT): "format" is undefined`,
      ],
      ["[1, 2, 3]", `${model}: not a micrograd model (neither an MLP nor a GPT)`],
      ["null", `${model}: not a micrograd model (neither an MLP nor a GPT)`],
      [
        JSON.stringify({ ...file, kind: "rnn" }),
        `${model}: not a valid micrograd model: "kind" is "rnn"; this micrograd reads an MLP (no "kind") or a GPT`,
      ],
      [withWeight("1e999"), `"stateDict": loadStateDict: "wpe"[0][0] is Infinity, not a finite number`],
      [
        withWeight("1e300"),
        `${model}: cannot be exported to ONNX: toOnnx: wpe[0][0] is 1e+300, beyond the range of float32`,
      ],
    ];
    for (const [content, message] of cases) {
      writeFileSync(model, content);
      const run = await micrograd(["export", "--model", model]);
      expect(run.code, message).toBe(1);
      expect(run.stderr).toContain(message);
      expect(run.stderr.split("\n")).toHaveLength(2);
      expect(readFileSync(out, "utf8")).toBe("previous export");
      expect(readdirSync(dir).sort()).toEqual(["model.json", "model.onnx"]);
    }
  });

  it("an --out that is a folder or cannot be written exits 1 and names it", async () => {
    const dir = folder();
    const model = join(dir, "model.json");
    saveGPT(model, gpt, tokenizer);
    mkdirSync(join(dir, "taken.onnx"));
    writeFileSync(join(dir, "file"), "");
    const cases: [string, string][] = [
      [join(dir, "taken.onnx"), "is a folder; choose another --out"],
      [join(dir, "no", "such", "m.onnx"), `cannot write ${join(dir, "no", "such", "m.onnx")}`],
      [
        join(dir, "file", "m.onnx"),
        `cannot write ${join(dir, "file", "m.onnx")}: a file is in the way of its folder`,
      ],
    ];
    for (const [out, message] of cases) {
      const run = await micrograd(["export", "--model", model, "--out", out]);
      expect(run.code, out).toBe(1);
      expect(run.stderr).toContain(message);
    }
    expect(readdirSync(dir).sort()).toEqual(["file", "model.json", "taken.onnx"]);
    expect(existsSync(join(dir, "taken.onnx", "model.onnx"))).toBe(false);
  });

  it("an MLP still exports as before; --format safetensors of an MLP exits 1 and says what to do", async () => {
    const dir = folder();
    const model = join(dir, "model.json");
    saveModel(model, new MLP(2, [3, 1], { seed: 1 }));
    expect((await micrograd(["export", "--model", model])).code).toBe(0);
    const run = await micrograd(["export", "--model", model, "--format", "safetensors"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `cannot be exported to safetensors: this is an MLP; safetensors export is for GPT models (an MLP exports as ONNX: micrograd export --model ${model})`,
    );
    expect(readdirSync(dir).sort()).toEqual(["model.json", "model.onnx"]);
  });
});
