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
    const thread = startThread(script, workerData);
    // Idle workers do not keep the process alive; a job in progress holds the main thread.
    thread.unref();
    return thread;
  };
}

function startThread(script: string, workerData: WorkerData): Worker {
  // From the build (.js), or from the sources under tsx, whose loader the worker registers first.
  if (import.meta.url.endsWith(".ts")) {
    const source = JSON.stringify(new URL(`./${script}.ts`, import.meta.url).href);
    return new Worker(
      `import("tsx/esm/api").then(({ register }) => { register(); return import(${source}); });`,
      { eval: true, workerData },
    );
  }
  return new Worker(new URL(`./${script}.js`, import.meta.url), { workerData });
}
