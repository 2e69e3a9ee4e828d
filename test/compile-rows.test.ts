// The dots of a layer that read one input replay as one matrix-vector product (compile/rows.ts),
// and a tape bound to an arena is laid out on it (compile/layout.ts). Both change how a replay
// runs, never its numbers: every value and gradient here is compared bit for bit with eager.
import { describe, expect, it } from "vitest";
import { compile, GPT, ParameterArena, Value } from "../src/index.js";
import { createRandom } from "../src/random.js";

/** A layer of `rows` dots over `input`, weights row by row, with a bias first, last or none. */
function makeLayer(inputs: number, rows: number, bias: "first" | "last" | "none", seed: number) {
  const random = createRandom(seed);
  const weights = Array.from({ length: rows }, () =>
    Array.from({ length: inputs }, () => new Value(random() * 2 - 1)),
  );
  const biases = weights.map(() => new Value(random() - 0.5));
  const apply = (x: readonly Value[]) =>
    weights.map((row, r) => {
      const products = row.map((w, k) => w.mul(x[k]));
      if (bias === "first") return products.reduce((sum, term) => sum.add(term), biases[r]);
      const sum = Value.sum(products);
      return bias === "last" ? sum.add(biases[r]) : sum;
    });
  return { apply, parameters: [...weights.flat(), ...(bias === "none" ? [] : biases)] };
}

/**
 * A small network whose layers group in every way rows.ts allows: a relu layer (DOT_RELU rows),
 * a layer without biases whose every row is followed by a residual add (rows with instructions
 * between, as in a transformer), a layer whose biases come first, and odd numbers of rows (a
 * remainder after the blocks of four).
 */
function makeNetwork() {
  const first = makeLayer(5, 9, "last", 1);
  const second = makeLayer(9, 9, "none", 2);
  const third = makeLayer(9, 7, "first", 3);
  const parameters = [...first.parameters, ...second.parameters, ...third.parameters];
  const forward = (x: readonly Value[]) => {
    const before = first.apply(x);
    const hidden = before.map((h) => h.relu());
    // Added to the rows' outputs, not to their input (whose gradient the rows add into).
    const residual = second.apply(hidden).map((h, r) => h.add(before[r]));
    const outputs = third.apply(residual);
    return { outputs, loss: Value.sum(outputs.map((o) => o.mul(o))) };
  };
  return { forward, parameters };
}

const INPUTS = [
  [0.3, -1.1, 0.8, 2.0, -0.4],
  [-2.5, 0.2, 0.9, -0.3, 1.7],
  [0, 0, 0, 0, 0],
];

function eagerGradients(parameters: readonly Value[], run: () => Value): { loss: number; grads: number[] } {
  for (const p of parameters) p.grad = 0;
  const loss = run();
  loss.backward();
  return { loss: loss.data, grads: parameters.map((p) => p.grad) };
}

function expectSameBits(actual: readonly number[], expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  const differ = actual.findIndex((x, k) => !Object.is(x, expected[k]));
  expect(differ, `first difference at ${differ}: ${actual[differ]} against ${expected[differ]}`).toBe(-1);
}

/** Replays `compiled` at `x` and requires its loss and every parameter's gradient to be eager's, bit for bit. */
function expectLikeEager(
  compiled: (x: readonly number[]) => { data: number; backward(): void },
  loss: (values: readonly Value[]) => Value,
  parameters: readonly Value[],
  x: readonly number[],
): void {
  const eager = eagerGradients(parameters, () => loss(x.map((n) => new Value(n))));
  for (const p of parameters) p.grad = 0;
  const result = compiled(x);
  result.backward();
  expect(Object.is(result.data, eager.loss)).toBe(true);
  expectSameBits(
    parameters.map((p) => p.grad),
    eager.grads,
  );
}

describe("matrix-vector rows", () => {
  it("replays a layer's dots as groups, with every value and gradient bit for bit as eager", () => {
    const { forward, parameters } = makeNetwork();
    const compiled = compile((x: readonly Value[]) => forward(x).loss);
    for (const x of INPUTS) {
      expectLikeEager(compiled, (values) => forward(values).loss, parameters, x);
    }
    expect(compiled.listing()).toMatch(/; 25 dots run as 3 matrix-vector products/);
  });

  it("groups one row of weights times several inputs (a transformer's keys across positions)", () => {
    const random = createRandom(7);
    const row = Array.from({ length: 6 }, () => new Value(random() - 0.5));
    const positions = Array.from({ length: 7 }, () =>
      Array.from({ length: 6 }, () => new Value(random() * 2 - 1)),
    );
    const parameters = [...row, ...positions.flat()];
    const loss = (x: readonly Value[]) => {
      const scores = positions.map((inputs) => Value.sum(row.map((w, k) => w.mul(inputs[k]))));
      return Value.sum(scores.map((s, p) => s.mul(x[p]).mul(s)));
    };
    const compiled = compile(loss);
    const x = [0.5, -1, 2, 0.25, 1, -0.5, 3];
    expectLikeEager(compiled, loss, parameters, x);
    expect(compiled.listing()).toMatch(/; 7 dots run as 1 matrix-vector product\b/);
  });

  it("keeps a sum of squares out of the group of rows that read its input", () => {
    const random = createRandom(11);
    // Seven rows and x·x: eight, so that x·x, were it grouped, would be in a block of four.
    const rows = Array.from({ length: 7 }, () => Array.from({ length: 5 }, () => new Value(random() - 0.5)));
    const scales = Array.from({ length: 5 }, () => new Value(random() + 0.5));
    const parameters = [...rows.flat(), ...scales];
    const loss = (inputs: readonly Value[]) => {
      // Through the scales, the order of x's gradient shows in the parameters' gradients.
      const x = inputs.map((input, k) => input.mul(scales[k]).tanh());
      // The tape visits x·x (last here) first, then the rows over the same x.
      const outputs = [...rows, x].map((row) => Value.sum(row.map((w, k) => w.mul(x[k]))));
      return Value.sum(outputs.map((o, r) => o.mul(o).mul(r + 1)));
    };
    const compiled = compile(loss);
    for (const x of [
      [0.3, -1.1, 0.8, 2.0, -0.4],
      [1.5, 0.25, -0.75, 0.5, 1],
    ]) {
      expectLikeEager(compiled, loss, parameters, x);
    }
    expect(compiled.listing()).toMatch(/; 7 dots run as 1 matrix-vector product\b/);
  });

  it("keeps a dot whose plain term is one of its own inputs out of the head of a group", () => {
    // The first row on the tape adds h[0], one of the inputs every row reads, instead of a bias.
    let differing = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const random = createRandom(seed);
      const scales = Array.from({ length: 6 }, () => new Value(random() + 0.5));
      const rows = Array.from({ length: 8 }, () =>
        Array.from({ length: 6 }, () => new Value(random() * 2 - 1)),
      );
      const biases = rows.map(() => new Value(random() - 0.5));
      const parameters = [...scales, ...rows.flat(), ...biases];
      const loss = (inputs: readonly Value[]) => {
        const h = inputs.map((input, k) => input.mul(scales[k]).tanh());
        const outputs = rows.map((row, r) =>
          Value.sum([...row.map((w, k) => w.mul(h[k])), r === rows.length - 1 ? h[0] : biases[r]]),
        );
        return Value.sum(outputs.map((o, r) => o.mul(o).mul(r + 1.37)));
      };
      const x = Array.from({ length: 6 }, () => random() * 4 - 2);
      const eager = eagerGradients(parameters, () => loss(x.map((n) => new Value(n))));
      for (const p of parameters) p.grad = 0;
      compile(loss)(x).backward();
      if (parameters.some((p, k) => !Object.is(p.grad, eager.grads[k]))) differing++;
    }
    expect(differing).toBe(0);
  });

  it("backpropagates from an output inside a group as eager does", () => {
    const { forward, parameters } = makeNetwork();
    // The fifth output of the last layer: the rows after it carry no gradient to it.
    const compiled = compile((x: readonly Value[]) => forward(x).outputs[4]);
    for (const x of INPUTS) {
      expectLikeEager(compiled, (values) => forward(values).outputs[4], parameters, x);
    }
  });

  it("names the row whose sum overflows, as eager does", () => {
    const { forward, parameters } = makeNetwork();
    const compiled = compile((x: readonly Value[]) => forward(x).loss);
    compiled(INPUTS[0]);
    parameters[1].data = 1e308;
    expect(() => compiled([1, 1e10, 1, 1, 1])).toThrow(/overflows/);
  });
});

describe("a tape laid out on an arena", () => {
  /** Steps of a compiled GPT loss on an arena (laid out from the third call on) against eager. */
  function compareOnArena(order: (parameters: Value[]) => Value[]) {
    const gpt = new GPT({ vocabSize: 7, nLayer: 2, nEmbd: 8, nHead: 2, blockSize: 6, seed: 3 });
    const parameters = gpt.parameters();
    const arena = new ParameterArena(order(parameters.slice()));
    const compiled = compile((ids: readonly Value[]) => gpt.loss(ids));
    compiled.arena = arena;
    const documents = [
      [0, 1, 2, 3, 0],
      [0, 4, 5, 0],
      [0, 6, 2, 1, 0],
      [0, 2, 2, 5, 0],
    ];
    for (const doc of documents) {
      // Each call adds into gradients that are not zero: the copy in and out must keep them.
      for (const p of parameters) p.grad = 0.5;
      arena.gather();
      const eager = eagerGradients(parameters, () => {
        for (const p of parameters) p.grad = 0.5;
        return gpt.loss(doc.map((t) => new Value(t)));
      });
      const result = compiled(doc);
      result.backward();
      expect(Object.is(result.data, eager.loss)).toBe(true);
      expectSameBits(
        parameters.map((p) => arena.grad[arena.indexOf(p)]),
        eager.grads,
      );
    }
  }

  it("gives the eager gradients bit for bit", () => compareOnArena((parameters) => parameters));

  it("keeps to the parameters it reaches: another arena, and the others' gradients, as before the layout", () => {
    const weights = [0.1, 0.2, 0.3, 0.4].map((x) => new Value(x));
    const unreached = new Value(7);
    const loss = (x: readonly Value[]) => Value.sum(weights.map((w, k) => w.mul(x[k]))).tanh();
    const compiled = compile(loss);
    const withOther = new ParameterArena([...weights, unreached]);
    compiled.arena = withOther;
    const x = [1, 2, 3, 4];
    // Laid out from the third call on; an unreached parameter's gradient is none of its business.
    for (let call = 0; call < 4; call++) {
      withOther.grad.fill(0);
      withOther.grad[4] = Number.NaN;
      compiled(x).backward();
      expect(Number.isNaN(withOther.grad[4])).toBe(true);
    }
    const laidOut = Array.from(withOther.grad.subarray(0, 4));
    // Bound to an arena of only the parameters it reaches, and then to the Values.
    const reachedOnly = new ParameterArena(weights);
    compiled.arena = reachedOnly;
    compiled(x).backward();
    expectSameBits(Array.from(reachedOnly.grad), laidOut);
    compiled.arena = undefined;
    for (const w of weights) w.grad = 0;
    compiled(x).backward();
    expectSameBits(
      weights.map((w) => w.grad),
      laidOut,
    );
  });

  it("stays as traced, with the same numbers, where the arena does not keep each row together", () =>
    compareOnArena((parameters) => parameters.reverse()));
});
