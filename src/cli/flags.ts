// What every command shares: the streams it writes to, the usage error (exit 2) and the checks
// that turn flag text into typed values, each failing with a message that names the flag.

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

/**
 * `--no-compile`, shared by the commands that train: the eager engine, step by step, instead of
 * the compiled step (the same numbers, slower; the summary's steps/s shows by how much).
 */
export const NO_COMPILE_OPTION = { "no-compile": { type: "boolean" } } as const;
export const NO_COMPILE_HELP =
  "  --no-compile        train with the eager engine (the reference) instead of the compiled\n" +
  "                      step: the same numbers, slower; the summary line shows the steps/s";

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

export function numberFlag(
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

export function integerFlag(
  name: string,
  text: string | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (text === undefined) return undefined;
  const x = Number(text);
  // 1e6 and 1000.0 are whole numbers too; 1.5, 1e-3, 0x10 and Infinity are not.
  if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)(e\+?\d+)?\s*$/i.test(text) || !Number.isInteger(x) || x < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got "${text}"`);
  }
  if (x > max) throw new UsageError(`--${name} must be at most ${count(max)}, got ${text.trim()}`);
  return x;
}

export function choiceFlag<T extends string>(
  name: string,
  text: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (text === undefined) return undefined;
  if (!includes(choices, text))
    throw new UsageError(`--${name}: unknown "${text}"; expected ${choices.join(", ")}`);
  return text;
}

/** A file or folder name: an empty one ("--out ''") would mean the current folder or nothing. */
export function pathFlag(name: string, text: string | undefined): string | undefined {
  if (text !== undefined && text.trim() === "")
    throw new UsageError(`--${name} needs a path, got ${JSON.stringify(text)}`);
  return text;
}

export function includes<T extends string>(choices: readonly T[], text: string): text is T {
  return (choices as readonly string[]).includes(text);
}

/** 1234567 → "1,234,567": sizes in messages are read by people. */
export function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Said when `predict` or `export` is given a GPT's model file. */
export const GPT_MODEL_HINT = "use micrograd gpt sample or micrograd gpt attention with it";
/** Said when a `gpt` command is given an MLP's model file. */
export const MLP_MODEL_HINT = "use micrograd predict or micrograd export with it";
