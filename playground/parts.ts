// A step of gradient descent done in parts, so that the worker can stop between them: a large
// batch through a large network builds millions of nodes, which take seconds to go through.
// A part runs eagerly or, by default, through compile(): traced once per size of part and then
// replayed on typed arrays, with the same numbers.
import {
  type CompiledFunction,
  classifierLoss,
  compile,
  type Dataset,
  type LossName,
  l2Penalty,
  type MLP,
  type Operand,
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

/** The loss of a part of a batch: fit's classifier loss of its samples, times its share of the batch. */
export function partLoss(model: MLP, lossName: LossName) {
  const lossOf = classifierLoss(model, lossName);
  return (X: readonly (readonly Operand[])[], classes: readonly Operand[], share: Operand): Value =>
    lossOf(X, classes)[0].mul(share);
}

type PartLoss = ReturnType<typeof partLoss>;

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
    this.part = compile(partLoss(model, lossName), { maxTraces: 4 });
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
  if (compiled && compiled.lossName !== lossName) throw new Error("backwardPart: compiled for another loss");
  const X = part.map((i) => data.X[i]);
  const classes = part.map((i) => data.y[i]);
  // A part's share of the batch; a whole batch's loss is multiplied by 1, which changes no bit.
  const share = part.length / step.batch.length;
  const loss = compiled ? compiled.part(X, classes, share) : partLoss(model, lossName)(X, classes, share);
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
