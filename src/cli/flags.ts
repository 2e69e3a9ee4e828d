// What every command shares: the streams it writes to, the usage error (exit 2), and its flags
// as a table (name, kind, range, help) from which both the parsing with its checks and the help
// text are made. Every message about a flag's value is written here, once.
import { parseArgs } from "node:util";

/** The command line is wrong: print the message and a hint, exit with status 2. */
export class UsageError extends Error {}

/** A UsageError, or a flag parseArgs does not know or that lacks its value. */
export function isUsageError(error: unknown): boolean {
  return (
    error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") === true
  );
}

/** Prints a usage error and where to find the help of `command` ("gpt train"); returns exit status 2. */
export function reportUsageError(io: Io, error: Error, command?: string): number {
  io.stderr.write(
    `micrograd: ${error.message}\nRun "micrograd${command ? ` ${command}` : ""} --help" for usage.\n`,
  );
  return 2;
}

export interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
}

export function printHelp(text: string, io: Io): number {
  io.stdout.write(`${text}\n`);
  return 0;
}

// ---- the table ---------------------------------------------------------------------------------

/**
 * One flag. `switch` takes no value; `text` any text; `path` a non-empty file or folder name;
 * `integer` and `number` are checked against their range; `choice` against its choices.
 */
export type Flag =
  | { kind: "switch"; help: string; section: string; short?: string }
  | { kind: "text" | "path"; value: string; help: string; section: string; multiple?: boolean }
  | ({ kind: "integer" | "number"; value: string; help: string; section: string } & Range)
  | { kind: "choice"; value: string; help: string; section: string; choices: readonly string[] };

/** What a number flag accepts. `min` and `max` are allowed; `above` and `below` are not. */
export interface Range {
  min?: number;
  above?: number;
  max?: number;
  below?: number;
  /** Said when the value is too large, after "--name": "is a fraction of --lr, at most 1". */
  tooLarge?: string;
}

export type FlagTable = Record<string, Flag>;

type ValueOf<F extends Flag> = F extends { kind: "switch" }
  ? boolean
  : F extends { kind: "integer" | "number" }
    ? number
    : F extends { choices: readonly (infer C)[] }
      ? C
      : F extends { multiple: true }
        ? string[]
        : string;

/** The checked values of a table's flags; a flag not given is undefined. */
export type FlagValues<T extends FlagTable> = { [K in keyof T]?: ValueOf<T[K]> };

/** A command: its flags, and the help around them. */
export interface Command<T extends FlagTable> {
  /** "gpt train": for the hint after a usage error. */
  name: string;
  /** The help before the flags: what the command does, and its usage line. */
  intro: string;
  flags: T;
  /** The help after the flags. */
  outro?: string;
  /** Takes text after the flags (`gpt score --model F "text"`); otherwise such text is refused. */
  positionals?: boolean;
}

/**
 * Parses `args` by the command's table and checks every value, so that a typo costs nothing.
 * `help` is true when --help or -h was given (and nothing is checked then).
 */
export function parseFlags<T extends FlagTable>(
  command: Command<T>,
  args: readonly string[],
): { help: boolean; values: FlagValues<T>; positionals: string[] } {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, flag] of Object.entries(command.flags)) {
    options[name] =
      flag.kind === "switch"
        ? { type: "boolean", ...(flag.short ? { short: flag.short } : {}) }
        : { type: "string", ...("multiple" in flag && flag.multiple ? { multiple: true } : {}) };
  }
  const parsed = parseArgs({
    args: negativeValues(args),
    options,
    allowPositionals: command.positionals === true,
  });
  const given = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (given.help === true) return { help: true, values: {}, positionals: parsed.positionals };
  const values: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(command.flags)) {
    const text = given[name];
    if (text === undefined) continue;
    values[name] = typeof text === "string" ? checkFlag(name, flag, text) : text;
  }
  return { help: false, values: values as FlagValues<T>, positionals: parsed.positionals };
}

/** One flag's text, checked and converted. */
function checkFlag(name: string, flag: Flag, text: string): unknown {
  switch (flag.kind) {
    case "integer":
      return integerFlag(name, text, flag);
    case "number":
      return numberFlag(name, text, flag);
    case "choice":
      return choiceFlag(name, text, flag.choices);
    case "path":
      return pathFlag(name, text);
    default:
      return text;
  }
}

/** The help text of a command: its intro, then the flags by section, each aligned. */
export function helpText(command: Command<FlagTable>): string {
  const label = (name: string, flag: Flag) => `--${name}${"value" in flag ? ` ${flag.value}` : ""}`;
  const entries = Object.entries(command.flags);
  const column = Math.max(18, ...entries.map(([name, flag]) => label(name, flag).length + 2));
  const sections = new Map<string, string[]>();
  for (const [name, flag] of entries) {
    const [first, ...rest] = flag.help.split("\n");
    const lines = [
      `  ${label(name, flag).padEnd(column)}${first}`,
      ...rest.map((line) => `  ${" ".repeat(column)}${line}`),
    ];
    sections.set(flag.section, [...(sections.get(flag.section) ?? []), ...lines]);
  }
  const body = [...sections].map(([title, lines]) => `${title}:\n${lines.join("\n")}`).join("\n\n");
  return `${command.intro}\n\n${body}${command.outro ? `\n\n${command.outro}` : ""}`;
}

// ---- the checks --------------------------------------------------------------------------------

/**
 * `args` with a negative number given as a flag's value joined to it ("--lr", "-1" becomes
 * "--lr=-1"), so that parseArgs passes it on to the range check instead of calling it ambiguous.
 */
export function negativeValues(args: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (/^--[^=]+$/.test(args[i]) && next !== undefined && /^-\.?\d/.test(next)) {
      joined.push(`${args[i]}=${next}`);
      i++;
    } else {
      joined.push(args[i]);
    }
  }
  return joined;
}

export function numberFlag(name: string, text: string, range: Range = {}): number {
  const x = Number(text);
  const { min, above } = range;
  if (
    text.trim() === "" ||
    !Number.isFinite(x) ||
    (min !== undefined && x < min) ||
    (above !== undefined && x <= above)
  ) {
    const bound = above !== undefined ? `> ${above}` : min !== undefined ? `>= ${min}` : "";
    throw new UsageError(`--${name} must be a number${bound ? ` ${bound}` : ""}, got "${text}"`);
  }
  checkAbove(name, text, x, range);
  return x;
}

export function integerFlag(name: string, text: string, range: Range = {}): number {
  const x = Number(text);
  const min = range.min ?? Number.MIN_SAFE_INTEGER;
  // 1e6 and 1000.0 are whole numbers too; 1.5, 1e-3, 0x10 and Infinity are not.
  if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)(e\+?\d+)?\s*$/i.test(text) || !Number.isInteger(x) || x < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got "${text}"`);
  }
  checkAbove(name, text, x, { max: Number.MAX_SAFE_INTEGER, ...range });
  return x;
}

/** The upper end of a range: "must be at most 100,000" or "must be below 1". */
function checkAbove(name: string, text: string, x: number, range: Range): void {
  const { max, below, tooLarge } = range;
  if (max !== undefined && x > max) {
    throw new UsageError(`--${name} ${tooLarge ?? `must be at most ${count(max)}`}, got ${text.trim()}`);
  }
  if (below !== undefined && x >= below) {
    throw new UsageError(`--${name} ${tooLarge ?? `must be below ${below}`}, got ${text.trim()}`);
  }
}

export function choiceFlag<T extends string>(name: string, text: string, choices: readonly T[]): T {
  if (!includes(choices, text))
    throw new UsageError(`--${name}: unknown "${text}"; expected ${choices.join(", ")}`);
  return text;
}

/** A file or folder name: an empty one ("--out ''") would mean the current folder or nothing. */
export function pathFlag(name: string, text: string): string {
  if (text.trim() === "") throw new UsageError(`--${name} needs a path, got ${JSON.stringify(text)}`);
  return text;
}

/** Two flags that mean opposite things, or two ways to say one thing: "give --a or --b, not both". */
export function notBoth(values: Record<string, unknown>, first: string, second: string): void {
  if (values[first] !== undefined && values[second] !== undefined) {
    throw new UsageError(`give --${first} or --${second}, not both`);
  }
}

/** A flag without which the command cannot run: "--model FILE is required". */
export function required<V>(value: V | undefined, what: string): V {
  if (value === undefined) throw new UsageError(`${what} is required`);
  return value;
}

export function includes<T extends string>(choices: readonly T[], text: string): text is T {
  return (choices as readonly string[]).includes(text);
}

/** 1234567 → "1,234,567": sizes in messages are read by people. */
export function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** "1 step", "2 steps". */
export function plural(n: number, noun: string): string {
  return `${count(n)} ${noun}${n === 1 ? "" : "s"}`;
}

/** What the text checks need of a tokenizer. */
interface Vocabulary {
  encodeText(text: string): number[];
}

/** Text given on the command line must be made of the model's characters: a usage error names the one that is not. */
export function checkInVocabulary(flag: string, text: string, tokenizer: Vocabulary): number[] {
  try {
    return tokenizer.encodeText(text);
  } catch (error) {
    throw new UsageError(`--${flag}: ${(error as Error).message}`);
  }
}

/** The model reads BOS and then the text within its block: a longer text is refused, not cut. */
export function checkFitsBlock(flag: string, ids: readonly number[], blockSize: number): void {
  if (ids.length >= blockSize) {
    throw new UsageError(
      `--${flag}: it has ${count(ids.length)} characters; the model's block of ${count(blockSize)} leaves room for at most ${count(blockSize - 1)}`,
    );
  }
}

// ---- shared flags and hints --------------------------------------------------------------------

/**
 * `--no-compile`, shared by the commands that train: the eager engine, step by step, instead of
 * the compiled step (the same numbers, slower; the summary's steps/s shows by how much).
 */
export const NO_COMPILE_FLAG = {
  "no-compile": {
    kind: "switch",
    section: "Training",
    help:
      "train with the eager engine (the reference) instead of the compiled\n" +
      "step: the same numbers, slower; the summary line shows the steps/s",
  },
} as const satisfies FlagTable;

/** Said when `predict` or `export` is given a GPT's model file. */
export const GPT_MODEL_HINT = "use micrograd gpt sample or micrograd gpt attention with it";
/** Said when a `gpt` command is given an MLP's model file. */
export const MLP_MODEL_HINT = "use micrograd predict or micrograd export with it";

/** --model of a command that reads a saved GPT. */
export const GPT_MODEL_FLAG = {
  kind: "path",
  value: "FILE",
  section: "Options",
  help: "a model.json written by micrograd gpt train",
} as const;
