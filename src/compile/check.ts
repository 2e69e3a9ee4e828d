// Checks that a trace may be replayed: the constant check (while tracing), verification
// (a second trace of a shape equals the first) and check mode (every call also run eagerly).
import type { Operand, Value } from "../engine.js";
import { wrapArguments } from "./arguments.js";
import { listing, plural } from "./listing.js";
import { runBackward } from "./replay.js";
import { OP_BY_INDEX, OP_INDEX, type Tape, type Template } from "./tape.js";
import { templateOf } from "./trace.js";

/**
 * Whether a constant carries more digits than a literal written by hand would (1/3, a number
 * read from `.data`): 0.5, 0.01, 1e-4 and integers never do, so a learning rate, a slope or a
 * label cannot be mistaken for a number fed back from the graph.
 */
function hasFullPrecision(c: number): boolean {
  return !Number.isInteger(c) && Number(c.toPrecision(8)) !== c;
}

/**
 * A full-precision constant equal to the value of a node or input of the same trace was most
 * likely read from `.data` and fed back (softmax's shift by a max taken from `.data`, say): a
 * replay would keep today's number.
 */
export function checkConstants(
  order: readonly Value[],
  opOf: Int32Array,
  constants: number[],
  inputOf: Int32Array,
): void {
  const suspects = constants.filter(hasFullPrecision);
  if (suspects.length === 0) return;
  const wanted = new Set(suspects);
  // A node that has the constant as an operand is not its source.
  const usesConstant = (node: Value, c: number) => {
    const b = node.b;
    if (typeof b === "number") return b === c;
    if (Array.isArray(b)) return (b as readonly Operand[]).includes(c);
    return false;
  };
  // Usually there is at most one such constant (1/n): compared directly, no hashing.
  const only = suspects.length === 1 ? suspects[0] : Number.NaN;
  for (let id = 0; id < order.length; id++) {
    const node = order[id];
    const x = node.data;
    if (x !== only && (suspects.length === 1 || !wanted.has(x))) continue;
    if (usesConstant(node, x)) continue;
    const label = node.label ? ` "${node.label}"` : "";
    const kind =
      inputOf[id] >= 0
        ? `input (x${inputOf[id]})`
        : opOf[id] === OP_INDEX.leaf
          ? `parameter${label}`
          : `${OP_BY_INDEX[opOf[id]].name} node${label}`;
    throw new TypeError(
      `compile: the constant ${node.data} equals the value of ${/^input/.test(kind) ? "an" : "a"} ${kind} of the same trace; it was probably read from .data and fed back in, which a replay would not update (use the Value itself, e.g. Value.max(row) instead of Math.max of .data). If the constant is meant, pass { constantCheck: false }`,
    );
  }
}

// ---------------------------------------------------------------------------------------
// Verification: a second trace of the same shape must be the first one again.

const VERIFY_ADVICE =
  "Read no .data inside fn: use Value.select(candidates, index) to pick by a Value, Value.max or .max() for the largest, .relu() or .abs() instead of a branch on a sign; compile(fn, { check: true }) compares every replay with an eager run; { verify: false } skips this check";

/** Where a replay would keep numbers or Values that fn read from outside, and what to do instead. */
const CAPTURED_ADVICE =
  "A compiled function keeps the Values and numbers that fn reads from outside (a model, a learning rate, a lambda) as they were when it traced each shape: after reassigning one, call compiled.clear() or compile again; pass numbers that change as arguments";

/**
 * Throws if a new trace reaches none of the parameters that the trace of another shape holds,
 * and their numbers differ: the model that fn reads was replaced (a variable reassigned), and
 * replays of the other shape would keep updating the old one. (Leaves that fn makes itself
 * are new at every trace too, but hold the same numbers.)
 */
export function checkSameParameters(older: Tape, newer: Tape): void {
  if (older.parameters.length === 0 || newer.parameters.length === 0) return;
  const reached = new Set(newer.parameters);
  if (older.parameters.some((p) => reached.has(p))) return;
  const numbers = new Set(newer.parameters.map((p) => p.data));
  if (older.parameters.every((p) => numbers.has(p.data))) return;
  throw new Error(
    `compile: fn now reaches none of the ${plural(older.parameters.length, "parameter")} it reached when it traced an earlier shape (it reaches ${plural(newer.parameters.length, "other")}): a variable fn reads was reassigned (a new model?), and replays of the earlier shape would keep using the old Values. ${CAPTURED_ADVICE}`,
  );
}

/**
 * Throws if `second`, traced at the second call of a shape, is not `first` with new numbers.
 * Returns the parameters of `first` that are leaves fn made at both traces with the same
 * number: constants (leaves.ts).
 */
export function verifyTrace(first: Tape, second: Tape): number[] {
  if (!sameInstructions(first, second)) {
    const before = listing(first).split("\n");
    const after = listing(second).split("\n");
    // The first instruction that differs (line 0, the counts, only if none does).
    let k = 1;
    while (k < before.length && before[k] === after[k]) k++;
    if (k === before.length) k = 0;
    throw new Error(
      `compile: fn's graph depends on the values of its inputs: traced again at the second call of this shape, it differs from the first trace (first: "${clip(before[k])}", now: "${clip(after[k] ?? "")}"), and a replay would repeat the first call's graph. ${VERIFY_ADVICE}. If instead fn reads a variable that changed between the calls: ${CAPTURED_ADVICE}`,
    );
  }
  // A leaf fn made at both traces is a new object each time, a constant if its number stays;
  // the others are Values fn reaches, which must be the same ones.
  const madeTwice = (p: number) => first.madeInside?.[p] === 1 && second.madeInside?.[p] === 1;
  const reached = new Set(second.parameters);
  const reaches = first.parameters.filter((_, p) => !madeTwice(p));
  if (reaches.length >= 2 && !reaches.some((p) => reached.has(p))) {
    throw new Error(
      `compile: fn reached none of the ${plural(reaches.length, "parameter")} of its first call at the second: a variable fn reads was reassigned between the calls (a new model?), and a replay would keep using the old Values. ${CAPTURED_ADVICE}`,
    );
  }
  const constants: number[] = [];
  for (let p = 0; p < first.parameters.length; p++) {
    const was = first.parameters[p];
    const now = second.parameters[p];
    if (was === now) continue;
    if (Object.is(was.data, now.data)) {
      if (madeTwice(p)) constants.push(p);
      continue;
    }
    throw new Error(
      `compile: parameter p${p} is a leaf created inside fn (its number was ${was.data} at the first call, ${now.data} at the second): it was computed from numbers outside the graph (noGrad inside fn, grad() without { createGraph: true }, new Value(x.data)), and a replay would keep the first call's number. Compute it with recorded operations (grad() with { createGraph: true }), or pass it as an argument. ${VERIFY_ADVICE}`,
    );
  }
  const plain = differingPlainPart(first.template, second.template);
  if (plain !== undefined) {
    throw new Error(
      `compile: fn returned plain numbers/booleans that depend on the inputs (result${plain}); a replay returns the first call's. Return Values: their .data follows every call`,
    );
  }
  return constants;
}

function sameInstructions(first: Tape, second: Tape): boolean {
  const same = (x: ArrayLike<number>, y: ArrayLike<number>) => {
    if (x.length !== y.length) return false;
    for (let k = 0; k < x.length; k++) if (!Object.is(x[k], y[k])) return false;
    return true;
  };
  const constants = (t: Tape) => t.values.subarray(t.constantsStart, t.outputStart);
  return (
    first.nodeCount === second.nodeCount &&
    first.inputStart === second.inputStart &&
    first.constantsStart === second.constantsStart &&
    first.outputStart === second.outputStart &&
    same(first.code, second.code) &&
    same(first.out, second.out) &&
    same(first.a, second.a) &&
    same(first.b, second.b) &&
    same(first.count, second.count) &&
    same(first.bias, second.bias) &&
    same(first.argsStart, second.argsStart) &&
    same(first.flags, second.flags) &&
    same(first.args, second.args) &&
    same(first.opIndex, second.opIndex) &&
    same(first.outputSlots, second.outputSlots) &&
    same(constants(first), constants(second))
  );
}

function clip(line: string): string {
  const text = line.trim();
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** The path (".loss", "[1]") of the first part of two results that differs, other than a Value's number. */
function differingPlainPart(first: Template, second: Template): string | undefined {
  const stack: [Template, Template, string][] = [[first, second, ""]];
  while (stack.length > 0) {
    const [x, y, path] = stack.pop() as [Template, Template, string];
    if (x.kind !== y.kind)
      return `${path}: ${describeTemplate(x)} at the first call, ${describeTemplate(y)} at the second`;
    if (x.kind === "output" && y.kind === "output") {
      if (x.index !== y.index) return `${path}: a different Value`;
    } else if (x.kind === "plain" && y.kind === "plain") {
      if (!Object.is(x.value, y.value))
        return `${path}: ${String(x.value)} at the first call, ${String(y.value)} at the second`;
    } else if (x.kind === "array" && y.kind === "array") {
      if (x.items.length !== y.items.length)
        return `${path}: ${x.items.length} items at the first call, ${y.items.length} at the second`;
      for (let k = x.items.length - 1; k >= 0; k--) stack.push([x.items[k], y.items[k], `${path}[${k}]`]);
    } else if (x.kind === "object" && y.kind === "object") {
      if (x.keys.join("\u0000") !== y.keys.join("\u0000"))
        return `${path}: keys ${x.keys.join(", ")} at the first call, ${y.keys.join(", ")} at the second`;
      for (let k = x.items.length - 1; k >= 0; k--)
        stack.push([x.items[k], y.items[k], `${path}.${x.keys[k]}`]);
    }
  }
  return undefined;
}

function describeTemplate(t: Template): string {
  return t.kind === "output" ? "a Value" : t.kind === "plain" ? String(t.value) : `an ${t.kind}`;
}

// ---------------------------------------------------------------------------------------
// Check mode: the same call, eagerly.

/** Check mode's backward(): eager backward on the eager run's graph, then the replay's, compared parameter by parameter. */
export function backwardChecked(tape: Tape, output: number, eagerOutput: Value): void {
  const parameters = tape.parameters;
  const before = parameters.map((p) => p.grad);
  eagerOutput.backward();
  const expected = parameters.map((p) => p.grad);
  parameters.forEach((p, k) => {
    p.grad = before[k];
  });
  runBackward(tape, output);
  for (let k = 0; k < parameters.length; k++) {
    const got = parameters[k].grad;
    const scale = Math.max(1, Math.abs(got), Math.abs(expected[k]));
    if (Math.abs(got - expected[k]) > 1e-12 * scale) {
      throw new Error(
        `compile check: the gradient of parameter ${k} is ${expected[k]} eagerly but ${got} replayed: fn's graph depends on its inputs' values`,
      );
    }
  }
}

export function compareWithEager(
  fn: (...args: unknown[]) => unknown,
  args: readonly unknown[],
  tape: Tape,
): void {
  const inputs: Value[] = [];
  const traced = args.map((arg) => wrapArguments(arg, inputs));
  const result = fn(...traced);
  const outputs: Value[] = [];
  templateOf(result, outputs);
  if (outputs.length !== tape.outputSlots.length) {
    throw new Error(
      `compile check: fn returned ${outputs.length} Values when run eagerly but ${tape.outputSlots.length} when traced: its graph depends on its inputs' values`,
    );
  }
  tape.eagerOutputs = outputs;
  for (let k = 0; k < outputs.length; k++) {
    const eager = outputs[k].data;
    const replayed = tape.values[tape.outputSlots[k]];
    const scale = Math.max(Math.abs(eager), Math.abs(replayed), 1e-300);
    if (eager !== replayed && Math.abs(eager - replayed) / scale > 1e-12) {
      throw new Error(
        `compile check: output ${k} is ${eager} when run eagerly but ${replayed} replayed: fn's graph depends on its inputs' values (a branch on .data, an index or a max taken from .data); use Value.select / Value.max, or do not compile fn`,
      );
    }
  }
}
