// Training a GPT, measuring it on held-out documents, and sampling from it.
//
// Training and evaluation replay a compiled loss by default: the graph of a document depends
// only on its length, so each length is traced once (token ids are inputs, chosen by recorded
// selections) and every later document of that length replays the tape on typed arrays.
import { ParameterArena } from "./arena.js";
import { type CompiledFunction, compile } from "./compile/index.js";
import { isRecording, noGrad, type Value } from "./engine.js";
import type { GPT, Token } from "./gpt.js";
import { Adam, scheduledRate } from "./optim.js";
import { checkOptions } from "./options.js";
import { createRandom, shuffled } from "./random.js";
import type { CharTokenizer } from "./tokenizer.js";
import { Trainer } from "./trainer.js";

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
  /**
   * Replay a compiled loss, traced once per document length (default true); false builds
   * every step's graph eagerly, the reference path. Both take the same steps (to ~1e-15).
   */
  compile?: boolean;
  /**
   * Where batches of more than one document are computed: worker threads sharing each batch
   * (GPTWorkers in micrograd/node). Compiled only; the same steps as one thread to rounding.
   */
  workers?: BatchGradients;
}

/**
 * Computes a batch's gradients elsewhere, such as on worker threads: from the weights in
 * `arena.data` (an arena over the model's parameters), sets `arena.grad` to the sum over the
 * documents, in their order, of d(weight · loss)/d(parameter); returns each document's loss.
 */
export interface BatchGradients {
  readonly arena: ParameterArena;
  /** The most documents one call takes. */
  readonly maxBatch: number;
  compute(documents: readonly (readonly number[])[], weight: number): number[];
}

const TRAIN_GPT_OPTIONS = {
  steps: true,
  lr: true,
  betas: true,
  eps: true,
  batchSize: true,
  onStep: true,
  compile: true,
  workers: true,
} as const;

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
  checkOptions("trainGPT", options, TRAIN_GPT_OPTIONS);
  // Option by option, so that an option given as undefined takes its default (a spread would keep the undefined).
  const defaults = GPT_TRAINING_DEFAULTS;
  const steps = options.steps ?? defaults.steps;
  const lr = options.lr ?? defaults.lr;
  const betas = options.betas ?? defaults.betas;
  const eps = options.eps ?? defaults.eps;
  const batchSize = options.batchSize ?? defaults.batchSize;
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
  checkDocuments("trainGPT", gpt, documents);
  const optimizer = new Adam(gpt.parameters(), { lr, betas, eps });
  const schedule = { kind: "linear", endFactor: 0 } as const;
  // The documents were checked up front, so a number out of range (log of a probability rounded
  // to 0, an overflow) means the weights grew without bound: the trainer's advice, a smaller
  // learning rate, names the cause.
  const compiled = options.compile !== false;
  const workers = batchSize > 1 ? options.workers : undefined;
  if (options.workers && !compiled) {
    throw new RangeError("trainGPT: workers replay the compiled loss; they cannot train with compile: false");
  }
  if (workers && batchSize > workers.maxBatch) {
    throw new RangeError(
      `trainGPT: batchSize ${batchSize} is more than the workers take (${workers.maxBatch})`,
    );
  }
  const trainer = new Trainer({
    optimizer,
    loss: weightedLoss(gpt),
    compile: compiled,
    // Compiled steps update the weights in an arena: the workers' when there are some.
    arena: compiled ? (workers?.arena ?? new ParameterArena(gpt.parameters())) : undefined,
    // Shared with evaluateGPT, so that held-out documents replay the traces of training.
    compiled: options.compile === false ? undefined : compiledLoss(gpt),
    learningRate: (step) => scheduledRate(schedule, lr, step, steps),
    caller: "trainGPT",
    steps,
  });
  const losses: number[] = [];
  let next = 0;
  for (let step = 0; step < steps; step++) {
    // A batch is replayed one document at a time, each weighted by 1/batchSize, so that its
    // gradient adds up to that of the batch's mean loss.
    trainer.begin();
    let sum = 0;
    if (workers) {
      const batch = Array.from({ length: batchSize }, (_, i) => documents[(next + i) % documents.length]);
      next = (next + batchSize) % documents.length;
      for (const documentLoss of trainer.within(() => workers.compute(batch, 1 / batchSize)))
        sum += documentLoss;
    } else {
      for (let i = 0; i < batchSize; i++) {
        const [, documentLoss] = trainer.accumulate(seen(gpt, documents[next]), 1 / batchSize);
        sum += documentLoss.data;
        next = (next + 1) % documents.length;
      }
    }
    const loss = batchSize === 1 ? sum : sum * (1 / batchSize);
    trainer.update(loss);
    losses.push(loss);
    if (options.onStep?.({ step, loss, lr: optimizer.lr }) === false) break;
  }
  return { losses, optimizer };
}

/**
 * The mean −log p(next token) over every predicted token of the documents (per character,
 * the end of each document included): the number to compare with a bigram model's.
 */
export function evaluateGPT(
  gpt: GPT,
  documents: readonly (readonly number[])[],
  options: { compile?: boolean } = {},
): number {
  checkOptions("evaluateGPT", options, { compile: true });
  checkDocuments("evaluateGPT", gpt, documents);
  let sum = 0;
  let count = 0;
  // Tracing records a graph, so inside noGrad() only traces made earlier could replay: eager then.
  const compiled = options.compile === false || !isRecording() ? undefined : compiledLoss(gpt);
  const run = () => {
    for (const doc of documents) {
      const n = Math.min(gpt.config.blockSize, doc.length - 1);
      const loss = compiled ? compiled(seen(gpt, doc), 1)[1].data : gpt.loss(doc).data;
      sum += loss * n;
      count += n;
    }
  };
  if (compiled) run();
  else noGrad(run);
  if (count === 0) throw new RangeError("evaluateGPT: no tokens to predict");
  return sum / count;
}

// ---- the compiled loss -------------------------------------------------------------------------

/** A document's loss weighted by a factor (the gradient it sends), and the loss itself. */
function weightedLoss(gpt: GPT) {
  return (tokens: readonly Token[], weight: Token): [Value, Value] => {
    const loss = gpt.loss(tokens);
    return [loss.mul(weight), loss];
  };
}

type GPTLossFunction = CompiledFunction<ReturnType<typeof weightedLoss>>;
const compiledLosses = new WeakMap<GPT, GPTLossFunction>();

/**
 * The compiled loss of `gpt`, made once per model and shared by training and evaluation. One
 * trace per document length: 2 … blockSize + 1 tokens, as documents are cut to what is seen.
 */
export function compiledLoss(gpt: GPT): GPTLossFunction {
  let f = compiledLosses.get(gpt);
  if (!f) {
    f = compile(
      weightedLoss(gpt),
      // The loss reads no .data (the softmax shift is Value.max), and the tests compare it with
      // eager; a constant such as 1/n or 0.5 may equal some node's value by chance.
      { maxTraces: gpt.config.blockSize + 2, constantCheck: false },
    );
    compiledLosses.set(gpt, f);
  }
  return f;
}

/** The tokens the loss reads (BOS, then up to blockSize more): longer documents share a trace. */
function seen(gpt: GPT, doc: readonly number[]): readonly number[] {
  const n = gpt.config.blockSize + 1;
  return doc.length > n ? doc.slice(0, n) : doc;
}

/**
 * Every document has at least 2 tokens, each an id of the model's vocabulary: checked up
 * front, so that a bad one is named before training starts rather than deep in a replay.
 */
function checkDocuments(caller: string, gpt: GPT, documents: readonly (readonly number[])[]): void {
  if (!Array.isArray(documents) || documents.length === 0) {
    throw new RangeError(`${caller}: no documents`);
  }
  const { vocabSize } = gpt.config;
  documents.forEach((doc, i) => {
    if (!Array.isArray(doc) || doc.length < 2) {
      throw new RangeError(
        `${caller}: document ${i} needs at least 2 tokens (BOS, …, BOS), got ${Array.isArray(doc) ? doc.length : typeof doc}`,
      );
    }
    for (const id of doc) {
      if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) {
        throw new RangeError(
          `${caller}: document ${i} has token ${String(id)}, not an id in 0..${vocabSize - 1}`,
        );
      }
    }
  });
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
  const {
    n = 20,
    temperature = 0.5,
    prefix = "",
    seed,
  } = checkOptions("sampleText", options, {
    n: true,
    temperature: true,
    prefix: true,
    seed: true,
  });
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
  const { heldOut = 0.1, seed = 42 } = checkOptions("splitDocumentsForTraining", options, {
    heldOut: true,
    seed: true,
  });
  if (!(heldOut >= 0 && heldOut < 1)) {
    throw new RangeError(`splitDocumentsForTraining: heldOut must be >= 0 and < 1, got ${heldOut}`);
  }
  const order = shuffled(documents, createRandom(seed));
  const testSize = Math.floor(order.length * heldOut);
  return { train: order.slice(0, order.length - testSize), test: order.slice(order.length - testSize) };
}
