// The messages between the GPT page (gpt-main.ts) and its training worker (gpt-worker.ts), and
// the settings they share. Everything here is plain data, so it crosses postMessage unchanged.
import { GPT_DEFAULTS, GPT_TRAINING_DEFAULTS } from "../src/index.js";

/** Where the documents come from: the shipped names or Tiny Shakespeare, or pasted text. */
export type TextSource = "names" | "shakespeare" | "text";
/** Pasted text: one document per line, or running text read in windows of the block. */
export type TextMode = "lines" | "running";

/** Everything the user can set. */
export interface GPTSettings {
  source: TextSource;
  /** The pasted text (used when source is "text"). */
  text: string;
  mode: TextMode;
  nLayer: number;
  nEmbd: number;
  nHead: number;
  blockSize: number;
  seed: number;
  /** Adam's learning rate, held constant: the page trains for as long as it is left running. */
  lr: number;
  /** Documents (or windows) per step. */
  batchSize: number;
  /**
   * Web Workers that share each step's documents, at most the batch's; one, the training
   * worker itself, when the page is not cross-origin isolated. The steps are the same, bit for
   * bit, for any number of them.
   */
  workers: number;
  /** Of the samples; lower is more conservative. */
  temperature: number;
}

/**
 * The reference microgpt's model and Adam. Its learning rate decays to 0 over a run of known
 * length; here it is held constant, and 4 names a step keep the constant rate's noise down
 * (held-out after 24,000 names: about 2.26, against 2.34 one name a step).
 */
export const DEFAULT_GPT_SETTINGS: GPTSettings = {
  source: "names",
  text: "",
  mode: "lines",
  ...GPT_DEFAULTS,
  seed: 42,
  lr: GPT_TRAINING_DEFAULTS.lr,
  batchSize: 4,
  workers: typeof navigator === "undefined" ? 1 : Math.max(1, navigator.hardwareConcurrency || 1),
  temperature: 0.5,
};

/** Settings whose change means new data (and so a new model). */
export const GPT_DATA_SETTINGS = ["source", "text", "mode"] as const;
/** Settings whose change means a new model on the same data (the block also cuts running text). */
export const GPT_MODEL_SETTINGS = ["nLayer", "nEmbd", "nHead", "blockSize", "seed"] as const;

/** Samples shown at once; the command line's `gpt sample --n 10` prints the same ones. */
export const SAMPLE_COUNT = 10;
/** Next-token candidates shown as bars. */
export const TOP_CANDIDATES = 10;

/** The data as the page describes it. */
export interface DataInfo {
  /** "the shipped names", "pasted text, one document per line", … */
  description: string;
  /** The characters by id (BOS is the next id). */
  chars: string[];
  vocabSize: number;
  trainCount: number;
  heldOutCount: number;
  /** "names", "documents" or "windows". */
  unit: string;
  /** How many of the held-out documents (or windows) each measurement reads. */
  measured: number;
  /** Whether the measured documents are held out or (with too little text) training ones. */
  measuredHeldOut: boolean;
  /** The bigram model's loss per character on the measured documents. */
  bigramLoss: number;
}

/** Where the prefix's attention looks and what it predicts next, with the current weights. */
export interface Inspection {
  /** The prefix these numbers are for, and what is wrong with it (empty when nothing). */
  prefix: string;
  problem: string;
  /** The tokens read: "BOS", then the prefix's characters. */
  labels: string[];
  /** attention[layer][head][query][key]. */
  attention: number[][][][];
  /** The likeliest next tokens, most probable first; "" is the end of the document (BOS). */
  candidates: { token: string; probability: number }[];
  /** Each token's embedding on the characters' first two principal components, x0, y0, x1, y1, … (BOS last). */
  embedding: number[];
  /** Share of the characters' embeddings' variance that each of the two components explains. */
  explained: [number, number];
}

export interface Samples {
  step: number;
  seed: number;
  temperature: number;
  texts: string[];
}

export type ToGPTWorker =
  | { type: "settings"; settings: GPTSettings }
  | { type: "play" }
  | { type: "pause" }
  | { type: "step" }
  | { type: "reset" }
  | { type: "prefix"; prefix: string }
  | { type: "resample" }
  | { type: "save" }
  | { type: "load"; text: string; name: string };

export type FromGPTWorker =
  | { type: "data"; info: DataInfo; generation: number }
  | GPTSnapshot
  | { type: "inspection"; generation: number; step: number; inspection: Inspection }
  | { type: "samples"; generation: number; samples: Samples }
  | { type: "saved"; json: string; step: number }
  | { type: "loaded"; settings: GPTSettings; message: string }
  /** A field's value was refused; `settings` are those the worker goes on with. */
  | { type: "problem"; field: string; message: string; settings?: GPTSettings }
  | { type: "error"; message: string };

/** What the page draws of the training: sent about 30 times a second while it runs. */
export interface GPTSnapshot {
  type: "snapshot";
  /** Increases on every new model; the page clears its charts when it changes. */
  generation: number;
  running: boolean;
  step: number;
  /** Documents of the next step already done (0 to 1): a step of a large batch takes a while. */
  stepProgress: number;
  /** How much of the held-out measurement under way is done (0 to 1), or null when none is. */
  measuring: number | null;
  parameters: number;
  stepsPerSecond: number;
  /** Characters predicted per second: every position of every document of the steps. */
  charactersPerSecond: number;
  /**
   * The Web Workers computing the steps: 0 when the training worker computes them itself (the
   * page is not cross-origin isolated, or the workers could not start).
   */
  workers: number;
  /** Training losses of the steps since the previous snapshot, beginning at step `historyStart`. */
  historyStart: number;
  /** As computed (float64): the page shows the exact losses, the same whatever the number of workers. */
  historyLoss: Float64Array;
  /** Held-out measurements since the previous snapshot: [step, loss] pairs. */
  heldOut: [number, number][];
}
