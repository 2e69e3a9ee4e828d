// The --max-graph estimate against the measured peak: before training, the command line counts
// the Values one step creates (stepGraphSize, gptStepGraphSize) and takes BYTES_PER_VALUE for
// each; here one real training step of each model runs in a fresh process (bench/graph-peak.ts),
// eager and compiled, and the estimate is set beside the growth of its resident memory at the
// peak. Sizes from half a million values up: the limit is there for the large ones, and below
// that Node's own fixed costs (a compiled step's code, the heap's reserve) weigh as much.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BYTES_PER_VALUE, gptDocumentsAtPeak } from "../src/cli/limits.js";
import { type GPTConfig, gptStepGraphSize } from "../src/gpt.js";
import { stepGraphSize } from "../src/nn.js";
import type { GPTBenchRow } from "./gpt.js";
import type { PeakJob, PeakResult } from "./graph-peak.js";

// The target of issue 23: the estimate within 2× of the measured peak, either way.
export const GRAPH_TARGET = { within: 2 };

type Model =
  | { kind: "mlp"; sizes: number[]; batch: number; loss: "softmax" | "hinge" }
  | {
      kind: "gpt";
      config: GPTConfig;
      batch: number;
    };

const gpt = (nLayer: number, nEmbd: number, blockSize: number, vocabSize: number): GPTConfig => ({
  vocabSize,
  nLayer,
  nEmbd,
  nHead: 4,
  blockSize,
});

/** The models, the quick run's first. */
export const GRAPH_MODELS: Model[] = [
  { kind: "mlp", sizes: [64, 256, 10], batch: 32, loss: "softmax" },
  // Names at 2 × 64, one a step; Tiny Shakespeare's windows as gpt train --text reads them.
  { kind: "gpt", config: gpt(2, 64, 16, 27), batch: 1 },
  { kind: "gpt", config: gpt(1, 32, 32, 65), batch: 8 },
  { kind: "mlp", sizes: [64, 1024, 10], batch: 32, loss: "softmax" },
  { kind: "mlp", sizes: [2, 256, 256, 1], batch: 20, loss: "hinge" },
  { kind: "gpt", config: gpt(2, 32, 32, 65), batch: 8 },
];
const QUICK_MODELS = 3;

/** The estimate the command line makes for a step of `model`, in Values. */
export function estimatedValues(model: Model, compile: boolean): number {
  if (model.kind === "mlp")
    return stepGraphSize({ sizes: model.sizes, activation: "relu" }, model.batch, model.loss, false);
  const documents = gptDocumentsAtPeak(compile ? { threads: 1 } : { eagerBatch: model.batch });
  return gptStepGraphSize(model.config, documents);
}

function describe(model: Model): string {
  if (model.kind === "mlp") return `MLP ${model.sizes.join("-")}, ${model.loss}, batch of ${model.batch}`;
  const { nLayer, nEmbd, blockSize, vocabSize } = model.config;
  const reads = model.batch === 1 ? "one document" : `${model.batch} windows`;
  return `GPT ${nLayer}×${nEmbd}, block ${blockSize}, vocabulary ${vocabSize}, ${reads} a step`;
}

const PEAK_SCRIPT = fileURLToPath(new URL("./graph-peak.ts", import.meta.url));

/** One training step of `job` in a fresh Node process; its peak. */
export function measurePeak(job: PeakJob): PeakResult {
  const output = execFileSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", PEAK_SCRIPT, JSON.stringify(job)],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  return JSON.parse(output);
}

const megabytes = (bytes: number) => `${Math.round(bytes / 1e6).toLocaleString("en-US")} MB`;

/** A row per model and engine: the estimate ÷ the measured peak, one run each (a process apiece). */
export function graphMemoryWorkload(options: { quick: boolean }): GPTBenchRow[] {
  const models = options.quick ? GRAPH_MODELS.slice(0, QUICK_MODELS) : GRAPH_MODELS;
  const rows: GPTBenchRow[] = [];
  for (const model of models) {
    for (const compile of [false, true]) {
      const values = estimatedValues(model, compile);
      const estimate = values * BYTES_PER_VALUE;
      const { peakBytes } = measurePeak({ ...model, compile });
      const ratio = estimate / peakBytes;
      rows.push({
        workload: `--max-graph estimate ÷ measured peak: ${describe(model)}`,
        engine: compile ? "micrograd compiled" : "micrograd eager",
        value: { median: ratio, min: ratio, max: ratio, samples: [ratio] },
        unit: "×",
        result:
          `estimate ${values.toLocaleString("en-US")} values × ${BYTES_PER_VALUE} B = ${megabytes(estimate)}; ` +
          `peak ${megabytes(peakBytes)} (${Math.round(peakBytes / values)} B per estimated value)`,
        target: `${1 / GRAPH_TARGET.within}–${GRAPH_TARGET.within}×`,
        pass: ratio >= 1 / GRAPH_TARGET.within && ratio <= GRAPH_TARGET.within,
      });
    }
  }
  return rows;
}
