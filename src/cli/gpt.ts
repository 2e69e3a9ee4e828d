// `micrograd gpt`: train a character-level GPT on a text file (one document per line; the
// shipped names by default), sample from a saved one, and draw where its attention looks.
// Exit status: 0 done, 1 a file or the training failed, 2 the command line was wrong.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { GPT, GPT_DEFAULTS } from "../gpt.js";
import {
  evaluateGPT,
  GPT_TRAINING_DEFAULTS,
  sampleText,
  splitDocumentsForTraining,
  trainGPT,
} from "../gpt-train.js";
import { loadNames } from "../node/datasets.js";
import { readTextFile, writeFileAtomic } from "../node/files.js";
import { loadGPT, saveGPT } from "../node/models.js";
import { BigramModel, CharTokenizer, splitDocuments } from "../tokenizer.js";
import { attentionSvg, lossCurveSvg, movingAverage } from "../viz/attention.js";
import { Progress } from "./progress.js";

const HELP: Record<string, string> = {
  gpt: `micrograd gpt — a character-level GPT, trained on names (or any text) and sampled

Usage: micrograd gpt <train|sample|attention> [options]

  train       train on a text file, one document per line (default: 32,033 names)
  sample      generate new documents with a saved model
  attention   draw the attention weights of a saved model over one document

Run "micrograd gpt <command> --help" for the options.`,

  train: `micrograd gpt train — train a GPT, one document per step

Usage: micrograd gpt train [options]

Data:
  --data FILE       a text file with one document per line (default: the shipped names)
  --held-out F      fraction of the documents kept for measuring (default 0.1)

Model (the reference microgpt's sizes by default):
  --layers N        transformer blocks (default ${GPT_DEFAULTS.nLayer})
  --embd N          embedding width (default ${GPT_DEFAULTS.nEmbd})
  --heads N         attention heads, dividing --embd (default ${GPT_DEFAULTS.nHead})
  --block N         longest context in tokens (default ${GPT_DEFAULTS.blockSize}); longer documents are truncated

Training (Adam, betas 0.85 and 0.99, learning rate decaying linearly to 0):
  --steps N         optimizer steps (default ${GPT_TRAINING_DEFAULTS.steps})
  --batch N         documents per step (default 1)
  --lr X            starting learning rate (default ${GPT_TRAINING_DEFAULTS.lr})
  --seed N          seeds the weights, the shuffle and the samples (default 42)

Output:
  --out DIR         model.json, history.json, loss.svg/png, attention.svg/png (default out/gpt)
  --name TEXT       the document whose attention is drawn (default: the first held-out one)
  --temperature X   of the 20 samples printed at the end (default 0.5)
  --no-pictures     write no pictures
  --quiet           no progress bar`,

  sample: `micrograd gpt sample — generate with a saved GPT

Usage: micrograd gpt sample --model FILE [options]

Options:
  --model FILE      a model.json written by micrograd gpt train
  --n N             how many samples (default 20)
  --temperature X   > 0; lower is more conservative (default 0.5)
  --prefix TEXT     every sample starts with this text
  --seed N          the same seed gives the same samples (default 1)`,

  attention: `micrograd gpt attention — where each head looks, as heatmaps

Usage: micrograd gpt attention --model FILE --name TEXT [--layer N] [--out FILE]

Options:
  --model FILE      a model.json written by micrograd gpt train
  --name TEXT       the document to read (its characters must be in the model's vocabulary)
  --layer N         which block's heads (default 0)
  --out FILE        .svg or .png (default attention.svg)`,
};

/** The help of `micrograd gpt`, for `micrograd help gpt`. */
export const GPT_HELP = HELP.gpt;

/** The command line is wrong: exit status 2 with a pointer to the help. */
class UsageError extends Error {}

interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

/** Runs `micrograd gpt …` (argv without "gpt") and returns the exit status. */
export async function gptCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const topic = sub && sub in HELP && sub !== "gpt" ? sub : "gpt";
  try {
    switch (sub) {
      case undefined:
        io.stdout.write(`${HELP.gpt}\n`);
        return 2;
      case "help":
      case "--help":
      case "-h":
        io.stdout.write(`${HELP.gpt}\n`);
        return 0;
      case "train":
        return await train(rest, io);
      case "sample":
        return sample(rest, io);
      case "attention":
        return await attention(rest, io);
      default:
        throw new UsageError(`unknown gpt command "${sub}"; expected train, sample or attention`);
    }
  } catch (error) {
    const usage =
      error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    if (!usage) throw error;
    const command = topic === "gpt" ? "gpt" : `gpt ${topic}`;
    io.stderr.write(`micrograd: ${(error as Error).message}\nRun "micrograd ${command} --help" for usage.\n`);
    return 2;
  }
}

// ---- train ------------------------------------------------------------------------------

/** Every file a training run writes into its output folder. */
const OUTPUT_FILES = ["model.json", "history.json", "loss.svg", "loss.png", "attention.svg", "attention.png"];

async function train(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: "string" },
      "held-out": { type: "string" },
      layers: { type: "string" },
      embd: { type: "string" },
      heads: { type: "string" },
      block: { type: "string" },
      steps: { type: "string" },
      batch: { type: "string" },
      lr: { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      name: { type: "string" },
      temperature: { type: "string" },
      "no-pictures": { type: "boolean" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return help("train", io);
  const heldOut = numberFlag("held-out", values["held-out"], 0) ?? 0.1;
  if (heldOut >= 1) throw new UsageError(`--held-out must be below 1, got "${values["held-out"]}"`);
  const config = {
    nLayer: integerFlag("layers", values.layers, 1) ?? GPT_DEFAULTS.nLayer,
    nEmbd: integerFlag("embd", values.embd, 1) ?? GPT_DEFAULTS.nEmbd,
    nHead: integerFlag("heads", values.heads, 1) ?? GPT_DEFAULTS.nHead,
    blockSize: integerFlag("block", values.block, 1) ?? GPT_DEFAULTS.blockSize,
  };
  if (config.nEmbd % config.nHead !== 0) {
    throw new UsageError(`--embd (${config.nEmbd}) must be a multiple of --heads (${config.nHead})`);
  }
  const steps = integerFlag("steps", values.steps, 1) ?? GPT_TRAINING_DEFAULTS.steps;
  const batchSize = integerFlag("batch", values.batch, 1) ?? 1;
  const lr = numberFlag("lr", values.lr, 0, false) ?? GPT_TRAINING_DEFAULTS.lr;
  const seed = integerFlag("seed", values.seed, 0) ?? 42;
  const temperature = numberFlag("temperature", values.temperature, 0, false) ?? 0.5;
  const pictures = values["no-pictures"] !== true;
  const out = resolve(values.out ?? join("out", "gpt"));

  // The data: documents, their characters, and what the block leaves out.
  const source = values.data ?? "the shipped names (data/names.txt)";
  const documents = values.data === undefined ? loadNames() : splitDocuments(readTextFile(values.data));
  if (documents.length === 0) {
    throw new Error(`${source} has no documents: every line is empty, so there is nothing to learn`);
  }
  const tokenizer = CharTokenizer.fromDocuments(documents);
  const encoded = documents.map((doc) => tokenizer.encode(doc));
  const tooLong = documents.filter((doc) => Array.from(doc).length + 1 > config.blockSize);
  if (tooLong.length > 0) {
    const longest = tooLong.reduce((a, b) => (Array.from(b).length > Array.from(a).length ? b : a));
    io.stderr.write(
      `micrograd: note: ${tooLong.length} of ${documents.length} documents are longer than the block of ${config.blockSize} tokens ` +
        `(the longest has ${Array.from(longest).length} characters); the model sees only their first ${config.blockSize} predictions\n`,
    );
  }
  const { train: trainDocs, test: testDocs } = splitDocumentsForTraining(encoded, { heldOut, seed });
  if (trainDocs.length === 0)
    throw new Error(`${source}: no documents left to train on after holding out ${heldOut}`);
  let name = values.name;
  if (name !== undefined) {
    try {
      tokenizer.encodeText(name);
    } catch (error) {
      throw new UsageError(`--name: ${(error as Error).message}`);
    }
  }
  name ??= tokenizer.decode(testDocs[0] ?? trainDocs[0]);

  prepareOutputDirectory(out);
  const gpt = new GPT({ vocabSize: tokenizer.vocabSize, ...config, seed });
  const quiet = values.quiet === true;
  if (!quiet) {
    io.stdout.write(
      `training a GPT (${config.nLayer} layer${config.nLayer === 1 ? "" : "s"}, embd ${config.nEmbd}, ${config.nHead} heads, block ${config.blockSize}; ` +
        `${gpt.parameters().length} parameters, vocabulary of ${tokenizer.vocabSize}) on ${trainDocs.length} documents, ` +
        `${testDocs.length} held out\n`,
    );
  }
  const progress = quiet ? undefined : new Progress(io.stderr, steps);
  const started = performance.now();
  // One document per step makes each step's loss jump; the bar shows the average of the last 100.
  let recent: number[] = [];
  const { losses } = trainGPT(gpt, trainDocs, {
    steps,
    lr,
    batchSize,
    onStep: (record) => {
      recent.push(record.loss);
      if (recent.length > 100) recent = recent.slice(-100);
      progress?.update({ step: record.step, loss: recent.reduce((a, b) => a + b, 0) / recent.length });
      return undefined;
    },
  });
  progress?.finish();
  const seconds = (performance.now() - started) / 1000;

  const bigram = BigramModel.fit(trainDocs, tokenizer.vocabSize);
  const measured = testDocs.length > 0 ? testDocs : trainDocs;
  const where = testDocs.length > 0 ? "held-out" : "training (nothing was held out)";
  const gptLoss = evaluateGPT(gpt, measured);
  const bigramLoss = bigram.loss(measured, config.blockSize);
  const samples = sampleText(gpt, tokenizer, { n: 20, temperature, seed });

  const staging = mkdtempSync(join(out, ".micrograd-gpt-"));
  let written: string[];
  try {
    saveGPT(join(staging, "model.json"), gpt, tokenizer, {
      data: values.data ?? "names.txt",
      steps: losses.length,
      batchSize,
      lr,
      seed,
      [`${testDocs.length > 0 ? "heldOut" : "train"}Loss`]: gptLoss,
      bigramLoss,
    });
    writeFileAtomic(
      join(staging, "history.json"),
      `${JSON.stringify({ config, steps, batchSize, lr, seed, heldOut, losses, evaluation: { on: where, gpt: gptLoss, bigram: bigramLoss } })}\n`,
    );
    if (pictures) await writePictures(io, staging, { gpt, tokenizer, losses, gptLoss, bigramLoss, name });
    written = OUTPUT_FILES.filter((file) => existsSync(join(staging, file))).map((file) => {
      renameSync(join(staging, file), join(out, file));
      return join(out, file);
    });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }

  const lastLosses = movingAverage(losses, Math.min(100, losses.length));
  io.stdout.write(
    `trained ${losses.length} steps in ${seconds.toFixed(1)} s (${((seconds * 1000) / losses.length).toFixed(1)} ms/step): ` +
      `training loss ${lastLosses[lastLosses.length - 1].toFixed(4)} (last ${Math.min(100, losses.length)} steps)\n` +
      `${where} loss per character: GPT ${gptLoss.toFixed(4)}, bigram ${bigramLoss.toFixed(4)}\n`,
  );
  io.stdout.write(
    `samples (temperature ${temperature}):\n${samples.map((s) => `  ${s === "" ? "(empty)" : s}\n`).join("")}`,
  );
  io.stdout.write(`wrote:\n${written.map((path) => `  ${path}\n`).join("")}`);
  return 0;
}

interface PictureInputs {
  gpt: GPT;
  tokenizer: CharTokenizer;
  losses: number[];
  gptLoss: number;
  bigramLoss: number;
  name: string;
}

async function writePictures(io: Io, folder: string, inputs: PictureInputs): Promise<void> {
  const { gpt, tokenizer, losses, gptLoss, bigramLoss, name } = inputs;
  const svgs = {
    loss: lossCurveSvg(losses, {
      title: `GPT training loss (${gpt.parameters().length} parameters)`,
      baselines: [{ label: "bigram, held-out", value: bigramLoss }],
      heldOut: gptLoss,
    }),
    attention: attentionPicture(gpt, tokenizer, name, 0),
  };
  let svgToPng: ((svg: string) => Uint8Array) | undefined;
  try {
    svgToPng = (await import("../node/pictures.js")).svgToPng;
  } catch (error) {
    io.stderr.write(`micrograd: PNG pictures skipped (${(error as Error).message})\n`);
  }
  for (const [file, svg] of Object.entries(svgs)) {
    writeFileAtomic(join(folder, `${file}.svg`), svg);
    if (svgToPng) {
      try {
        writeFileAtomic(join(folder, `${file}.png`), svgToPng(svg));
      } catch (error) {
        io.stderr.write(`micrograd: ${file}.png skipped (${(error as Error).message})\n`);
        svgToPng = undefined;
      }
    }
  }
}

/** Heatmaps of one block's heads reading `name` (BOS, then its characters, up to the block). */
function attentionPicture(gpt: GPT, tokenizer: CharTokenizer, name: string, layer: number): string {
  const tokens = [tokenizer.bos, ...tokenizer.encodeText(name)].slice(0, gpt.config.blockSize);
  const weights = gpt.attentionWeights(tokens)[layer];
  const labels = tokens.map((id) => (id === tokenizer.bos ? "BOS" : tokenizer.decode([id])));
  const title = `attention of "${name}", block ${layer}`;
  return attentionSvg(weights, labels, { title });
}

// ---- sample -----------------------------------------------------------------------------

function sample(args: string[], io: Io): number {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      n: { type: "string" },
      temperature: { type: "string" },
      prefix: { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return help("sample", io);
  if (values.model === undefined) throw new UsageError("--model FILE is required");
  const n = integerFlag("n", values.n, 1) ?? 20;
  const temperature = numberFlag("temperature", values.temperature, 0, false) ?? 0.5;
  const seed = integerFlag("seed", values.seed, 0) ?? 1;
  const prefix = values.prefix ?? "";
  const { gpt, tokenizer } = loadGPT(values.model);
  try {
    const ids = tokenizer.encodeText(prefix);
    if (ids.length >= gpt.config.blockSize) {
      throw new Error(
        `it has ${ids.length} characters; the model's block of ${gpt.config.blockSize} leaves room for at most ${gpt.config.blockSize - 1}`,
      );
    }
  } catch (error) {
    throw new UsageError(`--prefix: ${(error as Error).message}`);
  }
  const samples = sampleText(gpt, tokenizer, { n, temperature, prefix, seed });
  io.stdout.write(samples.map((s) => `${s}\n`).join(""));
  return 0;
}

// ---- attention --------------------------------------------------------------------------

async function attention(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      name: { type: "string" },
      layer: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return help("attention", io);
  if (values.model === undefined) throw new UsageError("--model FILE is required");
  if (values.name === undefined || values.name === "") throw new UsageError("--name TEXT is required");
  const out = resolve(values.out ?? "attention.svg");
  const format = out.toLowerCase().endsWith(".png")
    ? "png"
    : out.toLowerCase().endsWith(".svg")
      ? "svg"
      : null;
  if (format === null) throw new UsageError(`--out must end in .svg or .png, got "${values.out}"`);
  const { gpt, tokenizer } = loadGPT(values.model);
  const layer = integerFlag("layer", values.layer, 0) ?? 0;
  if (layer >= gpt.config.nLayer) {
    throw new UsageError(`--layer ${layer}: the model has blocks 0..${gpt.config.nLayer - 1}`);
  }
  try {
    tokenizer.encodeText(values.name);
  } catch (error) {
    throw new UsageError(`--name: ${(error as Error).message}`);
  }
  const svg = attentionPicture(gpt, tokenizer, values.name, layer);
  if (format === "png") {
    const { svgToPng } = await import("../node/pictures.js");
    writeFileAtomic(out, svgToPng(svg));
  } else {
    writeFileAtomic(out, svg);
  }
  io.stdout.write(`wrote ${out}\n`);
  return 0;
}

// ---- flags ------------------------------------------------------------------------------

function help(topic: string, io: Io): number {
  io.stdout.write(`${HELP[topic]}\n`);
  return 0;
}

function numberFlag(
  name: string,
  text: string | undefined,
  min: number,
  inclusive = true,
): number | undefined {
  if (text === undefined) return undefined;
  const x = Number(text);
  if (text.trim() === "" || !Number.isFinite(x) || (inclusive ? x < min : x <= min)) {
    throw new UsageError(`--${name} must be a number ${inclusive ? ">=" : ">"} ${min}, got "${text}"`);
  }
  return x;
}

function integerFlag(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const x = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || x < min || x > 1_000_000_000) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got "${text}"`);
  }
  return x;
}

/** Checks, before any training, that `out` is (or can be made) a folder we can write our files into. */
function prepareOutputDirectory(out: string): void {
  if (existsSync(out) && !statSync(out).isDirectory()) {
    throw new Error(`--out ${out} exists and is not a folder; choose another path`);
  }
  try {
    mkdirSync(out, { recursive: true });
    rmSync(mkdtempSync(join(out, ".micrograd-check-")), { recursive: true });
  } catch (error) {
    throw new Error(
      `--out ${out}: cannot write there (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  for (const file of OUTPUT_FILES) {
    const path = join(out, file);
    if (existsSync(path) && !statSync(path).isFile()) {
      throw new Error(`${path} exists and is not a file; move it away or choose another --out`);
    }
  }
}
