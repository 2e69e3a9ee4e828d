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

  it("validates its arguments", () => {
    expect(() => gradcheck((a) => a, [Number.NaN])).toThrow(/finite numbers/);
    expect(() => gradcheck("f" as never, [1])).toThrow(/fn must be a function/);
    expect(() => gradcheck((a) => a, [1], { eps: 0 })).toThrow(/eps must be a finite number > 0/);
    expect(() => gradcheck((a) => a, [1], { atol: -1 })).toThrow(/atol/);
    expect(() => gradcheck(() => 3 as unknown as Value, [1])).toThrow(/must return a Value/);
  });
});
