// What `gpt train` reads: a file of documents (one per line; the shipped names by default) or,
// with --text, one stream of running text, split into the part trained on and the part held out.
import { splitDocumentsForTraining } from "../gpt-train.js";
import { loadNames } from "../node/datasets.js";
import { readTextFile } from "../node/files.js";
import { coresAvailable } from "../node/gpt-workers.js";
import { type TextWindows, textDataset } from "../text.js";
import { CharTokenizer, splitDocuments } from "../tokenizer.js";
import { count, type Io, UsageError } from "./flags.js";
import { checkGPTSizes, type Limits } from "./limits.js";

/** What a plan says of the data. */
export interface DataPlan {
  /** The text file, or undefined for the shipped names. */
  data?: string;
  /** One stream of characters instead of one document per line. */
  text: boolean;
  heldOut: number;
  splitSeed: number;
  config: { nLayer: number; nEmbd: number; nHead: number; blockSize: number };
  batchSize: number;
  /** Worker threads, or undefined for the cores available. */
  workers?: number;
  /** The compiled replay (default) or the eager engine (--no-compile). */
  compile?: boolean;
  limits: Limits;
}

/**
 * Compiled, each thread holds one document's (or window's) trace at a time: the batch does not
 * add to it. Eager, the garbage of a batch's earlier graphs does, up to a point (checkGPTSizes).
 */
function checkSizes(plan: DataPlan, vocabSize: number): void {
  const shape = { vocabSize, ...plan.config };
  if (plan.compile === false) checkGPTSizes(shape, 1, plan.limits, plan.batchSize);
  else checkGPTSizes(shape, Math.min(plan.workers ?? coresAvailable(), plan.batchSize), plan.limits);
}

/** The data as trainGPT takes it, its tokenizer, and how to describe it. */
export type TrainingData =
  | { kind: "documents"; tokenizer: CharTokenizer; train: number[][]; test: number[][]; source: string }
  | { kind: "text"; tokenizer: CharTokenizer; train: TextWindows; test: TextWindows; source: string };

export function loadTrainingData(plan: DataPlan, io: Io): TrainingData {
  const source = plan.data ?? "the shipped names (data/names.txt)";
  const content = plan.data === undefined ? undefined : readTextFile(plan.data, { plainText: true });
  return content !== undefined && plan.text
    ? loadText(plan, content, source)
    : loadDocuments(plan, content, source, io);
}

function loadText(plan: DataPlan, content: string, source: string): TrainingData {
  const { blockSize } = plan.config;
  const characters = Array.from(content).length;
  if (characters < 2) {
    throw new UsageError(
      `--text: ${source} has ${characters} character${characters === 1 ? "" : "s"}; running text needs at least 2 (one to read, one to predict)`,
    );
  }
  const { tokenizer, train, heldOut } = textDataset(content, { heldOut: plan.heldOut });
  checkSizes(plan, tokenizer.vocabSize);
  for (const [part, windows] of [
    ["training", train],
    ["held-out", heldOut],
  ] as const) {
    if (windows.count(blockSize) < 1 && !(part === "held-out" && plan.heldOut === 0)) {
      throw new UsageError(
        `--text: the ${part} part of ${source} has ${count(windows.length)} characters, and a window of --block ${blockSize} needs ${count(blockSize + 1)}; ` +
          "use a smaller --block or a longer text",
      );
    }
  }
  return { kind: "text", tokenizer, train, test: heldOut, source };
}

function loadDocuments(plan: DataPlan, content: string | undefined, source: string, io: Io): TrainingData {
  const documents = content === undefined ? loadNames() : splitDocuments(content);
  if (documents.length === 0) {
    throw new Error(`${source} has no documents: every line is empty, so there is nothing to learn`);
  }
  const tokenizer = CharTokenizer.fromDocuments(documents);
  const { blockSize } = plan.config;
  checkSizes(plan, tokenizer.vocabSize);
  const encoded = documents.map((doc) => tokenizer.encode(doc));
  const lengths = documents.map((doc) => Array.from(doc).length);
  const tooLong = lengths.filter((length) => length + 1 > blockSize).length;
  if (tooLong > 0) {
    io.stderr.write(
      `micrograd: note: ${count(tooLong)} of ${count(documents.length)} documents are longer than the block of ${blockSize} tokens ` +
        `(the longest has ${count(Math.max(...lengths))} characters); the model sees only their first ${blockSize} predictions\n`,
    );
  }
  if (content !== undefined) {
    const hint = runningTextHint(content, tooLong, documents.length);
    if (hint)
      io.stderr.write(
        `micrograd: hint: ${source} looks like running text (${hint}); --text trains on it as one stream of characters\n`,
      );
  }
  const { train, test } = splitDocumentsForTraining(encoded, { heldOut: plan.heldOut, seed: plan.splitSeed });
  if (train.length === 0)
    throw new Error(`${source}: no documents left to train on after holding out ${plan.heldOut}`);
  return { kind: "documents", tokenizer, train, test, source };
}

/**
 * Why a file read one document per line looks like running text, or undefined: most of its lines
 * are longer than the block, or blank lines separate paragraphs of several lines.
 */
export function runningTextHint(content: string, longer: number, documents: number): string | undefined {
  if (documents >= 2 && longer > documents / 2)
    return `${count(longer)} of ${count(documents)} lines are longer than the block`;
  const paragraphs = content.split(/\r?\n[ \t]*\r?\n/).filter((part) => part.trim() !== "");
  const multiLine = paragraphs.filter((part) => part.trim().split(/\r?\n/).length >= 2).length;
  if (paragraphs.length >= 2 && multiLine >= 2)
    return `blank lines between ${count(paragraphs.length)} paragraphs`;
  return undefined;
}

/** What a sample of running text starts from when no prefix is given: a line break, if the text has one. */
export function textStart(tokenizer: CharTokenizer): string {
  return tokenizer.chars.includes("\n") ? "\n" : tokenizer.chars[0];
}
