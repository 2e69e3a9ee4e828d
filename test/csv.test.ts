// CSV files as spreadsheets and pandas write them: our reader against csv-parse (a well-kept
// parser, used here only as an oracle) on generated files, then the headers, labels and
// encodings that real files bring.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { csvRecords } from "../src/csv.js";
import { classIndex, parseCsv } from "../src/data.js";
import { readCsvFile } from "../src/node/datasets.js";

const records = (text: string) => [...csvRecords(text)].map((r) => r.fields);
const oracle = (text: string): string[][] =>
  parse(text, {
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    trim: true,
    record_delimiter: ["\r\n", "\n", "\r"],
  });

describe("csvRecords reads RFC 4180", () => {
  // Unquoted fields hold no quote, comma or line break; quoted ones may hold anything.
  const plain = fc.stringMatching(/^[a-z0-9.-]([a-z0-9 .-]{0,6}[a-z0-9.-])?$/);
  const quoted = fc
    .string({ unit: fc.constantFrom("a", "1", " ", ",", '"', "\n", "\r", "é", "\t"), maxLength: 8 })
    .map((s) => `"${s.replaceAll('"', '""')}"`);
  const field = fc.oneof(plain, quoted, fc.constant(""));
  const record = fc
    .array(field, { minLength: 1, maxLength: 5 })
    .filter((fields) => fields.length > 1 || fields[0] !== "");
  const file = fc.record({
    bom: fc.boolean(),
    rows: fc.array(
      fc.record({
        fields: record,
        spaces: fc.boolean(),
        end: fc.constantFrom("\n", "\r\n", "\r"),
        blankAfter: fc.boolean(),
      }),
      { minLength: 1, maxLength: 8 },
    ),
  });

  it("gives the same records as csv-parse on generated files (quotes, commas, CR, CRLF, LF, BOM)", () => {
    fc.assert(
      fc.property(file, ({ bom, rows }) => {
        const text =
          (bom ? "\ufeff" : "") +
          rows
            .map(({ fields, spaces, end, blankAfter }) => {
              const separator = spaces ? " , " : ",";
              return fields.join(separator) + end + (blankAfter ? end : "");
            })
            .join("");
        expect(records(text)).toEqual(oracle(text));
      }),
      { numRuns: 400, seed: 24 },
    );
  });

  it("reads the cases by hand, each record with the line it starts on", () => {
    const text = '\ufeffname,"note, with comma","say ""hi"""\r\n\r\n1,"two\nlines",3\r4,5,6';
    expect([...csvRecords(text)]).toEqual([
      { fields: ["name", "note, with comma", 'say "hi"'], line: 1 },
      { fields: ["1", "two\nlines", "3"], line: 3 },
      { fields: ["4", "5", "6"], line: 5 },
    ]);
    expect(records("a,b\n,\n  \n")).toEqual([
      ["a", "b"],
      ["", ""],
    ]);
  });

  it("names the line of a quote left open, and of text after a closing quote", () => {
    expect(() => records('a,b\n1,"open\n\n2,3\n')).toThrow(
      'csv:2: a quoted field is never closed (a " opens it and none ends it)',
    );
    expect(() => records('a,b\n1,"x"y\n')).toThrow(
      `csv:2: text after a quoted field's closing quote; a quote inside quotes is written twice ("")`,
    );
  });
});

describe("parseCsv reads files as spreadsheets and pandas write them", () => {
  const quiet = { onWarning: () => {} };

  it("reads quoted names, a BOM and CR-only lines (an old Mac's Excel)", () => {
    const data = parseCsv(
      '\ufeff"length, cm","width",species\r5.1,3.5,"setosa"\r6.2,2.9,"versi, color"\r',
      quiet,
    );
    expect(data.featureNames).toEqual(["length, cm", "width"]);
    expect(data.classNames).toEqual(["setosa", "versi, color"]);
    expect(data.X).toEqual([
      [5.1, 3.5],
      [6.2, 2.9],
    ]);
  });

  it("takes pandas' 0,1,2 header of a NumPy array as a header, and 0.0 / 1.0 labels as two classes", () => {
    const text = "0,1,2\n0.5,1.5,0.0\n1.5,0.5,1.0\n0.2,0.1,0.0\n";
    const data = parseCsv(text, quiet);
    expect(data.featureNames).toEqual(["0", "1"]);
    expect(data.nClasses).toBe(2);
    expect(data.X).toHaveLength(3);
    expect(data.y).toEqual([0, 1, 0]);
  });

  it("takes 0,1,target as a header: its label is the only one that is not a number", () => {
    const data = parseCsv("0,1,target\n1,2,0\n3,4,1\n5,6,1\n", quiet);
    expect(data.featureNames).toEqual(["0", "1"]);
    expect(data.classNames).toEqual(["0", "1"]);
  });

  it("keeps a first row of data that only looks like column numbers", () => {
    // Its label 2 is a class of other rows, so the row is data.
    const data = parseCsv("0,1,2\n3,4,2\n5,6,0\n7,8,0\n", quiet);
    expect(data.featureNames).toBeUndefined();
    expect(data.X).toHaveLength(4);
  });

  it("reads one number written two ways as one class", () => {
    const data = parseCsv("1,0\n2,0.0\n3,1\n4,1.00\n5,01\n", quiet);
    expect(data.classNames).toEqual(["0", "1"]);
    expect(data.y).toEqual([0, 0, 1, 1, 1]);
    expect(classIndex("1.0", ["1.0", "0.0"])).toBe(0);
    expect(classIndex("0", ["1.0", "0.0"])).toBe(1);
  });

  it("warns of a class of one row, and of one number written two ways among names", () => {
    const warnings: string[] = [];
    const onWarning = (message: string) => warnings.push(message);
    parseCsv("1,a\n2,a\n3,b\n4,b\n5,typo\n6,a\n", { source: "d.csv", onWarning });
    expect(warnings).toEqual([
      'd.csv: warning: the class "typo" (line 5) of the label column 2 has only one row; a classifier cannot learn a class from one example (is it a header, or a typo?)',
    ]);
    warnings.length = 0;
    parseCsv("1,a\n2,1\n3,1.0\n4,a\n", { source: "d.csv", onWarning });
    expect(warnings).toEqual([
      'd.csv: warning: the labels "1" and "1.0" are the same number written differently, but the label column also holds names, so they are read as two classes; write them one way if they are one class',
    ]);
    warnings.length = 0;
    parseCsv("1,a\n2,a\n3,b\n4,b\n", { onWarning });
    expect(warnings).toEqual([]);
  });

  it("shows a cell in a message quoted, cut, and with control characters escaped", () => {
    expect(() => parseCsv(`1,2,0\n3,"${"x".repeat(100)}",1\n`, quiet)).toThrow(
      `csv:2: column 2 is "${"x".repeat(37)}...", not a finite number`,
    );
  });
});

describe("readCsvFile refuses what is not UTF-8 text, naming the line", () => {
  const folder = mkdtempSync(join(tmpdir(), "micrograd-csv-"));
  const file = (name: string, bytes: Uint8Array | string) => {
    const path = join(folder, name);
    writeFileSync(path, bytes);
    return path;
  };

  it("Latin-1 bytes", () => {
    const path = file("latin1.csv", Buffer.from("a,b,c\n1,2,x\n3,4,caf\xe9\n", "latin1"));
    expect(() => readCsvFile(path)).toThrow(
      `cannot read ${path}: line 3 has bytes that are not UTF-8 text; give a CSV file saved as UTF-8`,
    );
  });

  it("UTF-16, with a byte-order mark or without", () => {
    const text = "a,b,c\n1,2,x\n3,4,y\n";
    const withMark = file(
      "bom16.csv",
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]),
    );
    const withoutMark = file("plain16.csv", Buffer.from(text, "utf16le"));
    for (const path of [withMark, withoutMark]) {
      expect(() => readCsvFile(path)).toThrow(
        `cannot read ${path}: it is UTF-16 text, not UTF-8; save it as UTF-8 and give it again`,
      );
    }
  });
});
