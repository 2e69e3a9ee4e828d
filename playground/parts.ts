// A step of gradient descent done in parts, so that the worker can stop between them: a large
// batch through a large network builds millions of nodes, which take seconds to go through.
// A part runs eagerly or, by default, through compile(): traced once per size of part and then
// replayed on typed arrays, with the same numbers.
import {
  type CompiledFunction,
  classificationLoss,
  compile,
  type Dataset,
  type LossName,
  l2Penalty,
  type MLP,
  type Value,
} from "../src/index.js";

/** About how many graph nodes one part builds: some milliseconds of work. */
export const NODES_PER_PART = 100_000;

/** A step under way: its batch, how many of its samples are in the gradients, their loss. */
export interface PartialStep {
  batch: readonly number[];
  done: number;
  /** The loss of the samples done, each part's mean weighted by its share of the batch. */
  loss: number;
}

/** Samples per part: as many as build about NODES_PER_PART nodes (each weight costs about two). */
export function partSize(model: MLP): number {
  return Math.max(1, Math.floor(NODES_PER_PART / (2 * model.parameters().length)));
}

type PartLoss = (X: readonly (readonly Value[])[], classes: readonly Value[], share: Value) => Value;

/**
 * The compiled forms of one model's part and penalty. A part's inputs, labels and share of the
 * batch are arguments, so a part of the same size replays whatever its samples and batch; a new
 * size (the last part of a batch, a point added) traces once more. The penalty has no inputs: it
 * is traced again when its alpha changes.
 */
export class CompiledParts {
  readonly part: CompiledFunction<PartLoss>;
  private penalty: { alpha: number; fn: CompiledFunction<() => Value> } | null = null;

  constructor(
    private readonly model: MLP,
    readonly lossName: LossName,
  ) {
    this.part = compile(
      (X: readonly (readonly Value[])[], classes: readonly Value[], share: Value) =>
        classificationLoss(
          lossName,
          X.map((x) => model.forward(x)),
          classes,
        ).mul(share),
      { maxTraces: 4 },
    );
  }

  penaltyOf(alpha: number): CompiledFunction<() => Value> {
    if (this.penalty?.alpha !== alpha) {
      const parameters = this.model.parameters();
      this.penalty = { alpha, fn: compile(() => l2Penalty(parameters, alpha), { maxTraces: 1 }) };
    }
    return this.penalty.fn;
  }
}

/**
 * Forward, loss and backward of the next `size` samples of the step's batch. The loss is a mean
 * over the batch, so each part's mean counts in proportion to its share, and backward() adds the
 * parts' gradients up in the parameters to the whole batch's (zero them before the first part).
 * Returns whether the batch is complete. With `compiled` (made for this model and loss), the
 * part is replayed instead of built.
 */
export function backwardPart(
  model: MLP,
  data: Dataset,
  lossName: LossName,
  step: PartialStep,
  size: number,
  compiled?: CompiledParts,
): boolean {
  const part = step.batch.slice(step.done, step.done + size);
  if (compiled) {
    if (compiled.lossName !== lossName) throw new Error("backwardPart: compiled for another loss");
    const loss = compiled.part(
      part.map((i) => data.X[i]),
      part.map((i) => data.y[i]),
      part.length / step.batch.length,
    );
    loss.backward();
    step.loss += loss.data;
    step.done += part.length;
    return step.done >= step.batch.length;
  }
  const outputs = part.map((i) => model.forward(data.X[i]));
  let loss = classificationLoss(
    lossName,
    outputs,
    part.map((i) => data.y[i]),
  );
  if (part.length < step.batch.length) loss = loss.mul(part.length / step.batch.length);
  loss.backward();
  step.loss += loss.data;
  step.done += part.length;
  return step.done >= step.batch.length;
}

/** The L2 penalty's gradient added in, and its value to the step's loss. */
export function backwardPenalty(model: MLP, l2: number, step: PartialStep, compiled?: CompiledParts): void {
  if (l2 <= 0) return;
  const penalty = compiled ? compiled.penaltyOf(l2)() : l2Penalty(model.parameters(), l2);
  penalty.backward();
  step.loss += penalty.data;
}
