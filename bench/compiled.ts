// This engine through compile(): the training step is traced once and replayed on typed
// arrays; the library's optimizer updates the same Value parameters as in the eager engine.
import {
  Adam,
  classificationLoss,
  compile,
  l2Penalty,
  type MLP,
  type Operand,
  type Optimizer,
  SGD,
} from "../src/index.js";
import type { Batch, Engine, LossAndGradients, LossSpec, OptimizerSpec, Weights } from "./common.js";
import { weightsOf } from "./common.js";

/** The step's loss as a function of the batch, the form that compile() traces. */
export function lossFunction(model: MLP, loss: LossSpec) {
  const parameters = model.parameters();
  return (X: readonly (readonly Operand[])[], y: readonly Operand[]) => {
    const outputs = X.map((x) => model.forward(x));
    const total = classificationLoss(loss.kind, outputs, y);
    return loss.kind === "hinge" && loss.l2 > 0 ? total.add(l2Penalty(parameters, loss.l2)) : total;
  };
}

export function createCompiledEngine(model: MLP, loss: LossSpec, optimizer: OptimizerSpec): Engine<Batch> {
  const parameters = model.parameters();
  const update: Optimizer =
    optimizer.kind === "sgd"
      ? new SGD(parameters, { lr: optimizer.lr(0) })
      : new Adam(parameters, {
          lr: optimizer.lr,
          betas: [optimizer.beta1, optimizer.beta2],
          eps: optimizer.eps,
        });
  const step = compile(lossFunction(model, loss));
  let steps = 0;

  function compute(batch: Batch): number {
    const total = step(batch.X, batch.y);
    update.zeroGrad();
    total.backward();
    return total.data;
  }

  return {
    name: "micrograd compiled",
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
    trace(batch: Batch): void {
      // A forward replay (a trace for a new shape) changes no weight and no gradient.
      step(batch.X, batch.y);
    },
    weights: (): Weights => weightsOf(model),
    release() {},
    dispose() {},
  };
}
