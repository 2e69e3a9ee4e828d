// Training a GPT, measuring it on held-out documents, and sampling from it.
import { noGrad, Value } from "./engine.js";
import type { GPT } from "./gpt.js";
import { Adam, scheduledRate } from "./optim.js";
import { createRandom, shuffled } from "./random.js";
import type { CharTokenizer } from "./tokenizer.js";

/** The reference's recipe, as defaults. */
export const GPT_TRAINING_DEFAULTS = {
  steps: 1000,
  lr: 0.01,
  betas: [0.85, 0.99] as [number, number],
  eps: 1e-8,
  batchSize: 1,
} as const;

export interface TrainGPTOptions {
  /** Optimizer steps (default 1000). */
  steps?: number;
  /** Starting learning rate, decaying linearly to 0 over the run (default 0.01). */
  lr?: number;
  /** Adam's decay rates (default [0.85, 0.99]). */
  betas?: [number, number];
  eps?: number;
  /** Documents per step, their losses averaged (default 1, as the reference). */
  batchSize?: number;
  /** Called after every step; return false to stop early. */
  onStep?: (record: GPTStepRecord) => boolean | undefined;
}

export interface GPTStepRecord {
  step: number;
  /** The mean loss of the step's documents, before the update. */
  loss: number;
  lr: number;
}

/**
 * Trains with Adam. Step k reads the next `batchSize` documents (token ids with BOS at both
 * ends) in order, wrapping around: shuffle them first for a fair sample.
 */
export function trainGPT(
  gpt: GPT,
  documents: readonly (readonly number[])[],
  options: TrainGPTOptions = {},
): { losses: number[]; optimizer: Adam } {
  const { steps, lr, betas, eps, batchSize } = { ...GPT_TRAINING_DEFAULTS, ...options };
  if (!Array.isArray(documents) || documents.length === 0) {
    throw new RangeError("trainGPT: no documents to train on");
  }
  for (const [name, value] of [
    ["steps", steps],
    ["batchSize", batchSize],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`trainGPT: ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  const optimizer = new Adam(gpt.parameters(), { lr, betas, eps });
  const schedule = { kind: "linear", endFactor: 0 } as const;
  const losses: number[] = [];
  let next = 0;
  for (let step = 0; step < steps; step++) {
    const batch: Value[] = [];
    for (let i = 0; i < batchSize; i++) {
      batch.push(gpt.loss(documents[next]));
      next = (next + 1) % documents.length;
    }
    const loss = batchSize === 1 ? batch[0] : Value.sum(batch).mul(1 / batchSize);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.lr = scheduledRate(schedule, lr, step, steps);
    optimizer.step();
    losses.push(loss.data);
    if (options.onStep?.({ step, loss: loss.data, lr: optimizer.lr }) === false) break;
  }
  return { losses, optimizer };
}

/**
 * The mean −log p(next token) over every predicted token of the documents (per character,
 * the end of each document included): the number to compare with a bigram model's.
 */
export function evaluateGPT(gpt: GPT, documents: readonly (readonly number[])[]): number {
  let sum = 0;
  let count = 0;
  noGrad(() => {
    for (const doc of documents) {
      const n = Math.min(gpt.config.blockSize, doc.length - 1);
      sum += gpt.loss(doc).data * n;
      count += n;
    }
  });
  if (count === 0) throw new RangeError("evaluateGPT: no tokens to predict");
  return sum / count;
}

export interface SampleOptions {
  /** How many samples (default 20). */
  n?: number;
  /** Default 0.5, as the reference. */
  temperature?: number;
  /** Text every sample starts with. */
  prefix?: string;
  seed?: number;
}

/** `n` documents sampled from the model, as text; the same seed gives the same samples. */
export function sampleText(gpt: GPT, tokenizer: CharTokenizer, options: SampleOptions = {}): string[] {
  const { n = 20, temperature = 0.5, prefix = "", seed } = options;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`sampleText: n must be an integer >= 0, got ${n}`);
  if (tokenizer.vocabSize !== gpt.config.vocabSize) {
    throw new RangeError(
      `sampleText: the tokenizer has ${tokenizer.vocabSize} tokens but the model ${gpt.config.vocabSize}`,
    );
  }
  const prefixIds = tokenizer.encodeText(prefix);
  const random = createRandom(seed);
  return Array.from({ length: n }, () =>
    tokenizer.decode(gpt.generate({ bos: tokenizer.bos, random, temperature, prefix: prefixIds })),
  );
}

/** A seeded shuffle of the documents, split into training and held-out parts (the last `heldOut` fraction). */
export function splitDocumentsForTraining<T>(
  documents: readonly T[],
  options: { heldOut?: number; seed?: number } = {},
): { train: T[]; test: T[] } {
  const { heldOut = 0.1, seed = 42 } = options;
  if (!(heldOut >= 0 && heldOut < 1)) {
    throw new RangeError(`splitDocumentsForTraining: heldOut must be >= 0 and < 1, got ${heldOut}`);
  }
  const order = shuffled(documents, createRandom(seed));
  const testSize = Math.floor(order.length * heldOut);
  return { train: order.slice(0, order.length - testSize), test: order.slice(order.length - testSize) };
}
