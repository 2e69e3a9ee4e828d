// The language-model workbench on the command line: held-out loss while training, the log, the
// time on the progress line, and the plans of the gpt commands (checked without a process).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseFlags } from "../src/cli/flags.js";
import { GPT_TRAIN, planGPTTraining } from "../src/cli/gpt-train.js";
import { clock, Progress } from "../src/cli/progress.js";
import { evaluateGPT } from "../src/gpt-train.js";
import { loadGPT } from "../src/node/models.js";
import { sampleWithProbabilities } from "../src/sampling.js";
import { characterLogProbabilities } from "../src/scoring.js";
import { lossCurveSvg } from "../src/viz/attention.js";
import { micrograd, program, requireBuild, root, runFiles } from "./program.js";

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

describe("gpt sample, eval and score (a model trained for 30 steps on the names)", () => {
  const dir = folder();
  const model = join(dir, "run", "model.json");
  beforeAll(async () => {
    const run = await micrograd([
      "gpt",
      "train",
      "--steps",
      "30",
      "--quiet",
      "--no-pictures",
      "--out",
      join(dir, "run"),
    ]);
    expect(run.code, run.stderr).toBe(0);
  }, 60_000);

  it("the sampler's probability of each character is the scorer's: the two read the model alike", () => {
    const { gpt, tokenizer } = loadGPT(model);
    const [sample] = sampleWithProbabilities(gpt, tokenizer, { n: 1, greedy: true, seed: 1 });
    const logs = characterLogProbabilities(gpt, tokenizer, sample.text).map((c) => c.logProbability);
    sample.characters.forEach(({ probability }, i) => {
      expect(Math.log(probability)).toBeCloseTo(logs[i], 12);
    });
  });

  it("gpt sample --top-k --top-p --greedy --length --json", async () => {
    const greedy = await micrograd(["gpt", "sample", "--model", model, "--greedy", "--n", "3"]);
    expect(greedy.code, greedy.stderr).toBe(0);
    const lines = greedy.stdout.trim().split("\n");
    expect(new Set(lines).size).toBe(1);
    const json = await micrograd([
      "gpt",
      "sample",
      "--model",
      model,
      "--n",
      "2",
      "--top-k",
      "3",
      "--length",
      "40",
      "--json",
      "--prefix",
      "ma",
    ]);
    expect(json.code, json.stderr).toBe(0);
    const { samples } = JSON.parse(json.stdout);
    expect(samples).toHaveLength(2);
    for (const s of samples) {
      expect(s.text.startsWith("ma")).toBe(true);
      expect(s.text).toBe(`ma${s.characters.map((c: { character: string }) => c.character).join("")}`);
      expect(s.characters.length).toBeLessThanOrEqual(40);
      for (const c of s.characters) expect(c.probability > 0 && c.probability <= 1).toBe(true);
    }
    for (const [args, message] of [
      [["--top-k", "0"], '--top-k must be an integer >= 1, got "0"'],
      [["--top-p", "1.5"], "--top-p is a probability, at most 1, got 1.5"],
      [["--top-p", "0"], '--top-p must be a number > 0, got "0"'],
      [["--greedy", "--top-k", "2"], "--greedy always takes the most probable character"],
      [["--length", "0"], '--length must be an integer >= 1, got "0"'],
    ] as const) {
      const refused = await micrograd(["gpt", "sample", "--model", model, ...args]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(message);
    }
  });

  it("gpt eval: loss, bits and perplexity per character beside the bigram of the training names; --json", async () => {
    const data = join(dir, "some-names.txt");
    writeFileSync(data, "emma\nolivia\nava\n");
    const json = await micrograd(["gpt", "eval", "--model", model, "--data", data, "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout);
    const { gpt, tokenizer } = loadGPT(model);
    const docs = ["emma", "olivia", "ava"].map((name) => tokenizer.encode(name));
    expect(result.gpt.loss).toBeCloseTo(evaluateGPT(gpt, docs), 12);
    expect(result.gpt.bitsPerCharacter).toBeCloseTo(result.gpt.loss / Math.LN2, 12);
    expect(result.gpt.perplexity).toBeCloseTo(Math.exp(result.gpt.loss), 12);
    expect(result.characters).toBe(4 + 1 + 6 + 1 + 3 + 1);
    expect(result.bigramData).toBe("the shipped names");
    expect(result.bigram.loss).toBeGreaterThan(1.5);
    expect(result.bigram.loss).toBeLessThan(4);
    const text = await micrograd(["gpt", "eval", "--model", model, "--data", data]);
    expect(text.stdout).toMatch(
      /GPT {4}[\d.]+ nats\/char, [\d.]+ bits\/char, perplexity [\d.]+\n {2}bigram [\d.]+ nats\/char/,
    );
    writeFileSync(data, "emma\nzoë\n");
    const foreign = await micrograd(["gpt", "eval", "--model", model, "--data", data]);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain('document 2 has "ë", a character the model never saw');
  });

  it("gpt score: ln p of each next character, which add up to the loss, and a picture shaded by surprise", async () => {
    const picture = join(dir, "emma.svg");
    const json = await micrograd(["gpt", "score", "--model", model, "--out", picture, "--json", "emma"]);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result.characters.map((c: { character: string }) => c.character)).toEqual([
      "e",
      "m",
      "m",
      "a",
      "(end)",
    ]);
    const { gpt, tokenizer } = loadGPT(model);
    expect(-result.logProbability / 5).toBeCloseTo(gpt.loss(tokenizer.encode("emma")).data, 12);
    const svg = readFileSync(picture, "utf8");
    expect(svg.match(/class="character"/g)).toHaveLength(5);
    const table = await micrograd(["gpt", "score", "--model", model, "--out", picture, "emma"]);
    expect(table.stdout).toMatch(/"e" +-[\d.]+ +[\d.]+ bits/);
    for (const [args, message] of [
      [["zoë"], '"ë" (character 3 of "zoë") is not in the vocabulary'],
      [[], "give one text to score, in quotes; got none"],
      [["a", "b"], "give one text to score, in quotes; got 2"],
      [["--out", join(dir, "x.gif"), "emma"], "--out must end in .svg or .png"],
    ] as const) {
      const refused = await micrograd(["gpt", "score", "--model", model, ...args]);
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toContain(message);
    }
  });
});

describe("gpt train on running text, with checkpoints", () => {
  const dir = folder();
  const shakespeare = join(root, "data", "tinyshakespeare.txt");

  it("--text trains on windows of the file and measures its last tenth; the model knows it is running text", async () => {
    const out = join(dir, "text");
    const run = await micrograd([
      "gpt",
      "train",
      "--data",
      shakespeare,
      "--text",
      "--steps",
      "20",
      "--eval-every",
      "10",
      "--embd",
      "8",
      "--heads",
      "2",
      "--block",
      "8",
      "--batch",
      "2",
      "--no-pictures",
      "--out",
      out,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/on 1,003,8\d\d characters of running text, 111,5\d\d held out/);
    expect(run.stdout).toMatch(/held-out loss per character: GPT [\d.]+, bigram [\d.]+/);
    const model = JSON.parse(readFileSync(join(out, "model.json"), "utf8"));
    expect(model.notes.text).toBe(true);
    const log = readFileSync(join(out, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(log.filter((record) => "heldOut" in record).map((record) => record.step)).toEqual([10, 20]);
    const sample = await micrograd([
      "gpt",
      "sample",
      "--model",
      join(out, "model.json"),
      "--n",
      "1",
      "--length",
      "50",
    ]);
    expect(sample.code, sample.stderr).toBe(0);
    expect(Array.from(sample.stdout.replace(/\n$/, "")).length).toBe(50);
  });

  it("a file of running text trained line by line gets a one-line hint", async () => {
    const paragraphs = join(dir, "paragraphs.txt");
    writeFileSync(paragraphs, "Shall I\ncompare thee\n\nThou art\nmore lovely\n");
    const run = await micrograd([
      "gpt",
      "train",
      "--data",
      paragraphs,
      "--steps",
      "2",
      "--quiet",
      "--no-pictures",
      "--out",
      join(dir, "p"),
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      "looks like running text (blank lines between 2 paragraphs); --text trains on it as one stream",
    );
    const names = await micrograd([
      "gpt",
      "train",
      "--steps",
      "2",
      "--quiet",
      "--no-pictures",
      "--out",
      join(dir, "n"),
    ]);
    expect(names.stderr).not.toContain("hint");
  });

  it("bad input: a clear message, status 2, nothing written", async () => {
    const empty = join(dir, "empty.txt");
    writeFileSync(empty, "");
    const one = join(dir, "one.txt");
    writeFileSync(one, "x");
    const short = join(dir, "short.txt");
    writeFileSync(short, "to be or not to be, that is the question");
    const out = join(dir, "never");
    for (const [args, message] of [
      [["--data", empty, "--text"], "has 0 characters; running text needs at least 2"],
      [["--data", one, "--text"], "has 1 character; running text needs at least 2"],
      [["--data", short, "--text", "--block", "64"], "a window of --block 64 needs 65"],
      [["--time", "0"], '--time must be a number > 0, got "0"'],
      [["--time", "5", "--steps", "10"], "give --steps or --time, not both"],
      [["--text"], "--text needs --data FILE"],
      [["--warmup", "100", "--steps", "100"], "--warmup 100 must be shorter than the run (100 steps)"],
      [["--schedule", "step"], '--schedule: unknown "step"; expected linear, cosine, constant'],
      [["--clip", "0"], '--clip must be a number > 0, got "0"'],
      [["--weight-decay", "-1"], '--weight-decay must be a number >= 0, got "-1"'],
      [["--resume", dir], "holds no checkpoint (checkpoint.json)"],
    ] as const) {
      const run = await micrograd(["gpt", "train", ...args, "--out", out]);
      expect(run.code, `${args.join(" ")}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toContain(message);
    }
    expect(existsSync(out)).toBe(false);
  });

  it("stopped by Ctrl-C and resumed, a run ends with the same weights, to the last bit, as one that was not stopped", async () => {
    const args = [
      "gpt",
      "train",
      "--steps",
      "3000",
      "--checkpoint-every",
      "1000",
      "--eval-every",
      "1000",
      "--no-pictures",
    ];
    const whole = join(dir, "whole");
    const once = await micrograd([...args, "--quiet", "--out", whole]);
    expect(once.code, once.stderr).toBe(0);
    const stopped = join(dir, "stopped");
    const interrupted = await interrupt([...args, "--out", stopped], (stderr) => /step +\d/.test(stderr));
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toContain(`continue with micrograd gpt train --resume ${stopped}`);
    const checkpoint = JSON.parse(readFileSync(join(stopped, "checkpoint.json"), "utf8"));
    expect(checkpoint.step).toBeGreaterThan(0);
    expect(checkpoint.step).toBeLessThan(3000);
    const refused = await micrograd(["gpt", "train", "--resume", stopped, "--lr", "0.02"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--lr cannot change it");
    const fresh = await micrograd([...args, "--out", stopped]);
    expect(fresh.code).toBe(2);
    expect(fresh.stderr).toContain(
      `holds the checkpoint of an earlier run (checkpoint.json); continue it with --resume ${stopped}`,
    );
    const resumed = await micrograd(["gpt", "train", "--resume", stopped, "--no-pictures"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`resuming at step ${checkpoint.step.toLocaleString("en-US")}`);
    const weights = (folder: string) =>
      JSON.parse(readFileSync(join(folder, "model.json"), "utf8")).stateDict;
    expect(weights(stopped)).toEqual(weights(whole));
    const log = readFileSync(join(stopped, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(log.map((record) => record.step)).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    const best = JSON.parse(readFileSync(join(stopped, "best.json"), "utf8"));
    const heldOut = log.filter((record) => "heldOut" in record);
    expect(best.heldOutLoss).toBe(Math.min(...heldOut.map((record) => record.heldOut)));
  }, 120_000);
});

/** Runs the program, sends it SIGINT once `ready` is true of its stderr, and waits for it to end. */
function interrupt(
  args: string[],
  ready: (stderr: string) => boolean,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [program, ...args], { cwd: root });
    let stderr = "";
    let sent = false;
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      if (!sent && ready(stderr)) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    child.stdout.resume();
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}
