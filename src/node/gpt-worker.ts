// One worker thread of GPTWorkers (gpt-workers.ts): a copy of the model whose compiled loss
// replays from the shared weights. For each batch: the gradient of each of its documents
// (every workers-th, from its index) into that document's row, then, once every worker is
// there, the sum over the rows, in document order, of its slice of the parameters.
import { workerData } from "node:worker_threads";
import { ParameterArena } from "../arena.js";
import { GPT } from "../gpt.js";
import { compiledLoss } from "../gpt-train.js";
import { CONTROL, ERROR_BYTES, type GPTWorkerData } from "./gpt-workers.js";

const shared = workerData as GPTWorkerData;
const { index, workers, config } = shared;
const control = new Int32Array(shared.control);
const weight = new Float64Array(shared.weight);
const tokens = new Int32Array(shared.tokens);
const lengths = new Int32Array(shared.lengths);
const losses = new Float64Array(shared.losses);
const rows = new Float64Array(shared.rows);
const sums = new Float64Array(shared.grad);
const errorBytes = new Uint8Array(shared.error);

/** The worker's copy of the model, its compiled loss replaying from the shared weights. */
function setUp() {
  // The copy's own initial weights are never used: its replays read the shared ones.
  const gpt = new GPT({ ...config, seed: 0 });
  const count = gpt.parameters().length;
  const arena = new ParameterArena(gpt.parameters(), { data: shared.data, grad: new ArrayBuffer(8 * count) });
  const loss = compiledLoss(gpt);
  loss.arena = arena;
  return { count, arena, loss };
}

const width = config.blockSize + 1;
let model: ReturnType<typeof setUp> | undefined;
let setUpError: unknown;
try {
  model = setUp();
} catch (error) {
  // Reported at the first batch: the main thread is waiting for this worker then.
  setUpError = error;
}

/** The first failure of the batch, for the main thread to throw. */
function fail(error: unknown): void {
  if (Atomics.compareExchange(control, CONTROL.failed, 0, 1) !== 0) return;
  const message = error instanceof Error ? error.message : String(error);
  const bytes = new TextEncoder().encode(message).subarray(0, ERROR_BYTES);
  errorBytes.set(bytes);
  control[CONTROL.errorLength] = bytes.length;
}

function computeDocuments(documents: number): void {
  if (!model) throw setUpError;
  const { arena, loss, count } = model;
  const grad = arena.grad;
  for (let d = index; d < documents; d += workers) {
    grad.fill(0);
    const document = Array.from(tokens.subarray(d * width, d * width + lengths[d]));
    const [weighted, documentLoss] = loss(document, weight[0]);
    weighted.backward();
    losses[d] = documentLoss.data;
    rows.set(grad, d * count);
  }
}

/** This worker's slice of the parameters, summed over the documents' rows in document order. */
function sumSlice(documents: number): void {
  const count = model?.count ?? 0;
  const sliceStart = Math.floor((index * count) / workers);
  const sliceEnd = Math.floor(((index + 1) * count) / workers);
  for (let i = sliceStart; i < sliceEnd; i++) {
    let sum = rows[i];
    for (let d = 1; d < documents; d++) sum += rows[d * count + i];
    sums[i] = sum;
  }
}

let job = 0;
for (;;) {
  Atomics.wait(control, CONTROL.job, job);
  job = Atomics.load(control, CONTROL.job);
  if (job < 0) break;
  const documents = control[CONTROL.documents];
  try {
    computeDocuments(documents);
  } catch (error) {
    fail(error);
  }
  // Every row must be written before any slice is summed.
  Atomics.add(control, CONTROL.computed, 1);
  for (;;) {
    const computed = Atomics.load(control, CONTROL.computed);
    if (computed >= workers) break;
    Atomics.wait(control, CONTROL.computed, computed);
  }
  Atomics.notify(control, CONTROL.computed);
  if (Atomics.load(control, CONTROL.failed) === 0) sumSlice(documents);
  Atomics.add(control, CONTROL.done, 1);
  Atomics.notify(control, CONTROL.done);
}
