import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MANIFEST } from "../src/cli/output.js";
import { loadModel } from "../src/node/models.js";
import { predict } from "../src/train.js";
import { micrograd, requireBuild, root, runFiles } from "./program.js";

const folder = () => mkdtempSync(join(tmpdir(), "micrograd-cli-"));

requireBuild();

describe("help and usage errors", () => {
  it("--help everywhere, exit 0", async () => {
    for (const args of [
      ["--help"],
      ["help"],
      ["train", "--help"],
      ["predict", "--help"],
      ["graph", "-h"],
      ["demo", "--help"],
    ]) {
      const run = await micrograd(args);
      expect(run.code, args.join(" ")).toBe(0);
      expect(run.stdout).toContain("Usage: micrograd");
    }
  });

  it("--version prints the package version", async () => {
    const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    expect((await micrograd(["--version"])).stdout.trim()).toBe(version);
  });

  it("exit 2 with a message for a wrong command line", async () => {
    const cases: [string[], string][] = [
      [[], "Usage: micrograd <command>"],
      [["fly"], 'unknown command "fly"'],
      [["train", "--bogus"], "Unknown option '--bogus'"],
      [["train", "--dataset", "mnist"], '--dataset: unknown "mnist"'],
      [["train", "--hidden", "16,x"], "--hidden must be comma-separated positive integers"],
      [["train", "--steps", "0"], "--steps must be an integer >= 1"],
      [["train", "--lr", "fast"], '--lr must be a number > 0, got "fast"'],
      [["train", "--steps", "5", "--epochs", "1"], "give --steps or --epochs, not both"],
      [["train", "--loss", "hinge2"], '--loss: unknown "hinge2"'],
      [["predict", "--input", "1,2"], "--model FILE is required"],
      [["graph", "--expr", "x +* 2", "--values", "x=1"], "--expr: expected a number"],
      [["graph", "--expr", "x*y", "--values", "x=1"], '"y" has no value'],
      [["graph", "--out", "picture.jpg"], "must end in .svg, .png or .dot"],
      [["graph", "--expr", "log(x)", "--values", "x=-1"], "--expr: log(-1): input must be > 0"],
      [["graph", "--expr", "sqrt(x)", "--values", "x=0"], "--expr: backward(): the derivative of sqrt(0)"],
      [["train", "--dataset", "moons", "--classes", "3"], "--classes applies to --dataset spiral or blobs"],
      [
        ["train", "--dataset", "digits", "--samples", "50"],
        "--samples and --noise apply to generated data sets",
      ],
      [["train", "--schedule", "linear", "--lr-end", "5"], "--lr-end is a fraction of --lr, at most 1"],
      [["train", "--optimizer", "sgd", "--momentum", "1.5"], "--momentum must be below 1"],
    ];
    for (const [args, message] of cases) {
      const run = await micrograd(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr + run.stdout, args.join(" ")).toContain(message);
    }
  });
});

describe("train and predict", () => {
  it("trains, writes model and history, and predict agrees with the library", async () => {
    const out = join(folder(), "run");
    const run = await micrograd([
      "train",
      "--dataset",
      "moons",
      "--steps",
      "30",
      "--seed",
      "3",
      "--out",
      out,
      "--no-pictures",
    ]);
    expect(run.stderr).toContain("step 30/30");
    expect(run.stderr).not.toContain("\r"); // piped: plain lines, no redrawn bar
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /after the last update: training loss \d\.\d{4} \(without L2\), training accuracy \d+\.\d% \(80 samples\); test accuracy \d+\.\d% \(20 held-out samples\)/,
    );
    expect(runFiles(out).sort()).toEqual(["history.json", "model.json"]);
    const history = JSON.parse(readFileSync(join(out, "history.json"), "utf8")) as {
      history: { loss: number }[];
    };
    expect(history.history).toHaveLength(30);

    const { model } = loadModel(join(out, "model.json"));
    const inputs = [
      [0.5, 0.2],
      [1, -0.5],
      [-1, 1],
    ];
    const predicted = await micrograd([
      "predict",
      "--model",
      join(out, "model.json"),
      "--json",
      ...inputs.map((x) => `--input=${x.join(",")}`),
    ]);
    expect(predicted.code).toBe(0);
    const json = JSON.parse(predicted.stdout) as { predictions: { class: number; score: number }[] };
    expect(json.predictions.map((p) => p.class)).toEqual(predict(model, inputs));
  });

  it("--no-compile trains eagerly to the same numbers, and the summary says which path ran", async () => {
    const runs = [];
    for (const flags of [[], ["--no-compile"]]) {
      const out = join(folder(), "run");
      const args = ["train", "--steps", "5", "--seed", "2", "--out", out, "--no-pictures", "--quiet"];
      const run = await micrograd([...args, ...flags]);
      expect(run.code, run.stderr).toBe(0);
      const { options, history } = JSON.parse(readFileSync(join(out, "history.json"), "utf8")) as {
        options: { compile: boolean };
        history: { loss: number }[];
      };
      runs.push({ stdout: run.stdout, compile: options.compile, losses: history.map((r) => r.loss) });
    }
    const [compiled, eager] = runs;
    expect(compiled.stdout).toMatch(/trained 5 steps in \d+\.\d s \(compiled, [\d.]+ steps\/s\)/);
    expect(eager.stdout).toMatch(/trained 5 steps in \d+\.\d s \(eager, [\d.]+ steps\/s\)/);
    expect([compiled.compile, eager.compile]).toEqual([true, false]);
    expect(eager.losses).toHaveLength(5);
    eager.losses.forEach((loss, i) => {
      expect(Math.abs(compiled.losses[i] - loss)).toBeLessThanOrEqual(1e-12 * Math.abs(loss));
    });
    for (const command of ["train", "demo"]) {
      expect((await micrograd([command, "--help"])).stdout).toContain("--no-compile");
    }
  });

  it("predicts a CSV of inputs with labels and reports accuracy", async () => {
    const dir = folder();
    const out = join(dir, "run");
    expect(
      (
        await micrograd([
          "train",
          "--dataset",
          "xor",
          "--steps",
          "50",
          "--out",
          out,
          "--no-pictures",
          "--quiet",
        ])
      ).code,
    ).toBe(0);
    const csv = join(dir, "points.csv");
    writeFileSync(csv, "x,y,label\n1,1,1\n-1,-1,1\n1,-1,0\n-1,1,0\n");
    const run = await micrograd(["predict", "--model", join(out, "model.json"), "--data", csv]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("accuracy 4/4");
    writeFileSync(csv, "1,1,1\n-1,-1,\n");
    const empty = await micrograd(["predict", "--model", join(out, "model.json"), "--data", csv]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain(`${csv}:2: label "" is not a class index in 0..1`);
  });

  it("trains on the user's CSV with names for classes, standardized", async () => {
    const dir = folder();
    const csv = join(dir, "data.csv");
    const rows = Array.from({ length: 40 }, (_, i) => {
      const x = (i % 20) * 10;
      return `${x},${(i * 7) % 13},${x >= 100 ? "big" : "small"}`;
    });
    writeFileSync(csv, `size,noise,kind\n${rows.join("\n")}\n`);
    const out = join(dir, "run");
    const run = await micrograd([
      "train",
      "--data",
      csv,
      "--steps",
      "80",
      "--out",
      out,
      "--no-pictures",
      "--quiet",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const { metadata } = loadModel(join(out, "model.json"));
    expect(metadata.classNames).toEqual(["small", "big"]);
    expect(metadata.scaler?.mean[0]).toBeCloseTo(95, 10);
    const predicted = await micrograd([
      "predict",
      "--model",
      join(out, "model.json"),
      "--input",
      "190,3",
      "--input",
      "0,3",
    ]);
    expect(predicted.stdout).toMatch(/class big[\s\S]*class small/);
  });

  it("predict reads the labels of the CSV it was trained on: names or ±1", async () => {
    const dir = folder();
    for (const [name, labels] of [
      ["names", ["small", "big"]],
      ["signs", ["-1", "1"]],
    ] as const) {
      const csv = join(dir, `${name}.csv`);
      const rows = Array.from(
        { length: 40 },
        (_, i) => `${i},${(i * 7) % 5},${i >= 20 ? labels[1] : labels[0]}`,
      );
      writeFileSync(csv, `a,b,label\n${rows.join("\n")}\n`);
      const out = join(dir, name);
      const trained = await micrograd([
        "train",
        "--data",
        csv,
        "--steps",
        "150",
        "--test-size",
        "0",
        "--out",
        out,
        "--no-pictures",
        "--quiet",
      ]);
      expect(trained.code, trained.stderr).toBe(0);
      const run = await micrograd(["predict", "--model", join(out, "model.json"), "--data", csv, "--json"]);
      expect(run.code, run.stderr).toBe(0);
      const { accuracy } = JSON.parse(run.stdout) as { accuracy: number };
      expect(accuracy).toBeGreaterThanOrEqual(0.95);
    }
    const wrong = join(dir, "wrong.csv");
    writeFileSync(wrong, "1,2,medium\n");
    const run = await micrograd(["predict", "--model", join(dir, "names", "model.json"), "--data", wrong]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${wrong}:1: label "medium" is not one of the model's classes (small, big)`);
  });

  it("a run that cannot write its files fails before training and changes nothing", async () => {
    const dir = folder();
    const out = join(dir, "run");
    expect((await micrograd(["train", "--steps", "5", "--out", out, "--quiet"])).code).toBe(0);
    const before = Object.fromEntries(readdirSync(out).map((name) => [name, readFileSync(join(out, name))]));
    rmSync(join(out, "curves.png"));
    mkdirSync(join(out, "curves.png"));
    const run = await micrograd(["train", "--steps", "50", "--seed", "7", "--out", out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${join(out, "curves.png")} exists and is not a file`);
    expect(run.stderr).not.toContain("step "); // refused before training
    for (const name of Object.keys(before)) {
      if (name !== "curves.png") expect(readFileSync(join(out, name)), name).toEqual(before[name]);
    }
    expect(readdirSync(out).filter((name) => name.startsWith(".") && name !== MANIFEST)).toEqual([]);
  });

  it("bad files: exit 1, the reason, and nothing on disk touched", async () => {
    const dir = folder();
    const out = join(dir, "run");
    const trainRun = await micrograd(["train", "--steps", "5", "--out", out, "--no-pictures", "--quiet"]);
    expect(trainRun.code).toBe(0);
    const model = readFileSync(join(out, "model.json"), "utf8");

    const malformed = join(dir, "bad.csv");
    writeFileSync(malformed, "1,2,0\n3,4,1\n5,oops,0\n");
    const bad = await micrograd(["train", "--data", malformed, "--out", out]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${malformed}:3: column 2 is "oops", not a finite number`);
    expect(readFileSync(join(out, "model.json"), "utf8")).toBe(model);

    const missing = await micrograd(["train", "--data", join(dir, "none.csv"), "--out", out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no such file");

    const corrupt = join(dir, "corrupt.json");
    writeFileSync(corrupt, model.slice(0, model.length / 2));
    const load = await micrograd(["predict", "--model", corrupt, "--input", "1,2"]);
    expect(load.code).toBe(1);
    expect(load.stderr).toContain(`${corrupt}: not a valid micrograd model`);

    const wrongWidth = await micrograd(["predict", "--model", join(out, "model.json"), "--input", "1,2,3"]);
    expect(wrongWidth.code).toBe(2);
    expect(wrongWidth.stderr).toContain("3 features, but the model takes 2");

    const file = join(dir, "taken");
    writeFileSync(file, "mine");
    const clash = await micrograd(["train", "--steps", "5", "--out", file]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain("exists and is not a folder");
    expect(readFileSync(file, "utf8")).toBe("mine");
    expect(runFiles(out).sort()).toEqual(["history.json", "model.json"]);
  });
});

describe("demo and pictures", () => {
  it("the demo reaches 100% and writes the model, history and pictures", async () => {
    const out = join(folder(), "demo");
    const run = await micrograd(["demo", "--out", out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("training accuracy 100.0%");
    for (const name of [
      "model.json",
      "history.json",
      "boundary.svg",
      "boundary.png",
      "curves.svg",
      "curves.png",
      "training.gif",
    ]) {
      expect(existsSync(join(out, name)), name).toBe(true);
      expect(run.stdout).toContain(join(out, name));
    }
  });

  it("graph draws the neuron example and an expression", async () => {
    const dir = folder();
    const neuron = await micrograd(["graph", "--out", join(dir, "neuron.svg")]);
    expect(neuron.code, neuron.stderr).toBe(0);
    expect(neuron.stdout).toContain("output 0.707107");
    const svg = readFileSync(join(dir, "neuron.svg"), "utf8");
    expect(svg).toContain("<svg");
    expect(svg).toContain("tanh");

    const dot = await micrograd([
      "graph",
      "--expr",
      "(a*b + c)^2",
      "--values",
      "a=2,b=-3,c=10",
      "--out",
      join(dir, "e.dot"),
    ]);
    expect(dot.code, dot.stderr).toBe(0);
    expect(dot.stdout).toContain("output 16");
    const text = readFileSync(join(dir, "e.dot"), "utf8");
    expect(text).toContain("digraph");
  });
});
