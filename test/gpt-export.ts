// Shared by the GPT export tests: trained models on the shipped names, the engine's logits of a
// batch of token sequences, and the held-out sequences to compare on.
import { CharTokenizer, GPT, noGrad, splitDocumentsForTraining, trainGPT } from "../src/index.js";
import { loadNames } from "../src/node.js";

export interface TrainedGPT {
  gpt: GPT;
  tokenizer: CharTokenizer;
  /** Held-out names as token ids, BOS at both ends, in one stream. */
  heldOut: number[];
}

/** A GPT trained briefly on 90% of the names (so its weights are no longer the initial ones). */
export function trainedGPT(options: {
  nLayer?: number;
  nEmbd?: number;
  nHead?: number;
  steps: number;
}): TrainedGPT {
  const names = loadNames();
  const tokenizer = CharTokenizer.fromDocuments(names);
  const { train, test } = splitDocumentsForTraining(
    names.map((name) => tokenizer.encode(name)),
    { heldOut: 0.1, seed: 42 },
  );
  const { steps, ...config } = options;
  const gpt = new GPT({ vocabSize: tokenizer.vocabSize, seed: 7, ...config });
  trainGPT(gpt, train, { steps, batchSize: 4 });
  // One stream of held-out names: each name's closing BOS opens the next.
  const heldOut = test.slice(0, 400).flatMap((ids, i) => (i === 0 ? ids : ids.slice(1)));
  return { gpt, tokenizer, heldOut };
}

/** `batch` windows of `time` tokens of the held-out stream, each starting at a BOS. */
export function windows(trained: TrainedGPT, batch: number, time: number, skip = 0): number[][] {
  const { heldOut, tokenizer } = trained;
  const starts = heldOut.flatMap((id, i) => (id === tokenizer.bos && i + time <= heldOut.length ? [i] : []));
  return starts.slice(skip, skip + batch).map((start) => heldOut.slice(start, start + time));
}

/** The engine's logits at every position of each sequence, [batch][time][vocab]. */
export function engineLogits(gpt: GPT, sequences: readonly number[][]): number[][][] {
  return noGrad(() =>
    sequences.map((tokens) => {
      const cache = gpt.newCache();
      return tokens.map((token, position) => gpt.forward(token, position, cache).map((l) => l.data));
    }),
  );
}

/** The largest difference, relative for numbers above 1 in size. */
export function largestDifference(actual: ArrayLike<number>, expected: readonly number[]): number {
  if (actual.length !== expected.length) {
    throw new Error(`${actual.length} numbers where ${expected.length} were expected`);
  }
  let worst = 0;
  expected.forEach((x, i) => {
    worst = Math.max(worst, Math.abs(actual[i] - x) / Math.max(1, Math.abs(x)));
  });
  return worst;
}
