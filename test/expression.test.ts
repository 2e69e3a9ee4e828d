// The expression language of `micrograd graph --expr`.
import { describe, expect, it } from "vitest";
import { evaluateExpression, MAX_EXPRESSION_LENGTH } from "../src/cli/expression.js";
import { Value } from "../src/engine.js";

describe("evaluateExpression", () => {
  it("follows the usual precedence and associativity", () => {
    expect(evaluateExpression("1 + 2 * 3 - 4 / 2", {}).data).toBe(5);
    expect(evaluateExpression("2 ^ 3 ^ 2", {}).data).toBe(512);
    expect(evaluateExpression("-2 ^ 2", {}).data).toBe(-4);
    expect(evaluateExpression("(1 + 2) * 3", {}).data).toBe(9);
    expect(evaluateExpression("1e-1 + .5", {}).data).toBeCloseTo(0.6, 15);
    expect(evaluateExpression("2 * -3 + -2 ^ -1", {}).data).toBe(-6.5);
    expect(evaluateExpression("2 ^ -1 ^ 2 * 3", {}).data).toBe(1.5);
    expect(evaluateExpression("-(1 - 2 - 3) / 2 / 2", {}).data).toBe(1);
    expect(evaluateExpression("exp(0) - --1 + abs(-(2))", {}).data).toBe(2);
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
    expect(() => evaluateExpression("1e400 + x", { x: 1 })).toThrow(
      "the number 1e400 is too large at column 1",
    );
    expect(() => evaluateExpression("(x))", { x: 1 })).toThrow('unexpected ")" at column 4');
    expect(() => evaluateExpression("(x y)", { x: 1, y: 2 })).toThrow('expected ")" but found "y"');
  });

  it("reads expressions of any allowed size without recursion, and refuses longer ones", () => {
    // Each of these would take one call frame per term or level in a recursive parser.
    const names = { x0: 1, x1: 2, x2: 3 };
    const sum = evaluateExpression(Array.from({ length: 3000 }, (_, i) => `x${i % 3}`).join("+"), names);
    expect(sum.data).toBe(6000);
    sum.backward();
    expect(findLeaf(sum, "x1").grad).toBe(1000);

    const same = evaluateExpression(Array(1000).fill("x").join(" + "), { x: 0.5 });
    same.backward();
    expect(same.data).toBe(500);
    expect(findLeaf(same, "x").grad).toBe(1000);

    const deep = `${"(".repeat(20_000)}x${")".repeat(20_000)}`;
    expect(evaluateExpression(deep, { x: 2 }).data).toBe(2);
    const calls = `${"tanh(".repeat(10_000)}x${")".repeat(10_000)}`;
    let t = 0.5;
    for (let i = 0; i < 10_000; i++) t = Math.tanh(t);
    expect(evaluateExpression(calls, { x: 0.5 }).data).toBe(t);
    const negations = evaluateExpression(`${"-".repeat(30_001)}x`, { x: 3 });
    expect(negations.data).toBe(-3);

    const tooLong = `x${"+x".repeat(MAX_EXPRESSION_LENGTH / 2)}`;
    expect(() => evaluateExpression(tooLong, { x: 1 })).toThrow(
      `the expression has ${tooLong.length} characters, more than the ${MAX_EXPRESSION_LENGTH} allowed`,
    );
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
