// The GPT workload of the benchmark: training steps of the default character-level GPT (the
// reference microgpt's sizes, 4,192 parameters) on names, one name per step, Adam as the
// reference, on the eager engine: each step builds the graph, runs backward and updates.
import { performance } from "node:perf_hooks";
import { CharTokenizer, GPT, splitDocumentsForTraining, trainGPT } from "../src/index.js";
import { loadNames } from "../src/node/datasets.js";
import { median } from "./common.js";

// The target of issue 11 for the eager engine.
export const GPT_TARGET = { eagerMsPerStep: 25 };

/** A row of the results table (the shape bench/run.ts prints). */
export interface GPTBenchRow {
  workload: string;
  engine: string;
  value: { median: number; min: number; max: number; samples: number[] };
  unit: string;
  result?: string;
  target?: string;
  pass?: boolean;
}

/** The training documents of the benchmark: names in a seeded shuffle, as token ids. */
export function benchNames(): { tokenizer: CharTokenizer; documents: number[][] } {
  const names = loadNames();
  const tokenizer = CharTokenizer.fromDocuments(names);
  const { train } = splitDocumentsForTraining(
    names.map((name) => tokenizer.encode(name)),
    { seed: 42 },
  );
  return { tokenizer, documents: train };
}

/**
 * `reps` runs of `steps` training steps each, from the same initial weights and names, after one
 * warm-up run; each run's time per step is its total divided by the steps.
 */
export function gptEagerWorkload(options: { reps: number; steps?: number }): GPTBenchRow[] {
  const { reps, steps = 100 } = options;
  const { tokenizer, documents } = benchNames();
  const msPerStep: number[] = [];
  let losses: number[] = [];
  for (let rep = 0; rep <= reps; rep++) {
    const gpt = new GPT({ vocabSize: tokenizer.vocabSize, seed: 42 });
    const started = performance.now();
    // The rate decays over the reference's 1,000 steps, as in its first `steps` steps.
    const run = trainGPT(gpt, documents, { steps: 1000, onStep: (r) => r.step < steps - 1 });
    const elapsed = performance.now() - started;
    if (rep > 0) msPerStep.push(elapsed / steps);
    losses = run.losses;
  }
  const value = median(msPerStep);
  const meanLoss = losses.reduce((a, b) => a + b, 0) / losses.length;
  return [
    {
      workload: `GPT training step (names, 1 layer, embd 16, 4 heads, block 16; 4,192 parameters; ${steps} steps of one name)`,
      engine: "micrograd (eager)",
      value: { median: value, min: Math.min(...msPerStep), max: Math.max(...msPerStep), samples: msPerStep },
      unit: "ms/step",
      result: `mean loss ${meanLoss.toFixed(4)} over the ${steps} steps`,
      target: `≤ ${GPT_TARGET.eagerMsPerStep} ms`,
      pass: value <= GPT_TARGET.eagerMsPerStep,
    },
  ];
}
