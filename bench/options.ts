// The command line of `npm run bench`, and where its results go: out/bench/ (not tracked by
// git) unless --save asks to update the table committed in bench/results/.
import { fileURLToPath } from "node:url";

export interface BenchOptions {
  /** Repetitions of each workload; the medians are reported. */
  reps: number;
  quick: boolean;
  /** Write into bench/results/, the committed table, instead of out/bench/. */
  save: boolean;
  /** The folder that receives latest.md and latest.json. */
  outDir: string;
  /** The workloads to run (all by default). */
  only: Workload[];
}

export const WORKLOADS = ["demo", "chains", "digits", "gpt", "ladder", "workers", "graph"] as const;
export type Workload = (typeof WORKLOADS)[number];

export const USAGE = `usage: npm run bench -- [--reps N] [--quick] [--save] [--only ${WORKLOADS.join(",")}]`;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const SAVED_RESULTS_DIR = `${ROOT}bench/results`;
export const SCRATCH_RESULTS_DIR = `${ROOT}out/bench`;

/** Reads the arguments after the script's name; throws a RangeError naming what is wrong. */
export function parseBenchArgs(args: readonly string[]): BenchOptions {
  let reps: number | undefined;
  let quick = false;
  let save = false;
  let only: Workload[] = [...WORKLOADS];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--quick") quick = true;
    else if (arg === "--save") save = true;
    else if (arg === "--reps") {
      reps = Number(args[++i]);
      if (!Number.isInteger(reps) || reps < 1) {
        throw new RangeError(`--reps must be a positive integer, got ${args[i] ?? "nothing"}`);
      }
    } else if (arg === "--only") {
      const names = (args[++i] ?? "").split(",");
      for (const name of names) {
        if (!(WORKLOADS as readonly string[]).includes(name)) {
          throw new RangeError(`--only: unknown workload "${name}"; expected ${WORKLOADS.join(", ")}`);
        }
      }
      only = names as Workload[];
    } else {
      throw new RangeError(`unknown argument "${arg}"`);
    }
  }
  return {
    reps: reps ?? (quick ? 3 : 9),
    quick,
    save,
    outDir: save ? SAVED_RESULTS_DIR : SCRATCH_RESULTS_DIR,
    only,
  };
}
