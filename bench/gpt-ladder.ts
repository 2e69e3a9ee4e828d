// The GPT-size ladder: the same training (names, one per step, Adam, the reference's recipe)
// at growing widths and depths, then a window of running text as `gpt train --text` trains
// (Tiny Shakespeare, its default width, block and batch), each size run side by side by the
// compiled engine and by the hand-written Float64Array step (bench/gpt-float64.ts), and by
// PyTorch on one thread when Debian's python3-torch is installed. Reports ms per step,
// characters per second and the useful work done (GFLOP/s, gptStepFlops), and the ratios within
// each repetition.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { TEXT_DEFAULTS } from "../src/cli/gpt-train.js";
import { defaultLearningRate } from "../src/gpt-train.js";
import {
  compile,
  createRandom,
  GPT,
  GPT_DEFAULTS,
  GPT_TRAINING_DEFAULTS,
  type GPTConfig,
  type GPTTrainingData,
  scheduledRate,
  textDataset,
  trainGPT,
  type Value,
} from "../src/index.js";
import { countValues } from "../src/viz/dot.js";
import { median } from "./common.js";
import { benchNames, type GPTBenchRow } from "./gpt.js";
import { createFloat64GPT, gptStepFlops } from "./gpt-float64.js";

export interface LadderRung {
  nLayer: number;
  nEmbd: number;
  /** Training steps per repetition: enough for a repetition of a few hundred ms. */
  steps: number;
  /**
   * What each step reads: one name (default), or `batchSize` windows of `blockSize` characters
   * of running text drawn at random, as `gpt train --text` reads them.
   */
  text?: { path: string; blockSize: number; batchSize: number };
}

const SHAKESPEARE = fileURLToPath(new URL("../data/tinyshakespeare.txt", import.meta.url));

/** `gpt train --text`'s model and batch when no flag changes them, read where the CLI keeps them. */
const TEXT_SHAPE: { nLayer?: number; nEmbd: number; blockSize: number; batchSize: number } = TEXT_DEFAULTS;

export const LADDER: LadderRung[] = [
  { nLayer: 1, nEmbd: 16, steps: 500 },
  { nLayer: 1, nEmbd: 32, steps: 300 },
  { nLayer: 2, nEmbd: 32, steps: 200 },
  { nLayer: 2, nEmbd: 64, steps: 100 },
  {
    nLayer: TEXT_SHAPE.nLayer ?? GPT_DEFAULTS.nLayer,
    nEmbd: TEXT_SHAPE.nEmbd,
    steps: 6,
    text: { path: SHAKESPEARE, blockSize: TEXT_SHAPE.blockSize, batchSize: TEXT_SHAPE.batchSize },
  },
];

// The target of issue 23 at 2 layers, 64 wide: within 2× of the hand-written step.
export const LADDER_TARGET = { overFloat64: 2, overTorch: 1, traceBytesPerNode: 10 };

const { betas, eps } = GPT_TRAINING_DEFAULTS;

function measure(samples: number[]) {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples };
}

/** What one rung trains on: the data trainGPT reads, and the sequences it will read, in order. */
interface RungWork {
  config: GPTConfig;
  data: GPTTrainingData;
  /** Every step's documents or windows, `batchSize` per step, as trainGPT draws them. */
  sequences: number[][];
  batchSize: number;
  lr: number;
  /** What a step reads, for the row's name. */
  reads: string;
}

function rungWork(rung: LadderRung, names: ReturnType<typeof benchNames>): RungWork {
  const shape = { nLayer: rung.nLayer, nEmbd: rung.nEmbd, nHead: 4 };
  if (!rung.text) {
    const config = { ...shape, vocabSize: names.tokenizer.vocabSize, blockSize: 16 };
    // The names run in order, one a step, each truncated to the block as trainGPT reads it.
    const sequences = names.documents.slice(0, rung.steps).map((doc) => doc.slice(0, config.blockSize + 1));
    const lr = GPT_TRAINING_DEFAULTS.lr;
    return { config, data: sequences, sequences, batchSize: 1, lr, reads: "names, one per step" };
  }
  const { path, blockSize, batchSize } = rung.text;
  const { tokenizer, train } = textDataset(readFileSync(path, "utf8"));
  const config = { ...shape, vocabSize: tokenizer.vocabSize, blockSize };
  // trainGPT's draw on running text: windows at random places, from seed 0.
  const random = createRandom(0);
  const sequences = Array.from({ length: rung.steps * batchSize }, () => train.random(blockSize, random));
  return {
    config,
    data: train,
    sequences,
    batchSize,
    lr: defaultLearningRate(rung.nEmbd),
    reads: `Tiny Shakespeare, ${batchSize} windows of ${blockSize} characters per step`,
  };
}

/** The rows of the ladder; `torch: false` skips PyTorch even where it is installed. */
export function gptLadderWorkload(options: {
  reps: number;
  rungs?: LadderRung[];
  torch?: boolean;
}): GPTBenchRow[] {
  const { reps, rungs = LADDER } = options;
  const names = benchNames();
  const torch = options.torch === false ? undefined : findTorch();
  const rows: GPTBenchRow[] = [];
  if (options.torch !== false && !torch) {
    console.log(
      "bench: PyTorch rows skipped: no python3 imports torch (apt-get install python3-torch, or set BENCH_PYTHON)",
    );
  }
  for (const rung of rungs) {
    const { config, data, sequences, batchSize, lr, reads } = rungWork(rung, names);
    const steps = rung.steps;
    const predicted = (seq: readonly number[]) => Math.min(config.blockSize, seq.length - 1);
    const positions = sequences.reduce((sum, seq) => sum + predicted(seq), 0);
    const flops = sequences.reduce((sum, seq) => sum + gptStepFlops(config, predicted(seq)), 0);
    const gpt = new GPT({ ...config, seed: 42 });
    const initialState = gpt.stateDict();
    const initial = Float64Array.from(gpt.parameters(), (p) => p.data);
    const parameters = initial.length;

    const compiled = { ms: [] as number[], losses: [] as number[] };
    const byHand = { ms: [] as number[], losses: [] as number[] };
    const runCompiled = () => {
      gpt.loadStateDict(initialState);
      const started = performance.now();
      const run = trainGPT(gpt, data, { steps, batchSize, lr });
      return { ms: (performance.now() - started) / steps, losses: run.losses };
    };
    const runByHand = () => {
      const model = createFloat64GPT(config, initial, { betas, eps });
      const losses: number[] = [];
      const started = performance.now();
      for (let step = 0; step < steps; step++) {
        // A batch's loss is the mean of its sequences' losses, and so is its gradient.
        let loss = 0;
        for (let i = 0; i < batchSize; i++) {
          loss += model.lossAndGradients(sequences[step * batchSize + i], 1 / batchSize);
        }
        losses.push(loss / batchSize);
        model.adamStep(scheduledRate({ kind: "linear", endFactor: 0 }, lr, step, steps));
      }
      return { ms: (performance.now() - started) / steps, losses };
    };
    // The first compiled run traces every document length (running text: the one window's); timed apart.
    const first = runCompiled();
    runByHand();
    for (let rep = 0; rep < reps; rep++) {
      // Taking turns, the first alternating, so that a burst of load falls on both.
      const pair = rep % 2 === 0 ? [runCompiled(), runByHand()] : [runByHand(), runCompiled()].reverse();
      compiled.ms.push(pair[0].ms);
      compiled.losses = pair[0].losses;
      byHand.ms.push(pair[1].ms);
      byHand.losses = pair[1].losses;
    }
    const size = `${rung.nLayer} layer${rung.nLayer === 1 ? "" : "s"}, embd ${rung.nEmbd}${rung.text ? ", running text" : ""}`;
    const workload = `GPT ladder: ${size} (${parameters.toLocaleString("en-US")} parameters), ${reads}`;
    const meanLoss = (losses: number[]) => (losses.reduce((a, b) => a + b, 0) / losses.length).toFixed(4);
    const throughput = (ms: number[]) => {
      const totalMs = median(ms) * steps;
      const charsPerSecond = (positions / totalMs) * 1000;
      const gflops = flops / totalMs / 1e6;
      return `${Math.round(charsPerSecond).toLocaleString("en-US")} chars/s, ${gflops.toFixed(2)} GFLOP/s`;
    };
    rows.push({
      workload,
      engine: "micrograd compiled",
      value: measure(compiled.ms),
      unit: "ms/step",
      result: `${throughput(compiled.ms)}; mean loss ${meanLoss(compiled.losses)} over ${steps} steps; first run ${first.ms.toPrecision(3)} ms/step with its traces`,
    });
    rows.push({
      workload,
      engine: "Float64Array by hand",
      value: measure(byHand.ms),
      unit: "ms/step",
      result: `${throughput(byHand.ms)}; mean loss ${meanLoss(byHand.losses)}`,
    });
    const overHand = measure(compiled.ms.map((ms, i) => ms / byHand.ms[i]));
    const isTargetSize = rung.nLayer === 2 && rung.nEmbd === 64 && !rung.text;
    rows.push({
      workload: `GPT ladder ${size}: compiled ÷ Float64Array by hand`,
      engine: "micrograd compiled",
      value: overHand,
      unit: "×",
      ...(isTargetSize
        ? { target: `≤ ${LADDER_TARGET.overFloat64}×`, pass: overHand.median <= LADDER_TARGET.overFloat64 }
        : {}),
    });
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc && isTargetSize) {
      const { bytes, nodes } = traceSize(
        gpt,
        sequences.find((doc) => doc.length > config.blockSize) ?? sequences[0],
        gc,
      );
      const perNode = bytes / nodes;
      rows.push({
        workload: `GPT ladder ${size}: a compiled trace of one ${nodes.toLocaleString("en-US")}-node document, per node of the eager graph`,
        engine: "micrograd compiled",
        value: { median: perNode, min: perNode, max: perNode, samples: [perNode] },
        unit: "B/node",
        target: `≤ ${LADDER_TARGET.traceBytesPerNode}`,
        pass: perNode <= LADDER_TARGET.traceBytesPerNode,
      });
    }
    if (!torch) continue;
    for (const dtype of ["float64", "float32"] as const) {
      const result = runTorch(torch.python, {
        config,
        parameters: Array.from(initial),
        documents: sequences,
        steps,
        batchSize,
        lr,
        reps,
        dtype,
      });
      rows.push({
        workload,
        engine: `PyTorch ${torch.version} (1 thread, ${dtype})`,
        value: measure(result.msPerStep),
        unit: "ms/step",
        result: `${throughput(result.msPerStep)}; mean loss ${meanLoss(result.losses)}`,
      });
      if (dtype !== "float64") continue;
      // Another process at another moment: the ratio of the medians.
      const overTorch = median(compiled.ms) / median(result.msPerStep);
      rows.push({
        workload: `GPT ladder ${size}: compiled ÷ PyTorch (1 thread, float64)`,
        engine: "micrograd compiled",
        value: { median: overTorch, min: overTorch, max: overTorch, samples: [overTorch] },
        unit: "×",
        ...(isTargetSize
          ? { target: `≤ ${LADDER_TARGET.overTorch}×`, pass: overTorch <= LADDER_TARGET.overTorch }
          : {}),
      });
    }
  }
  return rows;
}

/**
 * Bytes kept by a compiled loss traced on one document (tape, buffers; the heap and the typed
 * arrays' buffers), and the nodes of that document's eager graph, the model's own not counted.
 */
function traceSize(gpt: GPT, doc: readonly number[], gc: () => void): { bytes: number; nodes: number } {
  const tokens = doc.slice(0, gpt.config.blockSize + 1);
  const nodes = countValues(gpt.loss(tokens)) - gpt.parameters().length;
  const used = () => {
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return heapUsed + arrayBuffers;
  };
  // Several copies kept at once, so that the heap's own noise averages out.
  const copies = 4;
  gc();
  gc();
  const before = used();
  const losses = Array.from({ length: copies }, () => {
    const loss = compile((ids: readonly Value[]) => gpt.loss(ids), { constantCheck: false });
    loss(tokens);
    return loss;
  });
  gc();
  gc();
  const bytes = (used() - before) / copies;
  if (losses.some((loss) => loss.traceCount !== 1)) throw new Error("traceSize: expected one trace each");
  return { bytes, nodes };
}

const TORCH_SCRIPT = fileURLToPath(new URL("./gpt_torch.py", import.meta.url));

/**
 * A Python that imports torch (Debian's python3-torch installs into the system Python, which a
 * pyenv or virtualenv python3 earlier on the PATH hides), with its version; or undefined.
 */
export function findTorch(): { python: string; version: string } | undefined {
  const candidates = [process.env.BENCH_PYTHON, "python3", "/usr/bin/python3"].filter((p) => p !== undefined);
  for (const python of candidates) {
    try {
      const version = execFileSync(python, ["-c", "import torch; print(torch.__version__)"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
      return { python, version };
    } catch {
      // not this one
    }
  }
  return undefined;
}

export function runTorch(
  python: string,
  job: {
    config: GPTConfig;
    parameters: number[];
    documents: readonly (readonly number[])[];
    steps: number;
    reps: number;
    dtype: "float64" | "float32";
    /** Sequences per step, of one length when more than one (default 1). */
    batchSize?: number;
    /** The starting rate, decaying linearly to 0 (default the reference's 0.01). */
    lr?: number;
  },
): { msPerStep: number[]; losses: number[] } {
  const input = JSON.stringify({ batchSize: 1, lr: GPT_TRAINING_DEFAULTS.lr, betas, eps, ...job });
  const output = execFileSync(python, [TORCH_SCRIPT], { input, encoding: "utf8", maxBuffer: 1 << 26 });
  return JSON.parse(output);
}
