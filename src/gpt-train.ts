// Training a GPT, measuring it on held-out documents, and sampling from it.
//
// Training and evaluation replay a compiled loss by default: the graph of a document depends
// only on its length, so each length is traced once (token ids are inputs, chosen by recorded
// selections) and every later document of that length replays the tape on typed arrays.
import { ParameterArena } from "./arena.js";
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  checkCheckpoint,
  type DataIdentity,
  dataIdentity,
  type GPTCheckpoint,
  type TrainingPlan,
} from "./checkpoint.js";
import { type CompiledFunction, compile } from "./compile/index.js";
import { isRecording, noGrad, type Value } from "./engine.js";
import type { GPT, Token } from "./gpt.js";
import { Adam, AdamW, type Schedule, scheduledRate } from "./optim.js";
import { checkOptions } from "./options.js";
import { createRandom, shuffled } from "./random.js";
import { TextWindows } from "./text.js";
import { Trainer } from "./trainer.js";

/** The reference's recipe, as defaults. */
export const GPT_TRAINING_DEFAULTS = {
  steps: 1000,
  lr: 0.01,
  betas: [0.85, 0.99] as [number, number],
  eps: 1e-8,
  batchSize: 1,
} as const;

/**
 * The starting learning rate for a model named only by its width (what `gpt train --embd`
 * without `--lr` uses): a rate measured at one width (by default the reference's 0.01 at 16),
 * scaled by that width / nEmbd. A wider matrix sums more inputs, so the same step on every
 * weight moves its outputs further; the width-aware recipe for Adam (μP) lowers the rate of
 * hidden matrices as 1/width. `gpt train --text` starts from its own measurement (0.01 at 32
 * wide, two layers, on Tiny Shakespeare: 0.0067 at its default 48).
 */
export function defaultLearningRate(
  nEmbd: number,
  measured: { lr: number; nEmbd: number } = { lr: GPT_TRAINING_DEFAULTS.lr, nEmbd: 16 },
): number {
  return (measured.lr * measured.nEmbd) / nEmbd;
}

/** What a GPT trains on: documents (token ids with BOS at both ends), or running text read as windows. */
export type GPTTrainingData = readonly (readonly number[])[] | TextWindows;

export interface TrainGPTOptions {
  /** Optimizer steps (default 1000). With `time`, the steps are fitted to the budget instead. */
  steps?: number;
  /**
   * Starting learning rate, after the warm-up if any (default 0.01, the reference's; for a model
   * of another width, `defaultLearningRate(nEmbd)` is the rate to start from).
   */
  lr?: number;
  /** Adam's decay rates (default [0.85, 0.99]). */
  betas?: [number, number];
  eps?: number;
  /** Documents or windows per step, their losses averaged (default 1, as the reference). */
  batchSize?: number;
  /** AdamW's decoupled weight decay (default 0: Adam, as the reference). */
  weightDecay?: number;
  /** Steps over which the rate climbs to `lr` before the decay (default 0). */
  warmup?: number;
  /** The decay after the warm-up, to 0 at the last step: "linear" (the reference's, default), "cosine", or "constant". */
  schedule?: "linear" | "cosine" | "constant";
  /** Clip the gradients to this global norm before each update (default: no clipping). */
  clip?: number;
  /** Seeds the windows drawn from running text (default 0), apart from the weights' seed. */
  seed?: number;
  /**
   * Train for this many seconds of wall-clock time instead of a number of steps: the steps, and
   * so the schedule, are fitted to the budget from the speed measured in the first seconds.
   */
  time?: number;
  /** Held-out documents or text, measured every `evalEvery` steps and at the end. */
  heldOut?: GPTTrainingData;
  /** Steps between two measurements of the held-out loss (default: only at the end, when `heldOut` is given). */
  evalEvery?: number;
  /** Windows (spread evenly over held-out text) or documents (the first ones) measured each time: the same sample every time. Default 100. */
  evalSize?: number;
  /** Steps between two checkpoints given to `onCheckpoint` (default: none during the run). */
  checkpointEvery?: number;
  onCheckpoint?: (checkpoint: GPTCheckpoint) => void;
  /** A checkpoint of this run to continue from: the same weights to the last bit as not stopping. */
  resume?: GPTCheckpoint;
  /** Called after every step; return false to stop early (`checkpoint()` of the result can continue it). */
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
  weightDecay: true,
  warmup: true,
  schedule: true,
  clip: true,
  seed: true,
  time: true,
  heldOut: true,
  evalEvery: true,
  evalSize: true,
  checkpointEvery: true,
  onCheckpoint: true,
  resume: true,
  onStep: true,
  compile: true,
  workers: true,
} as const;

export interface GPTStepRecord {
  step: number;
  /** The mean loss of the step's documents or windows, before the update. */
  loss: number;
  lr: number;
  /** The held-out loss after this step, when it was measured. */
  heldOutLoss?: number;
  /** Seconds since training began (a resumed run counts on from its checkpoint). */
  elapsed: number;
  /** The steps of the whole run (with a time budget: the current estimate). */
  steps: number;
}

export interface GPTTrainingResult {
  losses: number[];
  optimizer: Adam;
  /** Every measurement of the held-out loss: after which step, and the loss. */
  evaluations: { step: number; loss: number }[];
  /** The steps of the whole run (fitted to the budget with `time`). */
  steps: number;
  /** The run as it stands, to continue later with `resume`. */
  checkpoint(): GPTCheckpoint;
}

/**
 * Trains with Adam (AdamW with `weightDecay`). On documents, step k reads the next
 * `batchSize` documents in order, wrapping around: shuffle them first for a fair sample. On
 * running text (`TextWindows`), each step draws `batchSize` windows of the block at random
 * places and predicts every next character of each.
 */
export function trainGPT(gpt: GPT, data: GPTTrainingData, options: TrainGPTOptions = {}): GPTTrainingResult {
  checkOptions("trainGPT", options, TRAIN_GPT_OPTIONS);
  const plan = trainingPlan(options);
  const { batchSize } = plan;
  const block = gpt.config.blockSize;
  const source = trainingSource("trainGPT", gpt, data, plan.seed);
  const heldOutSample = options.heldOut === undefined ? undefined : evaluationSample(gpt, options);
  const evalEvery = checkCount("evalEvery", options.evalEvery);
  const checkpointEvery = checkCount("checkpointEvery", options.checkpointEvery);
  const optimizer =
    plan.weightDecay > 0
      ? new AdamW(parametersOf(gpt), {
          lr: plan.lr,
          betas: plan.betas,
          eps: plan.eps,
          weightDecay: plan.weightDecay,
        })
      : new Adam(parametersOf(gpt), { lr: plan.lr, betas: plan.betas, eps: plan.eps });
  const schedule: Schedule =
    plan.schedule === "constant"
      ? { kind: "constant", warmup: plan.warmup }
      : { kind: plan.schedule, endFactor: 0, ...(plan.warmup > 0 ? { warmup: plan.warmup } : {}) };
  // Fitted to the budget once the speed is known; until then the decay has not begun.
  let totalSteps = plan.steps ?? Number.POSITIVE_INFINITY;
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
    arena: compiled ? (workers?.arena ?? arenaOf(gpt)) : undefined,
    // Written back only when something looks: an evaluation, a checkpoint, onStep, the end.
    writeBack: "on sync",
    // Shared with evaluateGPT, so that held-out documents replay the traces of training.
    compiled: options.compile === false ? undefined : compiledLoss(gpt),
    learningRate: (step) => scheduledRate(schedule, plan.lr, step, totalSteps),
    clip: plan.clip ?? undefined,
    caller: "trainGPT",
    steps: plan.steps ?? undefined,
  });
  let elapsedBefore = 0;
  if (options.resume !== undefined) {
    const checkpoint = checkCheckpoint("trainGPT (resume)", options.resume, {
      config: { ...gpt.config },
      plan,
      data: source.identity,
    });
    // The moments first: the optimizer is this run's own, so a damaged checkpoint refused
    // there or in the weights (each checked whole before it changes anything) leaves the model as it was.
    optimizer.loadStateDict(checkpoint.optimizer);
    gpt.loadStateDict(checkpoint.weights);
    trainer.step = checkpoint.step;
    trainer.lastLoss = checkpoint.lastLoss ?? Number.NaN;
    source.restore(checkpoint);
    elapsedBefore = checkpoint.elapsed;
    if (checkpoint.plan.steps !== null) totalSteps = checkpoint.plan.steps;
  }
  const checkpoint = (): GPTCheckpoint => ({
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    config: { ...gpt.config },
    plan: { ...plan, steps: Number.isFinite(totalSteps) ? totalSteps : null },
    data: source.identity,
    step: trainer.step,
    lastLoss: Number.isNaN(trainer.lastLoss) ? null : trainer.lastLoss,
    elapsed: elapsedBefore + (performance.now() - started) / 1000,
    weights: gpt.stateDict(),
    optimizer: optimizer.stateDict(),
    ...source.position(),
  });

  const losses: number[] = [];
  const evaluations: { step: number; loss: number }[] = [];
  const started = performance.now();
  const budget = plan.time === null ? undefined : new Budget(plan.time, elapsedBefore, trainer.step);
  try {
    while (trainer.step < totalSteps && !budget?.spent()) {
      if (!takeStep()) break;
    }
  } finally {
    trainer.sync();
  }
  return {
    losses,
    optimizer,
    evaluations,
    steps: Number.isFinite(totalSteps) ? totalSteps : trainer.step,
    checkpoint,
  };

  /** One step, and what follows it (evaluation, checkpoint, onStep); returns whether to go on. */
  function takeStep(): boolean {
    const step = trainer.step;
    // A batch is replayed one document or window at a time, each weighted by 1/batchSize, so
    // that its gradient adds up to that of the batch's mean loss.
    trainer.begin();
    let sum = 0;
    if (workers) {
      const batch = Array.from({ length: batchSize }, () => source.next(block));
      for (const documentLoss of trainer.within(() => workers.compute(batch, 1 / batchSize)))
        sum += documentLoss;
    } else {
      for (let i = 0; i < batchSize; i++) {
        const [, documentLoss] = trainer.accumulate(source.next(block), 1 / batchSize);
        sum += documentLoss.data;
      }
    }
    const loss = batchSize === 1 ? sum : sum * (1 / batchSize);
    trainer.update(loss);
    losses.push(loss);
    if (budget) totalSteps = budget.fit(trainer.step, totalSteps);
    const record: GPTStepRecord = {
      step,
      loss,
      lr: optimizer.lr,
      elapsed: 0,
      steps: Number.isFinite(totalSteps) ? totalSteps : 0,
    };
    const last = trainer.step >= totalSteps || (budget?.spent() ?? false);
    const evaluate = heldOutSample && ((evalEvery !== undefined && trainer.step % evalEvery === 0) || last);
    const save =
      checkpointEvery !== undefined && trainer.step % checkpointEvery === 0 && options.onCheckpoint;
    // The parameters as the evaluation, the checkpoint and onStep read (or change) them.
    if (evaluate || save || options.onStep) trainer.sync();
    if (evaluate) {
      record.heldOutLoss = evaluateGPT(gpt, heldOutSample, { compile: options.compile });
      evaluations.push({ step, loss: record.heldOutLoss });
    }
    record.elapsed = elapsedBefore + (performance.now() - started) / 1000;
    if (save) options.onCheckpoint?.(checkpoint());
    return options.onStep?.(record) !== false;
  }
}

/** The run's settings with their defaults, checked: what a checkpoint must agree with. */
function trainingPlan(options: TrainGPTOptions): TrainingPlan {
  // Option by option, so that an option given as undefined takes its default (a spread would keep the undefined).
  const defaults = GPT_TRAINING_DEFAULTS;
  const time = options.time ?? null;
  if (time !== null) {
    if (!(typeof time === "number" && time > 0 && Number.isFinite(time))) {
      throw new RangeError(`trainGPT: time must be a number of seconds > 0, got ${String(time)}`);
    }
    if (options.steps !== undefined) {
      throw new RangeError(
        "trainGPT: give steps or time, not both (with time, the steps are fitted to the budget)",
      );
    }
  }
  const plan: TrainingPlan = {
    steps: time === null ? (options.steps ?? defaults.steps) : null,
    lr: options.lr ?? defaults.lr,
    betas: options.betas ?? [...defaults.betas],
    eps: options.eps ?? defaults.eps,
    batchSize: options.batchSize ?? defaults.batchSize,
    weightDecay: options.weightDecay ?? 0,
    warmup: options.warmup ?? 0,
    schedule: options.schedule ?? "linear",
    clip: options.clip ?? null,
    seed: options.seed ?? 0,
    time,
  };
  for (const name of ["steps", "batchSize"] as const) {
    const value = plan[name];
    if (value !== null && (!Number.isInteger(value) || value < 1)) {
      throw new RangeError(`trainGPT: ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  if (!Number.isInteger(plan.warmup) || plan.warmup < 0) {
    throw new RangeError(`trainGPT: warmup must be an integer >= 0 (steps), got ${String(plan.warmup)}`);
  }
  if (plan.steps !== null && plan.warmup >= plan.steps) {
    throw new RangeError(
      `trainGPT: warmup (${plan.warmup} steps) must be shorter than the run (${plan.steps} steps)`,
    );
  }
  if (!["linear", "cosine", "constant"].includes(plan.schedule)) {
    throw new RangeError(
      `trainGPT: schedule must be "linear", "cosine" or "constant", got ${JSON.stringify(plan.schedule)}`,
    );
  }
  if (!(typeof plan.weightDecay === "number" && plan.weightDecay >= 0 && Number.isFinite(plan.weightDecay))) {
    throw new RangeError(
      `trainGPT: weightDecay must be a finite number >= 0, got ${String(plan.weightDecay)}`,
    );
  }
  if (!Number.isInteger(plan.seed))
    throw new RangeError(`trainGPT: seed must be an integer, got ${String(plan.seed)}`);
  return plan;
}

function checkCount(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
    throw new RangeError(`trainGPT: ${name} must be a positive integer (steps), got ${String(value)}`);
  }
  return value;
}

/** Where the sequences of each step come from, and how far it has got (for checkpoints). */
interface TrainingSource {
  identity: DataIdentity;
  /** The next document, or a fresh random window of `block` predictions. */
  next(block: number): readonly number[];
  position(): { random: number; position: number };
  restore(checkpoint: { random: number; position: number }): void;
}

function trainingSource(caller: string, gpt: GPT, data: GPTTrainingData, seed: number): TrainingSource {
  const random = createRandom(seed);
  if (data instanceof TextWindows) {
    checkText(caller, gpt, data, "training");
    return {
      identity: dataIdentity("text", [data.ids], data.length),
      next: (block) => data.random(block, random),
      position: () => ({ random: random.state, position: 0 }),
      restore: (checkpoint) => {
        random.state = checkpoint.random;
      },
    };
  }
  if (!Array.isArray(data) || data.length === 0) throw new RangeError(`${caller}: no documents to train on`);
  checkDocuments(caller, gpt, data);
  let next = 0;
  return {
    identity: dataIdentity("documents", data, data.length),
    next: () => {
      const doc = seen(gpt, data[next]);
      next = (next + 1) % data.length;
      return doc;
    },
    position: () => ({ random: random.state, position: next }),
    restore: (checkpoint) => {
      if (
        !Number.isInteger(checkpoint.position) ||
        checkpoint.position < 0 ||
        checkpoint.position >= data.length
      ) {
        throw new RangeError(
          `${caller}: the checkpoint is damaged: position ${checkpoint.position} is not a document`,
        );
      }
      next = checkpoint.position;
    },
  };
}

/** The fixed held-out sample: windows spread evenly over held-out text, or the first documents. */
function evaluationSample(gpt: GPT, options: TrainGPTOptions): readonly (readonly number[])[] {
  const size = options.evalSize ?? 100;
  if (!(Number.isInteger(size) && size >= 1)) {
    throw new RangeError(`trainGPT: evalSize must be a positive integer, got ${String(size)}`);
  }
  const heldOut = options.heldOut;
  if (heldOut instanceof TextWindows) {
    checkText("trainGPT", gpt, heldOut, "held-out");
    return heldOut.spread(size, gpt.config.blockSize);
  }
  if (!Array.isArray(heldOut) || heldOut.length === 0)
    throw new RangeError("trainGPT: no held-out documents");
  checkDocuments("trainGPT (heldOut)", gpt, heldOut);
  return heldOut.slice(0, size);
}

/** Running text holds at least one window of the block, every id of the model's vocabulary. */
function checkText(caller: string, gpt: GPT, text: TextWindows, part: string): void {
  const { blockSize, vocabSize } = gpt.config;
  if (text.count(blockSize) < 1) {
    throw new RangeError(
      `${caller}: the ${part} text has ${text.length} characters; a window of the block (${blockSize}) needs ${blockSize + 1}: use a smaller block or more text`,
    );
  }
  const bad = text.ids.findIndex((id) => id >= vocabSize);
  if (bad >= 0) {
    throw new RangeError(
      `${caller}: the ${part} text has token ${text.ids[bad]} at ${bad}, not an id in 0..${vocabSize - 1}`,
    );
  }
}

/**
 * A wall-clock budget: the run's steps fitted to it from the measured speed (held-out
 * measurements included), once the first steps (which trace the compiled loss) are past, and
 * fitted again each time another twentieth of the budget is spent, until the last tenth.
 */
class Budget {
  private readonly started = performance.now();
  /** Where the speed is measured from: after the first steps. */
  private from: { time: number; step: number } | undefined;
  private nextFit: number;

  constructor(
    private readonly seconds: number,
    private readonly spentBefore: number,
    private readonly firstStep: number,
  ) {
    this.nextFit = spentBefore + Math.min(0.05 * seconds, 10);
  }

  private elapsed(now = performance.now()): number {
    return this.spentBefore + (now - this.started) / 1000;
  }

  spent(): boolean {
    return this.elapsed() >= this.seconds;
  }

  /** The steps the budget allows, given `done` steps so far and the current estimate. */
  fit(done: number, current: number): number {
    const now = performance.now();
    if (this.from === undefined) {
      if (done - this.firstStep >= 3) this.from = { time: now, step: done };
      return current;
    }
    const elapsed = this.elapsed(now);
    if (elapsed < this.nextFit || elapsed > 0.9 * this.seconds || done === this.from.step) return current;
    this.nextFit = elapsed + 0.05 * this.seconds;
    const perStep = (now - this.from.time) / 1000 / (done - this.from.step);
    return done + Math.max(1, Math.floor((this.seconds - elapsed) / perStep));
  }
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
const arenas = new WeakMap<GPT, ParameterArena>();

const parameterLists = new WeakMap<GPT, Value[]>();

/**
 * `gpt.parameters()`, listed once per model: an optimizer checks a list it has seen before in
 * no time, and a new list of 100,000 parameters for duplicates in about 20 ms, at every call.
 */
function parametersOf(gpt: GPT): Value[] {
  let parameters = parameterLists.get(gpt);
  if (!parameters) {
    parameters = gpt.parameters();
    parameterLists.set(gpt, parameters);
  }
  return parameters;
}

/**
 * The arena of `gpt`'s parameters for compiled training, one per model, so that each trace
 * finds its parameters in it once, not at every call of trainGPT.
 */
function arenaOf(gpt: GPT): ParameterArena {
  let arena = arenas.get(gpt);
  if (!arena) {
    arena = new ParameterArena(parametersOf(gpt));
    arenas.set(gpt, arena);
  }
  return arena;
}

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
export function checkDocuments(
  caller: string,
  gpt: Pick<GPT, "config">,
  documents: readonly (readonly number[])[],
): void {
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

export { type SampleOptions, sampleText } from "./sampling.js";

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
