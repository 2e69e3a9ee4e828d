// Loss and accuracy over the steps, drawn on canvases. Long runs are thinned to about one
// point per pixel column, so a chart costs the same after ten or a hundred thousand steps.

export interface ChartOptions {
  color: string;
  /** Plot log10 of the values (the loss), with values below `floor` drawn at `floor`. */
  log?: boolean;
  floor?: number;
  /** Fixed range of the y axis (accuracy: 0 to 1); otherwise fitted to the data. */
  yMin?: number;
  yMax?: number;
  format: (y: number) => string;
}

const AXIS = "#8a8f98";
const INK = "#2b2f36";
const GRID = "#e6e8ec";
const FONT = "11px system-ui, -apple-system, 'Segoe UI', sans-serif";

/** Makes a canvas's drawing buffer match its size on screen, for sharp lines on any display. */
export function fitCanvas(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const context = canvas.getContext("2d") as CanvasRenderingContext2D;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  return context;
}

export function drawChart(canvas: HTMLCanvasElement, values: readonly number[], options: ChartOptions): void {
  const context = fitCanvas(canvas);
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  context.clearRect(0, 0, width, height);
  const left = 40;
  const right = width - 8;
  const top = 8;
  const bottom = height - 18;
  const floor = options.floor ?? 1e-4;
  const transform = (y: number) => (options.log ? Math.log10(Math.max(y, floor)) : y);

  const n = values.length;
  // Thin to at most two points per pixel column.
  const stride = Math.max(1, Math.floor(n / (2 * (right - left))));
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i += stride) {
    const y = values[i];
    if (Number.isFinite(y)) {
      xs.push(i);
      ys.push(transform(y));
    }
  }
  if (n > 0 && (n - 1) % stride !== 0 && Number.isFinite(values[n - 1])) {
    xs.push(n - 1);
    ys.push(transform(values[n - 1]));
  }

  let yMin = options.yMin ?? Math.min(...ys);
  let yMax = options.yMax ?? Math.max(...ys);
  if (!Number.isFinite(yMin) || !Number.isFinite(yMax)) {
    yMin = 0;
    yMax = 1;
  }
  if (options.log) {
    yMin = Math.floor(yMin);
    yMax = Math.ceil(yMax);
  }
  if (yMax - yMin < 1e-9) yMax = yMin + 1;
  const xMax = Math.max(n - 1, 100);
  const px = (x: number) => left + (x / xMax) * (right - left);
  const py = (y: number) => bottom - ((y - yMin) / (yMax - yMin)) * (bottom - top);

  context.font = FONT;
  context.lineWidth = 1;
  context.textBaseline = "middle";
  context.textAlign = "right";
  const ticks = options.log
    ? Array.from({ length: yMax - yMin + 1 }, (_, i) => yMin + i)
    : [yMin, (yMin + yMax) / 2, yMax];
  const every = Math.ceil(ticks.length / 4);
  ticks.forEach((tick, i) => {
    if (i % every !== 0 && i !== ticks.length - 1) return;
    context.strokeStyle = GRID;
    context.beginPath();
    context.moveTo(left, Math.round(py(tick)) + 0.5);
    context.lineTo(right, Math.round(py(tick)) + 0.5);
    context.stroke();
    context.fillStyle = AXIS;
    context.fillText(options.format(options.log ? 10 ** tick : tick), left - 5, py(tick));
  });
  context.textAlign = "center";
  context.textBaseline = "top";
  context.fillText("0", left, bottom + 4);
  context.fillText(`${xMax} steps`, right - 22, bottom + 4);

  if (xs.length === 0) return;
  context.strokeStyle = options.color;
  context.lineWidth = 1.75;
  context.lineJoin = "round";
  context.beginPath();
  xs.forEach((x, i) => {
    if (i === 0) context.moveTo(px(x), py(ys[i]));
    else context.lineTo(px(x), py(ys[i]));
  });
  context.stroke();
  // The latest value, as a dot with its number.
  const last = xs.length - 1;
  context.fillStyle = options.color;
  context.beginPath();
  context.arc(px(xs[last]), py(ys[last]), 3, 0, 2 * Math.PI);
  context.fill();
  context.fillStyle = INK;
  context.textAlign = "right";
  context.textBaseline = "top";
  context.fillText(options.format(values[n - 1]), right, top);
}
