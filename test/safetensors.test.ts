// A GPT's weights as safetensors: the file read back byte by byte by a reader written here from
// the format's description (header length, JSON header, offsets, dtypes, shapes), equal to the
// state dict; then, where Debian's python3-torch is installed, loaded in PyTorch through the
// README's module, whose logits must be the engine's.
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CharTokenizer, GPT, gptToJSON } from "../src/index.js";
import { saveGPT } from "../src/node.js";
import { GPT_METADATA_KEYS, toSafetensors } from "../src/onnx/index.js";
import { engineLogits, largestDifference, type TrainedGPT, trainedGPT, windows } from "./gpt-export.js";
import { micrograd, requireBuild, root } from "./program.js";

const folder = () => mkdtempSync(join(tmpdir(), "micrograd-safetensors-"));
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };

interface TensorEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The file as the format describes it; every rule the format states is checked on the way. */
function readSafetensors(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
  expect(headerText.startsWith("{")).toBe(true);
  const { __metadata__: metadata, ...tensors } = JSON.parse(headerText) as Record<string, unknown> & {
    __metadata__: Record<string, string>;
  };
  const dataStart = 8 + headerLength;
  const entries = Object.entries(tensors as Record<string, TensorEntry>).sort(
    (a, b) => a[1].data_offsets[0] - b[1].data_offsets[0],
  );
  // The byte ranges tile the data exactly: no gap, no overlap, nothing after the last.
  let expectedStart = 0;
  const values: Record<string, { dtype: string; shape: number[]; rows: number[][] }> = {};
  for (const [
    name,
    {
      dtype,
      shape,
      data_offsets: [begin, end],
    },
  ] of entries) {
    expect(begin, `${name} begins where the previous tensor ends`).toBe(expectedStart);
    const size = dtype === "F32" ? 4 : dtype === "F64" ? 8 : Number.NaN;
    expect(end - begin, `${name}: ${shape.join("×")} ${dtype}`).toBe(shape[0] * shape[1] * size);
    expect((dataStart + begin) % size, `${name} is aligned`).toBe(0);
    const rows = Array.from({ length: shape[0] }, (_, i) =>
      Array.from({ length: shape[1] }, (_, j) => {
        const at = dataStart + begin + (i * shape[1] + j) * size;
        return size === 4 ? view.getFloat32(at, true) : view.getFloat64(at, true);
      }),
    );
    values[name] = { dtype, shape, rows };
    expectedStart = end;
  }
  expect(dataStart + expectedStart).toBe(bytes.length);
  return { headerLength, metadata, order: Object.keys(tensors), values };
}

describe("toSafetensors", () => {
  const tokenizer = new CharTokenizer(["a", "b", "c", "ü"]);
  const gpt = new GPT({ vocabSize: 5, nLayer: 2, nEmbd: 8, nHead: 2, blockSize: 6, seed: 4 });
  const stateDict = gpt.stateDict();
  const notes = { data: "words.txt", steps: 12 };

  it("float32: every tensor of the state dict, in its order, shape and numbers (rounded to float32)", () => {
    const file = readSafetensors(toSafetensors(gpt, { tokenizer, notes }));
    expect(file.order).toEqual(Object.keys(stateDict));
    expect(file.headerLength % 8).toBe(0);
    for (const [name, rows] of Object.entries(stateDict)) {
      expect(file.values[name].dtype).toBe("F32");
      expect(file.values[name].shape).toEqual([rows.length, rows[0].length]);
      expect(file.values[name].rows).toEqual(rows.map((row) => row.map(Math.fround)));
    }
    expect(file.values["layer1.mlp_fc1"].shape).toEqual([32, 8]);
  });

  it("float64: the very numbers of the state dict", () => {
    const file = readSafetensors(toSafetensors(gpt, { tokenizer, dtype: "float64" }));
    for (const [name, rows] of Object.entries(stateDict)) {
      expect(file.values[name].dtype).toBe("F64");
      expect(file.values[name].rows).toEqual(rows);
    }
  });

  it("__metadata__: the vocabulary, BOS, configuration, notes and version, all strings", () => {
    const { metadata } = readSafetensors(toSafetensors(gpt, { tokenizer, notes }));
    expect(Object.keys(metadata).sort()).toEqual(Object.values(GPT_METADATA_KEYS).sort());
    expect(Object.values(metadata).every((value) => typeof value === "string")).toBe(true);
    expect(JSON.parse(metadata.vocabulary)).toEqual(["a", "b", "c", "ü"]);
    expect(metadata.bos).toBe("4");
    expect(JSON.parse(metadata.config)).toEqual(gpt.config);
    expect(JSON.parse(metadata.notes)).toEqual(notes);
    expect(metadata.micrograd_version).toBe(version);
  });

  it("a weight that is not finite, or beyond float32 for float32, is named; float64 holds 1e300", () => {
    const copy = new GPT({ vocabSize: 5, nLayer: 2, nEmbd: 8, nHead: 2, blockSize: 6, seed: 4 });
    copy.lmHead[4][7].data = 1e300;
    expect(() => toSafetensors(copy, { tokenizer })).toThrow(
      "toSafetensors: lm_head[4][7] is 1e+300, beyond the range of float32 (about ±3.4e38)",
    );
    expect(
      readSafetensors(toSafetensors(copy, { tokenizer, dtype: "float64" })).values.lm_head.rows[4][7],
    ).toBe(1e300);
    copy.lmHead[4][7].data = Number.POSITIVE_INFINITY;
    expect(() => toSafetensors(copy, { tokenizer, dtype: "float64" })).toThrow(
      "toSafetensors: lm_head[4][7] is Infinity, not a finite number",
    );
    expect(() => toSafetensors(gpt, { tokenizer, dtype: "float16" as never })).toThrow(
      'toSafetensors: dtype must be float32 or float64, got "float16"',
    );
  });
});

describe("safetensors needs no package", () => {
  /** Every file `file` imports statically, and theirs (dynamic imports are left out: they are optional). */
  function staticImports(file: string, seen = new Set<string>()): Set<string> {
    for (const [, path] of readFileSync(file, "utf8").matchAll(/^(?:import|export)[^;]*? from "([^"]+)"/gm)) {
      const target = path.startsWith(".") ? resolve(dirname(file), path.replace(/\.js$/, ".ts")) : path;
      if (seen.has(target)) continue;
      seen.add(target);
      if (path.startsWith(".")) staticImports(target, seen);
    }
    return seen;
  }

  it("neither toSafetensors nor micrograd export loads @bufbuild/protobuf or the ONNX messages before ONNX is asked for", () => {
    for (const file of ["src/onnx/safetensors.ts", "src/cli/export.ts"]) {
      const imports = [...staticImports(join(root, file))];
      expect(imports.length, file).toBeGreaterThan(2);
      expect(
        imports.filter((path) => /protobuf|generated|onnx\/(index|proto|gpt|mlp)\.ts$/.test(path)),
        file,
      ).toEqual([]);
    }
    expect([...staticImports(join(root, "src/onnx/index.ts"))]).toContain("@bufbuild/protobuf");
  });

  it("plain Node writes a GPT's safetensors and ONNX from the built micrograd/onnx", async () => {
    const script = `import { CharTokenizer, GPT } from "micrograd"; import { toOnnx, toSafetensors } from "micrograd/onnx";
      const gpt = new GPT({ vocabSize: 3, nEmbd: 4, nHead: 1, blockSize: 2, seed: 1 });
      const tokenizer = new CharTokenizer(["a", "b"]);
      console.log(toSafetensors(gpt, { tokenizer }).length, toOnnx(gpt, { tokenizer }) instanceof Uint8Array);`;
    const result = await new Promise<{ stdout: string; stderr: string }>((done) => {
      execFile(
        process.execPath,
        ["--input-type=module", "-e", script],
        { cwd: root },
        (_error, stdout, stderr) => done({ stdout, stderr }),
      );
    });
    expect(result.stderr).toBe("");
    const [size, onnx] = result.stdout.trim().split(" ");
    expect(onnx).toBe("true");
    // 12 + 8 + 12 + 4 × 16 + 2 × 64 weights of 4 bytes after the header.
    expect(Number(size)).toBeGreaterThan(224 * 4);
  });
});

// ---- PyTorch, through the README's module ---------------------------------------------------

function pythonHas(module: string): boolean {
  try {
    execFileSync("/usr/bin/python3", ["-c", `import ${module}`], { stdio: "ignore", timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

const hasTorch = pythonHas("torch");
const hasSafetensors = hasTorch && pythonHas("safetensors");

/** The README's Python blocks in the GPT export section: the module, then its use. */
function readmePython(): string[] {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf("\n### Take a GPT to ONNX Runtime or PyTorch\n");
  expect(start).toBeGreaterThan(0);
  const end = readme.indexOf("\n## ", start);
  return [...readme.slice(start, end).matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/**
 * Debian has PyTorch but not the safetensors package: where it is missing, these two functions
 * stand in for its safe_open(…).metadata() and safetensors.torch.load_file, read straight from
 * the format (8-byte length, JSON header, little-endian numbers).
 */
const SAFETENSORS_STAND_IN = {
  "__init__.py": `import json, struct

class safe_open:
    def __init__(self, path, framework):
        with open(path, "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            self.header = json.loads(f.read(length))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def metadata(self):
        return self.header.get("__metadata__")
`,
  "torch.py": `import json, struct
import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64}

def load_file(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = bytearray(data[8 + length + begin:8 + length + end])
        tensors[name] = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return tensors
`,
};

function runPython(
  script: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const path = join(cwd, "script.py");
  writeFileSync(path, script);
  let pythonPath = process.env.PYTHONPATH ?? "";
  if (!hasSafetensors) {
    const standIn = join(cwd, "stand-in", "safetensors");
    mkdirSync(standIn, { recursive: true });
    for (const [name, source] of Object.entries(SAFETENSORS_STAND_IN))
      writeFileSync(join(standIn, name), source);
    pythonPath = join(cwd, "stand-in");
  }
  return new Promise((resolve) => {
    execFile(
      "/usr/bin/python3",
      [path, ...args],
      { cwd, env: { ...process.env, PYTHONPATH: pythonPath }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const HARNESS = `
import sys
model, vocabulary, bos = load_micrograd_gpt(sys.argv[1])
with torch.no_grad():
    logits = model(torch.tensor(json.loads(sys.argv[2])))
print(json.dumps({
    "logits": logits.double().flatten().tolist(),
    "dtype": str(logits.dtype),
    "keys": sorted(model.state_dict()),
    "vocabulary": vocabulary,
    "bos": bos,
}))
`;

const torchTitle = (what: string) =>
  hasTorch
    ? `${what}${hasSafetensors ? "" : " (the safetensors package is not installed: a reader in this test stands in for load_file)"}`
    : `${what} — skipped: PyTorch is not installed (Debian: apt-get install python3-torch)`;

describe("PyTorch loads the file through the README's module", () => {
  let trained: TrainedGPT;
  let twoLayers: TrainedGPT;
  beforeAll(() => {
    if (!hasTorch) return;
    trained = trainedGPT({ steps: 200 });
    twoLayers = trainedGPT({ nLayer: 2, nEmbd: 24, nHead: 3, steps: 100 });
  });

  it.skipIf(!hasTorch)(
    torchTitle(
      "the default model and a 2-layer one, float32 and float64: the engine's logits on held-out names",
    ),
    async () => {
      const [module] = readmePython();
      for (const [model, dtype, tolerance] of [
        [trained, "float32", 1e-4],
        [trained, "float64", 1e-9],
        [twoLayers, "float32", 1e-4],
      ] as const) {
        const dir = folder();
        const path = join(dir, "model.safetensors");
        writeFileSync(path, toSafetensors(model.gpt, { tokenizer: model.tokenizer, dtype }));
        for (const time of [4, 16]) {
          const sequences = windows(model, 3, time, time);
          const run = await runPython(`${module}\n${HARNESS}`, [path, JSON.stringify(sequences)], dir);
          expect(run.stderr).toBe("");
          const result = JSON.parse(run.stdout) as {
            logits: number[];
            dtype: string;
            keys: string[];
            vocabulary: string[];
            bos: number;
          };
          expect(result.dtype).toBe(dtype === "float32" ? "torch.float32" : "torch.float64");
          expect(result.keys).toEqual(Object.keys(model.gpt.stateDict()).sort());
          expect(result.vocabulary).toEqual(model.tokenizer.chars);
          expect(result.bos).toBe(model.tokenizer.bos);
          const expected = engineLogits(model.gpt, sequences).flat(2);
          expect(largestDifference(result.logits, expected), `${dtype}, time ${time}`).toBeLessThanOrEqual(
            tolerance,
          );
        }
      }
    },
    120_000,
  );

  it.skipIf(!hasTorch)(
    torchTitle("the README's usage example runs on out/gpt/model.safetensors and names a character"),
    async () => {
      const [module, usage] = readmePython();
      const dir = folder();
      mkdirSync(join(dir, "out", "gpt"), { recursive: true });
      writeFileSync(
        join(dir, "out", "gpt", "model.safetensors"),
        toSafetensors(trained.gpt, { tokenizer: trained.tokenizer }),
      );
      const run = await runPython(`${module}\n${usage}`, [], dir);
      expect(run.stderr).toBe("");
      expect([...trained.tokenizer.chars, "(end)"]).toContain(run.stdout.trim());
    },
    60_000,
  );
});

// ---- the command line ------------------------------------------------------------------------

describe("micrograd export --format safetensors", () => {
  requireBuild();
  const tokenizer = new CharTokenizer(["x", "y"]);
  const gpt = new GPT({ vocabSize: 3, nEmbd: 4, nHead: 2, blockSize: 3, seed: 5 });

  it("writes model.safetensors beside model.json (float32), or --out with --dtype float64", async () => {
    const dir = folder();
    const model = join(dir, "model.json");
    saveGPT(model, gpt, tokenizer, { steps: 1 });
    let run = await micrograd(["export", "--model", model, "--format", "safetensors"]);
    expect(run.stderr).toBe("");
    const out = join(dir, "model.safetensors");
    const bytes = readFileSync(out);
    expect(run.stdout).toBe(`wrote ${out} (${bytes.length} bytes): 9 tensors, 228 weights in float32\n`);
    let file = readSafetensors(bytes);
    expect(file.values.wte.rows).toEqual(gpt.stateDict().wte.map((row) => row.map(Math.fround)));
    expect(JSON.parse(file.metadata.notes)).toEqual({ steps: 1 });
    // The extension chooses the format when --format is not given.
    const wide = join(dir, "wide.safetensors");
    run = await micrograd(["export", "--model", model, "--out", wide, "--dtype", "float64"]);
    expect(run.code, run.stderr).toBe(0);
    file = readSafetensors(readFileSync(wide));
    expect(file.values.wte.rows).toEqual(gpt.stateDict().wte);
    expect(readdirSync(dir).sort()).toEqual(["model.json", "model.safetensors", "wide.safetensors"]);
  });

  it("a wrong --format, --dtype or --out extension exits 2 before reading anything", async () => {
    const dir = folder();
    const model = join(dir, "model.json");
    const cases: [string[], string][] = [
      [["--format", "pdf"], '--format must be onnx or safetensors, got "pdf"'],
      [
        ["--format", "safetensors", "--out", join(dir, "m.onnx")],
        "does not end in .safetensors, the extension of --format safetensors",
      ],
      [
        ["--format", "onnx", "--out", join(dir, "m.safetensors")],
        "does not end in .onnx, the extension of --format onnx",
      ],
      [["--out", join(dir, "m.bin")], "the file must end in .onnx or .safetensors"],
      [
        ["--format", "safetensors", "--dtype", "float16"],
        '--dtype must be float32 or float64, got "float16"',
      ],
      [["--dtype", "float64"], "--dtype is for --format safetensors; an ONNX graph is float32"],
    ];
    for (const [args, message] of cases) {
      const run = await micrograd(["export", "--model", model, ...args]);
      expect(run.code, message).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.stderr).toContain('Run "micrograd export --help" for usage.');
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a GPT with a weight beyond float32 exits 1 for float32, keeps the old file, and exports as float64", async () => {
    const dir = folder();
    const model = join(dir, "model.json");
    const file = gptToJSON(gpt, tokenizer);
    file.stateDict.wpe[2][3] = -1e300;
    writeFileSync(model, JSON.stringify(file));
    const out = join(dir, "model.safetensors");
    writeFileSync(out, "previous export");
    let run = await micrograd(["export", "--model", model, "--format", "safetensors"]);
    expect([run.code, run.stderr]).toEqual([
      1,
      `micrograd: ${model}: cannot be exported to safetensors: toSafetensors: wpe[2][3] is -1e+300, beyond the range of float32 (about ±3.4e38)\n`,
    ]);
    expect(readFileSync(out, "utf8")).toBe("previous export");
    run = await micrograd(["export", "--model", model, "--format", "safetensors", "--dtype", "float64"]);
    expect(run.code, run.stderr).toBe(0);
    expect(readSafetensors(readFileSync(out)).values.wpe.rows[2][3]).toBe(-1e300);
    expect(readdirSync(dir).sort()).toEqual(["model.json", "model.safetensors"]);
  });

  it("an exported file given back as --model is named for what it is", async () => {
    const dir = folder();
    const model = join(dir, "model.json");
    saveGPT(model, gpt, tokenizer);
    expect((await micrograd(["export", "--model", model, "--format", "safetensors"])).code).toBe(0);
    const exported = join(dir, "model.safetensors");
    const run = await micrograd(["export", "--model", exported, "--out", join(dir, "again.onnx")]);
    expect([run.code, run.stderr]).toEqual([
      1,
      `micrograd: ${exported}: this is a safetensors file, which micrograd does not read; give the model.json it was exported from\n`,
    ]);
  });
});
