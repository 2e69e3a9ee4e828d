// The commands' plans: flags → a plan, checked without spawning a process or touching a file.
import { describe, expect, it } from "vitest";
import { helpText, parseFlags, UsageError } from "../src/cli/flags.js";
import { GPT_TRAIN, planGPTTraining } from "../src/cli/gpt-train.js";
import { planTraining, TRAIN } from "../src/cli/train.js";

const trainPlan = (...args: string[]) => planTraining(parseFlags(TRAIN, args).values);
const gptPlan = (...args: string[]) => planGPTTraining(parseFlags(GPT_TRAIN, args).values);

describe("train's plan", () => {
  it("fills in the defaults of each data set", () => {
    const moons = trainPlan();
    expect(moons.source).toEqual({
      kind: "generated",
      name: "moons",
      options: { nSamples: 100, noise: 0.1, seed: 1 },
    });
    expect(moons).toMatchObject({
      name: "moons",
      out: "out/moons",
      testSize: 0.2,
      standardize: false,
      hidden: [16, 16],
    });
    expect(moons.fit).toMatchObject({
      optimizer: "adam",
      lr: 0.02,
      l2: 1e-4,
      steps: 200,
      seed: 1,
      compile: true,
    });
    expect(moons.fit.epochs).toBeUndefined();

    const digits = trainPlan("--dataset", "digits");
    expect(digits.source).toEqual({ kind: "digits" });
    expect(digits.hidden).toEqual([32]);
    expect(digits.fit).toMatchObject({ epochs: 10, batchSize: 32, lr: 0.01 });
    expect(digits.fit.steps).toBeUndefined();

    expect(trainPlan("--dataset", "spiral").fit.steps).toBe(500);
    expect(trainPlan("--dataset", "spiral", "--classes", "4").source).toMatchObject({
      options: { nSamples: 300, nClasses: 4 },
    });
    expect(trainPlan("--dataset", "blobs", "--classes", "4").source).toMatchObject({
      options: { centers: 4 },
    });
  });

  it("names a CSV run after its file, and standardizes it unless told not to", () => {
    const csv = trainPlan("--data", "some/where/iris.csv");
    expect(csv).toMatchObject({ name: "iris", out: "out/iris", standardize: true });
    expect(csv.source).toEqual({ kind: "csv", path: "some/where/iris.csv" });
    expect(trainPlan("--data", "iris.csv", "--no-standardize").standardize).toBe(false);
    expect(trainPlan("--standardize").standardize).toBe(true);
  });

  it("turns the schedule flags into a schedule, and sgd into its own learning rate", () => {
    expect(trainPlan("--schedule", "linear").fit.schedule).toEqual({ kind: "linear", endFactor: 0.1 });
    expect(trainPlan("--schedule", "cosine", "--lr-end", "0.2").fit.schedule).toEqual({
      kind: "cosine",
      endFactor: 0.2,
    });
    expect(trainPlan("--schedule", "constant").fit.schedule).toBeUndefined();
    expect(trainPlan("--optimizer", "sgd", "--momentum", "0.9").fit).toMatchObject({
      lr: 0.1,
      momentum: 0.9,
    });
    expect(trainPlan("--no-compile", "--hidden", "").fit.compile).toBe(false);
    expect(trainPlan("--hidden", "").hidden).toEqual([]);
    expect(trainPlan("--max-graph", "1e6").limits).toEqual({ maxParams: 1_000_000, maxGraph: 1_000_000 });
  });

  it("trains on this thread unless --workers says otherwise", () => {
    expect(trainPlan().workers).toBe(1);
    expect(trainPlan("--workers", "3").workers).toBe(3);
    expect(trainPlan("--no-compile", "--workers", "1").workers).toBe(1);
  });

  it.each([
    [["--dataset", "moons", "--data", "x.csv"], "give --dataset or --data, not both"],
    [["--classes", "3"], "--classes applies to --dataset spiral or blobs"],
    [["--dataset", "digits", "--noise", "0.2"], "--samples and --noise apply to generated data sets"],
    [["--dataset", "spiral", "--classes", "200"], "--classes 200 needs at least 400 samples"],
    [["--standardize", "--no-standardize"], "give --standardize or --no-standardize, not both"],
    [["--momentum", "0.5"], "--momentum applies to --optimizer sgd"],
    [["--lr-end", "0.5"], "--lr-end needs --schedule linear or cosine"],
    [["--steps", "5", "--epochs", "1"], "give --steps or --epochs, not both"],
    [["--hidden", "16,0"], "--hidden must be comma-separated positive integers"],
    [["--workers", "0"], "--workers must be an integer >= 1"],
    [
      ["--no-compile", "--workers", "2"],
      "--workers replays the compiled step on each thread; drop --no-compile",
    ],
  ])("%j is refused: %s", (args, message) => {
    expect(() => trainPlan(...args)).toThrow(UsageError);
    expect(() => trainPlan(...args)).toThrow(message);
  });
});

describe("the flag table", () => {
  it.each([
    [["--steps", "0"], '--steps must be an integer >= 1, got "0"'],
    [["--steps", "1.5"], '--steps must be an integer >= 1, got "1.5"'],
    [["--lr", "0"], '--lr must be a number > 0, got "0"'],
    [["--lr", "-1"], '--lr must be a number > 0, got "-1"'],
    [["--test-size", "1"], "--test-size must be below 1, got 1"],
    [
      ["--noise", "101"],
      "--noise must be at most 100 (the points lie within about 3 of each other), got 101",
    ],
    [["--samples", "2000000"], "--samples must be at most 1,000,000, got 2000000"],
    [["--lr-end", "2"], "--lr-end is a fraction of --lr, at most 1, got 2"],
    [["--loss", "l1"], '--loss: unknown "l1"; expected hinge, mse, bce, softmax'],
    [["--out", " "], '--out needs a path, got " "'],
  ])("%j: %s", (args, message) => {
    expect(() => parseFlags(TRAIN, args)).toThrow(message);
  });

  it("reads whole numbers written as 1e6 or 1000.0, and a value given with =", () => {
    expect(parseFlags(TRAIN, ["--steps", "1e3", "--samples=1000.0"]).values).toEqual({
      steps: 1000,
      samples: 1000,
    });
  });

  it("refuses text after the flags unless the command takes it, and --help checks nothing", () => {
    expect(() => parseFlags(TRAIN, ["moons"])).toThrow(/Unexpected argument 'moons'/);
    expect(parseFlags(TRAIN, ["--steps", "-3", "--help"]).help).toBe(true);
  });

  it("writes the help from the table: every flag, by section, its continuation lines aligned", () => {
    const help = helpText(TRAIN);
    for (const name of Object.keys(TRAIN.flags)) expect(help).toContain(`--${name}`);
    expect(help).toMatch(
      /^micrograd train — train an MLP classifier\n\nUsage: micrograd train \[options\]\n\nData \(one of\):\n/,
    );
    const lines = help.split("\n");
    const data = lines.findIndex((line) => line.startsWith("  --data FILE.csv"));
    const column = lines[data].indexOf("your own");
    expect(lines[data + 1].search(/\S/)).toBe(column);
  });
});

describe("gpt train's plan", () => {
  it("is the reference microgpt's recipe by default", () => {
    expect(gptPlan()).toMatchObject({
      text: false,
      heldOut: 0.1,
      splitSeed: 42,
      config: { nLayer: 1, nEmbd: 16, nHead: 4, blockSize: 16 },
      steps: 1000,
      batchSize: 1,
      lr: 0.01,
      weightDecay: 0,
      warmup: 0,
      schedule: "linear",
      seed: 42,
      compile: true,
      limits: { maxParams: 1_000_000, maxGraph: 10_000_000 },
      out: "out/gpt",
      temperature: 0.5,
      pictures: true,
      quiet: false,
    });
    const plan = gptPlan();
    for (const absent of ["data", "time", "clip", "evalEvery", "checkpointEvery", "name"] as const) {
      expect(plan[absent]).toBeUndefined();
    }
  });

  it("scales the default learning rate down as the width grows; --time replaces --steps", () => {
    expect(gptPlan("--embd", "32", "--heads", "4").lr).toBe(0.005);
    expect(gptPlan("--embd", "64", "--heads", "4").lr).toBe(0.0025);
    expect(gptPlan("--embd", "64", "--heads", "4", "--lr", "0.02").lr).toBe(0.02);
    expect(gptPlan("--time", "300")).toMatchObject({ time: 300, steps: undefined });
  });

  it("--text trains the measured model of running text, its rate scaled from 0.01 at 32 wide", () => {
    const text = (...args: string[]) => gptPlan("--text", "--data", "shakespeare.txt", ...args);
    expect(text()).toMatchObject({
      text: true,
      config: { nLayer: 2, nEmbd: 48, nHead: 4, blockSize: 32 },
      batchSize: 8,
      warmup: 0,
      schedule: "linear",
    });
    expect(text().lr).toBeCloseTo(0.01 * (32 / 48), 15);
    expect(text("--embd", "32").lr).toBe(0.01);
    expect(text("--embd", "64").lr).toBe(0.005);
    expect(text("--embd", "64", "--lr", "0.02").lr).toBe(0.02);
    expect(text("--layers", "1", "--block", "64", "--batch", "4")).toMatchObject({
      config: { nLayer: 1, nEmbd: 48, blockSize: 64 },
      batchSize: 4,
    });
  });

  it("takes the flags, and refuses a width the heads do not divide", () => {
    expect(gptPlan("--embd", "32", "--heads", "8", "--block", "64", "--no-compile")).toMatchObject({
      config: { nEmbd: 32, nHead: 8, blockSize: 64 },
      compile: false,
    });
    expect(() => gptPlan("--embd", "30", "--heads", "4")).toThrow(
      "--embd (30) must be a multiple of --heads (4)",
    );
    expect(() => gptPlan("--held-out", "1")).toThrow("--held-out must be below 1");
  });
});
