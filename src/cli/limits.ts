// Sizes checked before any work: a network or a training step too large for memory is refused
// with its size in the message, instead of failing a minute later with the heap exhausted.
import { type GPTConfig, gptParameterCount, gptStepGraphSize } from "../gpt.js";
import type { LossName } from "../losses.js";
import { type NetworkShape, parameterCount, stepGraphSize } from "../nn.js";
import { loadGPT } from "../node/models.js";
import { SCORE_BLOCK } from "../train.js";
import { count, type FlagTable, MLP_MODEL_HINT, UsageError } from "./flags.js";

/** Parameters a model may have unless --max-params says otherwise. */
export const MAX_PARAMS = 1_000_000;
/**
 * Values one training step may create unless --max-graph says otherwise: at the peak of a step
 * (its graph, the trace or the gradients, the garbage not yet collected) a run takes about
 * BYTES_PER_VALUE each, so 10 million is about 2.3 GB, inside Node's default heap on a machine
 * of 4 GB or more.
 */
export const MAX_GRAPH = 10_000_000;

/**
 * The peak memory of a run per value of its step, measured: `train --hidden 24000 --steps 2`
 * (9,696,323 values a step) peaked at 2.15 GB of resident memory compiled and 2.05 GB eager
 * (GNU time's maximum RSS), about 220 bytes a value; rounded up. `npm run bench -- --only graph`
 * measures one step of MLPs and GPTs of 0.6 to 4 million values in a fresh process each: 140 to
 * 160 bytes per estimated value eager, 175 to 400 compiled (a trace's graph, its tape and the
 * garbage, which the collector frees at moments that vary from run to run); 230 sits between.
 */
export const BYTES_PER_VALUE = 230;

export interface Limits {
  maxParams: number;
  maxGraph: number;
}

/** --max-params and --max-graph; `smaller` says which flags make a step smaller. */
export function limitFlags(model: string, smaller: string) {
  const section = "Limits (checked before training starts)";
  return {
    "max-params": {
      kind: "integer",
      value: "N",
      min: 1,
      section,
      help: `refuse a ${model} with more parameters (default ${count(MAX_PARAMS)})`,
    },
    "max-graph": {
      kind: "integer",
      value: "N",
      min: 1,
      section,
      help:
        `refuse a step that builds more values than this (default ${count(MAX_GRAPH)},\n` +
        `about ${megabytes(MAX_GRAPH * BYTES_PER_VALUE)} at its peak); ${smaller} makes a step smaller`,
    },
  } as const satisfies FlagTable;
}

/** --max-params for a command that reads a model file: its sizes are checked before anything is built. */
export const MODEL_FILE_LIMIT_FLAG = {
  "max-params": {
    kind: "integer",
    value: "N",
    min: 1,
    section: "Limits",
    help: `refuse a model file with more parameters, before reading its weights (default ${count(MAX_PARAMS)})`,
  },
} as const satisfies FlagTable;

/**
 * Reads a model file through `load` within --max-params (or its default), and says which flag
 * raises the limit when the file is over it.
 */
export function loadWithinLimit<T>(values: { "max-params"?: number }, load: (maxParameters: number) => T): T {
  const maxParameters = values["max-params"] ?? MAX_PARAMS;
  try {
    return load(maxParameters);
  } catch (error) {
    if (error instanceof Error && error.message.endsWith(`more than the ${count(maxParameters)} allowed`)) {
      error.message += " by --max-params; raise it if you have the memory";
    }
    throw error;
  }
}

/** A saved GPT read within --max-params; an MLP's file is refused with what to do with it. */
export function loadGPTWithinLimit(path: string, values: { "max-params"?: number }) {
  return loadWithinLimit(values, (maxParameters) =>
    loadGPT(path, { otherKind: MLP_MODEL_HINT, maxParameters }),
  );
}

/** The limits the flags give, or their defaults. */
export function limitsOf(values: { "max-params"?: number; "max-graph"?: number }): Limits {
  return { maxParams: values["max-params"] ?? MAX_PARAMS, maxGraph: values["max-graph"] ?? MAX_GRAPH };
}

/**
 * How many Values a compiled scoring pass creates: train's closing measurement, its test-set
 * measurement and its pictures run the model over blocks of SCORE_BLOCK rows at once.
 */
export function scoringGraphSize(shape: NetworkShape): number {
  return stepGraphSize(shape, SCORE_BLOCK, "mse", false);
}

/** Refuses a network or a step larger than the limits, saying how large and what to change. */
export function checkSizes(
  shape: NetworkShape,
  batch: number,
  loss: LossName,
  l2: boolean,
  limits: Limits,
): void {
  const parameters = parameterCount(shape.sizes);
  const network = shape.sizes.join("-");
  if (parameters > limits.maxParams) {
    throw new UsageError(
      `an MLP ${network} has ${count(parameters)} parameters, more than --max-params ${count(limits.maxParams)}; ` +
        "use smaller --hidden layers (or raise --max-params if you have the memory)",
    );
  }
  const nodes = stepGraphSize(shape, batch, loss, l2);
  if (nodes > limits.maxGraph) {
    const perSample = (nodes - (l2 ? 2 * parameters + 3 : parameters) - 2) / batch;
    const fits = Math.floor(limits.maxGraph / 2 / perSample);
    const advice =
      fits >= 1 && batch > fits
        ? `use --batch-size ${Math.min(fits, 32)} or smaller hidden layers`
        : "use smaller --hidden layers";
    throw new UsageError(
      `a training step of an MLP ${network} on ${count(batch)} samples builds about ${count(nodes)} values ` +
        `(about ${megabytes(nodes * BYTES_PER_VALUE)} of memory), more than --max-graph ${count(limits.maxGraph)}; ` +
        `${advice} (or raise --max-graph if you have the memory)`,
    );
  }
}

function megabytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toPrecision(3)} GB` : `${Math.ceil(bytes / 1e6)} MB`;
}

/**
 * Eager, the graphs of a batch's earlier documents are garbage once their backward is done, but
 * the collector frees them only when the heap has grown to a few times what is live: measured
 * (npm run bench -- --only graph), the peak of an eager batch of 8, 16 or 32 windows is 5.2–5.5×
 * one window's at two sizes, the same for 16 as for 8. So an eager step counts up to this many
 * documents, whatever the batch; a compiled thread holds one trace or replay at a time.
 */
export const EAGER_DOCUMENTS_AT_PEAK = 4;

/** The documents whose graphs a GPT training step holds at its peak: see EAGER_DOCUMENTS_AT_PEAK. */
export function gptDocumentsAtPeak(how: { threads: number } | { eagerBatch: number }): number {
  return "eagerBatch" in how ? Math.min(how.eagerBatch, EAGER_DOCUMENTS_AT_PEAK) : how.threads;
}

/**
 * Refuses a GPT or a training step larger than the limits, as checkSizes does for an MLP. A
 * compiled step holds `threads` documents at once (one per worker thread), whatever the batch;
 * an eager one (`eagerBatch`, on one thread) up to EAGER_DOCUMENTS_AT_PEAK of its batch.
 */
export function checkGPTSizes(shape: GPTConfig, threads: number, limits: Limits, eagerBatch?: number): void {
  const { nLayer, nEmbd, blockSize } = shape;
  const parameters = gptParameterCount(shape);
  const what = `a GPT of ${nLayer} layer${nLayer === 1 ? "" : "s"}, embd ${nEmbd}, block ${blockSize}`;
  if (parameters > limits.maxParams) {
    // The position table (block × embd) outgrows the rest only when --block is the cause.
    const positions = blockSize * nEmbd;
    const advice =
      positions > parameters / 2
        ? `its position table alone (block × embd) has ${count(positions)}; use a smaller --block`
        : "use a smaller --embd or fewer --layers";
    throw new UsageError(
      `${what} has ${count(parameters)} parameters, more than --max-params ${count(limits.maxParams)}; ` +
        `${advice} (or raise --max-params if you have the memory)`,
    );
  }
  const documents = gptDocumentsAtPeak(eagerBatch === undefined ? { threads } : { eagerBatch });
  const nodes = gptStepGraphSize(shape, documents);
  if (nodes > limits.maxGraph) {
    const held =
      eagerBatch !== undefined && documents > 1
        ? `the graphs of up to ${count(documents)} documents at a time (eager, the collector frees a batch's earlier graphs only as the heap grows)`
        : documents === 1
          ? "one document at a time"
          : `${count(documents)} documents at a time (one per worker)`;
    const smaller =
      eagerBatch !== undefined && documents > 1
        ? "a smaller --batch (or drop --no-compile), "
        : documents > 1
          ? "fewer --workers, "
          : "";
    throw new UsageError(
      `a training step of ${what} holds ${held} and builds up to about ${count(nodes)} values ` +
        `(about ${megabytes(nodes * BYTES_PER_VALUE)} of memory), more than --max-graph ${count(limits.maxGraph)}; ` +
        `use ${smaller}a smaller --embd or --block (or raise --max-graph if you have the memory)`,
    );
  }
}
