import { execFileSync } from "node:child_process";
import { mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  classIndex,
  classIndexer,
  DATASET_NAMES,
  MAX_CSV_ROWS,
  makeBlobs,
  makeCircles,
  makeDataset,
  makeMoons,
  makeSpiral,
  makeXor,
  parseCsv,
  splitSizes,
  standardize,
  trainTestSplit,
} from "../src/data.js";
import { loadDigits, readCsvFile } from "../src/node/datasets.js";
import { readTextFile } from "../src/node/files.js";

const count = (y: number[], cls: number) => y.filter((v) => v === cls).length;

describe("generators", () => {
  it("moons without noise lie on the two half circles", () => {
    const { X, y } = makeMoons({ nSamples: 40, seed: 1 });
    X.forEach(([a, b], i) => {
      const r = y[i] === 0 ? Math.hypot(a, b) : Math.hypot(a - 1, b - 0.5);
      expect(r).toBeCloseTo(1, 12);
      if (y[i] === 0) expect(b).toBeGreaterThanOrEqual(-1e-12);
      else expect(b).toBeLessThanOrEqual(0.5 + 1e-12);
    });
    expect(count(y, 0)).toBe(20);
  });

  it("circles have radii 1 and factor", () => {
    const { X, y } = makeCircles({ nSamples: 30, factor: 0.3, seed: 2 });
    for (const [i, [a, b]] of X.entries()) expect(Math.hypot(a, b)).toBeCloseTo(y[i] === 0 ? 1 : 0.3, 12);
  });

  it("xor labels follow the sign rule", () => {
    const { X, y } = makeXor({ nSamples: 200, seed: 3 });
    for (const [i, [a, b]] of X.entries()) expect(y[i]).toBe(a * b > 0 ? 1 : 0);
    expect(count(y, 1)).toBe(100);
  });

  it("blobs and spiral make the asked number of classes, balanced", () => {
    const blobs = makeBlobs({ nSamples: 90, centers: 3, seed: 1 });
    expect(blobs.nClasses).toBe(3);
    expect([0, 1, 2].map((c) => count(blobs.y, c))).toEqual([30, 30, 30]);
    const spiral = makeSpiral({ nSamples: 99, nClasses: 3, seed: 1 });
    expect([0, 1, 2].map((c) => count(spiral.y, c))).toEqual([33, 33, 33]);
    for (const [a, b] of spiral.X) expect(Math.hypot(a, b)).toBeLessThanOrEqual(1 + 1e-12);
  });

  it("same seed gives identical data, another seed different data", () => {
    for (const name of DATASET_NAMES) {
      const a = makeDataset(name, { nSamples: 50, noise: 0.1, seed: 5 });
      expect(makeDataset(name, { nSamples: 50, noise: 0.1, seed: 5 })).toEqual(a);
      expect(makeDataset(name, { nSamples: 50, noise: 0.1, seed: 6 }).X).not.toEqual(a.X);
      expect(a.X.length).toBe(50);
    }
  });

  it("rejects bad options with clear errors", () => {
    expect(() => makeMoons({ nSamples: 1 })).toThrow("makeMoons: nSamples must be an integer >= 2, got 1");
    expect(() => makeMoons({ noise: -0.1 })).toThrow("makeMoons: noise must be a number >= 0, got -0.1");
    expect(() => makeCircles({ factor: 1.5 })).toThrow(/factor must be between 0 and 1/);
    expect(() => makeBlobs({ centers: 1 })).toThrow(/centers must be an integer >= 2/);
    expect(() => makeDataset("wave" as never)).toThrow('unknown data set "wave"');
  });
});

describe("splitting and scaling", () => {
  it("trainTestSplit is stratified, disjoint and complete", () => {
    const data = makeMoons({ nSamples: 100, seed: 1 });
    const { train, test } = trainTestSplit(data, { testSize: 0.2, seed: 1 });
    expect(train.X.length).toBe(80);
    expect(test.X.length).toBe(20);
    expect(count(test.y, 0)).toBe(10);
    const key = (row: number[]) => row.join(",");
    const all = new Set([...train.X, ...test.X].map(key));
    expect(all.size).toBe(100);
    expect(trainTestSplit(data, { testSize: 0.2, seed: 1 })).toEqual({ train, test });
    expect(() => trainTestSplit(data, { testSize: 1 })).toThrow(/testSize/);
  });

  it("standardize gives zero mean and unit variance, and leaves constant features alone", () => {
    const X = [
      [1, 5],
      [3, 5],
      [5, 5],
    ];
    const scaler = standardize(X);
    expect(scaler.mean).toEqual([3, 5]);
    expect(scaler.std[1]).toBe(1);
    const Z = scaler.transform(X);
    expect(Z.map((r) => r[0]).reduce((s, v) => s + v, 0)).toBeCloseTo(0, 14);
    expect(Z.map((r) => r[0] ** 2).reduce((s, v) => s + v, 0) / 3).toBeCloseTo(1, 14);
    expect(Z.map((r) => r[1])).toEqual([0, 0, 0]);
  });

  it("standardize treats a column constant but for rounding as constant, and refuses values too large to square", () => {
    // 0.1 + 0.2 and 0.3 differ in the last bit: a std of about 3e-17 that would scale by 3e16.
    const X = Array.from({ length: 10 }, (_, i) => [i, i % 2 ? 0.3 : 0.1 + 0.2]);
    const scaler = standardize(X);
    expect(scaler.std[1]).toBe(1);
    expect(Math.abs(scaler.transform([[0, 0.31]])[0][1])).toBeLessThan(0.02);
    // A real spread of a large column is kept: 1e-11 relative is above the tolerance.
    expect(standardize([[1e6], [1e6 + 1e-4]]).std[0]).toBeCloseTo(5e-5, 10);
    expect(() => standardize([[1e300], [-1e300]])).toThrow(
      "standardize: column 1 has values too large to square (as large as 1.00e+300); rescale it",
    );
  });
});

describe("CSV", () => {
  it("refuses a feature too large to square, naming its line and column", () => {
    expect(() => parseCsv("a,big,label\n1,2,x\n2,1e300,y\n", { source: "huge.csv" })).toThrow(
      'huge.csv:3: column 2 ("big") is 1e300, too large to train on (at most 1e150 in size',
    );
    expect(() => parseCsv("1,-2e200,x\n2,1,y\n")).toThrow("csv:1: column 2 is -2e200, too large");
  });

  it("parses features and integer labels, with a header, blank lines and CRLF", () => {
    const data = parseCsv("x,y,label\r\n0.5,1,0\r\n\r\n-2,3e-1,1\r\n");
    expect(data.X).toEqual([
      [0.5, 1],
      [-2, 0.3],
    ]);
    expect(data.y).toEqual([0, 1]);
    expect(data.nClasses).toBe(2);
    expect(data.featureNames).toEqual(["x", "y"]);
  });

  it("maps class names to indices in order of first appearance", () => {
    const data = parseCsv("1,2,cat\n3,4,dog\n5,6,cat\n");
    expect(data.y).toEqual([0, 1, 0]);
    expect(data.classNames).toEqual(["cat", "dog"]);
  });

  it.each([
    ["1,2,0\n3,0\n", "data.csv:2: expected 3 columns, got 2"],
    ["1,2,0\n3,abc,1\n", 'data.csv:2: column 2 is "abc", not a finite number'],
    ["1,2,0\n3,Infinity,1\n", 'data.csv:2: column 2 is "Infinity", not a finite number'],
    ["", "data.csv: no data rows"],
    ["a,b,c\n", "data.csv: no data rows"],
    ["1,2,0\n3,4,0\n", "data.csv: every row has the same class"],
    ["1,2,\n3,4,1\n", "data.csv:1: the label (last column) is empty"],
  ])("%j → %s", (text, message) => {
    expect(() => parseCsv(text, { source: "data.csv" })).toThrow(message);
  });

  it("readCsvFile names a missing file", () => {
    expect(() => readCsvFile("/nonexistent/data.csv")).toThrow(
      "cannot read /nonexistent/data.csv: no such file",
    );
  });
});

describe("digits", () => {
  it("ships 1797 8×8 images of ten classes, scaled to [0, 1]", () => {
    const digits = loadDigits();
    expect(digits.X.length).toBe(1797);
    expect(digits.X.every((row) => row.length === 64)).toBe(true);
    expect(digits.nClasses).toBe(10);
    expect(digits.y[0]).toBe(0);
    expect(digits.X[0].slice(0, 4)).toEqual([0, 0, 5 / 16, 13 / 16]);
    const all = digits.X.flat();
    expect(Math.min(...all)).toBe(0);
    expect(Math.max(...all)).toBe(1);
    expect(new Set(digits.y).size).toBe(10);
  });
});

describe("CSV labels and headers", () => {
  it("maps integer labels that are not 0..K-1 to classes in increasing order", () => {
    const signs = parseCsv("1,2,-1\n3,4,1\n5,6,-1\n");
    expect(signs.classNames).toEqual(["-1", "1"]);
    expect(signs.y).toEqual([0, 1, 0]);
    const oneTwo = parseCsv("1,1\n2,2\n3,1\n");
    expect(oneTwo.nClasses).toBe(2);
    expect(oneTwo.y).toEqual([0, 1, 0]);
    const far = parseCsv("1,0\n2,1000000\n");
    expect(far.nClasses).toBe(2);
  });

  it("keeps labels as written when they are not all integers", () => {
    const mixed = parseCsv("1,01\n2,a\n3,01\n4,1\n");
    expect(mixed.classNames).toEqual(["01", "a", "1"]);
    expect(mixed.y).toEqual([0, 1, 0, 2]);
    expect(classIndex("01", mixed.classNames ?? [])).toBe(0);
    expect(classIndex("1", mixed.classNames ?? [])).toBe(2);
    expect(classIndex("007", ["-1", "7"])).toBe(1);
  });

  it("keeps 0..K-1 as they are and reads big files without a stack overflow", () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => `${i % 7},${i % 3}`).join("\n");
    const data = parseCsv(rows);
    expect(data.X).toHaveLength(200_000);
    expect(data.nClasses).toBe(3);
    expect(data.y.slice(0, 4)).toEqual([0, 1, 2, 0]);
  });

  it("takes a header only when it names every feature, without quotes", () => {
    expect(parseCsv('"size","weight",kind\n1,2,a\n3,4,b\n').featureNames).toEqual(["size", "weight"]);
    expect(() => parseCsv("1,2x,0\n3,4,1\n", { source: "typo.csv" })).toThrow(
      'typo.csv:1: column 2 is "2x", not a finite number',
    );
  });

  it("trainTestSplit refuses labels outside its classes instead of dropping rows", () => {
    const data = { X: [[0], [1], [2], [3], [4]], y: [0, 1, 0, 1, 5], nClasses: 2 };
    expect(() => trainTestSplit(data, { testSize: 0.4 })).toThrow(
      "trainTestSplit: the label of row 4 is 5, not a class index in 0..1",
    );
  });
});

describe("hostile sizes and shapes", () => {
  it("refuses a label column that is an id or a measurement, naming the column", () => {
    const ids = `x,y,customer\n${Array.from({ length: 2000 }, (_, i) => `${i % 5},${i % 3},${1000 + i}`).join("\n")}`;
    expect(() => parseCsv(ids, { source: "ids.csv" })).toThrow(
      'ids.csv: the label column (column 3 "customer") has 2000 different values in 2000 rows, nearly one class per row',
    );
    const names = Array.from({ length: 30 }, (_, i) => `${i},row${i % 20}`).join("\n");
    expect(() => parseCsv(names, { source: "n.csv" })).toThrow(
      "(column 2) has 20 different values in 30 rows",
    );
    expect(() => parseCsv("1,0.5\n2,1.5\n3,0.5\n", { source: "m.csv" })).toThrow(
      "m.csv: the label column (column 2) holds numbers like 0.5 that are not whole: it looks like a measurement",
    );
    // Small files and whole numbers written as decimals are classes as ever.
    expect(parseCsv("1,a\n2,b\n3,c\n4,d\n").nClasses).toBe(4);
    expect(parseCsv("1,1.0\n2,0.0\n3,1.0\n").classNames).toEqual(["1.0", "0.0"]);
    const ten = Array.from({ length: 20 }, (_, i) => `${i},${i % 10}`).join("\n");
    expect(parseCsv(ten).nClasses).toBe(10);
  });

  it("splits a million rows of 20,000 classes in one pass per class list, as splitSizes predicts", () => {
    const n = 1_000_000;
    const data = {
      X: Array.from({ length: n }, (_, i) => [i]),
      y: Array.from({ length: n }, (_, i) => i % 20_000),
      nClasses: 20_000,
    };
    const { train, test } = trainTestSplit(data, { testSize: 0.2, seed: 3 });
    expect(test.y).toHaveLength(splitSizes(data.y, data.nClasses, 0.2).test);
    expect(train.y.length + test.y.length).toBe(n);
    expect(new Set(test.X.map(([i]) => i)).size).toBe(test.y.length);
    expect(splitSizes([0, 0, 1], 2, 0.2)).toEqual({ train: 3, test: 0 });
    expect(splitSizes([0, 0, 1, 1], 2, 0.99)).toEqual({ train: 0, test: 4 });
  });

  it("refuses more rows than the limit, at the first row over it", () => {
    expect(() => parseCsv("a,b,c\n1,2,0\n\n3,4,1\n5,6,0\n", { source: "d.csv", maxRows: 2 })).toThrow(
      "d.csv:5: more than 2 rows, the most a CSV file may have",
    );
    expect(parseCsv("a,b,c\n1,2,0\n\n3,4,1\n\n", { maxRows: 2 }).X).toHaveLength(2);
    const tooMany = "0,0\n1,1\n".repeat(MAX_CSV_ROWS / 2 + 1);
    expect(() => parseCsv(tooMany, { source: "big.csv" })).toThrow(
      "big.csv:1000001: more than 1,000,000 rows, the most a CSV file may have",
    );
  });

  it("classIndexer looks labels up like classIndex, in a map", () => {
    const names = Array.from({ length: 50_000 }, (_, k) => `c${k}`);
    const indexOf = classIndexer(names);
    expect(indexOf("c49999")).toBe(49_999);
    expect(indexOf("nope")).toBe(-1);
    expect(classIndexer(["1", "2"])("01")).toBe(classIndex("01", ["1", "2"]));
  });

  it("reads only regular files of bounded size", () => {
    const dir = mkdtempSync(join(tmpdir(), "micrograd-files-"));
    const fifo = join(dir, "pipe.csv");
    execFileSync("mkfifo", [fifo]);
    expect(() => readCsvFile(fifo)).toThrow(`cannot read ${fifo}: it is a pipe (FIFO); give a regular file`);
    expect(() => readCsvFile("/dev/zero")).toThrow(
      "cannot read /dev/zero: it is a device; give a regular file",
    );
    expect(() => readCsvFile(dir)).toThrow(`cannot read ${dir}: it is a folder; give a regular file`);
    const big = join(dir, "big.csv");
    writeFileSync(big, "");
    truncateSync(big, 100 * 1024 * 1024 + 1);
    expect(() => readCsvFile(big)).toThrow(
      `cannot read ${big}: it is 104,857,601 bytes, more than the 104,857,600 bytes a file may have`,
    );
    const small = join(dir, "small.csv");
    writeFileSync(small, "1,2,0\n3,4,1\n");
    expect(() => readTextFile(small, { maxBytes: 11 })).toThrow(
      "it is 12 bytes, more than the 11 bytes a file may have",
    );
    expect(readTextFile(small, { maxBytes: 12 })).toBe("1,2,0\n3,4,1\n");
  });
});
