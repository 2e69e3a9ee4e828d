// The classic demo of karpathy/micrograd, as data: `micrograd demo` and the README's pictures use it.
import { type Dataset, makeMoons } from "../data.js";
import { MLP } from "../nn.js";
import type { FitOptions } from "../train.js";

/** Hinge loss + 1e-4 L2, SGD with the learning rate falling linearly from 1.0 to 0.1, 100 full-batch steps. */
export const DEMO_FIT: FitOptions = {
  loss: "hinge",
  l2: 1e-4,
  optimizer: "sgd",
  lr: 1,
  schedule: { kind: "linear", endFactor: 0.1 },
  steps: 100,
};

/** 100 moons with noise 0.1, and an untrained MLP 2-16-16-1 with ReLU. */
export function demoSetup(): { data: Dataset; model: MLP } {
  return {
    data: makeMoons({ nSamples: 100, noise: 0.1, seed: 1 }),
    model: new MLP(2, [16, 16, 1], { activation: "relu", seed: 1 }),
  };
}
