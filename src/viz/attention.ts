// Pictures of a language model: where each attention head looks (one heatmap per head), and
// the training loss beside the bigram baseline. SVG text, written by hand like plots.ts.

import { checkOptions } from "../index.js";
import { CHAR_WIDTH, escapeXml, extent, INK, MUTED, round, shortened, svgOpen, text } from "./svg.js";

/** The most characters a token's label shows beside the heatmap. */
const MAX_LABEL = 12;

export interface AttentionOptions {
  /** Default `attention of "<text>"`; an empty string draws no title. */
  title?: string;
  /** Side of one cell in pixels (default 22). */
  cell?: number;
}

/**
 * Attention weights as heatmaps, one per head: row t is the position reading (its input token
 * on the left), column s a position it may look at; the darker the cell, the more of position
 * s's value goes into position t's output. Each row sums to 1; the future (s > t) stays blank.
 *
 * `heads[h][t][s]` is head h's weight from query t to key s (GPT.attentionWeights(...)[layer]);
 * `labels[t]` is the token read at position t.
 */
export function attentionSvg(
  heads: readonly (readonly (readonly number[])[])[],
  labels: readonly string[],
  options: AttentionOptions = {},
): string {
  checkOptions("attentionSvg", options, { title: true, cell: true });
  if (!Array.isArray(heads) || heads.length === 0) {
    throw new RangeError("attentionSvg: no heads to draw");
  }
  const n = labels.length;
  if (n === 0) throw new RangeError("attentionSvg: no positions to draw");
  heads.forEach((rows, h) => {
    if (
      !Array.isArray(rows) ||
      rows.length !== n ||
      rows.some((row, t) => !Array.isArray(row) || row.length !== t + 1)
    ) {
      throw new RangeError(
        `attentionSvg: head ${h} must have ${n} rows, row t holding t + 1 weights (one per position up to t)`,
      );
    }
  });
  const cell = options.cell ?? 22;
  if (!(cell >= 4 && cell <= 200))
    throw new RangeError(`attentionSvg: cell must be 4 to 200 pixels, got ${cell}`);
  const title = options.title ?? `attention of "${shortened(labels.filter((l) => l !== "BOS").join(""))}"`;
  // Labels cut, so that a long token cannot make the picture wide.
  const shown = labels.map((label) => shortened(label, MAX_LABEL));
  const labelWidth = extent(shown, (l) => l.length)[1] * 11 * CHAR_WIDTH + 10;
  const panel = n * cell;
  const gap = 28;
  const top = (title ? 40 : 14) + 18;
  const left = 10 + labelWidth;
  const width = Math.ceil(left + heads.length * panel + (heads.length - 1) * gap + 14);
  const height = Math.ceil(top + panel + labelWidth + 34);
  const out: string[] = [svgOpen(width, height, "micrograd-attention")];
  if (title) out.push(text(width / 2, 24, title, { size: 14, anchor: "middle", weight: "bold" }));
  heads.forEach((rows, h) => {
    const x0 = left + h * (panel + gap);
    const g: string[] = [`<g class="head" data-head="${h}">`];
    g.push(text(x0 + panel / 2, top - 8, `head ${h}`, { size: 12, anchor: "middle", weight: "bold" }));
    for (let t = 0; t < n; t++) {
      for (let s = 0; s < n; s++) {
        const x = round(x0 + s * cell);
        const y = round(top + t * cell);
        if (s > t) {
          g.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="#f4f4f4"/>`);
          continue;
        }
        const w = rows[t][s];
        g.push(
          `<rect class="weight" x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${shade(w)}">` +
            `<title>${escapeXml(`${shown[t]} (position ${t}) → ${shown[s]} (position ${s}): ${w.toFixed(3)}`)}</title></rect>`,
        );
      }
    }
    g.push(`<rect x="${x0}" y="${top}" width="${panel}" height="${panel}" fill="none" stroke="#999999"/>`);
    // Row labels on the first panel only; column labels under every panel.
    for (let t = 0; t < n; t++) {
      const mid = top + t * cell + cell / 2 + 4;
      if (h === 0) g.push(text(x0 - 6, mid, shown[t], { size: 11, anchor: "end" }));
      const cx = round(x0 + t * cell + cell / 2 + 4);
      const cy = round(top + panel + 6);
      g.push(
        `<text transform="translate(${cx} ${cy}) rotate(-90)" font-size="11" fill="${INK}" text-anchor="end">${escapeXml(shown[t])}</text>`,
      );
    }
    g.push("</g>");
    out.push(g.join("\n"));
  });
  out.push(
    text(
      left,
      height - 10,
      "rows: the position reading; columns: the positions it looks at; darker = more weight",
      { size: 10, color: MUTED },
    ),
  );
  out.push("</svg>");
  return out.join("\n");
}

export interface LossCurveOptions {
  /** Default "Training loss". */
  title?: string;
  width?: number;
  height?: number;
  /** Steps averaged into the smooth line (default: a tenth of the run, at most 200). */
  window?: number;
  /** Horizontal reference lines, such as the bigram model's held-out loss. */
  baselines?: { label: string; value: number }[];
  /** The model's loss on held-out documents, drawn as a point at the last step. */
  heldOut?: number;
  /**
   * The held-out loss measured during training (`step`: steps done when it was measured, from 1),
   * drawn as its own series beside the training loss: where it turns up, the model overfits.
   */
  heldOutCurve?: readonly { step: number; loss: number }[];
}

const RAW_COLOR = "#9ecae1";
const SMOOTH_COLOR = "#0072B2";
const BASELINE_COLORS = ["#D55E00", "#009E73", "#CC79A7"];
const HELD_OUT_COLOR = "#E69F00";

/** The loss of every step (faint), its moving average, baselines as dashed lines, and the held-out loss. */
export function lossCurveSvg(losses: readonly number[], options: LossCurveOptions = {}): string {
  const { width, height, curve } = checkLossCurve(losses, options);
  const title = options.title ?? "Training loss";
  const baselines = options.baselines ?? [];
  const windowSize = options.window ?? Math.max(1, Math.min(200, Math.round(losses.length / 10)));
  const smooth = movingAverage(losses, windowSize);
  const legend = lossLegend(windowSize, baselines, curve, options.heldOut);
  const legendTop = title ? 40 : 14;
  const { placed, lines } = placeLegend(legend, 52, width - 16);
  const box = { left: 52, right: width - 16, top: legendTop + lines * 14 + 6, bottom: height - 40 };
  const marks = [
    ...baselines.map((b) => b.value),
    ...(options.heldOut === undefined ? [] : [options.heldOut]),
    ...curve.map((p) => p.loss),
  ];
  const { px, py, low, high } = lossScale(losses, smooth, marks, box);
  const steps = losses.length;
  const out: string[] = [svgOpen(width, height, "micrograd-loss")];
  if (title) out.push(text(width / 2, 22, title, { size: 14, anchor: "middle", weight: "bold" }));
  out.push(...lossAxes(box, steps, low, high, px, py));
  out.push(
    `<rect x="${box.left}" y="${box.top}" width="${box.right - box.left}" height="${box.bottom - box.top}" fill="none" stroke="#999999"/>`,
    polyline("raw", losses, px, py, RAW_COLOR, 1),
    polyline("average", smooth, px, py, SMOOTH_COLOR, 2),
  );
  baselines.forEach((b, i) => {
    const y = round(py(b.value));
    out.push(
      `<line class="baseline" data-value="${b.value}" x1="${box.left}" x2="${box.right}" y1="${y}" y2="${y}" stroke="${baselineColor(i)}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    );
  });
  out.push(...heldOutMarks(curve, options.heldOut, steps, px, py));
  legend.forEach(([label, color, dash], i) => {
    const { x, line } = placed[i];
    const y = legendTop + line * 14 + 10;
    out.push(
      dash === "dot"
        ? `<circle cx="${round(x + 8)}" cy="${y - 3.5}" r="3.5" fill="${color}"/>`
        : `<line x1="${round(x)}" x2="${round(x + 16)}" y1="${y - 3.5}" y2="${y - 3.5}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`,
      text(x + 20, y, label, { size: 10 }),
    );
  });
  out.push(
    text((box.left + box.right) / 2, height - 8, "step", { size: 11, anchor: "middle", color: MUTED }),
  );
  out.push("</svg>");
  return out.join("\n");
}

type Point = (i: number) => number;
type Box = { left: number; right: number; top: number; bottom: number };
/** A legend entry: its label, colour and dash ("" solid, "dot" a point). */
type LegendEntry = [string, string, string];

function checkLossCurve(losses: readonly number[], options: LossCurveOptions) {
  checkOptions("lossCurveSvg", options, {
    title: true,
    width: true,
    height: true,
    window: true,
    baselines: true,
    heldOut: true,
    heldOutCurve: true,
  });
  if (!Array.isArray(losses) || losses.length === 0) {
    throw new RangeError("lossCurveSvg: no losses to draw (train for at least one step)");
  }
  const bad = losses.findIndex((l) => !Number.isFinite(l));
  if (bad >= 0) throw new RangeError(`lossCurveSvg: losses[${bad}] is ${losses[bad]}, not a finite number`);
  const width = options.width ?? 560;
  const height = options.height ?? 320;
  if (!(width >= 200 && width <= 10000 && height >= 150 && height <= 10000)) {
    throw new RangeError(`lossCurveSvg: ${width} × ${height} is not 200..10000 × 150..10000 pixels`);
  }
  const curve = options.heldOutCurve ?? [];
  const badPoint = curve.findIndex(
    (p) => !(Number.isFinite(p.loss) && p.step >= 1 && p.step <= losses.length),
  );
  if (badPoint >= 0) {
    throw new RangeError(
      `lossCurveSvg: heldOutCurve[${badPoint}] is ${JSON.stringify(curve[badPoint])}, not a finite loss at a step from 1 to ${losses.length}`,
    );
  }
  return { width, height, curve };
}

function lossLegend(
  windowSize: number,
  baselines: readonly { label: string; value: number }[],
  curve: readonly { step: number; loss: number }[],
  heldOut: number | undefined,
): LegendEntry[] {
  const legend: LegendEntry[] = [
    ["loss of each step", RAW_COLOR, ""],
    [`average of ${windowSize}`, SMOOTH_COLOR, ""],
  ];
  baselines.forEach((b, i) => {
    legend.push([`${b.label} ${b.value.toFixed(3)}`, baselineColor(i), "6 4"]);
  });
  if (curve.length > 0) legend.push([`held-out during training`, HELD_OUT_COLOR, ""]);
  if (heldOut !== undefined) legend.push([`held-out ${heldOut.toFixed(3)}`, INK, "dot"]);
  return legend;
}

/** The legend fills lines above the plot, as many as it needs. */
function placeLegend(legend: readonly LegendEntry[], left: number, right: number) {
  const placed: { x: number; line: number }[] = [];
  let lx = left + 4;
  let lines = 1;
  for (const [label] of legend) {
    const labelWidth = label.length * 10 * CHAR_WIDTH;
    if (lx > left + 4 && lx + 20 + labelWidth > right) {
      lx = left + 4;
      lines += 1;
    }
    placed.push({ x: lx, line: lines - 1 });
    lx += 20 + labelWidth + 14;
  }
  return { placed, lines };
}

/** The raw losses jump around; the axis follows the averages and the marks, and clips the raw line. */
function lossScale(losses: readonly number[], smooth: readonly number[], marks: readonly number[], box: Box) {
  const [smoothLow, smoothHigh] = extent(smooth, (v) => v);
  const [marksLow, marksHigh] = extent(marks, (v) => v);
  const low = Math.min(smoothLow, marksLow) - 0.1;
  const top = Math.max(smoothHigh, marksHigh);
  const high = Math.max(top, Math.min(extent(losses, (v) => v)[1], top + 0.5)) + 0.05;
  const steps = losses.length;
  const px: Point = (i) => box.left + (steps === 1 ? 0.5 : i / (steps - 1)) * (box.right - box.left);
  const py: Point = (v) =>
    box.bottom - ((Math.min(Math.max(v, low), high) - low) / (high - low)) * (box.bottom - box.top);
  return { px, py, low, high };
}

function lossAxes(box: Box, steps: number, low: number, high: number, px: Point, py: Point): string[] {
  const out: string[] = [];
  for (const tick of ticks(low, high, 5)) {
    const y = round(py(tick));
    out.push(
      `<line x1="${box.left}" x2="${box.right}" y1="${y}" y2="${y}" stroke="#e3e3e3"/>`,
      text(box.left - 6, y + 3.5, tick.toFixed(1), { size: 10, anchor: "end", color: MUTED }),
    );
  }
  for (const tick of ticks(1, steps, 5)) {
    if (tick < 1 || tick > steps) continue;
    const x = round(px(tick - 1));
    out.push(
      `<line x1="${x}" x2="${x}" y1="${box.bottom}" y2="${box.bottom + 4}" stroke="${INK}"/>`,
      text(x, box.bottom + 15, String(tick), { size: 10, anchor: "middle", color: MUTED }),
    );
  }
  return out;
}

function heldOutMarks(
  curve: readonly { step: number; loss: number }[],
  heldOut: number | undefined,
  steps: number,
  px: Point,
  py: Point,
): string[] {
  const out: string[] = [];
  if (curve.length > 0) {
    const points = curve.map((p) => `${round(px(p.step - 1))},${round(py(p.loss))}`);
    out.push(
      `<polyline class="held-out-curve" points="${points.join(" ")}" fill="none" stroke="${HELD_OUT_COLOR}" stroke-width="2"/>`,
      ...curve.map(
        (p) =>
          `<circle class="held-out-point" data-step="${p.step}" data-value="${p.loss}" cx="${round(px(p.step - 1))}" cy="${round(py(p.loss))}" r="2.5" fill="${HELD_OUT_COLOR}"/>`,
      ),
    );
  }
  if (heldOut !== undefined) {
    out.push(
      `<circle class="held-out" data-value="${heldOut}" cx="${round(px(steps - 1))}" cy="${round(py(heldOut))}" r="4" fill="${INK}"/>`,
    );
  }
  return out;
}

function baselineColor(i: number): string {
  return BASELINE_COLORS[i % BASELINE_COLORS.length];
}

/** The mean of each point and up to window − 1 points before it. */
export function movingAverage(values: readonly number[], window: number): number[] {
  if (!Number.isInteger(window) || window < 1) {
    throw new RangeError(`movingAverage: window must be a positive integer, got ${window}`);
  }
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    if (i >= window) sum -= values[i - window];
    out.push(sum / Math.min(i + 1, window));
  }
  return out;
}

function polyline(
  name: string,
  values: readonly number[],
  px: (i: number) => number,
  py: (v: number) => number,
  color: string,
  strokeWidth: number,
): string {
  // At most about 1500 points: more are invisible and make the file large.
  const stride = Math.max(1, Math.ceil(values.length / 1500));
  const points: string[] = [];
  for (let i = 0; i < values.length; i += stride) points.push(`${round(px(i))},${round(py(values[i]))}`);
  if ((values.length - 1) % stride !== 0) {
    points.push(`${round(px(values.length - 1))},${round(py(values[values.length - 1]))}`);
  }
  return `<polyline class="series" data-series="${name}" points="${points.join(" ")}" fill="none" stroke="${color}" stroke-width="${strokeWidth}" stroke-linejoin="round"/>`;
}

/** White (0) to dark blue (1). */
function shade(weight: number): string {
  const w = Math.min(Math.max(weight, 0), 1);
  const mix = (from: number, to: number) => Math.round(from + (to - from) * w);
  const hex = (v: number) => v.toString(16).padStart(2, "0");
  return `#${hex(mix(255, 8))}${hex(mix(255, 48))}${hex(mix(255, 107))}`;
}

function ticks(min: number, max: number, count: number): number[] {
  const raw = (max - min) / count;
  if (!(raw > 0)) return [min];
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => (max - min) / s <= count) ?? 10 * power;
  const out: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}
