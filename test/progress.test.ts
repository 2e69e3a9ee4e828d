// The training progress display: a bar redrawn in place on a terminal, plain lines in a pipe.
import { describe, expect, it, vi } from "vitest";
import { GPT_PROGRESS_LEGEND, PIPED_INTERVAL_MS, PROGRESS_LEGEND, Progress } from "../src/cli/progress.js";
import type { StepRecord } from "../src/train.js";

function stream(isTTY: boolean, columns?: number) {
  const chunks: string[] = [];
  return { chunks, isTTY, columns, write: (text: string) => chunks.push(text) };
}

const record = (step: number, validationAccuracy?: number): StepRecord => ({
  step,
  epoch: 0,
  loss: 1 / (step + 1),
  accuracy: step / 100,
  lr: 0.1,
  ...(validationAccuracy === undefined ? {} : { validationAccuracy }),
});

/** The text a terminal shows for one redraw: without the carriage return and the erase-line code. */
const visible = (chunk: string) => chunk.replace("\r\x1b[2K", "");

describe("Progress", () => {
  it("redraws one line with a bar on a terminal, then says what its numbers are", () => {
    const out = stream(true);
    const progress = new Progress(out, 100);
    for (let step = 0; step < 100; step++) progress.update(record(step));
    progress.finish();
    const text = out.chunks.join("");
    expect(text.startsWith("\r")).toBe(true);
    expect(text.endsWith(`\n${PROGRESS_LEGEND}\n`)).toBe(true);
    expect(text.slice(0, -PROGRESS_LEGEND.length - 2)).not.toContain("\n"); // one redrawn line
    expect(out.chunks.at(-3)).toMatch(
      /step 100\/100 \[#{24}\] loss 0\.0100 {2}acc 99\.0% {2}[\d.]+ steps\/s$/,
    );
    expect(PROGRESS_LEGEND).toContain("before its update");
    expect(PROGRESS_LEGEND).not.toContain("held-out");
  });

  it("fits the bar's line to the terminal's width", () => {
    for (const columns of [120, 60, 40, 10]) {
      const out = stream(true, columns);
      const progress = new Progress(out, 1000);
      for (let step = 0; step < 1000; step += 111) progress.update(record(step, 0.5));
      progress.update(record(999, 0.875));
      const last = visible(out.chunks.at(-1) as string);
      expect(last.length, `${columns} columns`).toBeLessThanOrEqual(columns - 1);
      expect(last.slice(0, 16)).toBe("step 1,000/1,000".slice(0, columns - 1));
      if (columns === 120) expect(last).toMatch(/\[#{24}\] loss 0\.0010 {2}acc 999\.0% {2}held-out 87\.5%/);
      if (columns === 60) expect(last).not.toContain("["); // the bar gives way to the numbers
    }
  });

  it("a language model's line (no accuracy) fits a narrow terminal; its own legend follows", () => {
    for (const columns of [30, 12]) {
      const out = stream(true, columns);
      const progress = new Progress(out, 5000);
      progress.legend = GPT_PROGRESS_LEGEND;
      progress.update({ step: 4999, loss: 2.25 });
      progress.finish();
      const [line, legend] = visible(out.chunks.join("")).split("\n");
      expect(line.length, `${columns} columns`).toBeLessThanOrEqual(columns - 1);
      expect(line.startsWith("step 5,000/5,000".slice(0, columns - 1))).toBe(true);
      expect(legend).toBe(GPT_PROGRESS_LEGEND);
    }
    expect(GPT_PROGRESS_LEGEND).toContain("averaged over the last 100 steps");
  });

  it("writes about ten plain lines when piped, and the legend after them", () => {
    const out = stream(false);
    const progress = new Progress(out, 100);
    for (let step = 0; step < 100; step++) progress.update(record(step));
    progress.finish();
    const lines = out.chunks.join("").split("\n").filter(Boolean);
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatch(/^step {3}1\/100 {2}loss 1\.0000 {2}acc 0\.0%/);
    expect(lines.at(-2)).toMatch(/^step 100\/100/);
    expect(lines.at(-1)).toBe(PROGRESS_LEGEND);
    expect(out.chunks.join("")).not.toContain("\r");
  });

  it("piped, prints a line at least every 30 s, however far the next tenth is", () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    try {
      const out = stream(false);
      const progress = new Progress(out, 1_000_000);
      progress.update(record(0));
      vi.advanceTimersByTime(PIPED_INTERVAL_MS - 1000);
      progress.update(record(1));
      expect(out.chunks).toHaveLength(1);
      vi.advanceTimersByTime(1000);
      progress.update(record(2));
      expect(out.chunks).toHaveLength(2);
      expect(out.chunks[1]).toMatch(/^step +3\/1,000,000 {2}loss/);
      progress.update(record(3));
      expect(out.chunks).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
