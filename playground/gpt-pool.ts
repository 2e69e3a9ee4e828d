// Training on several cores in the browser: the GPT page's training worker (gpt-worker.ts) is
// the waiting side of the library's data-parallel pool (GPTParallel) and starts its workers as
// Web Workers (gpt-pool-worker.ts). The weights are shared in a SharedArrayBuffer, which a
// browser gives only to a cross-origin isolated page: one served with the headers
// Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, as
// serve.ts sends them.
import { type GPT, GPTParallel } from "../src/index.js";

/** Whether this context may share memory with workers, and so train on several. */
export function canShareMemory(): boolean {
  return globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === "function";
}

/**
 * A pool of `workers` Web Workers computing the gradients of `gpt`'s loss on up to `maxBatch`
 * documents a call (a step may be several calls: see GPTParallel.addGradients). A call blocks
 * this thread until the workers are done, so none may be made before `started` resolves: a
 * browser starts a worker's worker with the help of the thread that created it. `started`
 * rejects (and the pool is closed) if a worker cannot start.
 */
export function startPool(
  gpt: GPT,
  workers: number,
  maxBatch: number,
): { pool: GPTParallel; started: Promise<void> } {
  const starts: Promise<void>[] = [];
  const pool = new GPTParallel(gpt, {
    name: "the GPT page's workers",
    workers,
    maxBatch,
    start(data) {
      // Beside this worker's own script, wherever the bundler put the code that runs this line.
      const worker = new Worker(new URL("gpt-pool-worker.js", self.location.href), {
        type: "module",
        name: `GPT pool worker ${data.index + 1} of ${data.workers}`,
      });
      starts.push(
        new Promise((resolve, reject) => {
          worker.onmessage = () => resolve();
          worker.onerror = (event) => {
            event.preventDefault();
            reject(new Error(`a worker could not start (${event.message || "its script did not load"})`));
          };
        }),
      );
      worker.postMessage(data);
      return worker;
    },
  });
  const started = Promise.all(starts).then(
    () => undefined,
    async (error: unknown) => {
      await pool.close();
      throw error;
    },
  );
  return { pool, started };
}
