// compile(fn): a replay equals the eager run it recorded — values, gradients, accumulation —
// on random programs, on the demo's whole training run and on digits; new shapes retrace;
// data-dependent functions are refused or caught.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LossSpec, OptimizerSpec } from "../bench/common.js";
import { createCompiledEngine } from "../bench/compiled.js";
import { createMicrogradEngine } from "../bench/micrograd.js";
import { ParameterArena } from "../src/arena.js";
import { compile } from "../src/compile/index.js";
import { makeMoons, subset } from "../src/data.js";
import { noGrad, type Operand, Value } from "../src/engine.js";
import { GPT } from "../src/gpt.js";
import { grad } from "../src/grad.js";
import { bceWithLogitsLoss, classificationLoss, hingeLoss, type LossName, mseLoss } from "../src/losses.js";
import { MLP } from "../src/nn.js";
import { loadDigits } from "../src/node/datasets.js";
import { createRandom } from "../src/random.js";
import { type FitOptions, fit, predict, scores } from "../src/train.js";

/** |a − b| ≤ 1e-12 relative to the larger magnitude (or to 1 near zero). */
function expectClose(actual: number, expected: number, what: string): void {
  const scale = Math.max(1, Math.abs(actual), Math.abs(expected));
  if (!(Math.abs(actual - expected) <= 1e-12 * scale)) {
    throw new Error(`${what}: compiled ${actual}, eager ${expected}`);
  }
}

// ---------------------------------------------------------------------------------------
// Random programs: a list of steps, each making a new Value from earlier ones (so that
// subexpressions are shared), the inputs, closed-over parameters and constants.

type Step = { op: number; i: number; j: number; k: number; c: number };
const OP_COUNT = 21;

function runProgram(steps: Step[], xs: Value[], index: Value, params: Value[]): Value {
  const pool: Value[] = [...xs, ...params];
  const pick = (n: number) => pool[n % pool.length];
  for (const { op, i, j, k, c } of steps) {
    const a = pick(i);
    const b = pick(j);
    const d = pick(k);
    let v: Value;
    switch (op) {
      case 0:
        v = a.add(b);
        break;
      case 1:
        v = a.sub(c);
        break;
      case 2:
        v = a.mul(b.tanh());
        break;
      case 3:
        v = a.div(b.abs().add(1));
        break;
      case 4:
        v = a.abs().add(0.5).pow(b.tanh()); // a Value exponent
        break;
      case 5:
        v = a.tanh().pow(c > 0 ? 2 : 3);
        break;
      case 6:
        v = a.neg();
        break;
      case 7:
        v = a.tanh().exp();
        break;
      case 8:
        v = a.abs().add(0.5).log();
        break;
      case 9:
        v = a.abs().add(0.25).sqrt();
        break;
      case 10:
        v = a.abs();
        break;
      case 11:
        v = a.sigmoid();
        break;
      case 12:
        v = a.relu();
        break;
      case 13:
        v = a.leakyRelu(0.1);
        break;
      case 14:
        v = a.softplus();
        break;
      case 15:
        v = a.max(b);
        break;
      case 16:
        v = Value.max([a, b, d]);
        break;
      case 17: // a weighted sum: products fold into a dot instruction
        v = Value.sum([a.mul(b), d.mul(a), c, b]);
        break;
      case 18: // products of parameters and inputs in a row, plus a bias: the dense dot
        v = Value.sum([...params.slice(0, 3).map((p, n) => p.mul(xs[(i + n) % xs.length])), d]);
        break;
      case 19:
        v = Value.select([a, b, d], index);
        break;
      default:
        v = Value.sum([a, b, c]);
    }
    pool.push(v);
  }
  return Value.sum(pool.slice(-3));
}

const stepArbitrary = fc.record({
  op: fc.integer({ min: 0, max: OP_COUNT - 1 }),
  i: fc.nat(100),
  j: fc.nat(100),
  k: fc.nat(100),
  c: fc.double({ min: -2, max: 2, noNaN: true }),
});
const numbers = (n: number) =>
  fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: n, maxLength: n });

describe("compile: random programs", () => {
  it("values and gradients equal eager, at the traced inputs and at new ones", () => {
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { minLength: 1, maxLength: 14 }),
        numbers(4),
        numbers(4),
        numbers(4),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 2 }),
        fc.boolean(),
        (steps, x1, x2, weights, i1, i2, fuse) => {
          const params = weights.map((w) => new Value(w));
          const fn = (xs: Value[], index: Value) => runProgram(steps, xs, index, params);
          const compiled = compile(fn, { fuse, constantCheck: false });
          for (const [xs, index] of [
            [x1, i1],
            [x2, i2],
          ] as const) {
            // Eager, with gradients starting from 0.5 to see accumulation.
            for (const p of params) p.grad = 0.5;
            const eager = fn(
              xs.map((x) => new Value(x)),
              new Value(index),
            );
            eager.backward();
            const eagerGrads = params.map((p) => p.grad);
            for (const p of params) p.grad = 0.5;
            const result = compiled(xs, index);
            result.backward();
            expectClose(result.data, eager.data, "value");
            params.forEach((p, n) => {
              expectClose(p.grad, eagerGrads[n], `gradient ${n}`);
            });
          }
          expect(compiled.traceCount).toBe(1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("without fusion, every instruction is one node and results are bit for bit", () => {
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { minLength: 1, maxLength: 14 }),
        numbers(4),
        numbers(4),
        (steps, xs, w) => {
          const params = w.map((x) => new Value(x));
          const fn = (x: Value[], index: Value) => runProgram(steps, x, index, params);
          const eager = fn(
            xs.map((x) => new Value(x)),
            new Value(1),
          );
          eager.backward();
          const eagerGrads = params.map((p) => p.grad);
          for (const p of params) p.grad = 0;
          const result = compile(fn, { fuse: false, constantCheck: false })(xs, 1);
          result.backward();
          expect(result.data).toBe(eager.data);
          expect(params.map((p) => p.grad)).toEqual(eagerGrads);
        },
      ),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------

const DEMO: FitOptions = {
  loss: "hinge",
  l2: 1e-4,
  optimizer: "sgd",
  lr: 1,
  schedule: { kind: "linear", endFactor: 0.1 },
  steps: 100,
};

describe("compile: training", () => {
  it("the demo's 100 steps: compiled and eager fit give bit-identical losses and weights", () => {
    const data = makeMoons({ nSamples: 100, noise: 0.1, seed: 1 });
    const run = (compiled: boolean) => {
      const model = new MLP(2, [16, 16, 1], { seed: 1 });
      const { history } = fit(model, data, { ...DEMO, compile: compiled });
      return { losses: history.map((r) => r.loss), weights: model.parameters().map((p) => p.data) };
    };
    const eager = run(false);
    const compiled = run(true);
    expect(compiled.losses).toEqual(eager.losses);
    expect(compiled.weights).toEqual(eager.weights);
  });

  it("digits, mini-batches with a short last batch and validation: the same trajectory", () => {
    const digits = loadDigits();
    const train = subset(
      digits,
      Array.from({ length: 200 }, (_, i) => i),
    );
    const validation = subset(
      digits,
      Array.from({ length: 70 }, (_, i) => 200 + i),
    );
    for (const loss of ["softmax", "hinge", "mse", "bce"] as LossName[]) {
      const run = (compiled: boolean) => {
        const model = new MLP(64, [16, 10], { seed: 2 });
        const { history } = fit(model, train, {
          loss,
          optimizer: "adam",
          batchSize: 64, // 3 batches of 64 and one of 8
          epochs: 2,
          validation,
          validateEvery: 3,
          compile: compiled,
        });
        return { history, weights: model.parameters().map((p) => p.data) };
      };
      const eager = run(false);
      const compiled = run(true);
      if (loss === "hinge") {
        // Multi-class hinge with a Value label masks the true class instead of skipping it.
        compiled.weights.forEach((w, i) => {
          expectClose(w, eager.weights[i], `${loss} weight ${i}`);
        });
      } else {
        expect(compiled.history).toEqual(eager.history);
        expect(compiled.weights).toEqual(eager.weights);
      }
    }
  });

  it("the benchmark's compiled engine does the eager engine's work, bit for bit", () => {
    const data = makeMoons({ nSamples: 40, seed: 6 });
    const batch = { X: data.X, y: data.y };
    const cases: [LossSpec, OptimizerSpec][] = [
      [
        { kind: "hinge", l2: 1e-4 },
        { kind: "sgd", lr: (k) => 0.5 / (1 + k) },
      ],
      [{ kind: "softmax" }, { kind: "adam", lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 }],
    ];
    for (const [loss, optimizer] of cases) {
      const sizes = loss.kind === "hinge" ? [8, 1] : [8, 3];
      const eager = createMicrogradEngine(new MLP(2, sizes, { seed: 7 }), loss, optimizer);
      const compiled = createCompiledEngine(new MLP(2, sizes, { seed: 7 }), loss, optimizer);
      compiled.trace?.(batch);
      for (let step = 0; step < 5; step++) expect(compiled.step(batch)).toBe(eager.step(batch));
      const a = eager.lossAndGradients(batch);
      const b = compiled.lossAndGradients(batch);
      expect(b.loss).toBe(a.loss);
      expect(Array.from(b.gradients)).toEqual(Array.from(a.gradients));
      expect(compiled.weights()).toEqual(eager.weights());
    }
  });

  it("scores and predict over many rows: the same numbers as the eager pass", () => {
    const data = makeMoons({ nSamples: 150, seed: 3 });
    const model = new MLP(2, [8, 3], { seed: 4 });
    const eager = scores(model, data.X, { compile: false });
    expect(scores(model, data.X)).toEqual(eager);
    expect(predict(model, data.X)).toEqual(predict(model, data.X, { compile: false }));
    // Inside noGrad the first call cannot trace: it stays eager, with the same result.
    const fresh = new MLP(2, [8, 3], { seed: 4 });
    expect(noGrad(() => scores(fresh, data.X))).toEqual(eager);
  });

  it("losses take labels as Values: the same numbers as with plain labels", () => {
    const model = new MLP(3, [4, 3], { seed: 5 });
    const X = [
      [0.1, -0.4, 1],
      [2, 0.3, -1],
      [-0.5, 0.5, 0.2],
    ];
    const classes = [2, 0, 1];
    for (const loss of ["hinge", "mse", "bce", "softmax"] as LossName[]) {
      const outputs = X.map((x) => model.forward(x));
      const plain = classificationLoss(loss, outputs, classes).data;
      const valued = classificationLoss(
        loss,
        outputs,
        classes.map((c) => new Value(c)),
      ).data;
      expect(valued).toBe(plain);
    }
    const z = [new Value(0.3), new Value(-2)];
    const targets: Operand[] = [new Value(1), 0];
    expect(mseLoss(z, targets).data).toBe(mseLoss(z, [1, 0]).data);
    expect(bceWithLogitsLoss(z, targets).data).toBe(bceWithLogitsLoss(z, [1, 0]).data);
    expect(() => classificationLoss("softmax", [z], [new Value(5)])).toThrow(/class 5/);
  });
});

// ---------------------------------------------------------------------------------------

describe("compile: traces and results", () => {
  const w = new Value(0.5);
  const b = new Value(-0.25);
  const affine = (xs: Value[]) => Value.sum(xs.map((x) => x.mul(w))).add(b);

  it("replays for new values of the same shape, retraces for a new shape, keeps at most maxTraces", () => {
    const f = compile(affine, { maxTraces: 2 });
    expect(f([1, 2]).data).toBe(1.25);
    expect(f([3, 4]).data).toBe(3.25);
    expect(f.traceCount).toBe(1);
    expect(f([1, 2, 3]).data).toBe(2.75);
    expect(f([1]).data).toBe(0.25);
    expect(f.traceCount).toBe(3);
    expect(f.cacheSize).toBe(2);
    // [x, y] was the least recently used: traced again.
    expect(f([0, 0]).data).toBe(-0.25);
    expect(f.traceCount).toBe(4);
    expect(f.cacheSize).toBe(2);
    // Parameters are read at every call.
    w.data = 1;
    expect(f([0, 2]).data).toBe(1.75);
    w.data = 0.5;
    f.clear();
    expect(f.cacheSize).toBe(0);
  });

  it("backward accumulates as eager does: twice adds twice, zeroing in between resets", () => {
    const f = compile(affine);
    w.grad = 0;
    b.grad = 0;
    const y = f([1, 2]);
    y.backward();
    expect([w.grad, b.grad]).toEqual([3, 1]);
    y.backward();
    expect([w.grad, b.grad]).toEqual([6, 2]);
    w.grad = 0;
    b.grad = 0;
    f([1, 1]).backward();
    expect([w.grad, b.grad]).toEqual([2, 1]);
    // A result from an earlier call no longer matches the buffers.
    const old = f([1, 2]);
    f([2, 2]);
    expect(() => old.backward()).toThrow(/earlier call/);
  });

  it("returns arrays and objects of results; a select by an input is a gather", () => {
    const table = [new Value(10), new Value(20), new Value(30)];
    const f = compile((token: Value, x: Value) => {
      const row = Value.select(table, token);
      return { row, scaled: [row.mul(x), 7] as const };
    });
    let r = f(2, 3);
    expect(r.row.data).toBe(30);
    expect(r.scaled[0].data).toBe(90);
    expect(r.scaled[1]).toBe(7);
    for (const t of table) t.grad = 0;
    r.scaled[0].backward();
    expect(table.map((t) => t.grad)).toEqual([0, 0, 3]);
    r = f(0, 3);
    expect(r.row.data).toBe(10);
    expect(f.traceCount).toBe(1);
    expect(() => f(3, 1)).toThrow(/index 3 is not an integer in 0..2/);
    expect(f.listing()).toMatch(/select x0 \[p0, p1, p2\]/);
  });

  it("a listing names parameters, inputs and the dot instructions of a model", () => {
    const model = new MLP(2, [3, 1], { seed: 1 });
    const f = compile((X: Value[][]) => X.map((x) => model.forward(x)[0]));
    f([
      [1, 2],
      [3, 4],
    ]);
    const text = f.listing();
    expect(text).toMatch(/13 parameters \(p\), 4 inputs \(x\)/);
    // Hidden neurons: relu of a dot over a row of weights and the inputs; the output neuron's
    // dot reads the hidden activations.
    expect(text).toMatch(/= relu\(dot \[p\d+…p\d+\]·\[x\d…x\d\] \+ p\d+\)/);
    expect(text).toMatch(/8 instructions for 49 nodes/);
    expect(text).toMatch(/= dot \[p\d+…p\d+\]·\[t\d+, t\d+, t\d+\] \+ p\d+/);
  });

  it("adds written one at a time, as in the original micrograd, become dot instructions", () => {
    const random = createRandom(3);
    const layer = Array.from({ length: 4 }, () => ({
      w: Array.from({ length: 3 }, () => new Value(random() * 2 - 1)),
      b: new Value(random()),
    }));
    const neuron = ({ w, b }: (typeof layer)[number], x: Value[]) =>
      w.reduce((total, wi, i) => total.add(wi.mul(x[i])), b as Value).tanh();
    const fn = (X: Value[][]) => Value.sum(X.map((x) => Value.sum(layer.map((n) => neuron(n, x)))));
    const X = [
      [0.5, -1, 2],
      [1, 0.25, -0.5],
    ];
    const parameters = layer.flatMap((n) => [...n.w, n.b]);
    const eager = fn(X.map((row) => row.map((x) => new Value(x))));
    eager.backward();
    const eagerGrads = parameters.map((p) => p.grad);
    for (const p of parameters) p.grad = 0;
    const compiled = compile(fn);
    const result = compiled(X);
    result.backward();
    expect(result.data).toBe(eager.data);
    parameters.forEach((p, i) => {
      expectClose(p.grad, eagerGrads[i], `gradient ${i}`);
    });
    // b + w0·x0 + w1·x1 + w2·x2 is one instruction: a sum of products that starts with the bias.
    expect(compiled.listing()).toMatch(/= dot p\d+ \+ \[p\d+…p\d+\]·\[x\d…x\d\]/);
  });

  it("bad arguments are named", () => {
    const f = compile(affine);
    expect(() => f([1, Number.NaN])).toThrow(/argument 0\[1\] is NaN/);
    expect(() => (f as unknown as (x: unknown) => void)(["a"])).toThrow(/argument 0\[0\] is string a/);
    expect(() => (f as unknown as (x: unknown) => void)([new Value(1)])).toThrow(
      /is a Value; pass plain numbers/,
    );
    expect(() => noGrad(() => f([1, 2]))).toThrow(/outside noGrad/);
    // A forward result that is not finite is named like eager's error; a bad weight too, and
    // the replay's cause says which weight.
    const g = compile((xs: Value[]) => xs[0].mul(w).exp());
    const before = g([1]);
    expect(before.data).toBeCloseTo(Math.exp(0.5), 15);
    expect(() => g([2000])).toThrow(/exp\(1000\): result overflows/);
    // The failed replay overwrote the numbers that the earlier result's backward() would read.
    expect(() => before.backward()).toThrow(/from an earlier call/);
    w.data = Number.NaN;
    expect(() => g([1])).toThrow(/^mul\(1, NaN\): an input is not a finite number/);
    expect(() => g([1])).toThrow(
      expect.objectContaining({ cause: expect.stringMatching(/parameter 0 is NaN/) }),
    );
    w.data = 0.5;
  });
});

describe("compile: data-dependent functions", () => {
  it("a comparison of traced Values is refused while tracing, with advice", () => {
    const f = compile((xs: Value[]) => (xs[0] > xs[1] ? xs[0].mul(2) : xs[1].mul(3)));
    expect(() => f([1, 2])).toThrow(/Value.select.*Value.max/);
    const g = compile((xs: Value[]) => xs[Math.round(Math.max(...(xs as unknown as number[])))]);
    expect(() => g([1, 0])).toThrow(/converted to a number/);
    // The conversions work again afterwards.
    expect(`${new Value(1)}`).toMatch(/Value\(data=1/);
  });

  it("a constant read from .data is reported", () => {
    const f = compile((xs: Value[]) => {
      const logits = xs.map((x) => x.mul(1));
      const largest = Math.max(...logits.map((z) => z.data));
      return Value.sum(logits.map((z) => z.sub(largest).exp()));
    });
    // A number with more digits than a literal is refused while tracing; a short one such as
    // 1.5 cannot be told from a literal, and is caught by the second call's verification.
    expect(() => f([0.5, 1.2345678912, 0.25])).toThrow(
      /constant 1.2345678912 equals the value of an input \(x1\)/,
    );
    expect(f([0.5, 1.5, 0.25]).data).toBeCloseTo(Math.exp(-1) + 1 + Math.exp(-1.25), 14);
    expect(() => f([0.5, 1.75, 0.25])).toThrow(/differs from the first trace/);
    // The inputs count as sources too.
    const fedBack = compile((x: Value) => x.mul(x.data));
    expect(() => fedBack(0.1234567891)).toThrow(/equals the value of an input \(x0\)/);
    const shifted = compile((xs: Value[]) => {
      const logits = xs.map((x) => x.mul(1));
      const largest = Value.max(logits);
      return Value.sum(logits.map((z) => z.sub(largest).exp()));
    });
    expect(shifted([0.5, 1.5, 0.25]).data).toBeCloseTo(Math.exp(-1) + 1 + Math.exp(-1.25), 14);
    expect(shifted([3.5, 1.5, 0.25]).data).toBeCloseTo(1 + Math.exp(-2) + Math.exp(-3.25), 14);
  });

  it("check mode runs eagerly alongside and names the first output that differs", () => {
    const branchy = (x: Value) => [x.mul(1), x.data > 0 ? x.mul(2) : x.mul(3)];
    const unchecked = compile(branchy, { verify: false });
    unchecked(1);
    expect(unchecked(-1)[1].data).toBe(-2); // silently the branch of the trace
    const checked = compile(branchy, { check: true });
    expect(checked(1)[1].data).toBe(2);
    expect(() => checked(-1)).toThrow(/output 1 is -3 when run eagerly but -2 replayed/);
    // A branch that changes only the gradient is caught by backward(): both branches are
    // w·x, but the second treats w as the number it holds. (Verification, off here, would
    // catch it at the second call too, as the graph changes.)
    const w = new Value(2);
    const gradientOnly = compile((x: Value) => (x.data > 0 ? w.mul(x) : w.mul(0).add(x.mul(w.data))), {
      check: true,
      verify: false,
    });
    gradientOnly(1).backward();
    expect(w.grad).toBe(1);
    const later = gradientOnly(-1);
    expect(later.data).toBe(-2);
    expect(() => later.backward()).toThrow(/gradient of parameter 0 is 1 eagerly but 0 replayed/);
  });
});

describe("compile: verification at the second call of a shape", () => {
  const w = new Value(1.5);

  it("a branch on .data is caught at the second call, naming the instruction that changed", () => {
    let runs = 0;
    const f = compile((x: Value) => {
      runs++;
      return x.data > 0 ? x.mul(w).mul(2) : x.mul(w).mul(3);
    });
    expect(f(1).data).toBe(3);
    expect(() => f(-1)).toThrow(
      /graph depends on the values of its inputs.*first: "t1 = t0 \* 2", now: "t1 = t0 \* 3".*Value.select/,
    );
    // A function that does not depend on its inputs costs one extra trace per shape, once.
    runs = 0;
    const g = compile((xs: Value[]) => Value.sum(xs.map((x) => x.mul(w))), { maxTraces: 1 });
    for (const xs of [
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ])
      g(xs);
    expect(g.traceCount).toBe(1);
    const h = compile((x: Value) => {
      runs++;
      return x.mul(w);
    });
    for (let k = 0; k < 5; k++) h(k);
    expect(runs).toBe(2);
    // Inside noGrad a trace cannot record: the first replay made outside verifies.
    const branchy = compile((x: Value) => (x.data > 0 ? x.mul(2) : x.mul(3)));
    branchy(1);
    expect(noGrad(() => branchy(-1).data)).toBe(-2);
    expect(() => branchy(-1)).toThrow(/differs from the first trace/);
    // Off: the first trace is replayed unchecked.
    const unverified = compile((x: Value) => (x.data > 0 ? x.mul(2) : x.mul(3)), { verify: false });
    unverified(1);
    expect(unverified(-1).data).toBe(-2);
  });

  it("a leaf created inside fn from numbers outside the graph is refused; a constant leaf is kept", () => {
    const viaNoGrad = compile((x: Value) => noGrad(() => x.mul(2)).mul(x));
    expect(viaNoGrad(3).data).toBe(18);
    expect(() => viaNoGrad(4)).toThrow(
      /parameter p0 is a leaf created inside fn \(its number was 6 at the first call, 8 at the second\).*noGrad inside fn/,
    );
    const copied = compile((x: Value) => x.mul(new Value(x.data)).mul(w));
    copied(3);
    expect(() => copied(4)).toThrow(/leaf created inside fn/);
    const firstOrder = compile((x: Value) => grad(x.mul(x).mul(w), [x])[0]);
    expect(firstOrder(1).data).toBe(3);
    expect(() => firstOrder(3)).toThrow(/grad\(\) without \{ createGraph: true \}/);
    // With createGraph the derivative is recorded, and replays follow the input.
    const secondOrder = compile((x: Value) => grad(x.mul(x).mul(w), [x], { createGraph: true })[0]);
    secondOrder(1);
    expect(secondOrder(3).data).toBe(9);
    expect(secondOrder(5).data).toBe(15);
    // A leaf made inside fn with the same number each time is a constant.
    const constant = compile((x: Value) => x.mul(new Value(2)).mul(w));
    for (const x of [1, 2, 3]) expect(constant(x).data).toBe(3 * x);
  });

  it("plain numbers in the result must not depend on the inputs", () => {
    const f = compile((x: Value) => ({ loss: x.mul(w), positive: x.data > 0, raw: x.data }));
    expect(f(3).positive).toBe(true);
    expect(() => f(-5)).toThrow(
      /fn returned plain numbers\/booleans that depend on the inputs \(result.positive: true at the first call, false at the second\).*Return Values/,
    );
    const fixed = compile((x: Value) => ({ loss: x.mul(w), tag: "step", scale: 2 }));
    fixed(3);
    expect(fixed(-5)).toMatchObject({ tag: "step", scale: 2 });
  });

  it("constants that a literal would be (0.5, 0.01, 2) are never taken for numbers fed back", () => {
    // Logistic regression from zero weights: every sigmoid is 0.5, as is the constant.
    const weight = new Value(0);
    const bias = new Value(0);
    const f = compile((X: Value[], y: Value[]) =>
      Value.sum(X.map((x, i) => x.mul(weight).add(bias).sigmoid().sub(y[i]).pow(2)))
        .mul(0.5)
        .add(weight.mul(weight).mul(0.01)),
    );
    expect(f([1, 2], [0, 1]).data).toBe(0.25);
    expect(f([3, -1], [1, 1]).data).toBe(0.25);
    // x · (x.data + 0.25) gives a short constant: caught by verification at the second call.
    const g = compile((x: Value) => x.mul(x.data + 0.25));
    expect(g(0.5).data).toBe(0.375);
    expect(() => g(2)).toThrow(/first: "t0 = x0 \* 0.75", now: "t0 = x0 \* 2.25"/);
  });
});

describe("compile: messages", () => {
  const w = new Value(0.5);
  const affine = (xs: Value[]) => Value.sum(xs.map((x) => x.mul(w)));

  it("holes, undefined and missing arguments, deep nesting", () => {
    const f = compile(affine) as unknown as (...args: unknown[]) => unknown;
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    expect(() => f([1, , 3])).toThrow(
      /^compiled function: argument 0\[1\] is undefined, expected a number or an array$/,
    );
    expect(() => f([1, undefined])).toThrow(/argument 0\[1\] is undefined, expected/);
    expect(() => f()).toThrow(
      /compiled function: expected 1 argument \(numbers or arrays of numbers\), got 0/,
    );
    let deep: unknown = 1;
    for (let k = 0; k < 20000; k++) deep = [deep];
    expect(() => f(deep)).toThrow(/argument 0 is nested more than 100 arrays deep/);
  });

  it("an overflowing sum is named as eager names it, behind a ReLU too", () => {
    const model = new MLP(2, [2, 1], { seed: 1 });
    for (const p of model.parameters()) p.data = 1;
    const f = compile((x: Value[]) => model.forward(x)[0]);
    f([1, 2]);
    for (const x of [
      [1e308, 1e308],
      [-1e308, -1e308],
    ]) {
      expect(() => model.forward(x)).toThrow(/^Value.sum: result overflows/);
      expect(() => f(x)).toThrow(/^Value.sum: result overflows$/);
    }
    // A chain of adds, written one add at a time, is named by its add.
    const big = new Value(1e308);
    const chain = compile((x: Value) => x.mul(big).add(x.mul(big)).add(x));
    chain(0.25);
    expect(() => chain(1)).toThrow(/^add\(1e\+308, 1e\+308\): result overflows$/);
    const divide = compile((x: Value) => w.div(x));
    divide(1);
    expect(() => divide(0)).toThrow(/^div\(0.5, 0\): division by zero$/);
  });

  it("a failure has one message, whether the call that meets it traces or replays", () => {
    const random = createRandom(5);
    const weights = (n: number) => Array.from({ length: n }, () => new Value(random() - 0.5));
    const scale = new Value(2);
    // Five rows of five weights and a bias: a group of rows (compile/rows.ts), the first weight huge.
    const rows = Array.from({ length: 5 }, () => weights(6));
    rows[2][0].data = 1e300;
    const layer = (x: Value[]) =>
      Value.sum(rows.map((row) => Value.sum([...x.map((xi, k) => row[k].mul(xi)), row[5]]).relu()));
    const relus = new MLP(2, [3, 1], { seed: 4 });
    for (const p of relus.parameters()) p.data = 10;
    const cases: [string, (x: Value[]) => Value, number[], number[]][] = [
      ["a ReLU neuron's sum", (x) => relus.forward(x)[0], [1, 2], [1e307, 1e307]],
      ["a product in a neuron", (x) => relus.forward(x)[0], [1, 2], [1e308, 1]],
      ["a row of a group", layer, [1, 2, 3, 4, 5], [1e10, 1, 1, 1, 1]],
      [
        "a chain of adds, its bias first",
        (x) => x.reduce((sum, xi) => sum.add(scale.mul(xi)), scale),
        [1, 2, 3],
        [5e307, 5e307, -1e308],
      ],
      [
        "products of inputs",
        (x) => Value.sum([x[0].mul(x[1]), x[2].mul(x[0])]),
        [1, 2, 3],
        [1e200, 1, 1e200],
      ],
      ["adds of inputs", (x) => x[0].add(x[1]).add(x[2]).mul(scale), [1, 2, 3], [1e308, 1e308, 0]],
      ["an inline operation", (x) => x[0].mul(scale).exp(), [1], [600]],
      ["a called operation", (x) => x[0].sub(1).sqrt().mul(scale), [2], [0.5]],
      ["a select", (x) => Value.select(rows[0], x[0]).mul(scale), [1], [2.5]],
    ];
    for (const [what, fn, good, bad] of cases) {
      const message = (run: () => unknown) => {
        try {
          run();
        } catch (error) {
          return error as Error;
        }
        throw new Error(`${what}: no error`);
      };
      const eager = message(() => fn(bad.map((x) => new Value(x))));
      const traced = message(() => compile(fn)(bad));
      const compiled = compile(fn);
      compiled(good);
      const replayed = message(() => compiled(bad));
      expect(traced.message, what).toBe(eager.message);
      expect(replayed.message, what).toBe(eager.message);
      expect(replayed.cause, what).toMatch(/^compiled replay, instruction t\d+$/);
    }
    // A weight set to Infinity: the step that reads it, as eager names it; the replay says which.
    const compiled = compile(layer);
    compiled([1, 2, 3, 4, 5]);
    rows[1][3].data = Number.POSITIVE_INFINITY;
    rows[1][3].label = "w13";
    const x = [1, 2, 3, 4, 5];
    expect(() => layer(x.map((xi) => new Value(xi)))).toThrow(
      /^mul\(Infinity, 4\): an input is not a finite number \(was data set to NaN or Infinity by hand\?\)$/,
    );
    const error = (() => {
      try {
        compiled(x);
      } catch (error) {
        return error as Error;
      }
    })();
    expect(error?.message).toMatch(/^mul\(Infinity, 4\): an input is not a finite number/);
    expect(error?.cause).toMatch(/^compiled replay, instruction t\d+; parameter \d+ "w13" is Infinity$/);
  });

  it("of several failures, the one eager meets first: the first sample of a batch, a GPT's first position", () => {
    const message = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return (error as Error).message;
      }
      return "no error";
    };
    let failures = 0;
    const expectOneMessage = (eager: () => unknown, replay: () => unknown, what: string) => {
      const expected = message(eager);
      if (expected !== "no error") failures++;
      expect(message(replay), what).toBe(expected);
    };
    const X = [
      [1, 2, -1],
      [0.5, -3, 2],
      [2, 2, 2],
      [-1, 0, 1],
    ];
    const classes = [0, 1, 1, 2];
    for (const loss of ["hinge", "mse", "bce", "softmax"] as LossName[]) {
      const model = new MLP(3, [6, 6, 3], { seed: 1 });
      const fn = (X: Value[][], y: Value[]) =>
        classificationLoss(
          loss,
          X.map((x) => model.forward(x)),
          y,
        );
      const compiled = compile(fn);
      compiled(X, classes);
      compiled(X, classes);
      for (const scale of [1e100, 1e110, 1e160]) {
        for (const p of model.parameters()) p.data *= scale;
        expectOneMessage(
          () =>
            fn(
              X.map((x) => x.map((n) => new Value(n))),
              classes.map((c) => new Value(c)),
            ),
          () => compiled(X, classes),
          `${loss}, weights × ${scale}`,
        );
        for (const p of model.parameters()) p.data /= scale;
      }
    }
    const gpt = new GPT({ vocabSize: 7, nLayer: 2, nEmbd: 8, nHead: 2, blockSize: 6, seed: 2 });
    const compiled = compile((ids: readonly Value[]) => gpt.loss(ids));
    compiled([0, 1, 2, 3, 4]);
    compiled([0, 2, 2, 3, 4]);
    for (const scale of [1e60, 1e100, 1e154]) {
      for (const p of gpt.parameters()) p.data *= scale;
      const ids = [0, 3, 1, 5, 2];
      expectOneMessage(
        () => gpt.loss(ids.map((t) => new Value(t))),
        () => compiled(ids),
        `a GPT, weights × ${scale}`,
      );
      for (const p of gpt.parameters()) p.data /= scale;
    }
    expect(failures).toBeGreaterThanOrEqual(10);
  });

  it("listing(args) neither counts as a trace nor evicts one", () => {
    const f = compile(affine, { maxTraces: 1 });
    const result = f([1, 2]);
    expect(f.listing([1, 2, 3])).toMatch(/3 inputs/);
    expect(f.listing([5, 6])).toMatch(/2 inputs/);
    expect([f.traceCount, f.cacheSize]).toEqual([1, 1]);
    w.grad = 0;
    result.backward();
    expect(w.grad).toBe(3);
    f([3, 4]);
    expect(f.traceCount).toBe(1);
    expect(f.listing()).toMatch(/2 inputs/);
  });
});

describe("compile: Values and numbers captured from outside fn (issue 24)", () => {
  const moons = makeMoons({ nSamples: 8 });
  const hinge = (model: MLP, X: Value[][], y: Value[]) =>
    Value.sum(X.map((x, i) => model.forward(x)[0].mul(y[i]).neg().add(1).relu()));
  const labels = moons.y.map((c) => 2 * c - 1);

  it("a model reassigned after the first call is caught at the second", () => {
    let model = new MLP(2, [4, 1], { seed: 1 });
    const step = compile((X: Value[][], y: Value[]) => hinge(model, X, y));
    step(moons.X, labels);
    model = new MLP(2, [4, 1], { seed: 2 });
    expect(() => step(moons.X, labels)).toThrow(
      /fn reached none of the 17 parameters of its first call at the second: a variable fn reads was reassigned.*call compiled.clear\(\) or compile again/,
    );
    // The fix the message gives: clear() forgets the traces, and the new model trains.
    step.clear();
    step(moons.X, labels);
    const result = step(moons.X, labels);
    result.backward();
    expect(model.parameters().some((p) => p.grad !== 0)).toBe(true);
  });

  it("a model reassigned after verification is caught when another shape is traced", () => {
    let model = new MLP(2, [4, 1], { seed: 1 });
    const step = compile((X: Value[][], y: Value[]) => hinge(model, X, y));
    step(moons.X, labels);
    step(moons.X, labels);
    model = new MLP(2, [4, 1], { seed: 2 });
    // A short last batch: a new shape, traced with the new model.
    expect(() => step(moons.X.slice(0, 3), labels.slice(0, 3))).toThrow(
      /fn now reaches none of the 17 parameters it reached when it traced an earlier shape \(it reaches 17 others\): a variable fn reads was reassigned/,
    );
    // The same model at every shape is not taken for a new one, nor leaves made inside fn.
    const same = compile((X: Value[][], y: Value[]) => hinge(model, X, y).mul(new Value(2)));
    for (const n of [8, 3, 5, 8]) same(moons.X.slice(0, n), labels.slice(0, n));
    expect(same.traceCount).toBe(3);
  });

  it("a captured number changed between the first two calls gets the fix in the message", () => {
    const w = new Value(0.5);
    let lambda = 0.1;
    const f = compile((x: Value) => x.mul(w).add(w.mul(w).mul(lambda)));
    f(1);
    lambda = 0.3;
    expect(() => f(1)).toThrow(
      /If instead fn reads a variable that changed between the calls: .*pass numbers that change as arguments/,
    );
  });
});

// ---------------------------------------------------------------------------------------

describe("compile: leaves that fn makes are constants once verified (issue 23)", () => {
  const BATCHES = [
    {
      X: [
        [0.5, -1.2, 0.3],
        [-0.7, 0.1, 2.0],
        [1.5, 0.4, -0.9],
      ],
      classes: [0, 1, 2],
    },
    {
      X: [
        [0.2, 0.2, 0.2],
        [-1.1, 0.6, 0.4],
        [0.9, -0.3, 1.7],
      ],
      classes: [2, 2, 0],
    },
    {
      X: [
        [1.0, 0.0, -1.0],
        [0.3, 0.8, -0.2],
        [-0.4, -0.6, 0.5],
      ],
      classes: [1, 0, 1],
    },
    {
      X: [
        [0.1, -0.2, 0.3],
        [2.0, 1.0, 0.5],
        [-0.8, 0.7, 0.0],
      ],
      classes: [0, 2, 1],
    },
  ];

  /**
   * A compiled loss bound to an arena of the model's parameters from its first call, against
   * eager on a copy of the model at the same weights: the same loss and gradients, bit for bit,
   * at the first call (a trace), the second (verified after its replay) and after. The arena's
   * numbers change between calls, so a replay that read the Values would be caught.
   */
  function expectArenaLikeEager(loss: LossName, nout: number) {
    const model = new MLP(3, [5, nout], { seed: 11 });
    const copy = new MLP(3, [5, nout], { seed: 11 });
    const lossOf = (m: MLP) => (X: readonly (readonly Operand[])[], classes: readonly Operand[]) =>
      classificationLoss(
        loss,
        X.map((x) => m.forward(x)),
        classes,
      );
    const compiled = compile(lossOf(model));
    const arena = new ParameterArena(model.parameters());
    compiled.arena = arena;
    const counts: number[] = [];
    BATCHES.forEach(({ X, classes }, call) => {
      for (let i = 0; i < arena.data.length; i++) arena.data[i] *= 1 + 0.01 * (call + 1);
      copy.parameters().forEach((p, i) => {
        p.data = arena.data[i];
        p.grad = 0;
      });
      const binary = classes.map((c) => c % 2);
      const labels = nout === 1 ? binary : classes;
      const eager = lossOf(copy)(
        X.map((x) => x.map((n) => new Value(n))),
        labels.map((c) => new Value(c)),
      );
      eager.backward();
      arena.grad.fill(0);
      const replayed = compiled(X, labels);
      replayed.backward();
      expect(replayed.data, `${loss}, call ${call + 1}`).toBe(eager.data);
      expect(Array.from(arena.grad), `${loss}, call ${call + 1}`).toEqual(
        copy.parameters().map((p) => p.grad),
      );
      counts.push(Number(/(\d+) parameters/.exec(compiled.listing())?.[1]));
    });
    // The loss's leaves (±1, 0, 1 by the class) are parameters until verification, then constants.
    const n = model.parameters().length;
    expect(counts[0]).toBeGreaterThan(n);
    expect(counts.slice(2)).toEqual([n, n]);
    // The model's Values were never read nor written: the arena was.
    expect(model.parameters().every((p) => p.grad === 0)).toBe(true);
  }

  for (const loss of ["hinge", "mse", "bce"] as LossName[]) {
    it(`a compiled ${loss} loss binds an arena of the model's parameters, as eager bit for bit`, () => {
      expectArenaLikeEager(loss, 1);
      expectArenaLikeEager(loss, 3);
    });
  }

  it("a function's own leaf is a constant; one alone in fn makes no reassigned model", () => {
    const w = new Value(0.75);
    const arena = new ParameterArena([w]);
    const own = compile((x: Value) => x.mul(w).mul(new Value(3)).add(new Value(0.5)));
    own.arena = arena;
    for (const x of [1, 2, 3, 4]) {
      arena.grad.fill(0);
      const y = own(x);
      y.backward();
      expect(y.data).toBe(x * 0.75 * 3 + 0.5);
      expect(arena.grad[0]).toBe(x * 3);
    }
    expect(own.listing()).toMatch(/^compiled trace: 1 parameter \(p\), 1 input \(x\)/);
    // One among the weights of a dot would break its run of slots: it stays the trace's, read
    // from its own Value, and the arena still need not hold it.
    const v = new Value(-1.5);
    const dot = compile((x: Value[]) => Value.sum([w.mul(x[0]), new Value(2).mul(x[1]), v.mul(x[2])]));
    dot.arena = new ParameterArena([v, w]);
    for (const x of [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]) {
      dot.arena.grad.fill(0);
      const y = dot(x);
      y.backward();
      expect(y.data).toBe(0.75 * x[0] + 2 * x[1] - 1.5 * x[2]);
      expect(Array.from(dot.arena.grad)).toEqual([x[2], x[0]]);
    }
    expect(dot.listing()).toMatch(/^compiled trace: 3 parameters[\s\S]*dot \[p0…p2\]/);
    // Leaves fn makes, and nothing else: no parameter at all once verified.
    const hinge = compile((scores: Value[], labels: Value[]) => hingeLoss(scores, labels));
    for (const [scores, labels] of [
      [
        [0.3, -2],
        [1, -1],
      ],
      [
        [0.5, 0.1],
        [-1, 1],
      ],
      [
        [-0.2, 4],
        [1, 1],
      ],
    ]) {
      const eager = hingeLoss(
        scores.map((s) => new Value(s)),
        labels.map((y) => new Value(y)),
      );
      expect(hinge(scores, labels).data).toBe(eager.data);
    }
    expect(hinge.listing()).toMatch(/^compiled trace: 0 parameters/);
    // A model replaced by a copy with the same numbers is still not taken for leaves fn makes.
    let model = new MLP(2, [3, 1], { seed: 2 });
    const step = compile((x: Value[], y: Value) => hingeLoss([model.forward(x)[0]], [y]));
    step([1, 2], 1);
    model = new MLP(2, [3, 1], { seed: 2 });
    expect(() => step([1, 2], -1)).toThrow(/fn reached none of the \d+ parameters of its first call/);
  });

  it("before verification a leaf fn made is eager's: a parameter fn makes once and keeps", () => {
    const w = new Value(2);
    let kept: Value | undefined;
    const lazy = compile((x: Value) => {
      kept ??= new Value(0.5);
      return x.mul(w).mul(kept);
    });
    lazy.arena = new ParameterArena([w]);
    // The first call adds its gradient into its .grad, as eager would; verification, at the
    // second, finds the same Value again: a parameter, which the arena must hold.
    lazy(3).backward();
    expect(kept?.grad).toBe(6);
    expect(() => lazy(5)).toThrow(/parameter \d+ \(data 0.5\) is not in the arena/);
    expect(() => lazy(1)).toThrow(/parameter \d+ \(data 0.5\) is not in the arena/);
    // Without an arena it is a parameter as any other.
    const unbound = compile((x: Value) => x.mul(w).mul(kept as Value));
    for (const x of [1, 2, 3]) unbound(x).backward();
    expect(kept?.grad).toBe(6 + 12);
    // A leaf whose number changes between the traces: the same refusal, arena or not.
    const viaNoGrad = compile((x: Value) =>
      noGrad(() => x.mul(2))
        .mul(x)
        .mul(w),
    );
    viaNoGrad.arena = new ParameterArena([w]);
    expect(viaNoGrad(3).data).toBe(36);
    expect(() => viaNoGrad(4)).toThrow(
      /parameter p\d is a leaf created inside fn \(its number was 6 at the first call, 8 at the second\).*noGrad inside fn/,
    );
  });

  it("with { verify: false } a leaf fn made stays the tape's, read from its own Value", () => {
    const model = new MLP(2, [4, 1], { seed: 3 });
    const copy = new MLP(2, [4, 1], { seed: 3 });
    const lossOf = (m: MLP) => (x: Value[], y: Value) => classificationLoss("mse", [m.forward(x)], [y]);
    const compiled = compile(lossOf(model), { verify: false });
    const arena = new ParameterArena(model.parameters());
    compiled.arena = arena;
    for (const [x, y] of [
      [[0.5, -1], 1],
      [[2, 0.25], 0],
      [[-1, 1], 1],
    ] as const) {
      copy.zeroGrad();
      const eager = lossOf(copy)(
        x.map((n) => new Value(n)),
        new Value(y),
      );
      eager.backward();
      arena.grad.fill(0);
      const replayed = compiled([...x], y);
      replayed.backward();
      expect(replayed.data).toBe(eager.data);
      expect(Array.from(arena.grad)).toEqual(copy.parameters().map((p) => p.grad));
    }
    expect(compiled.listing()).toMatch(
      new RegExp(`^compiled trace: ${model.parameters().length + 2} parameters`),
    );
  });
});
