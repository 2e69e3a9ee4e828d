// Scoring a language model on text it was not trained on: the loss per character (nats), the
// bits per character and the perplexity, beside the bigram model of the training data; and the
// log-probability of each character of a string, for showing where the model was surprised.
import { noGrad } from "./engine.js";
import type { GPT } from "./gpt.js";
import { evaluateGPT, type GPTTrainingData } from "./gpt-train.js";
import { SlidingContext } from "./sampling.js";
import { TextWindows } from "./text.js";
import { BigramModel, type CharTokenizer } from "./tokenizer.js";

/** How well a model predicts a text, three ways of saying the same number. */
export interface LanguageScore {
  /** Mean −log p(next character), in nats. */
  loss: number;
  /** The same in bits: loss / ln 2. */
  bitsPerCharacter: number;
  /** e^loss: as uncertain as a uniform choice among this many characters. */
  perplexity: number;
  /** Characters predicted. */
  characters: number;
}

export function languageScore(loss: number, characters: number): LanguageScore {
  return { loss, bitsPerCharacter: loss / Math.LN2, perplexity: Math.exp(loss), characters };
}

/**
 * Every character of running text cut into consecutive windows of the block (the last one
 * shorter), so that each character after the first is predicted once, from the characters
 * before it in its window; documents are taken whole (each end included).
 */
export function sequencesToScore(data: GPTTrainingData, blockSize: number): (readonly number[])[] {
  if (!(data instanceof TextWindows)) return data.slice();
  const windows: number[][] = [];
  for (let start = 0; start + 1 < data.length; start += blockSize) {
    windows.push(data.at(start, Math.min(blockSize, data.length - 1 - start)));
  }
  return windows;
}

/** The model's score on documents or on running text (every character, windows of the block). */
export function scoreGPT(
  gpt: GPT,
  data: GPTTrainingData,
  options: { compile?: boolean } = {},
): LanguageScore {
  const sequences = sequencesToScore(data, gpt.config.blockSize);
  if (sequences.length === 0)
    throw new RangeError("scoreGPT: the text has fewer than 2 characters; nothing to predict");
  const characters = sequences.reduce((n, ids) => n + Math.min(gpt.config.blockSize, ids.length - 1), 0);
  return languageScore(evaluateGPT(gpt, sequences, options), characters);
}

/**
 * The bigram model of `train` (counts of neighbouring characters, add-one smoothed) scored on
 * `data` the same way: the baseline a model should beat.
 */
export function bigramScore(train: GPTTrainingData, data: GPTTrainingData, vocabSize: number): LanguageScore {
  const asSequences = (d: GPTTrainingData) => (d instanceof TextWindows ? [Array.from(d.ids)] : d);
  const bigram = BigramModel.fit(asSequences(train), vocabSize);
  const sequences = asSequences(data);
  const characters = sequences.reduce((n, ids) => n + ids.length - 1, 0);
  return languageScore(bigram.loss(sequences), characters);
}

/** One character of a scored string and how likely the model found it. */
export interface CharacterScore {
  character: string;
  /** ln p(this character | the characters before it); the end of a document is "" (BOS). */
  logProbability: number;
}

/**
 * The log-probability of each character of `text` given the ones before it. A model of
 * documents reads it as a document (BOS first, and the end scored too); a model of running text
 * (`text: true`) scores every character after the first. Longer than the block, the context
 * slides as in sampling.
 */
export function characterLogProbabilities(
  gpt: GPT,
  tokenizer: CharTokenizer,
  text: string,
  options: { text?: boolean } = {},
): CharacterScore[] {
  const running = options.text === true;
  // Names the first character outside the vocabulary.
  const ids = running ? tokenizer.encodeText(text) : tokenizer.encode(text);
  if (ids.length < 2) {
    throw new RangeError("characterLogProbabilities: running text needs at least 2 characters to score one");
  }
  return noGrad(() => {
    const reader = new SlidingContext(gpt);
    const scores: CharacterScore[] = [];
    let logits = reader.push(ids[0]);
    for (let i = 1; i < ids.length; i++) {
      const shift = Math.max(...logits);
      let total = 0;
      for (const l of logits) total += Math.exp(l - shift);
      scores.push({
        character: tokenizer.decode([ids[i]]),
        logProbability: logits[ids[i]] - shift - Math.log(total),
      });
      if (i + 1 < ids.length) logits = reader.push(ids[i]);
    }
    return scores;
  });
}
