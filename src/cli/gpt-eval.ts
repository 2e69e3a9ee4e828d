// `micrograd gpt eval`: how well a saved GPT predicts a text file, per character, beside the
// bigram model of the data it was trained on (the floor any language model should beat).
import { existsSync } from "node:fs";
import type { GPTTrainingData } from "../gpt-train.js";
import { loadNames } from "../node/datasets.js";
import { readTextFile } from "../node/files.js";
import { bigramScore, type LanguageScore, scoreGPT } from "../scoring.js";
import { TextWindows } from "../text.js";
import { type CharTokenizer, splitDocuments } from "../tokenizer.js";
import {
  type Command,
  count,
  type FlagTable,
  GPT_MODEL_FLAG,
  helpText,
  type Io,
  parseFlags,
  printHelp,
  required,
} from "./flags.js";
import { loadGPTWithinLimit, MODEL_FILE_LIMIT_FLAG } from "./limits.js";

const OPTIONS = "Options";

export const GPT_EVAL = {
  name: "gpt eval",
  intro:
    "micrograd gpt eval — measure a saved GPT on a text file\n\n" +
    "Usage: micrograd gpt eval --model FILE --data FILE [--text] [--train FILE] [--json]\n\n" +
    "Prints the loss per character (nats), bits per character and perplexity of the GPT and, beside\n" +
    "them, of the bigram model of the training data: a GPT that does not beat it has learnt little.",
  flags: {
    model: GPT_MODEL_FLAG,
    data: {
      kind: "path",
      value: "FILE",
      section: OPTIONS,
      help: "the text to measure: one document per line (each predicted to its end),\nor with --text one stream of characters",
    },
    text: {
      kind: "switch",
      section: OPTIONS,
      help: "read --data as running text, in consecutive windows of the model's block",
    },
    train: {
      kind: "path",
      value: "FILE",
      section: OPTIONS,
      help:
        "the training data, for the bigram (default: the file the model's notes\n" +
        "name, when it can be read here; the shipped names for a names model)",
    },
    json: { kind: "switch", section: OPTIONS, help: "print JSON instead of text" },
    ...MODEL_FILE_LIMIT_FLAG,
  },
} as const satisfies Command<FlagTable>;

export async function gptEval(args: string[], io: Io): Promise<number> {
  const { help, values } = parseFlags(GPT_EVAL, args);
  if (help) return printHelp(helpText(GPT_EVAL), io);
  const modelPath = required(values.model, "--model FILE");
  const dataPath = required(values.data, "--data FILE");
  const text = values.text === true;
  const { gpt, tokenizer, notes } = loadGPTWithinLimit(modelPath, values);
  const data = readData(dataPath, tokenizer, text);
  const score = scoreGPT(gpt, data);
  const trainPath = values.train ?? (typeof notes.data === "string" ? notes.data : undefined);
  const bigram = bigramBeside(trainPath, values.train !== undefined, tokenizer, text, data);
  const what = text
    ? `${count(score.characters)} characters`
    : `${count((data as number[][]).length)} documents, ${count(score.characters)} predicted characters`;
  if (values.json) {
    io.stdout.write(
      `${JSON.stringify({ data: dataPath, text, characters: score.characters, gpt: score, bigram: bigram.score ?? null, bigramData: bigram.source ?? null })}\n`,
    );
    return 0;
  }
  const line = (name: string, s: LanguageScore) =>
    `  ${name.padEnd(7)}${s.loss.toFixed(4)} nats/char, ${s.bitsPerCharacter.toFixed(3)} bits/char, perplexity ${s.perplexity.toFixed(2)}`;
  io.stdout.write(
    `${dataPath} (${what}):\n${line("GPT", score)}\n` +
      `${bigram.score ? `${line("bigram", bigram.score)} (fitted on ${bigram.source})` : `  bigram: ${bigram.why}`}\n`,
  );
  return 0;
}

/**
 * The file as the model reads it: documents (BOS at both ends), or one stream of running text.
 * A character outside the vocabulary is an error naming its document or line.
 */
function readData(path: string, tokenizer: CharTokenizer, text: boolean): GPTTrainingData {
  const content = readTextFile(path, { plainText: true });
  const ids = encodeFile(path, content, tokenizer, text);
  if (!text) {
    if (ids.length === 0) throw new Error(`${path} has no documents: every line is empty`);
    return ids.map((doc) => [tokenizer.bos, ...doc, tokenizer.bos]);
  }
  const stream = ids[0];
  if (stream.length < 2) {
    throw new Error(
      `${path} has ${stream.length} character${stream.length === 1 ? "" : "s"}; running text needs at least 2 (one to read, one to predict)`,
    );
  }
  return new TextWindows(stream);
}

function encodeFile(path: string, content: string, tokenizer: CharTokenizer, text: boolean): number[][] {
  const lines = text ? [content] : splitDocuments(content);
  return lines.map((line, index) => {
    const characters = Array.from(line);
    const bad = characters.findIndex((ch) => !tokenizer.chars.includes(ch));
    if (bad < 0) return tokenizer.encodeText(line);
    const where = text
      ? `line ${characters.slice(0, bad).join("").split("\n").length}`
      : `document ${index + 1}`;
    throw new Error(
      `${path}: ${where} has ${JSON.stringify(characters[bad])}, a character the model never saw (its vocabulary: ${JSON.stringify(tokenizer.chars.join(""))})`,
    );
  });
}

/** The bigram of the training data, scored as the GPT is; or why there is none. */
function bigramBeside(
  trainPath: string | undefined,
  given: boolean,
  tokenizer: CharTokenizer,
  text: boolean,
  data: GPTTrainingData,
): { score?: LanguageScore; source?: string; why?: string } {
  if (trainPath === "names.txt" && !given) {
    const names = loadNames().map((name) => tokenizer.encode(name));
    return { score: bigramScore(names, data, tokenizer.vocabSize), source: "the shipped names" };
  }
  if (trainPath !== undefined && (given || existsSync(trainPath))) {
    return {
      score: bigramScore(readData(trainPath, tokenizer, text), data, tokenizer.vocabSize),
      source: trainPath,
    };
  }
  return {
    why:
      trainPath === undefined
        ? "the model's notes do not name its training data; give it with --train FILE"
        : `the training data ${trainPath} cannot be found here; give it with --train FILE`,
  };
}
