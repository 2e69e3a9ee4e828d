// The GPT page's pictures, drawn on canvases: the loss curve with its baselines, one attention
// heatmap per head, the next-token bars and the embeddings' projection.
import { fitCanvas } from "./charts.js";
import { formatNumber } from "./format.js";
import type { Inspection } from "./gpt-protocol.js";

const AXIS = "#8a8f98";
const INK = "#2b2f36";
const GRID = "#e6e8ec";
const BLUE = "#0072B2";
const VERMILION = "#D55E00";
const FONT = "11px system-ui, -apple-system, 'Segoe UI', sans-serif";

/** How a token is written on the page: the end of a document, a space and a newline made visible. */
export function tokenLabel(token: string): string {
  if (token === "") return "end";
  if (token === " ") return "␣";
  if (token === "\n") return "↵";
  if (token === "\t") return "⇥";
  return token;
}

/** The losses and their moving average over the last `window` steps, kept as they arrive. */
export class LossHistory {
  readonly losses: number[] = [];
  readonly average: number[] = [];
  readonly heldOut: [number, number][] = [];
  private sum = 0;

  constructor(readonly window = 100) {}

  push(loss: number): void {
    this.losses.push(loss);
    this.sum += loss;
    const n = this.losses.length;
    if (n > this.window) this.sum -= this.losses[n - 1 - this.window];
    this.average.push(this.sum / Math.min(n, this.window));
  }
}

/**
 * Training loss (faint: each pixel column's range), its moving average, the held-out loss as
 * dots and the bigram model's as a dashed line. The y axis fits the average, the held-out and
 * the bigram, so the first steps' jumps do not flatten the rest.
 */
export function drawLossChart(canvas: HTMLCanvasElement, history: LossHistory, bigram: number): void {
  const context = fitCanvas(canvas);
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  context.clearRect(0, 0, width, height);
  context.font = FONT;
  const { losses, average, heldOut } = history;
  const n = losses.length;
  let yMin = Number.isFinite(bigram) ? bigram : Number.POSITIVE_INFINITY;
  let yMax = yMin;
  for (const y of [...average, ...heldOut.map(([, loss]) => loss)]) {
    if (!Number.isFinite(y)) continue;
    yMin = Math.min(yMin, y);
    yMax = Math.max(yMax, y);
  }
  if (!Number.isFinite(yMin)) [yMin, yMax] = [0, 1];
  const margin = Math.max((yMax - yMin) * 0.08, 0.05);
  yMin = Math.max(0, yMin - margin);
  yMax += margin;
  const left = 38;
  const right = width - 8;
  const top = 24;
  const bottom = height - 18;
  const xMax = Math.max(n, 100);
  const px = (x: number) => left + (x / xMax) * (right - left);
  const py = (y: number) =>
    bottom - ((Math.min(Math.max(y, yMin), yMax) - yMin) / (yMax - yMin)) * (bottom - top);

  context.textAlign = "right";
  context.textBaseline = "middle";
  for (const tick of [yMin, (yMin + yMax) / 2, yMax]) {
    context.strokeStyle = GRID;
    context.beginPath();
    context.moveTo(left, Math.round(py(tick)) + 0.5);
    context.lineTo(right, Math.round(py(tick)) + 0.5);
    context.stroke();
    context.fillStyle = AXIS;
    context.fillText(tick.toFixed(2), left - 5, py(tick));
  }
  context.textBaseline = "top";
  context.textAlign = "center";
  context.fillText("0", left, bottom + 4);
  context.textAlign = "right";
  context.fillText(`${xMax.toLocaleString("en-US")} steps`, right, bottom + 4);

  // Each pixel column: the range of the training losses in it, and the average at its end.
  const columns = Math.max(1, Math.floor(right - left));
  const perColumn = Math.max(1, n / columns);
  context.strokeStyle = "rgba(0, 114, 178, 0.13)";
  context.lineWidth = 1;
  context.beginPath();
  for (let start = 0; start < n; start += perColumn) {
    const end = Math.min(n, Math.floor(start + perColumn));
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    for (let i = Math.floor(start); i < Math.max(end, Math.floor(start) + 1); i++) {
      low = Math.min(low, losses[i]);
      high = Math.max(high, losses[i]);
    }
    const x = Math.round(px(start)) + 0.5;
    context.moveTo(x, py(high));
    context.lineTo(x, py(low) + 1);
  }
  context.stroke();
  if (n > 0) {
    context.strokeStyle = BLUE;
    context.lineWidth = 1.75;
    context.beginPath();
    for (let start = 0; start < n; start += perColumn) {
      const i = Math.min(n - 1, Math.floor(start + perColumn) - 1);
      if (start === 0) context.moveTo(px(i + 1), py(average[i]));
      else context.lineTo(px(i + 1), py(average[i]));
    }
    context.lineTo(px(n), py(average[n - 1]));
    context.stroke();
  }
  if (Number.isFinite(bigram)) {
    context.strokeStyle = VERMILION;
    context.lineWidth = 1.25;
    context.setLineDash([5, 4]);
    context.beginPath();
    context.moveTo(left, py(bigram));
    context.lineTo(right, py(bigram));
    context.stroke();
    context.setLineDash([]);
  }
  context.fillStyle = INK;
  for (const [step, loss] of heldOut) {
    context.beginPath();
    context.arc(px(step), py(loss), 3, 0, 2 * Math.PI);
    context.fill();
  }
  drawLegend(context, right, 3);
}

function drawLegend(context: CanvasRenderingContext2D, right: number, top: number): void {
  const entries: [string, (x: number, y: number) => void][] = [
    ["moving average", (x, y) => line(context, x, y, BLUE, [])],
    ["held-out", (x, y) => dot(context, x + 7, y, INK)],
    ["bigram", (x, y) => line(context, x, y, VERMILION, [4, 3])],
  ];
  context.textAlign = "left";
  context.textBaseline = "middle";
  let x = right;
  for (const [label] of entries) x -= context.measureText(label).width + 26;
  context.fillStyle = "rgba(255, 255, 255, 0.85)";
  context.fillRect(x - 4, top - 2, right - x + 6, 16);
  for (const [label, mark] of entries) {
    mark(x, top + 6);
    context.fillStyle = INK;
    context.fillText(label, x + 18, top + 6);
    x += context.measureText(label).width + 26;
  }
}

function line(context: CanvasRenderingContext2D, x: number, y: number, color: string, dash: number[]): void {
  context.strokeStyle = color;
  context.lineWidth = 1.75;
  context.setLineDash(dash);
  context.beginPath();
  context.moveTo(x, y);
  context.lineTo(x + 14, y);
  context.stroke();
  context.setLineDash([]);
}

function dot(context: CanvasRenderingContext2D, x: number, y: number, color: string): void {
  context.fillStyle = color;
  context.beginPath();
  context.arc(x, y, 3, 0, 2 * Math.PI);
  context.fill();
}

/** Draws one heatmap per head of every layer into `container`, replacing what was there. */
export function drawAttention(container: HTMLElement, inspection: Inspection): void {
  const { attention, labels } = inspection;
  const n = labels.length;
  // One row of heatmaps per layer, as wide as the panel allows.
  const labelWidth = 16;
  const heads = attention[0]?.length ?? 1;
  const room = (container.clientWidth || 460) / heads - labelWidth - 12;
  const cell = Math.max(6, Math.min(22, Math.floor(room / n)));
  const side = labelWidth + n * cell + 2;
  const ratio = window.devicePixelRatio || 1;
  const figures: HTMLElement[] = [];
  attention.forEach((heads, layer) => {
    heads.forEach((rows, head) => {
      const figure = document.createElement("figure");
      figure.className = "head";
      const canvas = document.createElement("canvas");
      canvas.width = side * ratio;
      canvas.height = side * ratio;
      canvas.style.width = `${side}px`;
      canvas.style.height = `${side}px`;
      canvas.dataset.layer = String(layer);
      canvas.dataset.head = String(head);
      canvas.dataset.positions = String(n);
      const context = canvas.getContext("2d") as CanvasRenderingContext2D;
      context.scale(ratio, ratio);
      context.font = FONT;
      context.textAlign = "center";
      context.textBaseline = "middle";
      context.fillStyle = INK;
      for (let t = 0; t < n; t++) {
        const label = labels[t] === "BOS" ? "·" : tokenLabel(labels[t]);
        context.fillText(label, labelWidth / 2, labelWidth + t * cell + cell / 2);
        context.fillText(label, labelWidth + t * cell + cell / 2, labelWidth / 2);
      }
      for (let t = 0; t < n; t++) {
        for (let s = 0; s < n; s++) {
          const weight = s <= t ? rows[t][s] : Number.NaN;
          context.fillStyle = Number.isNaN(weight) ? "#f4f4f4" : shade(weight);
          context.fillRect(labelWidth + s * cell, labelWidth + t * cell, cell - 1, cell - 1);
        }
      }
      const caption = document.createElement("figcaption");
      caption.textContent = attention.length > 1 ? `layer ${layer} · head ${head}` : `head ${head}`;
      figure.append(canvas, caption);
      figures.push(figure);
    });
  });
  container.replaceChildren(...figures);
}

/** White for 0 to the page's blue for 1. */
function shade(weight: number): string {
  const w = Math.min(Math.max(weight, 0), 1);
  const mix = (to: number) => Math.round(255 + (to - 255) * w);
  return `rgb(${mix(0)}, ${mix(114)}, ${mix(178)})`;
}

/** The next-token candidates as bars; clicking one calls `choose` with its token ("" is the end). */
export function drawCandidates(
  container: HTMLElement,
  candidates: Inspection["candidates"],
  choose: (token: string) => void,
): void {
  const bars = candidates.map(({ token, probability }) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "bar";
    button.dataset.token = token;
    button.dataset.probability = String(probability);
    button.title = token === "" ? "the end of the document" : `append ${JSON.stringify(token)}`;
    button.disabled = token === "";
    const label = document.createElement("span");
    label.className = "token";
    label.textContent = tokenLabel(token);
    const track = document.createElement("span");
    track.className = "track";
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.width = `${(probability * 100).toFixed(1)}%`;
    track.append(fill);
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = `${(probability * 100).toFixed(1)}%`;
    button.append(label, track, value);
    button.addEventListener("click", () => choose(token));
    return button;
  });
  container.replaceChildren(...bars);
}

/**
 * Each token at its place on the characters' first two principal components, each axis
 * scaled to fill the canvas. BOS is not a character and may lie far off: it is drawn at the
 * edge, in its direction, when it does not fit.
 */
export function drawEmbedding(
  canvas: HTMLCanvasElement,
  projection: readonly number[],
  labels: readonly string[],
  explained: readonly [number, number],
): void {
  const context = fitCanvas(canvas);
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  context.clearRect(0, 0, width, height);
  context.font = FONT;
  const characters = labels.length - 1;
  let xExtent = 1e-9;
  let yExtent = 1e-9;
  for (let i = 0; i < characters; i++) {
    xExtent = Math.max(xExtent, Math.abs(projection[2 * i]));
    yExtent = Math.max(yExtent, Math.abs(projection[2 * i + 1]));
  }
  const pad = 18;
  const cx = width / 2;
  const cy = height / 2;
  const sx = (width / 2 - pad) / xExtent;
  const sy = (height / 2 - pad) / yExtent;
  context.strokeStyle = GRID;
  context.beginPath();
  context.moveTo(pad, cy + 0.5);
  context.lineTo(width - pad, cy + 0.5);
  context.moveTo(cx + 0.5, pad);
  context.lineTo(cx + 0.5, height - pad);
  context.stroke();
  context.fillStyle = AXIS;
  context.textAlign = "right";
  context.textBaseline = "bottom";
  context.fillText(`PC1 (${formatNumber(explained[0] * 100)}% of the variance)`, width - pad, cy - 3);
  context.textAlign = "left";
  context.textBaseline = "top";
  context.fillText(`PC2 (${formatNumber(explained[1] * 100)}%)`, cx + 4, 2);
  context.textAlign = "center";
  context.textBaseline = "middle";
  for (let i = 0; i < labels.length; i++) {
    let x = projection[2 * i] * sx;
    let y = -projection[2 * i + 1] * sy;
    const label = labels[i];
    if (label === "BOS") {
      // Shrunk towards the centre until it fits: its direction is kept.
      const overflow = Math.max(Math.abs(x) / (cx - pad), Math.abs(y) / (cy - pad), 1);
      x /= overflow;
      y /= overflow;
      context.fillStyle = VERMILION;
      context.font = `bold ${FONT}`;
      context.fillText(overflow > 1 ? "BOS →" : "BOS", cx + x, cy + y);
      continue;
    }
    context.fillStyle = "aeiouy".includes(label) ? BLUE : INK;
    context.font = "13px system-ui, sans-serif";
    context.fillText(tokenLabel(label), cx + x, cy + y);
  }
}
