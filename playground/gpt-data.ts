// The GPT page's data: the shipped names or a pasted text, as token ids, split into what the
// model trains on and what measures it, with the bigram model of the training part as the
// baseline. Pasted running text is read in windows of the block, each starting with BOS, so
// that a model trained on it samples (and `micrograd gpt sample` reads it) as a names model does.
import { BigramModel, CharTokenizer, splitDocuments, splitDocumentsForTraining } from "../src/index.js";
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
  /** The training part of running text as ids, read in windows; empty for documents. */
  trainText: number[];
  /** The documents (or windows) every held-out measurement reads, the same each time. */
  measured: number[][];
  info: DataInfo;
}

/** A reason the text cannot be trained on, said to the user beside the text box. */
export class DataProblem extends Error {}

/** BOS, then `blockSize` characters of running text from `start`. */
export function windowAt(ids: readonly number[], start: number, blockSize: number, bos: number): number[] {
  return [bos, ...ids.slice(start, start + blockSize)];
}

/** How many windows of `blockSize` characters start in `length` characters of running text. */
export function windowCount(length: number, blockSize: number): number {
  return Math.max(0, length - blockSize + 1);
}

/** A window of the running training text chosen with `random`. */
export function randomWindow(data: PreparedData, blockSize: number, random: () => number): number[] {
  const start = Math.floor(random() * windowCount(data.trainText.length, blockSize));
  return windowAt(data.trainText, start, blockSize, data.tokenizer.bos);
}

/**
 * The data of `settings` (the names' text is `namesText`), ready to train a model of block
 * `blockSize` on; a text that cannot be learnt from throws a DataProblem that says why.
 */
export function prepareData(settings: GPTSettings, namesText: string, blockSize: number): PreparedData {
  const fromNames = settings.source === "names";
  const text = (fromNames ? namesText : settings.text).replace(/\r\n?/g, "\n");
  const running = !fromNames && settings.mode === "running";
  checkText(text, running);
  if (running) return prepareRunningText(text, blockSize);
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
    trainText: [],
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

function prepareRunningText(text: string, blockSize: number): PreparedData {
  const tokenizer = CharTokenizer.fromDocuments([text]);
  checkVocabulary(tokenizer);
  const ids = tokenizer.encodeText(text);
  if (ids.length < blockSize + 1) {
    throw new DataProblem(
      `The text has ${ids.length} characters; running text needs more than the block (${blockSize}): paste more, or make the block smaller.`,
    );
  }
  // The end of the text is held out, as nanoGPT does with Shakespeare; with too little of it, the
  // model is measured on training windows instead (and the page says so).
  const split = Math.floor(ids.length * (1 - HELD_OUT));
  const heldOutIds = ids.slice(split);
  const measuredHeldOut = heldOutIds.length >= blockSize + 1;
  const trainText = measuredHeldOut ? ids.slice(0, split) : ids;
  const source = measuredHeldOut ? heldOutIds : trainText;
  const starts = evenlySpaced(
    Array.from({ length: windowCount(source.length, blockSize) }, (_, i) => i),
    MEASURED_DOCUMENTS,
  );
  const measured = starts.map((start) => windowAt(source, start, blockSize, tokenizer.bos));
  // The bigram counts the pairs of the training text as the GPT reads it: windows after BOS.
  const chunks: number[][] = [];
  for (let start = 0; start < trainText.length; start += blockSize) {
    chunks.push(windowAt(trainText, start, blockSize, tokenizer.bos));
  }
  const bigram = BigramModel.fit(chunks, tokenizer.vocabSize);
  return {
    tokenizer,
    documents: [],
    trainText,
    measured,
    info: {
      description: "pasted running text, in windows of the block",
      chars: [...tokenizer.chars],
      vocabSize: tokenizer.vocabSize,
      trainCount: windowCount(trainText.length, blockSize),
      heldOutCount: measuredHeldOut ? windowCount(heldOutIds.length, blockSize) : 0,
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
