// Every row of the engine's operation table, run eagerly and compiled: the replay's inline
// rules (compile/replay.ts) are pinned to the table's, value for value and gradient for
// gradient, bit for bit. A new row is tested here without a line added.
import { describe, expect, it } from "vitest";
import { compile } from "../src/compile/index.js";
import { INSTRUCTION_OF_OPERATION } from "../src/compile/tape.js";
import { OPERATIONS, type Op, type Operand, Value } from "../src/engine.js";

type Key = keyof typeof OPERATIONS;

/** Applies the operation of row `key` to a and b the way a user would: a Value method or Value.sum/select. */
function apply(key: Key, op: Op, a: Value, b: Value | number, index: Value): Value {
  if (key === "sum") return Value.sum([a, b, 0.25]);
  if (key === "select") return Value.select([a, b as Value, a.mul(2)], index);
  const method = (a as unknown as Record<string, (x?: Operand) => Value>)[op.name];
  if (typeof method !== "function") throw new Error(`no Value method named ${op.name} for row ${key}`);
  return op.arity === 1 ? method.call(a) : method.call(a, b);
}

/** The second operands a row takes: a Value, a number, or both (pow takes a Value, powk a number). */
function secondOperands(key: Key, op: Op): ("value" | "number")[] {
  if (op.arity === 1 || key === "pow" || key === "select") return ["value"];
  if (key === "powk") return ["number"];
  return ["value", "number"];
}

const ROWS = (Object.entries(OPERATIONS) as [Key, Op][]).filter(([key]) => key !== "leaf");
const FIRST = [-1.5, -0.4, 0.7, 1.9];
const SECOND = [0.6, -1.2, 1.3, 3];

describe("compile: every operation of the engine's table", () => {
  for (const [key, op] of ROWS) {
    for (const second of secondOperands(key, op)) {
      for (const fuse of [true, false]) {
        it(`${key} (second operand a ${second}, fuse ${fuse}): values and gradients equal eager, bit for bit`, () => {
          const a = new Value(0, "a");
          const b = new Value(0, "b");
          // Also through a weighted sum, which fusion makes a dot (and, for relu, relu(dot)).
          const weighted = (x: Value) => Value.sum([x.mul(a), b.mul(0.5), 0.125]);
          const run = (index: Value, constant: number) => {
            const operand = second === "value" ? b : constant;
            return [apply(key, op, a, operand, index), apply(key, op, weighted(a), operand, index)];
          };
          let tested = 0;
          for (const x of FIRST) {
            for (const y of SECOND) {
              a.data = x;
              b.data = y;
              let eager: Value[];
              try {
                eager = run(new Value(1), y);
              } catch {
                continue; // outside the operation's domain, eagerly too
              }
              const compiled = compile((index: Value) => run(index, y), { fuse });
              for (let output = 0; output < eager.length; output++) {
                a.grad = 0;
                b.grad = 0;
                eager[output].backward();
                const expected = [eager[output].data, a.grad, b.grad];
                a.grad = 0;
                b.grad = 0;
                // Twice: the first call traces, the second replays and verifies.
                compiled(1);
                const result = compiled(1)[output];
                result.backward();
                expect([result.data, a.grad, b.grad], `${key} at (${x}, ${y}), output ${output}`).toEqual(
                  expected,
                );
              }
              tested++;
            }
          }
          expect(tested).toBeGreaterThan(0);
        });
      }
    }
  }

  it("a row marked inline has an instruction of its own in the tape, and only such a row", () => {
    for (const [key, op] of ROWS) {
      const instruction = INSTRUCTION_OF_OPERATION[key] !== undefined || key === "sum" || key === "select";
      expect(op.inline, key).toBe(instruction);
    }
  });

  it("the listing names every operation as the engine does, with as many operands as its arity", () => {
    const a = new Value(0.7);
    const b = new Value(1.3);
    for (const [key, op] of ROWS) {
      if (op.arity === "list") continue;
      const [second] = secondOperands(key, op);
      const compiled = compile(() => apply(key, op, a, second === "value" ? b : 2, a), { fuse: false });
      compiled();
      const line = compiled.listing().split("\n")[1];
      const operands = line
        .split(/ = /)[1]
        .split(" ")
        .filter((word) => /^(p\d|-?[\d.]+$)/.test(word));
      expect(operands.length, line).toBe(op.arity);
      if (!["+", "-", "*", "/", "^"].includes(op.symbol)) expect(line, key).toContain(op.name);
    }
  });
});
