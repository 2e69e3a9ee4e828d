// Tracing: run fn once on Values made from the numbers of its arguments.
import { collectingLeaves, isRecording, refusingConversions, Value } from "../engine.js";
import { describeThing, wrapArguments } from "./arguments.js";
import type { Template } from "./tape.js";

const DATA_DEPENDENT =
  "compile: a traced Value was converted to a number or a string (compared with < or >, used as an array index, passed to Math.max, put in a template string) while tracing. A replay would repeat the choice made now for every later input. Use Value.select(candidates, index) to pick by a Value, Value.max or .max() for the largest, .relu()/.abs() instead of a branch on the sign; read .data only outside the compiled function";

/** The traced graph: `fn`'s result on fresh leaves for the numbers of `args`. */
export interface Traced {
  /** The leaves made for the arguments' numbers, in order. */
  inputs: Value[];
  /** The Values of the result, in the order the template numbers them. */
  outputs: Value[];
  template: Template;
  /** The leaves fn made while it ran: constants, or parameters it makes once and keeps (leaves.ts). */
  made: Value[];
}

export function traceFunction(fn: (...args: unknown[]) => unknown, args: readonly unknown[]): Traced {
  if (!isRecording()) {
    throw new Error(
      "compile: the first call for a shape traces fn, which needs a recorded graph; make that call outside noGrad()",
    );
  }
  const inputs: Value[] = [];
  const traced = args.map((arg) => wrapArguments(arg, inputs));
  const made: Value[] = [];
  const result = collectingLeaves(made, () => refusingConversions(DATA_DEPENDENT, () => fn(...traced)));
  if (result instanceof Promise)
    throw new TypeError("compile: fn must be synchronous (it returned a Promise)");
  const outputs: Value[] = [];
  const template = templateOf(result, outputs);
  if (outputs.length === 0)
    throw new TypeError("compile: fn returned no Value (return a Value, or arrays/objects of Values)");
  return { inputs, outputs, template, made };
}

export function templateOf(x: unknown, outputs: Value[]): Template {
  if (x instanceof Value) {
    outputs.push(x);
    return { kind: "output", index: outputs.length - 1 };
  }
  if (Array.isArray(x)) return { kind: "array", items: x.map((item) => templateOf(item, outputs)) };
  if (x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype) {
    const keys = Object.keys(x);
    return {
      kind: "object",
      keys,
      items: keys.map((k) => templateOf((x as Record<string, unknown>)[k], outputs)),
    };
  }
  if (
    x === null ||
    x === undefined ||
    typeof x === "number" ||
    typeof x === "string" ||
    typeof x === "boolean"
  ) {
    return { kind: "plain", value: x };
  }
  throw new TypeError(
    `compile: fn returned ${describeThing(x)}; return Values, numbers, arrays or plain objects of them`,
  );
}
