// The GPT-size ladder: the same training (names, one per step, Adam, the reference's recipe)
// at growing widths and depths, each size run side by side by the compiled engine and by the
// hand-written Float64Array step (bench/gpt-float64.ts), and by PyTorch on one thread when
// Debian's python3-torch is installed. Reports ms per step, characters per second and the
// useful work done (GFLOP/s, gptStepFlops), and the ratios within each repetition.
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import {
  compile,
  GPT,
  GPT_TRAINING_DEFAULTS,
  type GPTConfig,
  scheduledRate,
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
}

export const LADDER: LadderRung[] = [
  { nLayer: 1, nEmbd: 16, steps: 500 },
  { nLayer: 1, nEmbd: 32, steps: 300 },
  { nLayer: 2, nEmbd: 32, steps: 200 },
  { nLayer: 2, nEmbd: 64, steps: 100 },
];

// The target of issue 23 at 2 layers, 64 wide: within 2× of the hand-written step.
export const LADDER_TARGET = { overFloat64: 2, overTorch: 1, traceBytesPerNode: 10 };

const { lr, betas, eps } = GPT_TRAINING_DEFAULTS;

function measure(samples: number[]) {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples };
}

/** The rows of the ladder; `torch: false` skips PyTorch even where it is installed. */
export function gptLadderWorkload(options: {
  reps: number;
  rungs?: LadderRung[];
  torch?: boolean;
}): GPTBenchRow[] {
  const { reps, rungs = LADDER } = options;
  const { tokenizer, documents } = benchNames();
  const torch = options.torch === false ? undefined : findTorch();
  const rows: GPTBenchRow[] = [];
  if (options.torch !== false && !torch) {
    console.log(
      "bench: PyTorch rows skipped: no python3 imports torch (apt-get install python3-torch, or set BENCH_PYTHON)",
    );
  }
  for (const rung of rungs) {
    const config: GPTConfig = {
      vocabSize: tokenizer.vocabSize,
      nLayer: rung.nLayer,
      nEmbd: rung.nEmbd,
      nHead: 4,
      blockSize: 16,
    };
    const steps = rung.steps;
    const used = documents.slice(0, steps);
    const positions = used.reduce((sum, doc) => sum + Math.min(config.blockSize, doc.length - 1), 0);
    const flops = used.reduce(
      (sum, doc) => sum + gptStepFlops(config, Math.min(config.blockSize, doc.length - 1)),
      0,
    );
    const gpt = new GPT({ ...config, seed: 42 });
    const initialState = gpt.stateDict();
    const initial = Float64Array.from(gpt.parameters(), (p) => p.data);
    const parameters = initial.length;

    const compiled = { ms: [] as number[], losses: [] as number[] };
    const byHand = { ms: [] as number[], losses: [] as number[] };
    const runCompiled = () => {
      gpt.loadStateDict(initialState);
      const started = performance.now();
      const run = trainGPT(gpt, used, { steps });
      return { ms: (performance.now() - started) / steps, losses: run.losses };
    };
    const runByHand = () => {
      const model = createFloat64GPT(config, initial, { betas, eps });
      const losses: number[] = [];
      const started = performance.now();
      for (let step = 0; step < steps; step++) {
        losses.push(model.lossAndGradients(used[step]));
        model.adamStep(scheduledRate({ kind: "linear", endFactor: 0 }, lr, step, steps));
      }
      return { ms: (performance.now() - started) / steps, losses };
    };
    // The first compiled run traces every document length; timed apart.
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
    const size = `${rung.nLayer} layer${rung.nLayer === 1 ? "" : "s"}, embd ${rung.nEmbd}`;
    const workload = `GPT ladder: ${size} (${parameters.toLocaleString("en-US")} parameters), names, one per step`;
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
    const isTargetSize = rung.nLayer === 2 && rung.nEmbd === 64;
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
        used.find((doc) => doc.length > config.blockSize) ?? used[0],
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
        documents: used,
        steps,
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
  },
): { msPerStep: number[]; losses: number[] } {
  const input = JSON.stringify({ ...job, lr, betas, eps });
  const output = execFileSync(python, [TORCH_SCRIPT], { input, encoding: "utf8", maxBuffer: 1 << 26 });
  return JSON.parse(output);
}
