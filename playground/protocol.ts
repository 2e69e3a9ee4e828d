// The messages between the page (main.ts) and the training worker (worker.ts), and the
// settings they share. Everything here is plain data, so it crosses postMessage unchanged.
import type { Activation, DatasetName, LossName, OptimizerName } from "../src/index.js";

/** Everything the user can set, with the moons demo as the defaults. */
export interface Settings {
  dataset: DatasetName;
  /** Standard deviation of the noise (for blobs: scales the spread of each blob). */
  noise: number;
  size: number;
  dataSeed: number;
  /** Neurons of each hidden layer; the input (2) and output layers are added around them. */
  hidden: number[];
  activation: Activation;
  modelSeed: number;
  loss: LossName;
  optimizer: OptimizerName;
  lr: number;
  /** Decay the learning rate linearly to a tenth over the first DECAY_STEPS steps, then hold it. */
  decay: boolean;
  /** Samples per step; 0 means all of them. */
  batchSize: number;
  l2: number;
  /** Train through compile(): each part of a step traced once, then replayed on typed arrays. Off: the eager engine. */
  compiled: boolean;
}

export const DEFAULT_SETTINGS: Settings = {
  dataset: "moons",
  noise: 0.1,
  size: 100,
  dataSeed: 1,
  hidden: [16, 16],
  activation: "relu",
  modelSeed: 1,
  loss: "hinge",
  optimizer: "sgd",
  lr: 1,
  decay: true,
  batchSize: 0,
  l2: 1e-4,
  compiled: true,
};

export const DECAY_STEPS = 100;
export const DECAY_END_FACTOR = 0.1;

/** Settings whose change means new data (and so a new model). */
export const DATA_SETTINGS = ["dataset", "noise", "size", "dataSeed"] as const;
/** Settings whose change means a new model on the same data. */
export const MODEL_SETTINGS = ["hidden", "activation", "modelSeed", "loss", "optimizer"] as const;

/** The visible region of the plane, fixed when the data is generated so that clicks map to it. */
export interface Extent {
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
}

/** One dense layer as plain numbers: W[j * nin + i] is the weight from input i to neuron j. */
export interface LayerWeights {
  nin: number;
  nout: number;
  activation: Activation;
  W: Float64Array;
  b: Float64Array;
}

export type ToWorker =
  | { type: "settings"; settings: Settings }
  | { type: "play" }
  | { type: "pause" }
  | { type: "step" }
  | { type: "reset" }
  | { type: "addPoint"; x: number; y: number; cls: number }
  | { type: "clear" };

export type FromWorker =
  | {
      type: "data";
      /** Coordinates interleaved: x0, y0, x1, y1, … */
      points: Float32Array;
      classes: Uint8Array;
      nClasses: number;
      extent: Extent;
    }
  | Snapshot
  | { type: "error"; message: string };

/** What the page draws: sent about 30 times a second while training, and after every change. */
export interface Snapshot {
  type: "snapshot";
  /** Increases on every new model; the page clears its charts when it changes. */
  generation: number;
  running: boolean;
  step: number;
  /** How much of the next step is done (0 to 1): a step on a large batch and network takes a while. */
  stepProgress: number;
  /** Accuracy on all the points with the current weights (NaN without points). */
  accuracy: number;
  /** Loss of the last step (its batch, with the L2 penalty). */
  loss: number;
  lr: number;
  stepsPerSecond: number;
  /** Scores on a grid × grid lattice over the extent, row 0 at the top, `outputs` per cell. */
  grid: Float32Array;
  /** For each point of the data last sent, 1 if the model classifies it correctly. */
  correct: Uint8Array;
  gridSize: number;
  outputs: number;
  /** Loss and accuracy of the steps since the previous snapshot, beginning at step `historyStart`. */
  historyStart: number;
  historyLoss: Float32Array;
  historyAccuracy: Float32Array;
  layers: LayerWeights[];
}
