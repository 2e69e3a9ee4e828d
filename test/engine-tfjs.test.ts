// A second, independent autodiff as an oracle: TensorFlow.js on its pure-JavaScript CPU backend.
import fc from "fast-check";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { Value } from "../src/engine.js";
import { tf, useTfjsCpu } from "./tfjs.js";

/** The same operation written for both engines. */
type Pair = [(x: Value, y: Value) => Value, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor];

const softplusTf = (x: tf.Tensor) => tf.softplus(x) as tf.Tensor;
const PAIRS: Pair[] = [
  [(x, y) => x.add(y), (x, y) => tf.add(x, y)],
  [(x, y) => x.sub(y), (x, y) => tf.sub(x, y)],
  [(x, y) => x.mul(y), (x, y) => tf.mul(x, y)],
  [(x, y) => x.div(y.mul(y).add(0.5)), (x, y) => tf.div(x, tf.add(tf.mul(y, y), 0.5))],
  [(x) => x.neg(), (x) => tf.neg(x)],
  [(x) => x.tanh(), (x) => tf.tanh(x)],
  [(x) => x.sigmoid(), (x) => tf.sigmoid(x)],
  [(x) => x.softplus(), softplusTf],
  [(x) => x.mul(0.3).exp(), (x) => tf.exp(tf.mul(x, 0.3))],
  [(x) => x.softplus().add(0.5).log(), (x) => tf.log(tf.add(softplusTf(x), 0.5))],
  [(x) => x.mul(x).add(0.25).sqrt(), (x) => tf.sqrt(tf.add(tf.mul(x, x), 0.25))],
  [(x) => x.mul(x).add(0.5).pow(1.5), (x) => tf.pow(tf.add(tf.mul(x, x), 0.5), 1.5)],
  [(x, y) => x.softplus().add(0.5).pow(y.tanh()), (x, y) => tf.pow(tf.add(softplusTf(x), 0.5), tf.tanh(y))],
  [(x) => x.mul(x).add(0.1).abs(), (x) => tf.abs(tf.add(tf.mul(x, x), 0.1))],
  [(x) => x.relu(), (x) => tf.relu(x)],
  [(x) => x.leakyRelu(0.2), (x) => tf.leakyRelu(x, 0.2)],
  [(x, y) => Value.sum([x, y, 2, x]), (x, y) => tf.addN([x, y, tf.scalar(2), x])],
];

const consoleWarn = vi.spyOn(console, "warn");

beforeAll(async () => {
  await useTfjsCpu();
});

describe("gradients agree with TensorFlow.js", () => {
  it("on random expression graphs with shared sub-expressions", () => {
    expect(tf.getBackend()).toBe("cpu");
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 2, maxLength: 3 }),
        fc.array(fc.record({ op: fc.nat({ max: PAIRS.length - 1 }), i: fc.nat(), j: fc.nat() }), {
          minLength: 1,
          maxLength: 12,
        }),
        (xs, steps) => {
          // relu and leakyRelu have a kink at 0: keep inputs away from it for both engines.
          const inputs = xs.map((x) => (Math.abs(x) < 0.05 ? x + 0.1 : x));
          const ours = inputs.map((x) => new Value(x));
          let pool: Value[] = [...ours];
          for (const { op, i, j } of steps)
            pool.push(PAIRS[op][0](pool[i % pool.length], pool[j % pool.length]));
          // Every input also reaches the output directly: tf.grads refuses inputs that do not.
          const out = Value.sum([...pool.slice(-2), ...ours]);
          out.backward();

          const theirs = tf.tidy(() => {
            const f = (...args: tf.Tensor[]) => {
              let tpool: tf.Tensor[] = [...args];
              for (const { op, i, j } of steps) {
                tpool = [...tpool, PAIRS[op][1](tpool[i % tpool.length], tpool[j % tpool.length])];
              }
              return tf.addN([tpool[tpool.length - 2], tpool[tpool.length - 1], ...args]) as tf.Tensor;
            };
            const grads = tf.grads(f)(inputs.map((x) => tf.scalar(x, "float32")));
            return {
              value: f(...inputs.map((x) => tf.scalar(x))).dataSync()[0],
              grads: grads.map((g) => g.dataSync()[0]),
            };
          });
          pool = [];
          // float32 keeps about 7 significant digits; deep products lose a few more.
          const close = (a: number, b: number) => Math.abs(a - b) <= 1e-3 + 1e-3 * Math.abs(b);
          expect(close(out.data, theirs.value), `value ${out.data} vs ${theirs.value}`).toBe(true);
          ours.forEach((v, k) => {
            expect(close(v.grad, theirs.grads[k]), `grad ${k}: ${v.grad} vs ${theirs.grads[k]}`).toBe(true);
          });
        },
      ),
      { numRuns: 150, seed: 42 },
    );
  });

  it("on a small MLP-like neuron: tanh(w·x + b)", () => {
    const w = [0.5, -1.5].map((x) => new Value(x));
    const b = new Value(0.25);
    const x = [2, 3];
    const out = Value.sum([w[0].mul(x[0]), w[1].mul(x[1]), b]).tanh();
    out.backward();
    const [gw0, gw1, gb] = tf.tidy(() =>
      tf
        .grads((w0: tf.Tensor, w1: tf.Tensor, bb: tf.Tensor) =>
          tf.tanh(tf.addN([tf.mul(w0, x[0]), tf.mul(w1, x[1]), bb])),
        )([tf.scalar(0.5), tf.scalar(-1.5), tf.scalar(0.25)])
        .map((g) => g.dataSync()[0]),
    );
    expect(w[0].grad).toBeCloseTo(gw0, 5);
    expect(w[1].grad).toBeCloseTo(gw1, 5);
    expect(b.grad).toBeCloseTo(gb, 5);
  });
});

describe("the console", () => {
  it("shows no TensorFlow.js banner (the hint to install its Node backend)", () => {
    const printed = consoleWarn.mock.calls.map((args) => args.join(" "));
    expect(printed.filter((text) => /TensorFlow|tfjs/.test(text))).toEqual([]);
  });
});
