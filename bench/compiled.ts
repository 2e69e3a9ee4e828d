// This engine through compile(): the training step is traced once and replayed on typed
// arrays; the library's optimizer updates the same Value parameters as in the eager engine.
import type { MLP } from "../src/index.js";
import type { Batch, Engine, LossSpec, OptimizerSpec } from "./common.js";
import { libraryEngine } from "./micrograd.js";

export function createCompiledEngine(model: MLP, loss: LossSpec, optimizer: OptimizerSpec): Engine<Batch> {
  return libraryEngine("micrograd compiled", model, loss, optimizer, { compile: true });
}
