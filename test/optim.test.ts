// Optimizers against updates worked out by hand, and schedules against their formulas.
import { describe, expect, it } from "vitest";
import { Value } from "../src/engine.js";
import { Adam, SGD, scheduledRate } from "../src/optim.js";

function parameter(data: number, grad: number): Value {
  const p = new Value(data);
  p.grad = grad;
  return p;
}

describe("SGD", () => {
  it("takes p -= lr * g", () => {
    const p = parameter(1, 0.5);
    new SGD([p], { lr: 0.1 }).step();
    expect(p.data).toBeCloseTo(0.95, 15);
  });

  it("adds weight decay to the gradient", () => {
    const p = parameter(2, 0.5);
    new SGD([p], { lr: 0.1, weightDecay: 0.25 }).step();
    expect(p.data).toBeCloseTo(2 - 0.1 * (0.5 + 0.5), 15);
  });

  it("accumulates momentum as v = μv + g", () => {
    const p = parameter(0, 1);
    const sgd = new SGD([p], { lr: 0.1, momentum: 0.9 });
    sgd.step(); // v = 1, p = -0.1
    sgd.step(); // v = 1.9, p = -0.29
    sgd.step(); // v = 2.71, p = -0.561
    expect(p.data).toBeCloseTo(-0.561, 14);
  });

  it("nesterov looks ahead: step = g + μv", () => {
    const p = parameter(0, 1);
    const sgd = new SGD([p], { lr: 0.1, momentum: 0.5, nesterov: true });
    sgd.step(); // v = 1, step 1.5
    sgd.step(); // v = 1.5, step 1.75
    expect(p.data).toBeCloseTo(-0.325, 14);
  });

  it("zeroGrad clears every gradient", () => {
    const ps = [parameter(1, 2), parameter(3, -4)];
    new SGD(ps).zeroGrad();
    expect(ps.map((p) => p.grad)).toEqual([0, 0]);
  });

  it("rejects bad options by name", () => {
    expect(() => new SGD([], { lr: 0 })).toThrow("SGD: lr must be a positive finite number, got 0");
    expect(() => new SGD([], { momentum: 1 })).toThrow("SGD: momentum must be >= 0 and < 1, got 1");
    expect(() => new SGD([], { weightDecay: Number.NaN })).toThrow("weightDecay");
  });
});

describe("Adam", () => {
  it("first step moves each parameter by lr against the gradient's sign", () => {
    // With bias correction, m̂ = g and v̂ = g², so the step is lr * g / (|g| + eps).
    const ps = [parameter(1, 0.3), parameter(1, -20)];
    new Adam(ps, { lr: 0.01 }).step();
    expect(ps[0].data).toBeCloseTo(0.99, 6);
    expect(ps[1].data).toBeCloseTo(1.01, 6);
  });

  it("matches a second step computed by hand", () => {
    const p = parameter(0, 1);
    const adam = new Adam([p], { lr: 0.1, betas: [0.9, 0.99], eps: 1e-300 }); // eps too small to matter
    adam.step(); // p = -0.1
    p.grad = 3;
    adam.step();
    const m = 0.9 * 0.1 + 0.1 * 3; // m after step 1 is 0.1
    const v = 0.99 * 0.01 + 0.01 * 9; // v after step 1 is 0.01
    const expected = -0.1 - (0.1 * (m / (1 - 0.81))) / Math.sqrt(v / (1 - 0.99 ** 2));
    expect(p.data).toBeCloseTo(expected, 14);
  });

  it("rejects bad betas", () => {
    expect(() => new Adam([], { betas: [0.9, 1] })).toThrow("Adam: betas[1] must be >= 0 and < 1, got 1");
  });
});

describe("optimizers refuse what would turn weights into NaN", () => {
  it("checks the parameters, eps, and every step's result", () => {
    expect(() => new SGD([1, 2] as unknown as Value[])).toThrow("SGD: parameters[0] is 1, not a Value");
    expect(() => new Adam([], { eps: 0 })).toThrow("Adam: eps must be >= 5e-324");
    const p = parameter(1, Number.POSITIVE_INFINITY);
    expect(() => new SGD([p], { lr: 0.1 }).step()).toThrow(
      "SGD.step(): parameter 0 became -Infinity (its gradient was Infinity)",
    );
    const q = parameter(1, 1e308);
    expect(() => new SGD([q], { lr: 1e10 }).step()).toThrow("the learning rate is too large");
  });

  it("refuses a parameter given twice, which step() would move twice", () => {
    const a = parameter(1, 1);
    const b = parameter(2, 1);
    for (const make of [(ps: Value[]) => new SGD(ps), (ps: Value[]) => new Adam(ps)]) {
      expect(() => make([a, b, a])).toThrow(
        /parameters\[2\] is the same Value as parameters\[0\]; give each parameter once/,
      );
    }
    // Equal numbers in different Values are different parameters.
    expect(() => new SGD([parameter(1, 0), parameter(1, 0)])).not.toThrow();
  });
});

describe("schedules", () => {
  it("linear decay reproduces the demo's 1.0 - 0.9 * k / 100", () => {
    for (const k of [0, 1, 50, 99]) {
      expect(scheduledRate({ kind: "linear", endFactor: 0.1 }, 1, k, 100)).toBeCloseTo(
        1 - (0.9 * k) / 100,
        15,
      );
    }
  });

  it("step and cosine", () => {
    expect(scheduledRate({ kind: "step", stepSize: 10, gamma: 0.5 }, 0.8, 25, 100)).toBeCloseTo(0.2, 15);
    expect(scheduledRate({ kind: "cosine", endFactor: 0 }, 2, 50, 100)).toBeCloseTo(1, 15);
    expect(scheduledRate({ kind: "cosine" }, 2, 0, 100)).toBe(2);
    expect(scheduledRate({ kind: "constant" }, 0.3, 70, 100)).toBe(0.3);
  });
});
