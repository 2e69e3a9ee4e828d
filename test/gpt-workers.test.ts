// Data-parallel GPT training on worker threads: the same steps whatever the number of workers
// (bit for bit), and the same as one thread to rounding; failures named as on one thread.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseFlags } from "../src/cli/flags.js";
import { GPT_TRAIN, planGPTTraining } from "../src/cli/gpt-train.js";
import { GPT, trainGPT } from "../src/index.js";
import { GPTWorkers } from "../src/node/gpt-workers.js";
import { micrograd, requireBuild } from "./program.js";

const CONFIG = { vocabSize: 7, nLayer: 2, nEmbd: 8, nHead: 2, blockSize: 6, seed: 11 };
const DOCUMENTS = [
  [0, 3, 5, 1, 2, 6, 4, 0, 2, 3],
  [0, 1, 0],
  [0, 6, 6, 5, 2, 0],
  [0, 2, 4, 0],
  [0, 5, 1, 1, 0],
];

const pools: GPTWorkers[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

function train(workers: number, options: { steps?: number; batchSize?: number; lr?: number } = {}) {
  const gpt = new GPT(CONFIG);
  const pool = workers > 1 ? new GPTWorkers(gpt, { workers, maxBatch: 4 }) : undefined;
  if (pool) pools.push(pool);
  const { losses } = trainGPT(gpt, DOCUMENTS, { steps: 5, batchSize: 4, ...options, workers: pool });
  return { losses, weights: gpt.parameters().map((p) => p.data), gpt, pool };
}

describe("trainGPT on worker threads", () => {
  it("takes the same steps with 2 and 3 workers, and as one thread to 1e-12", () => {
    const one = train(1);
    const two = train(2);
    const three = train(3);
    expect(two.weights).toEqual(three.weights);
    expect(two.losses).toEqual(three.losses);
    const start = new GPT(CONFIG).parameters().map((p) => p.data);
    let moved = 0;
    one.weights.forEach((w, i) => {
      moved = Math.max(moved, Math.abs(w - start[i]));
      expect(Math.abs(two.weights[i] - w)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(w)));
    });
    expect(moved).toBeGreaterThan(0.01);
    two.losses.forEach((loss, i) => {
      expect(Math.abs(loss - one.losses[i])).toBeLessThanOrEqual(1e-12 * loss);
    });
  });

  it("leaves the gradients of the last step in the parameters, as one thread does", () => {
    const one = train(1, { steps: 2 });
    const two = train(2, { steps: 2 });
    const gradients = (gpt: GPT) => gpt.parameters().map((p) => p.grad);
    expect(gradients(one.gpt).some((g) => g !== 0)).toBe(true);
    gradients(two.gpt).forEach((g, i) => {
      expect(Math.abs(g - gradients(one.gpt)[i])).toBeLessThanOrEqual(1e-12 * Math.max(1e-3, Math.abs(g)));
    });
  });

  it("names the first bad token of a batch before any worker runs, the same every time", () => {
    // Documents 1, 2 and 3 hold a token outside the vocabulary; one thread meets document 1
    // first. In a worker, a trace would name it as the model does and a replay by its select.
    const gpt = new GPT(CONFIG);
    const pool = new GPTWorkers(gpt, { workers: 2, maxBatch: 4 });
    pools.push(pool);
    const batch = [
      [0, 1, 0],
      [0, 9, 0],
      [0, 8, 1, 2, 3, 4, 0],
      [0, 7, 1, 2, 3, 4, 5, 0],
    ];
    for (let run = 0; run < 5; run++) {
      expect(() => pool.compute(batch, 0.25)).toThrow(
        "GPTWorkers: document 1 has token 9, not an id in 0..6",
      );
    }
  });

  it("names a divergence in a worker as one thread names it", () => {
    expect(() => train(2, { lr: 1e9, steps: 50 })).toThrow(/trainGPT: training diverged at step \d+ of 50/);
  });

  it("refuses a batch larger than the workers take, and workers without compiling", () => {
    const gpt = new GPT(CONFIG);
    const pool = new GPTWorkers(gpt, { workers: 2, maxBatch: 2 });
    pools.push(pool);
    expect(() => trainGPT(gpt, DOCUMENTS, { steps: 1, batchSize: 3, workers: pool })).toThrow(
      "trainGPT: batchSize 3 is more than the workers take (2)",
    );
    expect(() => trainGPT(gpt, DOCUMENTS, { steps: 1, batchSize: 2, workers: pool, compile: false })).toThrow(
      "workers replay the compiled loss",
    );
    expect(() => new GPTWorkers(gpt, { workers: 0, maxBatch: 2 })).toThrow(
      "GPTWorkers: workers must be a positive integer, got 0",
    );
  });

  it("refuses work once closed", async () => {
    const gpt = new GPT(CONFIG);
    const pool = new GPTWorkers(gpt, { workers: 2, maxBatch: 2 });
    await pool.close();
    expect(() => pool.compute([DOCUMENTS[0]], 1)).toThrow("GPTWorkers: closed");
  });
});

describe("gpt train --workers", () => {
  const plan = (...args: string[]) => planGPTTraining(parseFlags(GPT_TRAIN, args).values);

  it("plans at most one worker per document of the batch, and none without compiling", () => {
    expect(plan().workers).toBeUndefined();
    expect(plan("--batch", "8", "--workers", "2").workers).toBe(2);
    expect(plan("--batch", "2", "--workers", "4").workers).toBe(2);
    expect(plan("--no-compile").workers).toBe(1);
    expect(() => plan("--no-compile", "--workers", "2")).toThrow("drop --no-compile");
    expect(() => plan("--workers", "0")).toThrow("--workers");
  });

  requireBuild();
  it("trains the same model on 2 workers as on this thread", async () => {
    const dir = mkdtempSync(join(tmpdir(), "micrograd-workers-"));
    const common = [
      "gpt",
      "train",
      "--steps",
      "3",
      "--batch",
      "4",
      "--embd",
      "8",
      "--no-pictures",
      "--quiet",
    ];
    const one = await micrograd([...common, "--workers", "1", "--out", join(dir, "one")]);
    const two = await micrograd([...common, "--workers", "2", "--out", join(dir, "two")]);
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    expect(two.stdout).toMatch(/ms\/step, compiled, 2 workers\)/);
    const weights = (run: string) => JSON.parse(readFileSync(join(dir, run, "model.json"), "utf8"));
    const a = weights("one");
    const b = weights("two");
    expect(Object.keys(b)).toEqual(Object.keys(a));
    const flat = (model: unknown) =>
      JSON.stringify(model)
        .match(/-?\d+\.\d+(e-?\d+)?/g)
        ?.map(Number) ?? [];
    const x = flat(a.weights ?? a);
    const y = flat(b.weights ?? b);
    expect(x.length).toBeGreaterThan(1000);
    expect(y.length).toBe(x.length);
    x.forEach((v, i) => {
      expect(Math.abs(y[i] - v)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v)));
    });
  }, 60_000);
});

describe("the README's example", () => {
  it("trains on two workers and prints what its comment promises", () => {
    const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
    const start = readme.indexOf("\n### Wider models, and every core\n");
    expect(start).toBeGreaterThan(0);
    const example = /```ts\n([\s\S]*?)```/.exec(readme.slice(start))?.[1] ?? "";
    expect(example).toContain("new GPTWorkers(");
    const promised = /console\.log\(.*\); \/\/ (.*)$/m.exec(example)?.[1];
    const dir = join(import.meta.dirname, "..", ".artifacts", "readme");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "workers.ts");
    writeFileSync(file, example);
    const tsx = join(import.meta.dirname, "..", "node_modules", ".bin", "tsx");
    const printed = execFileSync(tsx, [file], { cwd: join(import.meta.dirname, ".."), encoding: "utf8" });
    expect(printed).toBe(`${promised}\n`);
  }, 60_000);
});
