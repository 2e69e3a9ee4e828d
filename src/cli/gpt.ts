// `micrograd gpt`: train a character-level GPT on a text file (gpt-train.ts), sample from a saved
// one, and draw where its attention looks. Each subcommand: its flags as a table, then its work.
// Exit status: 0 done, 1 a file or the training failed, 2 the command line was wrong.
import { sampleWithProbabilities } from "../sampling.js";
import {
  type Command,
  checkFitsBlock,
  checkInVocabulary,
  count,
  type FlagTable,
  GPT_MODEL_FLAG,
  helpText,
  type Io,
  isUsageError,
  parseFlags,
  printHelp,
  reportUsageError,
  required,
  UsageError,
} from "./flags.js";
import { textStart } from "./gpt-data.js";
import { GPT_EVAL, gptEval } from "./gpt-eval.js";
import { GPT_SCORE, gptScore } from "./gpt-score.js";
import { GPT_TRAIN } from "./gpt-train.js";
import { attentionPicture, gptTrain } from "./gpt-train-run.js";
import { loadGPTWithinLimit, MODEL_FILE_LIMIT_FLAG } from "./limits.js";
import { pictureOut, writePicture } from "./run.js";

/** Samples one `gpt sample` prints at the most: about a millisecond each, two minutes in all. */
const MAX_SAMPLES = 100_000;
/** Past the block each character reads a fresh window: 10,000 of them take seconds. */
const MAX_LENGTH = 10_000;
/** The length of a running-text model's samples by default. */
const TEXT_LENGTH = 200;

export const GPT_HELP = `micrograd gpt — a character-level GPT, trained on names (or any text) and sampled

Usage: micrograd gpt <train|sample|attention|eval|score> [options]

  train       train on a text file, one document per line (default: 32,033 names),
              or on running text (--text)
  sample      generate new documents (or text) with a saved model
  attention   draw the attention weights of a saved model over one document
  eval        measure a saved model on a text file: loss, bits per character, perplexity
  score       how surprised a saved model is by each character of a text, with a picture

Run "micrograd gpt <command> --help" for the options.`;

export const GPT_SAMPLE = {
  name: "gpt sample",
  intro:
    "micrograd gpt sample — generate with a saved GPT\n\nUsage: micrograd gpt sample --model FILE [options]",
  flags: {
    model: GPT_MODEL_FLAG,
    ...MODEL_FILE_LIMIT_FLAG,
    n: {
      kind: "integer",
      value: "N",
      section: "Options",
      min: 1,
      max: MAX_SAMPLES,
      help: `how many samples (default 20, at most ${count(MAX_SAMPLES)})`,
    },
    temperature: {
      kind: "number",
      value: "X",
      section: "Options",
      above: 0,
      help: "> 0; lower is more conservative (default 0.5)",
    },
    prefix: { kind: "text", value: "TEXT", section: "Options", help: "every sample starts with this text" },
    seed: {
      kind: "integer",
      value: "N",
      section: "Options",
      min: 0,
      help: "the same seed gives the same samples (default 1)",
    },
    "top-k": {
      kind: "integer",
      value: "K",
      section: "Options",
      min: 1,
      help: "draw only among the K most probable characters",
    },
    "top-p": {
      kind: "number",
      value: "P",
      section: "Options",
      above: 0,
      max: 1,
      tooLarge: "is a probability, at most 1",
      help: "draw only among the most probable characters that together reach P (nucleus)",
    },
    greedy: {
      kind: "switch",
      section: "Options",
      help: "always the most probable character (top-k 1): the same sample every time",
    },
    length: {
      kind: "integer",
      value: "N",
      section: "Options",
      min: 1,
      max: MAX_LENGTH,
      help:
        "characters to generate at most (default: to the end of the block; a model of\n" +
        `running text ${TEXT_LENGTH}); past the block the context slides; a names model still stops at\n` +
        "its end token",
    },
    json: {
      kind: "switch",
      section: "Options",
      help: "print JSON: each sample with the model's probability of each character",
    },
  },
} as const satisfies Command<FlagTable>;

export const GPT_ATTENTION = {
  name: "gpt attention",
  intro:
    "micrograd gpt attention — where each head looks, as heatmaps\n\n" +
    "Usage: micrograd gpt attention --model FILE --name TEXT [--layer N] [--out FILE]",
  flags: {
    model: GPT_MODEL_FLAG,
    ...MODEL_FILE_LIMIT_FLAG,
    name: {
      kind: "text",
      value: "TEXT",
      section: "Options",
      help: "the document to read (its characters must be in the model's vocabulary)",
    },
    layer: {
      kind: "integer",
      value: "N",
      section: "Options",
      min: 0,
      help: "which block's heads (default 0)",
    },
    out: { kind: "path", value: "FILE", section: "Options", help: ".svg or .png (default attention.svg)" },
  },
} as const satisfies Command<FlagTable>;

const SUBCOMMANDS: Record<
  string,
  { command: Command<FlagTable>; run: (args: string[], io: Io) => Promise<number> }
> = {
  train: { command: GPT_TRAIN, run: gptTrain },
  sample: { command: GPT_SAMPLE, run: async (args, io) => sample(args, io) },
  attention: { command: GPT_ATTENTION, run: attention },
  eval: { command: GPT_EVAL, run: gptEval },
  score: { command: GPT_SCORE, run: gptScore },
};

/** Runs `micrograd gpt …` (argv without "gpt") and returns the exit status. */
export async function gptCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const subcommand = sub === undefined ? undefined : SUBCOMMANDS[sub];
  try {
    if (sub === undefined) {
      printHelp(GPT_HELP, io);
      return 2;
    }
    if (sub === "help" || sub === "--help" || sub === "-h") return printHelp(GPT_HELP, io);
    if (subcommand === undefined || !Object.hasOwn(SUBCOMMANDS, sub)) {
      throw new UsageError(
        `unknown gpt command "${sub}"; expected ${Object.keys(SUBCOMMANDS)
          .join(", ")
          .replace(/, (?=[^,]*$)/, " or ")}`,
      );
    }
    return await subcommand.run(rest, io);
  } catch (error) {
    if (!isUsageError(error)) throw error;
    const known = sub !== undefined && Object.hasOwn(SUBCOMMANDS, sub);
    return reportUsageError(io, error as Error, known ? `gpt ${sub}` : "gpt");
  }
}

function sample(args: string[], io: Io): number {
  const { help, values } = parseFlags(GPT_SAMPLE, args);
  if (help) return printHelp(helpText(GPT_SAMPLE), io);
  const modelPath = required(values.model, "--model FILE");
  if (
    values.greedy &&
    (values["top-k"] !== undefined || values["top-p"] !== undefined || values.temperature !== undefined)
  ) {
    throw new UsageError(
      "--greedy always takes the most probable character; --top-k, --top-p and --temperature do not apply",
    );
  }
  const { gpt, tokenizer, notes } = loadGPTWithinLimit(modelPath, values);
  const text = notes.text === true;
  const prefixIds = checkInVocabulary("prefix", values.prefix ?? "", tokenizer);
  // Within the block a names model reads BOS and the prefix; past it the window slides.
  if (values.length === undefined && !text) checkFitsBlock("prefix", prefixIds, gpt.config.blockSize);
  // Running text starts from something: a line break, as nanoGPT's samples do, shown as nothing.
  const start = values.prefix ?? (text ? textStart(tokenizer) : "");
  const samples = sampleWithProbabilities(gpt, tokenizer, {
    n: values.n ?? 20,
    temperature: values.temperature ?? 0.5,
    prefix: start,
    seed: values.seed ?? 1,
    text,
    ...(values["top-k"] === undefined ? {} : { topK: values["top-k"] }),
    ...(values["top-p"] === undefined ? {} : { topP: values["top-p"] }),
    ...(values.greedy ? { greedy: true } : {}),
    ...(values.length !== undefined ? { length: values.length } : text ? { length: TEXT_LENGTH } : {}),
  });
  const shown = samples.map((s) => ({
    ...s,
    text: values.prefix === undefined ? s.text.slice(start.length) : s.text,
  }));
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ prefix: values.prefix ?? "", samples: shown })}\n`);
    return 0;
  }
  io.stdout.write(shown.map((s) => `${s.text}\n`).join(""));
  return 0;
}

async function attention(args: string[], io: Io): Promise<number> {
  const { help, values } = parseFlags(GPT_ATTENTION, args);
  if (help) return printHelp(helpText(GPT_ATTENTION), io);
  const modelPath = required(values.model, "--model FILE");
  if (values.name === undefined || values.name === "") throw new UsageError("--name TEXT is required");
  const out = pictureOut(values.out, "attention.svg");
  const layer = values.layer ?? 0;
  const { gpt, tokenizer } = loadGPTWithinLimit(modelPath, values);
  if (layer >= gpt.config.nLayer) {
    throw new UsageError(`--layer ${layer}: the model has blocks 0..${gpt.config.nLayer - 1}`);
  }
  checkFitsBlock("name", checkInVocabulary("name", values.name, tokenizer), gpt.config.blockSize);
  const svg = attentionPicture(gpt, tokenizer, values.name, layer);
  if (!(await writePicture(io, out, svg))) return 1;
  io.stdout.write(`wrote ${out.path}\n`);
  return 0;
}
