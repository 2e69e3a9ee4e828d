// `npm run bench`: the workloads of the benchmark, side by side in one run, on the same data
// and initial weights — this engine, TensorFlow.js (cpu) and hand-written Float64Array loops.
// Prints a table and writes latest.md and latest.json into out/bench/, or with --save into
// bench/results/, the table committed with the code.
//
// Usage: npm run bench -- [--reps N] [--quick] [--save] [--only demo,chains,digits,gpt,ladder,workers,graph]
// Timings are medians over repetitions; engines take turns within each repetition so that
// a burst of load from elsewhere on the machine does not fall on one engine only.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { compile, createRandom, MLP, makeMoons, shuffled } from "../src/index.js";
import { loadDigits } from "../src/node/datasets.js";
import { buildChain, countNodes, float64Chain } from "./chain.js";
import {
  accuracyOf,
  type Batch,
  type Engine,
  type LossSpec,
  median,
  type OptimizerSpec,
  weightsOf,
} from "./common.js";
import { createCompiledEngine } from "./compiled.js";
import { createFloat64Engine } from "./float64.js";
import { gptCompiledWorkload, gptEagerWorkload } from "./gpt.js";
import { gptContentionWorkload } from "./gpt-contention.js";
import { gptLadderWorkload } from "./gpt-ladder.js";
import { gptWorkersWorkload } from "./gpt-workers.js";
import { graphMemoryWorkload } from "./graph-memory.js";
import { createMicrogradEngine, lossFunction, lossGraph } from "./micrograd.js";
import { type BenchOptions, parseBenchArgs, USAGE } from "./options.js";
import { createTfjsEngine, tfjsVersion, useTfjsCpu } from "./tfjs.js";

// The targets of issue 6.
const TARGET = {
  demoRatio: 60, // this engine's demo step ≤ 60 × the Float64Array step, same run
  bytesPerNode: 100,
  chainMs: 1000, // 1,000,000-node chain, build + backward
  growth: [8, 12] as const, // 10× the nodes: 8–12× the time
  // The targets of issue 10 (compile).
  compiledDemoRatio: 1.5, // compiled demo step ≤ 1.5 × the Float64Array step
  eagerOverCompiled: 20, // eager demo step ≥ 20 × the compiled step
  compiledDigitsRatio: 2, // compiled digits epoch ≤ 2 × Float64Array, and faster than TensorFlow.js
  firstCallRatio: 3, // trace + first replay ≤ 3 × one eager step
  compiledBytesPerNode: 40,
};

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error("bench: run node with --expose-gc (npm run bench does), so that heap sizes can be measured");
  process.exit(2);
}

let options: BenchOptions;
try {
  options = parseBenchArgs(process.argv.slice(2));
} catch (error) {
  console.error(`bench: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
const REPS = options.reps;
const only = options.only;

/** Median and range of a set of repeated measurements. */
interface Measure {
  median: number;
  min: number;
  max: number;
  samples: number[];
}
function measure(samples: number[]): Measure {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples };
}

/** One line of the results table. */
interface Row {
  workload: string;
  engine: string;
  value: Measure;
  unit: string;
  /** Final loss and accuracy, for the training workloads: visibly the same work. */
  result?: string;
  target?: string;
  pass?: boolean;
}
const rows: Row[] = [];

type AnyEngine = Engine<unknown>;
interface Contender {
  key: string;
  make: () => AnyEngine;
}

/**
 * Trains each contender from its starting weights, `REPS` times after one warm-up run,
 * the contenders taking turns. Returns per contender the per-repetition median step time
 * (ms), the per-repetition total time (ms), and the losses and accuracy of the last run.
 */
function race(contenders: Contender[], batches: Batch[], steps: number, evaluateOn: Batch) {
  const out = new Map(
    contenders.map((c) => [
      c.key,
      {
        stepMs: [] as number[],
        totalMs: [] as number[],
        traceMs: [] as number[],
        losses: [] as number[],
        accuracy: 0,
        name: "",
      },
    ]),
  );
  for (let rep = 0; rep <= REPS; rep++) {
    // Rotate who goes first, so that no engine always runs right after another's garbage.
    const order = contenders.map((_, i) => contenders[(i + rep) % contenders.length]);
    for (const contender of order) {
      const engine = contender.make();
      const prepared = batches.map((b) => engine.prepare(b));
      // A compiled engine records its step once per batch shape; timed apart from the steps.
      const t0 = performance.now();
      if (engine.trace) for (const p of prepared) engine.trace(p);
      const traceMs = performance.now() - t0;
      const times = new Array<number>(steps);
      const losses = new Array<number>(steps);
      for (let s = 0; s < steps; s++) {
        const t0 = performance.now();
        losses[s] = engine.step(prepared[s % prepared.length]);
        times[s] = performance.now() - t0;
      }
      const record = out.get(contender.key);
      if (!record) throw new Error("unreachable");
      record.name = engine.name;
      if (rep > 0) {
        record.traceMs.push(traceMs);
        record.stepMs.push(median(times));
        record.totalMs.push(times.reduce((a, b) => a + b, 0));
      }
      record.losses = losses;
      record.accuracy = accuracyOf(engine.weights(), evaluateOn);
      for (const p of prepared) engine.release(p);
      engine.dispose();
    }
  }
  return out;
}

const fmt = (x: number, digits = 3) => {
  if (x === 0) return "0";
  const magnitude = Math.floor(Math.log10(Math.abs(x)));
  // A difference of rounding (1e-14) reads as one, not as sixteen decimals.
  if (magnitude < -3) return x.toExponential(digits - 2);
  return x.toFixed(Math.max(0, digits - 1 - magnitude));
};
const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

// ---------------------------------------------------------------------------------------
// 1. The demo: moons, MLP 2-16-16-1, hinge + 1e-4·Σp², SGD 1.0 → 0.1, full batch, 100 steps.

function demoWorkload() {
  const moons = makeMoons({ nSamples: 100, noise: 0.1, seed: 1 });
  const batch: Batch = { X: moons.X, y: moons.y };
  const steps = 100;
  const loss: LossSpec = { kind: "hinge", l2: 1e-4 };
  const optimizer: OptimizerSpec = { kind: "sgd", lr: (k) => 1 - (0.9 * k) / steps };
  const makeModel = () => new MLP(2, [16, 16, 1], { seed: 1337 });
  const initial = weightsOf(makeModel());
  const results = race(
    [
      { key: "micrograd", make: () => createMicrogradEngine(makeModel(), loss, optimizer) },
      { key: "compiled", make: () => createCompiledEngine(makeModel(), loss, optimizer) },
      { key: "tfjs", make: () => createTfjsEngine(initial, loss, optimizer) },
      { key: "float64", make: () => createFloat64Engine(initial, loss, optimizer, batch.X.length) },
    ],
    [batch],
    steps,
    batch,
  );
  const float64 = results.get("float64")?.stepMs ?? [];
  const compiled = results.get("compiled")?.stepMs ?? [];
  const eager = results.get("micrograd")?.stepMs ?? [];
  for (const [key, r] of results) {
    rows.push({
      workload: "Demo step (moons 100, 2-16-16-1, hinge+L2, SGD)",
      engine: r.name,
      value: measure(r.stepMs),
      unit: "ms/step",
      result: `loss ${r.losses[steps - 1].toFixed(5)}, acc ${percent(r.accuracy)}`,
    });
    if (key === "float64") continue;
    // Ratios within each repetition: the two engines ran moments apart under the same load.
    const ratios = r.stepMs.map((ms, i) => ms / float64[i]);
    const ratio = measure(ratios);
    rows.push({
      workload: "Demo step ÷ Float64Array step",
      engine: r.name,
      value: ratio,
      unit: "×",
      ...(key === "micrograd"
        ? { target: `≤ ${TARGET.demoRatio}×`, pass: ratio.median <= TARGET.demoRatio }
        : key === "compiled"
          ? { target: `≤ ${TARGET.compiledDemoRatio}×`, pass: ratio.median <= TARGET.compiledDemoRatio }
          : {}),
    });
  }
  const speedup = measure(eager.map((ms, i) => ms / compiled[i]));
  rows.push({
    workload: "Demo step: eager ÷ compiled",
    engine: "micrograd compiled",
    value: speedup,
    unit: "×",
    target: `≥ ${TARGET.eagerOverCompiled}×`,
    pass: speedup.median >= TARGET.eagerOverCompiled,
  });

  // The first call traces (runs the step eagerly and lowers its graph) and replays once.
  const firstCalls: number[] = [];
  for (let rep = 0; rep <= REPS; rep++) {
    const fresh = makeModel();
    const step = compile(lossFunction(fresh, loss));
    const t0 = performance.now();
    step(batch.X, batch.y).backward();
    if (rep > 0) firstCalls.push(performance.now() - t0);
  }
  const eagerStep = median(eager);
  const first = measure(firstCalls.map((ms) => ms / eagerStep));
  rows.push({
    workload: "Demo: first compiled call (trace + replay + backward) ÷ eager step",
    engine: "micrograd compiled",
    value: first,
    unit: "×",
    result: `${fmt(median(firstCalls))} ms`,
    target: `≤ ${TARGET.firstCallRatio}×`,
    pass: first.median <= TARGET.firstCallRatio,
  });

  // The size of one step's graph and the heap it takes.
  const model = makeModel();
  const sizes = Array.from({ length: REPS }, () => graphSize(model, batch, loss));
  const bytes = measure(sizes.map((g) => g.bytesPerNode));
  rows.push({
    workload: `Demo graph: ${sizes[0].nodes.toLocaleString("en-US")} nodes per step, heap`,
    engine: "micrograd (this engine)",
    value: bytes,
    unit: "heap B/node",
    target: `≤ ${TARGET.bytesPerNode}`,
    pass: bytes.median <= TARGET.bytesPerNode,
  });
  const traceBytes = measure(
    Array.from({ length: REPS }, () => compiledSize(model, batch, loss) / sizes[0].nodes),
  );
  rows.push({
    workload: `Demo compiled trace, per node of the eager graph (${sizes[0].nodes.toLocaleString("en-US")})`,
    engine: "micrograd compiled",
    value: traceBytes,
    unit: "B/node",
    target: `≤ ${TARGET.compiledBytesPerNode}`,
    pass: traceBytes.median <= TARGET.compiledBytesPerNode,
  });
}

/**
 * Bytes kept by eight compiled steps, each traced once (tape, buffers, parameter list), per
 * step: the heap and the typed arrays' buffers, which live outside it.
 */
function compiledSize(model: MLP, batch: Batch, loss: LossSpec): number {
  const copies = 8;
  const used = () => {
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return heapUsed + arrayBuffers;
  };
  gc?.();
  const before = used();
  const steps = Array.from({ length: copies }, () => {
    const step = compile(lossFunction(model, loss));
    step(batch.X, batch.y);
    return step;
  });
  gc?.();
  const bytes = used() - before;
  if (steps.some((s) => s.traceCount !== 1)) throw new Error("compiledSize: expected one trace each");
  return bytes / copies;
}

/**
 * Heap bytes per node of the loss graph, counting only the nodes it creates (not the model's).
 * Eight graphs are kept at once, so that the heap's own noise (a few kB) averages out.
 */
function graphSize(model: MLP, batch: Batch, loss: LossSpec) {
  const parameters = model.parameters().length;
  const copies = 8;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const roots = Array.from({ length: copies }, () => lossGraph(model, batch, loss));
  gc?.();
  const bytes = process.memoryUsage().heapUsed - before;
  const nodes = countNodes(roots[0]) - parameters;
  return { nodes, bytesPerNode: bytes / (nodes * roots.length) };
}

// ---------------------------------------------------------------------------------------
// 2. Deep chains: build + backward of x → (tanh, add) repeated.

/** Builds and differentiates one chain; runs in its own frame so that nothing keeps the graph afterwards. */
function chainOnce(nodes: number) {
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const { root, x } = buildChain(nodes);
  const t1 = performance.now();
  root.backward();
  const t2 = performance.now();
  gc?.();
  const bytes = process.memoryUsage().heapUsed - heap0;
  if (!(x.grad > 1 && Number.isFinite(root.data))) throw new Error("chain: unexpected gradient");
  return { buildMs: t1 - t0, backwardMs: t2 - t1, totalMs: t2 - t0, bytesPerNode: bytes / (nodes + 1) };
}

function chainWorkload() {
  const sizes = [100_000, 1_000_000];
  // Each size on its own after a warm-up, so that the heap has settled to that size: run
  // alternately, the 100,000-node chain pays for the collector shrinking the young
  // generation after each million-node chain and the growth ratio reads 6–7× instead.
  const runs = new Map(sizes.map((n) => [n, [] as ReturnType<typeof chainOnce>[]]));
  for (const n of sizes) {
    chainOnce(n);
    for (let rep = 0; rep < REPS; rep++) runs.get(n)?.push(chainOnce(n));
  }
  const totals = new Map<number, Measure>();
  for (const n of sizes) {
    const r = runs.get(n) ?? [];
    const total = measure(r.map((x) => x.totalMs));
    totals.set(n, total);
    const build = median(r.map((x) => x.buildMs));
    const backward = median(r.map((x) => x.backwardMs));
    const big = n === 1_000_000;
    rows.push({
      workload: `Chain of ${n.toLocaleString("en-US")} nodes: build + backward`,
      engine: "micrograd (this engine)",
      value: total,
      unit: "ms",
      result: `build ${fmt(build)} + backward ${fmt(backward)} ms; ${fmt((total.median * 1e6) / n)} ns/node`,
      ...(big ? { target: `≤ ${TARGET.chainMs} ms`, pass: total.median <= TARGET.chainMs } : {}),
    });
    const bytes = measure(r.map((x) => x.bytesPerNode));
    rows.push({
      workload: `Chain of ${n.toLocaleString("en-US")} nodes: heap`,
      engine: "micrograd (this engine)",
      value: bytes,
      unit: "heap B/node",
      target: `≤ ${TARGET.bytesPerNode}`,
      pass: bytes.median <= TARGET.bytesPerNode,
    });
  }
  // Growth: the ratio of the medians; the range pairs the i-th repetitions of each size.
  const small = runs.get(sizes[0]) ?? [];
  const large = runs.get(sizes[1]) ?? [];
  const growth = measure(large.map((x, i) => x.totalMs / small[i].totalMs));
  growth.median = (totals.get(sizes[1])?.median ?? 0) / (totals.get(sizes[0])?.median ?? 1);
  rows.push({
    workload: "Chain: time(1,000,000) ÷ time(100,000)",
    engine: "micrograd (this engine)",
    value: growth,
    unit: "×",
    target: `${TARGET.growth[0]}–${TARGET.growth[1]}×`,
    pass: growth.median >= TARGET.growth[0] && growth.median <= TARGET.growth[1],
  });

  // The same recurrence and its derivative on plain numbers, for scale.
  const byHand: number[] = [];
  for (let rep = 0; rep <= REPS; rep++) {
    const t0 = performance.now();
    const { gradient } = float64Chain(1_000_000);
    if (!(gradient > 1)) throw new Error("float64Chain: unexpected gradient");
    if (rep > 0) byHand.push(performance.now() - t0);
  }
  rows.push({
    workload: "Chain of 1,000,000 nodes: value + derivative",
    engine: "Float64Array by hand (forward mode, no graph)",
    value: measure(byHand),
    unit: "ms",
  });
}

// ---------------------------------------------------------------------------------------
// 3. Digits: one epoch of 64-32-10, softmax cross-entropy, Adam 0.01, batches of 32.

function digitsWorkload() {
  const digits = loadDigits();
  const all: Batch = { X: digits.X, y: digits.y };
  const order = shuffled(
    Array.from({ length: digits.X.length }, (_, i) => i),
    createRandom(0),
  );
  const batchSize = 32;
  const batches: Batch[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const indices = order.slice(start, start + batchSize);
    batches.push({ X: indices.map((i) => digits.X[i]), y: indices.map((i) => digits.y[i]) });
  }
  const loss: LossSpec = { kind: "softmax" };
  const optimizer: OptimizerSpec = { kind: "adam", lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
  const makeModel = () => new MLP(64, [32, 10], { seed: 1 });
  const initial = weightsOf(makeModel());
  const results = race(
    [
      { key: "micrograd", make: () => createMicrogradEngine(makeModel(), loss, optimizer) },
      { key: "compiled", make: () => createCompiledEngine(makeModel(), loss, optimizer) },
      { key: "tfjs", make: () => createTfjsEngine(initial, loss, optimizer) },
      { key: "float64", make: () => createFloat64Engine(initial, loss, optimizer, batchSize) },
    ],
    batches,
    batches.length,
    all,
  );
  const float64 = results.get("float64")?.totalMs ?? [];
  const tfjs = results.get("tfjs")?.totalMs ?? [];
  for (const [key, r] of results) {
    const meanLoss = r.losses.reduce((a, b) => a + b, 0) / r.losses.length;
    const ratio =
      key === "float64" ? "" : `, ${fmt(median(r.totalMs.map((t, i) => t / float64[i])))}× Float64Array`;
    rows.push({
      workload: `Digits epoch (1,797 × 64, 64-32-10, softmax, Adam, ${batches.length} batches of ${batchSize})`,
      engine: r.name,
      value: measure(r.totalMs.map((ms) => ms / 1000)),
      unit: "s/epoch",
      result: `mean loss ${meanLoss.toFixed(4)}, acc ${percent(r.accuracy)}; ${fmt(median(r.stepMs))} ms/step${ratio}`,
    });
  }
  // The compiled epoch replays: its two traces (batches of 32 and the last, shorter one) were
  // made before, as in any epoch after the first. The first epoch pays for them once.
  const compiledRun = results.get("compiled");
  const compiled = compiledRun?.totalMs ?? [];
  const traces = compiledRun?.traceMs ?? [];
  rows.push({
    workload: "Digits: the compiled step's two traces (batch of 32, last batch of 5), once per training",
    engine: "micrograd compiled",
    value: measure(traces),
    unit: "ms",
    result: `first epoch with traces: ${fmt(median(compiled.map((t, i) => (t + traces[i]) / float64[i])))}× Float64Array`,
  });
  const overFloat64 = measure(compiled.map((t, i) => t / float64[i]));
  rows.push({
    workload: "Digits epoch: compiled ÷ Float64Array",
    engine: "micrograd compiled",
    value: overFloat64,
    unit: "×",
    target: `≤ ${TARGET.compiledDigitsRatio}×`,
    pass: overFloat64.median <= TARGET.compiledDigitsRatio,
  });
  const overTfjs = measure(compiled.map((t, i) => t / tfjs[i]));
  rows.push({
    workload: "Digits epoch: compiled ÷ TensorFlow.js",
    engine: "micrograd compiled",
    value: overTfjs,
    unit: "×",
    target: "< 1×",
    pass: overTfjs.median < 1,
  });
  return { batches: batches.length };
}

// ---------------------------------------------------------------------------------------

function machine() {
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    // not a git checkout
  }
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    tfjs: tfjsVersion(),
    commit,
    repetitions: REPS,
  };
}

function markdown(info: ReturnType<typeof machine>): string {
  const lines = [
    "| Workload | Engine | Median | Range | Result | Target | |",
    "|---|---|--:|--:|---|---|---|",
  ];
  for (const row of rows) {
    const single = row.value.samples.length === 1;
    const range = single ? "" : `${fmt(row.value.min)}–${fmt(row.value.max)}`;
    const status = row.pass === undefined ? "" : row.pass ? "pass" : "**FAIL**";
    lines.push(
      `| ${row.workload} | ${row.engine} | ${fmt(row.value.median)} ${row.unit} | ${range} | ${row.result ?? ""} | ${row.target ?? ""} | ${status} |`,
    );
  }
  const when = info.date.slice(0, 10);
  return [
    `Measured ${when} on ${info.cpu} (${info.cores} cores, ${info.memoryGB} GB), ${info.os}, Node ${info.node}, TensorFlow.js ${info.tfjs} (cpu backend), commit ${info.commit}.`,
    `Medians of ${info.repetitions} repetitions after a warm-up; the range is the smallest and largest repetition.`,
    "",
    ...lines,
    "",
  ].join("\n");
}

async function main() {
  await useTfjsCpu();
  const info = machine();
  console.log(`bench: ${info.cpu}, ${info.cores} cores, Node ${info.node}, ${REPS} repetitions`);
  if (only.includes("demo")) {
    console.log("bench: demo …");
    demoWorkload();
  }
  if (only.includes("chains")) {
    console.log("bench: chains …");
    chainWorkload();
  }
  if (only.includes("digits")) {
    console.log("bench: digits …");
    digitsWorkload();
  }
  if (only.includes("gpt")) {
    console.log("bench: gpt …");
    rows.push(...gptEagerWorkload({ reps: REPS }));
    rows.push(...gptCompiledWorkload({ reps: REPS }));
  }
  if (only.includes("ladder")) {
    console.log("bench: GPT ladder …");
    rows.push(...gptLadderWorkload({ reps: REPS }));
  }
  if (only.includes("workers")) {
    console.log("bench: GPT on worker threads …");
    rows.push(...(await gptWorkersWorkload({ reps: REPS })));
    rows.push(...(await gptContentionWorkload({ reps: REPS })));
  }
  if (only.includes("graph")) {
    console.log("bench: --max-graph estimate against the measured peak (a process per step) …");
    rows.push(...graphMemoryWorkload({ quick: options.quick }));
  }

  const md = markdown(info);
  console.log(`\n${md}`);
  const dir = options.outDir;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "latest.md"), `# Benchmark results\n\n${md}`);
  const json = join(dir, "latest.json");
  writeFileSync(json, `${JSON.stringify({ machine: info, targets: TARGET, rows }, null, 2)}\n`);
  if (options.save) {
    try {
      // Lay the JSON out as the repository's formatter does, so that `biome check` stays clean.
      execFileSync("npx", ["biome", "format", "--write", json], { stdio: "ignore" });
    } catch {
      // biome missing: the file is still valid JSON
    }
  }
  console.log(
    `bench: wrote ${relative(process.cwd(), dir) || "."}/latest.md and latest.json` +
      (options.save ? "" : " (npm run bench -- --save updates the committed bench/results/)"),
  );
  const failed = rows.filter((r) => r.pass === false);
  console.log(failed.length === 0 ? "bench: every target met" : `bench: ${failed.length} target(s) not met`);
}

await main();
