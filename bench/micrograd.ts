// This engine, used the way a user would and the way fit() does: the library's Trainer over
// fit's classifier loss (model.forward on every sample, classificationLoss, + l2Penalty),
// zeroGrad, backward, then the library's optimizer; eager, or replaying the compiled loss.
import {
  Adam,
  classifierLoss,
  type MLP,
  type Operand,
  type Optimizer,
  SGD,
  Trainer,
  type Value,
} from "../src/index.js";
import type { Batch, Engine, LossAndGradients, LossSpec, OptimizerSpec, Weights } from "./common.js";
import { weightsOf } from "./common.js";

/** The training step's loss and outputs as a function of the batch, as fit() builds it. */
export function stepLoss(model: MLP, loss: LossSpec) {
  return classifierLoss(model, loss.kind, loss.kind === "hinge" ? loss.l2 : 0);
}

/** The step's loss alone: eager with numbers, the form compile() traces. */
export function lossFunction(model: MLP, loss: LossSpec) {
  const lossAndOutputs = stepLoss(model, loss);
  return (X: readonly (readonly Operand[])[], y: readonly Operand[]): Value => lossAndOutputs(X, y)[0];
}

/** The loss of the model on a batch as one Value: the graph that backward() walks. */
export function lossGraph(model: MLP, batch: Batch, loss: LossSpec): Value {
  return lossFunction(model, loss)(batch.X, batch.y);
}

/**
 * A benchmark engine over this library: a Trainer (eager, or replaying the compiled loss) and
 * the library's optimizer updating the model's parameters.
 */
export function libraryEngine(
  name: string,
  model: MLP,
  loss: LossSpec,
  optimizer: OptimizerSpec,
  options: { compile: boolean },
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
  const trainer = new Trainer({
    optimizer: update,
    loss: stepLoss(model, loss),
    compile: options.compile,
    learningRate: optimizer.kind === "sgd" ? optimizer.lr : undefined,
  });

  const engine: Engine<Batch> = {
    name,
    prepare: (batch) => batch,
    lossAndGradients(batch: Batch): LossAndGradients {
      trainer.begin();
      const [total] = trainer.accumulate(batch.X, batch.y);
      return { loss: total.data, gradients: Float64Array.from(parameters, (p) => p.grad) };
    },
    step(batch: Batch): number {
      const [total] = trainer.trainStep(batch.X, batch.y);
      return total.data;
    },
    weights: (): Weights => weightsOf(model),
    release() {},
    dispose() {},
  };
  if (options.compile) {
    engine.trace = (batch: Batch): void => {
      // A forward replay (a trace for a new shape) changes no weight and no gradient.
      trainer.run(batch.X, batch.y);
    };
  }
  return engine;
}

export function createMicrogradEngine(model: MLP, loss: LossSpec, optimizer: OptimizerSpec): Engine<Batch> {
  return libraryEngine("micrograd (this engine)", model, loss, optimizer, { compile: false });
}
