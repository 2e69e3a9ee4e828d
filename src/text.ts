// Running text for a language model: one stream of characters rather than one document per
// line. Training reads windows of the block's length drawn at random, predicting every next
// character of each; the last tenth of the text is held out, as nanoGPT's shakespeare_char does.

import { checkOptions } from "./options.js";
import type { Random } from "./random.js";
import { CharTokenizer } from "./tokenizer.js";

/** A stream of token ids, read as windows: `size` + 1 ids give `size` next-token predictions. */
export class TextWindows {
  readonly ids: Uint16Array;

  constructor(ids: ArrayLike<number>) {
    this.ids = Uint16Array.from(ids);
  }

  get length(): number {
    return this.ids.length;
  }

  /** How many different windows of `size` predictions the text holds (0 when it is too short). */
  count(size: number): number {
    return Math.max(0, this.ids.length - size);
  }

  /** The ids of the window of `size` predictions that starts at `start`. */
  at(start: number, size: number): number[] {
    if (!Number.isInteger(start) || start < 0 || start >= this.count(size)) {
      throw new RangeError(
        `TextWindows.at: a window of ${size + 1} ids at ${start} does not fit in ${this.ids.length} ids`,
      );
    }
    return Array.from(this.ids.subarray(start, start + size + 1));
  }

  /** A window whose start is drawn uniformly from every place it fits. */
  random(size: number, random: Random): number[] {
    return this.at(Math.floor(random() * this.count(size)), size);
  }

  /** `count` windows spread evenly over the text (fewer if it is short): the same ones each time. */
  spread(count: number, size: number): number[][] {
    const places = this.count(size);
    const n = Math.min(count, places);
    return Array.from({ length: n }, (_, k) => this.at(Math.floor((k * places) / n), size));
  }
}

export interface TextDataset {
  /** The characters of the whole text (so held-out characters have ids too). */
  tokenizer: CharTokenizer;
  /** The first part of the text. */
  train: TextWindows;
  /** The last `heldOut` fraction of the text. */
  heldOut: TextWindows;
}

/**
 * A text as running characters, split where nanoGPT splits shakespeare_char: the first 90% for
 * training, the last 10% held out (`heldOut` changes the fraction). The vocabulary is that of the
 * whole text, or `tokenizer`'s when given (a model's, to score new text with it).
 */
export function textDataset(
  text: string,
  options: { heldOut?: number; tokenizer?: CharTokenizer } = {},
): TextDataset {
  if (typeof text !== "string") throw new TypeError(`textDataset: expected a string, got ${typeof text}`);
  const { heldOut = 0.1 } = checkOptions("textDataset", options, { heldOut: true, tokenizer: true });
  if (!(typeof heldOut === "number" && heldOut >= 0 && heldOut < 1)) {
    throw new RangeError(`textDataset: heldOut must be >= 0 and < 1, got ${String(heldOut)}`);
  }
  const characters = Array.from(text);
  if (characters.length < 2) {
    throw new RangeError(
      `textDataset: the text has ${characters.length} character${characters.length === 1 ? "" : "s"}; running text needs at least 2 to predict one from another`,
    );
  }
  const tokenizer = options.tokenizer ?? CharTokenizer.fromDocuments([text]);
  const ids = tokenizer.encodeText(text);
  const cut = ids.length - Math.floor(ids.length * heldOut);
  return { tokenizer, train: new TextWindows(ids.slice(0, cut)), heldOut: new TextWindows(ids.slice(cut)) };
}
