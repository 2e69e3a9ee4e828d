// fit on worker threads: the same weights whatever the number of workers (bit for bit), the
// same as one thread to rounding, failures named as on one thread, and no process kept alive.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Dataset, makeBlobs, makeMoons } from "../src/data.js";
import { MLP } from "../src/nn.js";
import { batchParts, MLPWorkers } from "../src/node/mlp-workers.js";
import { type FitOptions, fit } from "../src/train.js";
import { micrograd, requireBuild } from "./program.js";

const pools: MLPWorkers[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

const MOONS = makeMoons({ nSamples: 101, noise: 0.2, seed: 3 });
/** In batches of 101: a last batch of 1 (in one part), the others in 3 parts of 33 or 34. */
const MOONS_203 = makeMoons({ nSamples: 203, noise: 0.2, seed: 4 });
/** In batches of 96 (3 parts of 32), the last of 63 is one larger part. */
const MOONS_159 = makeMoons({ nSamples: 159, noise: 0.2, seed: 4 });
const BLOBS = makeBlobs({ nSamples: 90, centers: 3, seed: 5 });

function train(workers: number, data: Dataset, nouts: number[], options: FitOptions) {
  const model = new MLP(data.X[0].length, nouts, { seed: 7 });
  const maxBatch = Math.min(options.batchSize ?? data.X.length, data.X.length);
  const pool = workers > 1 ? new MLPWorkers(model, { workers, maxBatch }) : undefined;
  if (pool) pools.push(pool);
  const { history } = fit(model, data, { ...options, workers: pool });
  return {
    model,
    losses: history.map((record) => record.loss),
    accuracies: history.map((record) => record.accuracy),
    weights: model.parameters().map((p) => p.data),
    gradients: model.parameters().map((p) => p.grad),
  };
}

const RUNS: [string, Dataset, number[], FitOptions][] = [
  [
    "binary hinge with L2, SGD with momentum, odd mini-batches",
    MOONS_203,
    [16, 16, 1],
    { loss: "hinge", l2: 1e-3, optimizer: "sgd", lr: 0.3, momentum: 0.9, batchSize: 101, steps: 9 },
  ],
  [
    "binary hinge, SGD, batches of 96 over 159 samples",
    MOONS_159,
    [8, 1],
    { loss: "hinge", optimizer: "sgd", lr: 0.5, batchSize: 96, steps: 6 },
  ],
  [
    "softmax, Adam, a linear schedule, the full batch",
    BLOBS,
    [12, 3],
    { optimizer: "adam", lr: 0.05, schedule: { kind: "linear", endFactor: 0.1 }, steps: 10 },
  ],
  [
    "binary squared error, SGD, batches of 96 over 159 samples",
    MOONS_159,
    [8, 1],
    { loss: "mse", optimizer: "sgd", lr: 0.2, batchSize: 96, steps: 6 },
  ],
  [
    "cross-entropy on one-hot rows with L2, Adam, the full batch",
    BLOBS,
    [8, 3],
    { loss: "bce", l2: 1e-3, optimizer: "adam", lr: 0.05, steps: 6 },
  ],
  [
    "multi-class hinge with L2, SGD, batches of 70",
    BLOBS,
    [8, 3],
    { loss: "hinge", l2: 1e-4, optimizer: "sgd", lr: 0.2, batchSize: 70, steps: 7 },
  ],
];

describe("fit on worker threads", () => {
  for (const [name, data, nouts, options] of RUNS) {
    it(`${name}: the same on 2 and 3 workers, and as one thread to 1e-12`, () => {
      const one = train(1, data, nouts, options);
      const two = train(2, data, nouts, options);
      const three = train(3, data, nouts, options);
      expect(two.weights).toEqual(three.weights);
      expect(two.losses).toEqual(three.losses);
      expect(two.gradients).toEqual(three.gradients);
      const start = new MLP(data.X[0].length, nouts, { seed: 7 }).parameters().map((p) => p.data);
      let moved = 0;
      one.weights.forEach((w, i) => {
        moved = Math.max(moved, Math.abs(w - start[i]));
        expect(Math.abs(two.weights[i] - w)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(w)));
      });
      expect(moved).toBeGreaterThan(0.01);
      two.losses.forEach((loss, i) => {
        expect(Math.abs(loss - one.losses[i])).toBeLessThanOrEqual(1e-12 * Math.max(1, loss));
      });
      expect(two.accuracies).toEqual(one.accuracies);
      // The gradients of the last step are left in the parameters, as one thread leaves them.
      expect(one.gradients.some((g) => g !== 0)).toBe(true);
      two.gradients.forEach((g, i) => {
        expect(Math.abs(g - one.gradients[i])).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(g)));
      });
    }, 60_000);
  }

  it("takes the step of the eager engine, to rounding", () => {
    const options: FitOptions = { loss: "softmax", l2: 1e-2, optimizer: "sgd", lr: 0.5, steps: 1 };
    const eager = train(1, BLOBS, [6, 3], { ...options, compile: false });
    const two = train(2, BLOBS, [6, 3], options);
    two.gradients.forEach((g, i) => {
      expect(Math.abs(g - eager.gradients[i])).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(g)));
    });
    expect(Math.abs(two.losses[0] - eager.losses[0])).toBeLessThanOrEqual(1e-12 * eager.losses[0]);
  }, 60_000);

  it("names a divergence in a worker as one thread names it", () => {
    const message = (workers: number, options: FitOptions) => {
      try {
        train(workers, MOONS, [16, 16, 1], options);
      } catch (error) {
        return (error as Error).message;
      }
      return "no error";
    };
    for (const options of [
      { loss: "mse", optimizer: "sgd", lr: 1e3, steps: 300 },
      { optimizer: "sgd", lr: 1e9, l2: 10, steps: 50 },
    ] as FitOptions[]) {
      const one = message(1, options);
      expect(one).toMatch(/^fit: training diverged at step \d+ of \d+, last loss .*\(.*\)/);
      const two = message(2, options);
      expect(message(3, options)).toBe(two);
      // The numbers in it come from weights that differ from one thread's in the last bits.
      const rounded = (text: string) =>
        text.replace(/\d+\.\d{6,}(e[+-]\d+)?/g, (x) => Number(x).toPrecision(6));
      expect(rounded(two)).toBe(rounded(one));
    }
  }, 60_000);

  it("cuts a batch into the same parts whatever the number of workers", () => {
    const sizes = [1, 31, 32, 63, 64, 95, 96, 128, 500, 512, 1000];
    expect(sizes.map(batchParts)).toEqual([1, 1, 1, 1, 2, 2, 3, 4, 15, 16, 16]);
  });

  it("refuses what the workers cannot do, naming it", async () => {
    const model = new MLP(2, [4, 1], { seed: 1 });
    const pool = new MLPWorkers(model, { workers: 2, maxBatch: 10 });
    pools.push(pool);
    expect(() => fit(model, MOONS, { steps: 1, batchSize: 11, workers: pool })).toThrow(
      "fit: batchSize 11 is more than the workers take (10)",
    );
    expect(() => fit(model, MOONS, { steps: 1, workers: pool })).toThrow(
      "fit: batchSize 101 is more than the workers take (10)",
    );
    expect(() => fit(model, MOONS, { steps: 1, batchSize: 10, workers: pool, compile: false })).toThrow(
      "workers replay the compiled loss",
    );
    expect(() => fit(new MLP(2, [4, 1]), MOONS, { steps: 1, batchSize: 10, workers: pool })).toThrow(
      "fit: the workers were made for another model",
    );
    expect(() => new MLPWorkers(model, { workers: 0, maxBatch: 2 })).toThrow(
      "MLPWorkers: workers must be a positive integer, got 0",
    );
    expect(() => new MLPWorkers(model, { workers: 2, maxBatch: 1.5 })).toThrow(
      "MLPWorkers: maxBatch must be a positive integer, got 1.5",
    );
    const closed = new MLPWorkers(model, { workers: 2, maxBatch: 10 });
    await closed.close();
    expect(() => fit(model, MOONS, { steps: 1, batchSize: 10, workers: closed })).toThrow(
      "MLPWorkers: closed",
    );
  }, 60_000);

  it("never keeps the process alive: after training, or after a divergence, unclosed", () => {
    const dir = join(import.meta.dirname, "..", ".artifacts", "fit-workers");
    mkdirSync(dir, { recursive: true });
    const script = join(dir, "unclosed.ts");
    const source = (lr: number) =>
      [
        `import { fit, makeMoons, MLP } from ${JSON.stringify(join(import.meta.dirname, "..", "src", "index.ts"))};`,
        `import { MLPWorkers } from ${JSON.stringify(join(import.meta.dirname, "..", "src", "node.ts"))};`,
        "const data = makeMoons({ nSamples: 40, seed: 1 });",
        "const model = new MLP(2, [8, 1], { seed: 1 });",
        "const workers = new MLPWorkers(model, { workers: 2, maxBatch: 40 });",
        "try {",
        `  const { history } = fit(model, data, { optimizer: "sgd", lr: ${lr}, steps: 20, workers });`,
        `  console.log("trained", history.length);`,
        "} catch (error) {",
        "  console.log(error.message.slice(0, 25));",
        "}",
      ].join("\n");
    const tsx = join(import.meta.dirname, "..", "node_modules", ".bin", "tsx");
    const run = (lr: number) => {
      writeFileSync(script, source(lr));
      return execFileSync(tsx, [script], { encoding: "utf8", timeout: 30_000 });
    };
    expect(run(0.1)).toBe("trained 20\n");
    expect(run(1e300)).toBe("fit: training diverged at\n");
  }, 60_000);
});

describe("micrograd train --workers", () => {
  requireBuild();
  it("trains the same model on 2 workers as on this thread, and says how many", async () => {
    const dir = mkdtempSync(join(tmpdir(), "micrograd-fit-workers-"));
    const common = ["train", "--samples", "300", "--batch-size", "120", "--steps", "6", "--no-pictures"];
    const one = await micrograd([...common, "--workers", "1", "--out", join(dir, "one")]);
    const two = await micrograd([...common, "--workers", "2", "--out", join(dir, "two")]);
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    expect(one.stdout).not.toMatch(/worker threads|\d workers/);
    expect(two.stdout).toContain("on 240 moons samples, holding out 60 for testing, on 2 worker threads\n");
    expect(two.stdout).toMatch(/\(compiled, 2 workers, [\d.]+ steps\/s\)/);
    const weights = (run: string): number[] =>
      JSON.parse(readFileSync(join(dir, run, "model.json"), "utf8")).parameters;
    const a = weights("one");
    const b = weights("two");
    expect(a).toHaveLength(337);
    expect(b.length).toBe(a.length);
    a.forEach((w, i) => {
      expect(Math.abs(b[i] - w)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(w)));
    });
  }, 60_000);

  it("uses no more workers than the batch has parts, and says so", async () => {
    const out = mkdtempSync(join(tmpdir(), "micrograd-fit-workers-"));
    const run = await micrograd([
      "train",
      "--steps",
      "2",
      "--batch-size",
      "40",
      "--workers",
      "2",
      "--no-pictures",
      "--out",
      out,
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      "micrograd: note: --workers 2 uses 1 thread: a batch of 40 samples is cut into 1 part (each worker takes parts of at least 32 samples)",
    );
    expect(run.stdout).not.toMatch(/worker threads|\d workers/);
  }, 60_000);
});

describe("the README's example", () => {
  it("trains on two workers and prints what its comment promises", () => {
    const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
    const start = readme.indexOf("\n### Wider models, and every core\n");
    expect(start).toBeGreaterThan(0);
    const example = [...readme.slice(start).matchAll(/```ts\n([\s\S]*?)```/g)]
      .map((match) => match[1])
      .find((block) => block.includes("new MLPWorkers("));
    expect(example).toBeDefined();
    const promised = /console\.log\(.*\); \/\/ (.*)$/m.exec(example ?? "")?.[1];
    const dir = join(import.meta.dirname, "..", ".artifacts", "readme");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "fit-workers.ts");
    writeFileSync(file, example ?? "");
    const tsx = join(import.meta.dirname, "..", "node_modules", ".bin", "tsx");
    const printed = execFileSync(tsx, [file], { cwd: join(import.meta.dirname, ".."), encoding: "utf8" });
    expect(printed).toBe(`${promised}\n`);
  }, 60_000);
});
