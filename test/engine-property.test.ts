// Random expression graphs, checked against central finite differences.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { noGrad, type Operand, Value } from "../src/engine.js";
import { gradcheck } from "../src/gradcheck.js";

/**
 * An expression is a list of steps over a pool of nodes that starts with the inputs;
 * each step applies one operation to earlier nodes (so sub-expressions are shared)
 * or to a constant. Every operation keeps its arguments inside its domain by shaping
 * them first (e.g. log of softplus(x) + 0.5), so any drawn program is differentiable.
 */
type Step = { op: number; i: number; j: number; k: number };

const OPS: ((x: Value, y: Value, k: number) => Value)[] = [
  (x, y) => x.add(y),
  (x, y) => x.sub(y),
  (x, y) => x.mul(y),
  (x, y) => x.div(y.mul(y).add(0.5)),
  (x, _y, k) => x.add(k),
  (x, _y, k) => x.mul(k),
  (x, _y, k) => x.div(k >= 0 ? k + 0.5 : k - 0.5),
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
  (x, y) => Value.sum([x, y, 1.5, x]),
  // max away from a tie (the kink), select by a Value index that the program also computes with.
  (x, y) => x.max(y.add(x.mul(x).add(0.2))),
  (x, y) => Value.max([x.sub(1.5).tanh(), y.tanh().add(1.5), x.mul(0.5)]),
  (x, y, k) => Value.select([x, y, x.mul(y)], new Value(Math.floor(Math.abs(k) * 1.4))),
  // Kinks (abs, relu, leakyRelu) only where the argument is kept away from 0.
  (x) => x.mul(x).add(0.1).abs(),
  (x) => x.mul(x).add(0.1).relu(),
  (x) => x.mul(x).neg().sub(0.1).relu(),
  (x) => x.mul(x).neg().sub(0.1).leakyRelu(0.2),
];

const stepArb = fc.record({
  op: fc.nat({ max: OPS.length - 1 }),
  i: fc.nat(),
  j: fc.nat(),
  k: fc.double({ min: -2, max: 2, noNaN: true }),
});

function build(inputs: Value[], steps: Step[]): Value {
  const pool: Value[] = [...inputs];
  for (const { op, i, j, k } of steps) {
    pool.push(OPS[op](pool[i % pool.length], pool[j % pool.length], k));
  }
  // Sum the last few nodes so that several branches reach the output.
  return Value.sum(pool.slice(-3));
}

describe("random expression graphs", () => {
  it("agree with central differences (gradcheck, float64)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 1, maxLength: 4 }),
        fc.array(stepArb, { minLength: 1, maxLength: 25 }),
        (xs, steps) => {
          const result = gradcheck((...inputs) => build(inputs, steps), xs, {
            eps: 1e-6,
            atol: 1e-6,
            rtol: 1e-5,
          });
          if (!result.ok) throw new Error(`disagreement: ${JSON.stringify(result.failures)}`);
        },
      ),
      { numRuns: 300, seed: 20261125 },
    );
  });

  it("every operation is exercised by the generator", () => {
    // Guards the property above against silently testing a subset.
    const seen = new Set<string>();
    const x = new Value(0.7);
    const y = new Value(-0.4);
    for (const op of OPS) {
      const out = op(x, y, 1.5);
      const stack: Operand[] = [out];
      while (stack.length) {
        const v = stack.pop();
        if (v instanceof Value) {
          seen.add(v.op.name);
          stack.push(...v.inputs);
        }
      }
    }
    for (const name of [
      "add",
      "sub",
      "mul",
      "div",
      "pow",
      "neg",
      "exp",
      "log",
      "sqrt",
      "abs",
      "tanh",
      "sigmoid",
      "relu",
      "leakyRelu",
      "softplus",
      "sum",
    ]) {
      expect(seen, name).toContain(name);
    }
  });

  it("noGrad gives the same numbers as recording", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 1, maxLength: 3 }),
        fc.array(stepArb, { minLength: 1, maxLength: 20 }),
        (xs, steps) => {
          const recorded = build(
            xs.map((x) => new Value(x)),
            steps,
          ).data;
          const plain = noGrad(() =>
            build(
              xs.map((x) => new Value(x)),
              steps,
            ),
          ).data;
          expect(plain).toBe(recorded);
        },
      ),
      { numRuns: 100, seed: 7 },
    );
  });
});
