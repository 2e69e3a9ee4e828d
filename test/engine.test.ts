import { describe, expect, it } from "vitest";
import { type GraphWalk, isRecording, noGrad, type Operand, Value, walkGraph } from "../src/engine.js";

/** Value and gradients of a one-input function at x. */
function unary(f: (v: Value) => Value, x: number): { y: number; dx: number } {
  const v = new Value(x);
  const y = f(v);
  y.backward();
  return { y: y.data, dx: v.grad };
}

describe("each operation: value and gradient against hand-derived rules", () => {
  const a = 1.7;
  const b = -0.6;
  const binary = (f: (p: Value, q: Value) => Value) => {
    const p = new Value(a);
    const q = new Value(b);
    const out = f(p, q);
    out.backward();
    return { y: out.data, da: p.grad, db: q.grad };
  };

  it("add, sub, mul, div", () => {
    expect(binary((p, q) => p.add(q))).toEqual({ y: a + b, da: 1, db: 1 });
    expect(binary((p, q) => p.sub(q))).toEqual({ y: a - b, da: 1, db: -1 });
    expect(binary((p, q) => p.mul(q))).toEqual({ y: a * b, da: b, db: a });
    const div = binary((p, q) => p.div(q));
    expect(div.y).toBe(a / b);
    expect(div.da).toBeCloseTo(1 / b, 14);
    expect(div.db).toBeCloseTo(-a / (b * b), 14);
  });

  it("pow with a Value exponent sends gradient to both", () => {
    const p = new Value(2.5);
    const q = new Value(1.3);
    const out = p.pow(q);
    out.backward();
    expect(out.data).toBe(2.5 ** 1.3);
    expect(p.grad).toBeCloseTo(1.3 * 2.5 ** 0.3, 13);
    expect(q.grad).toBeCloseTo(2.5 ** 1.3 * Math.log(2.5), 13);
  });

  it("pow with a number exponent", () => {
    expect(unary((v) => v.pow(3), -2)).toEqual({ y: -8, dx: 12 });
    expect(unary((v) => v.pow(-1), 4)).toEqual({ y: 0.25, dx: -1 / 16 });
    expect(unary((v) => v.pow(0), 0)).toEqual({ y: 1, dx: 0 });
    const half = unary((v) => v.pow(0.5), 9);
    expect(half.y).toBe(3);
    expect(half.dx).toBeCloseTo(1 / 6, 15);
  });

  it("constants as operands get no gradient and change nothing else", () => {
    expect(unary((v) => v.add(3), 2)).toEqual({ y: 5, dx: 1 });
    expect(unary((v) => v.sub(3), 2)).toEqual({ y: -1, dx: 1 });
    expect(unary((v) => v.mul(3), 2)).toEqual({ y: 6, dx: 3 });
    expect(unary((v) => v.div(4), 2)).toEqual({ y: 0.5, dx: 0.25 });
  });

  it("neg, exp, log, sqrt, abs", () => {
    expect(unary((v) => v.neg(), 2)).toEqual({ y: -2, dx: -1 });
    expect(unary((v) => v.exp(), 1.5)).toEqual({ y: Math.exp(1.5), dx: Math.exp(1.5) });
    expect(unary((v) => v.log(), 4)).toEqual({ y: Math.log(4), dx: 0.25 });
    expect(unary((v) => v.sqrt(), 16)).toEqual({ y: 4, dx: 0.125 });
    expect(unary((v) => v.abs(), -3)).toEqual({ y: 3, dx: -1 });
    expect(unary((v) => v.abs(), 3)).toEqual({ y: 3, dx: 1 });
  });

  it("tanh, sigmoid, softplus", () => {
    const t = unary((v) => v.tanh(), 0.8);
    expect(t.y).toBe(Math.tanh(0.8));
    expect(t.dx).toBeCloseTo(1 - Math.tanh(0.8) ** 2, 15);
    const s = unary((v) => v.sigmoid(), -1.2);
    const sig = 1 / (1 + Math.exp(1.2));
    expect(s.y).toBeCloseTo(sig, 15);
    expect(s.dx).toBeCloseTo(sig * (1 - sig), 15);
    const sp = unary((v) => v.softplus(), 0.3);
    expect(sp.y).toBeCloseTo(Math.log(1 + Math.exp(0.3)), 15);
    expect(sp.dx).toBeCloseTo(1 / (1 + Math.exp(-0.3)), 15);
  });

  it("relu and leakyRelu, on both sides of 0 and at 0", () => {
    expect(unary((v) => v.relu(), 2)).toEqual({ y: 2, dx: 1 });
    expect(unary((v) => v.relu(), -2)).toEqual({ y: 0, dx: 0 });
    expect(unary((v) => v.relu(), 0)).toEqual({ y: 0, dx: 0 });
    expect(unary((v) => v.leakyRelu(), -2)).toEqual({ y: -0.02, dx: 0.01 });
    expect(unary((v) => v.leakyRelu(0.2), -2)).toEqual({ y: -0.4, dx: 0.2 });
    expect(unary((v) => v.leakyRelu(0.2), 3)).toEqual({ y: 3, dx: 1 });
  });

  it("Value.sum mixes Values and numbers and counts a repeated term twice", () => {
    const x = new Value(2);
    const y = new Value(-5);
    const s = Value.sum([x, 3, y, x, 0.5]);
    s.backward();
    expect(s.data).toBe(2 + 3 - 5 + 2 + 0.5);
    expect(x.grad).toBe(2);
    expect(y.grad).toBe(1);
    expect(s.inputs).toEqual([x, 3, y, x, 0.5]);
  });

  it("max sends the gradient to the larger input, the first on a tie", () => {
    const a = new Value(2);
    const b = new Value(5);
    const m = a.max(b).mul(3);
    m.backward();
    expect(m.data).toBe(15);
    expect([a.grad, b.grad]).toEqual([0, 3]);
    const c = new Value(4);
    const d = new Value(4);
    c.max(d).backward();
    expect([c.grad, d.grad]).toEqual([1, 0]);
    const terms = [new Value(-1), new Value(7), new Value(3)];
    const top = Value.max(terms);
    top.backward();
    expect(top.data).toBe(7);
    expect(terms.map((t) => t.grad)).toEqual([0, 1, 0]);
    expect(new Value(1).max(9).data).toBe(9);
  });

  it("select: a number index is a plain lookup; a Value index is a node whose gradient reaches the chosen one", () => {
    const row = [new Value(0.5), new Value(-2), new Value(3)];
    expect(Value.select(row, 1)).toBe(row[1]);
    const index = new Value(2);
    const picked = Value.select(row, index);
    expect(picked).not.toBe(row[2]);
    expect(picked.op.name).toBe("select");
    expect(picked.inputs).toEqual([index, ...row]);
    const out = picked.mul(picked).add(row[2]);
    out.backward();
    expect(out.data).toBe(12);
    expect(row.map((v) => v.grad)).toEqual([0, 0, 7]);
    expect(index.grad).toBe(0);
    // The node keeps its own copy of the candidates: changing the array later changes nothing.
    const mutable = [new Value(1), new Value(2)];
    const chosen = Value.select(mutable, new Value(0));
    mutable[0] = new Value(100);
    expect(chosen.inputs[1]).not.toBe(mutable[0]);
    expect(noGrad(() => Value.select(row, new Value(0)))).toBe(row[0]);
  });

  it("select and max reject what they cannot use", () => {
    const row = [new Value(1), new Value(2)];
    expect(() => Value.select(row, 2)).toThrow("Value.select: index 2 is not an integer in 0..1");
    expect(() => Value.select(row, new Value(0.5))).toThrow("index 0.5 is not an integer in 0..1");
    expect(() => Value.select([], 0)).toThrow(TypeError);
    expect(() => Value.select([1, 2] as unknown as Value[], 0)).toThrow("candidates[0] is 1, not a Value");
    // Every candidate, not only the chosen one: a compiled replay may choose another.
    const mixed = [row[0], 5, "x"] as unknown as Value[];
    expect(() => Value.select(mixed, new Value(0))).toThrow("Value.select: candidates[1] is 5, not a Value");
    expect(() => Value.select(mixed, 0)).toThrow("candidates[1] is 5, not a Value");
    expect(() => Value.max([])).toThrow(TypeError);
    expect(() => new Value(1).max(Number.NaN)).toThrow(
      "max(1, NaN): operand must be a finite number or a Value",
    );
  });

  it("reproduces the original micrograd README example", () => {
    const a = new Value(-4.0);
    const b = new Value(2.0);
    let c = a.add(b);
    let d = a.mul(b).add(b.pow(3));
    c = c.add(c.add(1));
    c = c.add(c.add(1).add(a.neg()));
    d = d.add(d.mul(2).add(b.add(a).relu()));
    d = d.add(d.mul(3).add(b.sub(a).relu()));
    const e = c.sub(d);
    const f = e.pow(2);
    let g = f.div(2.0);
    g = g.add(f.pow(-1).mul(10));
    g.backward();
    expect(g.data).toBeCloseTo(24.70408163265306, 12);
    expect(a.grad).toBeCloseTo(138.83381924198252, 10);
    expect(b.grad).toBeCloseTo(645.5772594752186, 10);
  });
});

describe("the graph", () => {
  it("records op and inputs for drawing", () => {
    const a = new Value(2, "a");
    const b = new Value(3).named("b");
    const c = a.mul(b).named("c");
    const d = c.add(1);
    expect(a.op.name).toBe("value");
    expect(c.op.name).toBe("mul");
    expect(c.op.symbol).toBe("*");
    expect(c.inputs).toEqual([a, b]);
    expect(d.inputs).toEqual([c, 1]);
    expect(c.tanh().inputs).toEqual([c]);
    expect(a.label).toBe("a");
    expect(b.label).toBe("b");
    expect(c.label).toBe("c");
    expect(d.label).toBe("");
    expect(String(c)).toBe("Value(c, data=6, grad=0)");
  });

  it("accumulates gradient on a value used twice", () => {
    const a = new Value(3);
    const b = a.add(a);
    b.backward();
    expect(a.grad).toBe(2);
    const x = new Value(-2);
    const y = x.mul(x).add(x); // x² + x → 2x + 1
    y.backward();
    expect(x.grad).toBe(-3);
  });

  it("backward twice adds the leaves' gradients again and never stale interior ones", () => {
    const x = new Value(0.5);
    const h = x.mul(x); // interior node, used twice below
    const out = h.mul(h).add(h); // x⁴ + x²
    out.backward();
    const once = 4 * 0.5 ** 3 + 2 * 0.5;
    expect(x.grad).toBeCloseTo(once, 15);
    const hGrad = h.grad;
    out.backward();
    expect(x.grad).toBeCloseTo(2 * once, 15);
    expect(h.grad).toBe(hGrad);
    expect(out.grad).toBe(1);
  });

  it("backward of another output that shares interior nodes is not polluted by the first", () => {
    const x = new Value(1.5);
    const shared = x.tanh();
    const first = shared.mul(10);
    const second = shared.mul(2);
    first.backward();
    x.grad = 0;
    second.backward();
    expect(shared.grad).toBe(2);
    expect(x.grad).toBeCloseTo(2 * (1 - Math.tanh(1.5) ** 2), 15);
  });

  it("backward on a leaf seeds its own gradient", () => {
    const x = new Value(4);
    x.backward();
    expect(x.grad).toBe(1);
  });

  it("handles a 100,000-node chain without recursion, with the exact gradient", () => {
    const x = new Value(1);
    let y = x;
    for (let i = 0; i < 100_000; i++) y = y.mul(1.00001);
    y.backward();
    expect(x.grad).toBeCloseTo(1.00001 ** 100_000, 8);
  });

  it("handles a 1,000,000-node chain", () => {
    const x = new Value(0);
    let y = x;
    for (let i = 0; i < 1_000_000; i++) y = y.add(1);
    y.backward();
    expect(y.data).toBe(1_000_000);
    expect(x.grad).toBe(1);
  });

  it("a wide and deep diamond lattice gets every path counted", () => {
    // Each level doubles the number of paths to x: d/dx = 2^levels.
    const x = new Value(1);
    let y = x;
    for (let i = 0; i < 40; i++) y = y.add(y);
    y.backward();
    expect(x.grad).toBe(2 ** 40);
  });
});

describe("noGrad", () => {
  it("computes the same numbers without recording inputs", () => {
    const x = new Value(0.3);
    const recorded = x.mul(2).tanh();
    const plain = noGrad(() => x.mul(2).tanh());
    expect(plain.data).toBe(recorded.data);
    expect(plain.inputs).toEqual([]);
    expect(plain.op.name).toBe("value");
    expect(noGrad(() => Value.sum([x, x]).inputs)).toEqual([]);
  });

  it("nests and restores recording, also after a throw", () => {
    expect(isRecording()).toBe(true);
    noGrad(() => {
      noGrad(() => expect(isRecording()).toBe(false));
      expect(isRecording()).toBe(false);
    });
    expect(isRecording()).toBe(true);
    expect(() =>
      noGrad(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(isRecording()).toBe(true);
  });

  it("rejects an async function", () => {
    expect(() => noGrad(async () => 1)).toThrow(/synchronous/);
    expect(isRecording()).toBe(true);
  });

  it("refuses backward() inside it, which would otherwise leave every gradient untouched", () => {
    const x = new Value(2);
    const built = x.mul(x);
    const message = /backward\(\) was called inside noGrad\(\).*call backward\(\) outside noGrad/;
    expect(() => noGrad(() => x.mul(3).backward())).toThrow(message);
    expect(() => noGrad(() => built.backward())).toThrow(message);
    expect(x.grad).toBe(0);
    built.backward();
    expect(x.grad).toBe(4);
  });
});

describe("bad input", () => {
  const x = new Value(2);

  it.each([["x"], [undefined], [null], [Number.NaN], [Number.POSITIVE_INFINITY], [{}], [[1]]])(
    "new Value(%s) is a TypeError",
    (bad) => {
      expect(() => new Value(bad as unknown as number)).toThrow(TypeError);
      expect(() => new Value(bad as unknown as number)).toThrow(
        /new Value\(.*\): data must be a finite number/,
      );
    },
  );

  it("a label that is not a string is a TypeError", () => {
    expect(() => new Value(1, 5 as unknown as string)).toThrow(/label must be a string/);
  });

  it.each(["add", "sub", "mul", "div", "pow"] as const)(
    "%s(undefined or NaN or a string) is a TypeError naming the operation",
    (name) => {
      for (const bad of [undefined, Number.NaN, "3", Number.NEGATIVE_INFINITY]) {
        const call = () => (x[name] as (o: Operand) => Value)(bad as unknown as Operand);
        expect(call).toThrow(TypeError);
        expect(call).toThrow(new RegExp(`^${name}\\(2, .*\\): operand must be a finite number or a Value`));
      }
    },
  );

  it("Value.sum rejects an empty list and bad terms", () => {
    expect(() => Value.sum([])).toThrow(TypeError);
    expect(() => Value.sum([x, Number.NaN])).toThrow(/term 1 is NaN/);
    expect(() => Value.sum("ab" as unknown as Operand[])).toThrow(TypeError);
  });

  it.each<[string, () => Value, string]>([
    ["log(-2)", () => new Value(-2).log(), "log(-2): input must be > 0"],
    ["log(0)", () => new Value(0).log(), "log(0): input must be > 0"],
    ["3 / 0", () => new Value(3).div(0), "div(3, 0): division by zero"],
    ["3 / Value(0)", () => new Value(3).div(new Value(0)), "div(3, 0): division by zero"],
    ["0 ** -1", () => new Value(0).pow(-1), "pow(0, -1): 0 to a negative power"],
    ["(-8) ** (1/3)", () => new Value(-8).pow(1 / 3), "negative base to a fractional power"],
    [
      "(-2) ** Value(2)",
      () => new Value(-2).pow(new Value(2)),
      "base must be >= 0 when the exponent is a Value",
    ],
    ["exp(1000)", () => new Value(1000).exp(), "exp(1000): result overflows"],
    ["sqrt(-1)", () => new Value(-1).sqrt(), "sqrt(-1): input must be >= 0"],
    ["1e200 * 1e200", () => new Value(1e200).mul(1e200), "mul(1e+200, 1e+200): result overflows"],
  ])("%s is a RangeError that names the operation", (_name, make, message) => {
    expect(make).toThrow(RangeError);
    expect(make).toThrow(message);
  });

  it("(-8) ** 3 is fine: integer powers of negative bases are defined", () => {
    expect(new Value(-8).pow(3).data).toBe(-512);
  });

  it("tanh and sigmoid are stable at ±1000", () => {
    for (const [x, tanh, sigmoid] of [
      [1000, 1, 1],
      [-1000, -1, 0],
    ]) {
      const t = unary((v) => v.tanh(), x);
      const s = unary((v) => v.sigmoid(), x);
      const sp = unary((v) => v.softplus(), x);
      expect(t).toEqual({ y: tanh, dx: 0 });
      expect(s).toEqual({ y: sigmoid, dx: 0 });
      expect(Number.isFinite(sp.y) && Number.isFinite(sp.dx)).toBe(true);
    }
  });

  it("an infinite derivative in backward is a RangeError, not a silent Infinity", () => {
    const x = new Value(0);
    const y = x.sqrt();
    expect(() => y.backward()).toThrow(RangeError);
    expect(() => y.backward()).toThrow(
      "backward(): the derivative of sqrt(0) with respect to a leaf (data 0) is not finite",
    );
    // The cause is named even when the leaf also feeds a harmless branch, and no Infinity is left.
    const z = x.sqrt().add(x.mul(3));
    expect(() => z.backward()).toThrow("the derivative of sqrt(0)");
    expect(Number.isFinite(x.grad)).toBe(true);
  });

  it("a gradient that overflows by accumulation is named too", () => {
    const x = new Value(1e-10, "x");
    // Forward 2e298 is finite, and so is each path's 1e308, but their sum is not.
    const y = x.mul(1e308).add(x.mul(1e308));
    expect(() => y.backward()).toThrow(
      'backward(): the gradient reaching a leaf "x" (data 1e-10) overflows (Infinity)',
    );
  });

  it("an operand set to NaN by hand is reported as such", () => {
    const v = new Value(1);
    v.data = Number.NaN;
    expect(() => v.mul(2)).toThrow("mul(NaN, 2): an input is not a finite number");
    expect(() => {
      v.label = 3 as unknown as string;
    }).toThrow("label must be a string, got 3");
  });
});

describe("walkGraph (the engine's walk for grad and compile)", () => {
  it("orders every node after its inputs, counts uses, finds positions and puts every grad back", () => {
    const x = new Value(2, "x");
    const y = new Value(3, "y");
    x.grad = 0.25;
    const product = x.mul(y);
    const total = Value.sum([product, product, x]);
    const outside = new Value(1);
    const visit = (walk: GraphWalk) => {
      expect(walk.order).toEqual([x, y, product, total]);
      expect(Array.from(walk.uses)).toEqual([2, 1, 2, 0]);
      expect(walk.order.map((node) => walk.positionOf(node))).toEqual([0, 1, 2, 3]);
      expect(walk.positionOf(outside)).toBe(-1);
      throw new Error("visit failed");
    };
    expect(() => walkGraph([total, product], visit)).toThrow("visit failed");
    expect([x.grad, y.grad, product.grad, total.grad]).toEqual([0.25, 0, 0, 0]);
    // The marks are cleared: backward() walks the same graph afterwards.
    total.backward();
    expect([x.grad, y.grad]).toEqual([0.25 + 2 * 3 + 1, 2 * 2]);
  });
});
