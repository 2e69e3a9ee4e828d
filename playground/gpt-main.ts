// The GPT page: reads the controls, talks to the training worker (gpt-worker.ts), and draws
// what it sends in requestAnimationFrame, once per new message, never more than the screen shows.
import { type FieldRule, formatNumber, readField } from "./format.js";
import { MAX_VALUES_PER_DOCUMENT, valuesPerDocument } from "./gpt-data.js";
import {
  type DataInfo,
  DEFAULT_GPT_SETTINGS,
  type FromGPTWorker,
  type GPTSettings,
  type GPTSnapshot,
  type Inspection,
  type Samples,
  type TextMode,
  type TextSource,
  type ToGPTWorker,
} from "./gpt-protocol.js";
import {
  drawAttention,
  drawCandidates,
  drawEmbedding,
  drawLossChart,
  LossHistory,
  tokenLabel,
} from "./gpt-views.js";

/** A model file larger than this is not read (the largest model here is a few megabytes). */
const MAX_MODEL_FILE_BYTES = 50 * 1024 * 1024;

function $<T extends Element = HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (!found) throw new Error(`playground: the page has no ${selector}`);
  return found;
}

const controls = {
  source: $<HTMLSelectElement>("#source"),
  text: $<HTMLTextAreaElement>("#text"),
  mode: $<HTMLSelectElement>("#mode"),
  nLayer: $<HTMLInputElement>("#layers"),
  nEmbd: $<HTMLInputElement>("#width"),
  nHead: $<HTMLInputElement>("#heads"),
  blockSize: $<HTMLInputElement>("#block"),
  seed: $<HTMLInputElement>("#seed"),
  lr: $<HTMLInputElement>("#lr"),
  batchSize: $<HTMLInputElement>("#batch"),
  workers: $<HTMLInputElement>("#workers"),
  temperature: $<HTMLInputElement>("#temperature"),
  prefix: $<HTMLInputElement>("#prefix"),
  loadModel: $<HTMLInputElement>("#load-model"),
};
const view = {
  play: $<HTMLButtonElement>("#play"),
  step: $<HTMLButtonElement>("#step"),
  reset: $<HTMLButtonElement>("#reset"),
  useText: $<HTMLButtonElement>("#use-text"),
  textPanel: $("#text-panel"),
  textError: $("#text-error"),
  dataInfo: $("#data-info"),
  modelInfo: $("#model-info"),
  stepCount: $("#step-count"),
  loss: $("#loss"),
  heldOut: $("#held-out"),
  bigram: $("#bigram"),
  sps: $("#sps"),
  cps: $("#cps"),
  workersUsed: $("#workers-used"),
  workersNote: $("#workers-note"),
  message: $("#message"),
  lossChart: $<HTMLCanvasElement>("#loss-chart"),
  samples: $("#samples"),
  samplesCaption: $("#samples-caption"),
  resample: $<HTMLButtonElement>("#resample"),
  embedding: $<HTMLCanvasElement>("#embedding"),
  prefixProblem: $("#prefix-problem"),
  nextToken: $("#next-token"),
  attention: $("#attention"),
  download: $<HTMLButtonElement>("#download-model"),
  loadError: $("#load-error"),
  loadInfo: $("#load-info"),
};

let settings: GPTSettings = { ...DEFAULT_GPT_SETTINGS };
let info: DataInfo | null = null;
let snapshot: GPTSnapshot | null = null;
let inspection: Inspection | null = null;
let samples: Samples | null = null;
let running = false;
let history = new LossHistory();
let generation = -1;

const worker = new Worker(new URL("./gpt-worker.js", import.meta.url), { type: "module" });
const send = (message: ToGPTWorker) => worker.postMessage(message);

// ---- Settings from the controls -------------------------------------------------------

type NumberSetting =
  | "nLayer"
  | "nEmbd"
  | "nHead"
  | "blockSize"
  | "seed"
  | "lr"
  | "batchSize"
  | "workers"
  | "temperature";

const RULES: Record<NumberSetting, FieldRule> = {
  nLayer: {
    name: "the number of layers",
    must: "must be a whole number from 1 to 4",
    min: 1,
    max: 4,
    integer: true,
  },
  nEmbd: { name: "the width", must: "must be a whole number from 4 to 64", min: 4, max: 64, integer: true },
  nHead: {
    name: "the number of heads",
    must: "must be a whole number from 1 to 16 that divides the width",
    min: 1,
    max: 16,
    integer: true,
  },
  blockSize: {
    name: "the block",
    must: "must be a whole number from 2 to 64",
    min: 2,
    max: 64,
    integer: true,
  },
  seed: { name: "the seed", must: "must be a whole number from 0", min: 0, integer: true },
  lr: {
    name: "the learning rate",
    must: "must be above 0 and at most 1, such as 0.01",
    min: 0,
    above: true,
    max: 1,
  },
  batchSize: {
    name: "the batch",
    must: "must be a whole number from 1 to 64",
    min: 1,
    max: 64,
    integer: true,
  },
  workers: {
    name: "the number of workers",
    must: "must be a whole number from 1 to 64",
    min: 1,
    max: 64,
    integer: true,
  },
  temperature: {
    name: "the temperature",
    must: "must be above 0 and at most 10, such as 0.5",
    min: 0,
    above: true,
    max: 10,
  },
};

function errorBeside(input: HTMLInputElement): HTMLElement {
  return $(`#${input.id}-error`);
}

/** Shows `problem` beside the field (and which value training goes on with), or clears it. */
function showFieldError(key: NumberSetting, problem: string | null): void {
  const input = controls[key];
  const error = errorBeside(input);
  error.hidden = problem === null;
  input.setAttribute("aria-invalid", String(problem !== null));
  if (problem !== null) error.textContent = `${problem} Still using ${settings[key]}.`;
}

/**
 * The settings the controls describe, or null after naming beside each wrong field what is
 * wrong: every field is checked, and then the fields that must agree (heads and width; the
 * model's size).
 */
function readSettings(): GPTSettings | null {
  const numbers = {} as Record<NumberSetting, number>;
  const problems = {} as Record<NumberSetting, string | null>;
  for (const key of Object.keys(RULES) as NumberSetting[]) {
    const input = controls[key];
    const result = readField(input.value, input.validity.badInput, RULES[key]);
    numbers[key] = typeof result === "number" ? result : Number.NaN;
    problems[key] = typeof result === "number" ? null : result.error;
  }
  const { nLayer, nEmbd, nHead, blockSize } = numbers;
  if (problems.nHead === null && problems.nEmbd === null && nEmbd % nHead !== 0) {
    problems.nHead = `${nHead} heads do not divide the width ${nEmbd}: each head reads an equal part of it.`;
  }
  const values = valuesPerDocument({ vocabSize: info?.vocabSize ?? 27, nLayer, nEmbd, blockSize });
  if (problems.blockSize === null && values > MAX_VALUES_PER_DOCUMENT) {
    problems.blockSize =
      `A document of this model builds about ${values.toLocaleString("en-US")} values; at most ` +
      `${MAX_VALUES_PER_DOCUMENT.toLocaleString("en-US")} here: a smaller block, width or fewer layers.`;
  }
  for (const key of Object.keys(RULES) as NumberSetting[]) showFieldError(key, problems[key]);
  if (Object.values(problems).some((problem) => problem !== null)) return null;
  return {
    ...settings,
    source: controls.source.value as TextSource,
    mode: controls.mode.value as TextMode,
    ...numbers,
  };
}

function applySettings(): void {
  const next = readSettings();
  if (!next) return;
  // Pasted text goes to the worker with the button, not at every change of the box.
  if (next.source === "text" && next.text === "") return;
  settings = next;
  view.message.hidden = true;
  send({ type: "settings", settings });
}

for (const key of Object.keys(RULES) as NumberSetting[]) {
  controls[key].addEventListener("change", applySettings);
  // While typing, an error already shown is brought up to date (or cleared); new ones wait for the change.
  controls[key].addEventListener("input", () => {
    if (!errorBeside(controls[key]).hidden) readSettings();
  });
}

controls.source.addEventListener("change", () => {
  view.textPanel.hidden = controls.source.value !== "text";
  view.textError.hidden = true;
  if (controls.source.value !== "text") {
    settings = { ...settings, text: "" };
    applySettings();
  } else if (settings.text === "") {
    controls.text.focus();
  }
});
controls.mode.addEventListener("change", () => {
  if (settings.source === "text") applySettings();
});
view.useText.addEventListener("click", () => {
  view.textError.hidden = true;
  settings = { ...settings, text: controls.text.value };
  applySettings();
});

// ---- Run controls ---------------------------------------------------------------------

function togglePlay(): void {
  send({ type: running ? "pause" : "play" });
}

view.play.addEventListener("click", togglePlay);
view.step.addEventListener("click", () => send({ type: "step" }));
view.reset.addEventListener("click", () => send({ type: "reset" }));
view.resample.addEventListener("click", () => send({ type: "resample" }));

document.addEventListener("keydown", (event) => {
  const target = event.target as HTMLElement;
  if (target.closest("input, select, textarea, button") || event.metaKey || event.ctrlKey || event.altKey)
    return;
  if (event.key === " ") {
    event.preventDefault();
    togglePlay();
  } else if (event.key === "s") {
    send({ type: "step" });
  } else if (event.key === "r") {
    send({ type: "reset" });
  }
});

// ---- Writing with the model -----------------------------------------------------------

controls.prefix.addEventListener("input", () => send({ type: "prefix", prefix: controls.prefix.value }));

function append(token: string): void {
  if (token === "") return;
  controls.prefix.value += token;
  send({ type: "prefix", prefix: controls.prefix.value });
}

// ---- Saving and loading ---------------------------------------------------------------

view.download.addEventListener("click", () => send({ type: "save" }));

function download(json: string): void {
  const url = URL.createObjectURL(new Blob([json], { type: "application/json" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = "model.json";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

controls.loadModel.addEventListener("change", async () => {
  const file = controls.loadModel.files?.[0];
  controls.loadModel.value = "";
  if (!file) return;
  view.loadError.hidden = true;
  view.loadInfo.hidden = true;
  if (file.size > MAX_MODEL_FILE_BYTES) {
    showProblem(
      "load",
      `${file.name}: ${(file.size / 1024 / 1024).toFixed(0)} MB is larger than any model here.`,
    );
    return;
  }
  send({ type: "load", text: await file.text(), name: file.name });
});

function showProblem(field: string, message: string): void {
  const where =
    field === "text"
      ? view.textError
      : field === "load"
        ? view.loadError
        : field === "workers"
          ? errorBeside(controls.workers)
          : view.message;
  where.textContent = message;
  where.hidden = false;
}

/** The controls show `next`, as when a loaded model brings its own sizes. */
function showSettings(next: GPTSettings): void {
  controls.source.value = next.source;
  controls.text.value = next.text;
  controls.mode.value = next.mode;
  view.textPanel.hidden = next.source !== "text";
  for (const key of Object.keys(RULES) as NumberSetting[]) {
    controls[key].value = String(next[key]);
    showFieldError(key, null);
  }
  // Without shared memory the training worker trains alone (drawWorkersNote says why).
  controls.workers.disabled = !crossOriginIsolated;
  if (!crossOriginIsolated) controls.workers.value = "1";
}

// ---- Messages from the worker ---------------------------------------------------------

let dirty = { stats: true, chart: true, inspection: true, samples: true };

worker.onmessage = (event: MessageEvent<FromGPTWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "data":
      info = message.info;
      view.textError.hidden = true;
      break;
    case "snapshot":
      if (message.generation !== generation) {
        generation = message.generation;
        history = new LossHistory();
      }
      for (const loss of message.historyLoss) history.push(loss);
      history.heldOut.push(...message.heldOut);
      snapshot = message;
      setRunning(message.running);
      dirty.stats = dirty.chart = true;
      break;
    case "inspection":
      inspection = message.inspection;
      dirty.inspection = true;
      break;
    case "samples":
      samples = message.samples;
      dirty.samples = true;
      break;
    case "saved":
      download(message.json);
      break;
    case "loaded":
      settings = message.settings;
      showSettings(settings);
      view.loadInfo.textContent = message.message;
      view.loadInfo.hidden = false;
      break;
    case "problem":
      // The box keeps what was typed; the next change of another field sends what is in use.
      if (message.settings) settings = message.settings;
      showProblem(message.field, message.message);
      break;
    case "error":
      // The library's message says where training diverged and what to change; Reset starts afresh.
      showProblem("", `Training stopped. ${message.message}. Reset to start again.`);
      break;
  }
};

worker.onerror = (event) => showProblem("", `The training worker failed: ${event.message}`);

function setRunning(next: boolean): void {
  if (next === running) return;
  running = next;
  view.play.textContent = running ? "❚❚ Pause" : "▶ Play";
  view.play.classList.toggle("running", running);
}

// ---- Drawing --------------------------------------------------------------------------

function drawStats(): void {
  if (!snapshot) return;
  const progress = snapshot.stepProgress > 0 ? ` +${Math.floor(snapshot.stepProgress * 100)}%` : "";
  view.stepCount.textContent = `${snapshot.step.toLocaleString("en-US")}${progress}`;
  view.stepCount.dataset.step = String(snapshot.step);
  const average = history.average[history.average.length - 1];
  view.loss.textContent = formatNumber(average);
  view.loss.dataset.value = Number.isFinite(average) ? String(average) : "";
  // The last step's loss, exactly.
  view.loss.dataset.last = history.losses.length > 0 ? String(history.losses[history.losses.length - 1]) : "";
  const measured = history.heldOut[history.heldOut.length - 1];
  // A large model's first measurement traces every length of document: it says how far it has got.
  const measuring = snapshot.measuring === null ? "" : ` (${Math.floor(snapshot.measuring * 100)}%)`;
  view.heldOut.textContent = measured ? measured[1].toFixed(3) : measuring ? `measuring${measuring}` : "–";
  view.heldOut.title = measuring
    ? `measuring the held-out loss${measuring}`
    : "loss per character on held-out text";
  view.heldOut.dataset.value = measured ? String(measured[1]) : "";
  view.heldOut.dataset.step = measured ? String(measured[0]) : "";
  const sps = snapshot.stepsPerSecond;
  view.sps.textContent = snapshot.running ? sps.toFixed(sps < 10 ? 1 : 0) : "–";
  const cps = Math.round(snapshot.charactersPerSecond);
  view.cps.textContent = snapshot.running ? cps.toLocaleString("en-US") : "–";
  // The training worker itself, when no Web Workers compute the steps.
  const workers = Math.max(1, snapshot.workers);
  view.workersUsed.textContent = String(workers);
  view.workersUsed.dataset.value = String(workers);
  drawWorkersNote(snapshot.workers);
  if (info) {
    view.bigram.textContent = info.bigramLoss.toFixed(3);
    view.bigram.dataset.value = String(info.bigramLoss);
    const characters = info.chars.map(tokenLabel).join("");
    const measuredOn = info.measuredHeldOut
      ? `${info.measured.toLocaleString("en-US")} of the held-out ${info.unit}`
      : `${info.measured.toLocaleString("en-US")} training ${info.unit} (too little text to hold any out)`;
    view.dataInfo.textContent =
      `${info.description}: ${info.trainCount.toLocaleString("en-US")} ${info.unit} to train on, ` +
      `${info.heldOutCount.toLocaleString("en-US")} held out; the losses are measured on ${measuredOn}. ` +
      `Vocabulary of ${info.vocabSize}: ${characters} and BOS.`;
  }
  view.modelInfo.textContent = `${snapshot.parameters.toLocaleString("en-US")} parameters`;
}

/** What the workers control does here, or why it does nothing. */
function drawWorkersNote(workers: number): void {
  let note: string;
  if (!crossOriginIsolated) {
    note =
      "One worker: this page is not cross-origin isolated, so the browser gives it no memory to " +
      "share between workers. Served by the playground's own server (npm run playground), which " +
      "sends the headers that isolate it (Cross-Origin-Opener-Policy: same-origin and " +
      "Cross-Origin-Embedder-Policy: require-corp), it trains on every core.";
  } else if (workers === 0) {
    note = "One worker: the workers could not start.";
  } else {
    note =
      `${workers} Web Worker${workers === 1 ? " computes" : "s share"} each step (at most one per ` +
      `document of the batch; this browser reports ${navigator.hardwareConcurrency} cores). The ` +
      "losses are the same, bit for bit, for any number.";
  }
  if (view.workersNote.textContent !== note) view.workersNote.textContent = note;
}

function drawInspection(): void {
  if (!inspection || !info) return;
  view.prefixProblem.hidden = inspection.problem === "";
  view.prefixProblem.textContent = inspection.problem;
  drawCandidates(view.nextToken, inspection.candidates, append);
  drawAttention(view.attention, inspection);
  view.attention.dataset.prefix = inspection.prefix;
  view.attention.dataset.step = String(snapshot?.step ?? 0);
  drawEmbedding(view.embedding, inspection.embedding, [...info.chars, "BOS"], inspection.explained);
}

function drawSamples(): void {
  if (!samples) return;
  const items = samples.texts.map((text) => {
    const item = document.createElement("li");
    item.textContent = text === "" ? "(empty)" : text;
    if (text === "") item.className = "empty";
    return item;
  });
  view.samples.replaceChildren(...items);
  view.samples.dataset.step = String(samples.step);
  view.samples.dataset.seed = String(samples.seed);
  view.samples.dataset.temperature = String(samples.temperature);
  view.samplesCaption.textContent =
    `Weights of step ${samples.step.toLocaleString("en-US")}, seed ${samples.seed}: ` +
    `micrograd gpt sample --model model.json --n ${samples.texts.length} --temperature ${samples.temperature} --seed ${samples.seed} prints the same.`;
}

function frame(): void {
  if (dirty.stats) drawStats();
  if (dirty.chart) drawLossChart(view.lossChart, history, info?.bigramLoss ?? Number.NaN);
  if (dirty.inspection) drawInspection();
  if (dirty.samples) drawSamples();
  dirty = { stats: false, chart: false, inspection: false, samples: false };
  requestAnimationFrame(frame);
}

window.addEventListener("resize", () => {
  dirty = { stats: true, chart: true, inspection: true, samples: true };
});

showSettings(settings);
send({ type: "prefix", prefix: controls.prefix.value });
requestAnimationFrame(frame);
