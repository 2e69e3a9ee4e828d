// The page: reads the controls, talks to the training worker, and draws what it sends.
// Drawing happens in requestAnimationFrame, once per new snapshot, so a fast worker never
// makes the page draw more than the screen shows.
import type { Activation, DatasetName, LossName, OptimizerName } from "../src/index.js";
import { drawChart } from "./charts.js";
import { FIELD_RULES, formatNumber, readField } from "./format.js";
import { firstActivePoint, neuronGraph, preActivation, renderNeuronGraph } from "./graph-view.js";
import { NetworkDiagram, type NeuronRef } from "./network.js";
import { CLASS_COLORS, drawPlane, marker, type PlaneData, shapeOf, toPlane } from "./plane.js";
import {
  DEFAULT_SETTINGS,
  type FromWorker,
  type Settings,
  type Snapshot,
  type ToWorker,
} from "./protocol.js";

const MAX_LAYERS = 6;
const MAX_NEURONS = 64;

function $<T extends Element = HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (!found) throw new Error(`playground: the page has no ${selector}`);
  return found;
}

const controls = {
  dataset: $<HTMLSelectElement>("#dataset"),
  noise: $<HTMLInputElement>("#noise"),
  noiseValue: $<HTMLOutputElement>("#noise-value"),
  size: $<HTMLInputElement>("#size"),
  hidden: $<HTMLInputElement>("#hidden"),
  hiddenError: $("#hidden-error"),
  activation: $<HTMLSelectElement>("#activation"),
  modelSeed: $<HTMLInputElement>("#model-seed"),
  loss: $<HTMLSelectElement>("#loss-name"),
  optimizer: $<HTMLSelectElement>("#optimizer"),
  lr: $<HTMLInputElement>("#lr"),
  decay: $<HTMLInputElement>("#decay"),
  batch: $<HTMLInputElement>("#batch"),
  l2: $<HTMLInputElement>("#l2"),
  compiled: $<HTMLInputElement>("#compiled"),
};
const view = {
  play: $<HTMLButtonElement>("#play"),
  step: $<HTMLButtonElement>("#step"),
  reset: $<HTMLButtonElement>("#reset"),
  regenerate: $<HTMLButtonElement>("#regenerate"),
  clear: $<HTMLButtonElement>("#clear"),
  classPicker: $("#class-picker"),
  pointCount: $("#point-count"),
  stepCount: $("#step-count"),
  loss: $("#loss"),
  accuracy: $("#accuracy"),
  sps: $("#sps"),
  fps: $("#fps"),
  message: $("#message"),
  plane: $<HTMLCanvasElement>("#plane"),
  lossChart: $<HTMLCanvasElement>("#loss-chart"),
  accuracyChart: $<HTMLCanvasElement>("#accuracy-chart"),
  network: $<SVGSVGElement>("#network"),
  graphPanel: $("#graph-panel"),
  graphTitle: $("#graph-title"),
  graphPoint: $<HTMLInputElement>("#graph-point"),
  graphCaption: $("#graph-caption"),
  graphView: $("#graph-view"),
  graphRefresh: $<HTMLButtonElement>("#graph-refresh"),
  graphClose: $<HTMLButtonElement>("#graph-close"),
};

let settings: Settings = { ...DEFAULT_SETTINGS };
let data: PlaneData | null = null;
let snapshot: Snapshot | null = null;
let running = false;
let addClass = 0;
let selectedNeuron: NeuronRef | null = null;
const history = { generation: -1, loss: [] as number[], accuracy: [] as number[] };

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const send = (message: ToWorker) => worker.postMessage(message);

// ---- Settings from the controls -------------------------------------------------------

/** Hidden layer sizes from text such as "16,16"; empty text means no hidden layer. */
export function parseHidden(text: string): number[] | string {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const parts = trimmed.split(/[\s,]+/).filter((p) => p !== "");
  const sizes = parts.map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) return "Write positive whole numbers, like 16,16.";
  if (sizes.length > MAX_LAYERS) return `At most ${MAX_LAYERS} hidden layers.`;
  if (sizes.some((n) => n > MAX_NEURONS)) return `At most ${MAX_NEURONS} neurons per layer.`;
  return sizes;
}

// The number fields, each with the place beside it where its error shows.
const numberFields = {
  size: controls.size,
  modelSeed: controls.modelSeed,
  lr: controls.lr,
  batchSize: controls.batch,
  l2: controls.l2,
} as const;
type NumberField = keyof typeof numberFields;

function errorBeside(input: HTMLInputElement): HTMLElement {
  return $(`#${input.id}-error`);
}

/**
 * The field's number, or null after showing beside it why its text will not do and which value
 * training goes on with: a wrong entry is never replaced by a guess without a word.
 */
function readNumberField(key: NumberField): number | null {
  const input = numberFields[key];
  const result = readField(input.value, input.validity.badInput, FIELD_RULES[key]);
  const error = errorBeside(input);
  const ok = typeof result === "number";
  error.hidden = ok;
  input.setAttribute("aria-invalid", String(!ok));
  if (ok) return result;
  const current = key === "batchSize" && settings.batchSize === 0 ? "all points" : String(settings[key]);
  error.textContent = `${result.error} Still using ${current}.`;
  return null;
}

function readSettings(): Settings | null {
  const hidden = parseHidden(controls.hidden.value);
  controls.hiddenError.hidden = typeof hidden !== "string";
  if (typeof hidden === "string") controls.hiddenError.textContent = hidden;
  const numbers = {} as Record<NumberField, number | null>;
  for (const key of Object.keys(numberFields) as NumberField[]) numbers[key] = readNumberField(key);
  if (typeof hidden === "string" || Object.values(numbers).includes(null)) return null;
  const { size, modelSeed, lr, batchSize, l2 } = numbers as Record<NumberField, number>;
  return {
    ...settings,
    dataset: controls.dataset.value as DatasetName,
    noise: controls.noise.valueAsNumber,
    size,
    hidden,
    activation: controls.activation.value as Activation,
    modelSeed,
    loss: controls.loss.value as LossName,
    optimizer: controls.optimizer.value as OptimizerName,
    lr,
    decay: controls.decay.checked,
    batchSize,
    l2,
    compiled: controls.compiled.checked,
  };
}

function applySettings(): void {
  controls.noiseValue.value = Number(controls.noise.value).toFixed(2);
  const next = readSettings();
  if (!next) return;
  settings = next;
  view.message.hidden = true;
  send({ type: "settings", settings });
}

// Three blobs mean three outputs and a multi-class hinge, for which the moons' rate of 1 diverges.
const SUGGESTED_LR: Partial<Record<DatasetName, number>> = { blobs: 0.1 };

controls.dataset.addEventListener("change", () => {
  const suggested = SUGGESTED_LR[controls.dataset.value as DatasetName] ?? DEFAULT_SETTINGS.lr;
  if (controls.optimizer.value === "sgd" && Number(controls.lr.value) !== suggested) {
    const usual = [DEFAULT_SETTINGS.lr, ...Object.values(SUGGESTED_LR)];
    if (usual.includes(Number(controls.lr.value))) controls.lr.value = String(suggested);
  }
});

for (const input of Object.values(controls)) {
  if (input instanceof HTMLInputElement || input instanceof HTMLSelectElement) {
    input.addEventListener("change", applySettings);
  }
}
controls.noise.addEventListener("input", () => {
  controls.noiseValue.value = Number(controls.noise.value).toFixed(2);
});
controls.hidden.addEventListener("input", () => {
  const parsed = parseHidden(controls.hidden.value);
  controls.hiddenError.hidden = typeof parsed !== "string";
  if (typeof parsed === "string") controls.hiddenError.textContent = parsed;
});
// While typing, an error already shown is brought up to date (or cleared); new ones wait for the change.
for (const key of Object.keys(numberFields) as NumberField[]) {
  numberFields[key].addEventListener("input", () => {
    if (!errorBeside(numberFields[key]).hidden) readNumberField(key);
  });
}

// ---- Run controls ---------------------------------------------------------------------

function togglePlay(): void {
  send({ type: running ? "pause" : "play" });
}

view.play.addEventListener("click", togglePlay);
view.step.addEventListener("click", () => send({ type: "step" }));
view.reset.addEventListener("click", () => send({ type: "reset" }));
view.regenerate.addEventListener("click", () => {
  controls.size.value = String(settings.size);
  settings = { ...settings, dataSeed: settings.dataSeed + 1 };
  send({ type: "settings", settings });
});
view.clear.addEventListener("click", () => send({ type: "clear" }));

document.addEventListener("keydown", (event) => {
  const target = event.target as HTMLElement;
  if (target.closest("input, select, textarea, button, [role=button]") || event.metaKey || event.ctrlKey)
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

// ---- Adding points --------------------------------------------------------------------

function buildClassPicker(nClasses: number): void {
  if (view.classPicker.childElementCount === nClasses) return;
  addClass = Math.min(addClass, nClasses - 1);
  view.classPicker.replaceChildren();
  for (let k = 0; k < nClasses; k++) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "class-button";
    button.dataset.class = String(k);
    button.setAttribute("aria-pressed", String(k === addClass));
    button.title = `Add points of class ${k}`;
    const swatch = document.createElement("canvas");
    swatch.width = 32;
    swatch.height = 32;
    const context = swatch.getContext("2d") as CanvasRenderingContext2D;
    context.scale(2, 2);
    marker(context, shapeOf(k), 8, 8, 5.5);
    context.fillStyle = CLASS_COLORS[k % CLASS_COLORS.length];
    context.fill();
    button.append(swatch, ` class ${k}`);
    button.addEventListener("click", () => {
      addClass = k;
      view.classPicker.querySelectorAll("button").forEach((other) => {
        other.setAttribute("aria-pressed", String(other === button));
      });
    });
    view.classPicker.append(button);
  }
}

view.plane.addEventListener("click", (event) => {
  if (!data) return;
  const box = view.plane.getBoundingClientRect();
  const [x, y] = toPlane(data.extent, box.width, event.clientX - box.left, event.clientY - box.top);
  send({ type: "addPoint", x, y, cls: addClass });
});

// ---- The neuron's computation graph ----------------------------------------------------

const diagram = new NetworkDiagram(view.network, (neuron) => {
  selectedNeuron = neuron;
  diagram.select(neuron);
  if (snapshot && data) {
    const active = firstActivePoint(snapshot.layers, neuron, data.points);
    if (active !== null) view.graphPoint.value = String(active);
  }
  view.graphPanel.hidden = false;
  void showGraph();
  view.graphPanel.scrollIntoView({ behavior: "smooth", block: "nearest" });
});

let graphRequest = 0;

async function showGraph(): Promise<void> {
  if (!selectedNeuron || !snapshot || !data) return;
  const request = ++graphRequest;
  dirty = true; // to ring the chosen point on the map
  const n = data.classes.length;
  const index = Math.min(Math.max(Math.round(view.graphPoint.valueAsNumber || 0), 0), Math.max(n - 1, 0));
  view.graphPoint.value = String(index);
  view.graphPoint.max = String(Math.max(n - 1, 0));
  const point = n > 0 ? [data.points[2 * index], data.points[2 * index + 1]] : [0, 0];
  const graph = neuronGraph(snapshot.layers, selectedNeuron, point);
  view.graphTitle.textContent = `Computation graph of ${graph.output.label}`;
  const where =
    n > 0
      ? `point #${index} (${point.map((v) => v.toFixed(3)).join(", ")}), class ${data.classes[index]}`
      : "(0, 0)";
  view.graphCaption.textContent =
    `${graph.formula} at ${where}, weights of step ${snapshot.step}. ` +
    `Each box shows a value's data and its grad: how much ${graph.output.label} changes per unit change of that value.` +
    (snapshot.layers[selectedNeuron.layer].activation === "relu" &&
    preActivation(snapshot.layers, selectedNeuron, point) <= 0
      ? " The weighted sum is negative here, so the ReLU outputs 0 and passes no gradient back: every grad is 0."
      : "");
  view.graphView.setAttribute("aria-busy", "true");
  try {
    const svg = await renderNeuronGraph(graph);
    if (request === graphRequest) view.graphView.innerHTML = svg;
  } catch (error) {
    if (request === graphRequest) view.graphView.textContent = `Could not draw the graph: ${String(error)}`;
  } finally {
    if (request === graphRequest) view.graphView.removeAttribute("aria-busy");
  }
}

view.graphRefresh.addEventListener("click", () => void showGraph());
view.graphPoint.addEventListener("change", () => void showGraph());
view.graphClose.addEventListener("click", () => {
  view.graphPanel.hidden = true;
  selectedNeuron = null;
  diagram.select(null);
});

// ---- Messages from the worker ---------------------------------------------------------

let dirty = true;

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "data":
      data = message;
      buildClassPicker(message.nClasses);
      view.pointCount.textContent = String(message.classes.length);
      view.pointCount.dataset.count = String(message.classes.length);
      break;
    case "snapshot":
      if (message.generation !== history.generation) {
        history.generation = message.generation;
        history.loss = [];
        history.accuracy = [];
      }
      for (let i = 0; i < message.historyLoss.length; i++) {
        history.loss.push(message.historyLoss[i]);
        history.accuracy.push(message.historyAccuracy[i]);
      }
      snapshot = message;
      setRunning(message.running);
      break;
    case "error":
      view.message.textContent = `Training stopped: ${message.message}. Try a smaller learning rate, then Reset.`;
      view.message.hidden = false;
      break;
  }
  dirty = true;
};

worker.onerror = (event) => {
  view.message.textContent = `The training worker failed: ${event.message}`;
  view.message.hidden = false;
};

function setRunning(next: boolean): void {
  if (next === running) return;
  running = next;
  view.play.textContent = running ? "❚❚ Pause" : "▶ Play";
  view.play.classList.toggle("running", running);
  // Frames per second are counted over whole seconds of running.
  frames = 0;
  framesSince = performance.now();
  if (!running) view.fps.textContent = "–";
}

// ---- Drawing --------------------------------------------------------------------------

const format = (digits: number) => (y: number) => (Number.isFinite(y) ? y.toFixed(digits) : "–");

let frames = 0;
let framesSince = performance.now();
let drawnWeights = "";

function draw(): void {
  const highlight = view.graphPanel.hidden ? null : Number(view.graphPoint.value);
  drawPlane(view.plane, data, snapshot, highlight);
  if (!snapshot) return;
  // A step on many points through a large network takes a while: how far the next one has got.
  const progress = snapshot.stepProgress > 0 ? ` +${Math.floor(snapshot.stepProgress * 100)}%` : "";
  view.stepCount.textContent = `${snapshot.step}${progress}`;
  view.stepCount.dataset.step = String(snapshot.step);
  view.stepCount.dataset.progress = String(snapshot.stepProgress);
  view.stepCount.title = progress ? `steps done; the next is ${progress.slice(2)} done` : "steps done";
  view.loss.textContent = formatNumber(snapshot.loss);
  const accuracy = snapshot.accuracy;
  view.accuracy.textContent = Number.isFinite(accuracy) ? `${(accuracy * 100).toFixed(1)}%` : "–";
  view.accuracy.dataset.value = Number.isFinite(accuracy) ? String(accuracy) : "";
  const sps = snapshot.stepsPerSecond;
  view.sps.textContent = snapshot.running ? sps.toFixed(sps < 10 ? 1 : 0) : "–";
  drawChart(view.lossChart, history.loss, { color: "#0072B2", log: true, floor: 1e-4, format: formatNumber });
  drawChart(view.accuracyChart, history.accuracy, { color: "#009E73", yMin: 0, yMax: 1, format: format(2) });
  // A large network has thousands of lines: they are redrawn only when the weights have changed.
  const weightsKey = `${snapshot.generation}:${snapshot.step}`;
  if (weightsKey !== drawnWeights) {
    drawnWeights = weightsKey;
    diagram.update(snapshot.layers);
  }
}

function frame(now: number): void {
  if (dirty) {
    dirty = false;
    draw();
    frames++;
  }
  if (now - framesSince >= 1000) {
    if (running) view.fps.textContent = ((frames * 1000) / (now - framesSince)).toFixed(0);
    frames = 0;
    framesSince = now;
  }
  requestAnimationFrame(frame);
}

window.addEventListener("resize", () => {
  dirty = true;
});

function initControls(): void {
  controls.dataset.value = settings.dataset;
  controls.noise.value = String(settings.noise);
  controls.noiseValue.value = settings.noise.toFixed(2);
  controls.size.value = String(settings.size);
  controls.hidden.value = settings.hidden.join(",");
  controls.activation.value = settings.activation;
  controls.modelSeed.value = String(settings.modelSeed);
  controls.loss.value = settings.loss;
  controls.optimizer.value = settings.optimizer;
  controls.lr.value = String(settings.lr);
  controls.decay.checked = settings.decay;
  controls.batch.value = settings.batchSize > 0 ? String(settings.batchSize) : "";
  controls.l2.value = String(settings.l2);
  controls.compiled.checked = settings.compiled;
}

initControls();
requestAnimationFrame(frame);
