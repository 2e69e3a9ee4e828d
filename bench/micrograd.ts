// This engine, used the way a user would and the way fit() does: model.forward on every
// sample, classificationLoss (+ l2Penalty), zeroGrad, backward, then the library's optimizer.
import {
  Adam,
  classificationLoss,
  l2Penalty,
  type MLP,
  type Optimizer,
  SGD,
  type Value,
} from "../src/index.js";
import type { Batch, Engine, LossAndGradients, LossSpec, OptimizerSpec, Weights } from "./common.js";
import { weightsOf } from "./common.js";

/** The loss of the model on a batch as one Value: the graph that backward() walks. */
export function lossGraph(model: MLP, batch: Batch, loss: LossSpec): Value {
  const outputs = batch.X.map((x) => model.forward(x));
  const total = classificationLoss(loss.kind, outputs, batch.y);
  return loss.kind === "hinge" && loss.l2 > 0 ? total.add(l2Penalty(model.parameters(), loss.l2)) : total;
}

export function createMicrogradEngine(model: MLP, loss: LossSpec, optimizer: OptimizerSpec): Engine<Batch> {
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
    const total = lossGraph(model, batch, loss);
    update.zeroGrad();
    total.backward();
    return total.data;
  }

  return {
    name: "micrograd (this engine)",
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
