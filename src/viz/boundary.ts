// The decision boundary of a 2-input classifier as SVG text, drawn as its layers from the back:
// the plane's cells shaded by the model's score, the line where a single score is 0, the axes,
// the data points and the legend. Synchronous and free of Node built-ins, so a notebook or a
// browser can call it inside a training loop (see "Design notes" in the README for why not a
// plotting library).
import { checkOptions, type Dataset, type MLP, predict, scores, softmax } from "../index.js";
import { zeroContour } from "./contour.js";
import { type Box, checkSize, formatTick, niceTicks, titleText } from "./plots.js";
import { CHAR_WIDTH, escapeXml, INK, MUTED, round, svgOpen, text } from "./svg.js";

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
  const plot = layOut(model, data, options);
  const gridScores = scoreGrid(model, plot);
  const out: string[] = [svgOpen(plot.width, plot.height, "micrograd-boundary")];
  if (plot.title) out.push(titleText(plot.width, plot.title));
  out.push(cellsLayer(plot, gridScores));
  if (plot.binary) {
    const line = boundaryLine(plot, gridScores);
    if (line) out.push(line);
  }
  out.push(
    axes(plot.box, [plot.xMin, plot.xMax], [plot.yMin, plot.yMax], plot.px, plot.py, data.featureNames),
  );
  out.push(pointsLayer(plot));
  if (plot.showLegend) out.push(legendLayer(plot));
  out.push("</svg>");
  return out.join("\n");
}

/** Everything the layers need, decided before any is drawn: sizes, the plot's box, the plane shown. */
interface BoundaryPlot {
  data: Dataset;
  width: number;
  height: number;
  resolution: number;
  title: string;
  /** One output (a score whose sign is the class) rather than one per class. */
  binary: boolean;
  classNames: string[];
  predicted: number[];
  wrong: number;
  showLegend: boolean;
  legendWidth: number;
  box: Box;
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
  /** Pixel coordinates of a point of the plane. */
  px: (x: number) => number;
  py: (y: number) => number;
}

function layOut(model: MLP, data: Dataset, options: DecisionBoundaryOptions): BoundaryPlot {
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
  const classNames = Array.from({ length: nClasses }, (_, k) => data.classNames?.[k] ?? `class ${k}`);

  // Legend entries (and with them the legend's width) first: the plot takes the rest.
  const showLegend = options.legend ?? true;
  const legendWidth = showLegend ? Math.max(96, 34 + maxTextWidth(legendLines(classNames, wrong), 11)) : 0;
  const box = {
    left: 50,
    top: title ? 34 : 12,
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
  return {
    data,
    width,
    height,
    resolution,
    title,
    binary,
    classNames,
    predicted,
    wrong,
    showLegend,
    legendWidth,
    box,
    xMin,
    xMax,
    yMin,
    yMax,
    px,
    py,
  };
}

function legendLines(classNames: readonly string[], wrong: number): string[] {
  return [...classNames, `misclassified (${wrong})`];
}

/** The model's scores at the centres of the grid's cells, row by row; row 0 is the top of the picture. */
function scoreGrid(model: MLP, plot: BoundaryPlot): number[][] {
  const { resolution, xMin, xMax, yMin, yMax } = plot;
  const centers: number[][] = [];
  for (let row = 0; row < resolution; row++) {
    for (let col = 0; col < resolution; col++) {
      centers.push([
        xMin + ((col + 0.5) / resolution) * (xMax - xMin),
        yMax - ((row + 0.5) / resolution) * (yMax - yMin),
      ]);
    }
  }
  return scores(model, centers);
}

// ---- the background: the plane's cells ----

/**
 * Each cell gets one of SHADES depths of its class's colour. A run of equal shade in a row is
 * one rectangle, and the same run in the rows below extends it downwards; each shade's
 * rectangles make one path. The background of a 60 × 60 grid is then a few hundred
 * rectangles (~15 kB, not ~500 kB for one element per cell), still sharp at any zoom.
 */
function cellsLayer(plot: BoundaryPlot, gridScores: readonly number[][]): string {
  const { box, resolution, binary } = plot;
  const cellW = (box.right - box.left) / resolution;
  const cellH = (box.bottom - box.top) / resolution;
  // The plane the grid covers and where it is drawn, so that a reader of the SVG (or a test)
  // can map the picture back to the plane.
  const out: string[] = [
    `<g class="cells" shape-rendering="crispEdges" data-resolution="${resolution}" ` +
      `data-x-range="${plot.xMin} ${plot.xMax}" data-y-range="${plot.yMin} ${plot.yMax}" ` +
      `data-plot="${box.left} ${box.top} ${box.right} ${box.bottom}">`,
  ];
  const shades = gridScores.map((outputs) => cellShade(outputs, binary));
  const rectangles = shadeRectangles(shades, resolution, (run, bottom) => {
    // Rectangles overlap their neighbours by a fraction of a pixel so that no seams show.
    const w = round((run.end - run.start) * cellW + 0.4, 1);
    const h = round((bottom - run.top) * cellH + 0.4, 1);
    return `M${round(box.left + run.start * cellW, 1)},${round(box.top + run.top * cellH, 1)}h${w}v${h}h-${w}z`;
  });
  for (const [shade, rects] of [...rectangles].sort((a, b) => a[0] - b[0])) {
    const cls = Math.floor(shade / SHADES);
    const level = shade % SHADES;
    out.push(
      `<path class="shade" data-class="${cls}" data-level="${level}" fill="${shadeColor(cls, level, binary)}" d="${rects.join("")}"/>`,
    );
  }
  out.push("</g>");
  return out.join("\n");
}

/** Columns start … end − 1 of rows top … (where it is closed) − 1, all of one shade. */
type Run = { start: number; end: number; shade: number; top: number };

/** The grid of shades (row by row) as rectangles of equal shade, drawn by `rectangle`, by shade. */
function shadeRectangles(
  shades: readonly number[],
  resolution: number,
  rectangle: (run: Run, bottom: number) => string,
): Map<number, string[]> {
  const byShade = new Map<number, string[]>();
  const close = (run: Run, bottom: number) => {
    const list = byShade.get(run.shade) ?? [];
    list.push(rectangle(run, bottom));
    byShade.set(run.shade, list);
  };
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
    for (const run of open.values()) close(run, row);
    open = next;
  }
  return byShade;
}

/** The line where a single score is 0, through the cells' centres; undefined where it never crosses. */
function boundaryLine(plot: BoundaryPlot, gridScores: readonly number[][]): string | undefined {
  const { box, resolution } = plot;
  const cellW = (box.right - box.left) / resolution;
  const cellH = (box.bottom - box.top) / resolution;
  const grid = (row: number, col: number) => gridScores[row * resolution + col][0];
  const cx = (col: number) => box.left + (col + 0.5) * cellW;
  const cy = (row: number) => box.top + (row + 0.5) * cellH;
  const path = zeroContour(grid, resolution, cx, cy);
  if (!path) return undefined;
  return `<path class="boundary" d="${path}" fill="none" stroke="${INK}" stroke-width="1.5"/>`;
}

// ---- the axes, the data and the legend ----

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

/** Each sample as a marker of its class's colour and shape; misclassified ones ringed. */
function pointsLayer(plot: BoundaryPlot): string {
  const { box, data, predicted } = plot;
  const radius = Math.max(2.5, Math.min(5, Math.min(box.right - box.left, box.bottom - box.top) / 70));
  const out: string[] = [`<g class="points" stroke="${INK}" stroke-width="0.7">`];
  for (let i = 0; i < data.X.length; i++) {
    const x = plot.px(data.X[i][0]);
    const y = plot.py(data.X[i][1]);
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
  return out.join("\n");
}

/** At the right of the plot: each class's marker and name, the ring of a miss, what the background means. */
function legendLayer(plot: BoundaryPlot): string {
  const lx = plot.box.right + 16;
  let ly = plot.box.top + 6;
  const entries: string[] = ['<g class="legend">'];
  plot.classNames.forEach((name, k) => {
    entries.push(
      `<path d="${marker(shapeOf(k), lx + 6, ly + 6, 5)}" fill="${CLASS_COLORS[k % CLASS_COLORS.length]}" stroke="${INK}" stroke-width="0.7"/>`,
      text(lx + 18, ly + 10, name, { size: 11 }),
    );
    ly += 18;
  });
  const lines = legendLines(plot.classNames, plot.wrong);
  entries.push(
    `<circle cx="${lx + 6}" cy="${ly + 6}" r="6.5" fill="none" stroke="#000000" stroke-width="1.6"/>`,
    text(lx + 18, ly + 10, lines[lines.length - 1], { size: 11 }),
  );
  ly += 30;
  if (plot.binary) {
    entries.push(...scoreScale(lx, ly, plot.legendWidth));
  } else {
    entries.push(
      text(lx, ly, "background:", { size: 10, color: MUTED }),
      text(lx, ly + 13, "predicted class,", { size: 10, color: MUTED }),
      text(lx, ly + 26, "paler = less sure", { size: 10, color: MUTED }),
    );
  }
  entries.push("</g>");
  return entries.join("");
}

/** A small scale under a binary legend: what the shades of the background mean. */
function scoreScale(lx: number, ly: number, legendWidth: number): string[] {
  const entries = [text(lx, ly, "model score", { size: 10, color: MUTED })];
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
  return entries;
}

// ---- markers ----

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

// ---- the plane shown ----

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

function maxTextWidth(lines: readonly string[], size: number): number {
  let longest = 0;
  for (const line of lines) longest = Math.max(longest, line.length);
  return longest * size * CHAR_WIDTH;
}
