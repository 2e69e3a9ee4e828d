// The GPT page's data: the shipped names, Tiny Shakespeare or a pasted text, as token ids, split
// into what the model trains on and what measures it, with the bigram model of the training part
// as the baseline. Running text is split and read in windows by the library's textDataset, each
// window after BOS, so that a model of it samples (and `micrograd gpt sample` reads it) as a
// names model does.
import {
  BigramModel,
  CharTokenizer,
  splitDocuments,
  splitDocumentsForTraining,
  type TextWindows,
  textDataset,
} from "../src/index.js";
import type { DataInfo, GPTSettings } from "./gpt-protocol.js";

/** About a megabyte of text: Tiny Shakespeare fits; tokenizing and counting it takes a moment. */
export const MAX_TEXT_CHARACTERS = 1_200_000;
/** Every character is a row of the embedding and of the head. */
export const MAX_VOCABULARY = 256;
/** Documents (or windows) each measurement of the held-out loss reads: some tens of milliseconds. */
export const MEASURED_DOCUMENTS = 300;
/** The part of the documents (or of the running text, its end) kept for measuring. */
export const HELD_OUT = 0.1;

/** The most values one document's graph may have: the trace of a larger one takes seconds and hundreds of megabytes. */
export const MAX_VALUES_PER_DOCUMENT = 1_000_000;

/**
 * About how many values the graph of one document of a full block builds: per position and
 * layer, the four attention matrices (4·n²), the MLP (8·n²) and the scores and weighted sums
 * over the earlier positions; per position, the head (vocabulary · n).
 */
export function valuesPerDocument(config: {
  vocabSize: number;
  nLayer: number;
  nEmbd: number;
  blockSize: number;
}): number {
  const { vocabSize, nLayer, nEmbd, blockSize } = config;
  return blockSize * (nLayer * (12 * nEmbd * nEmbd + 2 * blockSize * nEmbd) + vocabSize * nEmbd);
}

export interface PreparedData {
  tokenizer: CharTokenizer;
  /** Training documents as token ids with BOS at both ends; empty for running text. */
  documents: number[][];
  /** The training part of running text, read in windows; null for documents. */
  text: TextWindows | null;
  /** The documents (or windows) every held-out measurement reads, the same each time. */
  measured: number[][];
  info: DataInfo;
}

/** A reason the text cannot be trained on, said to the user beside the text box. */
export class DataProblem extends Error {}

/**
 * A window of `blockSize` characters of the running training text, drawn with `random`, read
 * after BOS: a model of running text then starts as a names model does, so that sampling (and
 * `micrograd gpt sample`) begins it the same way.
 */
export function randomWindow(data: PreparedData, blockSize: number, random: () => number): number[] {
  if (!data.text) throw new Error("randomWindow: the data are documents, not running text");
  return [data.tokenizer.bos, ...data.text.random(blockSize - 1, random)];
}

/** The texts shipped with the page, fetched by the worker when first chosen. */
export type ShippedTexts = Partial<Record<"names" | "shakespeare", string>>;

/**
 * The data of `settings` (a shipped text from `shipped`), ready to train a model of block
 * `blockSize` on; a text that cannot be learnt from throws a DataProblem that says why.
 */
export function prepareData(settings: GPTSettings, shipped: ShippedTexts, blockSize: number): PreparedData {
  if (settings.source === "shakespeare") {
    const text = shipped.shakespeare;
    if (text === undefined) throw new Error("prepareData: Tiny Shakespeare has not been read");
    return prepareRunningText(text, blockSize, "Tiny Shakespeare, running text in windows of the block");
  }
  const fromNames = settings.source === "names";
  const given = fromNames ? shipped.names : settings.text;
  if (given === undefined) throw new Error("prepareData: the names have not been read");
  const text = given.replace(/\r\n?/g, "\n");
  const running = settings.mode === "running" && !fromNames;
  if (running) return prepareRunningText(text, blockSize, "pasted running text, in windows of the block");
  checkText(text, false);
  const lines = splitDocuments(text);
  const tokenizer = CharTokenizer.fromDocuments(lines);
  checkVocabulary(tokenizer);
  const encoded = lines.map((line) => tokenizer.encode(line));
  const { train, test } = splitDocumentsForTraining(encoded, { heldOut: HELD_OUT, seed: 42 });
  if (train.length === 0) throw new DataProblem("There are too few lines to train on: paste more.");
  const measuredHeldOut = test.length > 0;
  const measured = evenlySpaced(measuredHeldOut ? test : train, MEASURED_DOCUMENTS);
  const bigram = BigramModel.fit(train, tokenizer.vocabSize);
  const unit = fromNames ? "names" : "documents";
  return {
    tokenizer,
    documents: train,
    text: null,
    measured,
    info: {
      description: fromNames ? "the shipped names" : "pasted text, one document per line",
      chars: [...tokenizer.chars],
      vocabSize: tokenizer.vocabSize,
      trainCount: train.length,
      heldOutCount: test.length,
      unit,
      measured: measured.length,
      measuredHeldOut,
      bigramLoss: bigram.loss(measured, blockSize),
    },
  };
}

function prepareRunningText(text: string, blockSize: number, description: string): PreparedData {
  checkText(text, true);
  const length = Array.from(text).length;
  if (length < blockSize + 1) {
    throw new DataProblem(
      `The text has ${length} characters; running text needs more than the block (${blockSize}): paste more, or make the block smaller.`,
    );
  }
  // The end of the text is held out, as nanoGPT does with Shakespeare; with too little of it, the
  // model is measured on training windows instead (and the page says so).
  const { tokenizer, train, heldOut } = textDataset(text, { heldOut: HELD_OUT });
  checkVocabulary(tokenizer);
  const size = blockSize - 1;
  const measuredHeldOut = heldOut.count(size) > 0;
  const measured = (measuredHeldOut ? heldOut : train)
    .spread(MEASURED_DOCUMENTS, size)
    .map((window) => [tokenizer.bos, ...window]);
  // The bigram counts the pairs of the training text as the GPT reads it: windows after BOS.
  const chunks: number[][] = [];
  for (let start = 0; start < train.length; start += blockSize) {
    chunks.push([tokenizer.bos, ...train.ids.subarray(start, start + blockSize)]);
  }
  const bigram = BigramModel.fit(chunks, tokenizer.vocabSize);
  return {
    tokenizer,
    documents: [],
    text: train,
    measured,
    info: {
      description,
      chars: [...tokenizer.chars],
      vocabSize: tokenizer.vocabSize,
      trainCount: train.count(size),
      heldOutCount: heldOut.count(size),
      unit: "windows",
      measured: measured.length,
      measuredHeldOut,
      bigramLoss: bigram.loss(measured, blockSize),
    },
  };
}

function checkText(text: string, running: boolean): void {
  const characters = Array.from(text);
  if (characters.length > MAX_TEXT_CHARACTERS) {
    throw new DataProblem(
      `The text has ${characters.length.toLocaleString("en-US")} characters; at most ${MAX_TEXT_CHARACTERS.toLocaleString("en-US")} here: paste a part of it.`,
    );
  }
  // In lines the newlines only separate documents; in running text they are characters too.
  const learnt = running ? characters : characters.filter((ch) => ch !== "\n");
  const counts = new Map<string, number>();
  for (const ch of learnt) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  if (text.trim() === "" || counts.size === 0)
    throw new DataProblem("The text is empty: paste some text to learn from.");
  if (Math.max(...counts.values()) < 2) {
    throw new DataProblem(
      "No character appears twice in the text, so there is no pattern to learn: paste more text.",
    );
  }
}

function checkVocabulary(tokenizer: CharTokenizer): void {
  if (tokenizer.chars.length > MAX_VOCABULARY) {
    throw new DataProblem(
      `The text has ${tokenizer.chars.length} different characters; at most ${MAX_VOCABULARY} here (each is a row of the embedding and of the head).`,
    );
  }
}

/** At most `most` items, spread evenly over the list (all of them when it is short enough). */
export function evenlySpaced<T>(items: readonly T[], most: number): T[] {
  if (items.length <= most) return items.slice();
  return Array.from({ length: most }, (_, i) => items[Math.floor((i * items.length) / most)]);
}
