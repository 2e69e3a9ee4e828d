// The benchmark compares engines only if they do the same work: on small cases, this engine,
// the hand-written Float64Array loops and TensorFlow.js must agree on the loss, on every
// gradient, and on the weights after a few optimizer steps. Nothing here is timed.
import { execFileSync } from "node:child_process";
import { relative as relativePath } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { buildChain, countNodes, float64Chain } from "../bench/chain.js";
import {
  type Batch,
  type Engine,
  flatten,
  type LossSpec,
  median,
  type OptimizerSpec,
  parameterCount,
  predictClasses,
  weightsOf,
} from "../bench/common.js";
import { createFloat64Engine } from "../bench/float64.js";
import { createMicrogradEngine } from "../bench/micrograd.js";
import { parseBenchArgs } from "../bench/options.js";
import { createTfjsEngine, useTfjsCpu } from "../bench/tfjs.js";
import { createRandom, gaussian, MLP } from "../src/index.js";

function randomBatch(n: number, nin: number, nClasses: number, seed: number): Batch {
  const random = createRandom(seed);
  const X = Array.from({ length: n }, () => Array.from({ length: nin }, () => gaussian(random)));
  // Every class appears, so that each branch of the loss is exercised.
  const y = Array.from({ length: n }, (_, i) => i % nClasses);
  return { X, y };
}

/** The largest difference relative to the largest magnitude in `reference`. */
function relativeDifference(a: Float64Array, reference: Float64Array): number {
  expect(a.length).toBe(reference.length);
  let scale = 0;
  for (const v of reference) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - reference[i]));
  return worst / Math.max(scale, 1e-300);
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

const CASES: {
  title: string;
  sizes: number[];
  loss: LossSpec;
  optimizer: OptimizerSpec;
  nClasses: number;
}[] = [
  {
    title: "hinge + L2, 2-8-8-1, SGD with a decaying rate",
    sizes: [2, 8, 8, 1],
    loss: { kind: "hinge", l2: 1e-2 },
    optimizer: { kind: "sgd", lr: (step) => 0.5 - 0.1 * step },
    nClasses: 2,
  },
  {
    title: "softmax cross-entropy, 5-6-4, Adam",
    sizes: [5, 6, 4],
    loss: { kind: "softmax" },
    optimizer: { kind: "adam", lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
    nClasses: 4,
  },
];

const consoleWarn = vi.spyOn(console, "warn");

beforeAll(async () => {
  await useTfjsCpu();
});

describe.each(CASES)("the three engines on $title", ({ sizes, loss, optimizer, nClasses }) => {
  const batch = randomBatch(12, sizes[0], nClasses, 7);
  const makeEngines = () => {
    const model = new MLP(sizes[0], sizes.slice(1), { seed: 3 });
    const initial = weightsOf(model);
    const engines: Engine<unknown>[] = [
      createMicrogradEngine(model, loss, optimizer),
      createFloat64Engine(initial, loss, optimizer, batch.X.length),
      createTfjsEngine(initial, loss, optimizer),
    ];
    return { model, initial, engines };
  };

  it("compute the same loss and gradients", () => {
    const { model, engines } = makeEngines();
    const [ours, byHand, theirs] = engines.map((engine) => {
      const prepared = engine.prepare(batch);
      const result = engine.lossAndGradients(prepared);
      engine.release(prepared);
      engine.dispose();
      return result;
    });

    // Not a vacuous comparison: the loss is positive and many gradients are not zero.
    expect(ours.loss).toBeGreaterThan(0.1);
    expect(ours.gradients.length).toBe(model.parameters().length);
    expect(ours.gradients.length).toBe(parameterCount(sizes));
    expect(ours.gradients.filter((g) => Math.abs(g) > 1e-6).length).toBeGreaterThan(
      ours.gradients.length / 3,
    );

    // Same float64 arithmetic, partly in another order of accumulation: equal to rounding.
    expect(relative(byHand.loss, ours.loss)).toBeLessThan(1e-12);
    expect(relativeDifference(byHand.gradients, ours.gradients)).toBeLessThan(1e-9);
    // float32 in TensorFlow.js: equal to single precision.
    expect(relative(theirs.loss, ours.loss)).toBeLessThan(1e-5);
    expect(relativeDifference(theirs.gradients, ours.gradients)).toBeLessThan(1e-4);
  });

  it("end at the same weights after five optimizer steps", () => {
    const { model, initial, engines } = makeEngines();
    const [ours, byHand, theirs] = engines.map((engine) => {
      const prepared = engine.prepare(batch);
      const losses = Array.from({ length: 5 }, () => engine.step(prepared));
      engine.release(prepared);
      const weights = flatten(engine.weights());
      engine.dispose();
      return { losses, weights };
    });
    // Training happened: the loss fell and the weights moved away from the start.
    expect(ours.losses[4]).toBeLessThan(ours.losses[0]);
    expect(relativeDifference(ours.weights, flatten(initial))).toBeGreaterThan(1e-3);
    // The engine's own parameters are what weights() reports.
    expect(ours.weights).toEqual(Float64Array.from(model.parameters(), (p) => p.data));

    expect(relativeDifference(byHand.weights, ours.weights)).toBeLessThan(1e-9);
    expect(relativeDifference(theirs.weights, ours.weights)).toBeLessThan(1e-4);
    for (let i = 0; i < 5; i++) {
      expect(relative(byHand.losses[i], ours.losses[i])).toBeLessThan(1e-9);
      expect(relative(theirs.losses[i], ours.losses[i])).toBeLessThan(1e-4);
    }
  });
});

describe("the helpers", () => {
  it("predict with the same rule as the model: score > 0, or argmax", () => {
    const model = new MLP(3, [5, 4], { seed: 11 });
    const { X } = randomBatch(20, 3, 4, 5);
    const expected = X.map((x) => {
      const scores = model.forward(x).map((v) => v.data);
      return scores.indexOf(Math.max(...scores));
    });
    expect(predictClasses(weightsOf(model), X)).toEqual(expected);
    const binary = new MLP(3, [5, 1], { seed: 11 });
    expect(predictClasses(weightsOf(binary), X)).toEqual(
      X.map((x) => (binary.forward(x)[0].data > 0 ? 1 : 0)),
    );
  });

  it("flatten weights in the order of MLP.parameters()", () => {
    const model = new MLP(4, [3, 2], { seed: 2 });
    expect(flatten(weightsOf(model))).toEqual(Float64Array.from(model.parameters(), (p) => p.data));
  });

  it("take the median of odd and even counts", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });

  it("build a chain with the node count asked for and the gradient the recurrence predicts", () => {
    const { root, x } = buildChain(1000);
    // 1000 operation nodes above the leaf x.
    expect(countNodes(root)).toBe(1001);
    root.backward();
    const byHand = float64Chain(1000);
    expect(root.data).toBe(byHand.value);
    expect(relative(x.grad, byHand.gradient)).toBeLessThan(1e-12);
    expect(x.grad).toBeGreaterThan(1);
    expect(() => buildChain(999)).toThrow(/even/);
  });

  it("build a chain deep enough to overflow any recursive walk, and differentiate it", () => {
    const { root, x } = buildChain(200_000);
    root.backward();
    expect(relative(x.grad, float64Chain(200_000).gradient)).toBeLessThan(1e-9);
  });
});

describe("the command line", () => {
  const root = new URL("..", import.meta.url).pathname;
  const ignoredByGit = (path: string) => {
    try {
      execFileSync("git", ["check-ignore", "-q", path], { cwd: root });
      return true;
    } catch {
      return false;
    }
  };

  it("writes results where git does not track them, unless --save asks for the committed table", () => {
    const scratch = parseBenchArgs([]);
    expect(relativePath(root, scratch.outDir)).toBe("out/bench");
    expect(ignoredByGit(`${scratch.outDir}/latest.md`)).toBe(true);
    expect(scratch.reps).toBe(9);
    const saved = parseBenchArgs(["--save", "--reps", "5"]);
    expect(relativePath(root, saved.outDir)).toBe("bench/results");
    expect(ignoredByGit(`${saved.outDir}/latest.md`)).toBe(false);
    expect(saved.reps).toBe(5);
    expect(parseBenchArgs(["--quick"]).reps).toBe(3);
  });

  it("runs some workloads by name, the --max-graph rows among them", () => {
    expect(parseBenchArgs(["--only", "ladder,graph"]).only).toEqual(["ladder", "graph"]);
    expect(parseBenchArgs([]).only).toContain("graph");
    expect(() => parseBenchArgs(["--only", "memory"])).toThrow('unknown workload "memory"');
  });

  it("names a wrong argument", () => {
    expect(() => parseBenchArgs(["--update"])).toThrow('unknown argument "--update"');
    expect(() => parseBenchArgs(["--reps", "0"])).toThrow("--reps must be a positive integer, got 0");
    expect(() => parseBenchArgs(["--reps"])).toThrow("got nothing");
  });
});

describe("the console", () => {
  it("shows no TensorFlow.js banner (the hint to install its Node backend)", () => {
    const printed = consoleWarn.mock.calls.map((args) => args.join(" "));
    expect(printed.filter((text) => /TensorFlow|tfjs/.test(text))).toEqual([]);
  });
});
