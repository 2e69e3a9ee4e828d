// ONNX export, checked by ONNX Runtime itself: every model it runs must give the engine's scores
// (to float32 precision) and predict()'s class on every row.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli/commands.js";
import { DEMO_FIT, demoSetup } from "../src/cli/demo.js";
import {
  ACTIVATIONS,
  createRandom,
  fit,
  gaussian,
  type LossName,
  MLP,
  type ModelMetadata,
  makeBlobs,
  predict,
  scores,
  softmax,
} from "../src/index.js";
import { loadDigits, loadModel, saveModel } from "../src/node.js";
import { ModelProtoSchema } from "../src/onnx/generated/onnx_pb.js";
import {
  ONNX_IR_VERSION,
  ONNX_METADATA_KEYS,
  ONNX_NAMES,
  ONNX_OPSET,
  onnxOutputNames,
  toOnnx,
} from "../src/onnx/index.js";

const root = join(import.meta.dirname, "..");
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
const folder = () => mkdtempSync(join(tmpdir(), "micrograd-onnx-"));

interface OnnxResult {
  scores: number[][];
  class: number[];
  probabilities?: number[][];
}

/** Runs the ONNX model on raw rows `X` in ONNX Runtime. */
async function runOnnx(model: Uint8Array | string, X: readonly (readonly number[])[]): Promise<OnnxResult> {
  const session = await ort.InferenceSession.create(model as Uint8Array);
  const input = new ort.Tensor("float32", Float32Array.from(X.flat()), [X.length, X[0].length]);
  const outputs = await session.run({ [ONNX_NAMES.input]: input });
  const rows = (tensor: ort.Tensor) => {
    const [n, k] = tensor.dims;
    const data = Array.from(tensor.data as Float32Array);
    return Array.from({ length: n }, (_, i) => data.slice(i * k, (i + 1) * k));
  };
  const probabilities = outputs[ONNX_NAMES.probabilities];
  return {
    scores: rows(outputs[ONNX_NAMES.scores]),
    class: Array.from(outputs[ONNX_NAMES.class].data as BigInt64Array, Number),
    ...(probabilities ? { probabilities: rows(probabilities) } : {}),
  };
}

/**
 * The rows as the network sees them: as float32 (the ONNX input's type, so that both sides get
 * the same numbers), then standardized when the metadata says so.
 */
function standardized(X: readonly (readonly number[])[], metadata: ModelMetadata): number[][] {
  const scaler = metadata.scaler;
  return X.map((row) =>
    row.map(Math.fround).map((x, j) => (scaler ? (x - scaler.mean[j]) / scaler.std[j] : x)),
  );
}

/** float32 arithmetic against float64: 1e-5, relative for scores above 1. */
function expectClose(actual: number[][], expected: number[][], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  expected.forEach((row, i) => {
    expect(actual[i].length, `${what} row ${i}`).toBe(row.length);
    row.forEach((x, j) => {
      worst = Math.max(worst, Math.abs(actual[i][j] - x) / Math.max(1, Math.abs(x)));
    });
  });
  expect(worst, `${what}: largest difference`).toBeLessThanOrEqual(1e-5);
}

/** ONNX Runtime against the engine on raw rows `X`: scores, classes and probabilities. */
async function expectSameAsEngine(
  model: MLP,
  metadata: ModelMetadata,
  X: readonly (readonly number[])[],
): Promise<OnnxResult> {
  const onnx = await runOnnx(toOnnx(model, metadata), X);
  const inputs = standardized(X, metadata);
  const expected = scores(model, inputs);
  expectClose(onnx.scores, expected, "scores");
  expect(onnx.class).toEqual(predict(model, inputs));
  const loss = metadata.loss ?? (model.nout === 1 ? "hinge" : "softmax");
  if (loss === "softmax") {
    expectClose(onnx.probabilities as number[][], expected.map(softmax), "softmax probabilities");
  } else if (loss === "bce") {
    const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
    const bce = expected.map((row) =>
      row.length === 1 ? [1 - sigmoid(row[0]), sigmoid(row[0])] : row.map(sigmoid),
    );
    expectClose(onnx.probabilities as number[][], bce, "sigmoid probabilities");
  } else {
    expect(onnx.probabilities, `${loss} has no probabilities`).toBeUndefined();
  }
  return onnx;
}

/** n rows of d features, spread wide enough that every activation sees both signs. */
function gaussianRows(n: number, d: number, seed: number, spread = 2): number[][] {
  const random = createRandom(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => gaussian(random) * spread));
}

const SCALER = { mean: [3, -1.5, 0.25], std: [2, 0.5, 4] };

describe("ONNX Runtime gives the engine's scores and classes", () => {
  for (const activation of ACTIVATIONS) {
    for (const nout of [1, 3]) {
      for (const scaled of [false, true]) {
        it(`${activation} hidden layers, ${nout} output${nout > 1 ? "s" : ""}, ${scaled ? "with" : "without"} input scaling`, async () => {
          // Untrained weights with a fixed seed: the point is the numerics, not the fit.
          const model = new MLP(3, [8, 6, nout], { activation, seed: 7 + nout });
          const metadata: ModelMetadata = scaled ? { scaler: SCALER } : {};
          const rows = gaussianRows(200, 3, 11);
          // Raw rows around the scaler's mean, so that standardized inputs are spread around 0.
          const X = scaled ? rows.map((r) => r.map((z, j) => SCALER.mean[j] + z * SCALER.std[j])) : rows;
          const onnx = await expectSameAsEngine(model, metadata, X);
          // Both classes (or all three) occur, so that the class rule is really exercised.
          if (activation !== "sigmoid") expect(new Set(onnx.class).size).toBeGreaterThan(1);
        });
      }
    }
  }

  it("every activation as the output layer's: scores pass through it", async () => {
    for (const outputActivation of ACTIVATIONS) {
      for (const nout of [1, 4]) {
        const model = new MLP(2, [5, nout], { activation: "tanh", outputActivation, seed: 3 });
        await expectSameAsEngine(model, {}, gaussianRows(60, 2, 5));
      }
    }
  });

  it("LeakyRelu uses the engine's slope on negative inputs", async () => {
    // One neuron, weight -1, so that every positive input gives a negative pre-activation.
    const model = new MLP(1, [1], { outputActivation: "leakyRelu", seed: 1 });
    model.parameters()[0].data = -1;
    const onnx = await runOnnx(toOnnx(model), [[2], [-3]]);
    const engine = scores(model, [[2], [-3]]);
    expect(engine[0][0]).toBeLessThan(0);
    expect(engine[0][0]).not.toBe(-2); // not the identity
    expectClose(onnx.scores, engine, "leaky scores");
  });

  for (const loss of ["hinge", "mse", "bce", "softmax"] as LossName[]) {
    for (const nout of [1, 3]) {
      if (loss === "softmax" && nout === 1) continue;
      it(`probabilities as the ${loss} loss implies, ${nout} output${nout > 1 ? "s" : ""}`, async () => {
        const model = new MLP(3, [6, nout], { seed: 21 });
        const onnx = await expectSameAsEngine(model, { loss }, gaussianRows(80, 3, 4));
        const hasProbabilities = loss === "softmax" || loss === "bce";
        expect(onnxOutputNames(model, { loss })).toEqual(
          hasProbabilities ? ["scores", "probabilities", "class"] : ["scores", "class"],
        );
        if (hasProbabilities) {
          expect((onnx.probabilities as number[][])[0]).toHaveLength(nout === 1 ? 2 : nout);
        }
      });
    }
  }

  it("the demo model, trained as micrograd demo trains it, on its data and a grid", async () => {
    const { data, model } = demoSetup();
    fit(model, data, DEMO_FIT);
    const grid = Array.from({ length: 21 * 21 }, (_, i) => [
      -1.5 + (i % 21) * 0.2,
      -1 + Math.floor(i / 21) * 0.1,
    ]);
    const onnx = await expectSameAsEngine(model, { loss: "hinge" }, [...data.X, ...grid]);
    expect(onnx.class.slice(0, data.X.length).filter((c, i) => c === data.y[i]).length).toBe(100);
  });

  it("a digits model takes raw pixels 0..16, as the CLI saves it, on all 1797 images", async () => {
    const digits = loadDigits();
    const model = new MLP(64, [32, 10], { seed: 1 });
    fit(model, digits, { optimizer: "adam", lr: 0.02, steps: 20, batchSize: 64, seed: 1 });
    const metadata: ModelMetadata = {
      loss: "softmax",
      classNames: digits.classNames,
      scaler: { mean: new Array(64).fill(0), std: new Array(64).fill(16) },
    };
    const raw = digits.X.map((row) => row.map((pixel) => pixel * 16));
    const onnx = await expectSameAsEngine(model, metadata, raw);
    // Twenty small steps: far from done, but well above chance (0.1).
    expect(onnx.class.filter((c, i) => c === digits.y[i]).length / digits.y.length).toBeGreaterThan(0.3);
  });
});

describe("what the ONNX file says about itself", () => {
  const metadata: ModelMetadata = {
    classNames: ["setosa", "versicolor", "virginica"],
    featureNames: ["length", "width", "depth"],
    scaler: SCALER,
    loss: "softmax",
    notes: { data: "flowers.csv", steps: 40, testAccuracy: 0.95, standardized: true },
  };
  const model = new MLP(3, [4, 3], { seed: 2 });

  it("metadata round-trips through metadata_props, with the version, IR and opset", () => {
    const onnx = fromBinary(ModelProtoSchema, toOnnx(model, metadata));
    expect(onnx.irVersion).toBe(BigInt(ONNX_IR_VERSION));
    expect(onnx.opsetImport.map((o) => [o.domain, o.version])).toEqual([["", BigInt(ONNX_OPSET)]]);
    expect([onnx.producerName, onnx.producerVersion]).toEqual(["micrograd", version]);
    const props = Object.fromEntries(onnx.metadataProps.map((p) => [p.key, p.value]));
    expect(props[ONNX_METADATA_KEYS.version]).toBe(version);
    expect(props[ONNX_METADATA_KEYS.loss]).toBe("softmax");
    expect(JSON.parse(props[ONNX_METADATA_KEYS.classNames])).toEqual(metadata.classNames);
    expect(JSON.parse(props[ONNX_METADATA_KEYS.featureNames])).toEqual(metadata.featureNames);
    expect(JSON.parse(props[ONNX_METADATA_KEYS.notes])).toEqual(metadata.notes);
    expect(Object.keys(props).sort()).toEqual(Object.values(ONNX_METADATA_KEYS).sort());
  });

  it("without metadata: the version and fit's default loss, nothing invented", () => {
    for (const [nout, loss] of [
      [1, "hinge"],
      [3, "softmax"],
    ] as const) {
      const onnx = fromBinary(ModelProtoSchema, toOnnx(new MLP(2, [nout], { seed: 1 })));
      const props = Object.fromEntries(onnx.metadataProps.map((p) => [p.key, p.value]));
      expect(props).toEqual({ [ONNX_METADATA_KEYS.version]: version, [ONNX_METADATA_KEYS.loss]: loss });
    }
  });

  it("named inputs and outputs with a symbolic batch dimension; one Gemm per layer, weights as stored", () => {
    const onnx = fromBinary(ModelProtoSchema, toOnnx(model, metadata));
    const graph = onnx.graph;
    if (!graph) throw new Error("no graph");
    const shape = (info: (typeof graph.input)[number]) => {
      const type = info.type?.value;
      if (type?.case !== "tensorType") throw new Error(`${info.name} is not a tensor`);
      return type.value.shape?.dim.map((d) =>
        d.value.case === "dimParam" ? d.value.value : Number(d.value.value),
      );
    };
    expect(graph.input.map((i) => [i.name, shape(i)])).toEqual([["input", ["batch", 3]]]);
    expect(graph.output.map((o) => [o.name, shape(o)])).toEqual([
      ["scores", ["batch", 3]],
      ["probabilities", ["batch", 3]],
      ["class", ["batch"]],
    ]);
    expect(graph.node.map((n) => n.opType)).toEqual([
      "Sub",
      "Div",
      "Gemm",
      "Relu",
      "Gemm",
      "Softmax",
      "ArgMax",
    ]);
    const gemm = graph.node.find((n) => n.opType === "Gemm");
    expect(gemm?.attribute.map((a) => [a.name, Number(a.i)])).toEqual([["transB", 1]]);
    const weight = graph.initializer.find((t) => t.name === "layer0.weight");
    expect(weight?.dims.map(Number)).toEqual([4, 3]);
    const firstNeuron = model.layers[0].neurons[0].weights.map((w) => Math.fround(w.data));
    expect(weight?.floatData.slice(0, 3)).toEqual(firstNeuron);
  });

  it("plain Node imports micrograd/onnx by name from the build", async () => {
    const script = `import { MLP } from "micrograd"; import { toOnnx } from "micrograd/onnx";
      console.log(toOnnx(new MLP(2, [3, 1], { seed: 1 })) instanceof Uint8Array);`;
    const result = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--input-type=module", "-e", script],
        { cwd: root },
        (_error, stdout, stderr) => resolve({ stdout, stderr }),
      );
    });
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("true\n");
  });

  it("ONNX Runtime sees the same names", async () => {
    const session = await ort.InferenceSession.create(toOnnx(model, metadata));
    expect(session.inputNames).toEqual(["input"]);
    expect(session.outputNames).toEqual(["scores", "probabilities", "class"]);
  });
});

describe("a model that cannot be exported says why", () => {
  it("names the weight that is not finite or too large for float32", () => {
    const model = new MLP(2, [3, 1], { seed: 1 });
    model.parameters()[4].data = Number.NaN;
    expect(() => toOnnx(model)).toThrow(/toOnnx: parameter 4 is NaN, not a finite number/);
    model.parameters()[4].data = 1e39;
    expect(() => toOnnx(model)).toThrow(/toOnnx: parameter 4 is 1e\+39, beyond the range of float32/);
  });

  it("names metadata that does not fit the model", () => {
    const model = new MLP(2, [3], { seed: 1 });
    expect(() => toOnnx(model, { classNames: ["a", "b"] })).toThrow(
      /toOnnx: metadata.classNames has 2 names for the model's 3 classes/,
    );
    expect(() => toOnnx(model, { scaler: { mean: [0], std: [1] } })).toThrow(
      /toOnnx: metadata.scaler must be/,
    );
    expect(() => toOnnx(model, { scaler: { mean: [0, 0], std: [1, 1e-50] } })).toThrow(
      /toOnnx: the scaler's std\[1\] is 1e-50, which is 0 in float32/,
    );
    expect(() => toOnnx(new MLP(2, [1]), { loss: "softmax" })).toThrow(
      /toOnnx: the loss is softmax, which needs one output per class, but this model has 1 output/,
    );
    expect(() => toOnnx({} as MLP)).toThrow(/toOnnx: expected an MLP/);
  });
});

// ---- the command line -------------------------------------------------------------------

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

/** Files in `dir` that a write left behind (temporary files start with a dot). */
const leftovers = (dir: string) => readdirSync(dir).filter((name) => name.startsWith("."));

describe("micrograd export", () => {
  it("writes model.onnx beside model.json by default; ONNX Runtime agrees with predict", async () => {
    const dir = folder();
    const model = new MLP(2, [8, 3], { activation: "tanh", seed: 4 });
    const metadata: ModelMetadata = {
      classNames: ["x", "y", "z"],
      loss: "bce",
      scaler: { mean: [1, 2], std: [3, 4] },
    };
    saveModel(join(dir, "model.json"), model, metadata);
    const run = await cli(["export", "--model", join(dir, "model.json")]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = join(dir, "model.onnx");
    expect(run.stdout).toBe(
      `wrote ${out} (${readFileSync(out).length} bytes): input [batch, 2] → scores, probabilities, class\n`,
    );
    expect(leftovers(dir)).toEqual([]);
    const X = gaussianRows(50, 2, 8, 5);
    const onnx = await runOnnx(out, X);
    expect(onnx.class).toEqual(predict(model, standardized(X, metadata)));
  });

  it("--out chooses the file; an existing file is replaced whole", async () => {
    const dir = folder();
    saveModel(join(dir, "m.json"), new MLP(2, [1], { seed: 1 }));
    const out = join(dir, "exported.onnx");
    writeFileSync(out, "old");
    expect((await cli(["export", "--model", join(dir, "m.json"), "--out", out])).code).toBe(0);
    expect(readFileSync(out).length).toBeGreaterThan(100);
    expect(existsSync(join(dir, "m.onnx"))).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });

  it("--help, exit 0; the main help lists the command", async () => {
    const run = await cli(["export", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: micrograd export --model FILE [--out FILE.onnx]");
    expect((await cli(["--help"])).stdout).toMatch(/\n {2}export {4}write a saved model as ONNX/);
  });

  it("a wrong command line exits 2 and says what was wrong", async () => {
    const dir = folder();
    const model = join(dir, "model.json");
    saveModel(model, new MLP(2, [1], { seed: 1 }));
    for (const [args, message] of [
      [[], "--model FILE is required"],
      [["--model", model, "--bogus"], "Unknown option '--bogus'"],
      [["--model", model, "--out", join(dir, "model.txt")], "the file must end in .onnx"],
      [["--model", join(dir, "x.onnx"), "--out", join(dir, "x.onnx")], "--out is the model file itself"],
    ] as const) {
      const run = await cli(["export", ...args]);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.stderr).toContain('Run "micrograd export --help" for usage.');
    }
    expect(readdirSync(dir)).toEqual(["model.json"]);
  });

  it("a missing, corrupt or unexportable model exits 1, and the old ONNX file stays as it was", async () => {
    const dir = folder();
    const out = join(dir, "model.onnx");
    writeFileSync(out, "previous export");
    const model = join(dir, "model.json");
    const cases: [string | null, string][] = [
      [null, `cannot read ${model}: no such file`],
      ["{ not json", "not a valid micrograd model: the file is not JSON"],
      [
        // A file that loads (its loss is a known name) but asks for softmax on one output.
        JSON.stringify({
          format: "micrograd-model",
          version: 1,
          architecture: { nin: 1, nouts: [1], activation: "relu", outputActivation: "linear" },
          parameters: [0.5, 0],
          loss: "softmax",
        }),
        "cannot be exported to ONNX: toOnnx: the loss is softmax, which needs one output per class",
      ],
      [
        JSON.stringify({
          format: "micrograd-model",
          version: 1,
          architecture: { nin: 1, nouts: [1], activation: "relu", outputActivation: "linear" },
          parameters: [1e300, 0],
        }),
        "beyond the range of float32",
      ],
    ];
    for (const [content, message] of cases) {
      if (content !== null) writeFileSync(model, content);
      const run = await cli(["export", "--model", model]);
      expect(run.code, message).toBe(1);
      expect(run.stderr).toContain(message);
      expect(readFileSync(out, "utf8")).toBe("previous export");
      expect(leftovers(dir)).toEqual([]);
    }
  });

  it("an --out that cannot be written exits 1 and names it", async () => {
    const dir = folder();
    saveModel(join(dir, "model.json"), new MLP(2, [1], { seed: 1 }));
    const missing = join(dir, "no", "such", "m.onnx");
    let run = await cli(["export", "--model", join(dir, "model.json"), "--out", missing]);
    expect([run.code, run.stderr]).toEqual([1, `micrograd: cannot write ${missing}: no such folder\n`]);
    mkdirSync(join(dir, "taken.onnx"));
    run = await cli(["export", "--model", join(dir, "model.json"), "--out", join(dir, "taken.onnx")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("is a folder");
  });

  it("end to end with the built program: train --data on a CSV with named classes, export, run", async () => {
    const program = join(root, "dist", "cli", "main.js");
    expect(existsSync(program), `${program} is missing: run "npm run build" first (npm test does)`).toBe(
      true,
    );
    const dir = folder();
    const data = makeBlobs({ nSamples: 90, centers: 3, seed: 5 });
    const names = ["red", "green", "blue"];
    // Features on different scales, so that the saved standardization matters.
    const rows = data.X.map((x, i) => [x[0] * 100 + 40, x[1] * 0.01 - 3, names[data.y[i]]]);
    writeFileSync(
      join(dir, "colours.csv"),
      `width,height,colour\n${rows.map((r) => r.join(",")).join("\n")}\n`,
    );
    const spawn = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [program, ...args], { cwd: dir }, (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });
    const trained = await spawn([
      "train",
      "--data",
      "colours.csv",
      "--steps",
      "40",
      "--no-pictures",
      "--quiet",
      "--out",
      "out",
    ]);
    expect(trained.stderr).toBe("");
    const exported = await spawn(["export", "--model", join("out", "model.json")]);
    expect(exported.stderr).toBe("");
    expect(exported.code).toBe(0);
    const { model, metadata } = loadModel(join(dir, "out", "model.json"));
    expect(metadata.scaler).toBeDefined();
    const X = rows.map((r) => [r[0] as number, r[1] as number]);
    const onnxPath = join(dir, "out", "model.onnx");
    const onnx = await runOnnx(onnxPath, X);
    const inputs = standardized(X, metadata);
    expectClose(onnx.scores, scores(model, inputs), "CSV model scores");
    expect(onnx.class).toEqual(predict(model, inputs));
    const props = fromBinary(ModelProtoSchema, readFileSync(onnxPath)).metadataProps;
    const classNames = props.find((p) => p.key === ONNX_METADATA_KEYS.classNames)?.value;
    expect(JSON.parse(classNames ?? "null")).toEqual(metadata.classNames);
    expect([...(metadata.classNames ?? [])].sort()).toEqual([...names].sort());
  });
});

// ---- the README's example ---------------------------------------------------------------

describe("README: Use a trained model elsewhere", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf("\n## Use a trained model elsewhere\n");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));

  it("exists and says that this library writes ONNX but does not read it", () => {
    expect(start).toBeGreaterThan(0);
    expect(section).toMatch(/does not read/);
    expect(section).toContain("micrograd export --model out/demo/model.json");
  });

  it("the Node example runs on the exported demo model and prints predict()'s classes", async () => {
    const blocks = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks).toHaveLength(1);
    expect(blocks[0].trim().split("\n")).toHaveLength(5);
    // The demo model where the README puts it, in a folder of its own.
    const cwd = folder();
    const { data, model } = demoSetup();
    fit(model, data, DEMO_FIT);
    mkdirSync(join(cwd, "out", "demo"), { recursive: true });
    saveModel(join(cwd, "out", "demo", "model.json"), model, { loss: "hinge" });
    expect((await cli(["export", "--model", join(cwd, "out", "demo", "model.json")])).code).toBe(0);
    // Inside the project, so that "onnxruntime-node" resolves; run from `cwd` for the model's path.
    const dir = join(root, ".artifacts", "readme");
    mkdirSync(dir, { recursive: true });
    const script = join(dir, "onnx-example.mjs");
    writeFileSync(script, blocks[0]);
    const result = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [script], { cwd }, (_error, stdout, stderr) => resolve({ stdout, stderr }));
    });
    expect(result.stderr).toBe("");
    const inputs = [...blocks[0].matchAll(/\[(-?[\d.]+), (-?[\d.]+)\]/g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(inputs.length).toBeGreaterThan(0);
    expect(result.stdout.trim()).toBe(predict(model, inputs).join(" "));
  });
});
