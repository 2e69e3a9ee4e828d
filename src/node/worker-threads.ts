// How a DataParallel pool (../data-parallel.ts) runs on Node: its workers are worker threads
// started on a file of this folder, and it defaults to the cores this process may use.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { StartWorker, WorkerData } from "../data-parallel.js";

/** The cores this process may use: what --workers defaults to. */
export function coresAvailable(): number {
  return availableParallelism();
}

/** Starts each worker as a thread on `script`, a file of this folder without extension ("gpt-worker"). */
export function threadsOn(script: string): StartWorker {
  return (workerData: WorkerData) => {
    const thread = threadBeside(import.meta.url, script, workerData);
    // Idle workers do not keep the process alive; a job in progress holds the main thread.
    thread.unref();
    return thread;
  };
}

/**
 * A worker thread on the module `name` (a path without extension) beside the module whose URL
 * is `base` (its import.meta.url): the built .js, or, when `base` is a source run under tsx (the
 * tests, the benchmark), the .ts, whose loader the thread registers first.
 */
export function threadBeside(base: string, name: string, workerData: unknown): Worker {
  if (base.endsWith(".ts")) {
    const source = JSON.stringify(new URL(`./${name}.ts`, base).href);
    return new Worker(
      `import("tsx/esm/api").then(({ register }) => { register(); return import(${source}); });`,
      { eval: true, workerData },
    );
  }
  return new Worker(new URL(`./${name}.js`, base), { workerData });
}
