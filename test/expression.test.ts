// The expression language of `micrograd graph --expr`.
import { describe, expect, it } from "vitest";
import { evaluateExpression } from "../src/cli/expression.js";
import { Value } from "../src/engine.js";

describe("evaluateExpression", () => {
  it("follows the usual precedence and associativity", () => {
    expect(evaluateExpression("1 + 2 * 3 - 4 / 2", {}).data).toBe(5);
    expect(evaluateExpression("2 ^ 3 ^ 2", {}).data).toBe(512);
    expect(evaluateExpression("-2 ^ 2", {}).data).toBe(-4);
    expect(evaluateExpression("(1 + 2) * 3", {}).data).toBe(9);
    expect(evaluateExpression("1e-1 + .5", {}).data).toBeCloseTo(0.6, 15);
  });

  it("binds names to labelled leaves and differentiates through functions", () => {
    const out = evaluateExpression("tanh(x*w + b) + exp(x)^2", { x: 0.5, w: -1.5, b: 0.25 });
    out.backward();
    const [x, w, b] = ["x", "w", "b"].map((name) => findLeaf(out, name));
    const t = Math.tanh(0.5 * -1.5 + 0.25);
    expect(out.data).toBeCloseTo(t + Math.exp(1), 14);
    expect(w.grad).toBeCloseTo((1 - t * t) * 0.5, 14);
    expect(b.grad).toBeCloseTo(1 - t * t, 14);
    expect(x.grad).toBeCloseTo((1 - t * t) * -1.5 + 2 * Math.exp(1), 13);
  });

  it("keeps literal exponents as constants, so negative bases work", () => {
    const out = evaluateExpression("x^2", { x: -3 });
    out.backward();
    expect(out.data).toBe(9);
    expect(findLeaf(out, "x").grad).toBe(-6);
  });

  it("says what is wrong and where", () => {
    expect(() => evaluateExpression("x + ", { x: 1 })).toThrow(
      'expected a number, a name or "(" but found the end at column 5',
    );
    expect(() => evaluateExpression("foo(x)", { x: 1 })).toThrow('unknown function "foo"');
    expect(() => evaluateExpression("x $ 2", { x: 1 })).toThrow('unexpected character "$" at column 3');
    expect(() => evaluateExpression("(x", { x: 1 })).toThrow('expected ")" but found the end');
    expect(() => evaluateExpression("x", { x: 1, y: 2 })).toThrow(
      "values given for names the expression does not use: y",
    );
    expect(() => evaluateExpression("x y", { x: 1, y: 2 })).toThrow('unexpected "y"');
    const deep = `${"(".repeat(20_000)}x${")".repeat(20_000)}`;
    expect(() => evaluateExpression(deep, { x: 1 })).toThrow("nested more than 200 levels deep");
    expect(evaluateExpression(`${"(".repeat(150)}x${")".repeat(150)}`, { x: 2 }).data).toBe(2);
  });
});

function findLeaf(root: Value, name: string): Value {
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop() as Value;
    if (node.label === name) return node;
    for (const input of node.inputs) if (input instanceof Value) stack.push(input);
  }
  throw new Error(`no leaf ${name}`);
}
