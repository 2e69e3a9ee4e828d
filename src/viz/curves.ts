// Training curves as SVG text: loss and accuracy against the step, each a panel drawn as its
// layers (grid and ticks, frame and name, one line per series, the legend above it). Synchronous
// and free of Node built-ins, like the decision boundary, so a notebook or a browser can call it
// inside a training loop.
import { checkOptions } from "../index.js";
import { type Box, checkSize, formatTick, niceTicks, titleText } from "./plots.js";
import { CHAR_WIDTH, extent, INK, MUTED, round, svgOpen, text } from "./svg.js";

/** One row of a training history, as `fit` returns (extra fields are ignored). */
export interface CurvePoint {
  step: number;
  loss: number;
  accuracy: number;
  validationLoss?: number;
  validationAccuracy?: number;
}

export interface TrainingCurvesOptions {
  /** Size of the picture in pixels; default 560 × 420. */
  width?: number;
  height?: number;
  /** Default "Training"; an empty string draws no title. */
  title?: string;
}

const TRAIN_COLOR = "#0072B2";
const VALIDATION_COLOR = "#D55E00";

/** Loss (top panel) and accuracy (bottom panel) against the step, with validation where measured. */
export function trainingCurvesSvg(
  history: readonly CurvePoint[],
  options: TrainingCurvesOptions = {},
): string {
  checkOptions("trainingCurvesSvg", options, { width: true, height: true, title: true });
  if (!Array.isArray(history) || history.length === 0) {
    throw new RangeError("trainingCurvesSvg: the history is empty (train for at least one step)");
  }
  const width = checkSize("width", options.width ?? 560);
  const height = checkSize("height", options.height ?? 420);
  const title = options.title ?? "Training";
  const top = title ? 38 : 14;
  const left = 56;
  const right = width - 18;
  const gap = 46;
  // Above each panel: its name and legend (16 px); below the lower one: tick labels and "step" (44 px).
  const panelHeight = (height - top - 16 - 44 - gap) / 2;
  if (panelHeight < 40 || right - left < 80) {
    throw new RangeError(`trainingCurvesSvg: ${width} × ${height} leaves no room for the plot`);
  }
  // Loops rather than Math.min(...values): spreading a long history overflows the call stack.
  let [stepMin, stepMax] = extent(history, (h) => h.step);
  if (!(stepMax > stepMin))
    [stepMin, stepMax] = Number.isFinite(stepMin) ? [stepMin - 1, stepMin + 1] : [0, 1];
  const steps: StepAxis = {
    px: (s: number) => left + ((s - stepMin) / (stepMax - stepMin)) * (right - left),
    ticks: niceTicks(stepMin, stepMax, Math.max(2, Math.floor((right - left) / 80))).filter(
      (s) => s >= stepMin && s <= stepMax,
    ),
    width,
  };

  const out: string[] = [svgOpen(width, height, "micrograd-curves")];
  if (title) out.push(titleText(width, title));
  const lossBox = { left, right, top: top + 16, bottom: top + 16 + panelHeight };
  const accuracyBox = { left, right, top: lossBox.bottom + gap, bottom: lossBox.bottom + gap + panelHeight };
  for (const panel of [lossPanel(history, lossBox), accuracyPanel(accuracyBox)]) {
    out.push(panelSvg(panel, history, steps));
  }
  out.push(text((left + right) / 2, height - 8, "step", { size: 11, anchor: "middle", color: MUTED }));
  out.push("</svg>");
  return out.join("\n");
}

/** The horizontal axis both panels share. */
interface StepAxis {
  /** The x pixel of a step. */
  px: (step: number) => number;
  ticks: number[];
  /** The picture's width, which a tick label must stay inside. */
  width: number;
}

interface Series {
  name: string;
  color: string;
  pick: (h: CurvePoint) => number | undefined;
}

/** One panel: where it is drawn, the values its vertical axis spans, and the series in it. */
interface Panel {
  name: string;
  box: Box;
  range: [number, number];
  ticks: number[];
  format: (value: number) => string;
  series: Series[];
}

function lossPanel(history: readonly CurvePoint[], box: Box): Panel {
  const [trainingMin, trainingMax] = extent(history, (h) => h.loss);
  const [validationMin, validationMax] = extent(history, (h) => h.validationLoss);
  const lossMax = Math.max(trainingMax, validationMax);
  const lossMin = Math.min(0, trainingMin, validationMin);
  const ticks = Number.isFinite(lossMax) ? niceTicks(lossMin, lossMax, 4) : [0, 1];
  return {
    name: "loss",
    box,
    range: [ticks[0], ticks[ticks.length - 1]],
    ticks,
    format: (v: number) => formatTick(v, ticks[1] - ticks[0]),
    series: [
      { name: "training loss", color: TRAIN_COLOR, pick: (h: CurvePoint) => h.loss },
      { name: "validation loss", color: VALIDATION_COLOR, pick: (h: CurvePoint) => h.validationLoss },
    ],
  };
}

function accuracyPanel(box: Box): Panel {
  return {
    name: "accuracy",
    box,
    range: [0, 1],
    ticks: [0, 0.25, 0.5, 0.75, 1],
    format: (v: number) => `${Math.round(v * 100)}%`,
    series: [
      { name: "training accuracy", color: TRAIN_COLOR, pick: (h: CurvePoint) => h.accuracy },
      { name: "validation accuracy", color: VALIDATION_COLOR, pick: (h: CurvePoint) => h.validationAccuracy },
    ],
  };
}

function panelSvg(panel: Panel, history: readonly CurvePoint[], steps: StepAxis): string {
  const { box, range } = panel;
  const py = (v: number) => box.bottom - ((v - range[0]) / (range[1] - range[0])) * (box.bottom - box.top);
  const g: string[] = [`<g class="panel" data-panel="${panel.name}">`];
  for (const t of panel.ticks) {
    const y = round(py(t));
    g.push(
      `<line x1="${box.left}" x2="${box.right}" y1="${y}" y2="${y}" stroke="#e3e3e3"/>`,
      text(box.left - 6, y + 3.5, panel.format(t), { size: 10, anchor: "end", color: MUTED }),
    );
  }
  for (const s of steps.ticks) {
    const x = round(steps.px(s));
    const label = formatTick(s, steps.ticks[1] - steps.ticks[0]);
    // A long last label (200000) would run off the picture: it moves left just enough.
    const labelX = Math.min(x, steps.width - 2 - (label.length * 10 * CHAR_WIDTH) / 2);
    g.push(
      `<line x1="${x}" x2="${x}" y1="${box.bottom}" y2="${box.bottom + 4}" stroke="${INK}"/>`,
      text(labelX, box.bottom + 15, label, { size: 10, anchor: "middle", color: MUTED }),
    );
  }
  g.push(
    `<rect x="${box.left}" y="${box.top}" width="${box.right - box.left}" height="${box.bottom - box.top}" fill="none" stroke="#999999"/>`,
    text(box.left, box.top - 6, panel.name, { size: 12, weight: "bold" }),
  );
  const drawn: Series[] = [];
  for (const series of panel.series) {
    const lines = seriesLines(series, history, box, steps.px, py);
    if (lines.length === 0) continue;
    g.push(...lines);
    drawn.push(series);
  }
  g.push(...panelLegend(drawn, box));
  g.push("</g>");
  return g.join("\n");
}

/** A series as a polyline (and a dot per measurement when sparse); nothing when it has no data. */
function seriesLines(
  series: Series,
  history: readonly CurvePoint[],
  box: Box,
  px: (step: number) => number,
  py: (value: number) => number,
): string[] {
  const points = history.filter((h) => Number.isFinite(series.pick(h)));
  if (points.length === 0) return [];
  // About four points per pixel column at most, whatever the length of the run.
  const shown = decimate(points, (h) => series.pick(h) as number, Math.ceil(box.right - box.left));
  const coords = shown.map((h) => `${round(px(h.step))},${round(py(series.pick(h) as number))}`);
  const lines = [
    `<polyline class="series" data-series="${series.name}" points="${coords.join(" ")}" fill="none" ` +
      `stroke="${series.color}" stroke-width="1.8" stroke-linejoin="round"/>`,
  ];
  // Sparse series (validation is measured now and then) get a dot at each measurement.
  if (points.length < history.length && points.length <= 60) {
    for (const c of coords) {
      const [x, y] = c.split(",");
      lines.push(`<circle cx="${x}" cy="${y}" r="2.5" fill="${series.color}"/>`);
    }
  }
  return lines;
}

/** The legend reads right to left above the panel, one entry per series drawn. */
function panelLegend(drawn: readonly Series[], box: Box): string[] {
  const lines: string[] = [];
  let lx = box.right;
  for (const series of [...drawn].reverse()) {
    const textWidth = series.name.length * 10 * CHAR_WIDTH;
    lx -= textWidth;
    lines.push(
      text(lx, box.top - 6, series.name, { size: 10 }),
      `<line x1="${round(lx - 20)}" x2="${round(lx - 4)}" y1="${box.top - 9.5}" y2="${box.top - 9.5}" stroke="${series.color}" stroke-width="2"/>`,
    );
    lx -= 34;
  }
  return lines;
}

/**
 * A long series reduced for drawing: cut into `buckets` runs of consecutive points, each run
 * keeps its first, lowest, highest and last point, in their order. A line through them looks
 * like the line through every point, spikes included, and costs the same for any length.
 */
export function decimate<T>(points: readonly T[], value: (point: T) => number, buckets: number): T[] {
  const n = points.length;
  if (n <= 4 * buckets) return points.slice();
  const kept: T[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * n) / buckets);
    const end = Math.floor(((b + 1) * n) / buckets);
    let low = start;
    let high = start;
    for (let i = start + 1; i < end; i++) {
      if (value(points[i]) < value(points[low])) low = i;
      if (value(points[i]) > value(points[high])) high = i;
    }
    for (const i of new Set([start, Math.min(low, high), Math.max(low, high), end - 1])) kept.push(points[i]);
  }
  return kept;
}
