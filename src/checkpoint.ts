// A GPT training run as plain data, to stop and continue it: the weights, Adam's moments, the
// step, the schedule, the state of the random numbers that draw windows, the position in the
// documents, and the configuration and data it belongs to. Resuming from a checkpoint of step
// k and training to step n gives the same weights, to the last bit, as one run of n steps.
import type { GPTConfig } from "./gpt.js";
import type { AdamState } from "./optim.js";

export const CHECKPOINT_FORMAT = "micrograd-gpt-checkpoint";
export const CHECKPOINT_VERSION = 1;

/** What a run was asked to do: a checkpoint resumes only a run asked the same. */
export interface TrainingPlan {
  /** Steps of the whole run (for a run on a time budget, as fitted to the budget; null before). */
  steps: number | null;
  lr: number;
  betas: [number, number];
  eps: number;
  batchSize: number;
  weightDecay: number;
  warmup: number;
  schedule: "linear" | "cosine" | "constant";
  clip: number | null;
  seed: number;
  /** Seconds of a run on a time budget, or null. */
  time: number | null;
}

/** Which data a run trains on, without the data itself: its kind, size and a hash of its ids. */
export interface DataIdentity {
  kind: "documents" | "text";
  /** Documents, or ids of running text. */
  size: number;
  /** FNV-1a over every id (and the end of every document), as 8 hex digits. */
  fingerprint: string;
}

export interface GPTCheckpoint {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  config: GPTConfig;
  plan: TrainingPlan;
  data: DataIdentity;
  /** Steps completed. */
  step: number;
  /** The loss of the last step completed. */
  lastLoss: number | null;
  /** Seconds spent training so far (what remains of a time budget is counted from it). */
  elapsed: number;
  weights: Record<string, number[][]>;
  optimizer: AdamState;
  /** The state of the generator that draws windows of running text. */
  random: number;
  /** The next document to read. */
  position: number;
}

/** The identity of documents or of running text. */
export function dataIdentity(
  kind: DataIdentity["kind"],
  sequences: Iterable<ArrayLike<number>>,
  size: number,
): DataIdentity {
  let hash = 0x811c9dc5;
  const mix = (x: number) => {
    hash ^= x;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  };
  for (const ids of sequences) {
    for (let i = 0; i < ids.length; i++) mix(ids[i] + 1);
    mix(0);
  }
  return { kind, size, fingerprint: hash.toString(16).padStart(8, "0") };
}

/**
 * Throws unless `checkpoint` is a whole checkpoint of this configuration, plan and data; the
 * message names every difference ("lr: 0.01 in the checkpoint, 0.02 now").
 */
export function checkCheckpoint(
  where: string,
  checkpoint: unknown,
  expected: { config: GPTConfig; plan: TrainingPlan; data: DataIdentity },
): GPTCheckpoint {
  const given = checkpoint as Partial<GPTCheckpoint> | null;
  if (typeof given !== "object" || given === null || given.format !== CHECKPOINT_FORMAT) {
    throw new TypeError(
      `${where}: not a micrograd GPT checkpoint (its format is not "${CHECKPOINT_FORMAT}")`,
    );
  }
  if (given.version !== CHECKPOINT_VERSION) {
    throw new RangeError(
      `${where}: the checkpoint is of version ${String(given.version)}; this micrograd reads version ${CHECKPOINT_VERSION}`,
    );
  }
  const missing = ["config", "plan", "data", "weights", "optimizer"].find(
    (key) =>
      typeof given[key as keyof GPTCheckpoint] !== "object" || given[key as keyof GPTCheckpoint] === null,
  );
  const counts = ["step", "elapsed", "random", "position"].find(
    (key) =>
      typeof given[key as keyof GPTCheckpoint] !== "number" ||
      !Number.isFinite(given[key as keyof GPTCheckpoint]),
  );
  if (missing !== undefined || counts !== undefined) {
    throw new RangeError(
      `${where}: the checkpoint is damaged: "${missing ?? counts}" is missing or not valid`,
    );
  }
  const differences = [
    ...differ(
      "",
      given.config as unknown as Record<string, unknown>,
      expected.config as unknown as Record<string, unknown>,
    ),
    ...differ(
      "",
      given.plan as unknown as Record<string, unknown>,
      expected.plan as unknown as Record<string, unknown>,
    ),
    ...differ(
      "data ",
      given.data as unknown as Record<string, unknown>,
      expected.data as unknown as Record<string, unknown>,
    ),
  ];
  if (differences.length > 0) {
    throw new RangeError(
      `${where}: the checkpoint is of another run: ${differences.join("; ")} (resume with the settings and data it was made with)`,
    );
  }
  const checked = given as GPTCheckpoint;
  if (!Number.isInteger(checked.step) || checked.step < 0) {
    throw new RangeError(`${where}: the checkpoint is damaged: step ${checked.step} is not a count of steps`);
  }
  return checked;
}

/** Each key whose value differs, as "name: theirs in the checkpoint, ours now". */
function differ(prefix: string, theirs: Record<string, unknown>, ours: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(ours), ...Object.keys(theirs)]);
  const out: string[] = [];
  for (const key of keys) {
    // A budget run's steps are fitted to the speed; the budget itself is what must agree.
    if (key === "steps" && ours.time !== null && ours.time !== undefined) continue;
    const a = JSON.stringify(theirs[key]);
    const b = JSON.stringify(ours[key]);
    if (a !== b) out.push(`${prefix}${key}: ${a ?? "none"} in the checkpoint, ${b ?? "none"} now`);
  }
  return out;
}
