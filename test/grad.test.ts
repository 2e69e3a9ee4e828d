// Gradients of gradients: grad() with createGraph, hessian, hvp and second-order gradcheck,
// against hand-derived derivatives, finite differences of first derivatives on random
// programs, and TensorFlow.js's nested tf.grad.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { noGrad, OPERATIONS as OPS, type Operand, Value } from "../src/engine.js";
import { grad, hessian, hvp } from "../src/grad.js";
import { gradcheck } from "../src/gradcheck.js";
import { tf, useTfjsCpu } from "./tfjs.js";

/** The n-th derivative of f at x, each step by grad() with createGraph. */
function nthDerivatives(f: (x: Value) => Value, x0: number, n: number): number[] {
  const x = new Value(x0);
  let current = f(x);
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    [current] = grad(current, [x], { createGraph: true, allowUnused: true });
    out.push(current.data);
  }
  return out;
}

describe("derivatives of derivatives against hand-derived values", () => {
  it("x⁵ → 5x⁴ → 20x³ → 60x² → 120x → 120 → 0", () => {
    const x = 1.5;
    expect(nthDerivatives((v) => v.pow(5), x, 6)).toEqual([
      5 * x ** 4,
      20 * x ** 3,
      60 * x ** 2,
      120 * x,
      120,
      0,
    ]);
  });

  it("tanh'' = −2·tanh·(1 − tanh²) and tanh''' = (1 − tanh²)(6tanh² − 2)", () => {
    for (const x of [-1.3, 0.2, 0.7, 2.5]) {
      const t = Math.tanh(x);
      const [d1, d2, d3] = nthDerivatives((v) => v.tanh(), x, 3);
      expect(d1).toBeCloseTo(1 - t * t, 14);
      expect(d2).toBeCloseTo(-2 * t * (1 - t * t), 14);
      expect(d3).toBeCloseTo((1 - t * t) * (6 * t * t - 2), 13);
    }
  });

  it("a Value exponent: the whole Hessian of a^b", () => {
    const [a, b] = [2.5, 1.3];
    const H = hessian((p, q) => p.pow(q), [a, b]);
    const log = Math.log(a);
    expect(H[0][0]).toBeCloseTo(b * (b - 1) * a ** (b - 2), 13);
    expect(H[0][1]).toBeCloseTo(a ** (b - 1) * (1 + b * log), 13);
    expect(H[1][0]).toBeCloseTo(a ** (b - 1) * (1 + b * log), 13);
    expect(H[1][1]).toBeCloseTo(a ** b * log * log, 13);
    // Third order: ∂³(a^b)/∂b³ = a^b·log³a.
    const q = new Value(b);
    const Hbb = hessian((p, r) => p.pow(r), [a, q], { createGraph: true })[1][1];
    expect(grad(Hbb, [q])[0].data).toBeCloseTo(a ** b * log ** 3, 12);
  });

  it("every other operation's second derivative", () => {
    const x = 0.8;
    const s = 1 / (1 + Math.exp(-x));
    const second = (f: (v: Value) => Value, at = x) => nthDerivatives(f, at, 2)[1];
    expect(second((v) => v.exp())).toBeCloseTo(Math.exp(x), 14);
    expect(second((v) => v.log())).toBeCloseTo(-1 / x ** 2, 14);
    expect(second((v) => v.sqrt())).toBeCloseTo(-0.25 * x ** -1.5, 14);
    expect(second((v) => v.sigmoid())).toBeCloseTo(s * (1 - s) * (1 - 2 * s), 14);
    expect(second((v) => v.softplus())).toBeCloseTo(s * (1 - s), 14);
    expect(second((v) => v.neg().mul(v))).toBe(-2);
    expect(second((v) => v.pow(-2))).toBeCloseTo(6 * x ** -4, 13);
    expect(second((v) => v.pow(0.5))).toBeCloseTo(-0.25 * x ** -1.5, 14);
    expect(second((v) => v.pow(1))).toBe(0);
    expect(second((v) => v.pow(0))).toBe(0);
    // Kinks keep their first-order conventions: piecewise-linear ops have second derivative 0.
    for (const at of [-0.8, 0.8]) {
      expect(nthDerivatives((v) => v.relu(), at, 2)).toEqual([at > 0 ? 1 : 0, 0]);
      expect(nthDerivatives((v) => v.abs(), at, 2)).toEqual([Math.sign(at), 0]);
      expect(nthDerivatives((v) => v.leakyRelu(0.2), at, 2)).toEqual([at > 0 ? 1 : 0.2, 0]);
      // ...and pass curvature through where the function is smooth: relu(x³)'' = 6x for x > 0.
      expect(nthDerivatives((v) => v.pow(3).relu(), at, 2)[1]).toBeCloseTo(at > 0 ? 6 * at : 0, 14);
    }
  });

  it("div, mul and sum: mixed second derivatives, including where a factor is 0", () => {
    const [a, b] = [1.7, -0.6];
    const H = hessian((p, q) => p.div(q), [a, b]);
    expect(H[0][0]).toBe(0);
    expect(H[0][1]).toBeCloseTo(-1 / b ** 2, 14);
    expect(H[1][0]).toBeCloseTo(-1 / b ** 2, 14);
    expect(H[1][1]).toBeCloseTo((2 * a) / b ** 3, 13);
    // d(x·y)/dx = y is 0 here, yet its derivative with respect to y is 1.
    expect(hessian((p, q) => p.mul(q), [3, 0])).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect(hessian((p, q) => Value.sum([p.mul(p), q, p.mul(q), 2, p.mul(q)]), [a, b])).toEqual([
      [2, 2],
      [2, 0],
    ]);
  });

  it("max and select send curvature to the chosen input only", () => {
    const f = (p: Value, q: Value) => p.pow(3).max(q.pow(2));
    expect(hessian(f, [2, 1])).toEqual([
      [12, 0],
      [0, 0],
    ]);
    expect(hessian(f, [0.5, 1])).toEqual([
      [0, 0],
      [0, 2],
    ]);
    const index = new Value(1);
    const g = (p: Value, q: Value) => Value.select([p.pow(3), q.pow(2).mul(p)], index);
    expect(hessian(g, [2, 3])).toEqual([
      [0, 6],
      [6, 4],
    ]);
    const [p, q] = [new Value(2), new Value(3)];
    const [dIndex] = grad(Value.select([p, q], index), [index]);
    expect(dIndex.data).toBe(0);
  });
});

describe("grad()", () => {
  it("leaves every .grad field as it was, with or without createGraph", () => {
    const x = new Value(0.4);
    const y = new Value(-1.2);
    const h = x.mul(y).tanh();
    const out = h.add(x.pow(2)).mul(y);
    const before = [x, y, h, out].map((v, k) => {
      v.grad = 10 + k;
      return v.grad;
    });
    const first = grad(out, [x, y]);
    const built = grad(out, [x, y], { createGraph: true });
    grad(built[0], [x, y]);
    expect([x, y, h, out].map((v) => v.grad)).toEqual(before);
    for (const v of [x, y]) v.grad = 0;
    out.backward();
    expect(first.map((g) => g.data)).toEqual([x.grad, y.grad]);
    expect(built[0].data).toBeCloseTo(x.grad, 14);
    expect(built[1].data).toBeCloseTo(y.grad, 14);
    // Without createGraph the results are fresh leaves.
    for (const g of first) expect(g.op.name).toBe("value");
  });

  it("mixes with backward: a gradient penalty, differentiated by backward()", () => {
    // loss = f(w) + f'(w)², so dloss/dw = f'(w) + 2·f'(w)·f''(w).
    const w = new Value(0.9);
    const f = w.pow(3).sub(w.mul(2)).tanh();
    const [slope] = grad(f, [w], { createGraph: true });
    const loss = f.add(slope.pow(2));
    loss.backward();
    const t = Math.tanh(0.9 ** 3 - 1.8);
    const inner = 3 * 0.9 ** 2 - 2;
    const d1 = (1 - t * t) * inner;
    const d2 = -2 * t * (1 - t * t) * inner * inner + (1 - t * t) * 6 * 0.9;
    expect(slope.data).toBeCloseTo(d1, 14);
    expect(w.grad).toBeCloseTo(d1 + 2 * d1 * d2, 13);
    // backward() first, then grad() through the same graph: neither disturbs the other.
    const [again] = grad(loss, [w]);
    expect(again.data).toBeCloseTo(d1 + 2 * d1 * d2, 13);
    expect(w.grad).toBeCloseTo(d1 + 2 * d1 * d2, 13);
  });

  it("takes gradients with respect to interior nodes, and repeated inputs", () => {
    const x = new Value(0.3);
    const h = x.mul(3);
    const out = h.tanh().add(x);
    const [dh, dx, dx2] = grad(out, [h, x, x]);
    expect(dh.data).toBeCloseTo(1 - Math.tanh(0.9) ** 2, 15);
    expect(dx.data).toBeCloseTo(3 * (1 - Math.tanh(0.9) ** 2) + 1, 15);
    expect(dx2.data).toBe(dx.data);
    expect(grad(out, [out])[0].data).toBe(1);
  });

  it("unused inputs: an error naming the input, or 0 with allowUnused", () => {
    const x = new Value(2, "x");
    const w = new Value(3, "w");
    const out = x.mul(x);
    expect(() => grad(out, [x, w])).toThrow(
      'grad: input 1, a leaf "w" (data 3), is not used to compute the output; pass { allowUnused: true } to get 0 for it',
    );
    for (const createGraph of [false, true]) {
      const [dx, dw] = grad(out, [x, w], { allowUnused: true, createGraph });
      expect(dx.data).toBe(4);
      expect(dw.data).toBe(0);
      expect(dw).toBeInstanceOf(Value);
    }
    // A constant derivative is a leaf with nothing under it: its own derivative is "unused".
    const [slope] = grad(x.mul(5), [x], { createGraph: true });
    expect(() => grad(slope, [x])).toThrow(/input 0, a leaf "x" \(data 2\), is not used/);
    expect(grad(slope, [x], { allowUnused: true })[0].data).toBe(0);
    // Used, but with derivative 0 (relu off, a select's index): 0 and no error.
    expect(grad(x.neg().relu(), [x])[0].data).toBe(0);
  });

  it("differentiates through deep chains without overflowing the stack, to the third order", () => {
    // h ← tanh(h)·0.5 + h, 10,000 times (30,000 nodes deep); the gradient graphs are deeper still.
    const x = new Value(0.1);
    let h = x;
    for (let i = 0; i < 10_000; i++) h = h.tanh().mul(0.5).add(h);
    const [d1] = grad(h, [x], { createGraph: true });
    const [d2] = grad(d1, [x], { createGraph: true });
    const [d3] = grad(d2, [x]);
    h.backward();
    expect(d1.data).toBeCloseTo(x.grad, 8);
    expect(Number.isFinite(d2.data) && Number.isFinite(d3.data)).toBe(true);
    // Against differences of the chain's first derivative, computed by backward().
    const slopeAt = (x0: number) => {
      const leaf = new Value(x0);
      let node = leaf;
      for (let i = 0; i < 10_000; i++) node = node.tanh().mul(0.5).add(node);
      node.backward();
      return leaf.grad;
    };
    const eps = 1e-7;
    const numeric = (slopeAt(0.1 + eps) - slopeAt(0.1 - eps)) / (2 * eps);
    expect(Math.abs(d2.data - numeric)).toBeLessThan(1e-4 * Math.abs(numeric) + 1e-6);
  });

  it("says what is wrong with its arguments and where a derivative is not finite", () => {
    const x = new Value(0, "x");
    expect(() => grad(x.sqrt(), [x])).toThrow(
      'grad: the derivative of sqrt(0) with respect to a leaf "x" (data 0) is not finite',
    );
    expect(() => grad(x.sqrt(), [x], { createGraph: true })).toThrow(/derivative of sqrt\(0\)/);
    // In the second derivative: d(x^1.5)/dx = 1.5·x^0.5, whose derivative is infinite at 0.
    const [slope] = grad(x.pow(1.5), [x], { createGraph: true });
    expect(slope.data).toBe(0);
    expect(() => grad(slope, [x])).toThrow(/derivative of pow\(0, 0\.5\) with respect to a leaf "x"/);
    expect(() => grad(3 as unknown as Value, [x])).toThrow(
      "grad(output, inputs): output must be a Value, got 3",
    );
    expect(() => grad(x, x as unknown as Value[])).toThrow(/inputs must be an array of Values/);
    expect(() => grad(x, [x, 2 as unknown as Value])).toThrow("grad: input 1 is 2, not a Value");
    expect(() => grad(x, [x], { create_graph: true } as never)).toThrow(
      'grad: unknown option "create_graph"; did you mean "createGraph"? (the options are createGraph, allowUnused)',
    );
    expect(() => grad(x, [x], { createGraph: 1 } as never)).toThrow(
      "grad: option createGraph must be true or false, got 1",
    );
  });

  it("leaves .grad as it was when it throws, too", () => {
    const x = new Value(0, "x");
    const w = new Value(1, "w");
    const root = x.sqrt().add(w.mul(x));
    const nodes = [x, w, root, root.inputs[0] as Value, root.inputs[1] as Value];
    nodes.forEach((v, k) => {
      v.grad = 0.5 + k;
    });
    expect(() => grad(root, [x])).toThrow(/derivative of sqrt\(0\)/);
    expect(() => grad(root, [w, new Value(2)])).toThrow(/input 1, a leaf \(data 2\), is not used/);
    expect(nodes.map((v) => v.grad)).toEqual([0.5, 1.5, 2.5, 3.5, 4.5]);
    expect(grad(root, [w])[0].data).toBe(0);
  });

  it("inside noGrad, createGraph still records (as PyTorch's create_graph under no_grad)", () => {
    const x = new Value(1.2);
    const out = x.pow(3);
    const [slope] = noGrad(() => grad(out, [x], { createGraph: true }));
    expect(slope.data).toBeCloseTo(3 * 1.44, 14);
    expect(grad(slope, [x])[0].data).toBeCloseTo(6 * 1.2, 14);
    // Without createGraph, nothing is recorded: a leaf holding the number.
    const [plain] = noGrad(() => grad(out, [x]));
    expect(plain.inputs).toEqual([]);
    expect(plain.data).toBeCloseTo(3 * 1.44, 14);
  });
});

describe("hessian and hvp", () => {
  const f = (x: Value, y: Value, z: Value) => x.mul(y).tanh().add(z.pow(3).mul(x)).add(y.exp());

  it("hvp is the Hessian times v, and the Hessian is symmetric", () => {
    const xs = [0.3, -0.8, 1.1];
    const H = hessian(f, xs);
    const v = [0.5, -2, 1.5];
    const Hv = hvp(f, xs, v);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) expect(H[i][j]).toBeCloseTo(H[j][i], 13);
      expect(Hv[i]).toBeCloseTo(
        H[i].reduce((s, h, j) => s + h * v[j], 0),
        13,
      );
    }
  });

  it("with createGraph, returns Values that differentiate again (third derivatives)", () => {
    const xs = [0.3, -0.8, 1.1].map((x) => new Value(x));
    const H = hessian(f, xs, { createGraph: true });
    // ∂²f/∂z² = 6zx: its gradient is (6z, 0, 6x). ∂²f/∂x∂z = 3z², whose derivative by z is 6z.
    const third = grad(H[2][2], xs, { allowUnused: true }).map((g) => g.data);
    expect(third[0]).toBeCloseTo(6 * 1.1, 14);
    expect(third[1]).toBe(0);
    expect(third[2]).toBeCloseTo(6 * 0.3, 14);
    expect(grad(H[0][2], [xs[2]])[0].data).toBeCloseTo(6 * 1.1, 14);
    const Hv = hvp(f, xs, [0, 0, 1], { createGraph: true });
    expect(Hv[2].data).toBeCloseTo(6 * 1.1 * 0.3, 14);
    expect(grad(Hv[2], [xs[0]])[0].data).toBeCloseTo(6 * 1.1, 14);
  });

  it("give the same numbers inside noGrad", () => {
    const xs = [0.3, -0.8, 1.1];
    const H = hessian(f, xs);
    expect(noGrad(() => hessian(f, xs))).toEqual(H);
    expect(noGrad(() => hvp(f, xs, [1, 2, 3]))).toEqual(hvp(f, xs, [1, 2, 3]));
    expect(H[2][2]).toBeCloseTo(6 * 1.1 * 0.3, 14);
    // Recording is off again afterwards.
    expect(noGrad(() => new Value(1).mul(2).inputs)).toEqual([]);
  });

  it("refuse more inputs than a spread call can take, with a message saying what to do", () => {
    const xs = new Array(100_001).fill(1);
    expect(() => hvp((...x) => Value.sum(x), xs, xs)).toThrow(
      /hvp: 100001 inputs, but fn\(\.\.\.inputs\) takes at most 100000 .*write fn over one array/,
    );
    expect(() => hessian((...x) => Value.sum(x), xs)).toThrow(/hessian: 100001 inputs/);
  });

  it("an input that fn ignores has a row and column of 0", () => {
    expect(hessian((x, _unused) => x.pow(3), [2, 5])).toEqual([
      [12, 0],
      [0, 0],
    ]);
    expect(hvp((x, _unused) => x.pow(3), [2, 5], [1, 1])).toEqual([12, 0]);
  });

  it("checks its arguments", () => {
    expect(() => hessian((x) => x, [Number.NaN])).toThrow(
      "hessian: xs[0] is NaN, not a finite number or a Value",
    );
    expect(() => hessian((() => 1) as never, [1])).toThrow("hessian: fn must return a Value, got 1");
    expect(() => hvp((x) => x, [1, 2], [1])).toThrow("hvp(fn, xs, v): v must be an array as long as xs (2)");
    expect(() => hvp((x) => x, [1], ["a" as never])).toThrow(
      'hvp: v[0] is "a", not a finite number or a Value',
    );
    expect(() => hessian((x) => x, [1], { allowUnused: true } as never)).toThrow(
      'hessian: unknown option "allowUnused" (the options are createGraph)',
    );
  });
});

describe("second-order gradcheck", () => {
  it("passes on a correct function and reports every entry of the Hessian", () => {
    const result = gradcheck((a, b) => a.mul(b).add(a.pow(3)).tanh().div(b.sigmoid()), [0.3, -0.7], {
      order: 2,
    });
    expect(result.ok).toBe(true);
    expect(result.inputs.map((r) => [r.index, r.secondIndex])).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    for (const r of result.inputs) expect(r.analytic).toBeCloseTo(r.numeric, 7);
  });

  it("names the entry whose second derivative is wrong", () => {
    // The second factor of a is a constant copy: backward's first derivative is a (half of
    // 2a), which still varies with a, while the graph says its derivative is constant.
    const result = gradcheck((a, b) => a.mul(noGrad(() => new Value(a.data))).add(b.mul(a)), [1.5, 2], {
      order: 2,
    });
    expect(result.ok).toBe(false);
    expect(result.failures.map((r) => [r.index, r.secondIndex])).toEqual([[0, 0]]);
    expect(result.failures[0].analytic).toBe(0);
    expect(result.failures[0].numeric).toBeCloseTo(1, 6);
    expect(() => gradcheck((a) => a, [1], { order: 3 as never })).toThrow(
      "option order must be 1 or 2, got 3",
    );
  });
});

// ---------------------------------------------------------------------------------------
// Random programs, as in engine-property.test.ts: steps over a pool of nodes that starts
// with the inputs, each operation kept inside its domain and away from its kinks.

type Step = { op: number; i: number; j: number; k: number };

const PROGRAM_OPS: ((x: Value, y: Value, k: number) => Value)[] = [
  (x, y) => x.add(y),
  (x, y) => x.sub(y),
  (x, y) => x.mul(y),
  (x, y) => x.div(y.mul(y).add(0.5)),
  (x, _y, k) => x.mul(k).add(k),
  (x) => x.neg(),
  (x) => x.tanh(),
  (x) => x.sigmoid(),
  (x) => x.softplus(),
  (x) => x.mul(0.3).exp(),
  (x) => x.softplus().add(0.5).log(),
  (x) => x.mul(x).add(0.25).sqrt(),
  (x, _y, k) => x.mul(x).add(0.5).pow(k),
  (x) => x.tanh().pow(3),
  (x, y) => x.softplus().add(0.5).pow(y.tanh()),
  (x, y) => Value.sum([x, y.mul(x), 1.5, x]),
  (x, y) => x.max(y.add(x.mul(x).add(0.2))),
  (x, y, k) => Value.select([x, y, x.mul(y)], new Value(Math.floor(Math.abs(k) * 1.4))),
  (x) => x.mul(x).add(0.1).abs().mul(x),
  (x) => x.mul(x).add(0.1).relu().mul(x),
  (x) => x.mul(x).neg().sub(0.1).leakyRelu(0.2).mul(x),
];

const stepArb = fc.record({
  op: fc.nat({ max: PROGRAM_OPS.length - 1 }),
  i: fc.nat(),
  j: fc.nat(),
  k: fc.double({ min: -2, max: 2, noNaN: true }),
});
const inputsArb = fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: 1, maxLength: 3 });

function build(inputs: Value[], steps: Step[]): Value {
  const pool: Value[] = [...inputs];
  for (const { op, i, j, k } of steps)
    pool.push(PROGRAM_OPS[op](pool[i % pool.length], pool[j % pool.length], k));
  return Value.sum(pool.slice(-3));
}

describe("random programs", () => {
  it("cover every operation of the engine's table", () => {
    const seen = new Set<string>();
    for (const op of PROGRAM_OPS) {
      const stack: Operand[] = [op(new Value(0.7), new Value(-0.4), 1.5)];
      while (stack.length) {
        const v = stack.pop();
        if (v instanceof Value) {
          seen.add(v.op === OPS.powk ? "powk" : v.op.name);
          stack.push(...v.inputs);
        }
      }
    }
    const table = Object.entries(OPS).map(([key, op]) => (key === "powk" ? "powk" : op.name));
    for (const name of table) expect(seen, name).toContain(name);
  });

  it("second derivatives agree with differences of backward()'s gradient", () => {
    fc.assert(
      fc.property(inputsArb, fc.array(stepArb, { minLength: 1, maxLength: 15 }), (xs, steps) => {
        const result = gradcheck((...inputs) => build(inputs, steps), xs, {
          order: 2,
          rtol: 1e-4,
          atol: 1e-5,
        });
        if (!result.ok) throw new Error(`disagreement: ${JSON.stringify(result.failures)}`);
      }),
      { numRuns: 200, seed: 20261127 },
    );
  });

  it("first derivatives on Values equal those on numbers; .grad stays as it was", () => {
    fc.assert(
      fc.property(inputsArb, fc.array(stepArb, { minLength: 1, maxLength: 15 }), (xs, steps) => {
        const leaves = xs.map((x) => new Value(x));
        const out = build(leaves, steps);
        const onNumbers = grad(out, leaves, { allowUnused: true }).map((g) => g.data);
        const onValues = grad(out, leaves, { allowUnused: true, createGraph: true }).map((g) => g.data);
        onNumbers.forEach((g, k) => {
          expect(Math.abs(onValues[k] - g)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(g)));
        });
        expect(leaves.map((v) => v.grad)).toEqual(xs.map(() => 0));
        out.backward();
        expect(leaves.map((v) => v.grad)).toEqual(onNumbers);
      }),
      { numRuns: 200, seed: 11 },
    );
  });

  it("third derivatives agree with differences of the Hessian", () => {
    fc.assert(
      fc.property(inputsArb, fc.array(stepArb, { minLength: 1, maxLength: 10 }), (xs, steps) => {
        const leaves = xs.map((x) => new Value(x));
        const H = hessian((...inputs) => build(inputs, steps), leaves, { createGraph: true });
        const eps = 1e-5;
        for (let j = 0; j < xs.length; j++) {
          const shifted = (by: number) =>
            hessian(
              (...inputs) => build(inputs, steps),
              xs.map((x, k) => (k === j ? x + by : x)),
            );
          const [up, down] = [shifted(eps), shifted(-eps)];
          for (let i = 0; i < xs.length; i++) {
            const third = grad(H[i][i], [leaves[j]], { allowUnused: true })[0].data;
            const numeric = (up[i][i] - down[i][i]) / (2 * eps);
            if (!(Math.abs(third - numeric) <= 1e-4 + 1e-4 * Math.abs(numeric))) {
              throw new Error(`∂³f/∂x${i}²∂x${j}: ${third} vs ${numeric}`);
            }
          }
        }
      }),
      { numRuns: 80, seed: 3 },
    );
  });
});

// ---------------------------------------------------------------------------------------
// TensorFlow.js as an independent oracle: nested tf.grads gives the Hessian.

type Pair = [(x: Value, y: Value) => Value, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor];
const softplusTf = (x: tf.Tensor) => tf.softplus(x) as tf.Tensor;
// tfjs differentiates the gradients of tanh, sigmoid, exp, pow (by its exponent) and
// leakyRelu only once: their rules reuse the saved output, which the outer tape does not
// follow (tf.grad(tf.grad(tf.tanh)) throws). So the oracle writes them with operations
// whose gradients are built from their inputs; tfjs still does all the differentiating.
const expTf = (x: tf.Tensor) => tf.add(tf.expm1(x), 1);
const tanhTf = (x: tf.Tensor) => tf.div(tf.sinh(x), tf.cosh(x));
const sigmoidTf = (x: tf.Tensor) => tf.div(1, tf.add(2, tf.expm1(tf.neg(x))));
const powTf = (a: tf.Tensor, b: tf.Tensor) => expTf(tf.mul(b, tf.log(a)));
// tf.maximum's gradient has no gradient of its own ("gradient function not found for Less").
const maxTf = (x: tf.Tensor, y: tf.Tensor) => tf.add(y, tf.relu(tf.sub(x, y)));
const leakyReluTf = (x: tf.Tensor, slope: number) => tf.sub(tf.relu(x), tf.mul(slope, tf.relu(tf.neg(x))));
const PAIRS: Pair[] = [
  [(x, y) => x.add(y), (x, y) => tf.add(x, y)],
  [(x, y) => x.sub(y), (x, y) => tf.sub(x, y)],
  [(x, y) => x.mul(y), (x, y) => tf.mul(x, y)],
  [(x, y) => x.div(y.mul(y).add(0.5)), (x, y) => tf.div(x, tf.add(tf.mul(y, y), 0.5))],
  [(x) => x.neg(), (x) => tf.neg(x)],
  [(x) => x.tanh(), tanhTf],
  [(x) => x.sigmoid(), sigmoidTf],
  [(x) => x.softplus(), softplusTf],
  [(x) => x.mul(0.3).exp(), (x) => expTf(tf.mul(x, 0.3))],
  [(x) => x.softplus().add(0.5).log(), (x) => tf.log(tf.add(softplusTf(x), 0.5))],
  [(x) => x.mul(x).add(0.25).sqrt(), (x) => tf.sqrt(tf.add(tf.mul(x, x), 0.25))],
  [(x) => x.mul(x).add(0.5).pow(1.5), (x) => tf.pow(tf.add(tf.mul(x, x), 0.5), 1.5)],
  [(x) => x.pow(3), (x) => tf.pow(x, 3)],
  [(x, y) => x.softplus().add(0.5).pow(y.tanh()), (x, y) => powTf(tf.add(softplusTf(x), 0.5), tanhTf(y))],
  [(x) => x.mul(x).add(0.1).abs().mul(x), (x) => tf.mul(tf.abs(tf.add(tf.mul(x, x), 0.1)), x)],
  [(x) => x.relu().mul(x), (x) => tf.mul(tf.relu(x), x)],
  [(x) => x.leakyRelu(0.2).mul(x), (x) => tf.mul(leakyReluTf(x, 0.2), x)],
  [(x, y) => x.max(y.add(0.5)).mul(x), (x, y) => tf.mul(maxTf(x, tf.add(y, 0.5)), x)],
  [(x, y) => Value.sum([x, y.mul(x), 2, x]), (x, y) => tf.addN([x, tf.mul(y, x), tf.scalar(2), x])],
];

beforeAll(async () => {
  await useTfjsCpu();
});

describe("Hessians agree with TensorFlow.js (nested tf.grads)", () => {
  it("on random programs with shared sub-expressions", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: 2, maxLength: 3 }),
        fc.array(fc.record({ op: fc.nat({ max: PAIRS.length - 1 }), i: fc.nat(), j: fc.nat() }), {
          minLength: 1,
          maxLength: 10,
        }),
        (xs, steps) => {
          // Kinks (relu, abs, max) are at 0 or at a tie: keep the inputs away from them.
          const inputs = xs.map((x) => (Math.abs(x) < 0.05 ? x + 0.1 : x));
          const program = <T>(pairIndex: 0 | 1, args: T[], sum: (terms: T[]) => T) => {
            const pool = [...args];
            for (const { op, i, j } of steps) {
              const rule = PAIRS[op][pairIndex] as unknown as (x: T, y: T) => T;
              pool.push(rule(pool[i % pool.length], pool[j % pool.length]));
            }
            // Every input reaches the output directly, with curvature: tf.grads refuses inputs that do not.
            return sum([...pool.slice(-2), ...args]);
          };
          const ours = hessian(
            (...args) => program(0, args, (terms) => Value.sum([...terms, ...args.map((a) => a.pow(3))])),
            inputs,
          );
          const f = (...args: tf.Tensor[]) =>
            program(1, args, (terms) => tf.addN([...terms, ...args.map((a) => tf.pow(a, 3))]));
          const theirs = tf.tidy(() =>
            inputs.map((_, i) =>
              tf
                .grads((...args: tf.Tensor[]) =>
                  tf.add(tf.grads(f)(args)[i], tf.addN(args.map((a) => tf.mul(a, 0)))),
                )(inputs.map((x) => tf.scalar(x, "float32")))
                .map((g) => g.dataSync()[0]),
            ),
          );
          // float32 keeps about 7 significant digits; second derivatives lose a few more.
          const scale = Math.max(1, ...ours.flat().map(Math.abs));
          ours.forEach((row, i) => {
            row.forEach((h, j) => {
              expect(
                Math.abs(h - theirs[i][j]),
                `H[${i}][${j}]: ${h} vs ${theirs[i][j]}`,
              ).toBeLessThanOrEqual(2e-3 * scale);
            });
          });
        },
      ),
      { numRuns: 60, seed: 42 },
    );
  });
});
