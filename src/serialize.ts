// Models as plain JSON: the architecture, every weight, and what prediction needs to know.
// Parsing never evaluates anything; every field is checked and a bad one is named.
import {
  checkConfig,
  checkStateDict,
  GPT,
  type GPTConfig,
  type GPTOptions,
  gptParameterCount,
} from "./gpt.js";
import { LOSS_NAMES, type LossName } from "./losses.js";
import { ACTIVATIONS, type Activation, MLP, parameterCount } from "./nn.js";
import { checkOptions } from "./options.js";
import { CharTokenizer } from "./tokenizer.js";

export const MODEL_FORMAT = "micrograd-model";
export const MODEL_VERSION = 1;

/** Extra facts stored beside the weights, so that a saved model can be used on its own. */
export interface ModelMetadata {
  /** The name of each class, by index. */
  classNames?: string[];
  featureNames?: string[];
  /** Inputs are standardized as (x − mean) / std before the network sees them. */
  scaler?: { mean: number[]; std: number[] };
  /** The loss it was trained with (hinge, mse, bce, softmax). */
  loss?: string;
  /** Free-form notes (data set, steps, accuracy…): strings, numbers and booleans. */
  notes?: Record<string, string | number | boolean>;
}

export interface ModelFile extends ModelMetadata {
  format: typeof MODEL_FORMAT;
  version: number;
  architecture: { nin: number; nouts: number[]; activation: Activation; outputActivation: Activation };
  /** In `model.parameters()` order. */
  parameters: number[];
}

/** The plain-data form of a model; JSON.stringify of it round-trips every weight exactly. */
export function modelToJSON(model: MLP, metadata: ModelMetadata = {}): ModelFile {
  const { nin, nouts, activation, outputActivation } = model.config;
  const file: ModelFile = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    architecture: { nin, nouts: [...nouts], activation, outputActivation },
    parameters: model.parameters().map((p, i) => {
      if (!Number.isFinite(p.data))
        throw new RangeError(`modelToJSON: parameter ${i} is ${p.data}, not a finite number`);
      return p.data;
    }),
  };
  checkMetadata(metadata, nin, classCount(nouts), true);
  return { ...file, ...structuredCopy(metadata) };
}

/** What reading a model file may allow. */
export interface ModelReadOptions {
  /**
   * The most parameters the model may have (default: as many as its weights hold). A program
   * gives its training limit, so that it never builds a model larger than it would train.
   */
  maxParameters?: number;
}

/** Rebuilds a model from `modelToJSON` output (already parsed), checking every field. */
export function modelFromJSON(
  json: unknown,
  options: ModelReadOptions = {},
): { model: MLP; metadata: ModelMetadata } {
  checkOptions("modelFromJSON", options, { maxParameters: true });
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ModelFormatError("expected a JSON object");
  }
  const file = json as Record<string, unknown>;
  if (file.format !== MODEL_FORMAT) {
    throw new ModelFormatError(`"format" is ${JSON.stringify(file.format)}, expected "${MODEL_FORMAT}"`);
  }
  if (file.version !== MODEL_VERSION) {
    throw new ModelFormatError(
      `"version" is ${JSON.stringify(file.version)}; this micrograd reads version ${MODEL_VERSION}`,
    );
  }
  if (file.kind === "gpt") {
    throw new ModelFormatError(
      'this is a GPT ("kind": "gpt"), not an MLP; read it with gptFromJSON or loadGPT',
    );
  }
  // An MLP's file has no "kind"; any other kind is a model this micrograd does not know.
  if (file.kind !== undefined) {
    throw new ModelFormatError(
      `"kind" is ${show(file.kind)}; this micrograd reads an MLP (no "kind") or a GPT ("kind": "gpt")`,
    );
  }
  const architecture = file.architecture as Record<string, unknown> | undefined;
  if (typeof architecture !== "object" || architecture === null) {
    throw new ModelFormatError('"architecture" is missing');
  }
  const { nin, nouts, activation, outputActivation } = architecture;
  if (!isCount(nin))
    throw new ModelFormatError(`"architecture.nin" must be a positive integer, got ${show(nin)}`);
  if (!Array.isArray(nouts) || nouts.length === 0 || !nouts.every(isCount)) {
    throw new ModelFormatError(
      `"architecture.nouts" must be a non-empty array of positive integers, got ${show(nouts)}`,
    );
  }
  for (const [name, value] of [
    ["activation", activation],
    ["outputActivation", outputActivation],
  ] as const) {
    if (!ACTIVATIONS.includes(value as Activation)) {
      throw new ModelFormatError(
        `"architecture.${name}" is ${show(value)}; expected one of ${ACTIVATIONS.join(", ")}`,
      );
    }
  }
  const sizes = [nin, ...nouts];
  const expected = parameterCount(sizes);
  const parameters = file.parameters;
  if (!Array.isArray(parameters)) throw new ModelFormatError('"parameters" must be an array of numbers');
  if (parameters.length !== expected) {
    throw new ModelFormatError(
      `"parameters" has ${parameters.length} numbers, but a ${sizes.join("-")} network has ${expected}`,
    );
  }
  parameters.forEach((p, i) => {
    if (typeof p !== "number" || !Number.isFinite(p)) {
      throw new ModelFormatError(`"parameters[${i}]" is ${show(p)}, expected a finite number`);
    }
  });
  checkParameterLimit(expected, options.maxParameters);
  const model = new MLP(nin, nouts, {
    activation: activation as Activation,
    outputActivation: outputActivation as Activation,
    seed: 0,
  });
  model.parameters().forEach((p, i) => {
    p.data = parameters[i] as number;
  });
  const metadata: ModelMetadata = {};
  for (const key of ["classNames", "featureNames", "scaler", "loss", "notes"] as const) {
    if (file[key] !== undefined) (metadata as Record<string, unknown>)[key] = file[key];
  }
  checkMetadata(metadata, nin, classCount(nouts), false);
  return { model, metadata: structuredCopy(metadata) };
}

/** Refuses a model larger than the reader allows, before it is built. */
function checkParameterLimit(parameters: number, maxParameters: number | undefined): void {
  if (maxParameters !== undefined && parameters > maxParameters) {
    throw new ModelFormatError(
      `the model has ${parameters.toLocaleString("en-US")} parameters, more than the ${maxParameters.toLocaleString("en-US")} allowed`,
    );
  }
}

/** A model file is not what it should be; the message says which field and why. */
export class ModelFormatError extends Error {
  constructor(reason: string) {
    super(`not a valid micrograd model: ${reason}`);
    this.name = "ModelFormatError";
  }
}

function checkMetadata(metadata: ModelMetadata, nin: number, classes: number, saving: boolean): void {
  const fail = (field: string, reason: string) => {
    throw saving
      ? new TypeError(`modelToJSON: metadata.${field} ${reason}`)
      : new ModelFormatError(`"${field}" ${reason}`);
  };
  const { classNames, featureNames, scaler, loss, notes } = metadata;
  for (const [name, list] of [
    ["classNames", classNames],
    ["featureNames", featureNames],
  ] as const) {
    if (list !== undefined && !(Array.isArray(list) && list.every((s) => typeof s === "string"))) {
      fail(name, "must be an array of strings");
    }
  }
  if (classNames !== undefined && classNames.length !== classes) {
    fail("classNames", `has ${classNames.length} names for the model's ${classes} classes`);
  }
  if (featureNames !== undefined && featureNames.length !== nin) {
    fail("featureNames", `has ${featureNames.length} names for ${nin} inputs`);
  }
  if (scaler !== undefined) {
    const ok = (xs: unknown, positive: boolean) =>
      Array.isArray(xs) &&
      xs.length === nin &&
      xs.every((x) => typeof x === "number" && Number.isFinite(x) && (!positive || Number.isFinite(1 / x)));
    if (typeof scaler !== "object" || scaler === null || !ok(scaler.mean, false) || !ok(scaler.std, true)) {
      fail("scaler", `must be { mean, std } with ${nin} finite numbers each (std > 0, 1 / std finite)`);
    }
  }
  if (loss !== undefined && !LOSS_NAMES.includes(loss as LossName)) {
    fail("loss", `is ${JSON.stringify(loss)}; expected one of ${LOSS_NAMES.join(", ")}`);
  }
  if (notes !== undefined) {
    const ok =
      typeof notes === "object" &&
      notes !== null &&
      !Array.isArray(notes) &&
      Object.values(notes).every((v) => ["string", "number", "boolean"].includes(typeof v));
    if (!ok) fail("notes", "must be an object of strings, numbers and booleans");
  }
}

/** A model with one output separates two classes; otherwise each output is a class. */
function classCount(nouts: readonly number[]): number {
  const last = nouts[nouts.length - 1];
  return last === 1 ? 2 : last;
}

function structuredCopy<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

function isCount(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 1 && x <= 1_000_000;
}

function show(x: unknown): string {
  // JSON.parse reads 1e400 as Infinity, which JSON.stringify would show as null.
  if (typeof x === "number" && !Number.isFinite(x)) return `${x} (a number too large, such as 1e400)`;
  const text = JSON.stringify(x);
  return text === undefined ? String(x) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// ---- GPT models ------------------------------------------------------------------------------

/** A GPT and its tokenizer as plain data: the config, the characters and the state dict. */
export interface GPTModelFile {
  format: typeof MODEL_FORMAT;
  version: number;
  kind: "gpt";
  config: GPTConfig;
  /** The tokenizer's characters by id; BOS is the next id. */
  chars: string[];
  stateDict: Record<string, number[][]>;
  notes?: Record<string, string | number | boolean>;
}

export function gptToJSON(
  gpt: GPT,
  tokenizer: CharTokenizer,
  notes?: Record<string, string | number | boolean>,
): GPTModelFile {
  if (tokenizer.vocabSize !== gpt.config.vocabSize) {
    throw new RangeError(
      `gptToJSON: the tokenizer has ${tokenizer.vocabSize} tokens but the model ${gpt.config.vocabSize}`,
    );
  }
  const stateDict = gpt.stateDict();
  for (const [name, rows] of Object.entries(stateDict)) {
    rows.forEach((row, i) => {
      const j = row.findIndex((x) => !Number.isFinite(x));
      if (j >= 0) throw new RangeError(`gptToJSON: ${name}[${i}][${j}] is ${row[j]}, not a finite number`);
    });
  }
  if (notes !== undefined) checkMetadata({ notes }, 1, 2, true);
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    kind: "gpt",
    config: { ...gpt.config },
    chars: [...tokenizer.chars],
    stateDict,
    ...(notes ? { notes: structuredCopy(notes) } : {}),
  };
}

/** Rebuilds a GPT and its tokenizer from `gptToJSON` output, checking every field. */
export function gptFromJSON(
  json: unknown,
  options: ModelReadOptions = {},
): {
  gpt: GPT;
  tokenizer: CharTokenizer;
  notes: Record<string, string | number | boolean>;
} {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ModelFormatError("expected a JSON object");
  }
  checkOptions("gptFromJSON", options, { maxParameters: true });
  const file = json as Record<string, unknown>;
  if (file.format !== MODEL_FORMAT) {
    throw new ModelFormatError(`"format" is ${JSON.stringify(file.format)}, expected "${MODEL_FORMAT}"`);
  }
  if (file.version !== MODEL_VERSION) {
    throw new ModelFormatError(
      `"version" is ${JSON.stringify(file.version)}; this micrograd reads version ${MODEL_VERSION}`,
    );
  }
  if (file.kind !== "gpt") {
    throw new ModelFormatError(
      `"kind" is ${show(file.kind)}, expected "gpt" (an MLP is read with modelFromJSON)`,
    );
  }
  const fail = (field: string, error: unknown) => {
    throw new ModelFormatError(`"${field}": ${(error as Error).message}`);
  };
  let tokenizer: CharTokenizer | undefined;
  try {
    tokenizer = new CharTokenizer(file.chars as string[]);
  } catch (error) {
    fail("chars", error);
  }
  const fileConfig = file.config as GPTOptions | undefined;
  if (typeof fileConfig !== "object" || fileConfig === null || Array.isArray(fileConfig)) {
    throw new ModelFormatError('"config" is missing');
  }
  // Every size is checked against the characters and the matrices actually present, and the
  // limits are those of training, before anything is built from it.
  let config: GPTConfig | undefined;
  try {
    config = checkConfig(fileConfig);
  } catch (error) {
    fail("config", error);
  }
  if (config === undefined || tokenizer === undefined) throw new ModelFormatError("unreadable");
  if (tokenizer.vocabSize !== config.vocabSize) {
    throw new ModelFormatError(
      `"chars" has ${tokenizer.chars.length} characters (+ BOS), but "config.vocabSize" is ${show(fileConfig.vocabSize)}`,
    );
  }
  try {
    checkStateDict(config, file.stateDict);
  } catch (error) {
    fail("stateDict", error);
  }
  checkParameterLimit(gptParameterCount(config), options.maxParameters);
  const gpt = new GPT({ ...config, seed: 0, initStd: 0 });
  gpt.loadStateDict(file.stateDict);
  const notes = (file.notes ?? {}) as Record<string, string | number | boolean>;
  checkMetadata({ notes }, 1, 2, false);
  return { gpt, tokenizer, notes: structuredCopy(notes) };
}
