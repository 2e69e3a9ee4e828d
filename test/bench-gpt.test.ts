// The GPT ladder of the benchmark compares like with like only if the hand-written Float64Array
// step (and PyTorch, where installed) does the model's work: the same loss, the same gradients,
// the same weights after Adam steps. Nothing here is timed.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { gptContentionWorkload } from "../bench/gpt-contention.js";
import { createFloat64GPT, gptStepFlops } from "../bench/gpt-float64.js";
import { findTorch, gptLadderWorkload, runTorch } from "../bench/gpt-ladder.js";
import { gptWorkersWorkload } from "../bench/gpt-workers.js";
import { createRandom, GPT, type GPTConfig, TextWindows, trainGPT } from "../src/index.js";

const CONFIG: GPTConfig = { vocabSize: 7, nLayer: 2, nEmbd: 8, nHead: 2, blockSize: 6 };
const DOCUMENTS = [
  [0, 3, 5, 1, 2, 6, 4, 0, 2], // longer than the block: its first 7 tokens are seen
  [0, 1, 0],
  [0, 6, 6, 5, 2, 0],
];

function largestDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  return worst / scale;
}

describe("the hand-written Float64Array GPT step", () => {
  it("computes the eager GPT's loss and gradients", () => {
    for (const doc of DOCUMENTS) {
      // A large initial spread, so that attention is far from uniform and ReLUs are cut.
      const gpt = new GPT({ ...CONFIG, seed: 3, initStd: 0.5 });
      const parameters = gpt.parameters();
      const loss = gpt.loss(doc);
      loss.backward();
      const byHand = createFloat64GPT(
        CONFIG,
        Float64Array.from(parameters, (p) => p.data),
        {
          betas: [0.85, 0.99],
          eps: 1e-8,
        },
      );
      const handLoss = byHand.lossAndGradients(doc);
      expect(Math.abs(handLoss - loss.data) / loss.data).toBeLessThan(1e-13);
      const eager = parameters.map((p) => p.grad);
      expect(eager.filter((g) => g !== 0).length).toBeGreaterThan(parameters.length / 2);
      expect(largestDifference(byHand.gradients, eager)).toBeLessThan(1e-12);
    }
  });

  it("ends where trainGPT ends after Adam steps on a batch of two", () => {
    const gpt = new GPT({ ...CONFIG, seed: 5 });
    const initial = Float64Array.from(gpt.parameters(), (p) => p.data);
    const steps = 4;
    const losses = trainGPT(gpt, DOCUMENTS, { steps, batchSize: 2 }).losses;
    const byHand = createFloat64GPT(CONFIG, initial, { betas: [0.85, 0.99], eps: 1e-8 });
    let next = 0;
    for (let step = 0; step < steps; step++) {
      let loss = 0;
      for (let i = 0; i < 2; i++) {
        loss += byHand.lossAndGradients(DOCUMENTS[next], 1 / 2) / 2;
        next = (next + 1) % DOCUMENTS.length;
      }
      expect(Math.abs(loss - losses[step]) / losses[step]).toBeLessThan(1e-12);
      byHand.adamStep(0.01 * (1 - step / steps));
    }
    const trained = gpt.parameters().map((p) => p.data);
    expect(largestDifference(byHand.parameters, initial)).toBeGreaterThan(1e-3);
    expect(largestDifference(byHand.parameters, trained)).toBeLessThan(1e-10);
  });

  it("refuses initial weights of the wrong count", () => {
    expect(() => createFloat64GPT(CONFIG, new Float64Array(5), { betas: [0.9, 0.99], eps: 1e-8 })).toThrow(
      /expected \d+ parameters, got 5/,
    );
  });
});

describe("the ladder's work count", () => {
  it("counts the multiply-adds of one position by hand", () => {
    const config: GPTConfig = { vocabSize: 3, nLayer: 1, nEmbd: 4, nHead: 2, blockSize: 4 };
    // q, k, v, o: 4·4 each; fc1 16·4; fc2 4·16; head 3·4; attention at position 0: 2·4.
    const multiplyAdds = 4 * 16 + 64 + 64 + 12 + 2 * 4;
    expect(gptStepFlops(config, 1)).toBe(3 * 2 * multiplyAdds);
    // Each later position attends to one more.
    expect(gptStepFlops(config, 2) - 2 * gptStepFlops(config, 1)).toBe(3 * 2 * 2 * 4);
  });
});

describe("the ladder", () => {
  it("runs a small rung with every engine doing the same steps", () => {
    const rows = gptLadderWorkload({ reps: 1, rungs: [{ nLayer: 1, nEmbd: 8, steps: 3 }], torch: false });
    const engines = rows.map((r) => r.engine);
    expect(engines).toEqual(["micrograd compiled", "Float64Array by hand", "micrograd compiled"]);
    for (const row of rows) expect(row.value.median).toBeGreaterThan(0);
    const meanLoss = (text = "") => /mean loss ([\d.]+)/.exec(text)?.[1];
    expect(meanLoss(rows[0].result)).toBeDefined();
    expect(meanLoss(rows[0].result)).toBe(meanLoss(rows[1].result));
  });

  it("runs a rung of running text: batches of windows, the same losses by hand", () => {
    const path = fileURLToPath(new URL("../data/tinyshakespeare.txt", import.meta.url));
    const text = { path, blockSize: 8, batchSize: 3 };
    const rows = gptLadderWorkload({
      reps: 1,
      rungs: [{ nLayer: 1, nEmbd: 8, steps: 2, text }],
      torch: false,
    });
    expect(rows.map((r) => r.engine)).toEqual([
      "micrograd compiled",
      "Float64Array by hand",
      "micrograd compiled",
    ]);
    expect(rows[0].workload).toMatch(/Tiny Shakespeare, 3 windows of 8 characters per step/);
    // 2 steps × 3 windows × 8 predicted characters, whatever the time.
    const charsPerSecond = Number(/^([\d,]+) chars\/s/.exec(rows[0].result ?? "")?.[1].replace(/,/g, ""));
    expect(charsPerSecond).toBeCloseTo((48 / (2 * rows[0].value.median)) * 1000, -1);
    const meanLoss = (text = "") => /mean loss ([\d.]+)/.exec(text)?.[1];
    // A character-level model at its start: near ln(65), the letters of Tiny Shakespeare.
    expect(Number(meanLoss(rows[0].result))).toBeGreaterThan(3.5);
    expect(meanLoss(rows[0].result)).toBe(meanLoss(rows[1].result));
  });
});

describe("the worker rows", () => {
  it("train from the same weights on 1 and 2 threads and state how far apart they end", async () => {
    const rows = await gptWorkersWorkload({ reps: 1, nLayer: 1, nEmbd: 8, batchSize: 4, steps: 2 });
    const engines = rows.map((r) => r.engine);
    expect(engines).toContain("micrograd compiled, 1 thread");
    expect(engines.some((e) => /, 2 workers/.test(e))).toBe(true);
    const ratio = rows.find((r) => r.workload.endsWith("throughput ÷ 1 thread") && r.target !== undefined);
    expect(ratio?.target).toBe("≥ 1.7×");
    for (const row of rows.filter((r) => r.unit === "ms/step")) {
      expect(row.result).toMatch(/^[\d,]+ names\/s, [\d,]+ chars\/s;/);
    }
    // The weights after the same steps: one thread's to rounding, and the row says so.
    const agreement = rows[rows.length - 1];
    expect(agreement.workload).toMatch(
      /the largest difference of a weight after 2 steps, 1, 2(, \d+)? threads against 1/,
    );
    expect(agreement.value.median).toBeLessThanOrEqual(1e-12);
    expect(agreement.pass).toBe(true);
  }, 60_000);
});

// Only where python3-torch is installed (not in CI): the PyTorch row is the same training.
const torch = findTorch();
describe.skipIf(!torch)("the PyTorch row", () => {
  it("takes the same Adam steps from the same weights in float64", () => {
    const gpt = new GPT({ ...CONFIG, seed: 9 });
    const parameters = gpt.parameters().map((p) => p.data);
    const steps = 3;
    const documents = DOCUMENTS.slice(0, steps);
    const expected = trainGPT(gpt, documents, { steps }).losses;
    const result = runTorch(torch?.python ?? "python3", {
      config: CONFIG,
      parameters,
      documents,
      steps,
      reps: 1,
      dtype: "float64",
    });
    expect(result.msPerStep).toHaveLength(1);
    expect(result.losses).toHaveLength(steps);
    result.losses.forEach((loss, i) => {
      expect(Math.abs(loss - expected[i]) / expected[i]).toBeLessThan(1e-9);
    });
  });

  it("takes a batch of windows of running text as one tensor, the same steps as trainGPT", () => {
    const text = new TextWindows([0, 3, 5, 1, 2, 6, 4, 0, 2, 5, 5, 1, 3, 6, 2, 4, 0, 1, 3]);
    const gpt = new GPT({ ...CONFIG, seed: 4 });
    const parameters = gpt.parameters().map((p) => p.data);
    const steps = 3;
    const batchSize = 2;
    const lr = 0.02;
    const expected = trainGPT(gpt, text, { steps, batchSize, lr }).losses;
    // trainGPT's windows: drawn from seed 0, one after another.
    const random = createRandom(0);
    const windows = Array.from({ length: steps * batchSize }, () => text.random(CONFIG.blockSize, random));
    const result = runTorch(torch?.python ?? "python3", {
      config: CONFIG,
      parameters,
      documents: windows,
      steps,
      batchSize,
      lr,
      reps: 1,
      dtype: "float64",
    });
    expect(result.losses).toHaveLength(steps);
    result.losses.forEach((loss, i) => {
      expect(Math.abs(loss - expected[i]) / expected[i]).toBeLessThan(1e-9);
    });
  });
});

describe("the contention row", () => {
  it("sets two independent replays beside one alone and says what that allows two workers", async () => {
    const [row] = await gptContentionWorkload({ reps: 1, nLayer: 1, nEmbd: 8 });
    expect(row.workload).toMatch(/^Two one-thread GPT replays at once \(1 layer, embd 8, 48 names each\)/);
    expect(row.value.samples).toHaveLength(6);
    expect(row.value.median).toBeGreaterThan(0);
    const ceiling = Number(/at most ([\d.]+)× one thread/.exec(row.result ?? "")?.[1]);
    expect(ceiling).toBeCloseTo(2 / row.value.median, 1);
  }, 60_000);
});
