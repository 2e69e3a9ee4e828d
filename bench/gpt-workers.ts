// Worker scaling: the same data-parallel GPT training (2 layers, 64 wide, batches of 8 names)
// on one thread (today's path, no workers), on two worker threads and on every core, side by
// side, from the same weights: throughput, its ratio to one thread, and how far apart the
// weights end (the reduction's fixed order promises one thread's result to rounding).
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { GPT, type GPTConfig, trainGPT } from "../src/index.js";
import { GPTWorkers } from "../src/node/gpt-workers.js";
import { median } from "./common.js";
import { benchNames, type GPTBenchRow } from "./gpt.js";

// The targets of issue 23: two workers at least 1.7× one thread's throughput, and the same
// weights as one thread to 1e-12 (relative to the weight, or absolute below 1).
export const WORKERS_TARGET = { twoWorkers: 1.7, weightDifference: 1e-12 };

function measure(samples: number[]) {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples };
}

export async function gptWorkersWorkload(options: {
  reps: number;
  nLayer?: number;
  nEmbd?: number;
  batchSize?: number;
  steps?: number;
}): Promise<GPTBenchRow[]> {
  const { reps, nLayer = 2, nEmbd = 64, batchSize = 8, steps = 8 } = options;
  const { tokenizer, documents } = benchNames();
  const config: GPTConfig = { vocabSize: tokenizer.vocabSize, nLayer, nEmbd, nHead: 4, blockSize: 16 };
  const used = documents.slice(0, steps * batchSize);
  const characters = used.reduce((sum, doc) => sum + Math.min(config.blockSize, doc.length - 1), 0);
  const cores = availableParallelism();
  const counts = [...new Set([1, 2, cores])];
  const contenders = counts.map((workers) => {
    const gpt = new GPT({ ...config, seed: 42 });
    // One thread is trainGPT without workers: today's path.
    const pool = workers > 1 ? new GPTWorkers(gpt, { workers, maxBatch: batchSize }) : undefined;
    return { workers, gpt, pool, ms: [] as number[], weights: [] as number[] };
  });
  const initial = contenders[0].gpt.stateDict();
  const run = (c: (typeof contenders)[number]) => {
    c.gpt.loadStateDict(initial);
    const started = performance.now();
    trainGPT(c.gpt, used, { steps, batchSize, workers: c.pool });
    const ms = (performance.now() - started) / steps;
    c.weights = c.gpt.parameters().map((p) => p.data);
    return ms;
  };
  try {
    // The first run traces every document length, in every worker.
    for (const c of contenders) run(c);
    for (let rep = 0; rep < reps; rep++) {
      const order = contenders.map((_, i) => contenders[(i + rep) % contenders.length]);
      for (const c of order) c.ms.push(run(c));
    }
  } finally {
    await Promise.all(contenders.map((c) => c.pool?.close()));
  }
  const one = contenders[0];
  const parameters = one.weights.length.toLocaleString("en-US");
  const workload = `GPT on worker threads: ${nLayer} layers, embd ${nEmbd} (${parameters} parameters), batches of ${batchSize} names`;
  const rows: GPTBenchRow[] = [];
  let largestOverall = 0;
  for (const c of contenders) {
    const namesPerSecond = (batchSize / median(c.ms)) * 1000;
    const charactersPerSecond = (characters / (steps * median(c.ms))) * 1000;
    let largest = 0;
    c.weights.forEach((w, i) => {
      largest = Math.max(largest, Math.abs(w - one.weights[i]) / Math.max(1, Math.abs(one.weights[i])));
    });
    largestOverall = Math.max(largestOverall, largest);
    const label =
      c.workers === 1 ? "1 thread" : `${c.workers} workers${c.workers === cores ? " (every core)" : ""}`;
    const perSecond = `${Math.round(namesPerSecond).toLocaleString("en-US")} names/s, ${Math.round(charactersPerSecond).toLocaleString("en-US")} chars/s`;
    rows.push({
      workload,
      engine: `micrograd compiled, ${label}`,
      value: measure(c.ms),
      unit: "ms/step",
      result:
        c === one
          ? `${perSecond}; no workers (today's path)`
          : `${perSecond}; weights after ${steps} steps within ${largest.toExponential(1)} of 1 thread`,
    });
    if (c === one) continue;
    const speedup = measure(c.ms.map((ms, i) => one.ms[i] / ms));
    rows.push({
      workload: `${workload}: throughput ÷ 1 thread`,
      engine: `micrograd compiled, ${label}`,
      value: speedup,
      unit: "×",
      ...(c.workers === 2
        ? { target: `≥ ${WORKERS_TARGET.twoWorkers}×`, pass: speedup.median >= WORKERS_TARGET.twoWorkers }
        : {}),
    });
  }
  const threads = contenders.map((c) => c.workers).join(", ");
  rows.push({
    workload: `${workload}: the largest difference of a weight after ${steps} steps, ${threads} threads against 1`,
    engine: "micrograd compiled",
    value: { median: largestOverall, min: largestOverall, max: largestOverall, samples: [largestOverall] },
    unit: "(relative)",
    target: `≤ ${WORKERS_TARGET.weightDifference.toExponential(0)}`,
    pass: largestOverall <= WORKERS_TARGET.weightDifference,
  });
  return rows;
}
