// Text as token ids, one character per token, plus BOS: the token that both starts and ends a
// document. And the bigram model, the baseline any next-character model should beat.

/** The documents of a text: one per line, trimmed, empty lines skipped. */
export function splitDocuments(text: string): string[] {
  if (typeof text !== "string") throw new TypeError(`splitDocuments: expected a string, got ${typeof text}`);
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** Characters as token ids: the sorted distinct characters are 0 … n − 1, and BOS is n. */
export class CharTokenizer {
  /** The characters, by id. */
  readonly chars: readonly string[];
  /** The id of the token that starts and ends every document. */
  readonly bos: number;
  private readonly ids: Map<string, number>;

  constructor(chars: readonly string[]) {
    if (!Array.isArray(chars) || chars.length === 0) {
      throw new RangeError("CharTokenizer: the vocabulary is empty (no characters to learn)");
    }
    this.ids = new Map();
    chars.forEach((ch, i) => {
      if (typeof ch !== "string" || Array.from(ch).length !== 1) {
        throw new TypeError(`CharTokenizer: chars[${i}] is ${JSON.stringify(ch)}, not a single character`);
      }
      if (this.ids.has(ch)) throw new RangeError(`CharTokenizer: ${JSON.stringify(ch)} appears twice`);
      this.ids.set(ch, i);
    });
    this.chars = [...chars];
    this.bos = chars.length;
  }

  /** The tokenizer of these documents: their distinct characters, sorted by code point. */
  static fromDocuments(documents: readonly string[]): CharTokenizer {
    const seen = new Set<string>();
    for (const doc of documents) for (const ch of doc) seen.add(ch);
    if (seen.size === 0) {
      throw new RangeError(
        "CharTokenizer.fromDocuments: the documents hold no characters, so the vocabulary would be empty",
      );
    }
    return new CharTokenizer([...seen].sort(byCodePoint));
  }

  /** Characters plus BOS. */
  get vocabSize(): number {
    return this.chars.length + 1;
  }

  /** The ids of the characters of `text`, without BOS. */
  encodeText(text: string): number[] {
    return Array.from(text, (ch, i) => {
      const id = this.ids.get(ch);
      if (id === undefined) {
        throw new RangeError(
          `${JSON.stringify(ch)} (character ${i + 1} of ${JSON.stringify(text)}) is not in the vocabulary ${JSON.stringify(this.chars.join(""))}`,
        );
      }
      return id;
    });
  }

  /** A document as a model sees it: BOS, its characters, BOS. */
  encode(doc: string): number[] {
    return [this.bos, ...this.encodeText(doc), this.bos];
  }

  /** The text of token ids; BOS tokens are left out. */
  decode(ids: readonly number[]): string {
    return ids
      .map((id) => {
        if (id === this.bos) return "";
        const ch = this.chars[id];
        if (ch === undefined) throw new RangeError(`CharTokenizer.decode: ${id} is not a token id`);
        return ch;
      })
      .join("");
  }
}

function byCodePoint(a: string, b: string): number {
  return (a.codePointAt(0) as number) - (b.codePointAt(0) as number);
}

/**
 * The simplest language model: the next token depends on this one only, and its probability is
 * how often that pair was counted (plus `smoothing`, so that unseen pairs are not impossible).
 */
export class BigramModel {
  /** counts[a][b]: how often b followed a, smoothing included. */
  readonly counts: number[][];

  constructor(
    readonly vocabSize: number,
    readonly smoothing = 1,
  ) {
    if (!Number.isInteger(vocabSize) || vocabSize < 1) {
      throw new RangeError(`BigramModel: vocabSize must be a positive integer, got ${vocabSize}`);
    }
    if (!(smoothing >= 0 && Number.isFinite(smoothing))) {
      throw new RangeError(`BigramModel: smoothing must be a finite number >= 0, got ${smoothing}`);
    }
    this.counts = Array.from({ length: vocabSize }, () => new Array(vocabSize).fill(smoothing));
  }

  /** Counts every pair of neighbouring tokens in the documents (ids with BOS at both ends). */
  static fit(documents: readonly (readonly number[])[], vocabSize: number, smoothing = 1): BigramModel {
    const model = new BigramModel(vocabSize, smoothing);
    // All checked before any is counted, so that a bad id leaves no half-counted model behind.
    model.checkDocuments("BigramModel.fit", documents);
    for (const doc of documents) {
      for (let i = 0; i + 1 < doc.length; i++) model.counts[doc[i]][doc[i + 1]] += 1;
    }
    return model;
  }

  /** p(next | current). */
  probability(current: number, next: number): number {
    this.checkId("BigramModel.probability: current", current);
    this.checkId("BigramModel.probability: next", next);
    const total = this.counts[current].reduce((a, b) => a + b, 0);
    if (total === 0) {
      throw new RangeError(
        `BigramModel.probability: token ${current} was never followed by another in training and smoothing is 0, so p(next | ${current}) is undefined; fit with smoothing > 0`,
      );
    }
    return this.counts[current][next] / total;
  }

  /**
   * Mean −log p(next | current) over every predicted token of the documents, the same measure
   * as a GPT's loss; `maxPositions` looks at only the first ones of each (a GPT's block).
   */
  loss(documents: readonly (readonly number[])[], maxPositions = Number.POSITIVE_INFINITY): number {
    this.checkDocuments("BigramModel.loss", documents);
    const totals = this.counts.map((row) => row.reduce((a, b) => a + b, 0));
    let sum = 0;
    let count = 0;
    documents.forEach((doc, d) => {
      const n = Math.min(maxPositions, doc.length - 1);
      for (let i = 0; i < n; i++) {
        const pairCount = this.counts[doc[i]][doc[i + 1]];
        if (pairCount === 0) {
          throw new RangeError(
            `BigramModel.loss: the pair ${doc[i]} → ${doc[i + 1]} (document ${d}, position ${i}) was never counted and smoothing is 0, so its probability is 0 and the loss infinite; fit with smoothing > 0`,
          );
        }
        sum -= Math.log(pairCount / totals[doc[i]]);
        count += 1;
      }
    });
    if (count === 0) throw new RangeError("BigramModel.loss: no tokens to predict");
    return sum / count;
  }

  private checkDocuments(where: string, documents: readonly (readonly number[])[]): void {
    if (!Array.isArray(documents))
      throw new TypeError(`${where}: documents must be an array of arrays of token ids`);
    documents.forEach((doc, d) => {
      if (!Array.isArray(doc)) throw new TypeError(`${where}: document ${d} is not an array of token ids`);
      for (let i = 0; i < doc.length; i++) this.checkId(`${where}: document ${d}, position ${i}:`, doc[i]);
    });
  }

  private checkId(where: string, id: unknown): void {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      const shown = typeof id === "number" ? String(id) : typeof id;
      throw new RangeError(`${where} token ${shown} is not an id in 0..${this.vocabSize - 1}`);
    }
  }
}
