// A parameter arena changes where a compiled replay and an optimizer read and write the
// parameters, never the numbers: every result here is compared bit for bit with the Values' path.
import { describe, expect, it } from "vitest";
import {
  Adam,
  classificationLoss,
  compile,
  GPT,
  MLP,
  type Operand,
  ParameterArena,
  SGD,
  Trainer,
  Value,
} from "../src/index.js";

const X = [
  [0.5, -1.2, 0.3],
  [-0.7, 0.1, 2.0],
  [1.5, 0.4, -0.9],
  [0.2, 0.2, 0.2],
];
const y = [0, 1, 2, 1];

function mlpLoss(model: MLP) {
  return (inputs: readonly (readonly Operand[])[], labels: readonly Operand[]) =>
    classificationLoss(
      "softmax",
      inputs.map((x) => model.forward(x)),
      labels,
    );
}

describe("ParameterArena", () => {
  it("holds the parameters' values and gradients, and writes them back", () => {
    const a = new Value(1.5);
    const b = new Value(-2);
    b.grad = 0.25;
    const arena = new ParameterArena([a, b]);
    expect(Array.from(arena.data)).toEqual([1.5, -2]);
    expect(Array.from(arena.grad)).toEqual([0, 0.25]);
    expect(arena.indexOf(b)).toBe(1);
    expect(arena.indexOf(new Value(1))).toBe(-1);
    arena.data[0] = 3;
    arena.grad[1] = 7;
    expect(a.data).toBe(1.5);
    arena.scatter();
    expect([a.data, b.grad]).toEqual([3, 7]);
  });

  it("shares its numbers through buffers given to it", () => {
    const data = new SharedArrayBuffer(16);
    const grad = new SharedArrayBuffer(16);
    const first = new ParameterArena([new Value(1), new Value(2)], { data, grad });
    const second = new ParameterArena([new Value(0), new Value(0)], { data, grad });
    // Given buffers are taken as they are, until gather() fills them from the Values.
    expect(Array.from(second.data)).toEqual([0, 0]);
    first.gather();
    expect(Array.from(second.data)).toEqual([1, 2]);
    second.data[1] = 5;
    expect(first.data[1]).toBe(5);
  });

  it("refuses what is not a list of distinct Values", () => {
    const p = new Value(1);
    expect(() => new ParameterArena([p, p])).toThrow("parameters[1] appears twice");
    expect(() => new ParameterArena([p, 2 as unknown as Value])).toThrow("parameters[1] is not a Value");
  });
});

describe("a compiled function bound to an arena", () => {
  it("replays and backpropagates into the arena, the same numbers as into the Values", () => {
    const viaValues = new MLP(3, [5, 3], { seed: 4 });
    const viaArena = new MLP(3, [5, 3], { seed: 4 });
    const f = compile(mlpLoss(viaValues));
    const g = compile(mlpLoss(viaArena));
    const arena = new ParameterArena(viaArena.parameters());
    g.arena = arena;
    for (let call = 0; call < 3; call++) {
      const expected = f(X, y);
      expected.backward();
      const got = g(X, y);
      got.backward();
      expect(got.data).toBe(expected.data);
    }
    const gradients = viaValues.parameters().map((p) => p.grad);
    expect(gradients.filter((x) => x !== 0).length).toBeGreaterThan(10);
    expect(Array.from(arena.grad)).toEqual(gradients);
    // The Values of the arena's model are untouched until the arena writes them back.
    expect(viaArena.parameters().every((p) => p.grad === 0)).toBe(true);
    arena.scatter();
    expect(viaArena.parameters().map((p) => p.grad)).toEqual(gradients);
  });

  it("reads the weights from the arena, not from the Values", () => {
    const model = new MLP(3, [4, 3], { seed: 2 });
    const f = compile(mlpLoss(model));
    const before = f(X, y).data;
    const arena = new ParameterArena(model.parameters());
    f.arena = arena;
    for (let i = 0; i < arena.data.length; i++) arena.data[i] *= 2;
    const doubled = f(X, y).data;
    expect(doubled).not.toBe(before);
    f.arena = undefined;
    expect(f(X, y).data).toBe(before);
    arena.scatter();
    expect(f(X, y).data).toBe(doubled);
  });

  it("names a parameter that is not in the arena, and refuses check mode", () => {
    const model = new MLP(3, [4, 3], { seed: 2 });
    const f = compile(mlpLoss(model));
    f.arena = new ParameterArena(model.parameters().slice(1));
    expect(() => f(X, y)).toThrow(/parameter \d+ .*is not in the arena/);
    const checked = compile(mlpLoss(model), { check: true });
    expect(() => {
      checked.arena = new ParameterArena(model.parameters());
    }).toThrow("check mode works on the Values, not an arena");
  });

  it("names a parameter gradient that overflows and leaves the arena's gradients as they were", () => {
    const w = new Value(1e-300, "w");
    const unreached = new Value(2);
    const f = compile((x: Value, y: Value) => w.mul(x).mul(y));
    const arena = new ParameterArena([unreached, w]);
    f.arena = arena;
    // From the third call the trace is verified and laid out on the arena.
    for (let call = 0; call < 3; call++) {
      arena.grad.fill(0);
      f(2, 3).backward();
    }
    expect(Array.from(arena.grad)).toEqual([0, 6]);
    // A parameter the function does not reach keeps its gradient, even one that is not finite.
    arena.grad[0] = Number.NaN;
    f(2, 3).backward();
    expect(Array.from(arena.grad)).toEqual([Number.NaN, 12]);
    arena.grad.set([0, 0.5]);
    expect(() => f(1e200, 1e200).backward()).toThrow(
      'backward(): the gradient of parameter 0 "w" (data 1e-300) is not finite',
    );
    expect(Array.from(arena.grad)).toEqual([0, 0.5]);
  });

  it("trains a GPT to the same weights as the Values' path, bit for bit", () => {
    const config = { vocabSize: 6, nLayer: 2, nEmbd: 8, nHead: 2, blockSize: 5, seed: 1 };
    const documents = [
      [0, 1, 2, 3, 0],
      [0, 5, 4, 0],
      [0, 2, 2, 1, 3, 4, 5, 0],
    ];
    const train = (useArena: boolean) => {
      const gpt = new GPT(config);
      const loss = compile((tokens: readonly Value[]) => gpt.loss(tokens), { constantCheck: false });
      const optimizer = new Adam(gpt.parameters(), { lr: 0.01, betas: [0.85, 0.99] });
      const arena = new ParameterArena(gpt.parameters());
      if (useArena) loss.arena = arena;
      for (let step = 0; step < 6; step++) {
        const document = documents[step % documents.length];
        if (useArena) {
          arena.grad.fill(0);
          loss(document).backward();
          optimizer.step(arena);
        } else {
          optimizer.zeroGrad();
          loss(document).backward();
          optimizer.step();
        }
      }
      if (useArena) arena.scatter();
      return gpt.parameters().map((p) => p.data);
    };
    const viaValues = train(false);
    expect(train(true)).toEqual(viaValues);
    expect(viaValues).not.toEqual(new GPT(config).parameters().map((p) => p.data));
  });
});

describe("an optimizer's step on an arena", () => {
  const makers = [
    ["Adam", (ps: Value[]) => new Adam(ps, { lr: 0.1, weightDecay: 0.01 })],
    ["SGD with Nesterov momentum", (ps: Value[]) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true })],
  ] as const;

  it.each(makers)("%s takes the same steps as on the Values", (_, make) => {
    const values = [0.5, -1, 2, 0.25];
    const gradients = (step: number) => values.map((_, i) => Math.sin(step + 3 * i));
    const ps = values.map((v) => new Value(v));
    const qs = values.map((v) => new Value(v));
    const onValues = make(ps);
    const onArena = make(qs);
    const arena = new ParameterArena(qs);
    for (let step = 0; step < 5; step++) {
      ps.forEach((p, i) => {
        p.grad = gradients(step)[i];
      });
      arena.grad.set(gradients(step));
      onValues.step();
      onArena.step(arena);
    }
    expect(Array.from(arena.data)).toEqual(ps.map((p) => p.data));
    expect(qs.map((q) => q.data)).toEqual(values);
  });

  it("refuses an arena over other parameters, and names a weight that became infinite", () => {
    const ps = [new Value(1), new Value(2)];
    const optimizer = new Adam(ps, { lr: 0.1 });
    expect(() => optimizer.step(new ParameterArena([ps[1], ps[0]]))).toThrow(
      "the arena holds other parameters than the optimizer's",
    );
    const sgd = new SGD(ps, { lr: 1e308 });
    const arena = new ParameterArena(ps);
    arena.grad.set([0, 10]);
    expect(() => sgd.step(arena)).toThrow("SGD.step(): parameter 1 became -Infinity (its gradient was 10)");
  });
});

describe("a Trainer on an arena", () => {
  it("takes the same steps as on the Values, written back after each", () => {
    const train = (useArena: boolean) => {
      const model = new MLP(3, [6, 3], { seed: 8 });
      const optimizer = new Adam(model.parameters(), { lr: 0.05 });
      const arena = useArena ? new ParameterArena(model.parameters()) : undefined;
      // Written back at the end of every step, the default.
      const trainer = new Trainer({ optimizer, loss: mlpLoss(model), arena });
      const trajectory: number[][] = [];
      for (let step = 0; step < 4; step++) {
        trainer.trainStep(X, y);
        trajectory.push(model.parameters().map((p) => p.data));
        trajectory.push(model.parameters().map((p) => p.grad));
      }
      return trajectory;
    };
    const viaValues = train(false);
    expect(train(true)).toEqual(viaValues);
    expect(viaValues[6]).not.toEqual(viaValues[0]);
  });

  it("refuses an eager part in a step begun on the arena", () => {
    const model = new MLP(3, [4, 3], { seed: 8 });
    const arena = new ParameterArena(model.parameters());
    const trainer = new Trainer({ optimizer: new SGD(model.parameters()), loss: mlpLoss(model), arena });
    trainer.begin();
    trainer.compile = false;
    expect(() => trainer.accumulate(X, y)).toThrow("a step begun on the arena adds only compiled gradients");
  });

  it("writes back only on sync(), or before an eager step or a run between steps, when asked to", () => {
    const model = new MLP(3, [4, 3], { seed: 8 });
    const parameters = model.parameters();
    const arena = new ParameterArena(parameters);
    const trainer = new Trainer({
      optimizer: new SGD(parameters, { lr: 0.1 }),
      loss: mlpLoss(model),
      arena,
      writeBack: "on sync",
    });
    const before = parameters.map((p) => p.data);
    trainer.trainStep(X, y);
    // Updated in the arena only, until something outside the compiled steps needs the Values.
    expect(parameters.map((p) => p.data)).toEqual(before);
    expect(Array.from(arena.data)).not.toEqual(before);
    const updated = Array.from(arena.data);
    trainer.run(X, y);
    expect(parameters.map((p) => p.data)).toEqual(updated);
    // A change made to the Values between steps is what the next step starts from.
    parameters[0].data = 5;
    trainer.trainStep(X, y);
    trainer.sync();
    expect(parameters[0].data).not.toBe(updated[0]);
    expect(Math.abs(parameters[0].data - 5)).toBeLessThan(1);
  });
});
