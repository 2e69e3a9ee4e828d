// What the plots (boundary.ts, curves.ts) share: the box a plot is drawn in, the title, round
// numbers for ticks and their labels, and the check of a picture's size.
import { CHAR_WIDTH, text } from "./svg.js";

/** Where a plot is drawn, in pixels. */
export type Box = { left: number; top: number; right: number; bottom: number };

/** The title, centred, in a smaller font when it would not fit the width. */
export function titleText(width: number, title: string): string {
  const size = Math.max(8, Math.min(14, Math.floor((width - 12) / (title.length * CHAR_WIDTH * 1.08))));
  return text(width / 2, 22, title, { size, anchor: "middle", weight: "bold" });
}

/** Round numbers 1, 2 or 5 × 10^k apart that cover [min, max] in about `count` steps. */
export function niceTicks(min: number, max: number, count: number): number[] {
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

/** A tick's label with the decimals its step needs, and a true minus sign (−) for negatives. */
export function formatTick(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(Math.abs(step) || 1) + 1e-9));
  const s = value.toFixed(decimals);
  return s.startsWith("-") && Number(s) !== 0 ? `−${s.slice(1)}` : s.replace(/^-/, "");
}

/** A width or height in pixels, checked: a picture of 100 to 10000 pixels a side. */
export function checkSize(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 100 && value <= 10000)) {
    throw new RangeError(`${name} must be a number of pixels from 100 to 10000, got ${value}`);
  }
  return value;
}
