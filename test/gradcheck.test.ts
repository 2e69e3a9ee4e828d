import { describe, expect, it } from "vitest";
import { noGrad, Value } from "../src/engine.js";
import { gradcheck } from "../src/gradcheck.js";

describe("gradcheck", () => {
  it("passes on a correct function and reports every input", () => {
    const result = gradcheck((a, b) => a.mul(b).add(a.pow(3)).tanh().div(b.sigmoid()), [0.3, -0.7]);
    expect(result.ok).toBe(true);
    expect(result.failures).toEqual([]);
    expect(result.inputs.map((r) => r.index)).toEqual([0, 1]);
    expect(result.maxError).toBeLessThan(1e-8);
    for (const r of result.inputs) expect(r.analytic).toBeCloseTo(r.numeric, 7);
  });

  it("names the input whose gradient is wrong", () => {
    // The second factor of b is taken out of the graph, so backward misses half of d/db.
    const result = gradcheck((a, b) => a.add(b.mul(noGrad(() => new Value(b.data)))), [1.5, 2]);
    expect(result.ok).toBe(false);
    expect(result.failures.map((f) => f.index)).toEqual([1]);
    expect(result.failures[0].analytic).toBeCloseTo(2, 12);
    expect(result.failures[0].numeric).toBeCloseTo(4, 6);
  });

  it("gives the same report inside noGrad, at both orders", () => {
    const f = (a: Value, b: Value) => a.mul(b).tanh().add(a.pow(3));
    for (const order of [1, 2] as const) {
      const outside = gradcheck(f, [0.4, -1.3], { order });
      const inside = noGrad(() => gradcheck(f, [0.4, -1.3], { order }));
      expect(inside).toEqual(outside);
      expect(inside.ok).toBe(true);
      expect(inside.inputs.every((r) => r.analytic !== 0)).toBe(true);
    }
  });

  it("validates its arguments", () => {
    expect(() => gradcheck((a) => a, [Number.NaN])).toThrow(/finite numbers/);
    expect(() => gradcheck("f" as never, [1])).toThrow(/fn must be a function/);
    expect(() => gradcheck((a) => a, [1], { eps: 0 })).toThrow(/eps must be a finite number > 0/);
    expect(() => gradcheck((a) => a, [1], { atol: -1 })).toThrow(/atol must be a finite number >= 0, got -1/);
    expect(() => gradcheck((a) => a, [1], { rtol: Number.NaN })).toThrow(/rtol must be a finite number >= 0/);
    // A tolerance of 0 is allowed, as the message says: rtol 0 checks the absolute error alone.
    expect(gradcheck((a) => a.mul(a), [1.5], { rtol: 0 }).ok).toBe(true);
    expect(gradcheck((a) => a.mul(a), [1.5], { atol: 0 }).ok).toBe(true);
    // Nothing to check is an error, not a pass.
    expect(() => gradcheck(() => new Value(1), [])).toThrow(
      /inputs is empty, so there is no gradient to check/,
    );
    expect(() => gradcheck((...x) => Value.sum(x), new Array(100_001).fill(1))).toThrow(
      /gradcheck: 100001 inputs, but fn\(\.\.\.inputs\) takes at most 100000/,
    );
    expect(() => gradcheck(() => 3 as unknown as Value, [1])).toThrow(/must return a Value/);
  });
});
