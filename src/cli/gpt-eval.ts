// `micrograd gpt eval`: how well a saved GPT predicts a text file, per character, beside the
// bigram model of the data it was trained on (the floor any language model should beat).
import { existsSync } from "node:fs";
import { type CharacterScore, characterScore } from "../gpt-score.js";
import { evaluateGPT } from "../gpt-train.js";
import { loadNames } from "../node/datasets.js";
import { readTextFile } from "../node/files.js";
import { loadGPT } from "../node/models.js";
import { BigramModel, type CharTokenizer, splitDocuments } from "../tokenizer.js";
import {
  type Command,
  count,
  type FlagTable,
  helpText,
  type Io,
  MLP_MODEL_HINT,
  parseFlags,
  printHelp,
  required,
} from "./flags.js";

const OPTIONS = "Options";

export const GPT_EVAL = {
  name: "gpt eval",
  intro:
    "micrograd gpt eval — measure a saved GPT on a text file\n\n" +
    "Usage: micrograd gpt eval --model FILE --data FILE [--text] [--train FILE] [--json]\n\n" +
    "Prints the loss per character (nats), bits per character and perplexity of the GPT and, beside\n" +
    "them, of the bigram model of the training data: a GPT that does not beat it has learnt little.",
  flags: {
    model: {
      kind: "path",
      value: "FILE",
      section: OPTIONS,
      help: "a model.json written by micrograd gpt train",
    },
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
  },
} as const satisfies Command<FlagTable>;

export async function gptEval(args: string[], io: Io): Promise<number> {
  const { help, values } = parseFlags(GPT_EVAL, args);
  if (help) return printHelp(helpText(GPT_EVAL), io);
  const modelPath = required(values.model, "--model FILE");
  const dataPath = required(values.data, "--data FILE");
  const text = values.text === true;
  const { gpt, tokenizer, notes } = loadGPT(modelPath, { otherKind: MLP_MODEL_HINT });
  const { blockSize } = gpt.config;
  const sequences = readSequences(dataPath, tokenizer, text, blockSize);
  const characters = sequences.reduce((sum, s) => sum + Math.min(blockSize, s.length - 1), 0);
  const score = characterScore(evaluateGPT(gpt, sequences));
  const trainPath = values.train ?? (typeof notes.data === "string" ? notes.data : undefined);
  const bigram = bigramScore(trainPath, values.train !== undefined, tokenizer, text, blockSize, sequences);
  const what = text
    ? `${count(characters)} characters`
    : `${count(sequences.length)} documents, ${count(characters)} predicted characters`;
  if (values.json) {
    io.stdout.write(
      `${JSON.stringify({ data: dataPath, text, sequences: sequences.length, characters, gpt: score, bigram: bigram.score ?? null, bigramData: bigram.source ?? null })}\n`,
    );
    return 0;
  }
  const line = (name: string, s: CharacterScore) =>
    `  ${name.padEnd(7)}${s.loss.toFixed(4)} nats/char, ${s.bitsPerCharacter.toFixed(3)} bits/char, perplexity ${s.perplexity.toFixed(2)}`;
  io.stdout.write(
    `${dataPath} (${what}):\n${line("GPT", score)}\n` +
      `${bigram.score ? `${line("bigram", bigram.score)} (fitted on ${bigram.source})` : `  bigram: ${bigram.why}`}\n`,
  );
  return 0;
}

/**
 * The file as the model reads it: documents with BOS at both ends or, as running text, windows
 * of blockSize + 1 characters overlapping by one, so that every character after the first is
 * predicted once. A character outside the vocabulary is an error naming its line.
 */
export function readSequences(
  path: string,
  tokenizer: CharTokenizer,
  text: boolean,
  blockSize: number,
): number[][] {
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
  const windows: number[][] = [];
  for (let start = 0; start + 1 < stream.length; start += blockSize) {
    windows.push(stream.slice(start, start + blockSize + 1));
  }
  return windows;
}

function encodeFile(path: string, content: string, tokenizer: CharTokenizer, text: boolean): number[][] {
  const lines = text ? [content] : splitDocuments(content);
  return lines.map((line, index) => {
    try {
      return tokenizer.encodeText(line);
    } catch {
      const bad = Array.from(line).find((ch) => {
        try {
          tokenizer.encodeText(ch);
          return false;
        } catch {
          return true;
        }
      });
      const where = text
        ? `line ${content.slice(0, content.indexOf(bad as string)).split("\n").length}`
        : `document ${index + 1}`;
      throw new Error(
        `${path}: ${where} has ${JSON.stringify(bad)}, a character the model never saw (its vocabulary: ${JSON.stringify(tokenizer.decode(Array.from({ length: tokenizer.vocabSize - 1 }, (_, i) => i)))})`,
      );
    }
  });
}

/** The bigram of the training data, measured as the GPT is; or why there is none. */
function bigramScore(
  trainPath: string | undefined,
  given: boolean,
  tokenizer: CharTokenizer,
  text: boolean,
  blockSize: number,
  sequences: number[][],
): { score?: CharacterScore; source?: string; why?: string } {
  let training: number[][];
  let source: string;
  if (trainPath === "names.txt" && !given) {
    source = "the shipped names";
    training = loadNames().map((name) => tokenizer.encode(name));
  } else if (trainPath !== undefined && (given || existsSync(trainPath))) {
    source = trainPath;
    training = readSequences(trainPath, tokenizer, text, blockSize);
  } else {
    return {
      why:
        trainPath === undefined
          ? "the model's notes do not name its training data; give it with --train FILE"
          : `the training data ${trainPath} cannot be found here; give it with --train FILE`,
    };
  }
  const bigram = BigramModel.fit(training, tokenizer.vocabSize);
  return { score: characterScore(bigram.loss(sequences, blockSize)), source };
}
