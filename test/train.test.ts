// Training end to end: the demo configuration, reproducibility, mini-batches, digits, and bad options.
import { describe, expect, it } from "vitest";
import { makeMoons, makeSpiral, trainTestSplit } from "../src/data.js";
import { MLP } from "../src/nn.js";
import { loadDigits } from "../src/node/datasets.js";
import { SGD } from "../src/optim.js";
import { accuracy, evaluate, type FitOptions, fit, predict, scores } from "../src/train.js";

const DEMO: FitOptions = {
  loss: "hinge",
  l2: 1e-4,
  optimizer: "sgd",
  lr: 1,
  schedule: { kind: "linear", endFactor: 0.1 },
  steps: 100,
};

function demo() {
  const data = makeMoons({ nSamples: 100, noise: 0.1, seed: 1 });
  const model = new MLP(2, [16, 16, 1], { seed: 1 });
  return { data, model, result: fit(model, data, DEMO) };
}

describe("fit", () => {
  it("the classic demo reaches 100% training accuracy", () => {
    const { data, model, result } = demo();
    expect(result.history).toHaveLength(100);
    expect(accuracy(model, data)).toBe(1);
    expect(result.history[0].loss).toBeGreaterThan(result.history[99].loss * 10);
    // The learning rate followed 1.0 → 0.1 linearly.
    expect(result.history[0].lr).toBe(1);
    expect(result.history[50].lr).toBeCloseTo(0.55, 15);
  });

  it("is reproducible: same seed, bit-identical weights and losses", () => {
    const a = demo();
    const b = demo();
    expect(a.result.history.map((r) => r.loss)).toEqual(b.result.history.map((r) => r.loss));
    expect(a.model.parameters().map((p) => p.data)).toEqual(b.model.parameters().map((p) => p.data));
    const c = new MLP(2, [16, 16, 1], { seed: 2 });
    expect(c.parameters().map((p) => p.data)).not.toEqual(
      new MLP(2, [16, 16, 1], { seed: 1 }).parameters().map((p) => p.data),
    );
  });

  it("one step equals a hand-written step of the same optimizer", () => {
    const data = makeMoons({ nSamples: 10, seed: 4 });
    const model = new MLP(2, [4, 1], { seed: 3 });
    const twin = new MLP(2, [4, 1], { seed: 3 });
    fit(model, data, { loss: "mse", optimizer: "sgd", lr: 0.05, steps: 1 });
    const outputs = data.X.map((x) => twin.forward(x)[0]);
    const loss = outputs
      .map((o, i) => o.sub(data.y[i] === 1 ? 1 : -1).pow(2))
      .reduce((s, t) => s.add(t))
      .div(outputs.length);
    const sgd = new SGD(twin.parameters(), { lr: 0.05 });
    sgd.zeroGrad();
    loss.backward();
    sgd.step();
    const got = model.parameters().map((p) => p.data);
    for (const [i, p] of twin.parameters().entries()) expect(got[i]).toBeCloseTo(p.data, 14);
  });

  it("mini-batches: epochs × ceil(n / batchSize) steps, each on a batch", () => {
    const data = makeMoons({ nSamples: 50, seed: 1 });
    const model = new MLP(2, [8, 1], { seed: 1 });
    const sizes: number[] = [];
    const { history } = fit(model, data, {
      epochs: 3,
      batchSize: 16,
      optimizer: "adam",
      onStep: (r) => {
        sizes.push(r.step);
        return undefined;
      },
    });
    expect(history).toHaveLength(3 * 4);
    expect(history.map((r) => r.epoch)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    expect(sizes).toEqual(history.map((r) => r.step));
  });

  it("stops when onStep returns false, and records validation", () => {
    const data = makeMoons({ nSamples: 40, seed: 1 });
    const { train, test } = trainTestSplit(data, { seed: 1 });
    const model = new MLP(2, [8, 1], { seed: 1 });
    const { history } = fit(model, train, {
      steps: 50,
      validation: test,
      validateEvery: 2,
      onStep: (r) => r.step < 6,
    });
    expect(history).toHaveLength(7);
    expect(history[1].validationAccuracy).toBe(evaluateAt(history, 1));
    expect(history[0].validationAccuracy).toBeUndefined();
  });

  it("learns a 3-class spiral with softmax and Adam", () => {
    const data = makeSpiral({ nSamples: 150, nClasses: 3, noise: 0.1, seed: 3 });
    const model = new MLP(2, [16, 16, 3], { seed: 1 });
    fit(model, data, { loss: "softmax", optimizer: "adam", lr: 0.03, steps: 300, l2: 1e-4 });
    expect(accuracy(model, data)).toBeGreaterThan(0.8);
  });

  it("digits: a 64-32-10 network reaches ≥ 90% held-out accuracy", () => {
    const { train, test } = trainTestSplit(loadDigits(), { testSize: 0.2, seed: 0 });
    const model = new MLP(64, [32, 10], { seed: 0, init: "he" });
    fit(model, train, { loss: "softmax", optimizer: "adam", lr: 0.01, epochs: 5, batchSize: 32, seed: 0 });
    const { accuracy: heldOut } = evaluate(model, test);
    expect(heldOut).toBeGreaterThanOrEqual(0.9);
  });

  it("names what is wrong with the options", () => {
    const data = makeMoons({ nSamples: 10, seed: 1 });
    const model = new MLP(2, [4, 1], { seed: 1 });
    expect(() => fit(model, data, { steps: 10, epochs: 1 })).toThrow("fit: give steps or epochs, not both");
    expect(() => fit(model, data, { steps: 0 })).toThrow("fit: steps must be a positive integer, got 0");
    expect(() => fit(model, data, { loss: "nope" as never })).toThrow('fit: unknown loss "nope"');
    expect(() => fit(model, data, { optimizer: "rmsprop" as never })).toThrow('unknown optimizer "rmsprop"');
    expect(() => fit(model, data, { l2: -1 })).toThrow("fit: l2 must be a finite number >= 0");
    expect(() => fit(model, data, { schedule: { kind: "linear", endFactor: 2 } })).toThrow(
      "schedule.endFactor",
    );
    expect(() => fit(new MLP(3, [1]), data)).toThrow("the data has 2 features per row but the model takes 3");
    const spiral = makeSpiral({ nSamples: 30, nClasses: 3, seed: 1 });
    expect(() => fit(model, spiral)).toThrow("a model with one output separates 2 classes; the data has 3");
    expect(() => fit(new MLP(2, [2]), spiral)).toThrow(
      "the data has 3 classes but the model has only 2 outputs",
    );
  });
});

describe("fit on bad data or a runaway rate", () => {
  it("names the bad row and label before training", () => {
    const model = new MLP(2, [4, 1], { seed: 1 });
    const data = makeMoons({ nSamples: 10, seed: 1 });
    const withNaN = { ...data, X: data.X.map((row, i) => (i === 7 ? [row[0], Number.NaN] : row)) };
    expect(() => fit(model, withNaN)).toThrow("fit: row 7, feature 1 is NaN, not a finite number");
    const badLabel = { ...data, y: data.y.map((y, i) => (i === 4 ? 7 : y)) };
    expect(() => fit(model, badLabel, { batchSize: 3 })).toThrow(
      "fit: the label of row 4 is 7, not a class index in 0..1",
    );
    const stringLabel = { ...data, y: data.y.map((y) => String(y)) as unknown as number[] };
    expect(() => fit(model, stringLabel)).toThrow('fit: the label of row 0 is "');
    const short = { ...data, X: data.X.map((row, i) => (i === 2 ? [row[0]] : row)) };
    expect(() => evaluate(model, short)).toThrow("evaluate: row 2 has 1 features, expected 2");
  });

  it("stops with a clear error when the weights run away", () => {
    const model = new MLP(2, [8, 1], { seed: 1 });
    const data = makeMoons({ nSamples: 20, seed: 1 });
    expect(() => fit(model, data, { optimizer: "sgd", lr: 1e300, loss: "mse", steps: 20 })).toThrow(
      /^fit: training diverged at step \d+.*the steps are too large; try a smaller learning rate than 1e\+300$/,
    );
  });

  it("refuses an optimizer built over another model's parameters", () => {
    const model = new MLP(2, [4, 1], { seed: 1 });
    const other = new MLP(2, [4, 1], { seed: 2 });
    const data = makeMoons({ nSamples: 10, seed: 1 });
    expect(() => fit(model, data, { optimizer: new SGD(other.parameters()) })).toThrow(
      "fit: the optimizer was built over other parameters",
    );
    expect(fit(model, data, { optimizer: new SGD(model.parameters()), steps: 2 }).history).toHaveLength(2);
  });
});

describe("evaluate, predict, scores", () => {
  it("agree with each other and with forward()", () => {
    const { data, model } = demo();
    const predicted = predict(model, data.X);
    const raw = scores(model, data.X);
    raw.forEach((row, i) => {
      expect(row).toEqual(model.forward(data.X[i]).map((v) => v.data));
      expect(predicted[i]).toBe(row[0] > 0 ? 1 : 0);
    });
    expect(evaluate(model, data).accuracy).toBe(accuracy(model, data));
  });
});

function evaluateAt(history: { validationAccuracy?: number }[], step: number): number | undefined {
  return history[step].validationAccuracy === undefined ? -1 : history[step].validationAccuracy;
}

describe("fit names the mistake", () => {
  const data = makeMoons({ nSamples: 20, seed: 1 });
  it("a softmax loss on a one-output model, before any step", () => {
    expect(() => fit(new MLP(2, [4, 1], { seed: 1 }), data, { loss: "softmax", steps: 5 })).toThrow(
      'fit: the softmax loss needs one output per class; this model has 1 output for 2 classes (build its last layer with 2 outputs, or use loss "hinge" with 1)',
    );
  });

  it("a huge L2 penalty is named as the cause, not the learning rate", () => {
    expect(() => fit(new MLP(2, [4, 1], { seed: 1 }), data, { l2: 1e308, steps: 5 })).toThrow(
      /^fit: training diverged at step 1 of \d+ \(.*\); the cause is the L2 penalty: l2 = 1e\+308 times the sum of squared weights \([\d.]+\) is too large to hold; use a much smaller l2/,
    );
  });

  it("weights that overflowed under a small L2 penalty blame the steps, not the penalty", () => {
    const moons = makeMoons({ nSamples: 100, noise: 0.1, seed: 1 });
    for (const compile of [true, false]) {
      const model = new MLP(2, [16, 16, 1], { seed: 1 });
      expect(() =>
        fit(model, moons, { loss: "mse", optimizer: "sgd", lr: 1, l2: 1e-4, steps: 60, compile }),
      ).toThrow(
        /^fit: training diverged at step 7 of \d+, .*; the loss grew from .*: the steps are too large; try a smaller learning rate than 1$/,
      );
    }
  });

  it("an output layer that does not match the classes is named", () => {
    const model = new MLP(2, [4, 5], { seed: 1 });
    expect(() => fit(model, data, { loss: "mse", optimizer: "sgd", lr: 1e200, steps: 20 })).toThrow(
      /training diverged .*the likely cause is the output layer: the model has 5 outputs for 2 classes; give its last layer 1 or 2 outputs \(if the size is intended, try a smaller learning rate than 1e\+200\)/,
    );
  });

  it("huge inputs are named, and a failure before any update does not blame the learning rate", () => {
    const huge = { ...data, X: data.X.map(([a, b]) => [a * 1e300, b]) };
    expect(() => fit(new MLP(2, [4, 1], { seed: 1 }), huge, { steps: 5 })).toThrow(
      /the likely cause is the scale of the inputs: features as large as [\d.]+e\+300; standardize them/,
    );
    const model = new MLP(2, [4, 1], { seed: 1 });
    for (const p of model.parameters()) p.data = 1e200;
    expect(() => fit(model, data, { steps: 5 })).toThrow(
      /no update had happened yet, so the cause is the starting weights \(the largest is 1\.00e\+200\) or the inputs, not the learning rate/,
    );
  });
});
