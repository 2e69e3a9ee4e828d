// The run of `gpt train`: the data, the model, training (in slices that answer Ctrl-C with a
// checkpoint when the run keeps checkpoints), the measurement beside the bigram, the samples,
// then the files as one set through the shared run (run.ts).
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { GPT } from "../gpt.js";
import { evaluateGPT, type GPTStepRecord, sampleText, type TrainGPTOptions, trainGPT } from "../gpt-train.js";
import { writeFileAtomic } from "../node/files.js";
import { coresAvailable, GPTWorkers } from "../node/gpt-workers.js";
import { saveGPT } from "../node/models.js";
import { BigramModel, type CharTokenizer } from "../tokenizer.js";
import { attentionSvg, lossCurveSvg, movingAverage } from "../viz/attention.js";
import { shortened } from "../viz/svg.js";
import {
  checkFitsBlock,
  checkInVocabulary,
  count,
  helpText,
  type Io,
  parseFlags,
  plural,
  printHelp,
  UsageError,
} from "./flags.js";
import {
  BEST_FILE,
  CHECKPOINT_FILE,
  listInManifest,
  type RunCheckpoint,
  readRunCheckpoint,
  trainInSlices,
} from "./gpt-checkpoints.js";
import { loadTrainingData, type TrainingData, textStart } from "./gpt-data.js";
import { EVAL_SAMPLE, GPT_TRAIN, type GPTTrainPlan, planGPTTraining, planResume } from "./gpt-train.js";
import { claimOutputDirectory } from "./output.js";
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

/** Windows of held-out text measured at the end: a fixed spread over it. */
const FINAL_WINDOWS = 2000;
/** Characters of each sample of a running-text model. */
const TEXT_SAMPLE_LENGTH = 200;

export async function gptTrain(args: string[], io: Io): Promise<number> {
  const { help, values } = parseFlags(GPT_TRAIN, args);
  if (help) return printHelp(helpText(GPT_TRAIN), io);
  let resumed: RunCheckpoint<GPTTrainPlan> | undefined;
  let plan: GPTTrainPlan;
  if (values.resume !== undefined) {
    const folder = resolve(values.resume);
    resumed = readRunCheckpoint<GPTTrainPlan>(folder);
    plan = planResume(values, resumed.command, folder);
  } else {
    plan = planGPTTraining(values);
    // Kept with the checkpoints, so that a resumed run reads the same file from anywhere.
    if (plan.data !== undefined) plan = { ...plan, data: resolve(plan.data) };
  }
  const out = resolve(plan.out);
  plan = { ...plan, out };
  claimOutputDirectory(out, "gpt");
  const checkpointed = plan.checkpointEvery !== undefined || resumed !== undefined;
  if (checkpointed && resumed === undefined && existsSync(join(out, CHECKPOINT_FILE))) {
    throw new UsageError(
      `--out ${out} holds the checkpoint of an earlier run (${CHECKPOINT_FILE}); continue it with --resume ${out}, or choose another --out`,
    );
  }
  const data = loadTrainingData(plan, io);
  // A run that keeps checkpoints writes them, and its log, into its folder as it trains.
  if (checkpointed) {
    mkdirSync(out, { recursive: true });
    listInManifest(out, "log.jsonl");
  }
  const { tokenizer } = data;
  if (plan.name !== undefined)
    checkFitsBlock("name", checkInVocabulary("name", plan.name, tokenizer), plan.config.blockSize);
  const name = plan.name ?? defaultName(data, plan.config.blockSize);
  const gpt = new GPT({ vocabSize: tokenizer.vocabSize, ...plan.config, seed: plan.seed });
  const workers = Math.min(plan.workers ?? coresAvailable(), plan.batchSize);
  const log = new TrainingLog(checkpointed ? join(out, "log.jsonl") : undefined, resumed?.step);
  let measured: Measured | undefined;
  return runSession({
    io,
    out,
    quiet: plan.quiet,
    announce:
      announce(gpt, data, plan, resumed?.step) + (workers > 1 ? `, on ${workers} worker threads` : ""),
    progress: { total: plan.steps ?? 0, legend: GPT_PROGRESS_LEGEND, timed: true },
    train: async (progress) => {
      // The pool shares the weights as they are when it starts: a resumed run's, loaded first.
      if (resumed) gpt.loadStateDict(resumed.weights);
      const pool = workers > 1 ? new GPTWorkers(gpt, { workers, maxBatch: plan.batchSize }) : undefined;
      const options = { ...watch(plan, data, progress, log), workers: pool };
      try {
        if (!checkpointed) {
          const { losses, evaluations } = trainGPT(gpt, data.train, options);
          return { losses, evaluations };
        }
        return await trainInSlices(
          gpt,
          data.train,
          { ...options, ...(resumed ? { resume: resumed } : {}) },
          {
            out,
            command: plan,
            checkpointEvery: plan.checkpointEvery,
            bestHeldOut: bestSoFar(out, resumed),
          },
        );
      } finally {
        // Idle workers do not hold the process; stopping them is not waited for.
        void pool?.close();
      }
    },
    files: async (trained) => {
      announceMeasurement(io, gpt, data, plan);
      measured = measure(gpt, data, plan);
      const renderer = plan.pictures ? await loadPictures(io) : undefined;
      return runFiles(
        plan,
        { gpt, tokenizer, ...trained, log, measured, name, checkpointed },
        renderer?.svgToPng,
      );
    },
    summary: (trained, seconds) => summary(plan, trained.losses, measured as Measured, seconds, workers),
  });
}

/** trainGPT's options from the plan, telling the progress and the log of each step. */
function watch(
  plan: GPTTrainPlan,
  data: TrainingData,
  progress: Progress | undefined,
  log: TrainingLog,
): TrainGPTOptions {
  // One document per step makes each step's loss jump; the bar shows the average of the last 100.
  let recent: number[] = [];
  let heldOut: number | undefined;
  return {
    ...(plan.steps === undefined ? { time: plan.time } : { steps: plan.steps }),
    lr: plan.lr,
    batchSize: plan.batchSize,
    weightDecay: plan.weightDecay,
    warmup: plan.warmup,
    schedule: plan.schedule,
    ...(plan.clip === undefined ? {} : { clip: plan.clip }),
    seed: plan.seed,
    compile: plan.compile,
    ...(plan.evalEvery === undefined || plan.heldOut === 0
      ? {}
      : { heldOut: data.test, evalEvery: plan.evalEvery, evalSize: EVAL_SAMPLE }),
    onStep: (record: GPTStepRecord) => {
      if (record.heldOutLoss !== undefined) heldOut = record.heldOutLoss;
      recent.push(record.loss);
      if (recent.length > 100) recent = recent.slice(-100);
      if (progress && record.steps > 0) progress.total = record.steps;
      const average = recent.reduce((a, b) => a + b, 0) / recent.length;
      progress?.update({ step: record.step, loss: average, heldOutLoss: heldOut });
      log.add({
        step: record.step + 1,
        loss: record.loss,
        lr: record.lr,
        heldOut: record.heldOutLoss,
        seconds: record.elapsed,
      });
      return undefined;
    },
  };
}

function announce(gpt: GPT, data: TrainingData, plan: GPTTrainPlan, resumedAt: number | undefined): string {
  const { nLayer, nEmbd, nHead, blockSize } = plan.config;
  const what =
    data.kind === "text"
      ? `${count(data.train.length)} characters of running text, ${count(data.test.length)} held out`
      : `${count(data.train.length)} documents, ${count(data.test.length)} held out`;
  return (
    `${resumedAt === undefined ? "training" : `resuming at step ${count(resumedAt)}:`} a GPT (${plural(nLayer, "layer")}, embd ${nEmbd}, ${nHead} heads, block ${blockSize}; ` +
    `${count(gpt.parameters().length)} parameters, vocabulary of ${data.tokenizer.vocabSize}) on ${what}` +
    `${plan.time === undefined ? "" : `, for ${count(plan.time)} s`}`
  );
}

/** The attention picture's default: the first held-out document, or the start of the held-out text. */
function defaultName(data: TrainingData, blockSize: number): string {
  if (data.kind === "documents") return data.tokenizer.decode(data.test[0] ?? data.train[0]);
  const source = data.test.length > 1 ? data.test : data.train;
  return data.tokenizer.decode(Array.from(source.ids.subarray(0, blockSize - 1)));
}

/** The held-out loss of the best checkpoint kept in `out`, if any. */
function bestSoFar(out: string, resumed: RunCheckpoint<GPTTrainPlan> | undefined): number | undefined {
  if (resumed === undefined || !existsSync(join(out, BEST_FILE))) return undefined;
  try {
    const best = JSON.parse(readFileSync(join(out, BEST_FILE), "utf8")) as { heldOutLoss?: unknown };
    return typeof best.heldOutLoss === "number" ? best.heldOutLoss : undefined;
  } catch {
    return undefined;
  }
}

interface Measured {
  where: string;
  gptLoss: number;
  bigramLoss: number;
  samples: string[];
}

/** Each position costs about one multiply-add per parameter: say so when measuring takes seconds. */
function announceMeasurement(io: Io, gpt: GPT, data: TrainingData, plan: GPTTrainPlan): void {
  const { blockSize } = plan.config;
  let positions = 0;
  let what: string;
  if (data.kind === "documents") {
    const measured = data.test.length > 0 ? data.test : data.train;
    for (const doc of measured) positions += Math.min(blockSize, doc.length - 1);
    what = plural(measured.length, "document");
  } else {
    const windows = Math.min(
      FINAL_WINDOWS,
      (data.test.count(blockSize) > 0 ? data.test : data.train).count(blockSize),
    );
    positions = windows * blockSize;
    what = plural(windows, "window");
  }
  if (!plan.quiet && positions * gpt.parameters().length >= 1e8) {
    io.stderr.write(`micrograd: measuring the trained model on ${what} (${count(positions)} positions)…\n`);
  }
}

/** The losses of the GPT and of the bigram on the held-out data, and the samples. */
function measure(gpt: GPT, data: TrainingData, plan: GPTTrainPlan): Measured {
  const { tokenizer } = data;
  const { blockSize } = plan.config;
  if (data.kind === "documents") {
    const bigram = BigramModel.fit(data.train, tokenizer.vocabSize);
    const measured = data.test.length > 0 ? data.test : data.train;
    return {
      where: data.test.length > 0 ? "held-out" : "training (nothing was held out)",
      gptLoss: evaluateGPT(gpt, measured),
      bigramLoss: bigram.loss(measured, blockSize),
      samples: sampleText(gpt, tokenizer, { n: 20, temperature: plan.temperature, seed: plan.seed }),
    };
  }
  const bigram = BigramModel.fit([Array.from(data.train.ids)], tokenizer.vocabSize);
  const heldOut = data.test.count(blockSize) > 0;
  const windows = (heldOut ? data.test : data.train).spread(FINAL_WINDOWS, blockSize);
  return {
    where: heldOut ? "held-out" : "training (nothing was held out)",
    gptLoss: evaluateGPT(gpt, windows),
    bigramLoss: bigram.loss(windows),
    samples: textSamples(gpt, tokenizer, plan),
  };
}

/**
 * Samples of a running-text model: 200 characters after a line break (as nanoGPT starts its
 * samples), the context sliding past the block. Five: each is several lines.
 */
function textSamples(gpt: GPT, tokenizer: CharTokenizer, plan: GPTTrainPlan): string[] {
  const prefix = textStart(tokenizer);
  const samples = sampleText(gpt, tokenizer, {
    n: 5,
    temperature: plan.temperature,
    seed: plan.seed,
    prefix,
    text: true,
    length: TEXT_SAMPLE_LENGTH,
  });
  return samples.map((sample) => sample.slice(prefix.length));
}

function summary(
  plan: GPTTrainPlan,
  losses: number[],
  measured: Measured,
  seconds: number,
  workers: number,
): string {
  const { where, gptLoss, bigramLoss, samples } = measured;
  const lastLosses = movingAverage(losses, Math.max(1, Math.min(100, losses.length)));
  const shown = (text: string) => (text === "" ? "(empty)" : text.replace(/\n/g, "⏎"));
  return (
    `trained ${plural(losses.length, "step")} in ${seconds.toFixed(1)} s (${((seconds * 1000) / Math.max(1, losses.length)).toFixed(1)} ms/step, ${plan.compile ? "compiled" : "eager"}${workers > 1 ? `, ${workers} workers` : ""}): ` +
    `training loss ${(lastLosses[lastLosses.length - 1] ?? Number.NaN).toFixed(4)} (last ${Math.min(100, losses.length)} steps)\n` +
    `${where} loss per character: GPT ${gptLoss.toFixed(4)}, bigram ${bigramLoss.toFixed(4)}\n` +
    `samples (temperature ${plan.temperature}):\n${samples.map((s) => `  ${shown(s)}\n`).join("")}`
  );
}

/** model.json, history.json (and the log), then the loss curve and the attention of `name`. */
function runFiles(
  plan: GPTTrainPlan,
  run: {
    gpt: GPT;
    tokenizer: CharTokenizer;
    losses: number[];
    evaluations: { step: number; loss: number }[];
    log: TrainingLog;
    measured: Measured;
    name: string;
    checkpointed: boolean;
  },
  toPng: ((svg: string) => Uint8Array) | undefined,
): RunFiles {
  const { gpt, tokenizer, measured, log } = run;
  const { gptLoss, bigramLoss, where } = measured;
  const { config, batchSize, lr, seed, heldOut } = plan;
  // A resumed run's curve and history begin where its first part began: the log keeps them.
  const losses = run.checkpointed ? log.losses : run.losses;
  return {
    essentials: (folder) => {
      saveGPT(join(folder, "model.json"), gpt, tokenizer, {
        data: plan.data ?? "names.txt",
        ...(plan.text ? { text: true } : {}),
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
        steps: plan.steps ?? losses.length,
        batchSize,
        lr,
        seed,
        heldOut,
        ...(plan.text ? { text: true } : {}),
        ...(every > 1 ? { lossesEvery: every } : {}),
        losses: kept,
        ...(log.heldOut.length > 0 ? { heldOutLosses: log.heldOut } : {}),
        evaluation: { on: where, gpt: gptLoss, bigram: bigramLoss },
      };
      writeFileAtomic(join(folder, "history.json"), `${JSON.stringify(history)}\n`);
      // The log of a watched run: a plain run's history.json holds its losses.
      if (plan.evalEvery === undefined && !run.checkpointed) return ["model.json", "history.json"];
      writeFileAtomic(join(folder, "log.jsonl"), log.text());
      const files = ["model.json", "history.json", "log.jsonl"];
      // The checkpoints written during the run stay with it (the set's names include them).
      for (const file of [CHECKPOINT_FILE, BEST_FILE]) {
        if (existsSync(join(plan.out, file))) {
          writeFileAtomic(join(folder, file), readFileSync(join(plan.out, file)));
          files.push(file);
        }
      }
      return files;
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
                    heldOutCurve: log.heldOut,
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
  // Only what the block holds is drawn (and encoded): a document may be millions of characters.
  const drawn: string[] = [];
  for (const character of name) {
    if (drawn.length === gpt.config.blockSize - 1) break;
    drawn.push(character);
  }
  const tokens = [tokenizer.bos, ...tokenizer.encodeText(drawn.join(""))];
  const weights = gpt.attentionWeights(tokens)[layer];
  const labels = tokens.map((id) => (id === tokenizer.bos ? "BOS" : tokenizer.decode([id])));
  const cut = drawn.join("") === name ? "" : "…";
  const title = `attention of "${shortened(drawn.join(""), 60)}${cut}", block ${layer}`;
  return attentionSvg(weights, labels, { title });
}
