// The training worker: owns the data and the model, trains in short chunks and sends the page
// a snapshot (boundary scores, new history, weights) about 30 times a second. Between chunks it
// yields to its message queue, so play, pause, step and edits arrive while it trains. A step
// on a large batch and network is itself cut into parts (a few samples each), so that even a
// step that takes seconds can be paused, and reports how far it has got.
import {
  Adam,
  createRandom,
  type Dataset,
  type LossFunction,
  MLP,
  makeDataset,
  type Optimizer,
  type Random,
  SGD,
  scheduledRate,
  shuffled,
  Trainer,
} from "../src/index.js";
import { classOf, Forward, layerWeights } from "./numeric.js";
import { backwardPart, backwardPenalty, CompiledParts, type PartialStep, partSize } from "./parts.js";
import {
  DATA_SETTINGS,
  DECAY_END_FACTOR,
  DECAY_STEPS,
  DEFAULT_SETTINGS,
  type Extent,
  type FromWorker,
  MODEL_SETTINGS,
  type Settings,
  type Snapshot,
  type ToWorker,
} from "./protocol.js";
import { StepRate } from "./rate.js";

const GRID_SIZE = 64;
/** Longest run of training before the worker looks at its messages again. */
const CHUNK_MS = 12;
// A little above 30 a second, so that the page redraws at 30 frames per second or better.
const SNAPSHOT_INTERVAL_MS = 1000 / 36;

interface State {
  settings: Settings;
  data: Dataset;
  extent: Extent;
  model: MLP;
  /** The optimizer, the schedule and the count of steps; the parts of a step are backpropagated by parts.ts. */
  trainer: Trainer<LossFunction>;
  generation: number;
  running: boolean;
  /** Mini-batch order of the current epoch and where the next batch starts in it. */
  order: number[];
  position: number;
  shuffle: Random;
  /** Steps not yet sent to the page. */
  historyStart: number;
  historyLoss: number[];
  historyAccuracy: number[];
  /** The step under way, when it is done in parts; null between steps. */
  partial: PartialStep | null;
  /** A single step was asked for (Step): train until it is complete, then stop. */
  stepping: boolean;
  /** Which points the current weights classify correctly; null once weights or data change. */
  classified: Classified | null;
  /** Scores over the grid for the current weights; null once they change. */
  grid: Float32Array | null;
  /** The model's compiled part and penalty, made on the first compiled step. */
  compiled: CompiledParts | null;
}

interface Classified {
  accuracy: number;
  /** 1 for each point the model classifies correctly, 0 for the others. */
  correct: Uint8Array;
}

const post = (message: FromWorker, transfer: Transferable[] = []) => self.postMessage(message, { transfer });

let state = initialState(DEFAULT_SETTINGS);

function initialState(settings: Settings): State {
  const data = generate(settings);
  return withModel({ settings, data, extent: extentOf(data), generation: 0 } as State);
}

function generate(settings: Settings): Dataset {
  const { dataset, noise, size, dataSeed } = settings;
  // Blobs have a spread instead of noise; the default noise 0.1 gives the default spread 0.5.
  const options =
    dataset === "blobs" ? { clusterStd: Math.max(noise, 0.02) * 5 } : { noise: Math.max(noise, 0) };
  return makeDataset(dataset, { nSamples: size, seed: dataSeed, ...options });
}

/** The data's bounding box with a margin, widened to a square so that the map is not stretched. */
function extentOf(data: Dataset): Extent {
  let xMin = Number.POSITIVE_INFINITY;
  let xMax = Number.NEGATIVE_INFINITY;
  let yMin = Number.POSITIVE_INFINITY;
  let yMax = Number.NEGATIVE_INFINITY;
  for (const [x, y] of data.X) {
    xMin = Math.min(xMin, x);
    xMax = Math.max(xMax, x);
    yMin = Math.min(yMin, y);
    yMax = Math.max(yMax, y);
  }
  if (!Number.isFinite(xMin)) return { xMin: -1.5, xMax: 1.5, yMin: -1.5, yMax: 1.5 };
  const half = Math.max(xMax - xMin, yMax - yMin, 1) / 2 + 0.4;
  const cx = (xMin + xMax) / 2;
  const cy = (yMin + yMax) / 2;
  return { xMin: cx - half, xMax: cx + half, yMin: cy - half, yMax: cy + half };
}

/** One output for two classes (its sign is the class), except softmax, which needs one per class. */
function outputCount(settings: Settings, data: Dataset): number {
  const classes = Math.max(data.nClasses, 2);
  return classes === 2 && settings.loss !== "softmax" ? 1 : classes;
}

/** A fresh model and optimizer for `s`'s settings and data; step 0 of a new generation. */
function withModel(s: State): State {
  const { settings, data } = s;
  const model = new MLP(2, [...settings.hidden, outputCount(settings, data)], {
    activation: settings.activation,
    seed: settings.modelSeed,
  });
  const next: State = {
    ...s,
    model,
    generation: s.generation + 1,
    running: s.running ?? false,
    order: [],
    position: 0,
    shuffle: createRandom(settings.dataSeed),
    historyStart: 0,
    historyLoss: [],
    historyAccuracy: [],
    partial: null,
    stepping: false,
    classified: null,
    grid: null,
    compiled: null,
  };
  // The rate follows the settings of the moment: a new rate or decay applies from the next step.
  next.trainer = new Trainer({
    optimizer: makeOptimizer(model, settings),
    learningRate: (step) => learningRate(next.settings, step),
    explainDivergence: () => `the steps are too large; try a smaller learning rate than ${next.settings.lr}`,
  });
  return next;
}

function makeOptimizer(model: MLP, settings: Settings): Optimizer {
  return settings.optimizer === "adam"
    ? new Adam(model.parameters(), { lr: settings.lr })
    : new SGD(model.parameters(), { lr: settings.lr });
}

function learningRate(settings: Settings, step: number): number {
  if (!settings.decay) return settings.lr;
  const schedule = { kind: "linear", endFactor: DECAY_END_FACTOR } as const;
  return scheduledRate(schedule, settings.lr, Math.min(step, DECAY_STEPS), DECAY_STEPS);
}

/** The indices of the next batch: everything, or the next slice of a shuffled epoch. */
function nextBatch(s: State): number[] {
  const n = s.data.X.length;
  const size = s.settings.batchSize;
  if (size <= 0 || size >= n) return Array.from({ length: n }, (_, i) => i);
  if (s.position >= s.order.length || s.order.length !== n) {
    s.order = shuffled(
      Array.from({ length: n }, (_, i) => i),
      s.shuffle,
    );
    s.position = 0;
  }
  const batch = s.order.slice(s.position, s.position + size);
  s.position += size;
  return batch;
}

/** Advances the current step by one part of its batch; after the last, the update. Returns whether a step ended. */
function advance(s: State): boolean {
  if (s.data.X.length === 0) return false;
  if (!s.partial) {
    s.trainer.begin();
    s.partial = { batch: nextBatch(s), done: 0, loss: 0 };
  }
  const step = s.partial;
  // The setting may change between parts: both paths add into the same gradients.
  let compiled: CompiledParts | undefined;
  if (s.settings.compiled) {
    s.compiled ??= new CompiledParts(s.model, s.settings.loss);
    compiled = s.compiled;
  }
  const { model, data, settings, trainer } = s;
  if (!trainer.within(() => backwardPart(model, data, settings.loss, step, partSize(model), compiled))) {
    return false;
  }
  trainer.within(() => backwardPenalty(model, settings.l2, step, compiled));
  trainer.update(step.loss);
  s.partial = null;
  s.classified = null;
  s.grid = null;
  s.historyLoss.push(step.loss);
  s.historyAccuracy.push(classify(s).accuracy);
  return true;
}

/** Accuracy on all the points with the current weights, and which points are right (once per step). */
function classify(s: State): Classified {
  if (s.classified) return s.classified;
  const n = s.data.X.length;
  const correct = new Uint8Array(n);
  const forward = new Forward(layerWeights(s.model));
  let right = 0;
  for (let i = 0; i < n; i++) {
    if (classOf(forward.run(s.data.X[i][0], s.data.X[i][1])) === s.data.y[i]) {
      correct[i] = 1;
      right++;
    }
  }
  s.classified = { accuracy: n === 0 ? Number.NaN : right / n, correct };
  return s.classified;
}

const rate = new StepRate();

/** Scores over the grid for the current weights, computed once per step. */
function gridScores(s: State): Float32Array {
  if (s.grid) return s.grid;
  const layers = layerWeights(s.model);
  const forward = new Forward(layers);
  const outputs = layers[layers.length - 1].nout;
  const grid = new Float32Array(GRID_SIZE * GRID_SIZE * outputs);
  const { xMin, xMax, yMin, yMax } = s.extent;
  for (let row = 0; row < GRID_SIZE; row++) {
    const y = yMax - ((row + 0.5) / GRID_SIZE) * (yMax - yMin);
    for (let col = 0; col < GRID_SIZE; col++) {
      const x = xMin + ((col + 0.5) / GRID_SIZE) * (xMax - xMin);
      grid.set(forward.run(x, y), (row * GRID_SIZE + col) * outputs);
    }
  }
  s.grid = grid;
  return grid;
}

function sendSnapshot(s: State): void {
  const layers = layerWeights(s.model);
  const outputs = layers[layers.length - 1].nout;
  const { accuracy, correct: rightPoints } = classify(s);
  // Copies go to the page (transferring empties a buffer); the originals serve the next snapshot.
  const grid = gridScores(s).slice();
  const correct = rightPoints.slice();
  const historyLoss = Float32Array.from(s.historyLoss);
  const historyAccuracy = Float32Array.from(s.historyAccuracy);
  const snapshot: Snapshot = {
    type: "snapshot",
    generation: s.generation,
    running: s.running,
    step: s.trainer.step,
    stepProgress: s.partial ? s.partial.done / s.partial.batch.length : 0,
    accuracy,
    loss: s.trainer.lastLoss,
    lr: learningRate(s.settings, Math.max(s.trainer.step - 1, 0)),
    stepsPerSecond: s.running ? rate.perSecond : 0,
    grid,
    correct,
    gridSize: GRID_SIZE,
    outputs,
    historyStart: s.historyStart,
    historyLoss,
    historyAccuracy,
    layers,
  };
  s.historyStart = s.trainer.step;
  s.historyLoss = [];
  s.historyAccuracy = [];
  post(snapshot, [grid.buffer, correct.buffer, historyLoss.buffer, historyAccuracy.buffer]);
}

function sendData(s: State): void {
  const n = s.data.X.length;
  const points = new Float32Array(2 * n);
  s.data.X.forEach(([x, y], i) => {
    points[2 * i] = x;
    points[2 * i + 1] = y;
  });
  const classes = Uint8Array.from(s.data.y);
  post({ type: "data", points, classes, nClasses: Math.max(s.data.nClasses, 2), extent: s.extent }, [
    points.buffer,
    classes.buffer,
  ]);
}

// The training loop. A MessageChannel message (unlike setTimeout) is not clamped to 4 ms when
// it repeats, and the page's messages queue up beside it, so they are handled between chunks.
const tick = new MessageChannel();
let tickPending = false;
let nextSnapshotAt = 0;

function scheduleTick(): void {
  if (tickPending) return;
  tickPending = true;
  tick.port2.postMessage(null);
}

tick.port1.onmessage = () => {
  tickPending = false;
  const s = state;
  if (!s.running && !s.stepping) return;
  try {
    trainChunk(s);
  } catch (error) {
    fail(error);
    return;
  }
  scheduleTick();
};

function trainChunk(s: State): void {
  const start = performance.now();
  let now = start;
  let workTime = 0;
  // Train until the chunk is used up or one more part would make the next snapshot late.
  do {
    const before = now;
    const stepEnded = advance(s);
    now = performance.now();
    workTime = now - before;
    if (stepEnded && s.stepping) {
      s.stepping = false;
      sendSnapshot(s);
      return;
    }
  } while (
    s.running &&
    s.data.X.length > 0 &&
    now - start + workTime < CHUNK_MS &&
    now + workTime < nextSnapshotAt
  );
  if (s.data.X.length === 0) s.stepping = false;
  rate.measure(s.trainer.step, now);
  if (now >= nextSnapshotAt - 1) {
    sendSnapshot(s);
    nextSnapshotAt = Math.max(nextSnapshotAt + SNAPSHOT_INTERVAL_MS, now + SNAPSHOT_INTERVAL_MS / 2);
  }
}

function play(): void {
  state.running = true;
  state.stepping = false;
  const now = performance.now();
  nextSnapshotAt = now + SNAPSHOT_INTERVAL_MS;
  restartRate(now);
  scheduleTick();
}

/** steps/s starts again from 0 (a new run, or compiled switched): no figure mixes two ways of training. */
function restartRate(now: number): void {
  rate.restart(state.trainer.step, now);
}

/** One step: at once when it is small; a large one goes on in parts, reporting, until it ends. */
function stepOnce(): void {
  state.running = false;
  state.stepping = true;
  nextSnapshotAt = performance.now() + SNAPSHOT_INTERVAL_MS;
  scheduleTick();
}

/** A step that cannot be computed (a learning rate so large that numbers overflow) pauses training. */
function fail(error: unknown): void {
  state.running = false;
  state.stepping = false;
  // The step that failed is abandoned; the next one starts afresh (zeroGrad first).
  state.partial = null;
  post({ type: "error", message: error instanceof Error ? error.message : String(error) });
  sendSnapshot(state);
}

function changed(before: Settings, after: Settings, keys: readonly (keyof Settings)[]): boolean {
  return keys.some((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
}

function handle(message: ToWorker): void {
  const s = state;
  switch (message.type) {
    case "settings": {
      const settings = message.settings;
      if (changed(s.settings, settings, DATA_SETTINGS)) {
        const data = generate(settings);
        state = withModel({ ...s, settings, data, extent: extentOf(data) });
        sendData(state);
      } else if (changed(s.settings, settings, MODEL_SETTINGS)) {
        state = withModel({ ...s, settings });
      } else {
        // Learning rate, decay, batch size and L2 apply from the next step on; compiled or
        // eager from the next part.
        if (settings.compiled !== s.settings.compiled) restartRate(performance.now());
        s.settings = settings;
      }
      break;
    }
    case "play":
      play();
      break;
    case "pause":
      s.running = false;
      s.stepping = false;
      break;
    case "step":
      stepOnce();
      break;
    case "reset":
      state = withModel(s);
      break;
    case "addPoint":
    case "clear": {
      if (message.type === "clear") {
        s.data = { ...s.data, X: [], y: [] };
      } else {
        const cls = Math.min(Math.max(Math.round(message.cls), 0), Math.max(s.data.nClasses, 2) - 1);
        s.data = { ...s.data, X: [...s.data.X, [message.x, message.y]], y: [...s.data.y, cls] };
      }
      s.order = [];
      s.partial = null;
      s.classified = null;
      sendData(s);
      break;
    }
  }
  sendSnapshot(state);
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  try {
    handle(event.data);
  } catch (error) {
    fail(error);
  }
};

sendData(state);
sendSnapshot(state);
