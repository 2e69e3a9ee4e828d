// Data-parallel training of an MLP on every core: `fit` with `workers`. The batch is cut into
// parts, each an item of the pool that GPTWorkers uses too (../data-parallel.ts): each worker
// replays the compiled loss of its parts (mlp-worker.ts) and the parts' gradients are summed in
// their order. The parts depend on the batch size alone, never on the number of workers, so
// the weights are the same, bit for bit, on 2 workers or 16, and equal one thread's (the whole
// batch in one trace) to rounding.
import type { ParameterArena } from "../arena.js";
import { DataParallel } from "../data-parallel.js";
import { LOSS_NAMES, type LossName } from "../losses.js";
import type { MLP, MLPConfig } from "../nn.js";
import type { ClassifierGradients } from "../train.js";
import { coresAvailable, threadsOn } from "./worker-threads.js";

/** What mlp-worker.ts rebuilds the model from. */
export type MLPWorkerSetup = MLPConfig;

/**
 * A batch is cut into parts of at least MIN_PART samples, and at most MAX_PARTS of them. Each
 * part costs a replay of its own, with its passes over the parameters (reading the weights,
 * storing, copying and summing the gradients): measured at 64-128-128-10, about what five
 * samples cost. So parts of 32 samples or more, for which that is a sixth or less.
 */
export const MIN_PART = 32;
export const MAX_PARTS = 16;

/** How many parts a batch of `batchSize` samples is cut into: at most as many workers can share it. */
export function batchParts(batchSize: number): number {
  return Math.max(1, Math.min(MAX_PARTS, Math.floor(batchSize / MIN_PART)));
}

/** A part's input: its weight, the loss (by its index in LOSS_NAMES), the L2 penalty, then each sample's features and class. */
export const PART_HEADER = 3;

export interface MLPWorkersOptions {
  /** Worker threads (default: the cores available). */
  workers?: number;
  /** The largest batch to be computed (samples per step). */
  maxBatch: number;
}

/**
 * Worker threads that compute the gradients of a classifier's loss on batches of samples. Pass
 * it to `fit` as `workers`; close() it when done (idle workers do not keep the process alive).
 */
export class MLPWorkers implements ClassifierGradients {
  readonly workers: number;
  readonly maxBatch: number;
  private readonly pool: DataParallel;
  private readonly nin: number;
  private readonly nout: number;
  private readonly input: Float64Array;

  constructor(model: MLP, options: MLPWorkersOptions) {
    const workers = options.workers ?? coresAvailable();
    const { maxBatch } = options;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(`MLPWorkers: maxBatch must be a positive integer, got ${String(maxBatch)}`);
    }
    this.nin = model.nin;
    this.nout = model.nout;
    // A smaller batch may have larger parts (29 samples: 7 parts of up to 5; 32: 8 of 4).
    let largestPart = 1;
    for (let batch = 1; batch <= maxBatch; batch++) {
      largestPart = Math.max(largestPart, Math.ceil(batch / batchParts(batch)));
    }
    this.input = new Float64Array(PART_HEADER + largestPart * (this.nin + 1));
    this.pool = new DataParallel({
      name: "MLPWorkers",
      start: threadsOn("mlp-worker"),
      setup: { ...model.config, nouts: [...model.config.nouts] } satisfies MLPWorkerSetup,
      parameters: model.parameters(),
      workers,
      // A smaller batch may have more parts than the largest one: never more than MAX_PARTS.
      maxItems: Math.min(maxBatch, MAX_PARTS),
      inputStride: this.input.length,
      resultStride: 1 + largestPart * this.nout,
    });
    this.workers = workers;
    this.maxBatch = maxBatch;
  }

  get arena(): ParameterArena {
    return this.pool.arena;
  }

  /**
   * Sets `arena.grad` to the gradient of the batch's loss (the mean over its samples, plus the
   * L2 penalty l2 · Σp²) at the weights in `arena.data`; returns that loss and every sample's outputs.
   */
  compute(
    X: readonly (readonly number[])[],
    classes: readonly number[],
    loss: LossName,
    l2: number,
  ): { loss: number; outputs: number[][] } {
    const n = X.length;
    if (n < 1 || n > this.maxBatch) {
      throw new RangeError(`MLPWorkers: a batch of ${n} samples; this pool takes 1 to ${this.maxBatch}`);
    }
    const parts = batchParts(n);
    const input = this.input;
    const width = this.nin + 1;
    for (let part = 0; part < parts; part++) {
      const start = Math.floor((part * n) / parts);
      const end = Math.floor(((part + 1) * n) / parts);
      // Each part's mean loss weighted by its share of the batch: the parts add up to the batch's mean.
      input[0] = (end - start) / n;
      input[1] = LOSS_NAMES.indexOf(loss);
      // The penalty is the batch's, counted once: in the first part.
      input[2] = part === 0 ? l2 : 0;
      for (let i = start; i < end; i++) {
        const at = PART_HEADER + (i - start) * width;
        input.set(X[i], at);
        input[at + this.nin] = classes[i];
      }
      this.pool.setInput(part, input.subarray(0, PART_HEADER + (end - start) * width));
    }
    this.pool.run(parts);
    let total = 0;
    const outputs: number[][] = [];
    for (let part = 0; part < parts; part++) {
      const result = this.pool.result(part);
      total += result[0];
      const samples = Math.floor(((part + 1) * n) / parts) - Math.floor((part * n) / parts);
      for (let i = 0; i < samples; i++) {
        outputs.push(Array.from(result.subarray(1 + i * this.nout, 1 + (i + 1) * this.nout)));
      }
    }
    return { loss: total, outputs };
  }

  /** Stops the worker threads. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
