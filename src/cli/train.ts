// `micrograd train`: the flags (a table) → a plan (pure: every flag checked, defaults filled
// in) → the data and the sizes checked → the shared run (train-run.ts).
import { basename, extname, join, resolve } from "node:path";
import {
  DATASET_NAMES,
  type Dataset,
  type DatasetName,
  MAX_CSV_ROWS,
  makeDataset,
  splitSizes,
  standardize,
  trainTestSplit,
} from "../data.js";
import { LOSS_NAMES } from "../losses.js";
import { ACTIVATIONS, INITS, MLP } from "../nn.js";
import { loadDigits, readCsvFile } from "../node/datasets.js";
import { MAX_FILE_BYTES } from "../node/files.js";
import { batchParts, MIN_PART } from "../node/mlp-workers.js";
import { OPTIMIZER_NAMES, type Schedule } from "../optim.js";
import type { ModelMetadata } from "../serialize.js";
import type { FitOptions } from "../train.js";
import {
  type Command,
  count,
  type FlagTable,
  type FlagValues,
  helpText,
  type Io,
  NO_COMPILE_FLAG,
  notBoth,
  parseFlags,
  plural,
  printHelp,
  UsageError,
} from "./flags.js";
import { checkSizes, type Limits, limitFlags, limitsOf } from "./limits.js";
import { claimOutputDirectory } from "./output.js";
import { runTraining } from "./train-run.js";

/** Generated data sets stop here: a million points is already a minute per full-batch step. */
const MAX_SAMPLES = 1_000_000;
/** The generated points lie within about 3 of each other; more noise than this is only noise. */
const MAX_NOISE = 100;
const SCHEDULES = ["constant", "linear", "cosine"] as const;

const DATA = "Data (one of)";
const NETWORK = "Network";
const TRAINING = "Training";
const OUTPUT = "Output";

export const TRAIN = {
  name: "train",
  intro: "micrograd train — train an MLP classifier\n\nUsage: micrograd train [options]",
  flags: {
    dataset: {
      kind: "choice",
      value: "NAME",
      section: DATA,
      choices: [...DATASET_NAMES, "digits"],
      help: `${DATASET_NAMES.join(", ")}, digits (default moons)`,
    },
    data: {
      kind: "path",
      value: "FILE.csv",
      section: DATA,
      help:
        "your own: one row per sample, features then the label (a class name\n" +
        `or a whole number), optionally a header line; at most ${MAX_FILE_BYTES / 1024 / 1024} MB\n` +
        `and ${count(MAX_CSV_ROWS)} rows`,
    },
    samples: {
      kind: "integer",
      value: "N",
      section: DATA,
      min: 2,
      max: MAX_SAMPLES,
      help: `points to generate (default 100; spiral 300; at most ${count(MAX_SAMPLES)})`,
    },
    noise: {
      kind: "number",
      value: "X",
      section: DATA,
      min: 0,
      max: MAX_NOISE,
      tooLarge: `must be at most ${MAX_NOISE} (the points lie within about 3 of each other)`,
      help: `noise of generated points (default 0.1; at most ${MAX_NOISE})`,
    },
    classes: {
      kind: "integer",
      value: "K",
      section: DATA,
      min: 2,
      help: "classes for spiral (default 2) and blobs (default 3)",
    },
    "test-size": {
      kind: "number",
      value: "F",
      section: DATA,
      min: 0,
      below: 1,
      help: "fraction held out for testing, 0 for none (default 0.2)",
    },
    standardize: {
      kind: "switch",
      section: DATA,
      help: "scale features to mean 0, std 1 (default on for --data;\n--no-standardize to keep them as they are)",
    },
    "no-standardize": { kind: "switch", section: DATA, help: "keep the features as they are" },
    hidden: {
      kind: "text",
      value: "16,16",
      section: NETWORK,
      help: 'hidden layer sizes, comma-separated; "" for none (default 16,16; digits 32)',
    },
    activation: {
      kind: "choice",
      value: "NAME",
      section: NETWORK,
      choices: ACTIVATIONS,
      help: `${ACTIVATIONS.join(", ")} (default relu)`,
    },
    init: {
      kind: "choice",
      value: "NAME",
      section: NETWORK,
      choices: INITS,
      help: `${INITS.join(", ")} (default uniform)`,
    },
    loss: {
      kind: "choice",
      value: "NAME",
      section: TRAINING,
      choices: LOSS_NAMES,
      help: `${LOSS_NAMES.join(", ")} (default hinge for 2 classes, softmax for more)`,
    },
    optimizer: {
      kind: "choice",
      value: "NAME",
      section: TRAINING,
      choices: OPTIMIZER_NAMES,
      help: `${OPTIMIZER_NAMES.join(", ")} (default adam)`,
    },
    lr: {
      kind: "number",
      value: "X",
      section: TRAINING,
      above: 0,
      help: "starting learning rate (default: adam 0.02, digits 0.01; sgd 0.1)",
    },
    momentum: {
      kind: "number",
      value: "X",
      section: TRAINING,
      min: 0,
      below: 1,
      help: "SGD momentum (default 0)",
    },
    schedule: {
      kind: "choice",
      value: "NAME",
      section: TRAINING,
      choices: SCHEDULES,
      help: "constant, linear or cosine (default constant)",
    },
    "lr-end": {
      kind: "number",
      value: "F",
      section: TRAINING,
      min: 0,
      max: 1,
      tooLarge: "is a fraction of --lr, at most 1",
      help: "final learning rate as a fraction of --lr (default 0.1 linear, 0 cosine)",
    },
    l2: { kind: "number", value: "X", section: TRAINING, min: 0, help: "L2 penalty (default 1e-4)" },
    steps: {
      kind: "integer",
      value: "N",
      section: TRAINING,
      min: 1,
      help: "optimizer steps (default 200; spiral 500), or",
    },
    epochs: {
      kind: "integer",
      value: "N",
      section: TRAINING,
      min: 1,
      help: "passes over the data (default for digits: 10)",
    },
    "batch-size": {
      kind: "integer",
      value: "N",
      section: TRAINING,
      min: 1,
      help: "samples per step (default all; digits 32)",
    },
    seed: {
      kind: "integer",
      value: "N",
      section: TRAINING,
      min: 0,
      help: "seeds the weights, the data and the batches (default 1)",
    },
    workers: {
      kind: "integer",
      value: "N",
      section: TRAINING,
      min: 1,
      help:
        "worker threads sharing each batch (default 1: this thread). Each takes\n" +
        `parts of at least ${MIN_PART} samples, so a batch of ${2 * MIN_PART} or more; the same steps\n` +
        "whatever the number. For wide networks and large batches: on the small\n" +
        "default ones the hand-off between threads costs more than it saves",
    },
    ...NO_COMPILE_FLAG,
    ...limitFlags("network", "a smaller --batch-size"),
    out: {
      kind: "path",
      value: "DIR",
      section: OUTPUT,
      help:
        "where to write model.json, history.json and pictures (default out/NAME,\n" +
        "NAME the data set or the CSV file's name); an earlier run's files there\n" +
        "are replaced as a set, other files are left alone",
    },
    "no-pictures": { kind: "switch", section: OUTPUT, help: "write no pictures" },
    quiet: { kind: "switch", section: OUTPUT, help: "no progress" },
  },
} as const satisfies Command<FlagTable>;

export const TRAIN_HELP = helpText(TRAIN);

/** Where the samples come from. */
export type DataSource =
  | { kind: "csv"; path: string }
  | { kind: "digits" }
  | {
      kind: "generated";
      name: DatasetName;
      options: { nSamples: number; noise: number; seed: number; centers?: number; nClasses?: number };
    };

/** Everything `train` does, decided from the flags alone. */
export interface TrainPlan {
  /** Names the run: the data set, or the CSV file's name. */
  name: string;
  /** The output folder, as given (relative to the working folder). */
  out: string;
  source: DataSource;
  /** Fraction of each class held out, 0 for none. */
  testSize: number;
  standardize: boolean;
  hidden: number[];
  activation: (typeof ACTIVATIONS)[number];
  init: (typeof INITS)[number];
  fit: FitOptions;
  /** Worker threads asked for; at most one per part of the batch is used (see batchParts). */
  workers: number;
  limits: Limits;
  pictures: boolean;
  quiet: boolean;
}

/** The plan of `micrograd train` with these flags; a UsageError names the first wrong one. */
export function planTraining(values: FlagValues<typeof TRAIN.flags>): TrainPlan {
  notBoth(values, "dataset", "data");
  const csv = values.data;
  const datasetName = values.dataset ?? (csv === undefined ? "moons" : undefined);
  const isDigits = datasetName === "digits";
  const generated = datasetName !== undefined && !isDigits;
  const { classes } = values;
  if (classes !== undefined && datasetName !== "spiral" && datasetName !== "blobs") {
    throw new UsageError("--classes applies to --dataset spiral or blobs");
  }
  if ((values.samples !== undefined || values.noise !== undefined) && !generated) {
    throw new UsageError("--samples and --noise apply to generated data sets, not to --data or digits");
  }
  const nSamples = values.samples ?? (datasetName === "spiral" ? 300 : 100);
  if (classes !== undefined && classes * 2 > nSamples) {
    throw new UsageError(
      `--classes ${classes} needs at least ${classes * 2} samples (2 per class); --samples is ${nSamples}`,
    );
  }
  notBoth(values, "standardize", "no-standardize");
  const seed = values.seed ?? 1;
  const source: DataSource =
    csv !== undefined
      ? { kind: "csv", path: csv }
      : isDigits
        ? { kind: "digits" }
        : {
            kind: "generated",
            name: datasetName as DatasetName,
            options: {
              nSamples,
              noise: values.noise ?? 0.1,
              seed,
              ...(classes === undefined
                ? {}
                : datasetName === "blobs"
                  ? { centers: classes }
                  : { nClasses: classes }),
            },
          };
  // A CSV file's run is named after the file: --data iris.csv writes to out/iris.
  const name = datasetName ?? (basename(csv as string, extname(csv as string)) || "data");
  return {
    name,
    out: values.out ?? join("out", name),
    source,
    testSize: values["test-size"] ?? 0.2,
    standardize: values.standardize === true || (csv !== undefined && values["no-standardize"] !== true),
    hidden: parseSizes(values.hidden ?? (isDigits ? "32" : "16,16")),
    activation: values.activation ?? "relu",
    init: values.init ?? "uniform",
    fit: { ...planFit(values, isDigits, datasetName === "spiral"), seed },
    workers: planWorkers(values),
    limits: limitsOf(values),
    pictures: values["no-pictures"] !== true,
    quiet: values.quiet === true,
  };
}

/** One thread unless told otherwise: see the help of --workers. */
function planWorkers(values: FlagValues<typeof TRAIN.flags>): number {
  const workers = values.workers ?? 1;
  if (workers > 1 && values["no-compile"] === true) {
    throw new UsageError("--workers replays the compiled step on each thread; drop --no-compile to use it");
  }
  return workers;
}

/** The optimizer, its schedule and the length of training. */
function planFit(values: FlagValues<typeof TRAIN.flags>, isDigits: boolean, isSpiral: boolean): FitOptions {
  const optimizer = values.optimizer ?? "adam";
  const { momentum } = values;
  if (momentum !== undefined && optimizer !== "sgd")
    throw new UsageError("--momentum applies to --optimizer sgd");
  const lrEnd = values["lr-end"];
  const scheduleName = values.schedule;
  if (lrEnd !== undefined && (scheduleName === undefined || scheduleName === "constant")) {
    throw new UsageError("--lr-end needs --schedule linear or cosine");
  }
  const schedule: Schedule | undefined =
    scheduleName === "linear"
      ? { kind: "linear", endFactor: lrEnd ?? 0.1 }
      : scheduleName === "cosine"
        ? { kind: "cosine", endFactor: lrEnd ?? 0 }
        : undefined;
  notBoth(values, "steps", "epochs");
  let { steps, epochs } = values;
  // Defaults that reach a good model in seconds: mini-batch epochs for digits, full-batch steps otherwise.
  if (steps === undefined && epochs === undefined) {
    if (isDigits) epochs = 10;
    else steps = isSpiral ? 500 : 200;
  }
  return {
    loss: values.loss,
    optimizer,
    lr: values.lr ?? (optimizer === "sgd" ? 0.1 : isDigits ? 0.01 : 0.02),
    momentum,
    schedule,
    l2: values.l2 ?? 1e-4,
    steps,
    epochs,
    batchSize: values["batch-size"] ?? (isDigits ? 32 : undefined),
    compile: values["no-compile"] !== true,
  };
}

export async function train(args: string[], io: Io): Promise<number> {
  const { help, values } = parseFlags(TRAIN, args);
  if (help) return printHelp(TRAIN_HELP, io);
  const plan = planTraining(values);
  const out = resolve(plan.out);
  claimOutputDirectory(out, "mlp");
  const { data, test, metadata } = loadData(plan);
  const nout = data.nClasses === 2 && plan.fit.loss !== "softmax" ? 1 : data.nClasses;
  const shape = { sizes: [data.X[0].length, ...plan.hidden, nout], activation: plan.activation };
  const { batchSize, loss, l2 = 0 } = plan.fit;
  const trainSize = data.X.length;
  const batch = Math.min(batchSize ?? trainSize, trainSize);
  checkSizes(shape, batch, loss ?? (nout === 1 ? "hinge" : "softmax"), l2 > 0, plan.limits);
  const workers = Math.min(plan.workers, batchParts(batch));
  if (workers < plan.workers && !plan.quiet) {
    io.stderr.write(
      `micrograd: note: --workers ${plan.workers} uses ${plural(workers, "thread")}: a batch of ${count(batch)} samples ` +
        `is cut into ${plural(batchParts(batch), "part")} (each worker takes parts of at least ${MIN_PART} samples)\n`,
    );
  }
  const model = new MLP(shape.sizes[0], [...plan.hidden, nout], {
    activation: plan.activation,
    init: plan.init,
    seed: plan.fit.seed,
  });
  return runTraining({
    io,
    out,
    data,
    test,
    model,
    options: { ...plan.fit, validation: test },
    metadata,
    quiet: plan.quiet,
    pictures: plan.pictures,
    name: plan.name,
    maxGraph: plan.limits.maxGraph,
    workers,
  });
}

/** The data of the plan, scaled, split into training and test sets, and what the model file says of it. */
function loadData(plan: TrainPlan): { data: Dataset; test?: Dataset; metadata: ModelMetadata } {
  const { source, testSize } = plan;
  let data =
    source.kind === "csv"
      ? readCsvFile(source.path)
      : source.kind === "digits"
        ? loadDigits()
        : makeDataset(source.name, source.options);
  if (testSize > 0) checkSplit(data, testSize, source.kind === "csv" ? source.path : undefined);
  const metadata: ModelMetadata = { classNames: data.classNames, featureNames: data.featureNames };
  if (source.kind === "digits") {
    // loadDigits() divides the 0..16 pixels by 16; the model file says so, for raw inputs to predict.
    metadata.scaler = { mean: new Array(64).fill(0), std: new Array(64).fill(16) };
  } else if (plan.standardize) {
    const scaler = standardize(data.X);
    data = { ...data, X: scaler.transform(data.X) };
    metadata.scaler = { mean: scaler.mean, std: scaler.std };
  }
  if (testSize === 0) return { data, metadata };
  const { train, test } = trainTestSplit(data, { testSize, seed: plan.fit.seed });
  return { data: train, test, metadata };
}

/** The stratified split must leave something on both sides. */
function checkSplit(data: Dataset, testSize: number, csv: string | undefined): void {
  const n = data.X.length;
  const sizes = splitSizes(data.y, data.nClasses, testSize);
  const what = csv !== undefined ? `${count(n)} rows of ${csv}` : `${count(n)} samples`;
  if (sizes.test === 0) {
    // The split is stratified: each class gives round(its rows × test size) rows, so many
    // small classes hold out nothing even from a large file.
    const perClass = n / data.nClasses;
    const cause =
      n * testSize >= 1
        ? `: the split takes ${testSize} of each class, and the ${count(data.nClasses)} classes have ` +
          `${perClass < 10 && !Number.isInteger(perClass) ? perClass.toPrecision(2) : count(Math.round(perClass))} rows each on average, too few to hold one out; ` +
          "use --test-size 0 for no test set, or a label column with fewer classes"
        : `; use --test-size 0 for no test set, or more ${csv !== undefined ? "rows" : "--samples"}`;
    throw new UsageError(`--test-size ${testSize} holds out none of the ${what}${cause}`);
  }
  if (sizes.train === 0) {
    throw new UsageError(
      `--test-size ${testSize} holds out all of the ${what}, leaving none to train on; use a smaller --test-size`,
    );
  }
}

function parseSizes(text: string): number[] {
  if (text.trim() === "") return [];
  return text.split(",").map((part) => {
    if (!/^\s*\d+\s*$/.test(part) || Number(part) < 1) {
      throw new UsageError(`--hidden must be comma-separated positive integers like 16,16, got "${text}"`);
    }
    return Number(part);
  });
}
