// The decision-boundary map: the worker's grid of scores painted as colour, the line where a
// binary classifier's score crosses 0, and the data points on top, each class with its own
// colour and shape so that the picture reads without colour vision too.
import { fitCanvas } from "./charts.js";
import type { Extent } from "./protocol.js";

/** Okabe–Ito colours, distinguishable with the common colour-vision deficiencies. */
export const CLASS_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7"];
type Shape = "circle" | "square" | "triangle" | "diamond";
const SHAPES: Shape[] = ["circle", "square", "triangle", "diamond"];

export interface PlaneData {
  points: Float32Array;
  classes: Uint8Array;
  nClasses: number;
  extent: Extent;
}

export interface PlaneScores {
  grid: Float32Array;
  gridSize: number;
  outputs: number;
  /** 1 for each point the model gets right (the worker works it out once per step). */
  correct: Uint8Array;
}

const rgb = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
const CLASS_RGB = CLASS_COLORS.map(rgb);

/** Where a point of the plane is on a canvas of `size` CSS pixels, and back. */
export function toPixel(extent: Extent, size: number, x: number, y: number): [number, number] {
  return [
    ((x - extent.xMin) / (extent.xMax - extent.xMin)) * size,
    ((extent.yMax - y) / (extent.yMax - extent.yMin)) * size,
  ];
}

export function toPlane(extent: Extent, size: number, px: number, py: number): [number, number] {
  return [
    extent.xMin + (px / size) * (extent.xMax - extent.xMin),
    extent.yMax - (py / size) * (extent.yMax - extent.yMin),
  ];
}

// One pixel per grid cell, scaled up with smoothing when drawn: a soft, cheap map.
const cells = document.createElement("canvas");

function paintCells(scores: PlaneScores): HTMLCanvasElement {
  const { grid, gridSize, outputs } = scores;
  cells.width = gridSize;
  cells.height = gridSize;
  const context = cells.getContext("2d") as CanvasRenderingContext2D;
  const image = context.createImageData(gridSize, gridSize);
  const probabilities = new Float64Array(outputs);
  for (let cell = 0; cell < gridSize * gridSize; cell++) {
    let cls: number;
    let strength: number;
    if (outputs === 1) {
      const score = grid[cell];
      cls = score > 0 ? 1 : 0;
      strength = Math.tanh(Math.abs(score));
    } else {
      // Softmax of the scores: the colour of the likeliest class, paler where the network is unsure.
      const base = cell * outputs;
      cls = 0;
      for (let k = 1; k < outputs; k++) if (grid[base + k] > grid[base + cls]) cls = k;
      let total = 0;
      for (let k = 0; k < outputs; k++) {
        probabilities[k] = Math.exp(grid[base + k] - grid[base + cls]);
        total += probabilities[k];
      }
      strength = (1 / total - 1 / outputs) / (1 - 1 / outputs);
    }
    const [r, g, b] = CLASS_RGB[cls % CLASS_RGB.length];
    const mix = 0.12 + 0.5 * strength;
    image.data[4 * cell] = 255 + (r - 255) * mix;
    image.data[4 * cell + 1] = 255 + (g - 255) * mix;
    image.data[4 * cell + 2] = 255 + (b - 255) * mix;
    image.data[4 * cell + 3] = 255;
  }
  context.putImageData(image, 0, 0);
  return cells;
}

/** The score = 0 line of a one-output network, by marching squares over the grid's cell centres. */
function drawZeroLine(context: CanvasRenderingContext2D, scores: PlaneScores, size: number): void {
  const { grid, gridSize: n } = scores;
  const step = size / n;
  const at = (row: number, col: number) => grid[row * n + col];
  context.beginPath();
  for (let row = 0; row < n - 1; row++) {
    for (let col = 0; col < n - 1; col++) {
      // Corners in order around the square: top-left, top-right, bottom-right, bottom-left.
      const corners: [number, number, number][] = [
        [row, col, at(row, col)],
        [row, col + 1, at(row, col + 1)],
        [row + 1, col + 1, at(row + 1, col + 1)],
        [row + 1, col, at(row + 1, col)],
      ];
      const crossings: [number, number][] = [];
      for (let k = 0; k < 4; k++) {
        const [r0, c0, s0] = corners[k];
        const [r1, c1, s1] = corners[(k + 1) % 4];
        if (s0 > 0 !== s1 > 0) {
          const t = s0 / (s0 - s1);
          crossings.push([(c0 + t * (c1 - c0) + 0.5) * step, (r0 + t * (r1 - r0) + 0.5) * step]);
        }
      }
      for (let k = 0; k + 1 < crossings.length; k += 2) {
        context.moveTo(crossings[k][0], crossings[k][1]);
        context.lineTo(crossings[k + 1][0], crossings[k + 1][1]);
      }
    }
  }
  context.strokeStyle = "rgba(30, 34, 40, 0.7)";
  context.lineWidth = 1.5;
  context.stroke();
}

function drawAxes(context: CanvasRenderingContext2D, extent: Extent, size: number): void {
  context.font = "10px system-ui, sans-serif";
  context.fillStyle = "rgba(40, 44, 52, 0.55)";
  context.strokeStyle = "rgba(40, 44, 52, 0.10)";
  context.lineWidth = 1;
  for (let x = Math.ceil(extent.xMin); x <= extent.xMax; x++) {
    const [px] = toPixel(extent, size, x, 0);
    context.beginPath();
    context.moveTo(Math.round(px) + 0.5, 0);
    context.lineTo(Math.round(px) + 0.5, size);
    context.stroke();
    context.textAlign = "center";
    context.textBaseline = "bottom";
    context.fillText(String(x), px, size - 3);
  }
  for (let y = Math.ceil(extent.yMin); y <= extent.yMax; y++) {
    const [, py] = toPixel(extent, size, 0, y);
    context.beginPath();
    context.moveTo(0, Math.round(py) + 0.5);
    context.lineTo(size, Math.round(py) + 0.5);
    context.stroke();
    context.textAlign = "left";
    context.textBaseline = "middle";
    context.fillText(String(y), 4, py);
  }
}

export function marker(
  context: CanvasRenderingContext2D,
  shape: Shape,
  x: number,
  y: number,
  r: number,
): void {
  context.beginPath();
  switch (shape) {
    case "circle":
      context.arc(x, y, r, 0, 2 * Math.PI);
      break;
    case "square":
      context.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
      break;
    case "triangle":
      context.moveTo(x, y - r * 1.15);
      context.lineTo(x + r, y + r * 0.7);
      context.lineTo(x - r, y + r * 0.7);
      context.closePath();
      break;
    case "diamond":
      context.moveTo(x, y - r * 1.2);
      context.lineTo(x + r, y);
      context.lineTo(x, y + r * 1.2);
      context.lineTo(x - r, y);
      context.closePath();
      break;
  }
}

export function shapeOf(cls: number): Shape {
  return SHAPES[cls % SHAPES.length];
}

export function drawPlane(
  canvas: HTMLCanvasElement,
  data: PlaneData | null,
  scores: PlaneScores | null,
  highlight: number | null,
): void {
  const context = fitCanvas(canvas);
  const size = canvas.clientWidth;
  context.clearRect(0, 0, size, size);
  if (!data) return;
  if (scores) {
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = "high";
    context.drawImage(paintCells(scores), 0, 0, size, size);
    if (scores.outputs === 1) drawZeroLine(context, scores, size);
  }
  drawAxes(context, data.extent, size);

  const n = data.classes.length;
  const radius = n > 400 ? 3.5 : 5;
  for (let i = 0; i < n; i++) {
    const x = data.points[2 * i];
    const y = data.points[2 * i + 1];
    const cls = data.classes[i];
    const [px, py] = toPixel(data.extent, size, x, y);
    marker(context, shapeOf(cls), px, py, radius);
    context.fillStyle = CLASS_COLORS[cls % CLASS_COLORS.length];
    context.fill();
    // Until the scores for newly added points arrive, those points count as right.
    const wrong = scores !== null && scores.correct[i] === 0;
    // Misclassified points get a heavy dark outline, the others a thin white one.
    context.lineWidth = wrong ? 2.25 : 1.25;
    context.strokeStyle = wrong ? "#1b1d22" : "#ffffff";
    context.stroke();
  }
  if (highlight !== null && highlight < n) {
    const [px, py] = toPixel(data.extent, size, data.points[2 * highlight], data.points[2 * highlight + 1]);
    context.beginPath();
    context.arc(px, py, radius + 5, 0, 2 * Math.PI);
    context.lineWidth = 2;
    context.strokeStyle = "#1b1d22";
    context.setLineDash([3, 3]);
    context.stroke();
    context.setLineDash([]);
  }
}
