// One training step in a fresh process, for the --max-graph rows of the benchmark
// (bench/graph-memory.ts): the growth of the process's resident memory at its peak, from
// before the model is built to the end of the step, as GNU time's maximum RSS would see it.
// A process of its own, because the peak of a step (the graph, the trace, the garbage not yet
// collected) is gone once the step returns, and only the operating system's high-water mark of
// a process that has done nothing larger before can show it.
//
// Usage: node --expose-gc --import tsx bench/graph-peak.ts '<job as JSON>'; prints JSON.
import { readFileSync } from "node:fs";
import {
  createRandom,
  fit,
  GPT,
  type GPTConfig,
  gaussian,
  MLP,
  TextWindows,
  trainGPT,
} from "../src/index.js";
import type { LossName } from "../src/losses.js";

export type PeakJob =
  | { kind: "mlp"; sizes: number[]; batch: number; loss: LossName; compile: boolean }
  | { kind: "gpt"; config: GPTConfig; batch: number; compile: boolean };

export interface PeakResult {
  /** Resident memory at the step's peak, less that before the model was built. */
  peakBytes: number;
}

function runJob(job: PeakJob): void {
  const random = createRandom(1);
  if (job.kind === "mlp") {
    const [nin, ...outs] = job.sizes;
    const model = new MLP(nin, outs, { seed: 1 });
    const classes = outs[outs.length - 1];
    const X = Array.from({ length: job.batch }, () => Array.from({ length: nin }, () => gaussian(random)));
    const y = X.map((_, i) => (classes === 1 ? i % 2 : i % classes));
    const nClasses = classes === 1 ? 2 : classes;
    fit(model, { X, y, nClasses }, { loss: job.loss, steps: 1, compile: job.compile });
    return;
  }
  const gpt = new GPT({ ...job.config, seed: 1 });
  // Running text of random characters: every window is as long as the block, the worst case.
  const ids = Array.from({ length: 4096 }, () => Math.floor(random() * job.config.vocabSize));
  trainGPT(gpt, new TextWindows(ids), { steps: 1, batchSize: job.batch, compile: job.compile });
}

/**
 * This process's high-water mark of resident memory, in bytes. On Linux, from the address
 * space's own mark (VmHWM): getrusage's maxRSS keeps the mark of the process that spawned this
 * one across the exec, so a child of the whole benchmark (hundreds of MB by then) reported that
 * instead of its step. Elsewhere, maxRSS (in kilobytes).
 */
function peakResident(): number {
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const mark = /^VmHWM:\s+(\d+) kB$/m.exec(status);
    if (mark) return Number(mark[1]) * 1024;
  } catch {
    // No /proc: not Linux.
  }
  return process.resourceUsage().maxRSS * 1024;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("graph-peak: run node with --expose-gc");
const job = JSON.parse(process.argv[2] ?? "") as PeakJob;
gc();
gc();
const before = process.memoryUsage();
// The step's peak must be the process's: nothing before it (loading the modules) went higher.
runJob(job);
const result: PeakResult = { peakBytes: peakResident() - before.rss };
console.log(JSON.stringify(result));
