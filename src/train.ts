// Training and evaluation of a classifier on a Dataset: the loop every example would otherwise repeat.
import type { ParameterArena } from "./arena.js";
import { type CompiledFunction, compile } from "./compile/index.js";
import type { Dataset } from "./data.js";
import { isRecording, noGrad, type Operand, Value } from "./engine.js";
import { classificationLoss, LOSS_NAMES, type LossName, l2Penalty, predictedClass } from "./losses.js";
import type { MLP } from "./nn.js";
import {
  Adam,
  checkSchedule,
  OPTIMIZER_NAMES,
  type Optimizer,
  type OptimizerName,
  type Schedule,
  SGD,
  scheduledRate,
} from "./optim.js";
import { checkOptions, type OptionKeys } from "./options.js";
import { createRandom, shuffled } from "./random.js";
import { Trainer } from "./trainer.js";

export interface FitOptions {
  /** Default: "hinge" for a model with one output, "softmax" for several. */
  loss?: LossName;
  /** A name, or an optimizer you built over `model.parameters()`. Default "sgd". */
  optimizer?: OptimizerName | Optimizer;
  /** Starting learning rate (ignored when `optimizer` is an instance). Default 0.1 for SGD, 0.01 for Adam. */
  lr?: number;
  /** SGD only. */
  momentum?: number;
  weightDecay?: number;
  schedule?: Schedule;
  /** L2 penalty alpha · Σp² added to the loss. Default 0. */
  l2?: number;
  /** Optimizer steps. Give `steps` or `epochs`, not both; default 100 steps. */
  steps?: number;
  /** Passes over the data, each of ceil(n / batchSize) steps. */
  epochs?: number;
  /** Samples per step; default all of them (full batch). */
  batchSize?: number;
  /** Seeds the shuffling of mini-batches. */
  seed?: number;
  /** Measured on this data set every `validateEvery` steps and at the end. */
  validation?: Dataset;
  validateEvery?: number;
  /** Called after every step; return false to stop training early. */
  onStep?: (record: StepRecord) => boolean | undefined;
  /**
   * Trace the training step once per batch shape and replay it on typed arrays (see
   * `compile`): the same numbers, many times faster. Default true; false runs the eager
   * engine, step by step, as the reference.
   */
  compile?: boolean;
  /**
   * Where each batch's gradient is computed: worker threads sharing it (MLPWorkers in
   * micrograd/node). Compiled only; the same steps as one thread to rounding.
   */
  workers?: ClassifierGradients;
}

/**
 * Computes a classifier's batch gradients elsewhere, such as on worker threads: from the
 * weights in `arena.data` (an arena over the model's parameters), sets `arena.grad` to the
 * gradient of the batch's `loss` (its mean over the samples) plus the L2 penalty l2 · Σp²;
 * returns that loss and each sample's outputs.
 */
export interface ClassifierGradients {
  readonly arena: ParameterArena;
  /** The most samples one call takes. */
  readonly maxBatch: number;
  compute(
    X: readonly (readonly number[])[],
    classes: readonly number[],
    loss: LossName,
    l2: number,
  ): { loss: number; outputs: number[][] };
}

const FIT_OPTIONS: OptionKeys<FitOptions> = {
  loss: true,
  optimizer: true,
  lr: true,
  momentum: true,
  weightDecay: true,
  schedule: true,
  l2: true,
  steps: true,
  epochs: true,
  batchSize: true,
  seed: true,
  validation: true,
  validateEvery: true,
  onStep: true,
  compile: true,
  workers: true,
};

/** What one step did. `loss` and `accuracy` are on its batch, before the update. */
export interface StepRecord {
  step: number;
  epoch: number;
  loss: number;
  accuracy: number;
  lr: number;
  validationLoss?: number;
  validationAccuracy?: number;
}

export interface FitResult {
  history: StepRecord[];
  optimizer: Optimizer;
  /** The loss and optimizer that were used, with defaults filled in. */
  loss: LossName;
  steps: number;
}

/**
 * Trains `model` on `data` with gradient descent and returns the history of every step.
 * Each step: forward the batch, loss (+ L2), zeroGrad, backward, optimizer step.
 */
export function fit(model: MLP, data: Dataset, options: FitOptions = {}): FitResult {
  checkOptions("fit", options, FIT_OPTIONS);
  checkDataset("fit", model, data);
  const loss = options.loss ?? defaultLoss(model);
  if (!LOSS_NAMES.includes(loss)) {
    throw new TypeError(`fit: unknown loss "${String(loss)}"; expected ${LOSS_NAMES.join(", ")}`);
  }
  checkLossFitsModel(model, data, loss);
  const n = data.X.length;
  const batchSize = options.batchSize ?? n;
  const stepsPerEpoch = Math.ceil(n / Math.min(batchSize, n));
  const steps = plannedSteps(n, options);
  const l2 = options.l2 ?? 0;
  if (!(l2 >= 0 && Number.isFinite(l2)))
    throw new RangeError(`fit: l2 must be a finite number >= 0, got ${l2}`);
  const schedule = checkSchedule("fit", options.schedule ?? { kind: "constant" });
  const optimizer = makeOptimizer(model, options);
  const baseRate = optimizer.lr;
  const validateEvery = options.validateEvery ?? Math.max(1, Math.floor(steps / 20));
  if (options.validation) checkDataset("fit (validation)", model, options.validation);

  const workers = checkWorkers(model, options, Math.min(batchSize, n));

  const history: StepRecord[] = [];
  const trainer = new Trainer({
    optimizer,
    // Traced once per batch shape: a full batch and the last, shorter batch of an epoch.
    loss: classifierLoss(model, loss, l2),
    compile: options.compile !== false,
    compileOptions: { maxTraces: 4 },
    // The workers read the weights from their arena, and the optimizer updates them there.
    arena: workers?.arena,
    learningRate: (step) => scheduledRate(schedule, baseRate, step, steps),
    caller: "fit",
    steps,
    // The data and the loss were checked up front, so a number out of range means something
    // grew without bound; say what it most likely was.
    explainDivergence: ({ updating }) =>
      divergenceCause({ model, data, l2, lr: baseRate, history, updating }),
  });
  const measureCompiled = options.compile !== false;
  const random = createRandom(options.seed ?? 0);
  let order = Array.from({ length: n }, (_, i) => i);
  for (let step = 0; step < steps; step++) {
    const epoch = Math.floor(step / stepsPerEpoch);
    const position = (step % stepsPerEpoch) * batchSize;
    if (position === 0 && batchSize < n) order = shuffled(order, random);
    const batch = batchSize >= n ? order : order.slice(position, position + batchSize);
    const classes = batch.map((i) => data.y[i]);
    const X = batch.map((i) => data.X[i]);
    let batchLoss: number;
    let outputs: readonly (readonly number[])[];
    if (workers) {
      trainer.begin();
      ({ loss: batchLoss, outputs } = trainer.within(() => workers.compute(X, classes, loss, l2)));
      trainer.update(batchLoss);
    } else {
      const [total, values] = trainer.trainStep(X, classes);
      batchLoss = total.data;
      outputs = values.map((row) => row.map((v) => v.data));
    }
    const record: StepRecord = {
      step,
      epoch,
      loss: batchLoss,
      accuracy: batchAccuracy(outputs, classes),
      lr: optimizer.lr,
    };
    if (options.validation && ((step + 1) % validateEvery === 0 || step === steps - 1)) {
      const scores = measure(model, options.validation, loss, measureCompiled);
      record.validationLoss = scores.loss;
      record.validationAccuracy = scores.accuracy;
    }
    history.push(record);
    if (options.onStep?.(record) === false) break;
  }
  return { history, optimizer, loss, steps };
}

/**
 * A classifier's loss on a batch as a function of its inputs and classes, the graph every
 * training step of an MLP backpropagates (and that `compile` traces): the loss of the outputs,
 * plus the L2 penalty l2 · Σp² when l2 > 0. The loss comes first, the outputs after it.
 */
export function classifierLoss(model: MLP, loss: LossName, l2 = 0) {
  const parameters = model.parameters();
  return (X: readonly (readonly Operand[])[], classes: readonly Operand[]) => {
    const outputs = X.map((x) => model.forward(x));
    let total = classificationLoss(loss, outputs, classes);
    if (l2 > 0) total = total.add(l2Penalty(parameters, l2));
    return [total, outputs] as const;
  };
}

/** Loss (without any penalty) and accuracy of `model` on `data`, without recording a graph. */
export function evaluate(
  model: MLP,
  data: Dataset,
  options: { loss?: LossName; compile?: boolean } = {},
): { loss: number; accuracy: number } {
  checkDataset("evaluate", model, data);
  checkOptions("evaluate", options, { loss: true, compile: true });
  return measure(model, data, options.loss ?? defaultLoss(model), options.compile !== false);
}

/**
 * How many steps `fit` takes on `n` samples with these options: `steps` (default 100), or
 * `epochs` passes of ceil(n / batchSize) steps each.
 */
export function plannedSteps(n: number, options: Pick<FitOptions, "steps" | "epochs" | "batchSize">): number {
  const batchSize = options.batchSize ?? n;
  checkInteger("fit", "batchSize", batchSize);
  if (options.steps !== undefined && options.epochs !== undefined) {
    throw new RangeError("fit: give steps or epochs, not both");
  }
  if (options.epochs === undefined) {
    const steps = options.steps ?? 100;
    checkInteger("fit", "steps", steps);
    return steps;
  }
  checkInteger("fit", "epochs", options.epochs);
  return options.epochs * Math.ceil(n / Math.min(batchSize, n));
}

/** A loss that cannot work with this many outputs is a mistake to name now, not a divergence later. */
function checkLossFitsModel(model: MLP, data: Dataset, loss: LossName): void {
  if (loss === "softmax" && model.nout === 1) {
    const k = Math.max(data.nClasses, 2);
    throw new RangeError(
      `fit: the softmax loss needs one output per class; this model has 1 output for ${k} classes ` +
        `(build its last layer with ${k} outputs, or use loss "hinge" with 1)`,
    );
  }
}

interface Divergence {
  model: MLP;
  data: Dataset;
  l2: number;
  lr: number;
  history: readonly StepRecord[];
  /** Whether the failure came in the optimizer's update rather than in the forward or backward pass. */
  updating: boolean;
}

/**
 * The likeliest cause of a run that produced a number too large to hold, from what can be
 * seen: the penalty, the shape of the output layer, the scale of the inputs, or else the steps.
 */
function divergenceCause({ model, data, l2, lr, history, updating }: Divergence): string {
  const parameters = model.parameters();
  let squares = 0;
  for (const p of parameters) squares += p.data * p.data;
  const penalty = l2 * squares;
  // Weights too large to square are what overflowing steps leave behind, not the penalty's fault.
  if (l2 > 0 && ((Number.isFinite(squares) && !Number.isFinite(penalty)) || l2 >= 1)) {
    return (
      `the cause is the L2 penalty: l2 = ${l2} times the sum of squared weights (${squares.toPrecision(3)}) ` +
      `${Number.isFinite(penalty) ? `is ${penalty.toPrecision(3)}` : "is too large to hold"}; ` +
      "use a much smaller l2 (1e-4 is typical)"
    );
  }
  const classes = Math.max(data.nClasses, 2);
  if (model.nout !== 1 && model.nout !== classes) {
    return (
      `the likely cause is the output layer: the model has ${model.nout} outputs for ${classes} classes; ` +
      `give its last layer ${classes === 2 ? "1 or 2 outputs" : `${classes} outputs`} ` +
      `(if the size is intended, try a smaller learning rate than ${lr})`
    );
  }
  let largest = 0;
  for (const row of data.X) for (const x of row) largest = Math.max(largest, Math.abs(x));
  if (largest > 1e4) {
    return (
      `the likely cause is the scale of the inputs: features as large as ${largest.toPrecision(3)}; ` +
      "standardize them to mean 0 and std 1 (standardize(X) fits the scaling)"
    );
  }
  if (history.length === 0 && !updating) {
    let weight = 0;
    for (const p of parameters) weight = Math.max(weight, Math.abs(p.data));
    return (
      `no update had happened yet, so the cause is the starting weights (the largest is ${weight.toPrecision(3)}) ` +
      "or the inputs, not the learning rate"
    );
  }
  const first = history[0]?.loss;
  const last = history[history.length - 1]?.loss;
  const trend =
    first !== undefined && last !== undefined && last > first
      ? `the loss grew from ${first.toPrecision(3)} to ${last.toPrecision(3)}: `
      : "";
  return `${trend}the steps are too large; try a smaller learning rate than ${lr}`;
}

/** Hinge for a one-output model (a score whose sign is the class), softmax for several outputs. */
function defaultLoss(model: MLP): LossName {
  return model.nout === 1 ? "hinge" : "softmax";
}

/**
 * evaluate() on data already checked, e.g. a validation set measured again and again during fit.
 * The loss is computed from the outputs as numbers, so compiled outputs give the same figure.
 */
function measure(
  model: MLP,
  data: Dataset,
  loss: LossName,
  compiled = true,
): { loss: number; accuracy: number } {
  const outputs = scores(model, data.X, { compile: compiled });
  return noGrad(() => {
    const leaves = outputs.map((row) => row.map((x) => new Value(x)));
    return { loss: classificationLoss(loss, leaves, data.y).data, accuracy: batchAccuracy(outputs, data.y) };
  });
}

/** Options of the functions that run a model over many rows. */
export interface ScoreOptions {
  /**
   * Run a compiled forward pass over blocks of rows (see `compile`) when there are at least
   * SCORE_BLOCK rows; the same numbers as the eager pass, faster. Default true.
   */
  compile?: boolean;
}

/** Rows per replay of the compiled forward pass of `scores`; the last block is padded. */
export const SCORE_BLOCK = 64;

type ScoreFunction = CompiledFunction<(X: readonly (readonly Value[])[]) => Value[][]>;
const scoreFunctions = new WeakMap<MLP, ScoreFunction>();

/** The compiled forward pass of `model` over SCORE_BLOCK rows, made once per model. */
function scoreFunction(model: MLP): ScoreFunction {
  let f = scoreFunctions.get(model);
  if (!f) {
    f = compile((X: readonly (readonly Value[])[]) => X.map((x) => model.forward(x)), { maxTraces: 1 });
    scoreFunctions.set(model, f);
  }
  return f;
}

/** The predicted class of every row of `X`. */
export function predict(model: MLP, X: readonly (readonly number[])[], options: ScoreOptions = {}): number[] {
  return scores(model, X, options).map(predictedClass);
}

/**
 * The raw outputs (scores or logits) for every row of `X`, as plain numbers. Over many rows
 * (a decision-boundary grid, a test set) this replays a compiled forward pass block by block.
 */
export function scores(
  model: MLP,
  X: readonly (readonly number[])[],
  options: ScoreOptions = {},
): number[][] {
  checkOptions("scores", options, { compile: true });
  if (options.compile === false || !Array.isArray(X) || X.length < SCORE_BLOCK) {
    return noGrad(() => X.map((x) => model.forward(x).map((v) => v.data)));
  }
  const forward = scoreFunction(model);
  if (!isRecording() && forward.cacheSize === 0) {
    // Tracing records a graph, which noGrad() forbids: the first call stays eager.
    return noGrad(() => X.map((x) => model.forward(x).map((v) => v.data)));
  }
  for (let i = 0; i < X.length; i++) {
    const row = X[i];
    if (!Array.isArray(row) || row.length !== model.nin || !row.every(Number.isFinite)) {
      // The eager pass names the problem.
      return noGrad(() => X.map((x) => model.forward(x).map((v) => v.data)));
    }
  }
  const result: number[][] = new Array(X.length);
  const block: (readonly number[])[] = new Array(SCORE_BLOCK);
  for (let start = 0; start < X.length; start += SCORE_BLOCK) {
    const n = Math.min(SCORE_BLOCK, X.length - start);
    // The last block is padded with its first row; those outputs are dropped.
    for (let k = 0; k < SCORE_BLOCK; k++) block[k] = X[start + (k < n ? k : 0)];
    const outputs = forward(block);
    for (let k = 0; k < n; k++) result[start + k] = outputs[k].map((v) => v.data);
  }
  return result;
}

/** The fraction of `data` that `model` classifies correctly. */
export function accuracy(model: MLP, data: Dataset): number {
  checkDataset("accuracy", model, data);
  const predicted = predict(model, data.X);
  return predicted.filter((c, i) => c === data.y[i]).length / predicted.length;
}

function batchAccuracy(outputs: readonly (readonly number[])[], classes: readonly number[]): number {
  let correct = 0;
  for (let i = 0; i < outputs.length; i++) {
    if (predictedClass(outputs[i]) === classes[i]) correct++;
  }
  return correct / outputs.length;
}

/** The workers, when they can take this model's batches. */
function checkWorkers(model: MLP, options: FitOptions, batchSize: number): ClassifierGradients | undefined {
  const { workers } = options;
  if (workers === undefined) return undefined;
  if (options.compile === false) {
    throw new RangeError("fit: workers replay the compiled loss; they cannot train with compile: false");
  }
  const theirs = workers.arena?.parameters;
  const own = model.parameters();
  if (!Array.isArray(theirs) || theirs.length !== own.length || !own.every((p, i) => theirs[i] === p)) {
    throw new RangeError(
      "fit: the workers were made for another model; make them from this one (new MLPWorkers(model, …))",
    );
  }
  if (batchSize > workers.maxBatch) {
    throw new RangeError(`fit: batchSize ${batchSize} is more than the workers take (${workers.maxBatch})`);
  }
  return workers;
}

function makeOptimizer(model: MLP, options: FitOptions): Optimizer {
  const choice = options.optimizer ?? "sgd";
  if (typeof choice === "object" && choice !== null) {
    const own = new Set(model.parameters());
    const theirs = choice.parameters;
    if (!Array.isArray(theirs) || theirs.length !== own.size || !theirs.every((p) => own.has(p))) {
      throw new RangeError(
        "fit: the optimizer was built over other parameters; build it over model.parameters()",
      );
    }
    return choice;
  }
  const { momentum, weightDecay } = options;
  switch (choice) {
    case "sgd":
      return new SGD(model.parameters(), { lr: options.lr ?? 0.1, momentum, weightDecay });
    case "adam":
      if (momentum !== undefined) throw new RangeError("fit: momentum applies to SGD only (Adam has betas)");
      return new Adam(model.parameters(), { lr: options.lr ?? 0.01, weightDecay });
    default:
      throw new TypeError(
        `fit: unknown optimizer "${String(choice)}"; expected ${OPTIMIZER_NAMES.join(", ")}`,
      );
  }
}

function checkDataset(where: string, model: MLP, data: Dataset): void {
  if (!data || !Array.isArray(data.X) || !Array.isArray(data.y)) {
    throw new TypeError(`${where}: expected a data set { X, y, nClasses }`);
  }
  if (data.X.length === 0) throw new RangeError(`${where}: the data set is empty`);
  if (data.X.length !== data.y.length) {
    throw new RangeError(`${where}: ${data.X.length} rows of features but ${data.y.length} labels`);
  }
  const width = data.X[0].length;
  if (width !== model.nin) {
    throw new RangeError(`${where}: the data has ${width} features per row but the model takes ${model.nin}`);
  }
  if (!Number.isInteger(data.nClasses) || data.nClasses < 1) {
    throw new RangeError(`${where}: nClasses must be a positive integer, got ${String(data.nClasses)}`);
  }
  // Every row up front, so that a bad one is named by its index, not found deep in a batch.
  for (let i = 0; i < data.X.length; i++) {
    const row = data.X[i];
    if (!Array.isArray(row) || row.length !== width) {
      throw new RangeError(
        `${where}: row ${i} has ${Array.isArray(row) ? row.length : "no"} features, expected ${width}`,
      );
    }
    for (let j = 0; j < width; j++) {
      if (typeof row[j] !== "number" || !Number.isFinite(row[j])) {
        throw new RangeError(`${where}: row ${i}, feature ${j} is ${String(row[j])}, not a finite number`);
      }
    }
    const label = data.y[i];
    if (!Number.isInteger(label) || label < 0 || label >= data.nClasses) {
      throw new RangeError(
        `${where}: the label of row ${i} is ${JSON.stringify(label)}, not a class index in 0..${data.nClasses - 1}`,
      );
    }
  }
  const classes = Math.max(data.nClasses, 2);
  if (model.nout !== 1 && model.nout < classes) {
    throw new RangeError(
      `${where}: the data has ${data.nClasses} classes but the model has only ${model.nout} outputs`,
    );
  }
  if (model.nout === 1 && data.nClasses > 2) {
    throw new RangeError(
      `${where}: a model with one output separates 2 classes; the data has ${data.nClasses} (use ${data.nClasses} outputs)`,
    );
  }
}

function checkInteger(where: string, name: string, x: unknown): void {
  if (typeof x !== "number" || !Number.isInteger(x) || x < 1) {
    throw new RangeError(`${where}: ${name} must be a positive integer, got ${String(x)}`);
  }
}
