// Saved models: exact round trips, every kind of broken file named, and saving that never
// leaves a truncated or clobbered file behind.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeMoons } from "../src/data.js";
import { GPT } from "../src/gpt.js";
import { MLP } from "../src/nn.js";
import { loadModel, saveModel } from "../src/node/models.js";
import { gptFromJSON, gptToJSON, ModelFormatError, modelFromJSON, modelToJSON } from "../src/serialize.js";
import { CharTokenizer } from "../src/tokenizer.js";
import { fit, scores } from "../src/train.js";

function trained(): MLP {
  const model = new MLP(2, [8, 8, 1], { activation: "tanh", seed: 5 });
  fit(model, makeMoons({ nSamples: 30, seed: 2 }), { steps: 10, optimizer: "adam" });
  return model;
}

const temporaryFolder = () => mkdtempSync(join(tmpdir(), "micrograd-models-"));

describe("model JSON", () => {
  it("round-trips every weight bit for bit, and so every prediction", () => {
    const model = trained();
    const text = JSON.stringify(modelToJSON(model, { classNames: ["upper", "lower"] }));
    const { model: copy, metadata } = modelFromJSON(JSON.parse(text));
    expect(copy.parameters().map((p) => p.data)).toEqual(model.parameters().map((p) => p.data));
    expect(copy.config.activation).toBe("tanh");
    expect(metadata.classNames).toEqual(["upper", "lower"]);
    const grid = [-1, 0, 0.5, 2].flatMap((a) => [-0.5, 0.25, 1].map((b) => [a, b]));
    expect(scores(copy, grid)).toEqual(scores(model, grid));
  });

  it("names the broken field", () => {
    const good = modelToJSON(new MLP(2, [3, 1], { seed: 1 }));
    const broken = (patch: Record<string, unknown>) => () => modelFromJSON({ ...good, ...patch });
    expect(() => modelFromJSON([])).toThrow("not a valid micrograd model: expected a JSON object");
    expect(broken({ format: "keras" })).toThrow('"format" is "keras", expected "micrograd-model"');
    expect(broken({ version: 2 })).toThrow('"version" is 2; this micrograd reads version 1');
    expect(broken({ architecture: undefined })).toThrow('"architecture" is missing');
    expect(broken({ kind: "rnn" })).toThrow(
      '"kind" is "rnn"; this micrograd reads an MLP (no "kind") or a GPT ("kind": "gpt")',
    );
    expect(broken({ architecture: { ...good.architecture, nin: 0 } })).toThrow(
      '"architecture.nin" must be a positive integer, got 0',
    );
    expect(broken({ architecture: { ...good.architecture, nouts: [3, "1"] } })).toThrow(
      '"architecture.nouts"',
    );
    expect(broken({ architecture: { ...good.architecture, activation: "gelu" } })).toThrow(
      '"architecture.activation" is "gelu"',
    );
    expect(broken({ parameters: good.parameters.slice(1) })).toThrow(
      '"parameters" has 12 numbers, but a 2-3-1 network has 13',
    );
    expect(broken({ parameters: [...good.parameters.slice(1), null] })).toThrow(
      '"parameters[12]" is null, expected a finite number',
    );
    expect(broken({ classNames: [1, 2] })).toThrow('"classNames" must be an array of strings');
    expect(broken({ scaler: { mean: [0, 0], std: [1, 0] } })).toThrow('"scaler" must be { mean, std }');
    expect(broken({ parameters: "1,2" })).toThrow(ModelFormatError);
    expect(broken({ classNames: ["a"] })).toThrow(`"classNames" has 1 names for the model's 2 classes`);
    expect(broken({ loss: "foo" })).toThrow('"loss" is "foo"; expected one of hinge, mse, bce, softmax');
    expect(broken({ scaler: { mean: [0, 0], std: [1, 1e-320] } })).toThrow('"scaler" must be { mean, std }');
  });

  it("refuses to save what it could not load", () => {
    const model = new MLP(2, [3, 1], { seed: 1 });
    model.parameters()[4].data = Number.NaN;
    expect(() => modelToJSON(model)).toThrow("modelToJSON: parameter 4 is NaN, not a finite number");
  });
});

describe("every size in a model file is checked against the weights present before anything is built", () => {
  // Building a model of the sizes a file claims would allocate them all: these files are tiny,
  // and the checks must refuse them in far less time and memory than building would take.
  const mlp = modelToJSON(new MLP(2, [3, 1], { seed: 1 }));
  const tokenizer = CharTokenizer.fromDocuments(["ab", "ba"]);
  const gpt = gptToJSON(
    new GPT({ vocabSize: tokenizer.vocabSize, nEmbd: 4, nHead: 2, blockSize: 4, seed: 1 }),
    tokenizer,
  );
  const withConfig = (patch: Record<string, unknown>) => ({ ...gpt, config: { ...gpt.config, ...patch } });
  const heap = () => process.memoryUsage().heapUsed;

  it("GPT: layers, vocabulary, width or block that the matrices do not have", () => {
    const before = heap();
    const started = performance.now();
    expect(() => gptFromJSON(withConfig({ nLayer: 100_000 }))).toThrow(
      /"stateDict": loadStateDict: "layer1.attn_wq" is missing \(expected \[4\]\[4\]\)/,
    );
    expect(() => gptFromJSON(withConfig({ nEmbd: 100_000, nHead: 1 }))).toThrow(
      /"stateDict": loadStateDict: "wte"\[0\] must have 100000 numbers/,
    );
    expect(() => gptFromJSON(withConfig({ blockSize: 100_000 }))).toThrow(
      /"wpe" must have 100000 rows \(shape \[100000\]\[4\]\), got an array of 4/,
    );
    // The vocabulary must agree with the characters before the matrices are even looked at.
    expect(() => gptFromJSON(withConfig({ vocabSize: 100_000 }))).toThrow(
      /"chars" has 2 characters \(\+ BOS\), but "config.vocabSize" is 100000/,
    );
    expect(() => gptFromJSON(withConfig({ nLayer: 100_001 }))).toThrow(
      /"config": GPT: nLayer must be an integer from 1 to 100000, got 100001/,
    );
    expect(() => gptFromJSON(withConfig({ nLayers: 2 }))).toThrow(
      /"config": GPT: unknown option "nLayers"; did you mean "nLayer"/,
    );
    expect(performance.now() - started).toBeLessThan(2000);
    // A model of 100,000 layers of 4 × 4 is 19 million Values, about 2 GB; none were made.
    expect(heap() - before).toBeLessThan(50e6);
  });

  it("GPT: a key of a layer the config does not have is named, without listing every layer", () => {
    const dict = { ...gpt.stateDict, "layer7.attn_wq": gpt.stateDict["layer0.attn_wq"] };
    expect(() => gptFromJSON({ ...gpt, stateDict: dict })).toThrow(
      '"stateDict": loadStateDict: unexpected key "layer7.attn_wq"; this model (1 layer) has wte, wpe, lm_head and layer0.attn_wq/attn_wk/attn_wv/attn_wo/mlp_fc1/mlp_fc2',
    );
    expect(() => gptFromJSON({ ...gpt, stateDict: { ...gpt.stateDict, "layer01.attn_wq": [] } })).toThrow(
      /unexpected key "layer01.attn_wq"/,
    );
  });

  it("MLP: layer sizes that the parameters do not fill are refused before building", () => {
    const before = heap();
    const huge = { ...mlp, architecture: { ...mlp.architecture, nin: 1_000_000, nouts: [1_000_000, 1] } };
    expect(() => modelFromJSON(huge)).toThrow(
      '"parameters" has 13 numbers, but a 1000000-1000000-1 network has 1000002000001',
    );
    expect(heap() - before).toBeLessThan(50e6);
  });

  it("both: a reader's limit on parameters, as training's --max-params", () => {
    expect(() => modelFromJSON(mlp, { maxParameters: 12 })).toThrow(
      "not a valid micrograd model: the model has 13 parameters, more than the 12 allowed",
    );
    expect(modelFromJSON(mlp, { maxParameters: 13 }).model.parameters()).toHaveLength(13);
    expect(() => gptFromJSON(gpt, { maxParameters: 100 })).toThrow(
      /the model has 232 parameters, more than the 100 allowed/,
    );
    expect(() => modelFromJSON(mlp, { maxParameter: 12 } as never)).toThrow(/did you mean "maxParameters"/);
  });
});

describe("saveModel / loadModel", () => {
  it("writes and reads back the same model, leaving no temporary files", () => {
    const dir = temporaryFolder();
    const path = join(dir, "model.json");
    const model = trained();
    saveModel(path, model, { notes: { steps: 10 } });
    const { model: copy, metadata } = loadModel(path);
    expect(copy.parameters().map((p) => p.data)).toEqual(model.parameters().map((p) => p.data));
    expect(metadata.notes).toEqual({ steps: 10 });
    expect(readdirSync(dir)).toEqual(["model.json"]);
  });

  it("a failed save leaves the existing file as it was", () => {
    const dir = temporaryFolder();
    const path = join(dir, "model.json");
    writeFileSync(path, "precious");
    expect(() => saveModel(path, trained(), { featureNames: ["only one"] })).toThrow(
      "modelToJSON: metadata.featureNames has 1 names for 2 inputs",
    );
    expect(readFileSync(path, "utf8")).toBe("precious");
    const missing = join(dir, "missing", "model.json");
    expect(() => saveModel(missing, trained())).toThrow(`cannot write ${missing}: no such folder`);
    expect(readdirSync(dir)).toEqual(["model.json"]);
  });

  it("says which file is missing, not JSON, truncated or wrong", () => {
    const dir = temporaryFolder();
    expect(() => loadModel(join(dir, "nope.json"))).toThrow(
      `cannot read ${join(dir, "nope.json")}: no such file`,
    );
    const path = join(dir, "bad.json");
    writeFileSync(path, "{ not json");
    expect(() => loadModel(path)).toThrow(`${path}: not a valid micrograd model: the file is not JSON`);
    saveModel(path, trained());
    writeFileSync(path, readFileSync(path, "utf8").slice(0, 200));
    expect(() => loadModel(path)).toThrow("the file is not JSON");
    writeFileSync(path, JSON.stringify({ format: "micrograd-model", version: 1 }));
    expect(() => loadModel(path)).toThrow(`${path}: not a valid micrograd model: "architecture" is missing`);
  });
});
