// `micrograd gpt`: train a character-level GPT on a text file (one document per line; the
// shipped names by default), sample from a saved one, and draw where its attention looks.
// Exit status: 0 done, 1 a file or the training failed, 2 the command line was wrong.
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
import { MAX_FILE_BYTES, readTextFile, writeFileAtomic } from "../node/files.js";
import { loadGPT, saveGPT } from "../node/models.js";
import { BigramModel, CharTokenizer, splitDocuments } from "../tokenizer.js";
import { attentionSvg, lossCurveSvg, movingAverage } from "../viz/attention.js";
import {
  count,
  type Io,
  integerFlag,
  isUsageError,
  MLP_MODEL_HINT,
  NO_COMPILE_OPTION,
  negativeValues,
  numberFlag,
  pathFlag,
  printHelp,
  reportUsageError,
  UsageError,
} from "./flags.js";
import { checkGPTSizes, LIMIT_OPTIONS, limitFlags, MAX_GRAPH, MAX_PARAMS } from "./limits.js";
import { checkOutputDirectory } from "./output.js";
import { GPT_PROGRESS_LEGEND, Progress } from "./progress.js";
import { decimated, loadPictures, MAX_HISTORY_RECORDS, reportWritten, writeRunFiles } from "./run.js";

/** Samples one `gpt sample` prints at the most: about a millisecond each, two minutes in all. */
const MAX_SAMPLES = 100_000;

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
  --data FILE       a text file with one document per line (default: the shipped names);
                    a regular file of at most ${MAX_FILE_BYTES / 1024 / 1024} MB
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
  --no-compile      train on the eager engine instead of the compiled replay (the same
                    numbers, about ten times slower; for comparison)

Limits (checked before training starts):
  --max-params N    refuse a model with more parameters (default ${count(MAX_PARAMS)})
  --max-graph N     refuse a step that builds more values than this (default ${count(MAX_GRAPH)},
                    about 1 GB); a smaller --batch, --embd or --block makes a step smaller

Output:
  --out DIR         model.json, history.json, loss.svg/png, attention.svg/png (default out/gpt);
                    an earlier run's files there are replaced as a set, other files are left alone
  --name TEXT       the document whose attention is drawn (default: the first held-out one)
  --temperature X   of the 20 samples printed at the end (default 0.5)
  --no-pictures     write no pictures
  --quiet           no progress bar`,

  sample: `micrograd gpt sample — generate with a saved GPT

Usage: micrograd gpt sample --model FILE [options]

Options:
  --model FILE      a model.json written by micrograd gpt train
  --n N             how many samples (default 20, at most ${count(MAX_SAMPLES)})
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

/** Runs `micrograd gpt …` (argv without "gpt") and returns the exit status. */
export async function gptCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const topic = sub && sub in HELP && sub !== "gpt" ? sub : "gpt";
  try {
    switch (sub) {
      case undefined:
        printHelp(HELP.gpt, io);
        return 2;
      case "help":
      case "--help":
      case "-h":
        return printHelp(HELP.gpt, io);
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
    if (!isUsageError(error)) throw error;
    return reportUsageError(io, error as Error, topic === "gpt" ? "gpt" : `gpt ${topic}`);
  }
}

// ---- train ------------------------------------------------------------------------------

async function train(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: negativeValues(args),
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
      ...NO_COMPILE_OPTION,
      ...LIMIT_OPTIONS,
      out: { type: "string" },
      name: { type: "string" },
      temperature: { type: "string" },
      "no-pictures": { type: "boolean" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return printHelp(HELP.train, io);
  // Every flag is checked before any work, so a typo costs nothing.
  const dataPath = pathFlag("data", values.data);
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
  const limits = limitFlags(values);
  const temperature = numberFlag("temperature", values.temperature, 0, false) ?? 0.5;
  const pictures = values["no-pictures"] !== true;
  const out = resolve(pathFlag("out", values.out) ?? join("out", "gpt"));
  checkOutputDirectory(out);

  // The data: documents, their characters, and what the block leaves out.
  const source = dataPath ?? "the shipped names (data/names.txt)";
  const documents =
    dataPath === undefined ? loadNames() : splitDocuments(readTextFile(dataPath, { plainText: true }));
  if (documents.length === 0) {
    throw new Error(`${source} has no documents: every line is empty, so there is nothing to learn`);
  }
  const tokenizer = CharTokenizer.fromDocuments(documents);
  checkGPTSizes({ vocabSize: tokenizer.vocabSize, ...config }, batchSize, limits);
  const encoded = documents.map((doc) => tokenizer.encode(doc));
  const tooLong = documents.filter((doc) => Array.from(doc).length + 1 > config.blockSize);
  if (tooLong.length > 0) {
    const longest = tooLong.reduce((a, b) => (Array.from(b).length > Array.from(a).length ? b : a));
    io.stderr.write(
      `micrograd: note: ${count(tooLong.length)} of ${count(documents.length)} documents are longer than the block of ${config.blockSize} tokens ` +
        `(the longest has ${count(Array.from(longest).length)} characters); the model sees only their first ${config.blockSize} predictions\n`,
    );
  }
  const { train: trainDocs, test: testDocs } = splitDocumentsForTraining(encoded, { heldOut, seed });
  if (trainDocs.length === 0)
    throw new Error(`${source}: no documents left to train on after holding out ${heldOut}`);
  if (values.name !== undefined)
    checkFitsBlock("name", checkInVocabulary("name", values.name, tokenizer), config.blockSize);
  const name = values.name ?? tokenizer.decode(testDocs[0] ?? trainDocs[0]);

  const gpt = new GPT({ vocabSize: tokenizer.vocabSize, ...config, seed });
  const quiet = values.quiet === true;
  if (!quiet) {
    io.stdout.write(
      `training a GPT (${config.nLayer} layer${config.nLayer === 1 ? "" : "s"}, embd ${config.nEmbd}, ${config.nHead} heads, block ${config.blockSize}; ` +
        `${count(gpt.parameters().length)} parameters, vocabulary of ${tokenizer.vocabSize}) on ${count(trainDocs.length)} documents, ` +
        `${count(testDocs.length)} held out\n`,
    );
  }
  const progress = quiet ? undefined : new Progress(io.stderr, steps);
  if (progress) progress.legend = GPT_PROGRESS_LEGEND;
  const started = performance.now();
  // One document per step makes each step's loss jump; the bar shows the average of the last 100.
  let recent: number[] = [];
  const { losses } = trainGPT(gpt, trainDocs, {
    steps,
    lr,
    batchSize,
    compile: values["no-compile"] !== true,
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

  const renderer = pictures ? await loadPictures(io) : undefined;
  const files = await writeRunFiles(io, out, {
    essentials: (folder) => {
      saveGPT(join(folder, "model.json"), gpt, tokenizer, {
        data: dataPath ?? "names.txt",
        steps: losses.length,
        batchSize,
        lr,
        seed,
        [`${testDocs.length > 0 ? "heldOut" : "train"}Loss`]: gptLoss,
        bigramLoss,
      });
      const evaluation = { on: where, gpt: gptLoss, bigram: bigramLoss };
      // A loss is up to 20 characters of JSON: a million of them are about 20 MB.
      const { kept, every } = decimated(losses, MAX_HISTORY_RECORDS * 10);
      const decimation = every > 1 ? { lossesEvery: every } : {};
      const history = {
        config,
        steps,
        batchSize,
        lr,
        seed,
        heldOut,
        ...decimation,
        losses: kept,
        evaluation,
      };
      writeFileAtomic(join(folder, "history.json"), `${JSON.stringify(history)}\n`);
      return ["model.json", "history.json"];
    },
    pictures: pictures
      ? (folder, onError) =>
          writePictures(folder, {
            loss: () =>
              lossCurveSvg(losses, {
                title: `GPT training loss (${count(gpt.parameters().length)} parameters)`,
                baselines: [{ label: "bigram, held-out", value: bigramLoss }],
                heldOut: gptLoss,
              }),
            attention: () => attentionPicture(gpt, tokenizer, name, 0),
            toPng: renderer?.svgToPng,
            onError,
          })
      : undefined,
  });

  const lastLosses = movingAverage(losses, Math.min(100, losses.length));
  io.stdout.write(
    `trained ${count(losses.length)} step${losses.length === 1 ? "" : "s"} in ${seconds.toFixed(1)} s (${((seconds * 1000) / losses.length).toFixed(1)} ms/step, ${values["no-compile"] ? "eager" : "compiled"}): ` +
      `training loss ${lastLosses[lastLosses.length - 1].toFixed(4)} (last ${Math.min(100, losses.length)} steps)\n` +
      `${where} loss per character: GPT ${gptLoss.toFixed(4)}, bigram ${bigramLoss.toFixed(4)}\n`,
  );
  io.stdout.write(
    `samples (temperature ${temperature}):\n${samples.map((s) => `  ${s === "" ? "(empty)" : s}\n`).join("")}`,
  );
  reportWritten(io, files);
  return 0;
}

interface Pictures {
  loss: () => string;
  attention: () => string;
  /** Without a renderer (an optional package missing), only the SVGs are written. */
  toPng?: (svg: string) => Uint8Array;
  onError: (name: string, error: Error) => void;
}

/**
 * Writes loss.svg/png and attention.svg/png into `folder`, each atomically; a picture that fails
 * is reported and the others are still written. Returns the names written.
 */
async function writePictures(folder: string, pictures: Pictures): Promise<string[]> {
  const written: string[] = [];
  const attempt = async (name: string, make: () => string | Uint8Array) => {
    // Between pictures, let a Ctrl-C handler run.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      writeFileAtomic(join(folder, name), make());
      written.push(name);
      return true;
    } catch (error) {
      pictures.onError(name, error as Error);
      return false;
    }
  };
  for (const [file, draw] of [
    ["loss", pictures.loss],
    ["attention", pictures.attention],
  ] as const) {
    let svg = "";
    const drawn = await attempt(`${file}.svg`, () => {
      svg = draw();
      return svg;
    });
    const { toPng } = pictures;
    if (drawn && toPng) await attempt(`${file}.png`, () => toPng(svg));
  }
  return written;
}

/** Heatmaps of one block's heads reading `name` (BOS, then its characters, up to the block). */
function attentionPicture(gpt: GPT, tokenizer: CharTokenizer, name: string, layer: number): string {
  const tokens = [tokenizer.bos, ...tokenizer.encodeText(name)].slice(0, gpt.config.blockSize);
  const weights = gpt.attentionWeights(tokens)[layer];
  const labels = tokens.map((id) => (id === tokenizer.bos ? "BOS" : tokenizer.decode([id])));
  const title = `attention of "${name}", block ${layer}`;
  return attentionSvg(weights, labels, { title });
}

/** Text given on the command line must be made of the model's characters: a usage error names the one that is not. */
function checkInVocabulary(flag: string, text: string, tokenizer: CharTokenizer): number[] {
  try {
    return tokenizer.encodeText(text);
  } catch (error) {
    throw new UsageError(`--${flag}: ${(error as Error).message}`);
  }
}

/** The model reads BOS and then the text within its block: a longer text is refused, not cut. */
function checkFitsBlock(flag: string, ids: readonly number[], blockSize: number): void {
  if (ids.length >= blockSize) {
    throw new UsageError(
      `--${flag}: it has ${count(ids.length)} characters; the model's block of ${count(blockSize)} leaves room for at most ${count(blockSize - 1)}`,
    );
  }
}

// ---- sample -----------------------------------------------------------------------------

function sample(args: string[], io: Io): number {
  const { values } = parseArgs({
    args: negativeValues(args),
    options: {
      model: { type: "string" },
      n: { type: "string" },
      temperature: { type: "string" },
      prefix: { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return printHelp(HELP.sample, io);
  const modelPath = pathFlag("model", values.model);
  if (modelPath === undefined) throw new UsageError("--model FILE is required");
  const n = integerFlag("n", values.n, 1, MAX_SAMPLES) ?? 20;
  const temperature = numberFlag("temperature", values.temperature, 0, false) ?? 0.5;
  const seed = integerFlag("seed", values.seed, 0) ?? 1;
  const prefix = values.prefix ?? "";
  const { gpt, tokenizer } = loadGPT(modelPath, { otherKind: MLP_MODEL_HINT });
  checkFitsBlock("prefix", checkInVocabulary("prefix", prefix, tokenizer), gpt.config.blockSize);
  const samples = sampleText(gpt, tokenizer, { n, temperature, prefix, seed });
  io.stdout.write(samples.map((s) => `${s}\n`).join(""));
  return 0;
}

// ---- attention --------------------------------------------------------------------------

async function attention(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: negativeValues(args),
    options: {
      model: { type: "string" },
      name: { type: "string" },
      layer: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return printHelp(HELP.attention, io);
  const modelPath = pathFlag("model", values.model);
  if (modelPath === undefined) throw new UsageError("--model FILE is required");
  if (values.name === undefined || values.name === "") throw new UsageError("--name TEXT is required");
  const out = resolve(pathFlag("out", values.out) ?? "attention.svg");
  const format = out.toLowerCase().endsWith(".png")
    ? "png"
    : out.toLowerCase().endsWith(".svg")
      ? "svg"
      : null;
  if (format === null) throw new UsageError(`--out must end in .svg or .png, got "${values.out}"`);
  const layer = integerFlag("layer", values.layer, 0) ?? 0;
  const { gpt, tokenizer } = loadGPT(modelPath, { otherKind: MLP_MODEL_HINT });
  if (layer >= gpt.config.nLayer) {
    throw new UsageError(`--layer ${layer}: the model has blocks 0..${gpt.config.nLayer - 1}`);
  }
  checkFitsBlock("name", checkInVocabulary("name", values.name, tokenizer), gpt.config.blockSize);
  const svg = attentionPicture(gpt, tokenizer, values.name, layer);
  if (format === "png") {
    const renderer = await loadPictures(io);
    if (renderer === undefined) return 1;
    writeFileAtomic(out, renderer.svgToPng(svg));
  } else {
    writeFileAtomic(out, svg);
  }
  io.stdout.write(`wrote ${out}\n`);
  return 0;
}
