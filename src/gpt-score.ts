// How well a GPT predicts a text: the log-probability it gave each next token (for `gpt score`'s
// picture of surprise), and the loss, bits and perplexity per character over many documents.
import { noGrad } from "./engine.js";
import type { GPT } from "./gpt.js";
import { softmax } from "./losses.js";

/**
 * ln p(tokens[t] | the tokens before it) for each t from 1: entry t − 1 is the log-probability of
 * token t. The context is every token before t while they fit in the block, then the last
 * blockSize of them (a sliding window, as generating past the block reads).
 */
export function tokenLogProbabilities(gpt: GPT, tokens: readonly number[]): number[] {
  const { blockSize, vocabSize } = gpt.config;
  tokens.forEach((id, i) => {
    if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) {
      throw new RangeError(
        `tokenLogProbabilities: token ${i} is ${String(id)}, not an id in 0..${vocabSize - 1}`,
      );
    }
  });
  return noGrad(() => {
    const out: number[] = [];
    // Within the block one pass reads every position; past it, each window is read afresh.
    let cache = gpt.newCache();
    for (let t = 1; t < tokens.length; t++) {
      let logits: number[];
      if (t <= blockSize) {
        logits = gpt.forward(tokens[t - 1], t - 1, cache).map((l) => l.data);
      } else {
        cache = gpt.newCache();
        const window = tokens.slice(t - blockSize, t);
        let last: number[] = [];
        window.forEach((id, position) => {
          last = gpt.forward(id, position, cache).map((l) => l.data);
        });
        logits = last;
      }
      out.push(Math.log(softmax(logits)[tokens[t]]));
    }
    return out;
  });
}

/** A mean loss per character in nats, also as bits per character and perplexity. */
export interface CharacterScore {
  /** Mean −ln p per predicted character. */
  loss: number;
  /** The same in bits: loss / ln 2. */
  bitsPerCharacter: number;
  /** e^loss: as uncertain as a uniform choice among this many characters. */
  perplexity: number;
}

export function characterScore(loss: number): CharacterScore {
  return { loss, bitsPerCharacter: loss / Math.LN2, perplexity: Math.exp(loss) };
}
