// This engine, used the way a user would and the way fit() does: model.forward on every
// sample, classificationLoss (+ l2Penalty), zeroGrad, backward, then the library's optimizer.
import {
  Adam,
  classificationLoss,
  l2Penalty,
  type MLP,
  type Operand,
  type Optimizer,
  SGD,
  type Value,
} from "../src/index.js";
import type { Batch, Engine, LossAndGradients, LossSpec, OptimizerSpec, Weights } from "./common.js";
import { weightsOf } from "./common.js";

/** The step's loss as a function of the batch: eager with numbers, the form compile() traces. */
export function lossFunction(model: MLP, loss: LossSpec) {
  const parameters = model.parameters();
  return (X: readonly (readonly Operand[])[], y: readonly Operand[]): Value => {
    const outputs = X.map((x) => model.forward(x));
    const total = classificationLoss(loss.kind, outputs, y);
    return loss.kind === "hinge" && loss.l2 > 0 ? total.add(l2Penalty(parameters, loss.l2)) : total;
  };
}

/** The loss of the model on a batch as one Value: the graph that backward() walks. */
export function lossGraph(model: MLP, batch: Batch, loss: LossSpec): Value {
  return lossFunction(model, loss)(batch.X, batch.y);
}

/**
 * A benchmark engine over this library: `lossOf` gives a batch's loss (an eager Value or a
 * compiled result), and the library's optimizer updates the model's parameters.
 */
export function libraryEngine(
  name: string,
  model: MLP,
  optimizer: OptimizerSpec,
  lossOf: (batch: Batch) => { data: number; backward(): void },
): Engine<Batch> {
  const parameters = model.parameters();
  const update: Optimizer =
    optimizer.kind === "sgd"
      ? new SGD(parameters, { lr: optimizer.lr(0) })
      : new Adam(parameters, {
          lr: optimizer.lr,
          betas: [optimizer.beta1, optimizer.beta2],
          eps: optimizer.eps,
        });
  let steps = 0;

  function compute(batch: Batch): number {
    const total = lossOf(batch);
    update.zeroGrad();
    total.backward();
    return total.data;
  }

  return {
    name,
    prepare: (batch) => batch,
    lossAndGradients(batch: Batch): LossAndGradients {
      const value = compute(batch);
      return { loss: value, gradients: Float64Array.from(parameters, (p) => p.grad) };
    },
    step(batch: Batch): number {
      if (optimizer.kind === "sgd") update.lr = optimizer.lr(steps);
      const value = compute(batch);
      update.step();
      steps++;
      return value;
    },
    weights: (): Weights => weightsOf(model),
    release() {},
    dispose() {},
  };
}

export function createMicrogradEngine(model: MLP, loss: LossSpec, optimizer: OptimizerSpec): Engine<Batch> {
  const lossOf = lossFunction(model, loss);
  return libraryEngine("micrograd (this engine)", model, optimizer, (batch) => lossOf(batch.X, batch.y));
}
