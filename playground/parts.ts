// A step of gradient descent done in parts, so that the worker can stop between them: a large
// batch through a large network builds millions of nodes, which take seconds to go through.
import { classificationLoss, type Dataset, type LossName, l2Penalty, type MLP } from "../src/index.js";

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

/**
 * Forward, loss and backward of the next `size` samples of the step's batch. The loss is a mean
 * over the batch, so each part's mean counts in proportion to its share, and backward() adds the
 * parts' gradients up in the parameters to the whole batch's (zero them before the first part).
 * Returns whether the batch is complete.
 */
export function backwardPart(
  model: MLP,
  data: Dataset,
  lossName: LossName,
  step: PartialStep,
  size: number,
): boolean {
  const part = step.batch.slice(step.done, step.done + size);
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
export function backwardPenalty(model: MLP, l2: number, step: PartialStep): void {
  if (l2 <= 0) return;
  const penalty = l2Penalty(model.parameters(), l2);
  penalty.backward();
  step.loss += penalty.data;
}
