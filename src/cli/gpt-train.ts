// `micrograd gpt train`: the flags (a table) → a plan (pure: every flag checked, the defaults
// filled in) → the run (gpt-train-run.ts). A resumed run's plan is its checkpoint's.
import { join } from "node:path";
import { GPT_DEFAULTS } from "../gpt.js";
import { defaultLearningRate, GPT_TRAINING_DEFAULTS } from "../gpt-train.js";
import { MAX_FILE_BYTES } from "../node/files.js";
import { type Command, count, type FlagTable, type FlagValues, notBoth, UsageError } from "./flags.js";
import type { DataPlan } from "./gpt-data.js";
import { limitFlags, limitsOf } from "./limits.js";

const DATA = "Data";
const CHECKPOINTS = "Checkpoints";
const MODEL = "Model (the reference microgpt's sizes by default)";
const TRAINING = "Training (Adam, betas 0.85 and 0.99, learning rate decaying linearly to 0)";
const OUTPUT = "Output";
/**
 * The model and batch of `--text` unless flags say otherwise: 2 layers 48 wide, a block of 32
 * characters, 8 windows a step (63,168 parameters on Tiny Shakespeare). Measured on Tiny
 * Shakespeare at a fixed number of characters seen, each step's cost beside it (README, "Running
 * text"): a second layer costs about 1.5× a step and gains more than 1.5× the characters would at
 * one layer, 48 wide about 1.7× and more than 1.7× the characters at 32; a third layer gained
 * nothing; a block of 64 (4 windows) and a batch of 4 did no better. Names keep the reference's.
 */
export const TEXT_DEFAULTS = { nLayer: 2, nEmbd: 48, blockSize: 32, batchSize: 8 } as const;
/**
 * The learning rate `--text` starts from at one width, scaled by the width rule at another
 * (0.0067 at 48): measured at 2 layers 32 wide, where 0.01 beat 0.005 and 0.015.
 */
export const TEXT_LEARNING_RATE = { lr: 0.01, nEmbd: 32 } as const;
/** Held-out documents measured by --eval-every: the same ones each time, so that points compare. */
export const EVAL_SAMPLE = 500;

export const GPT_TRAIN = {
  name: "gpt train",
  intro:
    "micrograd gpt train — train a GPT on documents (one per line) or running text\n\n" +
    "Usage: micrograd gpt train [options]\n       micrograd gpt train --resume DIR",
  flags: {
    data: {
      kind: "path",
      value: "FILE",
      section: DATA,
      help:
        "a text file with one document per line (default: the shipped names);\n" +
        `a regular file of at most ${MAX_FILE_BYTES / 1024 / 1024} MB`,
    },
    text: {
      kind: "switch",
      section: DATA,
      help:
        "read --data as running text, one stream of characters: the first 90% is\n" +
        "trained on, each step on --batch windows of --block characters drawn at\n" +
        "random, and the last 10% (--held-out) is measured, as nanoGPT's shakespeare_char",
    },
    "held-out": {
      kind: "number",
      value: "F",
      section: DATA,
      min: 0,
      below: 1,
      help: "fraction of the documents (or of the text) kept for measuring (default 0.1)",
    },
    "split-seed": {
      kind: "integer",
      value: "N",
      section: DATA,
      min: 0,
      help: "seeds which documents are held out (default: --seed), so that runs of\ndifferent --seed can be measured on the same held-out documents",
    },
    layers: {
      kind: "integer",
      value: "N",
      section: MODEL,
      min: 1,
      help: `transformer blocks (default ${GPT_DEFAULTS.nLayer}; with --text ${TEXT_DEFAULTS.nLayer})`,
    },
    embd: {
      kind: "integer",
      value: "N",
      section: MODEL,
      min: 1,
      help: `embedding width (default ${GPT_DEFAULTS.nEmbd}; with --text ${TEXT_DEFAULTS.nEmbd})`,
    },
    heads: {
      kind: "integer",
      value: "N",
      section: MODEL,
      min: 1,
      help: `attention heads, dividing --embd (default ${GPT_DEFAULTS.nHead})`,
    },
    block: {
      kind: "integer",
      value: "N",
      section: MODEL,
      min: 1,
      help: `longest context in tokens (default ${GPT_DEFAULTS.blockSize}; with --text ${TEXT_DEFAULTS.blockSize}); longer\ndocuments are truncated`,
    },
    steps: {
      kind: "integer",
      value: "N",
      section: TRAINING,
      min: 1,
      help: `optimizer steps (default ${GPT_TRAINING_DEFAULTS.steps})`,
    },
    batch: {
      kind: "integer",
      value: "N",
      section: TRAINING,
      min: 1,
      help: `documents (or windows of text) per step (default 1; with --text ${TEXT_DEFAULTS.batchSize})`,
    },
    lr: {
      kind: "number",
      value: "X",
      section: TRAINING,
      above: 0,
      help:
        `starting learning rate (default ${GPT_TRAINING_DEFAULTS.lr} × ${GPT_DEFAULTS.nEmbd} / --embd: the reference's rate at its\n` +
        "width, scaled down as the width grows, as width-aware recipes (μP) scale Adam's;\n" +
        `with --text ${TEXT_LEARNING_RATE.lr} × ${TEXT_LEARNING_RATE.nEmbd} / --embd)`,
    },
    "weight-decay": {
      kind: "number",
      value: "X",
      section: TRAINING,
      min: 0,
      help: "AdamW's decoupled weight decay (default 0: Adam, as the reference)",
    },
    warmup: {
      kind: "integer",
      value: "N",
      section: TRAINING,
      min: 0,
      help: "steps over which the rate climbs from 0 to --lr before it decays (default 0)",
    },
    schedule: {
      kind: "choice",
      value: "NAME",
      section: TRAINING,
      choices: ["linear", "cosine", "constant"],
      help: "the decay after the warm-up, to 0 at the last step (default linear, the reference's)",
    },
    clip: {
      kind: "number",
      value: "X",
      section: TRAINING,
      above: 0,
      help: "clip the gradients to this global norm before each update (default: none)",
    },
    time: {
      kind: "number",
      value: "SECONDS",
      section: TRAINING,
      above: 0,
      help:
        "train for this long instead of --steps: the steps, and so the schedule, are\n" +
        "fitted to the budget from the speed measured in the first seconds",
    },
    seed: {
      kind: "integer",
      value: "N",
      section: TRAINING,
      min: 0,
      help: "seeds the weights, the shuffle and the samples (default 42)",
    },
    workers: {
      kind: "integer",
      value: "N",
      section: TRAINING,
      min: 1,
      help:
        "worker threads sharing each batch (default: the cores available, at most\n" +
        "--batch; 1 trains on this thread). The same steps whatever the number",
    },
    "eval-every": {
      kind: "integer",
      value: "N",
      section: TRAINING,
      min: 1,
      help:
        `measure the held-out loss every N steps and at the last, on the same\n` +
        `${count(EVAL_SAMPLE)} held-out documents (or windows of text) each time: on the progress line, in\n` +
        "log.jsonl and as its own line on the loss curve",
    },
    "no-compile": {
      kind: "switch",
      section: TRAINING,
      help:
        "train on the eager engine instead of the compiled replay (the same\n" +
        "numbers, about ten times slower; for comparison)",
    },
    "checkpoint-every": {
      kind: "integer",
      value: "N",
      section: CHECKPOINTS,
      min: 1,
      help:
        "write checkpoint.json (weights, Adam's moments, step, schedule, random state,\n" +
        "data position) into --out every N steps, and when Ctrl-C stops the run;\n" +
        "best.json keeps the checkpoint of the lowest held-out loss; log.jsonl grows\n" +
        "as training goes",
    },
    resume: {
      kind: "path",
      value: "DIR",
      section: CHECKPOINTS,
      help:
        "continue the run whose --out is DIR from its checkpoint, with its settings and\n" +
        "data: to the same weights, to the last bit, as if it had not stopped",
    },
    ...limitFlags("model", "a smaller --embd or --block, or fewer --workers"),
    out: {
      kind: "path",
      value: "DIR",
      section: OUTPUT,
      help:
        "model.json, history.json, loss.svg/png, attention.svg/png, and log.jsonl\n" +
        "with --eval-every (default out/gpt); an earlier run's files there are\n" +
        "replaced as a set, other files are left alone",
    },
    name: {
      kind: "text",
      value: "TEXT",
      section: OUTPUT,
      help: "the document whose attention is drawn (default: the first held-out one)",
    },
    temperature: {
      kind: "number",
      value: "X",
      section: OUTPUT,
      above: 0,
      help: "of the 20 samples printed at the end (default 0.5)",
    },
    "no-pictures": { kind: "switch", section: OUTPUT, help: "write no pictures" },
    quiet: { kind: "switch", section: OUTPUT, help: "no progress bar" },
  },
} as const satisfies Command<FlagTable>;

/** Everything `gpt train` does, decided from the flags alone. */
export interface GPTTrainPlan extends DataPlan {
  steps?: number;
  /** Worker threads, or undefined for the cores available; never more than the batch. */
  workers?: number;
  /** Seconds of a run on a time budget, instead of `steps`. */
  time?: number;
  lr: number;
  weightDecay: number;
  warmup: number;
  schedule: "linear" | "cosine" | "constant";
  clip?: number;
  seed: number;
  /** Measure the held-out loss every this many steps (and at the last); undefined: only at the end. */
  evalEvery?: number;
  checkpointEvery?: number;
  compile: boolean;
  out: string;
  /** The document whose attention is drawn; by default the first held-out one. */
  name?: string;
  temperature: number;
  pictures: boolean;
  quiet: boolean;
}

/** The flags a resumed run may still take: the rest comes from its checkpoint. */
const RESUME_FLAGS = ["resume", "quiet", "no-pictures", "temperature", "name"];

/** The plan of `micrograd gpt train` with these flags; a UsageError names the first wrong one. */
export function planGPTTraining(values: FlagValues<typeof GPT_TRAIN.flags>): GPTTrainPlan {
  const text = values.text === true;
  // Running text: a context of a line or so, several windows a step (see TEXT_DEFAULTS).
  const defaults = text ? { ...GPT_DEFAULTS, ...TEXT_DEFAULTS } : { ...GPT_DEFAULTS, batchSize: 1 };
  const config = {
    nLayer: values.layers ?? defaults.nLayer,
    nEmbd: values.embd ?? defaults.nEmbd,
    nHead: values.heads ?? defaults.nHead,
    blockSize: values.block ?? defaults.blockSize,
  };
  if (config.nEmbd % config.nHead !== 0) {
    throw new UsageError(`--embd (${config.nEmbd}) must be a multiple of --heads (${config.nHead})`);
  }
  const heldOut = values["held-out"] ?? 0.1;
  if (values["eval-every"] !== undefined && heldOut === 0) {
    throw new UsageError(
      "--eval-every measures held-out documents, and --held-out 0 keeps none; give --held-out a fraction",
    );
  }
  if (text && values.data === undefined) {
    throw new UsageError("--text needs --data FILE: the shipped names are one document per line");
  }
  if (text && values["split-seed"] !== undefined) {
    throw new UsageError("--split-seed shuffles documents; running text (--text) holds out its last part");
  }
  notBoth(values, "steps", "time");
  const steps = values.time === undefined ? (values.steps ?? GPT_TRAINING_DEFAULTS.steps) : undefined;
  const warmup = values.warmup ?? 0;
  if (steps !== undefined && warmup >= steps) {
    throw new UsageError(`--warmup ${warmup} must be shorter than the run (${count(steps)} steps)`);
  }
  const seed = values.seed ?? 42;
  const compile = values["no-compile"] !== true;
  const batchSize = values.batch ?? defaults.batchSize;
  if (!compile && values.workers !== undefined && values.workers > 1) {
    throw new UsageError("--workers replays the compiled loss on each thread; drop --no-compile to use it");
  }
  return {
    data: values.data,
    text,
    heldOut,
    splitSeed: values["split-seed"] ?? seed,
    config,
    steps,
    time: values.time,
    batchSize,
    workers: compile ? values.workers && Math.min(values.workers, batchSize) : 1,
    lr: values.lr ?? defaultLearningRate(config.nEmbd, text ? TEXT_LEARNING_RATE : undefined),
    weightDecay: values["weight-decay"] ?? 0,
    warmup,
    schedule: values.schedule ?? "linear",
    clip: values.clip,
    seed,
    evalEvery: values["eval-every"],
    checkpointEvery: values["checkpoint-every"],
    compile,
    limits: limitsOf(values),
    out: values.out ?? join("out", "gpt"),
    name: values.name,
    temperature: values.temperature ?? 0.5,
    pictures: values["no-pictures"] !== true,
    quiet: values.quiet === true,
  };
}

/** The plan of a resumed run: its checkpoint's, with the few flags a resumed run takes. */
export function planResume(
  values: FlagValues<typeof GPT_TRAIN.flags>,
  saved: GPTTrainPlan,
  folder: string,
): GPTTrainPlan {
  const other = Object.keys(values).find((name) => !RESUME_FLAGS.includes(name));
  if (other !== undefined) {
    throw new UsageError(
      `--resume continues the run as it was planned, from its checkpoint; --${other} cannot change it (start a new run with another --out for that)`,
    );
  }
  return {
    ...saved,
    out: folder,
    ...(values.name === undefined ? {} : { name: values.name }),
    ...(values.temperature === undefined ? {} : { temperature: values.temperature }),
    pictures: values["no-pictures"] !== true,
    quiet: values.quiet === true,
  };
}
