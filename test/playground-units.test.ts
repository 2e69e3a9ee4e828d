// The playground's logic that runs in Node as well: the numbers it shows, what its number fields
// accept, and the worker's steps in parts.
import { describe, expect, it } from "vitest";
import { FIELD_RULES, formatNumber, readField } from "../playground/format.js";
import {
  backwardPart,
  backwardPenalty,
  CompiledParts,
  type PartialStep,
  partSize,
} from "../playground/parts.js";
import { StepRate } from "../playground/rate.js";
import { classificationLoss, type LossName, l2Penalty, MLP, makeBlobs, makeMoons } from "../src/index.js";

describe("formatNumber", () => {
  it("shows ordinary sizes with three significant digits and the rest as powers of ten", () => {
    expect(formatNumber(0.5)).toBe("0.500");
    expect(formatNumber(0.0123)).toBe("0.012");
    expect(formatNumber(1.2345)).toBe("1.23");
    expect(formatNumber(123.45)).toBe("123");
    expect(formatNumber(0)).toBe("0");
    expect(formatNumber(3.674577552668649e259)).toBe("3.7e+259");
    expect(formatNumber(1e-4)).toBe("1e-4");
    expect(formatNumber(-2.5e7)).toBe("-2.5e+7");
    expect(formatNumber(Number.NaN)).toBe("–");
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe("–");
    // Never a long run of digits, whatever the size.
    for (let e = -300; e <= 300; e += 7)
      expect(formatNumber(1.23456789 * 10 ** e).length).toBeLessThanOrEqual(8);
  });
});

describe("StepRate", () => {
  it("measures steps and characters a second over windows of half a second or more", () => {
    const rate = new StepRate();
    rate.restart(0, 1000, 0);
    rate.measure(10, 1200, 300);
    // A window shorter than half a second measures nothing yet.
    expect(rate.perSecond).toBe(0);
    rate.measure(40, 1600, 1200);
    expect(rate.perSecond).toBeCloseTo(40 / 0.6, 10);
    expect(rate.charactersPerSecond).toBeCloseTo(1200 / 0.6, 10);
    rate.measure(50, 2600, 1500);
    expect(rate.perSecond).toBeCloseTo(10, 10);
    expect(rate.charactersPerSecond).toBeCloseTo(300, 10);
    rate.restart(50, 3000, 1500);
    expect([rate.perSecond, rate.charactersPerSecond]).toEqual([0, 0]);
  });
});

describe("readField", () => {
  it("reads the learning rate, batch size and L2 penalty, or says what is wrong with them", () => {
    expect(readField("0.1", false, FIELD_RULES.lr)).toBe(0.1);
    expect(readField("0", false, FIELD_RULES.lr)).toEqual({
      error: "0: the learning rate must be above 0, such as 0.1.",
    });
    expect(readField("", false, FIELD_RULES.lr)).toEqual({
      error: "Empty: the learning rate must be above 0, such as 0.1.",
    });
    expect(readField("", true, FIELD_RULES.lr)).toEqual({
      error: "Not a number: the learning rate must be above 0, such as 0.1.",
    });
    expect(readField("1e400", false, FIELD_RULES.lr)).toEqual({
      error: "1e400 is not a finite number: the learning rate must be above 0, such as 0.1.",
    });
    expect(readField("", false, FIELD_RULES.batchSize)).toBe(0);
    expect(readField(" 32 ", false, FIELD_RULES.batchSize)).toBe(32);
    expect(readField("2.5", false, FIELD_RULES.batchSize)).toEqual({
      error: "2.5: the batch size must be a whole number of points, 1 or more (empty: all of them).",
    });
    expect(readField("0", false, FIELD_RULES.l2)).toBe(0);
    expect(readField("-3", false, FIELD_RULES.l2)).toEqual({
      error: "-3: the L2 penalty must be 0 or more (0: none).",
    });
    expect(readField("1001", false, FIELD_RULES.size)).toEqual({
      error: "1001: the number of points must be a whole number from 2 to 1000.",
    });
  });
});

describe("a step in parts", () => {
  const cases: [string, LossName, () => ReturnType<typeof makeMoons>, number][] = [
    ["moons, hinge, one output", "hinge", () => makeMoons({ nSamples: 40, noise: 0.1, seed: 3 }), 1],
    ["blobs, softmax, three outputs", "softmax", () => makeBlobs({ nSamples: 40, seed: 3 }), 3],
    ["blobs, mse, three outputs", "mse", () => makeBlobs({ nSamples: 40, seed: 4 }), 3],
  ];
  it.each(cases)("adds up to the whole batch's loss and gradients: %s", (_, lossName, makeData, nout) => {
    const data = makeData();
    const batch = [3, 17, 0, 25, 9, 31, 12, 38, 5, 22, 14];
    const model = new MLP(2, [6, 5, nout], { seed: 7, activation: "tanh" });
    const parameters = model.parameters();

    const whole = classificationLoss(
      lossName,
      batch.map((i) => model.forward(data.X[i])),
      batch.map((i) => data.y[i]),
    ).add(l2Penalty(parameters, 1e-3));
    model.zeroGrad();
    whole.backward();
    const expected = parameters.map((p) => p.grad);

    model.zeroGrad();
    const step: PartialStep = { batch, done: 0, loss: 0 };
    const completions: boolean[] = [];
    do completions.push(backwardPart(model, data, lossName, step, 4));
    while (!completions[completions.length - 1]);
    backwardPenalty(model, 1e-3, step);
    expect(completions).toEqual([false, false, true]);
    expect(step.done).toBe(batch.length);
    expect(step.loss).toBeCloseTo(whole.data, 12);
    parameters.forEach((p, k) => {
      expect(p.grad).toBeCloseTo(expected[k], 12);
    });
    expect(expected.some((g) => Math.abs(g) > 1e-3)).toBe(true);
  });

  it.each(cases)(
    "compiled, gives the eager parts' loss and gradients, and replays a part of the same size in a new batch: %s",
    (_, lossName, makeData, nout) => {
      const data = makeData();
      const model = new MLP(2, [6, 5, nout], { seed: 7, activation: "relu" });
      const parameters = model.parameters();
      const compiled = new CompiledParts(model, lossName);
      // 11 samples in parts of 4 (4, 4, 3), then 12 (4, 4, 4): the second batch's parts of 4
      // replay the first's trace with their own samples and share of the batch.
      for (const batch of [
        [3, 17, 0, 25, 9, 31, 12, 38, 5, 22, 14],
        [1, 2, 4, 6, 7, 8, 10, 11, 13, 15, 16, 18],
      ]) {
        const run = (parts?: CompiledParts) => {
          model.zeroGrad();
          const step: PartialStep = { batch, done: 0, loss: 0 };
          while (!backwardPart(model, data, lossName, step, 4, parts));
          backwardPenalty(model, 1e-3, step, parts);
          return { loss: step.loss, grads: parameters.map((p) => p.grad) };
        };
        const eager = run();
        const replayed = run(compiled);
        expect(Math.abs(replayed.loss - eager.loss)).toBeLessThanOrEqual(1e-12 * Math.abs(eager.loss));
        replayed.grads.forEach((g, k) => {
          expect(Math.abs(g - eager.grads[k])).toBeLessThanOrEqual(
            1e-12 * Math.max(1, Math.abs(eager.grads[k])),
          );
        });
        expect(eager.grads.some((g) => Math.abs(g) > 1e-3)).toBe(true);
      }
      // Parts of 4 and of 3: two traces, however many parts were replayed.
      expect(compiled.part.traceCount).toBe(2);
    },
  );

  it("cuts a step into parts of about the same number of nodes, whatever the network", () => {
    expect(partSize(new MLP(2, [16, 16, 1]))).toBe(148);
    expect(partSize(new MLP(2, [64, 64, 64, 1]))).toBe(5);
    expect(partSize(new MLP(2, [512, 512, 1]))).toBe(1);
  });
});
