// The commands of the `micrograd` program: train, predict, draw graphs, and the classic moons demo.
// Exit status: 0 done, 1 a file or the training failed, 2 the command line was wrong.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  classIndex,
  DATASET_NAMES,
  type Dataset,
  makeDataset,
  standardize,
  trainTestSplit,
} from "../data.js";
import type { Value } from "../engine.js";
import { LOSS_NAMES, softmax } from "../losses.js";
import { ACTIVATIONS, INITS, MLP } from "../nn.js";
import { loadDigits, readCsvFile } from "../node/datasets.js";
import { readTextFile, writeFileAtomic } from "../node/files.js";
import { loadModel, saveModel } from "../node/models.js";
import { OPTIMIZER_NAMES, type OptimizerName, type Schedule } from "../optim.js";
import type { ModelMetadata } from "../serialize.js";
import { evaluate, type FitOptions, fit, plannedSteps, predict, type StepRecord, scores } from "../train.js";
import { DEMO_FIT, demoSetup } from "./demo.js";
import { exportCommand } from "./export.js";
import { ExpressionError, evaluateExpression } from "./expression.js";
import { gptCommand } from "./gpt.js";
import { Progress } from "./progress.js";

/** The command line is wrong: print the message and a hint, exit with status 2. */
class UsageError extends Error {}

const HELP: Record<string, string> = {
  main: `micrograd — a tiny autograd engine and neural-network library

Usage: micrograd <command> [options]

Commands:
  demo      train the classic moons demo and write its pictures
  train     train a network on a built-in data set or your own CSV file
  predict   classify inputs with a saved model
  graph     draw the computation graph of an expression
  export    write a saved model as ONNX, to run in ONNX Runtime
  gpt       train a character-level GPT on names (or any text) and sample from it

Run "micrograd <command> --help" for the options of a command.
Options: --help, --version`,

  demo: `micrograd demo — the classic configuration, start to finish

Trains an MLP 2-16-16-1 (ReLU) on 100 moons (noise 0.1) with the max-margin (hinge) loss
plus 1e-4 L2, by SGD with the learning rate decaying linearly from 1.0 to 0.1, for 100
full-batch steps. Writes the model, the history and the pictures.

Usage: micrograd demo [--out DIR]

Options:
  --out DIR     where to write (default out/demo)
  --quiet       print only where the outputs went`,

  train: `micrograd train — train an MLP classifier

Usage: micrograd train [options]

Data (one of):
  --dataset NAME      ${DATASET_NAMES.join(", ")}, digits (default moons)
  --data FILE.csv     your own: one row per sample, features then the label
  --samples N         points to generate (default 100; spiral 300)
  --noise X           noise of generated points (default 0.1)
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

Output:
  --out DIR           where to write model.json, history.json and pictures (default out/<data>)
  --no-pictures       write no pictures
  --quiet             no progress`,

  predict: `micrograd predict — classify with a saved model

Usage: micrograd predict --model FILE (--input x1,x2,... | --data FILE.csv) [--json]

Options:
  --model FILE        a model.json written by micrograd train
  --input LIST        one sample's features, comma-separated (repeat for more);
                      write --input=-1,2 when the first is negative
  --data FILE.csv     one sample per row; a last column of labels is used to report accuracy
  --json              print JSON instead of a table`,

  graph: `micrograd graph — draw the computation graph of an expression, after backward

Usage: micrograd graph [--expr EXPR --values a=1,b=2] [--out FILE]

Without --expr, draws a single neuron with two inputs and tanh:
  tanh(x1*w1 + x2*w2 + b) with x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432

Options:
  --expr EXPR         numbers, names, + - * / ^, parentheses and exp log sqrt abs tanh sigmoid relu softplus
  --values LIST       a value for every name, e.g. x=2,w=-3
  --out FILE          .svg, .png or .dot (default graph.svg)
  --max-nodes N       draw graphs of up to N values (default 500)`,
};

interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

/** Runs the command line `argv` (without "node" and the script) and returns the exit status. */
export async function main(argv: string[], io: Io = process): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case "help":
      case "--help":
      case "-h": {
        const topic = rest[0];
        if (topic !== undefined && !(topic in HELP && topic !== "main")) {
          throw new UsageError(
            `no help for "${topic}"; commands are demo, train, predict, graph, export, gpt`,
          );
        }
        io.stdout.write(`${HELP[topic ?? "main"]}\n`);
        return command === undefined ? 2 : 0;
      }
      case "--version":
      case "-v":
        io.stdout.write(`${readVersion()}\n`);
        return 0;
      case "demo":
        return await demo(rest, io);
      case "train":
        return await train(rest, io);
      case "predict":
        return predictCommand(rest, io);
      case "graph":
        return await graph(rest, io);
      case "export":
        return await exportCommand(rest, io);
      case "gpt":
        return await gptCommand(rest, io);
      default:
        throw new UsageError(
          `unknown command "${command}"; commands are demo, train, predict, graph, export, gpt`,
        );
    }
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      const topic = command && command in HELP ? ` ${command}` : "";
      io.stderr.write(`micrograd: ${message}\nRun "micrograd${topic} --help" for usage.\n`);
      return 2;
    }
    io.stderr.write(`micrograd: ${message}\n`);
    return 1;
  }
}

// ---- demo -------------------------------------------------------------------------------

async function demo(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { out: { type: "string" }, quiet: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) return help("demo", io);
  const out = resolve(values.out ?? join("out", "demo"));
  prepareOutputDirectory(out);
  const { data, model } = demoSetup();
  return runTraining({
    io,
    out,
    data,
    model,
    options: DEMO_FIT,
    quiet: values.quiet === true,
    pictures: true,
    name: "moons",
  });
}

// ---- train ------------------------------------------------------------------------------

async function train(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
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
      out: { type: "string" },
      "no-pictures": { type: "boolean" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return help("train", io);

  // Every flag is checked before any work, so a typo costs nothing.
  if (values.dataset !== undefined && values.data !== undefined) {
    throw new UsageError("give --dataset or --data, not both");
  }
  const datasetName = values.dataset ?? (values.data === undefined ? "moons" : undefined);
  if (datasetName !== undefined && datasetName !== "digits" && !includes(DATASET_NAMES, datasetName)) {
    throw new UsageError(`--dataset: unknown "${datasetName}"; expected ${DATASET_NAMES.join(", ")}, digits`);
  }
  const seed = integerFlag("seed", values.seed, 0) ?? 1;
  const samples = integerFlag("samples", values.samples, 2);
  const noise = numberFlag("noise", values.noise, 0);
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
  const name = datasetName ?? "data";
  const out = resolve(values.out ?? join("out", name));
  prepareOutputDirectory(out);

  // Data.
  let data: Dataset;
  if (values.data !== undefined) data = readCsvFile(values.data);
  else if (datasetName === "digits") data = loadDigits();
  else {
    data = makeDataset(datasetName as (typeof DATASET_NAMES)[number], {
      nSamples: samples ?? (datasetName === "spiral" ? 300 : 100),
      noise: noise ?? 0.1,
      seed,
      ...(classes === undefined
        ? {}
        : datasetName === "blobs"
          ? { centers: classes }
          : { nClasses: classes }),
    });
  }
  const metadata: ModelMetadata = { classNames: data.classNames, featureNames: data.featureNames };
  if (isDigits) {
    // loadDigits() divides the 0..16 pixels by 16; the model file says so, for raw inputs to predict.
    metadata.scaler = { mean: new Array(64).fill(0), std: new Array(64).fill(16) };
  } else if (values.standardize || (values.data !== undefined && !values["no-standardize"])) {
    const scaler = standardize(data.X);
    data = { ...data, X: scaler.transform(data.X) };
    metadata.scaler = { mean: scaler.mean, std: scaler.std };
  }
  let test: Dataset | undefined;
  let trainSet = data;
  if (testSize > 0) ({ train: trainSet, test } = trainTestSplit(data, { testSize, seed }));

  const nout = data.nClasses === 2 && loss !== "softmax" ? 1 : data.nClasses;
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
  });
}

interface Run {
  io: Io;
  out: string;
  data: Dataset;
  test?: Dataset;
  model: MLP;
  options: FitOptions;
  metadata?: ModelMetadata;
  quiet: boolean;
  pictures: boolean;
  name: string;
}

async function runTraining(run: Run): Promise<number> {
  const { io, out, data, test, model, options } = run;
  const pictures = run.pictures ? await loadPictures(io) : undefined;
  // A boundary picture needs a plane: two features.
  const animation = pictures && data.X[0].length === 2 ? new pictures.BoundaryAnimation(data) : undefined;
  const total = plannedSteps(data.X.length, options);
  // About 25 frames: each one renders the whole plane, so more would slow training down.
  const frameEvery = Math.max(1, Math.ceil(total / 25));
  const progress = run.quiet ? undefined : new Progress(io.stderr, total);
  const sizes = [model.nin, ...model.config.nouts].join("-");
  if (!run.quiet) {
    io.stdout.write(
      `training an MLP ${sizes} (${model.parameters().length} parameters) on ${data.X.length} ${run.name} samples\n`,
    );
  }

  const started = performance.now();
  const result = fit(model, data, {
    ...options,
    onStep: (record: StepRecord) => {
      progress?.update(record);
      if (animation && (record.step % frameEvery === 0 || record.step === total - 1)) {
        animation.addFrame(model, { ...record, step: record.step + 1 });
      }
      return undefined;
    },
  });
  progress?.finish();
  const seconds = (performance.now() - started) / 1000;

  const trained = evaluate(model, data, { loss: result.loss });
  const held = test ? evaluate(model, test, { loss: result.loss }) : undefined;
  const metadata: ModelMetadata = {
    ...run.metadata,
    loss: result.loss,
    notes: {
      data: run.name,
      steps: result.history.length,
      trainAccuracy: trained.accuracy,
      ...(held ? { testAccuracy: held.accuracy } : {}),
    },
  };

  // Everything is written into a hidden folder first and moved into `out` only when complete,
  // so that a failure leaves the previous run's files as they were.
  const staging = mkdtempSync(join(out, ".micrograd-run-"));
  let written: string[];
  try {
    saveModel(join(staging, "model.json"), model, metadata);
    const history = { options: describeOptions(options), history: result.history };
    writeFileAtomic(join(staging, "history.json"), `${JSON.stringify(history)}\n`);
    if (pictures) {
      await pictures.writeTrainingPictures(staging, {
        model,
        data: data.X[0].length === 2 ? data : undefined,
        history: result.history,
        animation,
        title: `${run.name}: MLP ${sizes}`,
      });
    }
    written = OUTPUT_FILES.filter((name) => existsSync(join(staging, name))).map((name) => {
      renameSync(join(staging, name), join(out, name));
      return join(out, name);
    });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }

  const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
  io.stdout.write(
    `trained ${result.history.length} steps in ${seconds.toFixed(1)} s: loss ${trained.loss.toFixed(4)}, ` +
      `training accuracy ${percent(trained.accuracy)}${held ? `, test accuracy ${percent(held.accuracy)}` : ""}\n`,
  );
  io.stdout.write(`wrote:\n${written.map((path) => `  ${path}\n`).join("")}`);
  return 0;
}

type Pictures = typeof import("../node/pictures.js");

/** The picture writers need optional packages; without them, training still works. */
async function loadPictures(io: Io): Promise<Pictures | undefined> {
  try {
    return await import("../node/pictures.js");
  } catch (error) {
    io.stderr.write(`micrograd: pictures skipped (${(error as Error).message})\n`);
    return undefined;
  }
}

function describeOptions(options: FitOptions): Record<string, unknown> {
  const { validation: _validation, onStep: _onStep, ...rest } = options;
  return rest;
}

// ---- predict ----------------------------------------------------------------------------

function predictCommand(args: string[], io: Io): number {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      input: { type: "string", multiple: true },
      data: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return help("predict", io);
  if (values.model === undefined) throw new UsageError("--model FILE is required");
  if ((values.input === undefined) === (values.data === undefined)) {
    throw new UsageError("give --input x1,x2,... or --data FILE.csv (one of them)");
  }
  const rows: number[][] = [];
  let labels: number[] | undefined;
  if (values.input) {
    for (const text of values.input) {
      rows.push(
        text.split(",").map((cell, i) => {
          const x = Number(cell.trim());
          if (cell.trim() === "" || !Number.isFinite(x)) {
            throw new UsageError(`--input "${text}": feature ${i + 1} is "${cell}", not a number`);
          }
          return x;
        }),
      );
    }
  }
  const { model, metadata } = loadModel(values.model);
  if (values.data !== undefined) {
    const nClasses = model.nout === 1 ? 2 : model.nout;
    const table = readInputsCsv(values.data, model.nin, metadata.classNames, nClasses);
    rows.push(...table.rows);
    labels = table.labels;
  }
  rows.forEach((row, i) => {
    if (row.length !== model.nin) {
      const where = values.data !== undefined ? values.data : `--input "${values.input?.[i]}"`;
      throw new UsageError(`${where}: ${row.length} features, but the model takes ${model.nin}`);
    }
  });
  const scaler = metadata.scaler;
  const inputs = scaler ? rows.map((row) => row.map((x, j) => (x - scaler.mean[j]) / scaler.std[j])) : rows;
  const classes = predict(model, inputs);
  const outputs = scores(model, inputs);
  const names = metadata.classNames;
  const nameOf = (k: number) => names?.[k] ?? String(k);
  const results = rows.map((row, i) => ({
    input: row,
    class: classes[i],
    name: nameOf(classes[i]),
    ...(outputs[i].length === 1 ? { score: outputs[i][0] } : { probabilities: softmax(outputs[i]) }),
  }));
  const correct = labels ? classes.filter((c, i) => c === labels?.[i]).length : undefined;
  if (values.json) {
    const summary = labels ? { accuracy: (correct as number) / labels.length } : {};
    io.stdout.write(`${JSON.stringify({ predictions: results, ...summary }, null, 1)}\n`);
    return 0;
  }
  for (const r of results) {
    const detail =
      "score" in r
        ? `score ${r.score?.toFixed(4)}`
        : `p = ${(r.probabilities as number[])[r.class].toFixed(3)}`;
    io.stdout.write(`${r.input.join(",")}\t→ class ${r.name}\t(${detail})\n`);
  }
  if (labels) io.stdout.write(`accuracy ${correct}/${labels.length}\n`);
  return 0;
}

/**
 * Rows of features, with an optional last column of labels: the model's class names when it
 * has them (as `train --data` saved them), otherwise class indices. A header line is skipped.
 */
function readInputsCsv(
  path: string,
  nin: number,
  classNames: string[] | undefined,
  nClasses: number,
): { rows: number[][]; labels?: number[] } {
  const rows: number[][] = [];
  const labels: number[] = [];
  let width = -1;
  const isNumber = (cell: string) => cell !== "" && Number.isFinite(Number(cell));
  readTextFile(path)
    .split(/\r?\n/)
    .forEach((raw, index) => {
      const line = raw.trim();
      if (line === "") return;
      const where = `${path}:${index + 1}`;
      const cells = line.split(",").map((c) => c.trim());
      if (width === -1 && cells.slice(0, nin).every((c) => !isNumber(c))) {
        width = cells.length; // a header
        return;
      }
      if (width === -1) width = cells.length;
      if (cells.length !== width) throw new Error(`${where}: expected ${width} columns, got ${cells.length}`);
      if (width !== nin && width !== nin + 1) {
        throw new Error(
          `${where}: ${width} columns, but the model takes ${nin} features (and an optional label)`,
        );
      }
      const features = cells.slice(0, nin).map((cell, column) => {
        if (!isNumber(cell)) throw new Error(`${where}: column ${column + 1} is "${cell}", not a number`);
        return Number(cell);
      });
      rows.push(features);
      if (width === nin + 1) labels.push(classOfLabel(cells[nin], classNames, nClasses, where));
    });
  if (rows.length === 0) throw new Error(`${path}: no rows`);
  return width === nin + 1 ? { rows, labels } : { rows };
}

function classOfLabel(
  label: string,
  classNames: string[] | undefined,
  nClasses: number,
  where: string,
): number {
  if (classNames) {
    const k = classIndex(label, classNames);
    if (k === -1)
      throw new Error(
        `${where}: label "${label}" is not one of the model's classes (${classNames.join(", ")})`,
      );
    return k;
  }
  const k = /^\d+$/.test(label) ? Number(label) : Number.NaN;
  if (!(k < nClasses)) {
    throw new Error(`${where}: label "${label}" is not a class index in 0..${nClasses - 1}`);
  }
  return k;
}

// ---- graph ------------------------------------------------------------------------------

async function graph(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      expr: { type: "string" },
      values: { type: "string" },
      out: { type: "string" },
      "max-nodes": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return help("graph", io);
  const out = resolve(values.out ?? "graph.svg");
  if (!/\.(svg|png|dot)$/i.test(out))
    throw new UsageError(`--out ${values.out}: the file must end in .svg, .png or .dot`);
  let root: Value;
  if (values.expr === undefined) {
    if (values.values !== undefined) throw new UsageError("--values needs --expr");
    root = evaluateExpression("tanh(x1*w1 + x2*w2 + b)", {
      x1: 2,
      x2: 0,
      w1: -3,
      w2: 1,
      b: 6.881373587019543,
    }).named("o");
  } else {
    const inputs = parseAssignments(values.values ?? "");
    try {
      root = evaluateExpression(values.expr, inputs);
    } catch (error) {
      // A malformed expression, or math with no answer for these values (log(-1)).
      if (error instanceof ExpressionError || error instanceof RangeError) {
        throw new UsageError(`--expr: ${error.message}`);
      }
      throw error;
    }
  }
  try {
    root.backward();
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`--expr: ${error.message}`);
    throw error;
  }
  const { writeGraphPicture } = (await loadPictures(io)) ?? {};
  if (!writeGraphPicture) return 1;
  const maxNodes = integerFlag("max-nodes", values["max-nodes"], 1);
  await writeGraphPicture(out, root, maxNodes === undefined ? {} : { maxNodes });
  io.stdout.write(`output ${root.data.toPrecision(6)}; wrote ${out}\n`);
  return 0;
}

function parseAssignments(text: string): Record<string, number> {
  const inputs: Record<string, number> = {};
  for (const part of text.split(",")) {
    if (part.trim() === "") continue;
    const match = /^\s*([A-Za-z_]\w*)\s*=\s*(\S+)\s*$/.exec(part);
    const value = match ? Number(match[2]) : Number.NaN;
    if (!match || !Number.isFinite(value)) {
      throw new UsageError(`--values: "${part}" is not name=number`);
    }
    inputs[match[1]] = value;
  }
  return inputs;
}

// ---- flags ------------------------------------------------------------------------------

function help(topic: string, io: Io): number {
  io.stdout.write(`${HELP[topic]}\n`);
  return 0;
}

function numberFlag(
  name: string,
  text: string | undefined,
  min: number,
  inclusive = true,
): number | undefined {
  if (text === undefined) return undefined;
  const x = Number(text);
  if (text.trim() === "" || !Number.isFinite(x) || (inclusive ? x < min : x <= min)) {
    throw new UsageError(`--${name} must be a number ${inclusive ? ">=" : ">"} ${min}, got "${text}"`);
  }
  return x;
}

function integerFlag(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const x = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || x < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got "${text}"`);
  }
  return x;
}

function choiceFlag<T extends string>(
  name: string,
  text: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (text === undefined) return undefined;
  if (!includes(choices, text))
    throw new UsageError(`--${name}: unknown "${text}"; expected ${choices.join(", ")}`);
  return text;
}

function includes<T extends string>(choices: readonly T[], text: string): text is T {
  return (choices as readonly string[]).includes(text);
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

/** Every file a training run may write into its output folder. */
const OUTPUT_FILES = [
  "model.json",
  "history.json",
  "boundary.svg",
  "boundary.png",
  "curves.svg",
  "curves.png",
  "training.gif",
];

/**
 * Checks, before any training, that `out` is (or can be made) a writable folder and that none
 * of the files a run writes is something else there, such as a folder.
 */
function prepareOutputDirectory(out: string): void {
  if (existsSync(out) && !statSync(out).isDirectory()) {
    throw new Error(`--out ${out} exists and is not a folder; choose another path`);
  }
  try {
    mkdirSync(out, { recursive: true });
    rmSync(mkdtempSync(join(out, ".micrograd-check-")), { recursive: true });
  } catch (error) {
    throw new Error(
      `--out ${out}: cannot write there (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  for (const name of OUTPUT_FILES) {
    const path = join(out, name);
    if (existsSync(path) && !statSync(path).isFile()) {
      throw new Error(`${path} exists and is not a file; move it away or choose another --out`);
    }
  }
}

function readVersion(): string {
  const file = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}
