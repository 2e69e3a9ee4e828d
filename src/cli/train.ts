// `micrograd train`: every flag is checked, then the data and the sizes, before any training.
import { basename, extname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  DATASET_NAMES,
  type Dataset,
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
import { OPTIMIZER_NAMES, type OptimizerName, type Schedule } from "../optim.js";
import type { ModelMetadata } from "../serialize.js";
import type { FitOptions } from "../train.js";
import {
  choiceFlag,
  count,
  type Io,
  includes,
  integerFlag,
  NO_COMPILE_HELP,
  NO_COMPILE_OPTION,
  negativeValues,
  numberFlag,
  pathFlag,
  printHelp,
  UsageError,
} from "./flags.js";
import { checkSizes, LIMIT_OPTIONS, limitFlags, MAX_GRAPH, MAX_PARAMS } from "./limits.js";
import { checkOutputDirectory } from "./output.js";
import { runTraining } from "./run.js";

/** Generated data sets stop here: a million points is already a minute per full-batch step. */
const MAX_SAMPLES = 1_000_000;
/** The generated points lie within about 3 of each other; more noise than this is only noise. */
const MAX_NOISE = 100;

export const TRAIN_HELP = `micrograd train — train an MLP classifier

Usage: micrograd train [options]

Data (one of):
  --dataset NAME      ${DATASET_NAMES.join(", ")}, digits (default moons)
  --data FILE.csv     your own: one row per sample, features then the label (a class name
                      or a whole number), optionally a header line; at most ${MAX_FILE_BYTES / 1024 / 1024} MB
                      and ${count(MAX_CSV_ROWS)} rows
  --samples N         points to generate (default 100; spiral 300; at most ${count(MAX_SAMPLES)})
  --noise X           noise of generated points (default 0.1; at most ${MAX_NOISE})
  --classes K         classes for spiral (default 2) and blobs (default 3)
  --test-size F       fraction held out for testing, 0 for none (default 0.2)
  --standardize       scale features to mean 0, std 1 (default on for --data;
                      --no-standardize to keep them as they are)

Network:
  --hidden 16,16      hidden layer sizes, comma-separated; "" for none (default 16,16; digits 32)
  --activation NAME   ${ACTIVATIONS.join(", ")} (default relu)
  --init NAME         ${INITS.join(", ")} (default uniform)

Training:
  --loss NAME         ${LOSS_NAMES.join(", ")} (default hinge for 2 classes, softmax for more)
  --optimizer NAME    ${OPTIMIZER_NAMES.join(", ")} (default adam)
  --lr X              starting learning rate (default: adam 0.02, digits 0.01; sgd 0.1)
  --momentum X        SGD momentum (default 0)
  --schedule NAME     constant, linear or cosine (default constant)
  --lr-end F          final learning rate as a fraction of --lr (default 0.1 linear, 0 cosine)
  --l2 X              L2 penalty (default 1e-4)
  --steps N           optimizer steps (default 200; spiral 500), or
  --epochs N          passes over the data (default for digits: 10)
  --batch-size N      samples per step (default all; digits 32)
  --seed N            seeds the weights, the data and the batches (default 1)
${NO_COMPILE_HELP}

Limits (checked before training starts):
  --max-params N      refuse a network with more parameters (default ${count(MAX_PARAMS)})
  --max-graph N       refuse a step that builds more values than this (default ${count(MAX_GRAPH)},
                      about 1 GB); a smaller --batch-size makes a step smaller

Output:
  --out DIR           where to write model.json, history.json and pictures (default out/NAME,
                      NAME the data set or the CSV file's name); an earlier run's files there
                      are replaced as a set, other files are left alone
  --no-pictures       write no pictures
  --quiet             no progress`;

export async function train(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: negativeValues(args),
    options: {
      dataset: { type: "string" },
      data: { type: "string" },
      samples: { type: "string" },
      noise: { type: "string" },
      classes: { type: "string" },
      "test-size": { type: "string" },
      standardize: { type: "boolean" },
      "no-standardize": { type: "boolean" },
      hidden: { type: "string" },
      activation: { type: "string" },
      init: { type: "string" },
      loss: { type: "string" },
      optimizer: { type: "string" },
      lr: { type: "string" },
      momentum: { type: "string" },
      schedule: { type: "string" },
      "lr-end": { type: "string" },
      l2: { type: "string" },
      steps: { type: "string" },
      epochs: { type: "string" },
      "batch-size": { type: "string" },
      seed: { type: "string" },
      ...LIMIT_OPTIONS,
      out: { type: "string" },
      "no-pictures": { type: "boolean" },
      quiet: { type: "boolean" },
      ...NO_COMPILE_OPTION,
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return printHelp(TRAIN_HELP, io);

  // Every flag is checked before any work, so a typo costs nothing.
  const csv = pathFlag("data", values.data);
  if (values.dataset !== undefined && csv !== undefined) {
    throw new UsageError("give --dataset or --data, not both");
  }
  const datasetName = values.dataset ?? (csv === undefined ? "moons" : undefined);
  if (datasetName !== undefined && datasetName !== "digits" && !includes(DATASET_NAMES, datasetName)) {
    throw new UsageError(`--dataset: unknown "${datasetName}"; expected ${DATASET_NAMES.join(", ")}, digits`);
  }
  const seed = integerFlag("seed", values.seed, 0) ?? 1;
  const samples = integerFlag("samples", values.samples, 2, MAX_SAMPLES);
  const noise = numberFlag("noise", values.noise, 0);
  if (noise !== undefined && noise > MAX_NOISE) {
    throw new UsageError(
      `--noise must be at most ${MAX_NOISE} (the points lie within about 3 of each other), got ${values.noise}`,
    );
  }
  const classes = integerFlag("classes", values.classes, 2);
  if (classes !== undefined && datasetName !== "spiral" && datasetName !== "blobs") {
    throw new UsageError("--classes applies to --dataset spiral or blobs");
  }
  if (
    (samples !== undefined || noise !== undefined) &&
    (datasetName === undefined || datasetName === "digits")
  ) {
    throw new UsageError("--samples and --noise apply to generated data sets, not to --data or digits");
  }
  const nSamples = samples ?? (datasetName === "spiral" ? 300 : 100);
  if (classes !== undefined && classes * 2 > nSamples) {
    throw new UsageError(
      `--classes ${classes} needs at least ${classes * 2} samples (2 per class); --samples is ${nSamples}`,
    );
  }
  if (values.standardize && values["no-standardize"]) {
    throw new UsageError("give --standardize or --no-standardize, not both");
  }
  const testSize = numberFlag("test-size", values["test-size"], 0) ?? 0.2;
  if (testSize >= 1) throw new UsageError(`--test-size must be below 1, got ${testSize}`);
  const isDigits = datasetName === "digits";
  const hidden = parseSizes(values.hidden ?? (isDigits ? "32" : "16,16"));
  const activation = choiceFlag("activation", values.activation, ACTIVATIONS) ?? "relu";
  const init = choiceFlag("init", values.init, INITS) ?? "uniform";
  const loss = choiceFlag("loss", values.loss, LOSS_NAMES);
  const optimizer = choiceFlag("optimizer", values.optimizer, OPTIMIZER_NAMES) ?? "adam";
  const lr = numberFlag("lr", values.lr, 0, false) ?? (optimizer === "sgd" ? 0.1 : isDigits ? 0.01 : 0.02);
  const momentum = numberFlag("momentum", values.momentum, 0);
  if (momentum !== undefined && momentum >= 1)
    throw new UsageError(`--momentum must be below 1, got ${momentum}`);
  if (momentum !== undefined && optimizer !== "sgd")
    throw new UsageError("--momentum applies to --optimizer sgd");
  const scheduleName = choiceFlag("schedule", values.schedule, ["constant", "linear", "cosine"] as const);
  const lrEnd = numberFlag("lr-end", values["lr-end"], 0);
  if (lrEnd !== undefined && lrEnd > 1)
    throw new UsageError(`--lr-end is a fraction of --lr, at most 1; got ${lrEnd}`);
  if (lrEnd !== undefined && (scheduleName === undefined || scheduleName === "constant")) {
    throw new UsageError("--lr-end needs --schedule linear or cosine");
  }
  const schedule: Schedule | undefined =
    scheduleName === "linear"
      ? { kind: "linear", endFactor: lrEnd ?? 0.1 }
      : scheduleName === "cosine"
        ? { kind: "cosine", endFactor: lrEnd ?? 0 }
        : undefined;
  const l2 = numberFlag("l2", values.l2, 0) ?? 1e-4;
  let steps = integerFlag("steps", values.steps, 1);
  let epochs = integerFlag("epochs", values.epochs, 1);
  if (steps !== undefined && epochs !== undefined) throw new UsageError("give --steps or --epochs, not both");
  // Defaults that reach a good model in seconds: mini-batch epochs for digits, full-batch steps otherwise.
  if (steps === undefined && epochs === undefined) {
    if (isDigits) epochs = 10;
    else steps = datasetName === "spiral" ? 500 : 200;
  }
  const batchSize = integerFlag("batch-size", values["batch-size"], 1) ?? (isDigits ? 32 : undefined);
  const limits = limitFlags(values);
  // A CSV file's run is named after the file: --data iris.csv writes to out/iris.
  const name = datasetName ?? (basename(csv as string, extname(csv as string)) || "data");
  const out = resolve(pathFlag("out", values.out) ?? join("out", name));
  checkOutputDirectory(out);

  // Data.
  let data: Dataset;
  if (csv !== undefined) data = readCsvFile(csv);
  else if (datasetName === "digits") data = loadDigits();
  else {
    data = makeDataset(datasetName as (typeof DATASET_NAMES)[number], {
      nSamples,
      noise: noise ?? 0.1,
      seed,
      ...(classes === undefined
        ? {}
        : datasetName === "blobs"
          ? { centers: classes }
          : { nClasses: classes }),
    });
  }
  const n = data.X.length;
  let trainSize = n;
  if (testSize > 0) {
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
    trainSize = sizes.train;
  }
  const nout = data.nClasses === 2 && loss !== "softmax" ? 1 : data.nClasses;
  const shape = { sizes: [data.X[0].length, ...hidden, nout], activation };
  checkSizes(
    shape,
    Math.min(batchSize ?? trainSize, trainSize),
    loss ?? (nout === 1 ? "hinge" : "softmax"),
    l2 > 0,
    limits,
  );

  const metadata: ModelMetadata = { classNames: data.classNames, featureNames: data.featureNames };
  if (isDigits) {
    // loadDigits() divides the 0..16 pixels by 16; the model file says so, for raw inputs to predict.
    metadata.scaler = { mean: new Array(64).fill(0), std: new Array(64).fill(16) };
  } else if (values.standardize || (csv !== undefined && !values["no-standardize"])) {
    const scaler = standardize(data.X);
    data = { ...data, X: scaler.transform(data.X) };
    metadata.scaler = { mean: scaler.mean, std: scaler.std };
  }
  let test: Dataset | undefined;
  let trainSet = data;
  if (testSize > 0) ({ train: trainSet, test } = trainTestSplit(data, { testSize, seed }));

  const model = new MLP(data.X[0].length, [...hidden, nout], { activation, init, seed });
  const options: FitOptions = {
    loss,
    optimizer: optimizer as OptimizerName,
    lr,
    momentum,
    schedule,
    l2,
    steps,
    epochs,
    batchSize,
    seed,
    validation: test,
    compile: values["no-compile"] !== true,
  };
  return runTraining({
    io,
    out,
    data: trainSet,
    test,
    model,
    options,
    metadata,
    quiet: values.quiet === true,
    pictures: values["no-pictures"] !== true,
    name,
    maxGraph: limits.maxGraph,
  });
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
