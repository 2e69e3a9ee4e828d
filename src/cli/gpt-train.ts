// `micrograd gpt train`: the flags (a table) → a plan (pure) → the documents and the sizes
// checked → the shared run (run.ts), with the GPT's files: model, history, loss curve, attention.
import { join, resolve } from "node:path";
import { GPT, GPT_DEFAULTS } from "../gpt.js";
import {
  evaluateGPT,
  GPT_TRAINING_DEFAULTS,
  sampleText,
  splitDocumentsForTraining,
  trainGPT,
} from "../gpt-train.js";
import { loadNames } from "../node/datasets.js";
import { MAX_FILE_BYTES, readTextFile, writeFileAtomic } from "../node/files.js";
import { coresAvailable, GPTWorkers } from "../node/gpt-workers.js";
import { saveGPT } from "../node/models.js";
import { BigramModel, CharTokenizer, splitDocuments } from "../tokenizer.js";
import { attentionSvg, lossCurveSvg, movingAverage } from "../viz/attention.js";
import {
  type Command,
  checkFitsBlock,
  checkInVocabulary,
  count,
  type FlagTable,
  type FlagValues,
  helpText,
  type Io,
  parseFlags,
  plural,
  printHelp,
  UsageError,
} from "./flags.js";
import { checkGPTSizes, type Limits, limitFlags, limitsOf } from "./limits.js";
import { checkOutputDirectory } from "./output.js";
import { GPT_PROGRESS_LEGEND, type Progress } from "./progress.js";
import {
  decimated,
  loadPictures,
  MAX_HISTORY_RECORDS,
  type RunFiles,
  runSession,
  writePictures,
} from "./run.js";
import { TrainingLog } from "./training-log.js";

const DATA = "Data";
const MODEL = "Model (the reference microgpt's sizes by default)";
const TRAINING = "Training (Adam, betas 0.85 and 0.99, learning rate decaying linearly to 0)";
const OUTPUT = "Output";
/** Held-out documents measured by --eval-every: the same ones each time, so that points compare. */
export const EVAL_SAMPLE = 500;

export const GPT_TRAIN = {
  name: "gpt train",
  intro: "micrograd gpt train — train a GPT, one document per step\n\nUsage: micrograd gpt train [options]",
  flags: {
    data: {
      kind: "path",
      value: "FILE",
      section: DATA,
      help:
        "a text file with one document per line (default: the shipped names);\n" +
        `a regular file of at most ${MAX_FILE_BYTES / 1024 / 1024} MB`,
    },
    "held-out": {
      kind: "number",
      value: "F",
      section: DATA,
      min: 0,
      below: 1,
      help: "fraction of the documents kept for measuring (default 0.1)",
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
      help: `transformer blocks (default ${GPT_DEFAULTS.nLayer})`,
    },
    embd: {
      kind: "integer",
      value: "N",
      section: MODEL,
      min: 1,
      help: `embedding width (default ${GPT_DEFAULTS.nEmbd})`,
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
      help: `longest context in tokens (default ${GPT_DEFAULTS.blockSize}); longer documents are truncated`,
    },
    steps: {
      kind: "integer",
      value: "N",
      section: TRAINING,
      min: 1,
      help: `optimizer steps (default ${GPT_TRAINING_DEFAULTS.steps})`,
    },
    batch: { kind: "integer", value: "N", section: TRAINING, min: 1, help: "documents per step (default 1)" },
    lr: {
      kind: "number",
      value: "X",
      section: TRAINING,
      above: 0,
      help: `starting learning rate (default ${GPT_TRAINING_DEFAULTS.lr})`,
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
        `${count(EVAL_SAMPLE)} held-out documents each time: shown on the progress line, in\n` +
        "log.jsonl and as its own line on the loss curve",
    },
    "no-compile": {
      kind: "switch",
      section: TRAINING,
      help:
        "train on the eager engine instead of the compiled replay (the same\n" +
        "numbers, about ten times slower; for comparison)",
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
export interface GPTTrainPlan {
  /** The text file, or undefined for the shipped names. */
  data?: string;
  heldOut: number;
  /** Seeds the held-out split. */
  splitSeed: number;
  config: { nLayer: number; nEmbd: number; nHead: number; blockSize: number };
  steps: number;
  batchSize: number;
  /** Worker threads, or undefined for the cores available; never more than the batch. */
  workers?: number;
  lr: number;
  seed: number;
  /** Measure the held-out loss every this many steps (and at the last); undefined: only at the end. */
  evalEvery?: number;
  compile: boolean;
  limits: Limits;
  out: string;
  /** The document whose attention is drawn; by default the first held-out one. */
  name?: string;
  temperature: number;
  pictures: boolean;
  quiet: boolean;
}

/** The plan of `micrograd gpt train` with these flags; a UsageError names the first wrong one. */
export function planGPTTraining(values: FlagValues<typeof GPT_TRAIN.flags>): GPTTrainPlan {
  const config = {
    nLayer: values.layers ?? GPT_DEFAULTS.nLayer,
    nEmbd: values.embd ?? GPT_DEFAULTS.nEmbd,
    nHead: values.heads ?? GPT_DEFAULTS.nHead,
    blockSize: values.block ?? GPT_DEFAULTS.blockSize,
  };
  if (config.nEmbd % config.nHead !== 0) {
    throw new UsageError(`--embd (${config.nEmbd}) must be a multiple of --heads (${config.nHead})`);
  }
  const compile = values["no-compile"] !== true;
  const batchSize = values.batch ?? 1;
  if (!compile && values.workers !== undefined && values.workers > 1) {
    throw new UsageError("--workers replays the compiled loss on each thread; drop --no-compile to use it");
  }
  const heldOut = values["held-out"] ?? 0.1;
  if (values["eval-every"] !== undefined && heldOut === 0) {
    throw new UsageError(
      "--eval-every measures held-out documents, and --held-out 0 keeps none; give --held-out a fraction",
    );
  }
  const seed = values.seed ?? 42;
  return {
    data: values.data,
    heldOut,
    splitSeed: values["split-seed"] ?? seed,
    config,
    steps: values.steps ?? GPT_TRAINING_DEFAULTS.steps,
    batchSize,
    workers: compile ? values.workers && Math.min(values.workers, batchSize) : 1,
    lr: values.lr ?? GPT_TRAINING_DEFAULTS.lr,
    seed,
    evalEvery: values["eval-every"],
    compile,
    limits: limitsOf(values),
    out: values.out ?? join("out", "gpt"),
    name: values.name,
    temperature: values.temperature ?? 0.5,
    pictures: values["no-pictures"] !== true,
    quiet: values.quiet === true,
  };
}

export async function gptTrain(args: string[], io: Io): Promise<number> {
  const { help, values } = parseFlags(GPT_TRAIN, args);
  if (help) return printHelp(helpText(GPT_TRAIN), io);
  const plan = planGPTTraining(values);
  const out = resolve(plan.out);
  checkOutputDirectory(out);
  const { tokenizer, train, test } = loadDocuments(plan, io);
  if (plan.name !== undefined)
    checkFitsBlock("name", checkInVocabulary("name", plan.name, tokenizer), plan.config.blockSize);
  const name = plan.name ?? tokenizer.decode(test[0] ?? train[0]);
  const gpt = new GPT({ vocabSize: tokenizer.vocabSize, ...plan.config, seed: plan.seed });
  const { nLayer, nEmbd, nHead, blockSize } = plan.config;
  const workers = Math.min(plan.workers ?? coresAvailable(), plan.batchSize);
  // Measured once training is done, before the files that record it; read by the summary.
  let measured: Measured | undefined;
  const log = new TrainingLog();
  return runSession({
    io,
    out,
    quiet: plan.quiet,
    announce:
      `training a GPT (${plural(nLayer, "layer")}, embd ${nEmbd}, ${nHead} heads, block ${blockSize}; ` +
      `${count(gpt.parameters().length)} parameters, vocabulary of ${tokenizer.vocabSize}) on ${count(train.length)} documents, ` +
      `${count(test.length)} held out${workers > 1 ? `, on ${workers} worker threads` : ""}`,
    progress: { total: plan.steps, legend: GPT_PROGRESS_LEGEND, timed: true },
    train: (progress) => {
      const pool = workers > 1 ? new GPTWorkers(gpt, { workers, maxBatch: plan.batchSize }) : undefined;
      try {
        return trainWatched(gpt, train, test.slice(0, EVAL_SAMPLE), plan, { progress, log, pool });
      } finally {
        // Idle workers do not hold the process; stopping them is not waited for.
        void pool?.close();
      }
    },
    files: async (losses) => {
      measured = measure(gpt, tokenizer, train, test, plan);
      const renderer = plan.pictures ? await loadPictures(io) : undefined;
      return runFiles(plan, { gpt, tokenizer, losses, log, measured, name }, renderer?.svgToPng);
    },
    summary: (losses, seconds) => {
      const { where, gptLoss, bigramLoss, samples } = measured as Measured;
      const lastLosses = movingAverage(losses, Math.min(100, losses.length));
      return (
        `trained ${plural(losses.length, "step")} in ${seconds.toFixed(1)} s (${((seconds * 1000) / losses.length).toFixed(1)} ms/step, ${plan.compile ? "compiled" : "eager"}${workers > 1 ? `, ${workers} workers` : ""}): ` +
        `training loss ${lastLosses[lastLosses.length - 1].toFixed(4)} (last ${Math.min(100, losses.length)} steps)\n` +
        `${where} loss per character: GPT ${gptLoss.toFixed(4)}, bigram ${bigramLoss.toFixed(4)}\n` +
        `samples (temperature ${plan.temperature}):\n${samples.map((s) => `  ${s === "" ? "(empty)" : s}\n`).join("")}`
      );
    },
  });
}

/**
 * Trains by the plan, telling the progress and the log of each step, and measuring the held-out
 * loss on `evalSample` every --eval-every steps and at the last. Returns the losses of the steps.
 */
function trainWatched(
  gpt: GPT,
  train: number[][],
  evalSample: number[][],
  plan: GPTTrainPlan,
  watch: { progress: Progress | undefined; log: TrainingLog; pool?: GPTWorkers },
): number[] {
  const { evalEvery, steps } = plan;
  // One document per step makes each step's loss jump; the bar shows the average of the last 100.
  let recent: number[] = [];
  let heldOut: number | undefined;
  return trainGPT(gpt, train, {
    steps,
    lr: plan.lr,
    batchSize: plan.batchSize,
    compile: plan.compile,
    workers: watch.pool,
    onStep: (record) => {
      const done = record.step + 1;
      const measuring = evalEvery !== undefined && (done % evalEvery === 0 || done === steps);
      const measured = measuring ? evaluateGPT(gpt, evalSample, { compile: plan.compile }) : undefined;
      if (measured !== undefined) heldOut = measured;
      recent.push(record.loss);
      if (recent.length > 100) recent = recent.slice(-100);
      const average = recent.reduce((a, b) => a + b, 0) / recent.length;
      watch.progress?.update({ step: record.step, loss: average, heldOutLoss: heldOut });
      watch.log.add({
        step: done,
        loss: record.loss,
        lr: record.lr,
        ...(measured === undefined ? {} : { heldOut: measured }),
      });
      return undefined;
    },
  }).losses;
}

/** The documents of the plan, their characters, and what the block leaves out. */
function loadDocuments(
  plan: GPTTrainPlan,
  io: Io,
): { tokenizer: CharTokenizer; train: number[][]; test: number[][] } {
  const source = plan.data ?? "the shipped names (data/names.txt)";
  const documents =
    plan.data === undefined ? loadNames() : splitDocuments(readTextFile(plan.data, { plainText: true }));
  if (documents.length === 0) {
    throw new Error(`${source} has no documents: every line is empty, so there is nothing to learn`);
  }
  const tokenizer = CharTokenizer.fromDocuments(documents);
  const { blockSize } = plan.config;
  // Each thread holds one document's graph (or trace) at a time: the batch does not add to it.
  const threads = Math.min(plan.workers ?? coresAvailable(), plan.batchSize);
  checkGPTSizes({ vocabSize: tokenizer.vocabSize, ...plan.config }, threads, plan.limits);
  const encoded = documents.map((doc) => tokenizer.encode(doc));
  const tooLong = documents.filter((doc) => Array.from(doc).length + 1 > blockSize);
  if (tooLong.length > 0) {
    const longest = tooLong.reduce((a, b) => (Array.from(b).length > Array.from(a).length ? b : a));
    io.stderr.write(
      `micrograd: note: ${count(tooLong.length)} of ${count(documents.length)} documents are longer than the block of ${blockSize} tokens ` +
        `(the longest has ${count(Array.from(longest).length)} characters); the model sees only their first ${blockSize} predictions\n`,
    );
  }
  const { train, test } = splitDocumentsForTraining(encoded, { heldOut: plan.heldOut, seed: plan.splitSeed });
  if (train.length === 0)
    throw new Error(`${source}: no documents left to train on after holding out ${plan.heldOut}`);
  return { tokenizer, train, test };
}

interface Measured {
  where: string;
  gptLoss: number;
  bigramLoss: number;
  samples: string[];
}

/** The losses of the GPT and of the bigram on the held-out documents, and the samples. */
function measure(
  gpt: GPT,
  tokenizer: CharTokenizer,
  train: number[][],
  test: number[][],
  plan: GPTTrainPlan,
): Measured {
  const bigram = BigramModel.fit(train, tokenizer.vocabSize);
  const measured = test.length > 0 ? test : train;
  return {
    where: test.length > 0 ? "held-out" : "training (nothing was held out)",
    gptLoss: evaluateGPT(gpt, measured),
    bigramLoss: bigram.loss(measured, plan.config.blockSize),
    samples: sampleText(gpt, tokenizer, { n: 20, temperature: plan.temperature, seed: plan.seed }),
  };
}

/** model.json and history.json, then the loss curve and the attention of `name`. */
function runFiles(
  plan: GPTTrainPlan,
  run: {
    gpt: GPT;
    tokenizer: CharTokenizer;
    losses: number[];
    log: TrainingLog;
    measured: Measured;
    name: string;
  },
  toPng: ((svg: string) => Uint8Array) | undefined,
): RunFiles {
  const { gpt, tokenizer, losses, measured } = run;
  const { gptLoss, bigramLoss, where } = measured;
  const { config, steps, batchSize, lr, seed, heldOut } = plan;
  return {
    essentials: (folder) => {
      saveGPT(join(folder, "model.json"), gpt, tokenizer, {
        data: plan.data ?? "names.txt",
        steps: losses.length,
        batchSize,
        lr,
        seed,
        [`${where === "held-out" ? "heldOut" : "train"}Loss`]: gptLoss,
        bigramLoss,
      });
      // A loss is up to 20 characters of JSON: a million of them are about 20 MB.
      const { kept, every } = decimated(losses, MAX_HISTORY_RECORDS * 10);
      const history = {
        config,
        steps,
        batchSize,
        lr,
        seed,
        heldOut,
        ...(every > 1 ? { lossesEvery: every } : {}),
        losses: kept,
        evaluation: { on: where, gpt: gptLoss, bigram: bigramLoss },
      };
      writeFileAtomic(join(folder, "history.json"), `${JSON.stringify(history)}\n`);
      // The log of a watched run: a plain run's history.json holds its losses.
      if (plan.evalEvery === undefined) return ["model.json", "history.json"];
      writeFileAtomic(join(folder, "log.jsonl"), run.log.text());
      return ["model.json", "history.json", "log.jsonl"];
    },
    pictures: plan.pictures
      ? (folder, onError) =>
          writePictures(
            folder,
            [
              {
                name: "loss",
                svg: () =>
                  lossCurveSvg(losses, {
                    title: `GPT training loss (${count(gpt.parameters().length)} parameters)`,
                    baselines: [{ label: "bigram, held-out", value: bigramLoss }],
                    heldOut: gptLoss,
                    heldOutCurve: run.log.heldOut,
                  }),
              },
              { name: "attention", svg: () => attentionPicture(gpt, tokenizer, run.name, 0) },
            ],
            toPng,
            onError,
          )
      : undefined,
  };
}

/** Heatmaps of one block's heads reading `name` (BOS, then its characters, up to the block). */
export function attentionPicture(gpt: GPT, tokenizer: CharTokenizer, name: string, layer: number): string {
  const tokens = [tokenizer.bos, ...tokenizer.encodeText(name)].slice(0, gpt.config.blockSize);
  const weights = gpt.attentionWeights(tokens)[layer];
  const labels = tokens.map((id) => (id === tokenizer.bos ? "BOS" : tokenizer.decode([id])));
  const title = `attention of "${name}", block ${layer}`;
  return attentionSvg(weights, labels, { title });
}
