// This engine through compile(): the training step is traced once and replayed on typed
// arrays; the library's optimizer updates the same Value parameters as in the eager engine.
import { compile, type MLP } from "../src/index.js";
import type { Batch, Engine, LossSpec, OptimizerSpec } from "./common.js";
import { libraryEngine, lossFunction } from "./micrograd.js";

export function createCompiledEngine(model: MLP, loss: LossSpec, optimizer: OptimizerSpec): Engine<Batch> {
  const step = compile(lossFunction(model, loss));
  return {
    ...libraryEngine("micrograd compiled", model, optimizer, (batch) => step(batch.X, batch.y)),
    trace(batch: Batch): void {
      // A forward replay (a trace for a new shape) changes no weight and no gradient.
      step(batch.X, batch.y);
    },
  };
}
