// Decoding: the next token drawn from the model's distribution, narrowed as nanoGPT's sample.py
// and Hugging Face's generate do (temperature, top-k, top-p, greedy), for as many tokens as
// asked: past the block the context slides, keeping the last blockSize tokens.
import { noGrad } from "./engine.js";
import { type GPT, sampleIndex } from "./gpt.js";
import { softmax } from "./losses.js";
import type { Random } from "./random.js";

/** How the next token is chosen, and how many. */
export interface DecodeOptions {
  /** Below 1 sharpens the distribution, above 1 flattens it (default 1). */
  temperature?: number;
  /** Draw only among the K most probable tokens. */
  topK?: number;
  /** Draw only among the most probable tokens whose probabilities add up to at least P (nucleus). */
  topP?: number;
  /** Always the most probable token (top-k 1); no randomness. */
  greedy?: boolean;
  /** Tokens to generate at most (default: to the end of the block). */
  length?: number;
}

/** A generated document: its tokens (without BOS), and the model's probability of each. */
export interface Decoded {
  tokens: number[];
  /** p(token | the ones before it) under the model itself (temperature 1, nothing left out). */
  probabilities: number[];
}

/** Where generation starts and ends. */
export interface DecodeStart {
  /** The first token read: BOS for a model of documents (a line break, say, for running text). */
  first: number;
  /** The token that ends a document (BOS): generation stops when it is drawn. */
  end: number;
  /** False for a model of running text, which has no end: `end` is then never drawn. Default true. */
  stopAtEnd?: boolean;
  /** Tokens every sample starts with, after `first`. */
  prefix?: readonly number[];
  random: Random;
}

/** Generates after `first` and the prefix until `end` is drawn or `length` tokens are made. */
export function decode(gpt: GPT, start: DecodeStart, options: DecodeOptions = {}): Decoded {
  const { blockSize } = gpt.config;
  const { end, random, stopAtEnd = true } = start;
  const prefix = start.prefix ?? [];
  checkDecodeOptions(options);
  const length = options.length ?? blockSize - prefix.length;
  const context = [start.first, ...prefix];
  const tokens: number[] = [];
  const probabilities: number[] = [];
  return noGrad(() => {
    let cache = gpt.newCache();
    // Within the block, one pass adds a position at a time; past it, each window is read afresh.
    let read = 0;
    while (tokens.length < length) {
      let logits: number[] = [];
      if (context.length <= blockSize) {
        for (; read < context.length; read++)
          logits = gpt.forward(context[read], read, cache).map((l) => l.data);
      } else {
        cache = gpt.newCache();
        const window = context.slice(-blockSize);
        window.forEach((id, position) => {
          logits = gpt.forward(id, position, cache).map((l) => l.data);
        });
      }
      // Running text has no end: its (never trained) end token is left out of the draw.
      const token = choose(
        stopAtEnd ? logits : logits.map((l, i) => (i === end ? -Infinity : l)),
        options,
        random,
      );
      if (stopAtEnd && token === end) break;
      probabilities.push(softmax(logits)[token]);
      tokens.push(token);
      context.push(token);
    }
    return { tokens, probabilities };
  });
}

/** The next token from the logits, by the options. */
function choose(logits: readonly number[], options: DecodeOptions, random: Random): number {
  if (options.greedy) return argmax(logits);
  const temperature = options.temperature ?? 1;
  let probabilities = softmax(logits.map((l) => l / temperature));
  if (options.topK !== undefined && options.topK < probabilities.length) {
    const threshold = [...probabilities].sort((a, b) => b - a)[options.topK - 1];
    probabilities = renormalised(probabilities.map((p) => (p >= threshold ? p : 0)));
  }
  if (options.topP !== undefined && options.topP < 1) {
    const order = probabilities.map((_, i) => i).sort((a, b) => probabilities[b] - probabilities[a]);
    const kept = new Array(probabilities.length).fill(0);
    let total = 0;
    for (const i of order) {
      kept[i] = probabilities[i];
      total += probabilities[i];
      if (total >= options.topP) break;
    }
    probabilities = renormalised(kept);
  }
  return sampleIndex(probabilities, random);
}

function renormalised(weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function checkDecodeOptions(options: DecodeOptions): void {
  const { temperature, topK, topP, length } = options;
  if (temperature !== undefined && !(temperature > 0 && Number.isFinite(temperature))) {
    throw new RangeError(`decode: temperature must be a number > 0, got ${temperature}`);
  }
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) {
    throw new RangeError(`decode: topK must be an integer >= 1, got ${topK}`);
  }
  if (topP !== undefined && !(topP > 0 && topP <= 1)) {
    throw new RangeError(`decode: topP must be a number above 0 and at most 1, got ${topP}`);
  }
  if (length !== undefined && !(Number.isInteger(length) && length >= 0)) {
    throw new RangeError(`decode: length must be an integer >= 0, got ${length}`);
  }
}
