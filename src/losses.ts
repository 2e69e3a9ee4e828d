// Losses: each turns a batch of model outputs and the true classes into one Value to minimize.
// All return the mean over the batch, so the learning rate does not depend on the batch size.
import { type Operand, Value } from "./engine.js";

export type LossName = "hinge" | "mse" | "bce" | "softmax";
export const LOSS_NAMES: readonly LossName[] = ["hinge", "mse", "bce", "softmax"];

/**
 * Max-margin (SVM) loss on raw scores, labels ±1: mean of max(0, 1 − y·s).
 * Scores on the right side by a margin of 1 cost nothing.
 */
export function hingeLoss(scores: readonly Value[], labels: readonly number[]): Value {
  checkBatch("hingeLoss", scores, labels);
  checkScalars("hingeLoss", "scores", scores);
  labels.forEach((y, i) => {
    if (y !== 1 && y !== -1) throw new RangeError(`hingeLoss: labels[${i}] is ${y}, expected 1 or -1`);
  });
  return mean(scores.map((s, i) => s.mul(-labels[i]).add(1).relu()));
}

/**
 * Multi-class hinge (Weston–Watkins): for each sample, the sum over wrong classes j of
 * max(0, 1 + s_j − s_y). With K = 2 outputs it is twice the binary hinge on s_1 − s_0.
 */
export function multiclassHingeLoss(
  scores: readonly (readonly Value[])[],
  classes: readonly number[],
): Value {
  checkBatch("multiclassHingeLoss", scores, classes);
  checkRows("multiclassHingeLoss", "scores", scores);
  return mean(
    scores.map((row, i) => {
      const y = checkClass("multiclassHingeLoss", classes[i], row.length, i);
      const margins = row.flatMap((s, j) => (j === y ? [] : [s.sub(row[y]).add(1).relu()]));
      return Value.sum(margins);
    }),
  );
}

/** Mean squared error: mean of (p − t)². */
export function mseLoss(predictions: readonly Value[], targets: readonly number[]): Value {
  checkBatch("mseLoss", predictions, targets);
  checkScalars("mseLoss", "predictions", predictions);
  targets.forEach((t, i) => {
    if (!Number.isFinite(t)) throw new RangeError(`mseLoss: targets[${i}] is ${t}, expected a finite number`);
  });
  return mean(predictions.map((p, i) => p.sub(targets[i]).pow(2)));
}

/**
 * Binary cross-entropy on logits z with targets t in [0, 1]: mean of softplus(z) − t·z,
 * which equals −t·log σ(z) − (1 − t)·log(1 − σ(z)) but never takes the log of 0.
 */
export function bceWithLogitsLoss(logits: readonly Value[], targets: readonly number[]): Value {
  checkBatch("bceWithLogitsLoss", logits, targets);
  checkScalars("bceWithLogitsLoss", "logits", logits);
  targets.forEach((t, i) => {
    if (!(t >= 0 && t <= 1)) throw new RangeError(`bceWithLogitsLoss: targets[${i}] is ${t}, expected 0..1`);
  });
  return mean(logits.map((z, i) => z.softplus().sub(z.mul(targets[i]))));
}

/**
 * Softmax cross-entropy for K classes: mean of log Σ_j e^{z_j} − z_y. The largest logit is
 * subtracted (as a constant) before exponentiating, so that large logits cannot overflow;
 * the gradient is unchanged because log-sum-exp shifts with its inputs.
 */
export function softmaxCrossEntropy(
  logits: readonly (readonly Value[])[],
  classes: readonly number[],
): Value {
  checkBatch("softmaxCrossEntropy", logits, classes);
  checkRows("softmaxCrossEntropy", "logits", logits);
  return mean(
    logits.map((row, i) => {
      const y = checkClass("softmaxCrossEntropy", classes[i], row.length, i);
      if (row.length < 2) throw new RangeError("softmaxCrossEntropy: needs at least 2 logits per sample");
      let max = row[0].data;
      for (const z of row) max = Math.max(max, z.data);
      const logSumExp = Value.sum(row.map((z) => z.sub(max).exp())).log();
      return logSumExp.sub(row[y].sub(max));
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
 */
export function classificationLoss(
  name: LossName,
  outputs: readonly (readonly Value[])[],
  classes: readonly number[],
): Value {
  checkBatch("classificationLoss", outputs, classes);
  checkRows("classificationLoss", "outputs", outputs);
  const k = outputs[0].length;
  const binary = k === 1;
  const classOf = (i: number) => checkClass("classificationLoss", classes[i], binary ? 2 : k, i);
  switch (name) {
    case "hinge":
      return binary
        ? hingeLoss(
            outputs.map((row) => row[0]),
            classes.map((_, i) => (classOf(i) === 1 ? 1 : -1)),
          )
        : multiclassHingeLoss(outputs, classes);
    case "mse":
    case "bce": {
      const flat = outputs.flat();
      const targets = classes.flatMap((_, i) => {
        const y = classOf(i);
        if (binary) return [name === "mse" ? (y === 1 ? 1 : -1) : y];
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
  return typeof x === "number" ? `the number ${x}` : `a ${typeof x}`;
}

function checkClass(where: string, y: number, k: number, i: number): number {
  if (!Number.isInteger(y) || y < 0 || y >= k) {
    throw new RangeError(`${where}: class ${y} of sample ${i} is not an integer in 0..${k - 1}`);
  }
  return y;
}
