// The classic demo of karpathy/micrograd, as data and as the `micrograd demo` command; the
// README's pictures use the same setup.
import { join, resolve } from "node:path";
import { type Dataset, makeMoons } from "../data.js";
import { MLP } from "../nn.js";
import type { FitOptions } from "../train.js";
import {
  type Command,
  type FlagTable,
  helpText,
  type Io,
  NO_COMPILE_FLAG,
  parseFlags,
  printHelp,
} from "./flags.js";
import { claimOutputDirectory } from "./output.js";
import { runTraining } from "./train-run.js";

export const DEMO = {
  name: "demo",
  intro: `micrograd demo — the classic configuration, start to finish

Trains an MLP 2-16-16-1 (ReLU) on 100 moons (noise 0.1) with the max-margin (hinge) loss
plus 1e-4 L2, by SGD with the learning rate decaying linearly from 1.0 to 0.1, for 100
full-batch steps. Writes the model, the history and the pictures.

Usage: micrograd demo [--out DIR] [--no-compile] [--quiet]`,
  flags: {
    out: {
      kind: "path",
      value: "DIR",
      section: "Options",
      help: "where to write (default out/demo); the files of an earlier run there are replaced",
    },
    ...NO_COMPILE_FLAG,
    quiet: { kind: "switch", section: "Options", help: "print only where the outputs went" },
  },
} as const satisfies Command<FlagTable>;

export const DEMO_HELP = helpText(DEMO);

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

export async function demo(args: string[], io: Io): Promise<number> {
  const { help, values } = parseFlags(DEMO, args);
  if (help) return printHelp(DEMO_HELP, io);
  const out = resolve(values.out ?? join("out", "demo"));
  claimOutputDirectory(out, "mlp");
  const { data, model } = demoSetup();
  return runTraining({
    io,
    out,
    data,
    model,
    options: { ...DEMO_FIT, compile: values["no-compile"] !== true },
    quiet: values.quiet === true,
    pictures: true,
    name: "moons",
  });
}
