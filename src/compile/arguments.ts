// Arguments: the numbers a compiled function is called with, flattened into one buffer,
// and the shape that picks the trace.
import { Value } from "../engine.js";

/** The numbers of the arguments, in order: a growing Float64Array reused from call to call. */
export class NumberBuffer {
  data = new Float64Array(1024);
  length = 0;
  reserve(n: number): void {
    if (this.length + n <= this.data.length) return;
    const bigger = new Float64Array(Math.max(this.data.length * 2, this.length + n));
    bigger.set(this.data.subarray(0, this.length));
    this.data = bigger;
  }
}

/** Thrown by shapeOf at the first bad argument; the message is made by describeBadArgument. */
const BAD_ARGUMENT = new Error("bad argument");

/** Appends every number of `args` to `into` and returns a string that identifies their shape. */
export function flattenArguments(args: readonly unknown[], into: NumberBuffer): string {
  into.length = 0;
  let signature = "";
  try {
    for (let i = 0; i < args.length; i++) signature += `${shapeOf(args[i], into, 0)};`;
  } catch (error) {
    if (error === BAD_ARGUMENT) throw describeBadArgument(args);
    throw error;
  }
  return signature;
}

function isNumberArray(x: unknown): x is ArrayLike<number> {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

// "[n]" for arrays of n numbers, made once: a batch's rows would otherwise each build one.
const ROW_SHAPES: string[] = [];
function rowShape(n: number): string {
  let shape = ROW_SHAPES[n];
  if (shape === undefined) {
    shape = `[${n}]`;
    if (n < 4096) ROW_SHAPES[n] = shape;
  }
  return shape;
}

/** Arrays nested deeper than this are refused (the walks over arguments recurse by depth). */
const MAX_NESTING = 100;

function shapeOf(x: unknown, into: NumberBuffer, depth: number): string {
  if (typeof x === "number") {
    if (!Number.isFinite(x)) throw BAD_ARGUMENT;
    into.reserve(1);
    into.data[into.length++] = x;
    return "n";
  }
  if (isNumberArray(x) || (Array.isArray(x) && (x.length === 0 || typeof x[0] === "number"))) {
    const n = x.length;
    into.reserve(n);
    const data = into.data;
    let at = into.length;
    for (let i = 0; i < n; i++) {
      const xi = x[i];
      if (typeof xi !== "number" || !Number.isFinite(xi)) {
        if (Array.isArray(x) && Array.isArray(xi)) return mixedShape(x, into, depth);
        throw BAD_ARGUMENT;
      }
      data[at++] = xi;
    }
    into.length = at;
    return rowShape(n);
  }
  if (Array.isArray(x)) return mixedShape(x, into, depth);
  throw BAD_ARGUMENT;
}

/** An array of arrays (or of numbers and arrays): "[3x[2]]" when the items are alike. */
function mixedShape(x: readonly unknown[], into: NumberBuffer, depth: number): string {
  if (depth >= MAX_NESTING) throw BAD_ARGUMENT;
  let same = true;
  let first = "";
  const parts: string[] = new Array(x.length);
  for (let i = 0; i < x.length; i++) {
    parts[i] = shapeOf(x[i], into, depth + 1);
    if (i === 0) first = parts[i];
    else if (parts[i] !== first) same = false;
  }
  return same ? `[${x.length}x${first}]` : `[${parts.join(",")}]`;
}

/** The error for the first argument that is not a finite number or an array of them, named by its path. */
function describeBadArgument(args: readonly unknown[]): Error {
  const stack: [unknown, string, number][] = args.map((a, i) => [a, `argument ${i}`, 0]);
  stack.reverse();
  while (stack.length > 0) {
    const [x, where, depth] = stack.pop() as [unknown, string, number];
    if (typeof x === "number") {
      if (!Number.isFinite(x))
        return new RangeError(`compiled function: ${where} is ${x}, expected a finite number`);
      continue;
    }
    if (isNumberArray(x) || Array.isArray(x)) {
      if (depth > MAX_NESTING) {
        return new RangeError(
          `compiled function: ${where.replace(/\[.*$/, "")} is nested more than ${MAX_NESTING} arrays deep`,
        );
      }
      const items = Array.from(x as ArrayLike<unknown>, (xi, i): [unknown, string, number] => [
        xi,
        `${where}[${i}]`,
        depth + 1,
      ]);
      for (let i = items.length - 1; i >= 0; i--) stack.push(items[i]);
      continue;
    }
    if (x instanceof Value) {
      return new TypeError(
        `compiled function: ${where} is a Value; pass plain numbers (the Values fn reaches by itself, such as a model's weights, become its parameters)`,
      );
    }
    return new TypeError(`compiled function: ${where} is ${describeThing(x)}, expected a number or an array`);
  }
  return new TypeError("compiled function: bad arguments");
}

export function describeThing(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return "an array";
  return typeof x === "object" ? "an object" : `${typeof x} ${String(x)}`;
}

/** The arguments with every number replaced by a fresh leaf Value, collected in order in `inputs`. */
export function wrapArguments(x: unknown, inputs: Value[]): unknown {
  if (typeof x === "number") {
    const leaf = new Value(x);
    inputs.push(leaf);
    return leaf;
  }
  if (isNumberArray(x)) return Array.from(x, (xi) => wrapArguments(xi, inputs));
  return (x as unknown[]).map((xi) => wrapArguments(xi, inputs));
}
