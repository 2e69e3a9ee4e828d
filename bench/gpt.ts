// The GPT workload of the benchmark: training steps of the default character-level GPT (the
// reference microgpt's sizes, 4,192 parameters) on names, one name per step, Adam as the
// reference. Eager: each step builds the graph, runs backward and updates. Compiled (trainGPT's
// default): each step replays the trace of its name's length on typed arrays.
import { performance } from "node:perf_hooks";
import { CharTokenizer, GPT, splitDocumentsForTraining, trainGPT } from "../src/index.js";
import { loadNames } from "../src/node/datasets.js";
import { median } from "./common.js";

// The targets of issue 11.
export const GPT_TARGET = { eagerMsPerStep: 25, compiledMsPerStep: 1 };

const WORKLOAD =
  "GPT training step (names, 1 layer, embd 16, 4 heads, block 16; 4,192 parameters; one name per step)";

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
    const run = trainGPT(gpt, documents, { steps: 1000, compile: false, onStep: (r) => r.step < steps - 1 });
    const elapsed = performance.now() - started;
    if (rep > 0) msPerStep.push(elapsed / steps);
    losses = run.losses;
  }
  const value = median(msPerStep);
  const meanLoss = losses.reduce((a, b) => a + b, 0) / losses.length;
  return [
    {
      workload: WORKLOAD,
      engine: "micrograd (eager)",
      value: { median: value, min: Math.min(...msPerStep), max: Math.max(...msPerStep), samples: msPerStep },
      unit: "ms/step",
      result: `mean loss ${meanLoss.toFixed(4)} over the first ${steps} steps`,
      target: `≤ ${GPT_TARGET.eagerMsPerStep} ms`,
      pass: value <= GPT_TARGET.eagerMsPerStep,
    },
  ];
}

/**
 * `reps` runs of the reference's whole run (`steps` training steps, default 1,000) with the
 * compiled loss, each from the same initial weights and names. One model is reused, its weights
 * reset, so that the traces (one per name length) are made once, in the warm-up run, whose
 * time per step is reported beside the steady one.
 */
export function gptCompiledWorkload(options: {
  reps: number;
  steps?: number;
  compareSteps?: number;
}): GPTBenchRow[] {
  const { reps, steps = 1000, compareSteps = 100 } = options;
  const { tokenizer, documents } = benchNames();
  const gpt = new GPT({ vocabSize: tokenizer.vocabSize, seed: 42 });
  const initial = gpt.stateDict();
  const msPerStep: number[] = [];
  let firstRun = 0;
  let losses: number[] = [];
  for (let rep = 0; rep <= reps; rep++) {
    gpt.loadStateDict(initial);
    const started = performance.now();
    const run = trainGPT(gpt, documents, { steps: 1000, onStep: (r) => r.step < steps - 1 });
    const elapsed = performance.now() - started;
    if (rep > 0) msPerStep.push(elapsed / steps);
    else firstRun = elapsed / steps;
    losses = run.losses;
  }
  const value = median(msPerStep);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const compared = Math.min(compareSteps, losses.length);
  return [
    {
      workload: WORKLOAD,
      engine: "micrograd compiled",
      value: { median: value, min: Math.min(...msPerStep), max: Math.max(...msPerStep), samples: msPerStep },
      unit: "ms/step",
      result:
        `mean loss ${mean(losses.slice(0, compared)).toFixed(4)} over the first ${compared} steps, ` +
        `${mean(losses).toFixed(4)} over ${losses.length}; first run ${firstRun.toPrecision(3)} ms/step with its traces`,
      target: `≤ ${GPT_TARGET.compiledMsPerStep} ms`,
      pass: value <= GPT_TARGET.compiledMsPerStep,
    },
  ];
}
