// The training progress display: a bar redrawn in place on a terminal, plain lines in a pipe.
import { describe, expect, it } from "vitest";
import { Progress } from "../src/cli/progress.js";
import type { StepRecord } from "../src/train.js";

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, isTTY, write: (text: string) => chunks.push(text) };
}

const record = (step: number): StepRecord => ({
  step,
  epoch: 0,
  loss: 1 / (step + 1),
  accuracy: step / 100,
  lr: 0.1,
});

describe("Progress", () => {
  it("redraws one line with a bar on a terminal", () => {
    const out = stream(true);
    const progress = new Progress(out, 100);
    for (let step = 0; step < 100; step++) progress.update(record(step));
    progress.finish();
    const text = out.chunks.join("");
    expect(text.startsWith("\r")).toBe(true);
    expect(text).not.toMatch(/\n(?!$)/); // one line, ended once at the finish
    expect(out.chunks.at(-2)).toMatch(
      /step 100\/100 \[#{24}\] loss 0\.0100 {2}acc 99\.0% {2}[\d.]+ steps\/s$/,
    );
  });

  it("writes about ten plain lines when piped", () => {
    const out = stream(false);
    const progress = new Progress(out, 100);
    for (let step = 0; step < 100; step++) progress.update(record(step));
    progress.finish();
    const lines = out.chunks.join("").split("\n").filter(Boolean);
    expect(lines).toHaveLength(11);
    expect(lines[0]).toMatch(/^step {3}1\/100 {2}loss 1\.0000 {2}acc 0\.0%/);
    expect(lines.at(-1)).toMatch(/^step 100\/100/);
    expect(out.chunks.join("")).not.toContain("\r");
  });
});
