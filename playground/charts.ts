// Loss and accuracy over the steps, drawn on canvases. Long runs are reduced to a few points
// per pixel column, so a chart costs the same after ten or a hundred thousand steps.

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
  context.font = FONT;
  const right = width - 8;
  const top = 8;
  const bottom = height - 18;
  const floor = options.floor ?? 1e-4;
  const transform = (y: number) => (options.log ? Math.log10(Math.max(y, floor)) : y);

  const n = values.length;
  let yMin = Number.POSITIVE_INFINITY;
  let yMax = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const y = values[i];
    if (!Number.isFinite(y)) continue;
    const t = transform(y);
    if (t < yMin) yMin = t;
    if (t > yMax) yMax = t;
  }
  yMin = options.yMin ?? yMin;
  yMax = options.yMax ?? yMax;
  if (!Number.isFinite(yMin) || !Number.isFinite(yMax)) {
    yMin = 0;
    yMax = 1;
  }
  if (options.log) {
    yMin = Math.floor(yMin);
    yMax = Math.ceil(yMax);
  }
  if (yMax - yMin < 1e-9) yMax = yMin + 1;

  // The tick labels decide the left margin, so that none is cut off, however large the numbers.
  const allTicks = options.log
    ? Array.from({ length: yMax - yMin + 1 }, (_, i) => yMin + i)
    : [yMin, (yMin + yMax) / 2, yMax];
  const every = Math.ceil(allTicks.length / 4);
  const lastTick = allTicks.length - 1;
  // Every `every`-th tick and the last, leaving out one that would crowd the last.
  const roomBelowLast = (i: number) => ((lastTick - i) / Math.max(lastTick, 1)) * (bottom - top) >= 24;
  const ticks = allTicks.filter((_, i) => i === lastTick || (i % every === 0 && roomBelowLast(i)));
  const tickLabel = (tick: number) => options.format(options.log ? 10 ** tick : tick);
  let labelWidth = 0;
  for (const tick of ticks) labelWidth = Math.max(labelWidth, context.measureText(tickLabel(tick)).width);
  const left = Math.max(30, Math.ceil(labelWidth) + 10);

  const xMax = Math.max(n - 1, 100);
  const px = (x: number) => left + (x / xMax) * (right - left);
  const py = (y: number) => bottom - ((y - yMin) / (yMax - yMin)) * (bottom - top);

  // A long run is drawn from each pixel column's first, lowest, highest and last value, so it
  // costs the same after a hundred thousand steps and still shows every spike.
  const xs: number[] = [];
  const ys: number[] = [];
  const columns = Math.max(1, Math.floor(right - left));
  const keep = (i: number) => {
    xs.push(i);
    ys.push(transform(values[i]));
  };
  if (n <= 4 * columns) {
    for (let i = 0; i < n; i++) if (Number.isFinite(values[i])) keep(i);
  } else {
    for (let c = 0; c < columns; c++) {
      const start = Math.floor((c * n) / columns);
      const end = Math.floor(((c + 1) * n) / columns);
      let first = -1;
      let low = -1;
      let high = -1;
      let lastFinite = -1;
      for (let i = start; i < end; i++) {
        const y = values[i];
        if (!Number.isFinite(y)) continue;
        if (first < 0) first = low = high = i;
        if (y < values[low]) low = i;
        if (y > values[high]) high = i;
        lastFinite = i;
      }
      if (first < 0) continue;
      for (const i of new Set([first, Math.min(low, high), Math.max(low, high), lastFinite])) keep(i);
    }
  }

  context.lineWidth = 1;
  context.textBaseline = "middle";
  context.textAlign = "right";
  for (const tick of ticks) {
    context.strokeStyle = GRID;
    context.beginPath();
    context.moveTo(left, Math.round(py(tick)) + 0.5);
    context.lineTo(right, Math.round(py(tick)) + 0.5);
    context.stroke();
    context.fillStyle = AXIS;
    context.fillText(tickLabel(tick), left - 5, py(tick));
  }
  context.textAlign = "center";
  context.textBaseline = "top";
  context.fillText("0", left, bottom + 4);
  context.textAlign = "right";
  context.fillText(`${xMax.toLocaleString("en-US")} steps`, right, bottom + 4);

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
