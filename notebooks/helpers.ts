// The notebooks' drawing and printing helpers, kept here so that each notebook opens with its
// lesson rather than with plumbing. Nothing in this file is part of a lesson.
import { Buffer } from "node:buffer";
import { instance } from "@viz-js/viz";

/**
 * Deno's kernel shows any object with this method as rich output. A picture comes in two forms:
 * the SVG itself, and an <img> of it for HTML exports, because `jupyter nbconvert --to html`
 * (nbconvert 6) strips every element inside an SVG output.
 */
export const picture = (svg: string) => ({
  [Symbol.for("Jupyter.display")]: () => ({
    "image/svg+xml": svg,
    "text/html": `<img src="data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}">`,
  }),
});

export const round = (x: number, digits = 6) => Number(x.toFixed(digits));
export const percent = (fraction: number) => `${(fraction * 100).toFixed(0)}%`;
const escapeXml = (text: string) =>
  text.replace(/[<>&"]/g, (ch) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&#34;" })[ch] as string);

/**
 * What `draw` needs of a Value. Part 1's own Value names its operation with a string; the
 * library's has an operation object (a leaf's is named "value") and may have plain numbers
 * among its inputs (the 2 of `a.mul(2)`).
 */
export interface Drawable {
  label: string;
  data: number;
  grad: number;
  op: string | { name: string };
  inputs: readonly (Drawable | number)[];
}

let graphviz: Awaited<ReturnType<typeof instance>> | undefined;

/**
 * The graph behind `root`, laid out by Graphviz: a box per Value (label, data, grad), an oval per
 * operation. "LR" puts the inputs on the left; "TB" stacks the graph top to bottom, and each
 * box's fields too, which keeps a wide graph's labels readable in a notebook's narrow column.
 */
export async function draw(root: Drawable, direction: "LR" | "TB" = "LR") {
  graphviz ??= await instance();
  const ids = new Map<Drawable, string>();
  const lines = [
    `digraph { rankdir=${direction}; node [fontname=Helvetica, fontsize=11]; edge [color="#555555"];`,
  ];
  const escape = (text: string) => text.replace(/[{}|<>"\\]/g, "\\$&");
  const opName = (v: Drawable) => (typeof v.op === "string" ? v.op : v.op.name === "value" ? "" : v.op.name);
  const valueInputs = (v: Drawable) => v.inputs.filter((x): x is Drawable => typeof x !== "number");
  // Depth-first with an explicit stack: the graphs drawn here are small, but no recursion anyway.
  const stack = [root];
  while (stack.length > 0) {
    const v = stack.pop() as Drawable;
    if (ids.has(v)) continue;
    const id = `v${ids.size}`;
    ids.set(v, id);
    const fields = [v.label, `data ${v.data.toPrecision(4)}`, `grad ${v.grad.toPrecision(4)}`].filter(Boolean);
    const fill = opName(v) ? "white" : '"#e8f1fb"';
    // Braces turn the record's fields across the ranks: side by side left to right, stacked
    // (and so narrow) top to bottom.
    lines.push(`${id} [shape=record, style=filled, fillcolor=${fill}, label="{ ${fields.map(escape).join(" | ")} }"];`);
    stack.push(...valueInputs(v).reverse()); // so that the first input is drawn first
  }
  for (const [v, id] of ids) {
    if (!opName(v)) continue;
    // A plain number among the inputs is shown in the operation's oval: "mul 2".
    const constants = v.inputs.filter((x): x is number => typeof x === "number");
    lines.push(`${id}op [shape=ellipse, height=0.3, label="${escape([opName(v), ...constants].join(" "))}"]; ${id}op -> ${id};`);
    for (const input of valueInputs(v)) lines.push(`${ids.get(input)} -> ${id}op;`);
  }
  lines.push("}");
  // Without the XML declaration, which HTML (and nbconvert) refuse inside a page.
  return picture(graphviz.renderString(lines.join("\n"), { format: "svg" }).replace(/^<\?xml[^>]*\?>\s*/, ""));
}

/** Several SVG pictures in one row, each nested and shifted right, with a caption above it. */
export function sideBySide(svgs: string[], captions: string[]): string {
  const size = (svg: string, name: string) =>
    Number(svg.match(new RegExp(`<svg[^>]*\\b${name}="([\\d.]+)`))?.[1] ?? 400);
  let x = 0;
  const height = Math.max(...svgs.map((svg) => size(svg, "height")));
  const parts = svgs.map((svg, i) => {
    const part =
      `<svg x="${x}" y="20"${svg.slice(svg.indexOf("<svg") + 4)}` +
      `<text x="${x + size(svg, "width") / 2}" y="15" text-anchor="middle" font-family="sans-serif" font-size="14">${escapeXml(captions[i])}</text>`;
    x += size(svg, "width") + 10;
    return part;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${x - 10}" height="${height + 20}">${parts.join("")}</svg>`;
}

export interface Series {
  name: string;
  ys: number[];
  color: string;
  /** Dots at every tenth point instead of a line. */
  dots?: boolean;
}

export interface PlotOptions {
  /** The y axis's range; default: the data's, padded a little. */
  yRange?: [number, number];
  /** A logarithmic y axis (every y must be > 0). */
  logY?: boolean;
  title?: string;
  xLabel?: string;
  yLabel?: string;
}

/** Round steps (1, 2 or 5 times a power of ten) from `low` to `high`, about `count` of them. */
function ticks(low: number, high: number, count: number): number[] {
  const raw = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) as number;
  const out: number[] = [];
  for (let t = Math.ceil(low / step) * step; t <= high + step * 1e-9; t += step) out.push(round(t, 10));
  return out;
}

/** Curves over one x axis, as SVG: lines (or dots) with a legend on the right. */
export function linePlot(xs: number[], series: Series[], options: PlotOptions = {}) {
  const { logY = false, title, xLabel, yLabel } = options;
  const toAxis = (y: number) => (logY ? Math.log10(y) : y);
  const all = series.flatMap((s) => s.ys).map(toAxis);
  let [yMin, yMax] = options.yRange?.map(toAxis) ?? [Math.min(...all), Math.max(...all)];
  if (!options.yRange) {
    const pad = (yMax - yMin) * 0.05 || 1;
    [yMin, yMax] = logY ? [Math.floor(yMin), Math.ceil(yMax)] : [yMin - pad, yMax + pad];
  }
  const [width, height, left, right, top, bottom] = [600, 300, 52, 190, title ? 30 : 12, xLabel ? 44 : 30];
  const [xMin, xMax] = [xs[0], xs[xs.length - 1]];
  const px = (x: number) => round(left + ((x - xMin) / (xMax - xMin)) * (width - left - right), 1);
  const py = (y: number) => round(top + ((yMax - toAxis(y)) / (yMax - yMin)) * (height - top - bottom), 1);
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (title) svg.push(`<text x="${(left + width - right) / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`);
  for (const x of ticks(xMin, xMax, 8)) {
    svg.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${top}" y2="${height - bottom}" stroke="${x === 0 && xMin < 0 ? "#999999" : "#e5e5e5"}"/>`);
    svg.push(`<text x="${px(x)}" y="${height - bottom + 16}" text-anchor="middle">${x}</text>`);
  }
  const yTicks = logY
    ? Array.from({ length: Math.floor(yMax) - Math.ceil(yMin) + 1 }, (_, i) => 10 ** (Math.ceil(yMin) + i))
    : ticks(yMin, yMax, 6);
  for (const y of yTicks) {
    svg.push(`<line x1="${left}" x2="${width - right}" y1="${py(y)}" y2="${py(y)}" stroke="${y === 0 ? "#999999" : "#e5e5e5"}"/>`);
    svg.push(`<text x="${left - 6}" y="${py(y) + 4}" text-anchor="end">${logY && (y < 1e-3 || y > 1e4) ? y.toExponential(0) : y}</text>`);
  }
  if (xLabel) svg.push(`<text x="${(left + width - right) / 2}" y="${height - 8}" text-anchor="middle" fill="#444444">${escapeXml(xLabel)}</text>`);
  if (yLabel) svg.push(`<text transform="translate(14 ${(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#444444">${escapeXml(yLabel)}</text>`);
  series.forEach(({ name, ys, color, dots }, k) => {
    if (dots) for (let i = 0; i < xs.length; i += 10) svg.push(`<circle cx="${px(xs[i])}" cy="${py(ys[i])}" r="3" fill="${color}"/>`);
    else svg.push(`<polyline points="${xs.map((x, i) => `${px(x)},${py(ys[i])}`).join(" ")}" fill="none" stroke="${color}" stroke-width="2"/>`);
    const [lx, ly] = [width - right + 16, top + 14 + 20 * k];
    svg.push(
      dots
        ? `<circle cx="${lx + 10}" cy="${ly}" r="3" fill="${color}"/>`
        : `<line x1="${lx}" x2="${lx + 20}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
    );
    svg.push(`<text x="${lx + 28}" y="${ly + 4}">${escapeXml(name)}</text>`);
  });
  return picture(`${svg.join("\n")}\n</svg>`);
}

/** A square per entry of a square table, shaded by its value in [0, 1]; the labels name rows and columns. */
export function heatmap(rows: number[][], labels: string[], title: string, columnCaption = "next character →") {
  const cell = 17;
  const [left, top] = [40, 52];
  const size = rows.length * cell;
  const shade = (p: number) =>
    `rgb(${[255, 255, 255].map((c, i) => Math.round(c - p * (c - [8, 48, 107][i]))).join(",")})`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + size + 10}" height="${top + size + 10}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left + size / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${left + size / 2}" y="32" text-anchor="middle" fill="#666">${escapeXml(columnCaption)}</text>`,
  ];
  labels.forEach((label, i) => {
    parts.push(`<text x="${left + i * cell + cell / 2}" y="${top - 5}" text-anchor="middle">${escapeXml(label)}</text>`);
    parts.push(`<text x="${left - 4}" y="${top + i * cell + cell / 2 + 3}" text-anchor="end">${escapeXml(label)}</text>`);
  });
  rows.forEach((row, i) => {
    row.forEach((p, j) => {
      parts.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${shade(p)}"/>`);
    });
  });
  return picture(`${parts.join("")}</svg>`);
}
