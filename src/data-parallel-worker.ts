// One worker of a DataParallel pool (data-parallel.ts), a Node thread or a Web Worker. For each
// job: the gradient of each item it takes (the next in the pool's taking order, while any are
// left) into that item's row, then, once every worker is there, the sum over the rows, in item order, of its slice of
// the parameters. The model's own worker code (node/gpt-worker.ts, node/mlp-worker.ts) says
// what an item's gradient is.
import { ParameterArena } from "./arena.js";
import { CONTROL, ERROR_BYTES, FAILURE, type WorkerData } from "./data-parallel.js";
import type { Value } from "./engine.js";

/** A worker's copy of the model: its parameters, and how to compute one item's gradient. */
export interface WorkerModel {
  /** In the order of the main thread's parameters. */
  parameters: readonly Value[];
  /**
   * Adds the gradient of one item into `arena.grad` (zero when called), replaying from the
   * weights in `arena.data`, and writes what the item reports (its loss…) into `results`.
   */
  gradient(item: { arena: ParameterArena; input: Float64Array; results: Float64Array }): void;
}

/**
 * Serves the pool's jobs until it is closed, with the model `setUp` makes from the pool's
 * `setup`; `shared` is what the pool started this worker with. Never returns before the pool
 * closes: it blocks on Atomics.wait between jobs.
 */
export function serveItems(shared: WorkerData, setUp: (setup: unknown) => WorkerModel): void {
  const { index, workers, inputStride, resultStride } = shared;
  const control = new Int32Array(shared.control);
  const failures = new Int32Array(shared.failures);
  const failure = failures.subarray(FAILURE.size * index, FAILURE.size * (index + 1));
  const errorBytes = new Uint8Array(shared.errors, ERROR_BYTES * index, ERROR_BYTES);
  const rows = new Float64Array(shared.rows);
  const sums = new Float64Array(shared.sums);
  const inputs = new Float64Array(shared.inputs);
  const inputLengths = new Int32Array(shared.inputLengths);
  const order = new Int32Array(shared.order);
  const results = new Float64Array(shared.results);

  let model: { worker: WorkerModel; arena: ParameterArena } | undefined;
  let setUpError: unknown;
  try {
    const worker = setUp(shared.setup);
    const count = worker.parameters.length;
    // The copy's own initial weights are never used: its replays read the shared ones.
    const arena = new ParameterArena(worker.parameters, {
      data: shared.data,
      grad: new ArrayBuffer(8 * count),
    });
    model = { worker, arena };
  } catch (error) {
    // Reported at the first job: the main thread is waiting for this worker then.
    setUpError = error;
  }
  const count = model?.arena.parameters.length ?? 0;

  /** A failure of this worker's, kept if it is its lowest item of the job yet, for the main thread to throw. */
  function fail(item: number, error: unknown): void {
    const reported = failure[FAILURE.item];
    if (reported !== 0 && reported <= item + 2) return;
    const message = error instanceof Error ? error.message : String(error);
    const bytes = new TextEncoder().encode(message).subarray(0, ERROR_BYTES);
    errorBytes.set(bytes);
    failure[FAILURE.length] = bytes.length;
    failure[FAILURE.range] = error instanceof RangeError ? 1 : 0;
    failure[FAILURE.item] = item + 2;
  }

  /**
   * Items as they are left to take, each from zero into its row. A worker that could not set up
   * its model takes none (the others compute them; the run throws its failure anyway).
   */
  function computeItems(items: number): void {
    if (!model) {
      fail(-1, setUpError);
      return;
    }
    const { worker, arena } = model;
    const grad = arena.grad;
    for (;;) {
      const taken = Atomics.add(control, CONTROL.taken, 1);
      if (taken >= items) return;
      const item = order[taken];
      grad.fill(0);
      const start = item * inputStride;
      try {
        worker.gradient({
          arena,
          input: inputs.subarray(start, start + inputLengths[item]),
          results: results.subarray(item * resultStride, (item + 1) * resultStride),
        });
      } catch (error) {
        // Going on: a lower item, not yet taken, may fail too, and its failure is the one to report.
        fail(item, error);
        continue;
      }
      rows.set(grad, item * count);
    }
  }

  /** This worker's slice of the parameters, summed over the items' rows in item order. */
  function sumSlice(items: number): void {
    const sliceStart = Math.floor((index * count) / workers);
    const sliceEnd = Math.floor(((index + 1) * count) / workers);
    for (let i = sliceStart; i < sliceEnd; i++) {
      let sum = rows[i];
      for (let item = 1; item < items; item++) sum += rows[item * count + i];
      sums[i] = sum;
    }
  }

  let job = 0;
  for (;;) {
    Atomics.wait(control, CONTROL.job, job);
    job = Atomics.load(control, CONTROL.job);
    if (job < 0) break;
    const items = control[CONTROL.items];
    computeItems(items);
    // Every row must be written before any slice is summed.
    Atomics.add(control, CONTROL.computed, 1);
    for (;;) {
      const computed = Atomics.load(control, CONTROL.computed);
      if (computed >= workers) break;
      Atomics.wait(control, CONTROL.computed, computed);
    }
    Atomics.notify(control, CONTROL.computed);
    // A failure anywhere leaves some rows unwritten; the main thread throws it.
    if (!failedAnywhere()) sumSlice(items);
    Atomics.add(control, CONTROL.done, 1);
    Atomics.notify(control, CONTROL.done);
  }

  function failedAnywhere(): boolean {
    for (let w = 0; w < workers; w++) if (failures[w * FAILURE.size + FAILURE.item] !== 0) return true;
    return false;
  }
}
