// Data-parallel GPT training on every core: worker threads that each replay the same compiled
// loss on their share of a batch's documents (the pool is ../data-parallel.ts, shared with
// MLPWorkers; the worker's side is gpt-worker.ts).
//
// Each document is an item: its gradient is computed on its own, from zero, and the documents'
// gradients are summed in document order. The result is therefore the same, bit for bit,
// whatever the number of workers, and equals one thread's gradient (which adds each document
// into the running total) to rounding.
import type { ParameterArena } from "../arena.js";
import { DataParallel } from "../data-parallel.js";
import type { GPT, GPTConfig } from "../gpt.js";
import type { BatchGradients } from "../gpt-train.js";
import { coresAvailable, threadsOn } from "./worker-threads.js";

export { coresAvailable } from "./worker-threads.js";

/** What gpt-worker.ts rebuilds the model from. */
export type GPTWorkerSetup = GPTConfig;

export interface GPTWorkersOptions {
  /** Worker threads (default: the cores available). */
  workers?: number;
  /** The largest batch to be computed (documents per call). */
  maxBatch: number;
}

/**
 * Worker threads that compute the gradients of `gpt`'s loss on batches of documents. Pass it
 * to trainGPT as `workers`; close() it when done (idle workers do not keep the process alive).
 */
export class GPTWorkers implements BatchGradients {
  readonly workers: number;
  readonly maxBatch: number;
  private readonly pool: DataParallel;
  private readonly input: Float64Array;
  private readonly blockSize: number;

  constructor(gpt: GPT, options: GPTWorkersOptions) {
    const workers = options.workers ?? coresAvailable();
    const { maxBatch } = options;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(`GPTWorkers: maxBatch must be a positive integer, got ${String(maxBatch)}`);
    }
    const config: GPTWorkerSetup = { ...gpt.config };
    // An item's input: the document's weight, then the tokens the loss reads (BOS and up to blockSize more).
    this.input = new Float64Array(1 + config.blockSize + 1);
    this.blockSize = config.blockSize;
    this.pool = new DataParallel({
      name: "GPTWorkers",
      start: threadsOn("gpt-worker"),
      setup: config,
      parameters: gpt.parameters(),
      workers,
      maxItems: maxBatch,
      inputStride: this.input.length,
      resultStride: 1,
    });
    this.workers = workers;
    this.maxBatch = maxBatch;
  }

  /** Where the weights are shared with the workers, and where the batch's gradient arrives. */
  get arena(): ParameterArena {
    return this.pool.arena;
  }

  /**
   * Sets `arena.grad` to Σ over the documents of d(weight · loss)/d(parameter), summed in
   * document order, from the weights in `arena.data`; returns each document's loss.
   */
  compute(documents: readonly (readonly number[])[], weight: number): number[] {
    const count = documents.length;
    if (count < 1 || count > this.maxBatch) {
      throw new RangeError(
        `GPTWorkers: a batch of ${count} documents; this pool takes 1 to ${this.maxBatch}`,
      );
    }
    const input = this.input;
    input[0] = weight;
    documents.forEach((doc, d) => {
      const n = Math.min(this.blockSize + 1, doc.length);
      for (let k = 0; k < n; k++) input[1 + k] = doc[k];
      this.pool.setInput(d, input.subarray(0, 1 + n));
    });
    this.pool.run(count);
    return documents.map((_, d) => this.pool.result(d)[0]);
  }

  /** Stops the worker threads. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
