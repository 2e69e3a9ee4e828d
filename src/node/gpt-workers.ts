// Data-parallel GPT training on every core: worker threads (Node's worker_threads) that each
// replay the same compiled loss on their share of a batch's documents.
//
// The weights live in one SharedArrayBuffer, the arena's values, which every worker reads. Each
// document's gradient is computed on its own, from zero, into its own row of a shared table;
// then each worker sums one slice of the parameters over the rows, always in document order.
// The result is therefore the same, bit for bit, whatever the number of workers, and equals
// one thread's gradient (which adds each document into the running total) to rounding.
//
// The calls are synchronous: the main thread posts the batch through shared memory and sleeps
// on Atomics.wait until the workers are done, so that trainGPT's loop stays one plain loop.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { ParameterArena } from "../arena.js";
import type { GPT, GPTConfig } from "../gpt.js";
import type { BatchGradients } from "../gpt-train.js";

/** Slots of the control array shared with the workers. */
export const CONTROL = {
  /** Incremented for each batch; a worker waits for it to change. -1 stops the workers. */
  job: 0,
  documents: 1,
  /** Workers done computing their documents (the barrier before the sums). */
  computed: 2,
  /** Workers done summing their slice. */
  done: 3,
  /** Non-zero once a worker failed; its message is in the error bytes. */
  failed: 4,
  errorLength: 5,
  size: 6,
} as const;

export const ERROR_BYTES = 4096;

/** What a worker is given when it starts. */
export interface GPTWorkerData {
  config: GPTConfig;
  index: number;
  workers: number;
  maxBatch: number;
  control: SharedArrayBuffer;
  weight: SharedArrayBuffer;
  tokens: SharedArrayBuffer;
  lengths: SharedArrayBuffer;
  losses: SharedArrayBuffer;
  rows: SharedArrayBuffer;
  data: SharedArrayBuffer;
  grad: SharedArrayBuffer;
  error: SharedArrayBuffer;
}

export interface GPTWorkersOptions {
  /** Worker threads (default: the cores available). */
  workers?: number;
  /** The largest batch to be computed (documents per call). */
  maxBatch: number;
}

/** The cores this process may use: what --workers defaults to. */
export function coresAvailable(): number {
  return availableParallelism();
}

/**
 * Worker threads that compute the gradients of `gpt`'s loss on batches of documents. Pass it
 * to trainGPT as `workers`; close() it when done (it keeps the process alive otherwise).
 */
export class GPTWorkers implements BatchGradients {
  readonly arena: ParameterArena;
  readonly workers: number;
  readonly maxBatch: number;
  private readonly threads: Worker[];
  private readonly control: Int32Array;
  private readonly weight: Float64Array;
  private readonly tokens: Int32Array;
  private readonly lengths: Int32Array;
  private readonly losses: Float64Array;
  private readonly errorBytes: Uint8Array;
  private readonly config: GPTConfig;
  private closed = false;

  constructor(gpt: GPT, options: GPTWorkersOptions) {
    const workers = options.workers ?? coresAvailable();
    const { maxBatch } = options;
    for (const [name, value] of [
      ["workers", workers],
      ["maxBatch", maxBatch],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`GPTWorkers: ${name} must be a positive integer, got ${String(value)}`);
      }
    }
    this.workers = workers;
    this.maxBatch = maxBatch;
    this.config = { ...gpt.config };
    const parameters = gpt.parameters();
    const count = parameters.length;
    const shared = (bytes: number) => new SharedArrayBuffer(bytes);
    const data: GPTWorkerData = {
      config: this.config,
      index: 0,
      workers,
      maxBatch,
      control: shared(4 * CONTROL.size),
      weight: shared(8),
      tokens: shared(4 * maxBatch * (this.config.blockSize + 1)),
      lengths: shared(4 * maxBatch),
      losses: shared(8 * maxBatch),
      rows: shared(8 * maxBatch * count),
      data: shared(8 * count),
      grad: shared(8 * count),
      error: shared(ERROR_BYTES),
    };
    this.arena = new ParameterArena(parameters, { data: data.data, grad: data.grad });
    this.arena.gather();
    this.control = new Int32Array(data.control);
    this.weight = new Float64Array(data.weight);
    this.tokens = new Int32Array(data.tokens);
    this.lengths = new Int32Array(data.lengths);
    this.losses = new Float64Array(data.losses);
    this.errorBytes = new Uint8Array(data.error);
    this.threads = Array.from({ length: workers }, (_, index) => startWorker({ ...data, index }));
    // Idle workers do not keep the process alive; a batch in progress holds the main thread.
    for (const thread of this.threads) thread.unref();
  }

  /**
   * Sets `arena.grad` to Σ over the documents of d(weight · loss)/d(parameter), summed in
   * document order, from the weights in `arena.data`; returns each document's loss.
   */
  compute(documents: readonly (readonly number[])[], weight: number): number[] {
    if (this.closed) throw new Error("GPTWorkers: closed");
    const count = documents.length;
    if (count < 1 || count > this.maxBatch) {
      throw new RangeError(
        `GPTWorkers: a batch of ${count} documents; this pool takes 1 to ${this.maxBatch}`,
      );
    }
    const width = this.config.blockSize + 1;
    documents.forEach((doc, d) => {
      const n = Math.min(width, doc.length);
      for (let k = 0; k < n; k++) this.tokens[d * width + k] = doc[k];
      this.lengths[d] = n;
    });
    this.weight[0] = weight;
    const control = this.control;
    control[CONTROL.documents] = count;
    control[CONTROL.computed] = 0;
    control[CONTROL.done] = 0;
    control[CONTROL.failed] = 0;
    Atomics.add(control, CONTROL.job, 1);
    Atomics.notify(control, CONTROL.job);
    // Woken by each worker as it finishes. A worker reports its own failures (see gpt-worker.ts)
    // and always finishes, so this wait ends.
    for (;;) {
      const done = Atomics.load(control, CONTROL.done);
      if (done >= this.workers) break;
      Atomics.wait(control, CONTROL.done, done);
    }
    if (control[CONTROL.failed] !== 0) {
      const text = new TextDecoder().decode(this.errorBytes.slice(0, control[CONTROL.errorLength]));
      throw new RangeError(text);
    }
    return Array.from(this.losses.subarray(0, count));
  }

  /** Stops the worker threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, CONTROL.job, -1);
    Atomics.notify(this.control, CONTROL.job);
    await Promise.all(this.threads.map((thread) => thread.terminate()));
  }
}

function startWorker(workerData: GPTWorkerData): Worker {
  // From the build (.js), or from the sources under tsx, whose loader the worker registers first.
  if (import.meta.url.endsWith(".ts")) {
    const source = JSON.stringify(new URL("./gpt-worker.ts", import.meta.url).href);
    return new Worker(
      `import("tsx/esm/api").then(({ register }) => { register(); return import(${source}); });`,
      { eval: true, workerData },
    );
  }
  return new Worker(new URL("./gpt-worker.js", import.meta.url), { workerData });
}
