import { describe, expect, it } from "vitest";
import { compile } from "../src/compile/index.js";
import { Value } from "../src/engine.js";
import { ACTIVATION_TABLE, ACTIVATIONS, Layer, MLP, Neuron } from "../src/nn.js";
import { createRandom, shuffled } from "../src/random.js";

describe("MLP", () => {
  it("has the documented parameter count and order", () => {
    const model = new MLP(2, [3, 1], { seed: 1 });
    const params = model.parameters();
    expect(params.length).toBe(3 * (2 + 1) + 1 * (3 + 1));
    const expected = model.layers.flatMap((layer) => layer.neurons.flatMap((n) => [...n.weights, n.bias]));
    expect(params).toEqual(expected);
    expect(new MLP(2, [16, 16, 1]).parameters().length).toBe(337);
  });

  it("starts weights uniform in [-1, 1] and biases at 0", () => {
    const model = new MLP(4, [32, 8], { seed: 3 });
    for (const layer of model.layers) {
      for (const n of layer.neurons) {
        expect(n.bias.data).toBe(0);
        for (const w of n.weights) expect(Math.abs(w.data)).toBeLessThanOrEqual(1);
      }
    }
    const weights = model.layers[0].neurons.flatMap((n) => n.weights.map((w) => w.data));
    expect(Math.min(...weights)).toBeLessThan(-0.8);
    expect(Math.max(...weights)).toBeGreaterThan(0.8);
  });

  it("xavier and he inits have the right scale", () => {
    const xavier = new MLP(50, [50], { init: "xavier", seed: 1 }).layers[0].neurons.flatMap((n) => n.weights);
    const limit = Math.sqrt(6 / 100);
    expect(Math.max(...xavier.map((w) => Math.abs(w.data)))).toBeLessThanOrEqual(limit);
    const he = new MLP(200, [50], { init: "he", seed: 1 }).layers[0].neurons.flatMap((n) =>
      n.weights.map((w) => w.data),
    );
    const std = Math.sqrt(he.reduce((s, w) => s + w * w, 0) / he.length);
    expect(std).toBeGreaterThan(0.9 * Math.sqrt(2 / 200));
    expect(std).toBeLessThan(1.1 * Math.sqrt(2 / 200));
  });

  it("same seed gives a bit-identical model, another seed does not", () => {
    const a = new MLP(2, [8, 8, 1], { seed: 7 }).parameters().map((p) => p.data);
    const b = new MLP(2, [8, 8, 1], { seed: 7 }).parameters().map((p) => p.data);
    const c = new MLP(2, [8, 8, 1], { seed: 8 }).parameters().map((p) => p.data);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it("forward returns one Value per output, ReLU hidden and linear output by default", () => {
    const model = new MLP(2, [4, 3], { seed: 2 });
    const out = model.forward([0.5, -1]);
    expect(out.length).toBe(3);
    for (const v of out) expect(v).toBeInstanceOf(Value);
    expect(out[0].op.name).toBe("sum"); // linear output: the weighted sum itself
    const hidden = model.layers[0].forward([0.5, -1]);
    for (const h of hidden) expect(h.op.name).toBe("relu");
    // By hand: the first output is w · relu(W x + b) + b.
    const h = model.layers[0].neurons.map((n) =>
      Math.max(0, n.weights[0].data * 0.5 + n.weights[1].data * -1 + n.bias.data),
    );
    const n0 = model.layers[1].neurons[0];
    const expected = n0.weights.reduce((s, w, i) => s + w.data * h[i], n0.bias.data);
    expect(out[0].data).toBeCloseTo(expected, 14);
  });

  it("activations are selectable", () => {
    const model = new MLP(2, [3, 1], { activation: "tanh", outputActivation: "sigmoid", seed: 1 });
    expect(model.layers[0].forward([1, 2])[0].op.name).toBe("tanh");
    expect(model.forward([1, 2])[0].op.name).toBe("sigmoid");
    expect(String(model)).toBe(
      "MLP of [Layer of [tanhNeuron(2), tanhNeuron(2), tanhNeuron(2)], Layer of [sigmoidNeuron(3)]]",
    );
  });

  it("zeroGrad clears every parameter's gradient", () => {
    const model = new MLP(2, [3, 1], { seed: 1 });
    model.forward([1, 2])[0].backward();
    expect(model.parameters().some((p) => p.grad !== 0)).toBe(true);
    model.zeroGrad();
    expect(model.parameters().every((p) => p.grad === 0)).toBe(true);
  });

  it("says what is wrong with bad input", () => {
    const model = new MLP(2, [3, 1], { seed: 1 });
    expect(() => model.forward([1, 2, 3])).toThrow("MLP.forward: input has length 3, expected 2");
    expect(() => model.forward([1, Number.NaN])).toThrow(/input\[1\] is NaN/);
    expect(() => model.forward("ab" as never)).toThrow(/must be an array/);
    expect(() => new MLP(0, [1])).toThrow(/nin must be a positive integer/);
    expect(() => new MLP(2, [])).toThrow(/non-empty array/);
    expect(() => new MLP(2, [3, 1.5])).toThrow(/nouts\[1\] must be a positive integer/);
    expect(() => new MLP(2, [1], { activation: "gelu" as never })).toThrow(/unknown activation "gelu"/);
    expect(() => new MLP(2, [1], { init: "zeros" as never })).toThrow(/unknown init "zeros"/);
    expect(() => new MLP(2, [1], { seed: 1.5 })).toThrow(/seed must be an integer/);
  });

  it("names a bad input without converting Values to strings (which a compiled trace forbids)", () => {
    const model = new MLP(2, [3, 1], { seed: 1 });
    const nested = [[new Value(1)], new Value(2)] as never;
    const expected = "MLP.forward: input[0] is an array of 1, expected a finite number or a Value";
    expect(() => model.forward(nested)).toThrow(expected);
    expect(() => model.forward(new Value(1) as never)).toThrow(
      "MLP.forward: input must be an array, got Value(1)",
    );
    // Inside a trace the library's own message comes through, not compile's conversion error.
    const step = compile((x: Value[]) => model.forward([[x[0]], x[1]] as never)[0]);
    expect(() => step([1, 2])).toThrow(expected);
  });

  it("Neuron and Layer work on their own", () => {
    const n = new Neuron(3, "linear", () => 0.5);
    expect(n.forward([1, 2, 3]).data).toBe(3);
    expect(new Layer(2, 4, "relu").forward([1, 1]).length).toBe(4);
    expect(() => n.forward([1])).toThrow("Neuron.forward: input has length 1, expected 3");
  });
});

describe("random", () => {
  it("is reproducible and uniform-looking", () => {
    const a = createRandom(123);
    const b = createRandom(123);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
  });

  it("shuffles a copy", () => {
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    const out = shuffled(items, createRandom(1));
    expect(items).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...out].sort()).toEqual(items);
    expect(out).not.toEqual(items);
  });
});

describe("ACTIVATION_TABLE", () => {
  it("each activation's rule on numbers is its rule on Values, and its ONNX operator the engine's", () => {
    for (const name of ACTIVATIONS) {
      const rule = ACTIVATION_TABLE[name];
      for (const z of [-1000, -3.5, -0.25, 0, 0.25, 3.5, 1000]) {
        expect(rule.onNumber(z), `${name}(${z})`).toBe(rule.onValue(new Value(z)).data);
      }
    }
    expect(ACTIVATIONS).toEqual(["relu", "tanh", "sigmoid", "linear", "leakyRelu"]);
    expect(ACTIVATION_TABLE.sigmoid.onnx.op).toBe("Sigmoid");
    expect(ACTIVATION_TABLE.leakyRelu.onnx).toEqual({ op: "LeakyRelu", alpha: 0.01 });
    expect(ACTIVATION_TABLE.leakyRelu.onNumber(-2)).toBe(-0.02);
    expect("onnx" in ACTIVATION_TABLE.linear).toBe(false);
  });
});
