// A `gpt train` run that can be stopped and continued: it trains in slices of about a
// second, so that between two of them a Ctrl-C is answered with a checkpoint; every
// --checkpoint-every steps it writes checkpoint.json into the run's folder, and best.json each
// time the held-out loss is the lowest yet. Each is written whole (atomically) or not at all.
import { existsSync, readFileSync, statSync } from "node:fs";
import { constants as os } from "node:os";
import { join } from "node:path";
import type { GPTCheckpoint } from "../checkpoint.js";
import type { GPT } from "../gpt.js";
import { type GPTStepRecord, type GPTTrainingData, type TrainGPTOptions, trainGPT } from "../gpt-train.js";
import { writeFileAtomic } from "../node/files.js";
import { UsageError } from "./flags.js";
import { readManifest, writeManifest } from "./output.js";

export const CHECKPOINT_FILE = "checkpoint.json";
export const BEST_FILE = "best.json";
/** Longest stretch of training between two chances to answer a Ctrl-C. */
const SLICE_MS = 1000;

/** A checkpoint as `gpt train` writes it: the library's, with the command's plan to continue it. */
export type RunCheckpoint<Plan> = GPTCheckpoint & { command: Plan; heldOutLoss?: number };

/** The checkpoint in `folder`, read for --resume: a usage error when there is none. */
export function readRunCheckpoint<Plan>(folder: string): RunCheckpoint<Plan> {
  const path = join(folder, CHECKPOINT_FILE);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new UsageError(
      `--resume ${folder}: no such folder; give the --out folder of a run trained with --checkpoint-every`,
    );
  }
  if (!existsSync(path)) {
    throw new UsageError(
      `--resume ${folder} holds no checkpoint (${CHECKPOINT_FILE}); a run writes one with --checkpoint-every N, or when Ctrl-C stops it`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`${path} is damaged: not JSON (${(error as Error).message}); it cannot be resumed`);
  }
  const command = (parsed as { command?: unknown } | null)?.command;
  if (typeof command !== "object" || command === null) {
    throw new Error(
      `${path} is damaged or not written by micrograd gpt train: it has no "command" to continue`,
    );
  }
  return parsed as RunCheckpoint<Plan>;
}

/** Lists `name` in the manifest of `folder`, so that later runs know it as this run's. */
export function listInManifest(folder: string, name: string): void {
  const listed = readManifest(folder);
  if (!listed.includes(name)) writeManifest(folder, [...listed, name]);
}

export interface SlicedRun<Plan> {
  out: string;
  command: Plan;
  checkpointEvery?: number;
  /** The best held-out loss of the run so far (a resumed run's, from its best.json). */
  bestHeldOut?: number;
}

/**
 * trainGPT in slices, continuing each from the checkpoint of the one before (the same weights to
 * the last bit as one call). Writes the checkpoints; on Ctrl-C, writes one and ends the process.
 */
export async function trainInSlices<Plan>(
  gpt: GPT,
  data: GPTTrainingData,
  options: TrainGPTOptions,
  run: SlicedRun<Plan>,
): Promise<{ losses: number[]; evaluations: { step: number; loss: number }[]; checkpoint: GPTCheckpoint }> {
  const losses: number[] = [];
  const evaluations: { step: number; loss: number }[] = [];
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second Ctrl-C while the checkpoint is written ends at once.
    if (interrupted !== undefined) process.exit(128 + (os.signals[signal] ?? 2));
    interrupted = signal;
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, onSignal);
  let best = run.bestHeldOut ?? Number.POSITIVE_INFINITY;
  let resume = options.resume;
  try {
    for (;;) {
      const sliceStarted = performance.now();
      let stopped = false;
      let measured: number | undefined;
      const result = trainGPT(gpt, data, {
        ...options,
        resume,
        onStep: (record: GPTStepRecord) => {
          options.onStep?.(record);
          const done = record.step + 1;
          measured = record.heldOutLoss;
          const checkpointDue = run.checkpointEvery !== undefined && done % run.checkpointEvery === 0;
          stopped = measured !== undefined || checkpointDue || performance.now() - sliceStarted > SLICE_MS;
          return stopped ? false : undefined;
        },
      });
      losses.push(...result.losses);
      evaluations.push(...result.evaluations);
      const checkpoint = result.checkpoint();
      const save = (file: string, heldOutLoss?: number) => {
        const content = {
          ...checkpoint,
          command: run.command,
          ...(heldOutLoss === undefined ? {} : { heldOutLoss }),
        };
        writeFileAtomic(join(run.out, file), `${JSON.stringify(content)}\n`);
        listInManifest(run.out, file);
      };
      if (measured !== undefined && measured < best) {
        best = measured;
        save(BEST_FILE, measured);
      }
      if (run.checkpointEvery !== undefined && checkpoint.step % run.checkpointEvery === 0)
        save(CHECKPOINT_FILE);
      if (!stopped) return { losses, evaluations, checkpoint };
      // Let a Ctrl-C that arrived during the slice be handled.
      await new Promise((resolve) => setImmediate(resolve));
      if (interrupted !== undefined) {
        save(CHECKPOINT_FILE);
        process.stderr.write(
          `\nmicrograd: interrupted (${interrupted}) at step ${checkpoint.step}; ${join(run.out, CHECKPOINT_FILE)} written: ` +
            `continue with micrograd gpt train --resume ${run.out}\n`,
        );
        process.exit(128 + (os.signals[interrupted] ?? 2));
      }
      resume = checkpoint;
    }
  } finally {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.off(signal, onSignal);
  }
}
