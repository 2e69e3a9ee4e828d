// The `micrograd` program against hostile sizes and shapes (issue 14), one test per row of the
// issue's table and its polish list: the exit status, the message, and what is on disk after.
import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MANIFEST, OUTPUT_FILES } from "../src/cli/output.js";
import { decimated, MAX_HISTORY_RECORDS } from "../src/cli/run.js";
import { loadModel } from "../src/node/models.js";
import { escapeXml } from "../src/viz/svg.js";
import { micrograd, program, requireBuild, root, runFiles } from "./program.js";

/** Runs each command line; each must exit with `code` and say its message on stderr. */
async function expectEach(cases: [string[], string][], code: number, options: { cwd?: string } = {}) {
  for (const [args, message] of cases) {
    const run = await micrograd(args, options);
    expect(run.code, args.join(" ")).toBe(code);
    expect(run.stderr, args.join(" ")).toContain(message);
  }
}

const folder = () => mkdtempSync(join(tmpdir(), "micrograd-hostile-"));
/** Hidden files other than the manifest: what an interrupted run could leave behind. */
const hidden = (dir: string) => readdirSync(dir).filter((name) => name.startsWith(".") && name !== MANIFEST);

requireBuild();

describe("sizes are checked before any work", () => {
  it("refuses a step too large for memory, with its size, and writes nothing", async () => {
    const out = join(folder(), "run");
    const run = await micrograd(["train", "--hidden", "100000", "--steps", "2", "--out", out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "a training step of an MLP 2-100000-1 on 80 samples builds about 40,800,327 values",
    );
    expect(run.stderr).toContain("more than --max-graph 10,000,000");
    expect(run.stderr).not.toContain("step 1/");
    expect(existsSync(out)).toBe(false);
  });

  it("refuses too many parameters; both limits can be lowered and raised", async () => {
    const out = join(folder(), "run");
    const params = await micrograd(["train", "--hidden", "1000,1000", "--out", out]);
    expect(params.code).toBe(2);
    expect(params.stderr).toContain(
      "an MLP 2-1000-1000-1 has 1,005,001 parameters, more than --max-params 1,000,000",
    );
    const lowered = await micrograd(["train", "--hidden", "8", "--max-params", "20", "--out", out]);
    expect(lowered.code).toBe(2);
    expect(lowered.stderr).toContain("an MLP 2-8-1 has 33 parameters, more than --max-params 20");
    // 80 samples × (8 × 4 + 9 + 3) values + 33 parameters + 2 + the L2 term (36) = 3,591.
    const graph = await micrograd(["train", "--hidden", "8", "--max-graph", "3590", "--out", out]);
    expect(graph.code).toBe(2);
    expect(graph.stderr).toContain("builds about 3,591 values");
    const raised = ["--hidden", "8", "--max-graph", "3591", "--max-params", "33", "--steps", "2"];
    const run = await micrograd(["train", ...raised, "--no-pictures", "--quiet", "--out", out]);
    expect(run.code, run.stderr).toBe(0);
    expect(runFiles(out).sort()).toEqual(["history.json", "model.json"]);
  });

  it("refuses a label column that is an id or a measurement, naming the column", async () => {
    const dir = folder();
    const ids = join(dir, "ids.csv");
    writeFileSync(
      ids,
      `a,b,id\n${Array.from({ length: 2000 }, (_, i) => `${i % 7},${i % 5},${i}`).join("\n")}\n`,
    );
    const run = await micrograd(["train", "--data", ids, "--out", join(dir, "run")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `${ids}: the label column (column 3 "id") has 2000 different values in 2000 rows`,
    );
    expect(existsSync(join(dir, "run"))).toBe(false);

    const prices = join(dir, "prices.csv");
    writeFileSync(prices, "1,2,3.5\n2,3,4\n3,4,3.5\n");
    const measured = await micrograd(["train", "--data", prices, "--out", join(dir, "run")]);
    expect(measured.code).toBe(1);
    expect(measured.stderr).toContain(
      "the label column (column 3) holds numbers like 3.5 that are not whole",
    );
  });

  it("400,000 samples and 150,000 predictions: no stack overflow", async () => {
    const dir = folder();
    const out = join(dir, "run");
    // Arrays this long overflowed the stack when spread into push(...) or Math.min(...).
    const full = await micrograd(["train", "--samples", "400000", "--out", out]);
    expect(full.code).toBe(2);
    expect(full.stderr).toContain("on 320,000 samples builds about");
    expect(full.stderr).toContain("use --batch-size 32");
    const args = ["--samples", "400000", "--hidden", "", "--batch-size", "10", "--steps", "3"];
    const run = await micrograd(["train", ...args, "--no-pictures", "--quiet", "--out", out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("(320,000 samples); test accuracy");

    const csv = join(dir, "many.csv");
    writeFileSync(
      csv,
      `${Array.from({ length: 150_000 }, (_, i) => `${(i % 300) / 100 - 1.5},${(i % 7) / 7}`).join("\n")}\n`,
    );
    const predicted = await micrograd(["predict", "--model", join(out, "model.json"), "--data", csv]);
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(predicted.stdout.trim().split("\n")).toHaveLength(150_000);
  });
});

describe("files are read only when they are regular files of bounded size", () => {
  it("a device, a FIFO, a folder or a file over 100 MB: exit 1 at once, nothing written", async () => {
    const dir = folder();
    const fifo = join(dir, "pipe.csv");
    execFileSync("mkfifo", [fifo]);
    const big = join(dir, "big.csv");
    writeFileSync(big, "");
    truncateSync(big, 101 * 1024 * 1024); // sparse: takes no time and no disk
    const out = join(dir, "run");
    const cases: [string[], string][] = [
      [["predict", "--model", "/dev/zero", "--input", "1,2"], "cannot read /dev/zero: it is a device"],
      [["train", "--data", "/dev/zero", "--out", out], "cannot read /dev/zero: it is a device"],
      [["train", "--data", fifo, "--out", out], `cannot read ${fifo}: it is a pipe (FIFO)`],
      [["predict", "--model", fifo, "--input", "1,2"], `cannot read ${fifo}: it is a pipe (FIFO)`],
      [["train", "--data", dir, "--out", out], `cannot read ${dir}: it is a folder`],
      [
        ["train", "--data", big, "--out", out],
        `cannot read ${big}: it is 101 MB, more than the 100 MB a file may have`,
      ],
    ];
    await expectEach(cases, 1);
    expect(existsSync(out)).toBe(false);
  });

  it("a CSV of more than 1,000,000 rows is refused at the row over the limit", async () => {
    const dir = folder();
    const csv = join(dir, "long.csv");
    writeFileSync(csv, "0.5,1\n-0.5,0\n".repeat(500_001));
    const out = join(dir, "run");
    expect((await micrograd(["train", "--steps", "1", "--no-pictures", "--quiet", "--out", out])).code).toBe(
      0,
    );
    for (const args of [
      ["predict", "--model", join(out, "model.json"), "--data", csv],
      ["train", "--data", csv, "--out", join(dir, "other")],
    ]) {
      const run = await micrograd(args);
      expect(run.code, args.join(" ")).toBe(1);
      expect(run.stderr).toContain(`${csv}:1000001: more than 1,000,000 rows, the most a CSV file may have`);
    }
    expect(existsSync(join(dir, "other"))).toBe(false);
  });
});

describe("the output folder", () => {
  it("saves the model before the pictures; a failed picture is reported and the run succeeds", async () => {
    const out = join(folder(), "run");
    const preload = join(root, "test", "fixtures", "failing-curves-png.cjs");
    const run = await micrograd(["train", "--steps", "4", "--out", out], { preload });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("micrograd: curves.png not written: the renderer broke (on purpose)");
    expect(run.stdout).toContain("not written (see above): curves.png");
    expect(runFiles(out).sort()).toEqual(
      ["boundary.png", "boundary.svg", "curves.svg", "history.json", "model.json", "training.gif"].sort(),
    );
    expect(loadModel(join(out, "model.json")).model.nin).toBe(2);
  });

  it("draws a large data set's pictures from a sample of 2,000 points", async () => {
    const out = join(folder(), "run");
    const args = ["--samples", "5000", "--hidden", "", "--batch-size", "10", "--steps", "2"];
    const run = await micrograd(["train", ...args, "--out", out, "--quiet"]);
    expect(run.code, run.stderr).toBe(0);
    const svg = readFileSync(join(out, "boundary.svg"), "utf8");
    expect(svg.match(/class="point"/g)).toHaveLength(2000);
    expect(svg).toContain("(2,000 of 4,000 points shown)");
    expect(existsSync(join(out, "training.gif"))).toBe(true);
  });

  it("a new run replaces the old run's set of files, and leaves other files alone", async () => {
    const dir = folder();
    const out = join(dir, "run");
    const moons = await micrograd(["train", "--steps", "3", "--out", out, "--quiet"]);
    expect(moons.code, moons.stderr).toBe(0);
    expect(readdirSync(out)).toContain("boundary.svg");
    writeFileSync(join(out, "notes.txt"), "mine");
    // Three features: no boundary pictures and no animation this time.
    const csv = join(dir, "three.csv");
    writeFileSync(
      csv,
      Array.from({ length: 30 }, (_, i) => `${i},${i % 4},${i % 3},${i < 15 ? "a" : "b"}`).join("\n"),
    );
    const run = await micrograd(["train", "--data", csv, "--steps", "3", "--out", out, "--quiet"]);
    expect(run.code, run.stderr).toBe(0);
    expect(runFiles(out).sort()).toEqual([
      "curves.png",
      "curves.svg",
      "history.json",
      "model.json",
      "notes.txt",
    ]);
    expect(readFileSync(join(out, "notes.txt"), "utf8")).toBe("mine");
    expect(loadModel(join(out, "model.json")).model.nin).toBe(3);
  });

  it("an empty --out is a usage error, and nothing is written to the current folder", async () => {
    const cwd = folder();
    for (const command of ["train", "demo"]) {
      const run = await micrograd([command, "--out", ""], { cwd });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--out needs a path, got ""');
    }
    const graph = await micrograd(["graph", "--out", ""], { cwd });
    expect(graph.code).toBe(2);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("Ctrl-C while writing removes the unfinished files; Ctrl-C while training writes nothing", async () => {
    const dir = folder();
    const out = join(dir, "demo");
    await expectInterruptedWhileWriting(["demo", "--out", out, "--quiet"], out);

    await expectInterruptedWhileTraining(["train", "--steps", "100000"], dir);
  });
});

/**
 * Ctrl-C as soon as the hidden work folder appears in `out`, i.e. while the files are written:
 * exit 130, the folder removed, only a run's files beside the user's own, which stays as it was.
 */
async function expectInterruptedWhileWriting(
  args: string[],
  out: string,
  options: { preload?: string } = {},
) {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "notes.txt"), "mine");
  const writing = await interrupt(
    args,
    () => hidden(out).some((name) => name.startsWith(".micrograd-run-")),
    options,
  );
  expect(writing.sawCondition).toBe(true);
  expect(writing.code).toBe(130);
  expect(writing.stderr).toContain("micrograd: interrupted (SIGINT); unfinished files removed");
  expect(hidden(out)).toEqual([]);
  for (const name of runFiles(out)) expect([...OUTPUT_FILES, "notes.txt"]).toContain(name);
  expect(readFileSync(join(out, "notes.txt"), "utf8")).toBe("mine");
}

/** Ctrl-C at the first progress line of a run into a new folder of `dir`: nothing is written. */
async function expectInterruptedWhileTraining(args: string[], dir: string) {
  const fresh = join(dir, "fresh");
  const training = await interrupt([...args, "--out", fresh], (stderr) => stderr.includes("step "));
  expect(training.sawCondition).toBe(true);
  expect(training.signal === "SIGINT" || training.code === 130).toBe(true);
  expect(existsSync(fresh)).toBe(false);
  expect(hidden(dir)).toEqual([]);
}

/** Runs the program and sends it SIGINT (as Ctrl-C does) once `ready` is true; waits for it to end. */
function interrupt(
  args: string[],
  ready: (stderr: string) => boolean,
  options: { preload?: string } = {},
): Promise<{ code: number | null; signal: string | null; stderr: string; sawCondition: boolean }> {
  return new Promise((resolve) => {
    const node = options.preload ? ["--require", options.preload] : [];
    const child = spawn(process.execPath, [...node, program, ...args], { cwd: root });
    let stderr = "";
    let sawCondition = false;
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.stdout.resume();
    const poll = setInterval(() => {
      if (!sawCondition && ready(stderr)) {
        sawCondition = true;
        child.kill("SIGINT");
      }
    }, 2);
    child.on("exit", (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, stderr, sawCondition });
    });
  });
}

describe("gpt train, sample and attention: the same guarantees as train", () => {
  const tiny = ["--steps", "3", "--embd", "8", "--heads", "2", "--block", "8", "--quiet"];
  const names = (dir: string) => {
    const file = join(dir, "names.txt");
    writeFileSync(file, "anna\nbob\nhannah\nabba\nnan\nbobby\noona\n");
    return file;
  };

  it("an empty --out, --data or --model, or too many samples, is a usage error; nothing is written", async () => {
    const cwd = folder();
    const cases: [string[], string][] = [
      [["gpt", "train", "--out", ""], '--out needs a path, got ""\nRun "micrograd gpt train --help"'],
      [["gpt", "train", "--data", " "], '--data needs a path, got " "'],
      [["gpt", "sample", "--model", ""], '--model needs a path, got ""'],
      [["gpt", "attention", "--model", "m.json", "--name", "a", "--out", ""], '--out needs a path, got ""'],
      [["gpt", "sample", "--model", "m.json", "--n", "100001"], "--n must be at most 100,000, got 100001"],
    ];
    await expectEach(cases, 2, { cwd });
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("a FIFO or a device as --data or --model: exit 1 at once, nothing written", async () => {
    const dir = folder();
    const fifo = join(dir, "pipe.txt");
    execFileSync("mkfifo", [fifo]);
    const out = join(dir, "run");
    const cases: [string[], string][] = [
      [["gpt", "train", "--data", fifo, "--out", out], `cannot read ${fifo}: it is a pipe (FIFO)`],
      [["gpt", "train", "--data", "/dev/zero", "--out", out], "cannot read /dev/zero: it is a device"],
      [["gpt", "sample", "--model", fifo], `cannot read ${fifo}: it is a pipe (FIFO)`],
      [["gpt", "attention", "--model", "/dev/zero", "--name", "a"], "cannot read /dev/zero: it is a device"],
    ];
    await expectEach(cases, 1, { cwd: dir });
    expect(readdirSync(dir)).toEqual(["pipe.txt"]);
  });

  it("refuses a model or a step too large for memory before reading the names, with its size", async () => {
    const out = join(folder(), "run");
    const wide = await micrograd(["gpt", "train", "--embd", "4096", "--out", out]);
    expect(wide.code).toBe(2);
    expect(wide.stderr).toContain(
      "a GPT of 1 layer, embd 4096, block 16 has 201,613,312 parameters, more than --max-params 1,000,000",
    );
    // A step holds one document at a time (per worker thread): the batch does not count, the block does.
    const batch = await micrograd([
      "gpt",
      "train",
      "--embd",
      "256",
      "--block",
      "64",
      "--workers",
      "1",
      "--out",
      out,
    ]);
    expect(batch.code).toBe(2);
    expect(batch.stderr).toContain(
      "a training step of a GPT of 1 layer, embd 256, block 64 holds one document at a time",
    );
    expect(batch.stderr).toContain("more than --max-graph 10,000,000; use a smaller --embd or --block");
    expect(existsSync(out)).toBe(false);
  });

  it("a second run replaces the first's set of files, an MLP's too, and leaves other files alone", async () => {
    const dir = folder();
    const out = join(dir, "run");
    const data = names(dir);
    const mlp = await micrograd(["train", "--steps", "2", "--hidden", "4", "--out", out, "--quiet"]);
    expect(mlp.code, mlp.stderr).toBe(0);
    expect(readdirSync(out)).toContain("boundary.svg");
    writeFileSync(join(out, "notes.txt"), "mine");
    const first = await micrograd(["gpt", "train", "--data", data, ...tiny, "--out", out]);
    expect(first.code, first.stderr).toBe(0);
    const gptFiles = ["attention.png", "attention.svg", "history.json", "loss.png", "loss.svg", "model.json"];
    expect(runFiles(out).sort()).toEqual([...gptFiles, "notes.txt"].sort());
    const second = await micrograd(["gpt", "train", "--data", data, ...tiny, "--no-pictures", "--out", out]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`wrote:\n  ${join(out, "model.json")}\n  ${join(out, "history.json")}\n`);
    expect(runFiles(out).sort()).toEqual(["history.json", "model.json", "notes.txt"]);
    expect(readFileSync(join(out, "notes.txt"), "utf8")).toBe("mine");
    expect(JSON.parse(readFileSync(join(out, "history.json"), "utf8")).losses).toHaveLength(3);
  });

  it("Ctrl-C while training writes nothing; Ctrl-C while writing leaves no temporary folder", async () => {
    const dir = folder();
    await expectInterruptedWhileTraining(["gpt", "train", "--steps", "100000"], dir);

    // Each PNG takes half a second here, so the interrupt lands while the pictures are written.
    const out = join(dir, "run");
    const preload = join(root, "test", "fixtures", "slow-png.cjs");
    await expectInterruptedWhileWriting(["gpt", "train", "--data", names(dir), ...tiny, "--out", out], out, {
      preload,
    });
  });
});

describe("graph --expr of any allowed size", () => {
  it("a 3,000-term sum and a 1,000-term x+x+…: drawn (summarised) or stopped, never a crash or a hang", async () => {
    const dir = folder();
    const sum = Array.from({ length: 3000 }, (_, i) => `x${i % 3}`).join("+");
    const summarised = await micrograd([
      "graph",
      "--expr",
      sum,
      "--values",
      "x0=1,x1=2,x2=3",
      "--out",
      join(dir, "s.svg"),
    ]);
    expect(summarised.code, summarised.stderr).toBe(0);
    expect(summarised.stdout).toContain(
      "the graph has 3,002 values, more than --max-nodes 500: drawing it summarised",
    );
    expect(readFileSync(join(dir, "s.svg"), "utf8")).toMatch(/<svg[\s>]/);
    const dot = join(dir, "s.dot");
    const drawn = await micrograd([
      "graph",
      "--expr",
      sum,
      "--values",
      "x0=1,x1=2,x2=3",
      "--max-nodes",
      "3002",
      "--out",
      dot,
    ]);
    expect(drawn.code, drawn.stderr).toBe(0);
    expect(drawn.stdout).toContain("output 6000.00");
    expect(readFileSync(dot, "utf8")).toContain("digraph");

    // A layout that takes longer than --timeout is stopped, and nothing is written.
    const same = Array(100).fill("x").join("+");
    const svg = join(dir, "x.svg");
    const slow = await micrograd([
      "graph",
      "--expr",
      same,
      "--values",
      "x=1",
      "--timeout",
      "0.001",
      "--out",
      svg,
    ]);
    expect(slow.code).toBe(1);
    expect(slow.stderr).toContain(
      "Graphviz did not finish laying out the graph (100 values) within --timeout 0.001 s",
    );
    expect(existsSync(svg)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(["s.dot", "s.svg"]);

    const thousand = Array(1000).fill("x").join(" + ");
    const big = await micrograd([
      "graph",
      "--expr",
      thousand,
      "--values",
      "x=1",
      "--out",
      join(dir, "t.svg"),
    ]);
    expect(big.code, big.stderr).toBe(0);
    expect(big.stdout).toContain(
      "the graph has 1,000 values, more than --max-nodes 500: drawing it summarised",
    );
    expect(readFileSync(join(dir, "t.svg"), "utf8")).toMatch(/<svg[\s>]/);
  });
});

describe("newcomer polish", () => {
  it("the example CSV trains into a folder named after the file, and says what its numbers are", async () => {
    const cwd = folder();
    const run = await micrograd(
      ["train", "--data", join(root, "data", "iris.csv"), "--steps", "20", "--no-pictures"],
      {
        cwd,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("on 120 iris samples, holding out 30 for testing");
    expect(run.stderr).toContain("step 20/20");
    expect(run.stderr).toContain(
      "(loss, with any L2 penalty, and acc: the step's training batch, before its update; held-out: the test set, after it)",
    );
    expect(run.stdout).toMatch(
      /after the last update: training loss \d\.\d{4} \(without L2\), training accuracy \d+\.\d% \(120 samples\); test accuracy \d+\.\d% \(30 held-out samples\)/,
    );
    expect(runFiles(join(cwd, "out", "iris")).sort()).toEqual(["history.json", "model.json"]);
    const { metadata } = loadModel(join(cwd, "out", "iris", "model.json"));
    expect(metadata.classNames).toEqual(["setosa", "versicolor", "virginica"]);
    expect(statSync(join(cwd, "out", "iris")).isDirectory()).toBe(true);
  });

  it("a wrong command line exits 2 everywhere", async () => {
    const cwd = folder();
    const cases: [string[], string][] = [
      [
        ["train", "--test-size", "0.99"],
        "--test-size 0.99 holds out all of the 100 samples, leaving none to train on",
      ],
      [["train", "--samples", "3"], "--test-size 0.2 holds out none of the 3 samples"],
      [["train", "--noise", "1e308"], "--noise must be at most 100"],
      [["train", "--samples", "2000000"], "--samples must be at most 1,000,000"],
      [["train", "--dataset", "spiral", "--classes", "200"], "--classes 200 needs at least 400 samples"],
      [["graph", "--expr", "1e400"], "--expr: the number 1e400 is too large"],
      [["train", "--data", ""], '--data needs a path, got ""'],
      [["predict", "--model", "", "--input", "1"], '--model needs a path, got ""'],
    ];
    await expectEach(cases, 2, { cwd });
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("divergence names its cause: a huge L2 penalty; nothing is written", async () => {
    const out = join(folder(), "run");
    const run = await micrograd(["train", "--l2", "1e308", "--steps", "5", "--out", out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("training diverged at step 1 of 5 (");
    expect(run.stderr).toContain("the cause is the L2 penalty: l2 = 1e+308");
    expect(existsSync(out)).toBe(false);
  });
});

describe("the tester's review (issue 14, second round)", () => {
  it("a network the limits allow is measured row by row after training and saved, not lost to the heap", async () => {
    // 20,000 hidden units: a step of 8 samples fits in --max-graph 1,000,000, a 64-row scoring
    // block (about 5 million values) would not, nor in a 512 MB heap.
    const out = join(folder(), "wide");
    const args = [
      "train",
      "--hidden",
      "20000",
      "--batch-size",
      "8",
      "--steps",
      "1",
      "--max-graph",
      "1000000",
    ];
    const run = await micrograd([...args, "--out", out], { heapMB: 512 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("pictures skipped: drawing runs the model over 64 points at a time");
    expect(run.stdout).toContain("training accuracy");
    expect(runFiles(out).sort()).toContain("model.json");
    expect(readdirSync(out)).not.toContain("boundary.svg");
    const saved = loadModel(join(out, "model.json"));
    expect(saved.model.parameters()).toHaveLength(80_001);
    // Saved before the measurement, then again with its scores.
    expect(saved.metadata.notes?.trainAccuracy).toEqual(expect.any(Number));
    expect(saved.metadata.notes?.testAccuracy).toEqual(expect.any(Number));
  });

  it("divergence from a huge learning rate blames the learning rate, for train and gpt train; nothing is written", async () => {
    const dir = folder();
    const mlp = await micrograd([
      "train",
      "--lr",
      "1e6",
      "--optimizer",
      "sgd",
      "--loss",
      "mse",
      "--out",
      join(dir, "mlp"),
    ]);
    expect(mlp.code).toBe(1);
    expect(mlp.stderr).toContain("the steps are too large; try a smaller learning rate than 1000000");
    expect(mlp.stderr).not.toContain("L2 penalty");
    const gpt = await micrograd([
      "gpt",
      "train",
      "--lr",
      "1e6",
      "--steps",
      "50",
      "--out",
      join(dir, "gpt"),
      "--quiet",
    ]);
    expect(gpt.code).toBe(1);
    expect(gpt.stderr).toMatch(
      /training diverged at step \d+ of 50, last loss [\d.]+ \(log\(0\): input must be > 0\); /,
    );
    expect(gpt.stderr).toContain("try a smaller learning rate than 1000000");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a run's folder from a version that wrote no manifest is replaced as a set; one without a micrograd model is not", async () => {
    const dir = folder();
    const old = join(dir, "old");
    expect((await micrograd(["demo", "--out", old, "--quiet"])).code).toBe(0);
    rmSync(join(old, MANIFEST));
    writeFileSync(join(old, "notes.txt"), "mine");
    const digits = await micrograd([
      "train",
      "--dataset",
      "digits",
      "--epochs",
      "1",
      "--out",
      old,
      "--quiet",
    ]);
    expect(digits.code, digits.stderr).toBe(0);
    expect(runFiles(old).sort()).toEqual([
      "curves.png",
      "curves.svg",
      "history.json",
      "model.json",
      "notes.txt",
    ]);

    const fake = join(dir, "fake");
    mkdirSync(fake);
    writeFileSync(join(fake, "model.json"), '{"format":"something else"}');
    writeFileSync(join(fake, "history.json"), "[]");
    const refused = await micrograd(["train", "--steps", "2", "--out", fake]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("was not written by a micrograd run into this folder");
    expect(readFileSync(join(fake, "model.json"), "utf8")).toBe('{"format":"something else"}');
  });

  it("a file of the user's with an output name is never replaced or removed; an exported model.onnx goes with its model", async () => {
    const dir = folder();
    const mine = join(dir, "mine");
    mkdirSync(mine);
    writeFileSync(join(mine, "boundary.svg"), "mine");
    const refused = await micrograd(["train", "--steps", "2", "--out", mine]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `${join(mine, "boundary.svg")} was not written by a micrograd run into this folder (its .micrograd-run.json does not list it)`,
    );
    expect(refused.stderr).not.toContain("step "); // before training
    expect(readdirSync(mine)).toEqual(["boundary.svg"]);
    expect(readFileSync(join(mine, "boundary.svg"), "utf8")).toBe("mine");

    const out = join(dir, "run");
    expect((await micrograd(["train", "--steps", "2", "--no-pictures", "--out", out, "--quiet"])).code).toBe(
      0,
    );
    const exported = await micrograd(["export", "--model", join(out, "model.json")]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, MANIFEST), "utf8")).files.sort()).toEqual([
      "history.json",
      "model.json",
      "model.onnx",
    ]);
    writeFileSync(join(out, "notes.txt"), "mine");
    expect((await micrograd(["train", "--steps", "2", "--no-pictures", "--out", out, "--quiet"])).code).toBe(
      0,
    );
    expect(runFiles(out).sort()).toEqual(["history.json", "model.json", "notes.txt"]);
  });

  it("a column constant but for rounding is not scaled by 1e16; a feature too large to square is refused on reading", async () => {
    const dir = folder();
    const rows = Array.from({ length: 60 }, (_, i) => {
      const x = ((i * 37) % 60) / 30 - 1 + 1 / 60;
      return `${x},${i % 2 ? "0.3" : "0.30000000000000004"},${x > 0 ? "pos" : "neg"}`;
    });
    writeFileSync(join(dir, "near.csv"), `a,b,label\n${rows.join("\n")}\n`);
    const out = join(dir, "near");
    const run = await micrograd([
      "train",
      "--data",
      join(dir, "near.csv"),
      "--steps",
      "50",
      "--out",
      out,
      "--quiet",
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(loadModel(join(out, "model.json")).metadata.scaler?.std[1]).toBe(1);
    const predicted = await micrograd(["predict", "--model", join(out, "model.json"), "--input", "0.5,0.31"]);
    expect(predicted.code, predicted.stderr).toBe(0);
    const score = Number(/score (-?[\d.]+)/.exec(predicted.stdout)?.[1]);
    expect(Math.abs(score)).toBeLessThan(100);

    writeFileSync(join(dir, "huge.csv"), "a,big,label\n1,1e300,x\n2,2,y\n3,3,x\n4,4,y\n5,5,x\n");
    const huge = await micrograd(["train", "--data", join(dir, "huge.csv"), "--out", join(dir, "huge")]);
    expect(huge.code).toBe(1);
    expect(huge.stderr).toContain('huge.csv:2: column 2 ("big") is 1e300, too large to train on');
    expect(existsSync(join(dir, "huge"))).toBe(false);
  });

  it("gpt train refuses a file that is not plain UTF-8 text, naming the line; SVG text shows control characters", async () => {
    const dir = folder();
    writeFileSync(join(dir, "control.txt"), "anna\nbob\u0001x\n");
    writeFileSync(join(dir, "binary.dat"), Buffer.from([0x61, 0x0a, 0x62, 0x0a, 0xff, 0xfe, 0x00, 0x0a]));
    await expectEach(
      [
        [
          ["gpt", "train", "--data", join(dir, "control.txt"), "--out", join(dir, "out")],
          "control.txt: line 2 has a control character (U+0001); give a text file (UTF-8, one document per line)",
        ],
        [
          ["gpt", "train", "--data", join(dir, "binary.dat"), "--out", join(dir, "out")],
          "binary.dat: line 3 has bytes that are not UTF-8 text",
        ],
      ],
      1,
    );
    expect(readdirSync(dir).sort()).toEqual(["binary.dat", "control.txt"]);
    expect(escapeXml("a\u0001<b>\u007f\tc")).toBe("a\u2401&#60;b&#62;\u2421\tc");
  });

  it("a stratified split of many two-row classes that holds out nothing says so in one sentence", async () => {
    const dir = folder();
    const rows = Array.from({ length: 16_000 }, (_, i) => `${i % 7},${i % 5},c${Math.floor(i / 2)}`);
    writeFileSync(join(dir, "many.csv"), `${rows.join("\n")}\n`);
    const run = await micrograd(["train", "--data", join(dir, "many.csv"), "--out", join(dir, "out")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `--test-size 0.2 holds out none of the 16,000 rows of ${join(dir, "many.csv")}: the split takes 0.2 of each class, ` +
        "and the 8,000 classes have 2 rows each on average, too few to hold one out; " +
        "use --test-size 0 for no test set, or a label column with fewer classes",
    );
    expect(readdirSync(dir)).toEqual(["many.csv"]);
  });

  it("gpt: a huge --block is named as the cause; a --name longer than the block is refused, not cut", async () => {
    const dir = folder();
    const block = await micrograd(["gpt", "train", "--block", "100000", "--out", join(dir, "big")]);
    expect(block.code).toBe(2);
    expect(block.stderr).toContain(
      "a GPT of 1 layer, embd 16, block 100000 has 1,603,936 parameters, more than --max-params 1,000,000; " +
        "its position table alone (block × embd) has 1,600,000; use a smaller --block",
    );
    const model = join(dir, "gpt");
    const trained = await micrograd([
      "gpt",
      "train",
      "--steps",
      "2",
      "--block",
      "8",
      "--no-pictures",
      "--quiet",
      "--out",
      model,
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    const long = await micrograd([
      "gpt",
      "attention",
      "--model",
      join(model, "model.json"),
      "--name",
      "annabella",
      "--out",
      join(dir, "a.svg"),
    ]);
    expect(long.code).toBe(2);
    expect(long.stderr).toContain(
      "--name: it has 9 characters; the model's block of 8 leaves room for at most 7",
    );
    expect(existsSync(join(dir, "a.svg"))).toBe(false);
    expect(existsSync(join(dir, "big"))).toBe(false);
  });

  it("a model file of the other kind, or an ONNX file, is named with the command to use, without raw bytes", async () => {
    const dir = folder();
    const mlp = join(dir, "mlp");
    const gpt = join(dir, "gpt");
    expect((await micrograd(["train", "--steps", "2", "--no-pictures", "--quiet", "--out", mlp])).code).toBe(
      0,
    );
    expect((await micrograd(["export", "--model", join(mlp, "model.json")])).code).toBe(0);
    const gptArgs = ["gpt", "train", "--steps", "2", "--block", "8", "--no-pictures", "--out", gpt];
    const gptRun = await micrograd(gptArgs);
    expect(gptRun.code).toBe(0);
    expect(gptRun.stderr).toMatch(/step 2\/2 .*\n\(loss: the training loss averaged over the last 100 steps/);
    const gptModel = join(gpt, "model.json");
    const mlpModel = join(mlp, "model.json");
    const onnx = join(mlp, "model.onnx");
    await expectEach(
      [
        [
          ["gpt", "sample", "--model", mlpModel],
          `${mlpModel}: this is an MLP model, not a GPT; use micrograd predict`,
        ],
        [
          ["predict", "--model", gptModel, "--input", "1,2"],
          `${gptModel}: this is a GPT model, not an MLP; use micrograd gpt sample`,
        ],
        [["export", "--model", onnx], `${onnx}: this is an ONNX file, which micrograd does not read`],
        [["predict", "--model", onnx, "--input", "1,2"], "give the model.json it was exported from"],
      ],
      1,
    );
    const binary = await micrograd(["predict", "--model", onnx, "--input", "1,2"]);
    expect(binary.stderr).toBe(
      `micrograd: ${onnx}: this is an ONNX file, which micrograd does not read; give the model.json it was exported from\n`,
    );
    expect(binary.stderr).not.toMatch(/FromJSON|loadGPT|loadModel/);
  });

  it("number flags: 1e6 is an integer, a negative value gets the range message, a negative input is read", async () => {
    const dir = folder();
    await expectEach(
      [
        [["train", "--steps", "-5"], '--steps must be an integer >= 1, got "-5"'],
        [["train", "--lr", "-1"], '--lr must be a number > 0, got "-1"'],
        [["gpt", "train", "--block", "-.5"], '--block must be an integer >= 1, got "-.5"'],
        [["train", "--steps", "1.5"], '--steps must be an integer >= 1, got "1.5"'],
        [["train", "--steps", "1e-3"], '--steps must be an integer >= 1, got "1e-3"'],
        [["train", "--steps", "1e400"], '--steps must be an integer >= 1, got "1e400"'],
      ],
      2,
      { cwd: dir },
    );
    expect(readdirSync(dir)).toEqual([]);
    const out = join(dir, "run");
    const run = await micrograd([
      "train",
      "--max-params",
      "1e9",
      "--steps",
      "2e0",
      "--no-pictures",
      "--out",
      out,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("trained 2 steps");
    const predicted = await micrograd([
      "predict",
      "--model",
      join(out, "model.json"),
      "--input",
      "-0.5,0.25",
    ]);
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(predicted.stdout).toMatch(/^-0\.5,0\.25\t→ class /);
  });

  it("graph: a name given twice in --values is a usage error; a message quotes at most 80 characters of the expression", async () => {
    const cwd = folder();
    const sum = Array.from({ length: 100 }, () => "x").join("+");
    const run = await micrograd(["graph", "--expr", `${sum} $ ${sum}`, "--values", "x=1"], { cwd });
    expect(run.code).toBe(2);
    const quoted = /at column 201 of "(.*)"\n/.exec(run.stderr)?.[1] ?? "";
    expect(quoted).toBe(`…${"x+".repeat(19)}x $ ${"x+".repeat(19)}…`);
    expect(quoted.length).toBeLessThanOrEqual(82);
    await expectEach(
      [
        [
          ["graph", "--expr", "x*2", "--values", "x=1,x=2"],
          "--values: x is given twice; give each name one value",
        ],
      ],
      2,
      { cwd },
    );
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("wording: 1 step, thousands separators, export's empty --out", async () => {
    const dir = folder();
    const run = await micrograd(["train", "--steps", "1", "--no-pictures", "--out", join(dir, "run")]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^trained 1 step in /m);
    const gpt = await micrograd([
      "gpt",
      "train",
      "--steps",
      "1",
      "--block",
      "8",
      "--no-pictures",
      "--out",
      join(dir, "gpt"),
    ]);
    expect(gpt.code, gpt.stderr).toBe(0);
    expect(gpt.stdout).toMatch(/^trained 1 step in /m);
    const long = await micrograd([
      "train",
      "--steps",
      "1200",
      "--hidden",
      "",
      "--no-pictures",
      "--out",
      join(dir, "long"),
    ]);
    expect(long.stderr).toContain("step 1,200/1,200");
    expect(long.stdout).toMatch(/^trained 1,200 steps in /m);
    await expectEach(
      [
        [["export", "--model", join(dir, "run", "model.json"), "--out", ""], '--out needs a path, got ""'],
        [["export", "--model", " "], '--model needs a path, got " "'],
      ],
      2,
    );
    expect(readdirSync(join(dir, "run")).sort()).toEqual([MANIFEST, "history.json", "model.json"].sort());
  });

  it("predict with a model whose weights overflow names the file and the cause", async () => {
    const dir = folder();
    const out = join(dir, "run");
    expect((await micrograd(["train", "--steps", "1", "--no-pictures", "--quiet", "--out", out])).code).toBe(
      0,
    );
    const json = JSON.parse(readFileSync(join(out, "model.json"), "utf8"));
    json.parameters = json.parameters.map(() => 1e300);
    const file = join(dir, "overflowing.json");
    writeFileSync(file, JSON.stringify(json));
    const run = await micrograd(["predict", "--model", file, "--input", "1,2"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^micrograd: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: the model's outputs overflow \\(.*result overflows\\): ` +
          "its weights are too large \\(the largest is 1\\.00e\\+300\\); retrain it, with a smaller learning rate\n$",
      ),
    );
  });

  it("history.json of a very long run keeps every k-th step and the last, and says k", () => {
    const steps = Array.from({ length: 250_001 }, (_, step) => ({ step, loss: 1 / (step + 1) }));
    const { kept, every } = decimated(steps, MAX_HISTORY_RECORDS);
    expect(every).toBe(3);
    expect(kept.length).toBeLessThanOrEqual(MAX_HISTORY_RECORDS + 1);
    expect(kept.slice(0, 3).map((r) => r.step)).toEqual([0, 3, 6]);
    expect(kept.at(-1)?.step).toBe(250_000);
    expect(decimated([1, 2, 3], 10)).toEqual({ kept: [1, 2, 3], every: 1 });
    expect(decimated([0, 1, 2, 3, 4], 2)).toEqual({ kept: [0, 3, 4], every: 3 });
  });
});
