// Data sets that live in files: the digits shipped with the package, and the user's own CSV files.
import { readFileSync } from "node:fs";
import { type Dataset, parseCsv } from "../data.js";
import { splitDocuments } from "../tokenizer.js";
import { readTextFile } from "./files.js";

const DIGITS_URL = new URL("../../data/digits.csv", import.meta.url);

/** The 8×8 handwritten digits (1797 images, 10 classes), pixels scaled from 0..16 to [0, 1]. */
export function loadDigits(): Dataset {
  const data = parseCsv(readFileSync(DIGITS_URL, "utf8"), { source: "digits.csv" });
  return {
    X: data.X.map((row) => row.map((pixel) => pixel / 16)),
    y: data.y,
    nClasses: 10,
    classNames: Array.from({ length: 10 }, (_, k) => String(k)),
  };
}

/** What a CSV file that is not plain text is asked to be. */
export const CSV_KIND = "a CSV file saved as UTF-8";

/**
 * Reads a CSV file of features…, label (see parseCsv) with errors that name the file and line;
 * a file that is not UTF-8 text is refused naming the line. Warnings go to `onWarning`
 * (default console.warn).
 */
export function readCsvFile(path: string, onWarning?: (message: string) => void): Dataset {
  return parseCsv(readTextFile(path, { plainText: true, kind: CSV_KIND }), { source: path, onWarning });
}

const NAMES_URL = new URL("../../data/names.txt", import.meta.url);

/** The 32,033 first names shipped with the package (see data/README.md), one document each. */
export function loadNames(): string[] {
  return splitDocuments(readFileSync(NAMES_URL, "utf8"));
}
