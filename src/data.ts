// Data sets for classification: seeded 2-D generators, splitting, scaling and CSV parsing.
import { type CsvRecord, csvRecords } from "./csv.js";
import { checkOptions, type OptionKeys } from "./options.js";
import { createRandom, gaussian, type Random, shuffled } from "./random.js";

/** A classification data set: one row of features per sample and its class index. */
export interface Dataset {
  /** Features, one row per sample; every row has the same length. */
  X: number[][];
  /** Class of each sample, an integer in 0..nClasses-1. */
  y: number[];
  nClasses: number;
  classNames?: string[];
  featureNames?: string[];
}

export interface GeneratorOptions {
  /** How many points in all (split as evenly as possible between the classes). */
  nSamples?: number;
  /** Standard deviation of Gaussian noise added to each coordinate. */
  noise?: number;
  seed?: number;
}

const GENERATOR_OPTIONS: OptionKeys<GeneratorOptions> = { nSamples: true, noise: true, seed: true };

export const DATASET_NAMES = ["moons", "circles", "blobs", "spiral", "xor"] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Two interleaving half circles (as scikit-learn's make_moons). */
export function makeMoons(options: GeneratorOptions = {}): Dataset {
  const { nSamples, noise, random } = common("makeMoons", options, GENERATOR_OPTIONS);
  return generate(nSamples, 2, random, noise, (cls, i, n) => {
    const t = n === 1 ? 0 : (Math.PI * i) / (n - 1);
    return cls === 0 ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
  });
}

/** A small circle inside a large one; `factor` is the ratio of their radii. */
export function makeCircles(options: GeneratorOptions & { factor?: number } = {}): Dataset {
  const { nSamples, noise, random } = common("makeCircles", options, { ...GENERATOR_OPTIONS, factor: true });
  const factor = options.factor ?? 0.5;
  if (!(typeof factor === "number" && factor > 0 && factor < 1)) {
    throw new RangeError(`makeCircles: factor must be between 0 and 1 (exclusive), got ${String(factor)}`);
  }
  return generate(nSamples, 2, random, noise, (cls, i, n) => {
    const t = (2 * Math.PI * i) / n;
    const r = cls === 0 ? 1 : factor;
    return [r * Math.cos(t), r * Math.sin(t)];
  });
}

/** Gaussian blobs around `centers` points on a circle of radius 2.5. */
export function makeBlobs(
  options: GeneratorOptions & { centers?: number; clusterStd?: number } = {},
): Dataset {
  const { nSamples, random } = common("makeBlobs", options, {
    ...GENERATOR_OPTIONS,
    centers: true,
    clusterStd: true,
  });
  const centers = options.centers ?? 3;
  const clusterStd = options.clusterStd ?? 0.5;
  checkInteger("makeBlobs", "centers", centers, 2);
  if (!(typeof clusterStd === "number" && clusterStd > 0 && Number.isFinite(clusterStd))) {
    throw new RangeError(`makeBlobs: clusterStd must be a positive number, got ${String(clusterStd)}`);
  }
  return generate(nSamples, centers, random, clusterStd, (cls) => {
    const angle = (2 * Math.PI * cls) / centers;
    return [2.5 * Math.cos(angle), 2.5 * Math.sin(angle)];
  });
}

/** Interleaved spiral arms, one per class. */
export function makeSpiral(options: GeneratorOptions & { nClasses?: number } = {}): Dataset {
  const { nSamples, noise, random } = common("makeSpiral", options, { ...GENERATOR_OPTIONS, nClasses: true });
  const nClasses = options.nClasses ?? 2;
  checkInteger("makeSpiral", "nClasses", nClasses, 2);
  return generate(nSamples, nClasses, random, noise, (cls, i, n) => {
    const r = n === 1 ? 1 : 0.1 + (0.9 * i) / (n - 1);
    const t = 1.75 * 2 * Math.PI * r + (2 * Math.PI * cls) / nClasses;
    return [r * Math.cos(t), r * Math.sin(t)];
  });
}

/** Points uniform in the square [-1, 1]²; the class is 1 where x·y > 0 (same-sign quadrants). */
export function makeXor(options: GeneratorOptions = {}): Dataset {
  const { nSamples, noise, random } = common("makeXor", options, GENERATOR_OPTIONS);
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < nSamples; i++) {
    // Half the points in each class: pick the class, then a point of the right quadrants.
    const cls = i % 2;
    const sx = random() < 0.5 ? -1 : 1;
    const sy = cls === 1 ? sx : -sx;
    const x0 = sx * (0.05 + 0.95 * random());
    const x1 = sy * (0.05 + 0.95 * random());
    X.push([x0 + noise * gaussian(random), x1 + noise * gaussian(random)]);
    y.push(cls);
  }
  return shuffle({ X, y, nClasses: 2 }, random);
}

/** One of the generators by name. */
export function makeDataset(
  name: DatasetName,
  options: GeneratorOptions & {
    factor?: number;
    centers?: number;
    clusterStd?: number;
    nClasses?: number;
  } = {},
): Dataset {
  switch (name) {
    case "moons":
      return makeMoons(options);
    case "circles":
      return makeCircles(options);
    case "blobs":
      return makeBlobs(options);
    case "spiral":
      return makeSpiral(options);
    case "xor":
      return makeXor(options);
    default:
      throw new TypeError(`unknown data set "${String(name)}"; expected one of ${DATASET_NAMES.join(", ")}`);
  }
}

/** Splits into a training and a test set, shuffled with `seed`, keeping each class's share (stratified). */
export function trainTestSplit(
  data: Dataset,
  options: { testSize?: number; seed?: number } = {},
): { train: Dataset; test: Dataset } {
  const { testSize = 0.25, seed } = checkOptions("trainTestSplit", options, { testSize: true, seed: true });
  if (!(typeof testSize === "number" && testSize > 0 && testSize < 1)) {
    throw new RangeError(
      `trainTestSplit: testSize must be between 0 and 1 (exclusive), got ${String(testSize)}`,
    );
  }
  if (!Number.isInteger(data.nClasses) || data.nClasses < 1) {
    throw new RangeError(`trainTestSplit: nClasses must be a positive integer, got ${String(data.nClasses)}`);
  }
  // Split class by class, so every row must belong to one: none may silently go missing.
  const stray = data.y.findIndex((label) => !Number.isInteger(label) || label < 0 || label >= data.nClasses);
  if (stray !== -1) {
    throw new RangeError(
      `trainTestSplit: the label of row ${stray} is ${String(data.y[stray])}, not a class index in 0..${data.nClasses - 1}`,
    );
  }
  const random = createRandom(seed);
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  for (const members of rowsByClass(data.y, data.nClasses)) {
    const mixed = shuffled(members, random);
    const nTest = Math.round(mixed.length * testSize);
    for (let i = 0; i < mixed.length; i++) (i < nTest ? testIdx : trainIdx).push(mixed[i]);
  }
  if (trainIdx.length === 0 || testIdx.length === 0) {
    throw new RangeError(
      `trainTestSplit: ${data.y.length} samples are too few to split with testSize ${testSize}`,
    );
  }
  return { train: subset(data, shuffled(trainIdx, random)), test: subset(data, shuffled(testIdx, random)) };
}

/**
 * How many samples `trainTestSplit` puts on each side, without splitting: each class holds out
 * round(its size × testSize). Lets a caller refuse a split that would leave a side empty.
 */
export function splitSizes(
  y: readonly number[],
  nClasses: number,
  testSize: number,
): { train: number; test: number } {
  let test = 0;
  for (const members of rowsByClass(y, nClasses)) test += Math.round(members.length * testSize);
  return { train: y.length - test, test };
}

/** The row indices of each class, in order: one pass over the labels. */
function rowsByClass(y: readonly number[], nClasses: number): number[][] {
  const members: number[][] = Array.from({ length: nClasses }, () => []);
  for (let i = 0; i < y.length; i++) members[y[i]]?.push(i);
  return members;
}

/** The samples at `indices`, in that order. */
export function subset(data: Dataset, indices: readonly number[]): Dataset {
  return { ...data, X: indices.map((i) => data.X[i]), y: indices.map((i) => data.y[i]) };
}

export interface Scaler {
  mean: number[];
  std: number[];
  /** Applies the same shift and scale to other rows (e.g. a test set or a new input). */
  transform(X: readonly (readonly number[])[]): number[][];
}

/** A std at most this fraction of a column's size (or of 1) is rounding: the column is constant. */
const CONSTANT_TOLERANCE = 1e-12;

/**
 * Fits per-feature mean and standard deviation on `X`; constant features (a std within
 * rounding of 0) are left unscaled (std 1). Values too large to square are refused.
 */
export function standardize(X: readonly (readonly number[])[]): Scaler {
  if (X.length === 0) throw new RangeError("standardize: no rows");
  const d = X[0].length;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const row of X) for (let j = 0; j < d; j++) mean[j] += row[j] / X.length;
  for (const row of X) for (let j = 0; j < d; j++) std[j] += (row[j] - mean[j]) ** 2 / X.length;
  // A column that is constant but for rounding (a std of 1e-14 around 0.3) would be blown up by
  // 1e14 into noise; such a std counts as 0, and a column without spread is left unscaled.
  for (let j = 0; j < d; j++) {
    const spread = Math.sqrt(std[j]);
    if (!Number.isFinite(spread)) {
      let largest = 0;
      for (const row of X) largest = Math.max(largest, Math.abs(row[j]));
      throw new RangeError(
        `standardize: column ${j + 1} has values too large to square (as large as ${largest.toPrecision(3)}); rescale it`,
      );
    }
    std[j] = spread > CONSTANT_TOLERANCE * Math.max(1, Math.abs(mean[j])) ? spread : 1;
  }
  return { mean, std, transform: (rows) => rows.map((row) => row.map((x, j) => (x - mean[j]) / std[j])) };
}

/** The most rows `parseCsv` reads unless told otherwise (`maxRows`), as many as `--samples` allows. */
export const MAX_CSV_ROWS = 1_000_000;

export interface CsvOptions {
  /** The file's name, for messages ("data.csv:12: …"); default "csv". */
  source?: string;
  /** The most data rows (default 1,000,000). */
  maxRows?: number;
  /** Told about what is read but probably not meant (a class of one row); default console.warn. */
  onWarning?: (message: string) => void;
}

/**
 * Parses CSV text (RFC 4180: quoted fields, CRLF, LF or CR line ends, a byte-order mark; see
 * csv.ts): one sample per record, features then the label. Whole-number labels become class
 * indices in increasing order (0..K-1 stay as they are; 0 and 0.0 are one class); other labels
 * are names, indexed in order of first appearance. The first record is a header when its
 * features are all non-numbers, or when its label appears nowhere else and either its cells are
 * 0, 1, 2… (pandas' names for a NumPy array's columns) or it is the only label that is not a
 * number (a header such as 0,1,target). Blank lines are skipped. A label column that cannot be
 * classes is refused with its name: numbers that are not whole (a measurement) or nearly one
 * value per row (an id). A feature larger than 1e150 in size is refused with its line and
 * column: standardizing squares it. More than `maxRows` rows (default 1,000,000) are refused:
 * tiny rows take about 400 bytes of memory each once parsed, so even a file of modest size could
 * exhaust the heap. A class of one row, and labels that are the same number written differently
 * among names, are told to `onWarning`.
 */
export function parseCsv(text: string, options: CsvOptions = {}): Dataset {
  checkOptions("parseCsv", options, { source: true, maxRows: true, onWarning: true });
  const source = options.source ?? "csv";
  const maxRows = options.maxRows ?? MAX_CSV_ROWS;
  const warn = options.onWarning ?? ((message: string) => console.warn(message));
  if (typeof text !== "string") throw new TypeError(`${source}: expected text, got ${typeof text}`);
  const { header, records } = readRecords(text, source, maxRows);
  const width = header?.fields.length ?? records[0]?.fields.length ?? 0;
  if (header && width < 2)
    throw new SyntaxError(`${source}:${header.line}: a header needs at least 2 columns`);
  const featureNames = header?.fields.slice(0, -1);
  const labelName = header?.fields[width - 1];
  const { X, rawLabels } = readRows(records, width, featureNames, source);
  if (X.length === 0) throw new SyntaxError(`${source}: no data rows`);
  const column = `column ${width}${labelName ? ` "${labelName}"` : ""}`;
  checkLabelColumn(rawLabels, source, column);
  const numbers = rawLabels.every(isNumber);
  const { classNames, y } = labelClasses(rawLabels, numbers);
  if (classNames.length < 2)
    throw new RangeError(`${source}: every row has the same class; need at least 2 classes`);
  warnAboutLabels(rawLabels, y, classNames, records, source, column, numbers, warn);
  return { X, y, nClasses: classNames.length, classNames, ...(featureNames ? { featureNames } : {}) };
}

/** The records of the text, the header (if the first is one) apart; more than `maxRows` rows are refused. */
function readRecords(
  text: string,
  source: string,
  maxRows: number,
): { header: CsvRecord | undefined; records: CsvRecord[] } {
  // One more record than the rows allowed: the first may be a header.
  const records: CsvRecord[] = [];
  const tooMany = (line: number) =>
    new RangeError(
      `${source}:${line}: more than ${maxRows.toLocaleString("en-US")} rows, the most a CSV file may have`,
    );
  for (const record of csvRecords(text, source)) {
    if (records.length === maxRows + 1)
      throw tooMany(isHeader(records) ? record.line : records[maxRows].line);
    records.push(record);
  }
  if (records.length === 0) throw new SyntaxError(`${source}: no data rows`);
  const header = isHeader(records) ? records.shift() : undefined;
  if (records.length > maxRows) throw tooMany(records[maxRows].line);
  return { header, records };
}

/** Each record's features as numbers and its label as written, checked cell by cell. */
function readRows(
  records: readonly CsvRecord[],
  width: number,
  featureNames: readonly string[] | undefined,
  source: string,
): { X: number[][]; rawLabels: string[] } {
  const X: number[][] = [];
  const rawLabels: string[] = [];
  for (const { fields: cells, line: lineNumber } of records) {
    if (cells.length !== width) {
      throw new SyntaxError(`${source}:${lineNumber}: expected ${width} columns, got ${cells.length}`);
    }
    if (width < 2)
      throw new SyntaxError(`${source}:${lineNumber}: expected features and a label, got 1 column`);
    const row = cells.slice(0, -1).map((cell, column) => {
      if (!isNumber(cell)) {
        throw new SyntaxError(
          `${source}:${lineNumber}: column ${column + 1} is ${quoteCell(cell)}, ${numberProblem(cell)}`,
        );
      }
      const value = Number(cell);
      // Standardizing squares the values; beyond this their squares overflow to Infinity.
      if (Math.abs(value) > MAX_FEATURE) {
        const name = featureNames?.[column] === undefined ? "" : ` ("${featureNames[column]}")`;
        throw new RangeError(
          `${source}:${lineNumber}: column ${column + 1}${name} is ${cell}, too large to train on ` +
            "(at most 1e150 in size: its square must be a finite number); rescale the column",
        );
      }
      return value;
    });
    const label = cells[cells.length - 1];
    if (label === "") throw new SyntaxError(`${source}:${lineNumber}: the label (last column) is empty`);
    X.push(row);
    rawLabels.push(label);
  }
  return { X, rawLabels };
}

/**
 * Class names and each row's class index. Whole numbers (1 and 2, -1 and 1, 0 and 0.0) are
 * classes by value, in increasing order, unless some are written as decimals: those keep their
 * spelling and order of appearance, as names do.
 */
function labelClasses(rawLabels: readonly string[], numbers: boolean): { classNames: string[]; y: number[] } {
  const integers = rawLabels.every((l) => INTEGER.test(l));
  const classNames: string[] = [];
  const index = new Map<string, number>();
  if (integers) {
    for (const value of [...new Set(rawLabels.map(Number))].sort((a, b) => a - b)) {
      index.set(String(value), classNames.length);
      classNames.push(String(value));
    }
  } else {
    for (const label of rawLabels) {
      const key = numbers ? String(Number(label)) : label;
      if (!index.has(key)) {
        index.set(key, classNames.length);
        classNames.push(label);
      }
    }
  }
  const y = rawLabels.map((l) => index.get(labelKey(l, integers || numbers)) as number);
  return { classNames, y };
}

/**
 * Whether the first record names the columns: its features are all words, or its label is seen
 * in no other row and the record is pandas' column numbers (0,1,2) or the one label that is not
 * a number (0,1,target). A header of numbers read as data would make a class of one row.
 */
function isHeader(records: readonly CsvRecord[]): boolean {
  const first = records[0].fields;
  if (first.length < 2) return false;
  if (first.slice(0, -1).every((cell) => !isNumber(cell))) return true;
  const label = first[first.length - 1];
  const rest = records.slice(1).map((r) => r.fields[r.fields.length - 1]);
  const sameClass = (other: string) =>
    other === label || (isNumber(other) && isNumber(label) && Number(other) === Number(label));
  if (rest.length === 0 || rest.some(sameClass)) return false;
  const columnNumbers = first.every((cell, i) => cell === String(i));
  const onlyWord = label !== "" && !isNumber(label) && rest.every(isNumber);
  return columnNumbers || onlyWord;
}

/** Warns of a class with one row, and of names that are one number written two ways. */
function warnAboutLabels(
  rawLabels: readonly string[],
  y: readonly number[],
  classNames: readonly string[],
  records: readonly CsvRecord[],
  source: string,
  column: string,
  numbers: boolean,
  warn: (message: string) => void,
): void {
  const counts = new Array<number>(classNames.length).fill(0);
  for (const k of y) counts[k]++;
  const single = counts.flatMap((n, k) => (n === 1 ? [k] : []));
  if (single.length > 0 && single.length <= classNames.length / 2) {
    const shown = single.slice(0, 3).map((k) => {
      const row = y.indexOf(k);
      return `${quoteCell(classNames[k])} (line ${records[row].line})`;
    });
    const more = single.length > 3 ? ` and ${single.length - 3} more` : "";
    warn(
      `${source}: warning: ${single.length === 1 ? "the class" : "the classes"} ${shown.join(", ")}${more} of the label ${column} ` +
        `${single.length === 1 ? "has" : "have"} only one row; a classifier cannot learn a class from one example (is it a header, or a typo?)`,
    );
  }
  if (numbers) return;
  const spellings = new Map<number, string>();
  for (const label of rawLabels) {
    if (!isNumber(label)) continue;
    const value = Number(label);
    const seen = spellings.get(value);
    if (seen === undefined) spellings.set(value, label);
    else if (seen !== label) {
      warn(
        `${source}: warning: the labels ${quoteCell(seen)} and ${quoteCell(label)} are the same number written differently, ` +
          "but the label column also holds names, so they are read as two classes; write them one way if they are one class",
      );
      return;
    }
  }
}

/** A cell as a message shows it: quoted, at most 40 characters, control characters as escapes. */
function quoteCell(cell: string): string {
  const shown = cell.length > 40 ? `${cell.slice(0, 37)}...` : cell;
  return JSON.stringify(shown);
}

/** The largest feature magnitude a CSV may hold: (2 × 1e150)² is still far from overflowing. */
const MAX_FEATURE = 1e150;

/** A label column with this many classes or more is checked for looking like an id. */
const MANY_CLASSES = 10;

/**
 * Refuses a label column that cannot be classes: numbers that are not whole (a measurement such
 * as a price) or nearly one value per row (an id). Either would make one output per row and a
 * network that cannot learn, or that does not fit in memory.
 */
function checkLabelColumn(labels: readonly string[], source: string, column: string): void {
  if (labels.every(isNumber)) {
    const fraction = labels.find((label) => !Number.isInteger(Number(label)));
    if (fraction !== undefined) {
      throw new RangeError(
        `${source}: the label column (${column}) holds numbers like ${fraction} that are not whole: ` +
          "it looks like a measurement, not a class. The last column must be each row's class (a name or a whole number).",
      );
    }
  }
  const classes = new Set(labels).size;
  if (classes >= MANY_CLASSES && classes > labels.length / 2) {
    throw new RangeError(
      `${source}: the label column (${column}) has ${classes} different values in ${labels.length} rows, ` +
        "nearly one class per row, like an id or a measurement. A classifier needs several rows of each class; " +
        "the last column must be each row's class.",
    );
  }
}

const INTEGER = /^-?\d+$/;

/** How a label is compared with class names: numeric classes by value ("01" and "1.0" are "1"), others as written. */
function labelKey(label: string, numericClasses: boolean): string {
  return numericClasses && isNumber(label) ? String(Number(label)) : label;
}

/** The index of `label` among class names that parseCsv made, or -1 if it is none of them. */
export function classIndex(label: string, classNames: readonly string[]): number {
  return classIndexer(classNames)(label);
}

/** classIndex for many labels: the names are looked up in a map made once. */
export function classIndexer(classNames: readonly string[]): (label: string) => number {
  const numeric = classNames.every(isNumber);
  const index = new Map<string, number>();
  classNames.forEach((name, k) => {
    const key = labelKey(name, numeric);
    if (!index.has(key)) index.set(key, k);
  });
  return (label) => index.get(labelKey(label, numeric)) ?? -1;
}

/**
 * Why a cell is not a usable number, in the user's terms: a numeral too large for a number
 * (1e400, which JavaScript reads as Infinity), or not a finite number at all.
 */
export function numberProblem(cell: string): string {
  const numeral = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(cell.trim());
  return numeral && !Number.isFinite(Number(cell))
    ? "too large for a number (at most about 1.8e308 in size)"
    : "not a finite number";
}

function isNumber(cell: string): boolean {
  return cell !== "" && Number.isFinite(Number(cell));
}

/** The options every generator takes, checked; `keys` lists those this generator takes. */
function common<T extends GeneratorOptions>(
  where: string,
  options: T,
  keys: OptionKeys<T>,
): { nSamples: number; noise: number; random: Random } {
  const { nSamples = 100, noise = 0, seed } = checkOptions(where, options, keys);
  checkInteger(where, "nSamples", nSamples, 2);
  if (!(typeof noise === "number" && noise >= 0 && Number.isFinite(noise))) {
    throw new RangeError(`${where}: noise must be a number >= 0, got ${String(noise)}`);
  }
  return { nSamples, noise, random: createRandom(seed) };
}

function checkInteger(where: string, name: string, value: unknown, min: number): void {
  if (!(typeof value === "number" && Number.isInteger(value) && value >= min)) {
    throw new RangeError(`${where}: ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
}

/** nSamples points split as evenly as possible between classes, each class placed by `place`, plus noise. */
function generate(
  nSamples: number,
  nClasses: number,
  random: Random,
  noise: number,
  place: (cls: number, i: number, nInClass: number) => [number, number],
): Dataset {
  const X: number[][] = [];
  const y: number[] = [];
  for (let cls = 0; cls < nClasses; cls++) {
    const n = Math.floor(nSamples / nClasses) + (cls < nSamples % nClasses ? 1 : 0);
    for (let i = 0; i < n; i++) {
      const [a, b] = place(cls, i, n);
      X.push([a + noise * gaussian(random), b + noise * gaussian(random)]);
      y.push(cls);
    }
  }
  return shuffle({ X, y, nClasses }, random);
}

function shuffle(data: Dataset, random: Random): Dataset {
  return subset(
    data,
    shuffled(
      data.y.map((_, i) => i),
      random,
    ),
  );
}
