// The data-parallel core that GPTWorkers and MLPWorkers share, and the playground's GPT page:
// workers (Node's worker threads, or a browser's Web Workers) that each compute the gradients of
// some of a batch's items, each item's gradient from zero into its own row of a shared table,
// then sum the rows in item order.
//
// What an item is belongs to the model (a GPT's item is a document, an MLP's a part of the
// batch); this module knows only numbers. The weights live in one SharedArrayBuffer, the arena's
// values, that every worker reads; the main thread writes each item's input into shared
// memory, starts the job and sleeps on Atomics.wait until the workers are done, so that the
// training loop stays one plain loop. The workers take the items as they become free, the
// longest first (see takingOrder), so that they finish together even when one of them is
// slowed by other work on its core. After the items, each worker sums one slice of the
// parameters over the rows, always in item order: the gradient is the same, bit for bit,
// whatever the number of workers (the worker side is data-parallel-worker.ts).
//
// Only SharedArrayBuffer and Atomics are used here, so the pool runs wherever they do: how a
// worker is started is the platform's (src/node/worker-threads.ts; the playground's
// gpt-pool.ts), given as `start`. The waiting side must be allowed to block (a Node thread, a
// Web Worker; not a page's main thread).
import { ParameterArena } from "./arena.js";
import type { Value } from "./engine.js";

/** Slots of the control array shared with the workers. */
export const CONTROL = {
  /** Incremented for each job; a worker waits for it to change. -1 stops the workers. */
  job: 0,
  items: 1,
  /** Workers done computing their items (the barrier before the sums). */
  computed: 2,
  /** Workers done summing their slice. */
  done: 3,
  /** How many items of the taking order have been taken (a worker takes the next with Atomics.add). */
  taken: 4,
  size: 5,
} as const;

/** Each worker's report of the lowest item it failed: three Int32 slots. */
export const FAILURE = {
  /** 0: none; otherwise the failing item + 2 (so that a failure to start, item -1, is 1). */
  item: 0,
  /** 1 when the error was a RangeError (a number out of range: a divergence), 0 otherwise. */
  range: 1,
  /** Bytes of its message in the worker's error slot. */
  length: 2,
  size: 3,
} as const;

/** The longest message a worker reports; longer ones are cut. */
export const ERROR_BYTES = 4096;

/** What a worker is given when it starts. */
export interface WorkerData {
  /** What the model's own worker code needs to rebuild the model (its configuration). */
  setup: unknown;
  index: number;
  workers: number;
  maxItems: number;
  inputStride: number;
  resultStride: number;
  control: SharedArrayBuffer;
  failures: SharedArrayBuffer;
  errors: SharedArrayBuffer;
  data: SharedArrayBuffer;
  sums: SharedArrayBuffer;
  rows: SharedArrayBuffer;
  inputs: SharedArrayBuffer;
  inputLengths: SharedArrayBuffer;
  /** The items in the order the workers take them (Int32). */
  order: SharedArrayBuffer;
  results: SharedArrayBuffer;
}

/** A started worker, as the pool needs it: something to stop. */
export interface PoolWorker {
  terminate(): unknown;
}

/**
 * Starts one worker of a pool: it runs serveItems(data, …) (data-parallel-worker.ts) with the
 * model's own code. Node passes `data` as workerData, a browser posts it to the Web Worker.
 */
export type StartWorker = (data: WorkerData) => PoolWorker;

export interface DataParallelOptions {
  /** Who the pool serves, the first word of its messages ("GPTWorkers"). */
  name: string;
  /** Starts each worker on the model's worker code. */
  start: StartWorker;
  /** Passed to the model's worker code as it starts. */
  setup: unknown;
  /** The model's parameters, in the order the workers' copies list theirs. */
  parameters: readonly Value[];
  workers: number;
  /** The most items one job takes. */
  maxItems: number;
  /** The most numbers in one item's input, and in one item's results. */
  inputStride: number;
  resultStride: number;
}

/**
 * A pool of worker threads that compute the gradients of a batch's items into `arena.grad`. Fill
 * the items' inputs with setInput(), run(), read their results with result(); close() when done.
 */
export class DataParallel {
  readonly arena: ParameterArena;
  readonly workers: number;
  readonly maxItems: number;
  private readonly name: string;
  private readonly threads: PoolWorker[];
  private readonly control: Int32Array;
  private readonly failures: Int32Array;
  private readonly errors: Uint8Array;
  private readonly inputs: Float64Array;
  private readonly inputLengths: Int32Array;
  private readonly order: Int32Array;
  private readonly results: Float64Array;
  private readonly rows: Float64Array;
  /** Items whose gradients the last run() left in their rows (0 before any, or after a failure). */
  private itemsRun = 0;
  private readonly inputStride: number;
  private readonly resultStride: number;
  private closed = false;

  constructor(options: DataParallelOptions) {
    const { name, workers, maxItems, inputStride, resultStride, parameters } = options;
    this.name = name;
    for (const [key, value] of [
      ["workers", workers],
      ["maxItems", maxItems],
      ["inputStride", inputStride],
      ["resultStride", resultStride],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`${name}: ${key} must be a positive integer, got ${String(value)}`);
      }
    }
    this.workers = workers;
    this.maxItems = maxItems;
    this.inputStride = inputStride;
    this.resultStride = resultStride;
    const count = parameters.length;
    const shared = (bytes: number) => new SharedArrayBuffer(bytes);
    const data: WorkerData = {
      setup: options.setup,
      index: 0,
      workers,
      maxItems,
      inputStride,
      resultStride,
      control: shared(4 * CONTROL.size),
      failures: shared(4 * FAILURE.size * workers),
      errors: shared(ERROR_BYTES * workers),
      data: shared(8 * count),
      sums: shared(8 * count),
      rows: shared(8 * maxItems * count),
      inputs: shared(8 * maxItems * inputStride),
      inputLengths: shared(4 * maxItems),
      order: shared(4 * maxItems),
      results: shared(8 * maxItems * resultStride),
    };
    this.arena = new ParameterArena(parameters, { data: data.data, grad: data.sums });
    this.arena.gather();
    this.control = new Int32Array(data.control);
    this.failures = new Int32Array(data.failures);
    this.errors = new Uint8Array(data.errors);
    this.inputs = new Float64Array(data.inputs);
    this.inputLengths = new Int32Array(data.inputLengths);
    this.order = new Int32Array(data.order);
    this.results = new Float64Array(data.results);
    this.rows = new Float64Array(data.rows);
    this.threads = Array.from({ length: workers }, (_, index) => options.start({ ...data, index }));
  }

  /** Sets the input of item `item` for the next run(). */
  setInput(item: number, input: ArrayLike<number>): void {
    if (input.length > this.inputStride) {
      throw new RangeError(
        `${this.name}: an input of ${input.length} numbers; items take ${this.inputStride}`,
      );
    }
    this.inputs.set(input, item * this.inputStride);
    this.inputLengths[item] = input.length;
  }

  /**
   * Sets `arena.grad` to the sum over the first `items` items, in their order, of each item's
   * gradient at the weights in `arena.data`. A failure in a worker is thrown here as that
   * worker threw it (a RangeError stays one): the failure of the first item that failed.
   */
  run(items: number): void {
    if (this.closed) throw new Error(`${this.name}: closed`);
    if (!(Number.isInteger(items) && items >= 1 && items <= this.maxItems)) {
      throw new RangeError(`${this.name}: ${String(items)} items; this pool takes 1 to ${this.maxItems}`);
    }
    const control = this.control;
    this.itemsRun = 0;
    takingOrder(this.inputLengths.subarray(0, items), this.order);
    control[CONTROL.items] = items;
    control[CONTROL.taken] = 0;
    control[CONTROL.computed] = 0;
    control[CONTROL.done] = 0;
    this.failures.fill(0);
    Atomics.add(control, CONTROL.job, 1);
    Atomics.notify(control, CONTROL.job);
    // Woken by each worker as it finishes. A worker reports its own failures (see
    // data-parallel-worker.ts) and always finishes, so this wait ends.
    for (;;) {
      const done = Atomics.load(control, CONTROL.done);
      if (done >= this.workers) break;
      Atomics.wait(control, CONTROL.done, done);
    }
    const failure = this.firstFailure();
    if (failure) throw failure;
    this.itemsRun = items;
  }

  /**
   * Adds into `total` the gradients of the items of the last run(), one item after the other in
   * item order. A batch cut into several runs, each added in this way, has its items summed in
   * one order whatever the cut: the same total, bit for bit, for runs of any size, and so for
   * any number of workers. (The playground's GPT page cuts its steps so, to answer between runs.)
   */
  addGradients(total: Float64Array): void {
    const count = this.arena.parameters.length;
    if (total.length !== count) {
      throw new RangeError(`${this.name}: a total of ${total.length} gradients; the model has ${count}`);
    }
    if (this.itemsRun === 0) throw new Error(`${this.name}: no gradients to add: the last run failed`);
    const rows = this.rows;
    for (let item = 0; item < this.itemsRun; item++) {
      const offset = item * count;
      for (let i = 0; i < count; i++) total[i] += rows[offset + i];
    }
  }

  /** The results item `item` wrote in the last run(). */
  result(item: number): Float64Array {
    return this.results.subarray(item * this.resultStride, (item + 1) * this.resultStride);
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, CONTROL.job, -1);
    Atomics.notify(this.control, CONTROL.job);
    await Promise.all(this.threads.map((thread) => thread.terminate()));
  }

  /**
   * The error of the lowest item that failed. A worker goes on taking items after a failure and
   * reports the lowest of its own that failed, so every item has been tried: the error is the
   * one a single thread, going through the items in order, would meet first.
   */
  private firstFailure(): Error | undefined {
    let first = -1;
    for (let w = 0; w < this.workers; w++) {
      const item = this.failures[w * FAILURE.size + FAILURE.item];
      if (item !== 0 && (first < 0 || item < this.failures[first * FAILURE.size + FAILURE.item])) first = w;
    }
    if (first < 0) return undefined;
    const slot = first * FAILURE.size;
    const start = first * ERROR_BYTES;
    const text = new TextDecoder().decode(
      this.errors.slice(start, start + this.failures[slot + FAILURE.length]),
    );
    return this.failures[slot + FAILURE.range] === 1 ? new RangeError(text) : new Error(text);
  }
}

/**
 * The order in which the workers take the items: the longest first (ties by item). An item's
 * time grows with its length (a document's tokens), so the last items taken are short ones and
 * the workers finish about together. Which worker computes an item changes nothing in the
 * result: each item's gradient is computed from zero, and the sum is in item order.
 */
export function takingOrder(lengths: ArrayLike<number>, order: Int32Array): void {
  const items = Array.from({ length: lengths.length }, (_, item) => item);
  items.sort((x, y) => lengths[y] - lengths[x] || x - y);
  order.set(items);
}
