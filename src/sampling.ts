// Sampling text from a GPT, with the decoding options of nanoGPT's sample.py and Hugging Face's
// generate in one plain object: temperature, top-k, top-p (nucleus), greedy, and a length past
// the block, the context sliding along the text. Each sampled token comes with the probability
// the model gave it, so a sample can be shown with how sure the model was of each character.
import { noGrad, type Value } from "./engine.js";
import type { GPT, KVCache } from "./gpt.js";
import { softmax } from "./losses.js";
import { checkOptions } from "./options.js";
import { createRandom, type Random } from "./random.js";
import type { CharTokenizer } from "./tokenizer.js";

/** How the next token is chosen from the model's logits. */
export interface DecodingOptions {
  /** Divides the logits: below 1 sharpens the distribution, above 1 flattens it (default 1). */
  temperature?: number;
  /** Only the k likeliest tokens may be drawn (top-k 1 is greedy). */
  topK?: number;
  /** Only the likeliest tokens whose probabilities add up to p may be drawn (nucleus sampling). */
  topP?: number;
  /** Always the likeliest token: no randomness. */
  greedy?: boolean;
}

export interface GenerateOptions extends DecodingOptions {
  /** The id that starts and ends a document. */
  bos: number;
  random: Random;
  /** Ids to start from (after BOS). */
  prefix?: readonly number[];
  /**
   * The most tokens to add after the prefix. Default: until the model emits `bos` or the block
   * is full. Past the block, the context slides: the last half block is read again from
   * position 0 and the text goes on from there.
   */
  length?: number;
  /** A model of running text: no BOS to start from or to stop at; the prefix starts the text. */
  text?: boolean;
}

const GENERATE_OPTIONS = {
  bos: true,
  random: true,
  prefix: true,
  length: true,
  text: true,
  temperature: true,
  topK: true,
  topP: true,
  greedy: true,
} as const;

/** A continuation: the prefix and the sampled ids (without BOS), and the model's probability of each sampled id. */
export interface Generated {
  ids: number[];
  /** For each sampled id, its probability under the model (softmax of the logits, before temperature or filtering). */
  probabilities: number[];
}

/** Continues `prefix` one sampled token at a time (see GenerateOptions). */
export function generateTokens(gpt: GPT, options: GenerateOptions): Generated {
  const {
    bos,
    random,
    prefix = [],
    length,
    text = false,
    ...decoding
  } = checkOptions("generate", options, GENERATE_OPTIONS);
  const { vocabSize, blockSize } = gpt.config;
  checkId("generate", bos, vocabSize, "bos");
  checkDecoding("generate", decoding);
  for (const id of prefix) checkId("generate", id, vocabSize, "a prefix token");
  if (length !== undefined && !(Number.isInteger(length) && length >= 0)) {
    throw new RangeError(`generate: length must be an integer >= 0 (tokens), got ${String(length)}`);
  }
  if (text && prefix.length === 0) {
    throw new RangeError("generate: running text starts from a prefix of at least one token");
  }
  const context = text ? [...prefix] : [bos, ...prefix];
  if (length === undefined && context.length > blockSize) {
    throw new RangeError(
      `generate: the prefix has ${prefix.length} tokens; the block (${blockSize}) leaves room for at most ${blockSize - (text ? 0 : 1)} (give a length to slide past the block)`,
    );
  }
  // Without a length, a document ends where the block does.
  const most = length ?? blockSize - context.length + 1;
  const probabilities: number[] = [];
  return noGrad(() => {
    const reader = new SlidingContext(gpt);
    let logits: number[] = [];
    for (const id of context) logits = reader.push(id);
    for (let k = 0; k < most; k++) {
      const model = softmax(logits);
      // Running text has no documents to end: BOS is never drawn.
      if (text) logits[bos] = Number.NEGATIVE_INFINITY;
      const token = chooseToken(logits, decoding, random);
      if (!text && token === bos) break;
      probabilities.push(model[token]);
      context.push(token);
      if (k + 1 < most) logits = reader.push(token);
    }
    return { ids: text ? context : context.slice(1), probabilities };
  });
}

/**
 * Reads a text one token at a time, as long as it is, giving the logits of the next token after
 * each. The positions are those of the block: when it is full, the last half block is read
 * again from position 0 and the text goes on from there (half a block of context at least, and
 * each token read about twice, instead of the whole block again for every token). Call inside noGrad.
 */
export class SlidingContext {
  private cache: KVCache;
  /** The last tokens read, from the one at position 0 of the cache. */
  private window: number[] = [];

  constructor(private readonly gpt: GPT) {
    this.cache = gpt.newCache();
  }

  /** Reads `token`; returns the logits of the token after it. */
  push(token: number): number[] {
    const { blockSize } = this.gpt.config;
    if (this.window.length === blockSize) {
      const kept = this.window.slice(blockSize - Math.max(1, Math.floor(blockSize / 2)));
      this.cache = this.gpt.newCache();
      this.window = [];
      for (const id of kept) this.read(id);
    }
    return this.read(token).map((l) => l.data);
  }

  private read(token: number): Value[] {
    const logits = this.gpt.forward(token, this.window.length, this.cache);
    this.window.push(token);
    return logits;
  }
}

/** The next token under the decoding options: drawn, or the likeliest when greedy. */
export function chooseToken(logits: readonly number[], options: DecodingOptions, random: Random): number {
  const { temperature = 1, topK, topP, greedy = false } = options;
  if (greedy) return argmax(logits);
  const probabilities = softmax(logits.map((l) => l / temperature));
  if (topK !== undefined || topP !== undefined) keepLikeliest(probabilities, topK, topP);
  return sampleIndex(probabilities, random);
}

/** Zeroes every probability outside the top k and outside the nucleus of mass p, and renormalizes. */
function keepLikeliest(probabilities: number[], topK: number | undefined, topP: number | undefined): void {
  const order = probabilities.map((_, i) => i).sort((a, b) => probabilities[b] - probabilities[a] || a - b);
  let kept = Math.min(topK ?? order.length, order.length);
  if (topP !== undefined) {
    let mass = 0;
    for (let rank = 0; rank < kept; rank++) {
      mass += probabilities[order[rank]];
      // The token that reaches p is kept: the nucleus is never empty.
      if (mass >= topP) {
        kept = rank + 1;
        break;
      }
    }
  }
  let total = 0;
  for (let rank = 0; rank < kept; rank++) total += probabilities[order[rank]];
  const keep = new Set(order.slice(0, kept));
  for (let i = 0; i < probabilities.length; i++)
    probabilities[i] = keep.has(i) ? probabilities[i] / total : 0;
}

function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** An index drawn with the given probabilities. */
export function sampleIndex(probabilities: readonly number[], random: Random): number {
  const u = random();
  let cumulative = 0;
  for (let i = 0; i < probabilities.length; i++) {
    cumulative += probabilities[i];
    if (u < cumulative) return i;
  }
  // Rounding can leave the total a hair below u; the last index with any probability takes it.
  for (let i = probabilities.length - 1; i >= 0; i--) if (probabilities[i] > 0) return i;
  return probabilities.length - 1;
}

export interface SampleOptions extends DecodingOptions {
  /** How many samples (default 20). */
  n?: number;
  /** Text every sample starts with (for a model of running text, at least one character). */
  prefix?: string;
  seed?: number;
  /** Characters to add after the prefix; see GenerateOptions. */
  length?: number;
  /** A model of running text (trained on windows): no document boundaries. */
  text?: boolean;
}

const SAMPLE_OPTIONS = {
  n: true,
  prefix: true,
  seed: true,
  length: true,
  text: true,
  temperature: true,
  topK: true,
  topP: true,
  greedy: true,
} as const;

/** A sample as text, and each sampled character with the probability the model gave it. */
export interface Sample {
  text: string;
  characters: { character: string; probability: number }[];
}

/** `n` samples with the probability of each sampled character; the same seed gives the same samples. */
export function sampleWithProbabilities(
  gpt: GPT,
  tokenizer: CharTokenizer,
  options: SampleOptions = {},
): Sample[] {
  const {
    n = 20,
    temperature = 0.5,
    prefix = "",
    seed,
    ...rest
  } = checkOptions("sampleText", options, SAMPLE_OPTIONS);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`sampleText: n must be an integer >= 0, got ${n}`);
  if (tokenizer.vocabSize !== gpt.config.vocabSize) {
    throw new RangeError(
      `sampleText: the tokenizer has ${tokenizer.vocabSize} tokens but the model ${gpt.config.vocabSize}`,
    );
  }
  const prefixIds = tokenizer.encodeText(prefix);
  const random = createRandom(seed);
  return Array.from({ length: n }, () => {
    const { ids, probabilities } = generateTokens(gpt, {
      ...rest,
      temperature,
      bos: tokenizer.bos,
      random,
      prefix: prefixIds,
    });
    const sampled = ids.slice(prefixIds.length);
    return {
      text: tokenizer.decode(ids),
      characters: sampled.map((id, i) => ({
        character: tokenizer.decode([id]),
        probability: probabilities[i],
      })),
    };
  });
}

/** `n` samples from the model, as text (documents, or running text with `text`); the same seed gives the same samples. */
export function sampleText(gpt: GPT, tokenizer: CharTokenizer, options: SampleOptions = {}): string[] {
  return sampleWithProbabilities(gpt, tokenizer, options).map((sample) => sample.text);
}

function checkDecoding(where: string, options: DecodingOptions): void {
  const { temperature, topK, topP, greedy } = options;
  if (
    temperature !== undefined &&
    !(typeof temperature === "number" && temperature > 0 && Number.isFinite(temperature))
  ) {
    throw new RangeError(`${where}: temperature must be a number > 0, got ${String(temperature)}`);
  }
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) {
    throw new RangeError(`${where}: topK must be an integer >= 1 (1 is greedy), got ${String(topK)}`);
  }
  if (topP !== undefined && !(typeof topP === "number" && topP > 0 && topP <= 1)) {
    throw new RangeError(`${where}: topP must be a probability > 0 and <= 1, got ${String(topP)}`);
  }
  if (greedy !== undefined && typeof greedy !== "boolean") {
    throw new TypeError(`${where}: greedy must be true or false, got ${String(greedy)}`);
  }
}

function checkId(where: string, id: unknown, vocabSize: number, what: string): void {
  if (!(typeof id === "number" && Number.isInteger(id) && id >= 0 && id < vocabSize)) {
    throw new RangeError(`${where}: ${what} ${String(id)} is not an id in 0..${vocabSize - 1}`);
  }
}
