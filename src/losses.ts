// Losses: each turns a batch of model outputs and the true classes into one Value to minimize.
// All return the mean over the batch, so the learning rate does not depend on the batch size.
import { type Operand, Value } from "./engine.js";

export type LossName = "hinge" | "mse" | "bce" | "softmax";
export const LOSS_NAMES: readonly LossName[] = ["hinge", "mse", "bce", "softmax"];

/**
 * Max-margin (SVM) loss on raw scores, labels ±1: mean of max(0, 1 − y·s).
 * Scores on the right side by a margin of 1 cost nothing.
 *
 * Labels (here and in every loss) may be numbers or Values: a compiled training step receives
 * them as Values, so that a replay follows the labels of each new batch. A Value label is
 * used through `Value.select` among constants (here −y is picked from [+1, −1] by (y + 1)/2),
 * because a compiled replay checks the index of every select: a label that is not ±1 then
 * throws on replay as it does eagerly, instead of giving a number.
 */
export function hingeLoss(scores: readonly Value[], labels: readonly Operand[]): Value {
  checkBatch("hingeLoss", scores, labels);
  checkScalars("hingeLoss", "scores", scores);
  labels.forEach((label, i) => {
    const y = dataOf(label);
    if (y !== 1 && y !== -1) throw new RangeError(`hingeLoss: labels[${i}] is ${y}, expected 1 or -1`);
  });
  const negatedSigns = [new Value(1), new Value(-1)];
  const negated = (y: Operand) => (typeof y === "number" ? -y : Value.select(negatedSigns, y.add(1).div(2)));
  return mean(scores.map((s, i) => s.mul(negated(labels[i])).add(1).relu()));
}

/**
 * Multi-class hinge (Weston–Watkins): for each sample, the sum over wrong classes j of
 * max(0, 1 + s_j − s_y). With K = 2 outputs it is twice the binary hinge on s_1 − s_0.
 */
export function multiclassHingeLoss(
  scores: readonly (readonly Value[])[],
  classes: readonly Operand[],
): Value {
  checkBatch("multiclassHingeLoss", scores, classes);
  checkRows("multiclassHingeLoss", "scores", scores);
  const indicators = new Indicators();
  return mean(
    scores.map((row, i) => {
      const label = classes[i];
      const y = checkClass("multiclassHingeLoss", dataOf(label), row.length, i);
      if (label instanceof Value) {
        // Which classes are wrong depends on the label, so every class gets a margin, the
        // true one multiplied by 0: the same sum, and the same graph for any label.
        const target = Value.select(row, label);
        return Value.sum(
          row.map((s, j) =>
            s
              .sub(target)
              .add(1)
              .relu()
              .mul(indicators.isNot(label, j, row.length)),
          ),
        );
      }
      const margins = row.flatMap((s, j) => (j === y ? [] : [s.sub(row[y]).add(1).relu()]));
      return Value.sum(margins);
    }),
  );
}

/** Mean squared error: mean of (p − t)². */
export function mseLoss(predictions: readonly Value[], targets: readonly Operand[]): Value {
  checkBatch("mseLoss", predictions, targets);
  checkScalars("mseLoss", "predictions", predictions);
  targets.map(dataOf).forEach((t, i) => {
    if (!Number.isFinite(t)) throw new RangeError(`mseLoss: targets[${i}] is ${t}, expected a finite number`);
  });
  return mean(predictions.map((p, i) => p.sub(targets[i]).pow(2)));
}

/**
 * Binary cross-entropy on logits z with targets t in [0, 1]: mean of softplus(z) − t·z,
 * which equals −t·log σ(z) − (1 − t)·log(1 − σ(z)) but never takes the log of 0.
 *
 * Targets are checked when the loss is built. A target given as a Value to a compiled
 * function is a continuous input, so a replay does not check it again: a target outside
 * [0, 1] there gives a number (possibly a negative loss). Check such targets before calling,
 * or pass classes to classificationLoss, whose replays do check them.
 */
export function bceWithLogitsLoss(logits: readonly Value[], targets: readonly Operand[]): Value {
  checkBatch("bceWithLogitsLoss", logits, targets);
  checkScalars("bceWithLogitsLoss", "logits", logits);
  targets.map(dataOf).forEach((t, i) => {
    if (!(t >= 0 && t <= 1)) throw new RangeError(`bceWithLogitsLoss: targets[${i}] is ${t}, expected 0..1`);
  });
  return mean(logits.map((z, i) => z.softplus().sub(z.mul(targets[i]))));
}

/**
 * Softmax cross-entropy for K classes: mean of log Σ_j e^{z_j} − z_y. The largest logit is
 * subtracted before exponentiating, so that large logits cannot overflow; log-sum-exp shifts
 * with its inputs, so the loss is unchanged and the shift's own gradient cancels (to rounding).
 * The shift is `Value.max` and the pick of z_y is `Value.select`, not numbers read from
 * `.data`, so that a compiled step computes both anew for every batch.
 */
export function softmaxCrossEntropy(
  logits: readonly (readonly Value[])[],
  classes: readonly Operand[],
): Value {
  checkBatch("softmaxCrossEntropy", logits, classes);
  checkRows("softmaxCrossEntropy", "logits", logits);
  return mean(
    logits.map((row, i) => {
      checkClass("softmaxCrossEntropy", dataOf(classes[i]), row.length, i);
      if (row.length < 2) throw new RangeError("softmaxCrossEntropy: needs at least 2 logits per sample");
      const max = Value.max(row);
      const logSumExp = Value.sum(row.map((z) => z.sub(max).exp())).log();
      return logSumExp.sub(Value.select(row, classes[i]).sub(max));
    }),
  );
}

/** Class probabilities from logits (plain numbers, the same shift-by-max trick). */
export function softmax(logits: readonly number[]): number[] {
  let max = -Infinity;
  for (const z of logits) max = Math.max(max, z);
  const e = logits.map((z) => Math.exp(z - max));
  const total = e.reduce((s, x) => s + x, 0);
  return e.map((x) => x / total);
}

/** L2 regularization: alpha · Σ p². Add it to a loss to keep weights small. */
export function l2Penalty(parameters: readonly Value[], alpha: number): Value {
  if (!(alpha >= 0 && Number.isFinite(alpha))) {
    throw new RangeError(`l2Penalty: alpha must be a finite number >= 0, got ${alpha}`);
  }
  if (parameters.length === 0) return new Value(0);
  return Value.sum(parameters.map((p) => p.mul(p))).mul(alpha);
}

/**
 * The loss `name` for a classifier's outputs (one row per sample) and the true classes.
 * With one output, the classes 0/1 become the score's sign: hinge and mse aim at ±1, bce at 0/1.
 * With K outputs, hinge is multi-class, mse and bce aim at one-hot rows, softmax is softmax.
 * Classes given as Values (a compiled step's) are used only through `Value.select`, whose
 * index a compiled replay checks: a class out of range or not an integer throws on replay too.
 */
export function classificationLoss(
  name: LossName,
  outputs: readonly (readonly Value[])[],
  classes: readonly Operand[],
): Value {
  checkBatch("classificationLoss", outputs, classes);
  checkRows("classificationLoss", "outputs", outputs);
  const k = outputs[0].length;
  const binary = k === 1;
  const classOf = (i: number) => checkClass("classificationLoss", dataOf(classes[i]), binary ? 2 : k, i);
  const indicators = new Indicators();
  const signs = [new Value(-1), new Value(1)];
  // Class 0/1 as a sign −1/+1.
  const sign = (i: number): Operand => {
    const y = classOf(i);
    const c = classes[i];
    return c instanceof Value ? Value.select(signs, c) : y === 1 ? 1 : -1;
  };
  switch (name) {
    case "hinge":
      return binary
        ? hingeLoss(
            outputs.map((row) => row[0]),
            classes.map((_, i) => sign(i)),
          )
        : multiclassHingeLoss(outputs, classes);
    case "mse":
    case "bce": {
      const flat = outputs.flat();
      const targets = classes.flatMap((c, i): Operand[] => {
        const y = classOf(i);
        if (binary) return [name === "mse" ? sign(i) : c instanceof Value ? indicators.is(c, 1, 2) : c];
        if (c instanceof Value) return Array.from({ length: k }, (_, j) => indicators.is(c, j, k));
        return Array.from({ length: k }, (_, j) => (j === y ? 1 : 0));
      });
      return name === "mse" ? mseLoss(flat, targets) : bceWithLogitsLoss(flat, targets);
    }
    case "softmax":
      if (binary) {
        throw new RangeError(
          "classificationLoss: softmax needs one output per class (at least 2); this model has 1 output",
        );
      }
      return softmaxCrossEntropy(outputs, classes);
    default:
      throw new TypeError(
        `classificationLoss: unknown loss "${String(name)}"; expected ${LOSS_NAMES.join(", ")}`,
      );
  }
}

/** The class a row of outputs votes for: the sign of a single score, or the largest of K. */
export function predictedClass(outputs: readonly number[]): number {
  if (outputs.length === 1) return outputs[0] > 0 ? 1 : 0;
  let best = 0;
  for (let j = 1; j < outputs.length; j++) if (outputs[j] > outputs[best]) best = j;
  return best;
}

function dataOf(x: Operand): number {
  return x instanceof Value ? x.data : x;
}

/**
 * 1 or 0 by whether a class given as a Value equals j, as a select among constant leaves:
 * a compiled replay checks a select's index, so a class out of 0..k−1 throws there as it
 * does eagerly (arithmetic such as relu(1 − |c − j|) would quietly give 0 for every j).
 */
class Indicators {
  private readonly one = new Value(1);
  private readonly zero = new Value(0);

  /** 1 where c = j, else 0. */
  is(c: Value, j: number, k: number): Value {
    return Value.select(
      Array.from({ length: k }, (_, m) => (m === j ? this.one : this.zero)),
      c,
    );
  }

  /** 0 where c = j, else 1. */
  isNot(c: Value, j: number, k: number): Value {
    return Value.select(
      Array.from({ length: k }, (_, m) => (m === j ? this.zero : this.one)),
      c,
    );
  }
}

function mean(terms: Operand[]): Value {
  return Value.sum(terms).div(terms.length);
}

function checkBatch(where: string, outputs: readonly unknown[], labels: readonly unknown[]): void {
  if (!Array.isArray(outputs) || !Array.isArray(labels)) {
    throw new TypeError(`${where}: expected two arrays (outputs and labels)`);
  }
  if (outputs.length === 0) throw new RangeError(`${where}: the batch is empty`);
  if (outputs.length !== labels.length) {
    throw new RangeError(`${where}: ${outputs.length} outputs but ${labels.length} labels`);
  }
}

/**
 * One Value per sample. The usual slip is passing what model.forward returns, an array per
 * sample, which would otherwise fail deep inside as "s.mul is not a function".
 */
function checkScalars(where: string, name: string, outputs: readonly unknown[]): void {
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs[i];
    if (output instanceof Value) continue;
    if (Array.isArray(output)) {
      throw new TypeError(
        `${where}: ${name}[${i}] is an array of ${output.length} (what model.forward returns); ` +
          `pass one Value per sample, model.forward(x)[0], or use classificationLoss for rows of outputs`,
      );
    }
    throw new TypeError(`${where}: ${name}[${i}] is ${describe(output)}, not a Value (from model.forward)`);
  }
}

/** One array of Values per sample, as model.forward returns, all of the same length. */
function checkRows(where: string, name: string, outputs: readonly unknown[]): void {
  const width = Array.isArray(outputs[0]) ? outputs[0].length : 0;
  for (let i = 0; i < outputs.length; i++) {
    const row = outputs[i];
    if (!Array.isArray(row)) {
      throw new TypeError(
        `${where}: ${name}[${i}] is ${describe(row)}; expected an array of Values per sample ` +
          `(what model.forward(x) returns)${row instanceof Value ? ", not a single Value" : ""}`,
      );
    }
    if (row.length === 0 || row.length !== width) {
      throw new RangeError(
        `${where}: ${name}[${i}] has ${row.length} outputs, but ${name}[0] has ${width}; every sample needs the same number`,
      );
    }
    for (let j = 0; j < row.length; j++) {
      if (!(row[j] instanceof Value)) {
        throw new TypeError(`${where}: ${name}[${i}][${j}] is ${describe(row[j])}, not a Value`);
      }
    }
  }
}

function describe(x: unknown): string {
  if (x instanceof Value) return "a Value";
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (x === null || x === undefined) return String(x);
  return typeof x === "number" ? `the number ${x}` : typeof x === "object" ? "an object" : `a ${typeof x}`;
}

function checkClass(where: string, y: number, k: number, i: number): number {
  if (!Number.isInteger(y) || y < 0 || y >= k) {
    throw new RangeError(`${where}: class ${y} of sample ${i} is not an integer in 0..${k - 1}`);
  }
  return y;
}
