// Data-parallel GPT training: workers that each replay the same compiled loss on their share of
// a batch's documents, on the pool of data-parallel.ts. Node starts the workers as threads
// (GPTWorkers in micrograd/node), the playground's GPT page as Web Workers; both run the
// worker's side written here, gptWorkerModel.
//
// Each document is an item: its gradient is computed on its own, from zero, and the documents'
// gradients are summed in document order. The result is therefore the same, bit for bit,
// whatever the number of workers, and equals one thread's gradient (which adds each document
// into the running total) to rounding.
import type { ParameterArena } from "./arena.js";
import { DataParallel, type StartWorker } from "./data-parallel.js";
import type { WorkerModel } from "./data-parallel-worker.js";
import { GPT, type GPTConfig } from "./gpt.js";
import { type BatchGradients, checkDocuments, compiledLoss } from "./gpt-train.js";

/** What a worker rebuilds the model from. */
export type GPTWorkerSetup = GPTConfig;

export interface GPTParallelOptions {
  /** Who the pool serves, the first word of its messages ("GPTWorkers"). */
  name: string;
  workers: number;
  /** The largest batch to be computed (documents per call). */
  maxBatch: number;
  /** Starts each worker on code that runs serveItems(data, gptWorkerModel). */
  start: StartWorker;
}

/**
 * Workers that compute the gradients of `gpt`'s loss on batches of documents. Pass it to
 * trainGPT as `workers`; close() it when done.
 */
export class GPTParallel implements BatchGradients {
  readonly workers: number;
  readonly maxBatch: number;
  private readonly name: string;
  private readonly pool: DataParallel;
  private readonly input: Float64Array;
  /** Whether the pool holds the gradients of the last compute() (not after a refused or failed one). */
  private computed = false;
  private readonly config: GPTConfig;

  constructor(gpt: GPT, options: GPTParallelOptions) {
    const { name, workers, maxBatch, start } = options;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(`${name}: maxBatch must be a positive integer, got ${String(maxBatch)}`);
    }
    const config: GPTWorkerSetup = { ...gpt.config };
    // An item's input: the document's weight, then the tokens the loss reads (BOS and up to blockSize more).
    this.input = new Float64Array(1 + config.blockSize + 1);
    this.config = config;
    this.pool = new DataParallel({
      name,
      start,
      setup: config,
      parameters: gpt.parameters(),
      workers,
      maxItems: maxBatch,
      inputStride: this.input.length,
      resultStride: 1,
    });
    this.name = name;
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
        `${this.name}: a batch of ${count} documents; this pool takes 1 to ${this.maxBatch}`,
      );
    }
    // Here rather than in a worker: a bad token is then named the same way whichever worker
    // would have taken its document (a trace names it as the model does, a replay by the select).
    this.computed = false;
    checkDocuments(this.name, { config: this.config }, documents);
    const input = this.input;
    input[0] = weight;
    documents.forEach((doc, d) => {
      const n = Math.min(this.config.blockSize + 1, doc.length);
      for (let k = 0; k < n; k++) input[1 + k] = doc[k];
      this.pool.setInput(d, input.subarray(0, 1 + n));
    });
    this.pool.run(count);
    this.computed = true;
    return documents.map((_, d) => this.pool.result(d)[0]);
  }

  /**
   * Adds into `total` the gradients of the last compute()'s documents, one after the other in
   * document order: a batch computed in several calls sums its documents in the same order
   * whatever the calls, so the same total, bit for bit (see DataParallel.addGradients).
   */
  addGradients(total: Float64Array): void {
    // The pool's rows still hold the call before a batch refused here.
    if (!this.computed) throw new Error(`${this.name}: no gradients to add: the last compute() failed`);
    this.pool.addGradients(total);
  }

  /** Stops the workers. */
  close(): Promise<void> {
    return this.pool.close();
  }
}

/** A worker's copy of the model: its compiled loss replays from the shared weights, one document per item. */
export function gptWorkerModel(setup: unknown): WorkerModel {
  // The copy's own initial weights are never used: its replays read the shared ones.
  const gpt = new GPT({ ...(setup as GPTWorkerSetup), seed: 0 });
  const loss = compiledLoss(gpt);
  return {
    parameters: gpt.parameters(),
    gradient({ arena, input, results }) {
      loss.arena = arena;
      const [weighted, documentLoss] = loss(Array.from(input.subarray(1)), input[0]);
      weighted.backward();
      results[0] = documentLoss.data;
    },
  };
}
