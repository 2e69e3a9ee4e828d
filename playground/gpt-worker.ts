// The GPT page's training worker: owns the data and the model, trains in short chunks (each
// document of a step replayed through the compiled loss), and sends the page the losses about
// 30 times a second, the prefix's attention and next-token candidates a few times a second,
// the held-out loss and fresh samples every few seconds. Between documents it yields to its
// message queue, so Pause, Step and edits arrive while a large step is under way.
//
// When the page is cross-origin isolated, the step's documents are shared among Web Workers
// (gpt-pool.ts) instead, in runs of a few milliseconds, this worker waiting for each run and
// answering the page between; their gradients are added in document order, so a step is the
// same, bit for bit, however it was cut and however many workers there are.
import {
  Adam,
  compiledLoss,
  createRandom,
  evaluateGPT,
  GPT,
  GPT_TRAINING_DEFAULTS,
  type GPTParallel,
  gptFromJSON,
  gptToJSON,
  ParameterArena,
  type Random,
  sampleText,
  shuffled,
  type Token,
  Trainer,
  type Value,
} from "../src/index.js";
import { DataProblem, type PreparedData, prepareData, randomWindow, type ShippedTexts } from "./gpt-data.js";
import { inspectPrefix, principalComponents, project } from "./gpt-inspect.js";
import { canShareMemory, startPool } from "./gpt-pool.js";
import {
  DEFAULT_GPT_SETTINGS,
  type FromGPTWorker,
  GPT_DATA_SETTINGS,
  GPT_MODEL_SETTINGS,
  type GPTSettings,
  type Inspection,
  SAMPLE_COUNT,
  TOP_CANDIDATES,
  type ToGPTWorker,
} from "./gpt-protocol.js";
import { StepRate } from "./rate.js";

/** Longest run of training before the worker looks at its messages again. */
const CHUNK_MS = 12;
const SNAPSHOT_INTERVAL_MS = 1000 / 30;
const INSPECT_INTERVAL_MS = 150;
const SAMPLE_INTERVAL_MS = 3000;
const MEASURE_INTERVAL_MS = 2000;
/**
 * About how long a run of documents on the Web Workers lasts: long enough that handing the run
 * over costs little beside it, short enough that the page is answered between runs.
 */
const RUN_MS = 4;

/** A document's loss weighted by its share of the batch (the gradient it sends), and the loss. */
type DocumentLoss = (tokens: readonly Token[], weight: Token) => [Value, Value];

/** The held-out loss of the weights of `step`: the per-character sum and count of the documents so far. */
interface Measurement {
  step: number;
  next: number;
  sum: number;
  count: number;
}

interface State {
  settings: GPTSettings;
  data: PreparedData;
  gpt: GPT;
  /** The library's one training loop, over the compiled loss that evaluateGPT replays too. */
  trainer: Trainer<DocumentLoss>;
  /** The trainer's weights and the step's gradients. */
  arena: ParameterArena;
  /**
   * The Web Workers that compute the steps, whether they have started, and how many documents
   * each takes in a run (grown or shrunk towards RUN_MS); null: this worker computes the steps.
   */
  workers: { pool: GPTParallel; started: boolean; rounds: number } | null;
  /** Characters trained on so far (every position of every document of the steps), for the rate. */
  characters: number;
  generation: number;
  running: boolean;
  /** A single step was asked for (Step): train until it is complete, then stop. */
  stepping: boolean;
  /** Order of the documents in this epoch and where the next batch starts; windows are drawn at random. */
  order: number[];
  position: number;
  random: Random;
  /** The step under way: its documents, how many are in the gradients, their summed loss. */
  partial: { documents: number[][]; done: number; lossSum: number } | null;
  /** Training losses and held-out measurements not yet sent to the page. */
  historyStart: number;
  historyLoss: number[];
  heldOut: [number, number][];
  /** The held-out measurement under way, a few documents at a time (training waits for it). */
  measurement: Measurement | null;
  measuredStep: number;
  sampleSeed: number;
}

const post = (message: FromGPTWorker, transfer: Transferable[] = []) =>
  self.postMessage(message, { transfer });

const shipped: ShippedTexts = {};
let state: State | null = null;
let prefix = "";
/** The principal components last shown, so that the embedding picture keeps its orientation. */
let components: number[][] | undefined;

function newState(settings: GPTSettings, data: PreparedData, generation: number, gpt?: GPT): State {
  const model =
    gpt ??
    new GPT({
      vocabSize: data.tokenizer.vocabSize,
      nLayer: settings.nLayer,
      nEmbd: settings.nEmbd,
      nHead: settings.nHead,
      blockSize: settings.blockSize,
      seed: settings.seed,
    });
  components = undefined;
  // The reference's Adam, as trainGPT's.
  const optimizer = new Adam(model.parameters(), {
    lr: settings.lr,
    betas: GPT_TRAINING_DEFAULTS.betas,
    eps: GPT_TRAINING_DEFAULTS.eps,
  });
  const arena = new ParameterArena(model.parameters());
  const s: State = {
    settings,
    data,
    gpt: model,
    trainer: newTrainer(model, optimizer, arena),
    arena,
    workers: null,
    characters: 0,
    generation: generation + 1,
    running: state?.running ?? false,
    stepping: false,
    order: [],
    position: 0,
    random: createRandom(settings.seed),
    partial: null,
    historyStart: 0,
    historyLoss: [],
    heldOut: [],
    measurement: null,
    measuredStep: -1,
    sampleSeed: 1,
  };
  placeTraining(s);
  return s;
}

/** The trainer of `gpt`'s steps, whose weights and gradients are in `arena`. */
function newTrainer(gpt: GPT, optimizer: Adam, arena: ParameterArena): Trainer<DocumentLoss> {
  return new Trainer({
    optimizer,
    compiled: compiledLoss(gpt),
    // Compiled steps replay from and update the weights in an arena, as trainGPT's do: this
    // worker's own, or the one it shares with its Web Workers.
    arena,
    caller: "the GPT page",
  });
}

/** How many Web Workers share the steps of `settings`: none when memory cannot be shared. */
function workersWanted(settings: GPTSettings): number {
  return canShareMemory() ? Math.min(settings.workers, settings.batchSize) : 0;
}

/**
 * Puts the steps on the Web Workers the settings ask for (closing those there were), or on this
 * worker. The model, Adam's moments and the step count stay: only where the gradients are
 * computed changes.
 */
function placeTraining(s: State): void {
  const wanted = workersWanted(s.settings);
  const current = s.workers?.pool;
  if (current ? current.workers === wanted && current.maxBatch >= s.settings.batchSize : wanted === 0) return;
  if (wanted === 0) {
    trainHere(s);
    return;
  }
  closeWorkers(s);
  s.trainer.sync();
  const { pool, started } = startPool(s.gpt, wanted, s.settings.batchSize);
  const workers = { pool, started: false, rounds: 1 };
  s.workers = workers;
  // The weights the workers read, which Adam updates; the step's gradients are this worker's.
  const count = s.gpt.parameters().length;
  moveTrainer(
    s,
    new ParameterArena(s.gpt.parameters(), {
      data: pool.arena.data.buffer,
      grad: new ArrayBuffer(8 * count),
    }),
  );
  started.then(
    () => {
      workers.started = true;
      scheduleTick();
    },
    (error: unknown) => {
      if (s.workers !== workers) return;
      trainHere(s);
      post({
        type: "problem",
        field: "workers",
        message: `Training in one worker: ${error instanceof Error ? error.message : String(error)}.`,
      });
      scheduleTick();
    },
  );
}

/** The steps computed by this worker, on its own arena. */
function trainHere(s: State): void {
  closeWorkers(s);
  s.trainer.sync();
  moveTrainer(s, new ParameterArena(s.gpt.parameters()));
}

/** A trainer on `arena` that goes on from where the current one is. */
function moveTrainer(s: State, arena: ParameterArena): void {
  const before = s.trainer;
  s.trainer = newTrainer(s.gpt, before.optimizer as Adam, arena);
  s.arena = arena;
  s.trainer.step = before.step;
  s.trainer.lastLoss = before.lastLoss;
  // A step under way has its gradients in the other arena: its documents start again here.
  if (s.partial) {
    s.partial = { documents: s.partial.documents, done: 0, lossSum: 0 };
    s.trainer.begin();
  }
}

/** Stops the state's Web Workers, if it has some. */
function closeWorkers(s: State): void {
  if (!s.workers) return;
  void s.workers.pool.close();
  s.workers = null;
}

/** The next piece of work is a step, and the Web Workers that compute it have not started (they tick when they have). */
function waitingForWorkers(s: State): boolean {
  return s.measurement === null && s.workers !== null && !s.workers.started;
}

/**
 * The model, its Values up to date: compiled steps update the weights in the trainer's arena,
 * which writes them back only when asked, before anything reads them.
 */
function weights(s: State): GPT {
  s.trainer.sync();
  return s.gpt;
}

/** The documents (or windows) of the next step. */
function nextBatch(s: State): number[][] {
  const { documents, text } = s.data;
  const { batchSize, blockSize } = s.settings;
  if (text) {
    return Array.from({ length: batchSize }, () => randomWindow(s.data, blockSize, s.random));
  }
  const batch: number[][] = [];
  for (let i = 0; i < batchSize; i++) {
    if (s.position >= s.order.length) {
      s.order = shuffled(
        Array.from({ length: documents.length }, (_, k) => k),
        s.random,
      );
      s.position = 0;
    }
    // The loss reads BOS and a block of tokens: longer documents share that length's trace.
    batch.push(documents[s.order[s.position++]].slice(0, blockSize + 1));
  }
  return batch;
}

/**
 * One more document of the step under way (on Web Workers, a run of documents); after its last,
 * the update. Returns whether a step ended.
 */
function advance(s: State): boolean {
  const { trainer } = s;
  if (!s.partial) {
    trainer.begin();
    s.partial = { documents: nextBatch(s), done: 0, lossSum: 0 };
  }
  const step = s.partial;
  const weight = 1 / step.documents.length;
  if (s.workers) {
    const { pool, rounds } = s.workers;
    const run = step.documents.slice(step.done, step.done + pool.workers * rounds);
    const started = performance.now();
    for (const loss of trainer.within(() => pool.compute(run, weight))) step.lossSum += loss;
    // The trainer's gradients (its arena's own, not the pool's) add up the runs of the step,
    // the same whatever the runs were.
    pool.addGradients(s.arena.grad);
    step.done += run.length;
    const took = performance.now() - started;
    if (took < RUN_MS / 2 && run.length === pool.workers * rounds) s.workers.rounds = rounds * 2;
    else if (took > RUN_MS * 2 && rounds > 1) s.workers.rounds = rounds / 2;
  } else {
    const [, loss] = trainer.accumulate(step.documents[step.done], weight);
    step.lossSum += loss.data;
    step.done += 1;
  }
  if (step.done < step.documents.length) return false;
  const mean = step.lossSum / step.documents.length;
  trainer.update(mean);
  s.partial = null;
  s.historyLoss.push(mean);
  const { blockSize } = s.gpt.config;
  for (const doc of step.documents) s.characters += Math.min(blockSize, doc.length - 1);
  return true;
}

/** Starts measuring the current weights, unless they are measured or being measured. */
function startMeasurement(s: State): void {
  if (s.measuredStep === s.trainer.step || s.measurement?.step === s.trainer.step) return;
  s.measurement = { step: s.trainer.step, next: 0, sum: 0, count: 0 };
  scheduleTick();
}

/**
 * One more held-out document of the measurement under way. A large model's first document of
 * each length is traced, which takes a while, so the documents go one at a time like a step's.
 */
function advanceMeasurement(s: State, measurement: Measurement): void {
  const doc = s.data.measured[measurement.next++];
  const positions = Math.min(s.gpt.config.blockSize, doc.length - 1);
  measurement.sum += evaluateGPT(weights(s), [doc]) * positions;
  measurement.count += positions;
  if (measurement.next < s.data.measured.length) return;
  s.heldOut.push([measurement.step, measurement.sum / measurement.count]);
  s.measuredStep = measurement.step;
  s.measurement = null;
}

/** A document of the measurement under way or, when there is none, of the training step. Returns whether a step ended. */
function work(s: State): boolean {
  if (s.measurement) {
    advanceMeasurement(s, s.measurement);
    return false;
  }
  return advance(s);
}

// ---- what is sent to the page ------------------------------------------------------------

const rate = new StepRate();

function sendSnapshot(s: State): void {
  const historyLoss = Float64Array.from(s.historyLoss);
  post(
    {
      type: "snapshot",
      generation: s.generation,
      running: s.running,
      step: s.trainer.step,
      stepProgress: s.partial ? s.partial.done / s.partial.documents.length : 0,
      measuring: s.measurement ? s.measurement.next / s.data.measured.length : null,
      parameters: s.gpt.parameters().length,
      stepsPerSecond: s.running ? rate.perSecond : 0,
      charactersPerSecond: s.running ? rate.charactersPerSecond : 0,
      workers: s.workers?.pool.workers ?? 0,
      historyStart: s.historyStart,
      historyLoss,
      heldOut: s.heldOut,
    },
    [historyLoss.buffer],
  );
  s.historyStart = s.trainer.step;
  s.historyLoss = [];
  s.heldOut = [];
}

function sendInspection(s: State): void {
  const { data } = s;
  const gpt = weights(s);
  const embeddings = gpt.wte.map((row) => row.map((weight) => weight.data));
  // The components of the characters' embeddings; BOS, unlike any character, would dominate them.
  const pca = principalComponents(embeddings.slice(0, data.tokenizer.bos), components);
  components = pca.components;
  const inspection: Inspection = {
    ...inspectPrefix(gpt, data.tokenizer, prefix, TOP_CANDIDATES),
    embedding: project(embeddings, pca.mean, pca.components),
    explained: pca.explained,
  };
  post({ type: "inspection", generation: s.generation, step: s.trainer.step, inspection });
}

function sendSamples(s: State): void {
  const { temperature } = s.settings;
  const seed = s.sampleSeed;
  const texts = sampleText(weights(s), s.data.tokenizer, { n: SAMPLE_COUNT, temperature, seed });
  post({
    type: "samples",
    generation: s.generation,
    samples: { step: s.trainer.step, seed, temperature, texts },
  });
}

/** Everything the page shows, after a change made while paused. */
function sendAll(s: State): void {
  startMeasurement(s);
  sendSnapshot(s);
  sendInspection(s);
  sendSamples(s);
}

function sendData(s: State): void {
  post({ type: "data", info: s.data.info, generation: s.generation });
}

// ---- the training loop ----------------------------------------------------------------------

// A MessageChannel message (unlike setTimeout) is not clamped to 4 ms when it repeats, and the
// page's messages queue up beside it, so they are handled between chunks.
const tick = new MessageChannel();
let tickPending = false;
const due = { snapshot: 0, inspection: 0, samples: 0, measure: 0 };

function scheduleTick(): void {
  if (tickPending) return;
  tickPending = true;
  tick.port2.postMessage(null);
}

tick.port1.onmessage = () => {
  tickPending = false;
  const s = state;
  if (!s || (!s.running && !s.stepping && !s.measurement) || waitingForWorkers(s)) return;
  try {
    trainChunk(s);
  } catch (error) {
    fail(s, error);
    return;
  }
  scheduleTick();
};

function trainChunk(s: State): void {
  const start = performance.now();
  let now = start;
  let workTime = 0;
  // Work until the chunk is used up or one more document would make the next snapshot late.
  do {
    const before = now;
    const measuring = s.measurement !== null;
    const stepEnded = work(s);
    now = performance.now();
    workTime = now - before;
    if (stepEnded && s.stepping) {
      s.stepping = false;
      sendAll(s);
      return;
    }
    if (measuring && !s.measurement && !s.running) {
      sendSnapshot(s);
      return;
    }
  } while (
    (s.running || s.measurement) &&
    !waitingForWorkers(s) &&
    now - start + workTime < CHUNK_MS &&
    now + workTime < due.snapshot
  );
  if (s.running) rate.measure(s.trainer.step, now, s.characters);
  if (s.running && now >= due.measure) {
    startMeasurement(s);
    due.measure = now + MEASURE_INTERVAL_MS;
  }
  if (now >= due.snapshot - 1) {
    sendSnapshot(s);
    due.snapshot = Math.max(due.snapshot + SNAPSHOT_INTERVAL_MS, now + SNAPSHOT_INTERVAL_MS / 2);
  }
  if (!s.running) return;
  if (now >= due.inspection) {
    sendInspection(s);
    due.inspection = now + INSPECT_INTERVAL_MS;
  }
  if (now >= due.samples) {
    s.sampleSeed += 1;
    sendSamples(s);
    due.samples = now + SAMPLE_INTERVAL_MS;
  }
}

function play(s: State): void {
  s.running = true;
  s.stepping = false;
  const now = performance.now();
  due.snapshot = now + SNAPSHOT_INTERVAL_MS;
  due.inspection = now + INSPECT_INTERVAL_MS;
  due.samples = now + SAMPLE_INTERVAL_MS;
  due.measure = now + MEASURE_INTERVAL_MS;
  rate.restart(s.trainer.step, now, s.characters);
  scheduleTick();
}

/** A step that cannot be computed (numbers overflowing) pauses training; the next starts afresh. */
function fail(s: State, error: unknown): void {
  s.running = false;
  s.stepping = false;
  s.partial = null;
  post({ type: "error", message: error instanceof Error ? error.message : String(error) });
  sendSnapshot(s);
}

// ---- messages from the page -----------------------------------------------------------------

function changed(before: GPTSettings, after: GPTSettings, keys: readonly (keyof GPTSettings)[]): boolean {
  return keys.some((key) => before[key] !== after[key]);
}

/** New settings: new data and model, a new model, or new training values from the next step. */
function applySettings(s: State, settings: GPTSettings): State {
  const newData = changed(s.settings, settings, GPT_DATA_SETTINGS);
  // Running text is cut into windows of the block, so a new block means new windows too.
  const newWindows = settings.mode === "running" && settings.blockSize !== s.settings.blockSize;
  if (newData || newWindows || changed(s.settings, settings, GPT_MODEL_SETTINGS)) {
    let data = s.data;
    if (newData || newWindows || settings.blockSize !== s.settings.blockSize) {
      try {
        data = prepareData(settings, shipped, settings.blockSize);
      } catch (error) {
        if (!(error instanceof DataProblem)) throw error;
        post({
          type: "problem",
          field: "text",
          message: `${error.message} Still training on ${s.data.info.description}.`,
          settings: s.settings,
        });
        return s;
      }
    }
    const next = newState(settings, data, s.generation);
    sendData(next);
    return next;
  }
  const resample = settings.temperature !== s.settings.temperature;
  s.settings = settings;
  s.trainer.optimizer.lr = settings.lr;
  placeTraining(s);
  if (resample) sendSamples(s);
  return s;
}

/** A model file read back: it must have the characters of the data it is to train on. */
function load(s: State, text: string, name: string): State {
  let loaded: ReturnType<typeof gptFromJSON>;
  try {
    loaded = gptFromJSON(JSON.parse(text));
  } catch (error) {
    post({ type: "problem", field: "load", message: `${name}: ${(error as Error).message}` });
    return s;
  }
  const { gpt, tokenizer } = loaded;
  const given = tokenizer.chars.join("");
  const here = s.data.tokenizer.chars.join("");
  if (given !== here) {
    post({
      type: "problem",
      field: "load",
      message: `${name}: its ${tokenizer.chars.length} characters ${JSON.stringify(given.slice(0, 40))} are not those of ${s.data.info.description} (${s.data.tokenizer.chars.length}); choose the data it was trained on first.`,
    });
    return s;
  }
  const { nLayer, nEmbd, nHead, blockSize } = gpt.config;
  const settings = { ...s.settings, nLayer, nEmbd, nHead, blockSize };
  let data = s.data;
  if (settings.blockSize !== s.settings.blockSize) data = prepareData(settings, shipped, settings.blockSize);
  const next = newState(settings, data, s.generation, gpt);
  post({
    type: "loaded",
    settings,
    message: `Loaded ${name}: ${nLayer} layer${nLayer === 1 ? "" : "s"}, width ${nEmbd}, ${nHead} heads, block ${blockSize}.`,
  });
  sendData(next);
  return next;
}

function save(s: State): void {
  const measured = evaluateGPT(weights(s), s.data.measured);
  const notes = {
    data: s.data.info.description,
    steps: s.trainer.step,
    batchSize: s.settings.batchSize,
    lr: s.settings.lr,
    seed: s.settings.seed,
    [s.data.info.measuredHeldOut ? "heldOutLoss" : "trainLoss"]: measured,
    bigramLoss: s.data.info.bigramLoss,
  };
  post({
    type: "saved",
    json: `${JSON.stringify(gptToJSON(s.gpt, s.data.tokenizer, notes))}\n`,
    step: s.trainer.step,
  });
}

function handle(message: ToGPTWorker): void {
  const s = state as State;
  switch (message.type) {
    case "settings":
      state = applySettings(s, message.settings);
      break;
    case "play":
      play(s);
      break;
    case "pause":
      s.running = false;
      s.stepping = false;
      break;
    case "step":
      s.running = false;
      s.stepping = true;
      due.snapshot = performance.now() + SNAPSHOT_INTERVAL_MS;
      scheduleTick();
      return;
    case "reset":
      state = newState(s.settings, s.data, s.generation);
      sendData(state);
      break;
    case "prefix":
      prefix = message.prefix;
      sendInspection(s);
      return;
    case "resample":
      s.sampleSeed += 1;
      sendSamples(s);
      return;
    case "save":
      save(s);
      return;
    case "load":
      state = load(s, message.text, message.name);
      break;
  }
  const current = state as State;
  if (current !== s) closeWorkers(s);
  if (current !== s && current.running) play(current);
  if (!current.running) sendAll(current);
  else sendSnapshot(current);
}

/** The texts shipped beside the page, by name. */
const SHIPPED_FILES = { names: "names.txt", shakespeare: "tinyshakespeare.txt" } as const;

async function readShipped(name: keyof typeof SHIPPED_FILES): Promise<void> {
  if (shipped[name] !== undefined) return;
  const file = SHIPPED_FILES[name];
  const response = await fetch(new URL(`./${file}`, import.meta.url));
  if (!response.ok) throw new Error(`could not read ${file} (${response.status} ${response.statusText})`);
  shipped[name] = await response.text();
}

async function start(): Promise<void> {
  await readShipped("names");
  state = newState(
    DEFAULT_GPT_SETTINGS,
    prepareData(DEFAULT_GPT_SETTINGS, shipped, DEFAULT_GPT_SETTINGS.blockSize),
    0,
  );
  sendData(state);
  sendAll(state);
}

// Messages wait for the names (and Tiny Shakespeare, the first time it is chosen); each is
// handled in the order it came.
let ready = start().catch((error) => post({ type: "error", message: (error as Error).message }));

self.onmessage = (event: MessageEvent<ToGPTWorker>) => {
  const message = event.data;
  ready = ready.then(async () => {
    if (!state) return;
    try {
      if (message.type === "settings" && message.settings.source === "shakespeare")
        await readShipped("shakespeare");
      handle(message);
    } catch (error) {
      fail(state, error);
    }
  });
};
