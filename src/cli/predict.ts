// `micrograd predict`: classify rows with a saved model, from the command line or a CSV file.
import { csvRecords } from "../csv.js";
import { classIndexer, MAX_CSV_ROWS, numberProblem } from "../data.js";
import { softmax } from "../losses.js";
import type { MLP } from "../nn.js";
import { CSV_KIND } from "../node/datasets.js";
import { readTextFile } from "../node/files.js";
import { loadModel } from "../node/models.js";
import { predict, scores } from "../train.js";
import {
  type Command,
  count,
  type FlagTable,
  GPT_MODEL_HINT,
  helpText,
  type Io,
  parseFlags,
  printHelp,
  required,
  UsageError,
} from "./flags.js";
import { loadWithinLimit, MODEL_FILE_LIMIT_FLAG } from "./limits.js";

export const PREDICT = {
  name: "predict",
  intro:
    "micrograd predict — classify with a saved model\n\n" +
    "Usage: micrograd predict --model FILE (--input x1,x2,... | --data FILE.csv) [--json]",
  flags: {
    model: {
      kind: "path",
      value: "FILE",
      section: "Options",
      help: "a model.json written by micrograd train",
    },
    input: {
      kind: "text",
      value: "LIST",
      section: "Options",
      multiple: true,
      help: "one sample's features, comma-separated (repeat for more);\nwrite --input=-1,2 when the first is negative",
    },
    data: {
      kind: "path",
      value: "FILE.csv",
      section: "Options",
      help: "one sample per row; a last column of labels is used to report accuracy",
    },
    json: { kind: "switch", section: "Options", help: "print JSON instead of a table" },
    ...MODEL_FILE_LIMIT_FLAG,
  },
  outro: "Files are read only when they are regular files of at most 100 MB and 1,000,000 rows.",
} as const satisfies Command<FlagTable>;

export const PREDICT_HELP = helpText(PREDICT);

export function predictCommand(args: string[], io: Io): number {
  const { help, values } = parseFlags(PREDICT, args);
  if (help) return printHelp(PREDICT_HELP, io);
  const modelPath = required(values.model, "--model FILE");
  const csv = values.data;
  if ((values.input === undefined) === (csv === undefined)) {
    throw new UsageError("give --input x1,x2,... or --data FILE.csv (one of them)");
  }
  let rows: number[][] = values.input ? values.input.map(parseInputFlag) : [];
  let labels: number[] | undefined;
  const { model, metadata } = loadWithinLimit(values, (maxParameters) =>
    loadModel(modelPath, { otherKind: GPT_MODEL_HINT, maxParameters }),
  );
  if (csv !== undefined) {
    const nClasses = model.nout === 1 ? 2 : model.nout;
    const table = readInputsCsv(csv, model.nin, metadata.classNames, nClasses);
    rows = table.rows;
    labels = table.labels;
  }
  rows.forEach((row, i) => {
    if (row.length !== model.nin) {
      const where = csv !== undefined ? csv : `--input "${values.input?.[i]}"`;
      throw new UsageError(`${where}: ${row.length} features, but the model takes ${model.nin}`);
    }
  });
  const { classes, outputs } = classify(model, rows, metadata.scaler, modelPath);
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

/** One `--input x1,x2,...`: its features as numbers. */
function parseInputFlag(text: string): number[] {
  return text.split(",").map((cell, i) => {
    const x = Number(cell.trim());
    if (cell.trim() === "" || !Number.isFinite(x)) {
      throw new UsageError(`--input "${text}": feature ${i + 1} is "${cell}", ${numberProblem(cell)}`);
    }
    return x;
  });
}

/** The class and the scores of each row (standardized first when the model has a scaler). */
function classify(
  model: MLP,
  rows: number[][],
  scaler: { mean: number[]; std: number[] } | undefined,
  modelPath: string,
): { classes: number[]; outputs: number[][] } {
  const inputs = scaler ? rows.map((row) => row.map((x, j) => (x - scaler.mean[j]) / scaler.std[j])) : rows;
  try {
    return { classes: predict(model, inputs), outputs: scores(model, inputs) };
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    // A number out of range: the weights (a run that diverged before it was saved, or an edited
    // file) or the inputs are too large. Say which is larger, with the file's name.
    let weight = 0;
    for (const p of model.parameters()) weight = Math.max(weight, Math.abs(p.data));
    let input = 0;
    for (const row of inputs) for (const x of row) input = Math.max(input, Math.abs(x));
    const cause =
      weight >= input
        ? `its weights are too large (the largest is ${weight.toPrecision(3)}); retrain it, with a smaller learning rate`
        : `the inputs are too large for it (as large as ${input.toPrecision(3)}${scaler ? " after scaling" : ""})`;
    throw new Error(`${modelPath}: the model's outputs overflow (${error.message}): ${cause}`);
  }
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
  const classOf = classNames ? classIndexer(classNames) : undefined;
  let width = -1;
  const isNumber = (cell: string) => cell !== "" && Number.isFinite(Number(cell));
  const text = readTextFile(path, { plainText: true, kind: CSV_KIND });
  const isClass = (label: string) =>
    classOf ? classOf(label) !== -1 : /^\d+$/.test(label) && Number(label) < nClasses;
  for (const { fields: cells, line: lineNumber } of csvRecords(text, path)) {
    const where = `${path}:${lineNumber}`;
    if (rows.length === MAX_CSV_ROWS) {
      throw new Error(`${where}: more than ${count(MAX_CSV_ROWS)} rows, the most a CSV file may have`);
    }
    // A header: names for the features, or pandas' column numbers 0,1,2… ending in no class.
    const columnNumbers = cells.every((cell, i) => cell === String(i)) && !isClass(cells[cells.length - 1]);
    if (width === -1 && (cells.slice(0, nin).every((c) => !isNumber(c)) || columnNumbers)) {
      width = cells.length;
      continue;
    }
    if (width === -1) width = cells.length;
    if (cells.length !== width) throw new Error(`${where}: expected ${width} columns, got ${cells.length}`);
    if (width !== nin && width !== nin + 1) {
      throw new Error(
        `${where}: ${width} columns, but the model takes ${nin} features (and an optional label)`,
      );
    }
    const features = cells.slice(0, nin).map((cell, column) => {
      if (!isNumber(cell))
        throw new Error(`${where}: column ${column + 1} is "${cell}", ${numberProblem(cell)}`);
      return Number(cell);
    });
    rows.push(features);
    if (width === nin + 1) {
      const label = cells[nin];
      if (classOf && classNames) {
        const k = classOf(label);
        if (k === -1) {
          throw new Error(
            `${where}: label "${label}" is not one of the model's classes (${classNames.join(", ")})`,
          );
        }
        labels.push(k);
      } else {
        const k = /^\d+$/.test(label) ? Number(label) : Number.NaN;
        if (!(k < nClasses))
          throw new Error(`${where}: label "${label}" is not a class index in 0..${nClasses - 1}`);
        labels.push(k);
      }
    }
  }
  if (rows.length === 0) throw new Error(`${path}: no rows`);
  return width === nin + 1 ? { rows, labels } : { rows };
}
