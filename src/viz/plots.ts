// Plots as SVG text, written by hand: the decision boundary of a 2-input classifier and the
// training curves. Synchronous and free of Node built-ins, so a notebook or a browser can call
// them inside a training loop (see "Design notes" in the README for why not a plotting library).
import { checkOptions, type Dataset, type MLP, predict, scores, softmax } from "../index.js";
import { CHAR_WIDTH, escapeXml, extent, INK, MUTED, round, svgOpen, text } from "./svg.js";

/**
 * Okabe–Ito colours, distinguishable with the common colour-vision deficiencies.
 * Class k is drawn in CLASS_COLORS[k % length] and with MARKER_SHAPES[k % length].
 */
export const CLASS_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442"];
const MARKER_SHAPES = ["circle", "square", "triangle", "diamond", "triangleDown"] as const;
type Shape = (typeof MARKER_SHAPES)[number];

export interface DecisionBoundaryOptions {
  /** Size of the picture in pixels; default 520 × 440. */
  width?: number;
  height?: number;
  /** Grid cells per side of the plane; default 60. */
  resolution?: number;
  /** Default: "Decision boundary · accuracy NN%". An empty string draws no title. */
  title?: string;
  /** Draw the legend at the right; default true. */
  legend?: boolean;
}

/**
 * The plane as the model sees it: each grid cell coloured by the model's score there
 * (one output: hue by sign, depth by size, with the line score = 0; K outputs: the
 * predicted class, paler where the softmax is less sure; 12 depths per class), the data
 * on top (colour and shape by class, misclassified points ringed), axes and a legend.
 */
export function decisionBoundarySvg(
  model: MLP,
  data: Dataset,
  options: DecisionBoundaryOptions = {},
): string {
  checkOptions("decisionBoundarySvg", options, {
    width: true,
    height: true,
    resolution: true,
    title: true,
    legend: true,
  });
  if (model.nin !== 2) {
    throw new RangeError(`decisionBoundarySvg: draws models with 2 inputs; this one has ${model.nin}`);
  }
  if (!data || !Array.isArray(data.X) || data.X.length === 0 || data.X.length !== data.y.length) {
    throw new TypeError("decisionBoundarySvg: expected a non-empty data set { X, y, nClasses }");
  }
  const width = checkSize("width", options.width ?? 520);
  const height = checkSize("height", options.height ?? 440);
  const resolution = options.resolution ?? 60;
  if (!(Number.isInteger(resolution) && resolution >= 2 && resolution <= 1000)) {
    throw new RangeError(
      `decisionBoundarySvg: resolution must be an integer from 2 to 1000, got ${resolution}`,
    );
  }

  const predicted = predict(model, data.X);
  const wrong = predicted.filter((c, i) => c !== data.y[i]).length;
  const accuracy = 1 - wrong / data.X.length;
  const title = options.title ?? `Decision boundary · accuracy ${(accuracy * 100).toFixed(0)}%`;
  const binary = model.nout === 1;
  const nClasses = Math.max(data.nClasses, binary ? 2 : model.nout);
  const names = Array.from({ length: nClasses }, (_, k) => data.classNames?.[k] ?? `class ${k}`);

  // Legend entries (and with them the legend's width) first: the plot takes the rest.
  const showLegend = options.legend ?? true;
  const legendLines = [...names, `misclassified (${wrong})`];
  const legendWidth = showLegend ? Math.max(96, 34 + maxTextWidth(legendLines, 11)) : 0;
  const top = title ? 34 : 12;
  const box = {
    left: 50,
    top,
    right: width - (showLegend ? legendWidth + 20 : 14),
    bottom: height - 42,
  };
  if (box.right - box.left < 60 || box.bottom - box.top < 60) {
    throw new RangeError(`decisionBoundarySvg: ${width} × ${height} leaves no room for the plot`);
  }

  // The plane shown: the data's range and a margin, so that no point sits on the frame.
  // One unit is as long across as it is up, as in the plane itself: the shorter range grows to fill the box.
  const [xMin, xMax, yMin, yMax] = equalAspect(
    paddedRange(data.X.map((row) => row[0])),
    paddedRange(data.X.map((row) => row[1])),
    (box.right - box.left) / (box.bottom - box.top),
  );
  const px = (x: number) => box.left + ((x - xMin) / (xMax - xMin)) * (box.right - box.left);
  const py = (y: number) => box.bottom - ((y - yMin) / (yMax - yMin)) * (box.bottom - box.top);

  // Row 0 of the grid is the top of the picture.
  const centers: number[][] = [];
  for (let row = 0; row < resolution; row++) {
    for (let col = 0; col < resolution; col++) {
      centers.push([
        xMin + ((col + 0.5) / resolution) * (xMax - xMin),
        yMax - ((row + 0.5) / resolution) * (yMax - yMin),
      ]);
    }
  }
  const gridScores = scores(model, centers);
  const cellW = (box.right - box.left) / resolution;
  const cellH = (box.bottom - box.top) / resolution;
  const out: string[] = [];
  out.push(svgOpen(width, height, "micrograd-boundary"));
  if (title) out.push(titleText(width, title));
  // The plane the grid covers and where it is drawn, so that a reader of the SVG (or a test)
  // can map the picture back to the plane.
  out.push(
    `<g class="cells" shape-rendering="crispEdges" data-resolution="${resolution}" ` +
      `data-x-range="${xMin} ${xMax}" data-y-range="${yMin} ${yMax}" ` +
      `data-plot="${box.left} ${box.top} ${box.right} ${box.bottom}">`,
  );
  // Each cell gets one of SHADES depths of its class's colour. A run of equal shade in a row is
  // one rectangle, and the same run in the rows below extends it downwards; each shade's
  // rectangles make one path. The background of a 60 × 60 grid is then a few hundred
  // rectangles (~15 kB, not ~500 kB for one element per cell), still sharp at any zoom.
  type Run = { start: number; end: number; shade: number; top: number };
  const runs = new Map<number, string[]>();
  const emit = (run: Run, bottom: number) => {
    // Rectangles overlap their neighbours by a fraction of a pixel so that no seams show.
    const w = round((run.end - run.start) * cellW + 0.4, 1);
    const h = round((bottom - run.top) * cellH + 0.4, 1);
    const rect = `M${round(box.left + run.start * cellW, 1)},${round(box.top + run.top * cellH, 1)}h${w}v${h}h-${w}z`;
    const list = runs.get(run.shade) ?? [];
    list.push(rect);
    runs.set(run.shade, list);
  };
  const shades = gridScores.map((outputs) => cellShade(outputs, binary));
  // Rectangles still growing downwards, by their columns and shade; the pass after the last
  // row closes them all.
  let open = new Map<string, Run>();
  for (let row = 0; row <= resolution; row++) {
    const next = new Map<string, Run>();
    let start = 0;
    for (let col = 1; row < resolution && col <= resolution; col++) {
      const shade = shades[row * resolution + start];
      if (col < resolution && shades[row * resolution + col] === shade) continue;
      const key = `${start} ${col} ${shade}`;
      next.set(key, open.get(key) ?? { start, end: col, shade, top: row });
      open.delete(key);
      start = col;
    }
    for (const run of open.values()) emit(run, row);
    open = next;
  }
  for (const [shade, rects] of [...runs].sort((a, b) => a[0] - b[0])) {
    const cls = Math.floor(shade / SHADES);
    const level = shade % SHADES;
    out.push(
      `<path class="shade" data-class="${cls}" data-level="${level}" fill="${shadeColor(cls, level, binary)}" d="${rects.join("")}"/>`,
    );
  }
  out.push("</g>");
  if (binary) {
    const grid = (row: number, col: number) => gridScores[row * resolution + col][0];
    const cx = (col: number) => box.left + (col + 0.5) * cellW;
    const cy = (row: number) => box.top + (row + 0.5) * cellH;
    const path = zeroContour(grid, resolution, cx, cy);
    if (path) out.push(`<path class="boundary" d="${path}" fill="none" stroke="${INK}" stroke-width="1.5"/>`);
  }
  out.push(axes(box, [xMin, xMax], [yMin, yMax], px, py, data.featureNames));

  const radius = Math.max(2.5, Math.min(5, Math.min(box.right - box.left, box.bottom - box.top) / 70));
  out.push(`<g class="points" stroke="${INK}" stroke-width="0.7">`);
  for (let i = 0; i < data.X.length; i++) {
    const x = px(data.X[i][0]);
    const y = py(data.X[i][1]);
    const cls = data.y[i];
    const correct = predicted[i] === cls;
    out.push(
      `<path class="point" data-class="${cls}" data-correct="${correct}" d="${marker(shapeOf(cls), x, y, radius)}" ` +
        `fill="${CLASS_COLORS[cls % CLASS_COLORS.length]}"/>`,
    );
    if (!correct) {
      out.push(
        `<circle class="miss" cx="${round(x)}" cy="${round(y)}" r="${round(radius + 3)}" fill="none" stroke="#000000" stroke-width="1.6"/>`,
      );
    }
  }
  out.push("</g>");

  if (showLegend) {
    const lx = box.right + 16;
    let ly = box.top + 6;
    const entries: string[] = ['<g class="legend">'];
    names.forEach((name, k) => {
      entries.push(
        `<path d="${marker(shapeOf(k), lx + 6, ly + 6, 5)}" fill="${CLASS_COLORS[k % CLASS_COLORS.length]}" stroke="${INK}" stroke-width="0.7"/>`,
        text(lx + 18, ly + 10, name, { size: 11 }),
      );
      ly += 18;
    });
    entries.push(
      `<circle cx="${lx + 6}" cy="${ly + 6}" r="6.5" fill="none" stroke="#000000" stroke-width="1.6"/>`,
      text(lx + 18, ly + 10, legendLines[legendLines.length - 1], { size: 11 }),
    );
    ly += 30;
    if (binary) {
      // A small scale: what the shades of the background mean.
      entries.push(text(lx, ly, "model score", { size: 10, color: MUTED }));
      const steps = [-2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2];
      const swatch = Math.min(10, (legendWidth - 6) / steps.length);
      steps.forEach((s, i) => {
        entries.push(
          `<rect x="${round(lx + i * swatch)}" y="${ly + 5}" width="${round(swatch)}" height="10" ` +
            `fill="${shadeColor(s > 0 ? 1 : 0, cellShade([s], true) % SHADES, true)}"/>`,
        );
      });
      const end = lx + steps.length * swatch;
      entries.push(
        text(lx, ly + 27, "−2", { size: 9, color: MUTED }),
        text((lx + end) / 2, ly + 27, "0", { size: 9, color: MUTED, anchor: "middle" }),
        text(end, ly + 27, "+2", { size: 9, color: MUTED, anchor: "end" }),
        `<line x1="${lx}" x2="${lx + 18}" y1="${ly + 42}" y2="${ly + 42}" stroke="${INK}" stroke-width="1.5"/>`,
        text(lx + 24, ly + 45, "score 0", { size: 10, color: MUTED }),
      );
    } else {
      entries.push(
        text(lx, ly, "background:", { size: 10, color: MUTED }),
        text(lx, ly + 13, "predicted class,", { size: 10, color: MUTED }),
        text(lx, ly + 26, "paler = less sure", { size: 10, color: MUTED }),
      );
    }
    entries.push("</g>");
    out.push(entries.join(""));
  }
  out.push("</svg>");
  return out.join("\n");
}

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
  const px = (s: number) => left + ((s - stepMin) / (stepMax - stepMin)) * (right - left);

  const [trainingMin, trainingMax] = extent(history, (h) => h.loss);
  const [validationMin, validationMax] = extent(history, (h) => h.validationLoss);
  const lossMax = Math.max(trainingMax, validationMax);
  const lossMin = Math.min(0, trainingMin, validationMin);
  const lossTicks = Number.isFinite(lossMax) ? niceTicks(lossMin, lossMax, 4) : [0, 1];
  const lossRange: [number, number] = [lossTicks[0], lossTicks[lossTicks.length - 1]];
  const accuracyTicks = [0, 0.25, 0.5, 0.75, 1];

  const out: string[] = [svgOpen(width, height, "micrograd-curves")];
  if (title) out.push(titleText(width, title));
  const panels = [
    {
      name: "loss",
      box: { left, right, top: top + 16, bottom: top + 16 + panelHeight },
      range: lossRange,
      ticks: lossTicks,
      format: (v: number) => formatTick(v, lossTicks[1] - lossTicks[0]),
      series: [
        { name: "training loss", color: TRAIN_COLOR, pick: (h: CurvePoint) => h.loss },
        { name: "validation loss", color: VALIDATION_COLOR, pick: (h: CurvePoint) => h.validationLoss },
      ],
    },
    {
      name: "accuracy",
      box: { left, right, top: top + 16 + panelHeight + gap, bottom: top + 16 + 2 * panelHeight + gap },
      range: [0, 1] as [number, number],
      ticks: accuracyTicks,
      format: (v: number) => `${Math.round(v * 100)}%`,
      series: [
        { name: "training accuracy", color: TRAIN_COLOR, pick: (h: CurvePoint) => h.accuracy },
        {
          name: "validation accuracy",
          color: VALIDATION_COLOR,
          pick: (h: CurvePoint) => h.validationAccuracy,
        },
      ],
    },
  ];
  const stepTicks = niceTicks(stepMin, stepMax, Math.max(2, Math.floor((right - left) / 80))).filter(
    (s) => s >= stepMin && s <= stepMax,
  );
  for (const panel of panels) {
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
    for (const s of stepTicks) {
      const x = round(px(s));
      const label = formatTick(s, stepTicks[1] - stepTicks[0]);
      // A long last label (200000) would run off the picture: it moves left just enough.
      const labelX = Math.min(x, width - 2 - (label.length * 10 * CHAR_WIDTH) / 2);
      g.push(
        `<line x1="${x}" x2="${x}" y1="${box.bottom}" y2="${box.bottom + 4}" stroke="${INK}"/>`,
        text(labelX, box.bottom + 15, label, { size: 10, anchor: "middle", color: MUTED }),
      );
    }
    g.push(
      `<rect x="${box.left}" y="${box.top}" width="${box.right - box.left}" height="${box.bottom - box.top}" fill="none" stroke="#999999"/>`,
      text(box.left, box.top - 6, panel.name, { size: 12, weight: "bold" }),
    );
    // The legend reads right to left above the panel, one entry per series that has data.
    let lx = box.right;
    const legend: string[] = [];
    for (const series of panel.series) {
      const points = history.filter((h) => Number.isFinite(series.pick(h)));
      if (points.length === 0) continue;
      // About four points per pixel column at most, whatever the length of the run.
      const shown = decimate(points, (h) => series.pick(h) as number, Math.ceil(box.right - box.left));
      const coords = shown.map((h) => `${round(px(h.step))},${round(py(series.pick(h) as number))}`);
      g.push(
        `<polyline class="series" data-series="${series.name}" points="${coords.join(" ")}" fill="none" ` +
          `stroke="${series.color}" stroke-width="1.8" stroke-linejoin="round"/>`,
      );
      // Sparse series (validation is measured now and then) get a dot at each measurement.
      if (points.length < history.length && points.length <= 60) {
        for (const c of coords) {
          const [x, y] = c.split(",");
          g.push(`<circle cx="${x}" cy="${y}" r="2.5" fill="${series.color}"/>`);
        }
      }
      legend.push(series.name);
    }
    for (const name of legend.reverse()) {
      const series = panel.series.find((s) => s.name === name) as (typeof panel.series)[number];
      const textWidth = name.length * 10 * CHAR_WIDTH;
      lx -= textWidth;
      g.push(
        text(lx, box.top - 6, name, { size: 10 }),
        `<line x1="${round(lx - 20)}" x2="${round(lx - 4)}" y1="${box.top - 9.5}" y2="${box.top - 9.5}" stroke="${series.color}" stroke-width="2"/>`,
      );
      lx -= 34;
    }
    g.push("</g>");
    out.push(g.join("\n"));
  }
  out.push(text((left + right) / 2, height - 8, "step", { size: 11, anchor: "middle", color: MUTED }));
  out.push("</svg>");
  return out.join("\n");
}

// ---- drawing helpers ----

type Box = { left: number; top: number; right: number; bottom: number };

/** The title, centred, in a smaller font when it would not fit the width. */
function titleText(width: number, title: string): string {
  const size = Math.max(8, Math.min(14, Math.floor((width - 12) / (title.length * CHAR_WIDTH * 1.08))));
  return text(width / 2, 22, title, { size, anchor: "middle", weight: "bold" });
}

function axes(
  box: Box,
  xRange: [number, number],
  yRange: [number, number],
  px: (x: number) => number,
  py: (y: number) => number,
  featureNames: readonly string[] | undefined,
): string {
  const g: string[] = ['<g class="axes">'];
  const xTicks = niceTicks(xRange[0], xRange[1], Math.max(2, Math.floor((box.right - box.left) / 70))).filter(
    (t) => t >= xRange[0] && t <= xRange[1],
  );
  const yTicks = niceTicks(yRange[0], yRange[1], Math.max(2, Math.floor((box.bottom - box.top) / 60))).filter(
    (t) => t >= yRange[0] && t <= yRange[1],
  );
  for (const t of xTicks) {
    const x = round(px(t));
    g.push(
      `<line x1="${x}" x2="${x}" y1="${box.bottom}" y2="${box.bottom + 4}" stroke="${INK}"/>`,
      text(x, box.bottom + 15, formatTick(t, xTicks[1] - xTicks[0]), {
        size: 10,
        anchor: "middle",
        color: MUTED,
      }),
    );
  }
  for (const t of yTicks) {
    const y = round(py(t));
    g.push(
      `<line x1="${box.left - 4}" x2="${box.left}" y1="${y}" y2="${y}" stroke="${INK}"/>`,
      text(box.left - 7, y + 3.5, formatTick(t, yTicks[1] - yTicks[0]), {
        size: 10,
        anchor: "end",
        color: MUTED,
      }),
    );
  }
  g.push(
    `<rect x="${round(box.left)}" y="${round(box.top)}" width="${round(box.right - box.left)}" height="${round(box.bottom - box.top)}" fill="none" stroke="#444444"/>`,
    text((box.left + box.right) / 2, box.bottom + 32, featureNames?.[0] ?? "x₁", {
      size: 11,
      anchor: "middle",
    }),
    `<text transform="translate(${round(box.left - 36)} ${round((box.top + box.bottom) / 2)}) rotate(-90)" ` +
      `font-size="11" fill="${INK}" text-anchor="middle">${escapeXml(featureNames?.[1] ?? "x₂")}</text>`,
    "</g>",
  );
  return g.join("\n");
}

function shapeOf(cls: number): Shape {
  return MARKER_SHAPES[cls % MARKER_SHAPES.length];
}

/** An SVG path of a marker centred on (x, y), of about the area of a circle of radius r. */
function marker(shape: Shape, x: number, y: number, r: number): string {
  const p = (dx: number, dy: number) => `${round(x + dx * r)},${round(y + dy * r)}`;
  switch (shape) {
    case "circle":
      return `M${p(-1, 0)}A${round(r)},${round(r)} 0 1,0 ${p(1, 0)}A${round(r)},${round(r)} 0 1,0 ${p(-1, 0)}Z`;
    case "square":
      return `M${p(-0.9, -0.9)}L${p(0.9, -0.9)}L${p(0.9, 0.9)}L${p(-0.9, 0.9)}Z`;
    case "triangle":
      return `M${p(0, -1.3)}L${p(1.15, 0.75)}L${p(-1.15, 0.75)}Z`;
    case "diamond":
      return `M${p(0, -1.3)}L${p(1.15, 0)}L${p(0, 1.3)}L${p(-1.15, 0)}Z`;
    case "triangleDown":
      return `M${p(0, 1.3)}L${p(1.15, -0.75)}L${p(-1.15, -0.75)}Z`;
  }
}

/**
 * The line where the score crosses 0, by marching squares over the grid of cell centres:
 * in each square of four neighbouring centres, the crossing points on its edges are found by
 * linear interpolation and joined.
 */
function zeroContour(
  score: (row: number, col: number) => number,
  n: number,
  cx: (col: number) => number,
  cy: (row: number) => number,
): string {
  const parts: string[] = [];
  const cross = (a: number, b: number) => a / (a - b);
  for (let row = 0; row < n - 1; row++) {
    for (let col = 0; col < n - 1; col++) {
      const tl = score(row, col);
      const tr = score(row, col + 1);
      const br = score(row + 1, col + 1);
      const bl = score(row + 1, col);
      const caseIndex = (tl > 0 ? 8 : 0) | (tr > 0 ? 4 : 0) | (br > 0 ? 2 : 0) | (bl > 0 ? 1 : 0);
      if (caseIndex === 0 || caseIndex === 15) continue;
      const x0 = cx(col);
      const x1 = cx(col + 1);
      const y0 = cy(row);
      const y1 = cy(row + 1);
      const edge = {
        top: [x0 + (x1 - x0) * cross(tl, tr), y0],
        right: [x1, y0 + (y1 - y0) * cross(tr, br)],
        bottom: [x0 + (x1 - x0) * cross(bl, br), y1],
        left: [x0, y0 + (y1 - y0) * cross(tl, bl)],
      };
      for (const [from, to] of CONTOUR_SEGMENTS[caseIndex]) {
        parts.push(
          `M${round(edge[from][0])},${round(edge[from][1])}L${round(edge[to][0])},${round(edge[to][1])}`,
        );
      }
    }
  }
  return parts.join("");
}

type Edge = "top" | "right" | "bottom" | "left";
// Which edges of a square the line crosses, by which corners are positive (tl 8, tr 4, br 2, bl 1).
const CONTOUR_SEGMENTS: [Edge, Edge][][] = [
  [],
  [["left", "bottom"]],
  [["bottom", "right"]],
  [["left", "right"]],
  [["top", "right"]],
  [
    ["left", "top"],
    ["bottom", "right"],
  ],
  [["top", "bottom"]],
  [["left", "top"]],
  [["left", "top"]],
  [["top", "bottom"]],
  [
    ["top", "right"],
    ["left", "bottom"],
  ],
  [["top", "right"]],
  [["left", "right"]],
  [["bottom", "right"]],
  [["left", "bottom"]],
  [],
];

// ---- the shades of a decision boundary ----

/** Depths of colour per class in the background of a decision boundary. */
const SHADES = 12;

/**
 * The shade of a grid cell, as class × SHADES + level. One output: the class is the sign of
 * the score and the level grows with |score| (saturating by about ±2); K outputs: the most
 * likely class, and the level grows with how much surer than a uniform guess the softmax is.
 */
function cellShade(outputs: readonly number[], binary: boolean): number {
  let cls: number;
  let depth: number;
  if (binary) {
    cls = outputs[0] > 0 ? 1 : 0;
    depth = Math.tanh(Math.abs(outputs[0]));
  } else {
    const p = softmax(outputs);
    cls = 0;
    for (let k = 1; k < p.length; k++) if (p[k] > p[cls]) cls = k;
    depth = (p[cls] - 1 / p.length) / (1 - 1 / p.length);
  }
  return cls * SHADES + Math.min(SHADES - 1, Math.floor(depth * SHADES));
}

/** The colour of a shade: the class's colour mixed with white, pale but never white. */
function shadeColor(cls: number, level: number, binary: boolean): string {
  const depth = (level + 0.5) / SHADES;
  return tint(CLASS_COLORS[cls % CLASS_COLORS.length], (binary ? 0.16 : 0.14) + 0.5 * depth);
}

// ---- numbers ----

/** `color` mixed with white: amount 0 is white, 1 is the colour itself. */
function tint(color: string, amount: number): string {
  const a = Math.max(0, Math.min(1, amount));
  const channel = (i: number) => {
    const c = Number.parseInt(color.slice(1 + 2 * i, 3 + 2 * i), 16);
    return Math.round(255 + (c - 255) * a)
      .toString(16)
      .padStart(2, "0");
  };
  return `#${channel(0)}${channel(1)}${channel(2)}`;
}

function paddedRange(values: readonly number[]): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const pad = max > min ? 0.08 * (max - min) : 1;
  return [min - pad, max + pad];
}

/** Widens the x or the y range around its centre so that x-span / y-span equals `ratio`. */
function equalAspect(
  x: [number, number],
  y: [number, number],
  ratio: number,
): [number, number, number, number] {
  const xSpan = x[1] - x[0];
  const ySpan = y[1] - y[0];
  if (xSpan / ySpan < ratio) {
    const grow = (ySpan * ratio - xSpan) / 2;
    return [x[0] - grow, x[1] + grow, y[0], y[1]];
  }
  const grow = (xSpan / ratio - ySpan) / 2;
  return [x[0], x[1], y[0] - grow, y[1] + grow];
}

/** Round numbers 1, 2 or 5 × 10^k apart that cover [min, max] in about `count` steps. */
function niceTicks(min: number, max: number, count: number): number[] {
  if (!(max > min)) return [min, min + 1];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  // The candidate step whose number of intervals comes closest to `count`.
  let step = power;
  for (const m of [2, 5, 10]) {
    if (Math.abs((max - min) / (m * power) - count) < Math.abs((max - min) / step - count)) step = m * power;
  }
  const ticks: number[] = [];
  for (let t = Math.floor(min / step) * step; t <= max + step * 1e-9 || ticks.length < 2; t += step) {
    ticks.push(Number(t.toPrecision(12)));
    if (t >= max) break;
  }
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

function formatTick(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(Math.abs(step) || 1) + 1e-9));
  const s = value.toFixed(decimals);
  return s.startsWith("-") && Number(s) !== 0 ? `−${s.slice(1)}` : s.replace(/^-/, "");
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

/** The smallest and largest finite `value` of the points; [Infinity, -Infinity] when there is none. */

function maxTextWidth(lines: readonly string[], size: number): number {
  let longest = 0;
  for (const line of lines) longest = Math.max(longest, line.length);
  return longest * size * CHAR_WIDTH;
}

function checkSize(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 100 && value <= 10000)) {
    throw new RangeError(`${name} must be a number of pixels from 100 to 10000, got ${value}`);
  }
  return value;
}
