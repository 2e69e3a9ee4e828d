// Data-parallel GPT training on every core: the pool of ../gpt-parallel.ts on worker threads,
// each running gpt-worker.ts.
import type { GPT } from "../gpt.js";
import { GPTParallel } from "../gpt-parallel.js";
import { coresAvailable, threadsOn } from "./worker-threads.js";

export { coresAvailable } from "./worker-threads.js";

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
export class GPTWorkers extends GPTParallel {
  constructor(gpt: GPT, options: GPTWorkersOptions) {
    super(gpt, {
      name: "GPTWorkers",
      workers: options.workers ?? coresAvailable(),
      maxBatch: options.maxBatch,
      start: threadsOn("gpt-worker"),
    });
  }
}
