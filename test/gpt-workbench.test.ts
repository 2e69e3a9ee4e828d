// The language-model workbench on the command line: held-out loss while training, the log, the
// time on the progress line, and the plans of the gpt commands (checked without a process).
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseFlags } from "../src/cli/flags.js";
import { GPT_TRAIN, planGPTTraining } from "../src/cli/gpt-train.js";
import { clock, Progress } from "../src/cli/progress.js";
import { lossCurveSvg } from "../src/viz/attention.js";
import { micrograd, requireBuild, runFiles } from "./program.js";

requireBuild();
const gptPlan = (...args: string[]) => planGPTTraining(parseFlags(GPT_TRAIN, args).values);
const folder = () => mkdtempSync(join(tmpdir(), "micrograd-workbench-"));

describe("gpt train --eval-every", () => {
  it("measures the held-out loss every N steps and at the last: on the progress, in log.jsonl and on the curve", async () => {
    const out = join(folder(), "run");
    const run = await micrograd(["gpt", "train", "--steps", "25", "--eval-every", "10", "--out", out]);
    expect(run.code, run.stderr).toBe(0);
    expect(runFiles(out).sort()).toEqual(
      [
        "attention.png",
        "attention.svg",
        "history.json",
        "log.jsonl",
        "loss.png",
        "loss.svg",
        "model.json",
      ].sort(),
    );
    const log = readFileSync(join(out, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(log.map((record) => record.step)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    const history = JSON.parse(readFileSync(join(out, "history.json"), "utf8"));
    expect(log.map((record) => record.loss)).toEqual(history.losses);
    // The schedule decays linearly to 0 from 0.01: the rate of step k's update is 0.01 (1 - (k-1)/25).
    log.forEach((record, i) => {
      expect(record.lr).toBeCloseTo(0.01 * (1 - i / 25), 12);
    });
    expect(log.filter((record) => "heldOut" in record).map((record) => record.step)).toEqual([10, 20, 25]);
    for (const record of log) expect(record.seconds).toBeGreaterThanOrEqual(0);
    for (let i = 1; i < log.length; i++) expect(log[i].seconds).toBeGreaterThanOrEqual(log[i - 1].seconds);
    // The held-out loss is a real measurement: above 0 and below the uniform guess over 27 tokens.
    for (const { heldOut } of log.filter((record) => "heldOut" in record)) {
      expect(heldOut).toBeGreaterThan(1);
      expect(heldOut).toBeLessThan(Math.log(27) + 0.1);
    }
    const svg = readFileSync(join(out, "loss.svg"), "utf8");
    expect(svg.match(/class="held-out-point"/g)).toHaveLength(3);
    expect(svg).toContain("held-out during training");
    expect(run.stderr).toMatch(
      /step 25\/25 {2}loss [\d.]+ {2}held-out [\d.]+ {2}[\d.]+ steps\/s {2}\d+:\d\d elapsed/,
    );
  });

  it("plans: --split-seed apart from --seed (by default the same), and --eval-every needs held-out documents", () => {
    expect(gptPlan()).toMatchObject({ seed: 42, splitSeed: 42, evalEvery: undefined });
    expect(gptPlan("--seed", "7")).toMatchObject({ seed: 7, splitSeed: 7 });
    expect(gptPlan("--seed", "7", "--split-seed", "42")).toMatchObject({ seed: 7, splitSeed: 42 });
    expect(gptPlan("--eval-every", "50").evalEvery).toBe(50);
    expect(() => gptPlan("--eval-every", "0")).toThrow('--eval-every must be an integer >= 1, got "0"');
    expect(() => gptPlan("--eval-every", "5", "--held-out", "0")).toThrow(
      /--eval-every .*--held-out 0 keeps none/,
    );
  });
});

describe("the progress line's time", () => {
  it("writes times as m:ss or h:mm:ss", () => {
    expect([0, 9.6, 75, 3600, 3725].map(clock)).toEqual(["0:00", "0:10", "1:15", "1:00:00", "1:02:05"]);
  });

  it("says the time so far and, until the last step, an estimate of the time left", () => {
    const chunks: string[] = [];
    const progress = new Progress({ write: (text: string) => chunks.push(text) }, 4, false);
    progress.timed = true;
    progress.update({ step: 0, loss: 1 });
    progress.update({ step: 3, loss: 1 });
    expect(chunks[0]).toMatch(/steps\/s {2}0:00 elapsed, 0:00 left\n$/);
    expect(chunks[1]).toMatch(/steps\/s {2}0:00 elapsed\n$/);
  });
});

describe("lossCurveSvg's held-out series", () => {
  it("draws each measured point at its step, and refuses a point off the run", () => {
    const losses = Array.from({ length: 100 }, (_, i) => 3 - i / 100);
    const svg = lossCurveSvg(losses, {
      heldOutCurve: [
        { step: 50, loss: 2.6 },
        { step: 100, loss: 2.4 },
      ],
    });
    const points = [...svg.matchAll(/class="held-out-point" data-step="(\d+)" data-value="([\d.]+)"/g)];
    expect(points.map((m) => [Number(m[1]), Number(m[2])])).toEqual([
      [50, 2.6],
      [100, 2.4],
    ]);
    expect(() => lossCurveSvg(losses, { heldOutCurve: [{ step: 101, loss: 2 }] })).toThrow(
      /heldOutCurve\[0\]/,
    );
    expect(() => lossCurveSvg(losses, { heldOutCurve: [{ step: 5, loss: Number.NaN }] })).toThrow(
      /not a finite loss/,
    );
  });
});
