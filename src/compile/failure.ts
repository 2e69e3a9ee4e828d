// A replay that gave no finite number: its error, named as eager names the same failure.
//
// The first call of a shape traces fn, which runs it eagerly; the later calls replay. Across
// worker threads, which of the two meets a part of a batch first depends on the worker, so one
// cause must have one message: the words eager uses, the operation that failed with its numbers
// ("mul(1e+200, 1e+200): result overflows"), a product or an add inside a fused sum named as the
// step it is eagerly; and the failure eager meets first. Eager makes the nodes in the order fn's
// code runs (the first sample of a batch before the second), while the tape runs them in the
// order of backward's walk (which takes a sum's last term first). So every number of the replay
// is computed, past the first failure, each failure on finite operands is found, and the one
// named is the first that fn's code would make: every operand before what uses it, the operands
// in order (a before b, a sum's terms in order), as code written left to right makes them.
// Where the replay met it, and a parameter that was not a finite number, are the error's cause.
import { failureMessage, OPERATIONS } from "../engine.js";
import {
  BIAS_FIRST,
  DOT,
  DOT_RELU,
  isRelu,
  OP_BY_INDEX,
  ROW,
  ROWS,
  SELECT,
  SUM,
  SUMPROD,
  type Tape,
} from "./tape.js";

/** The error of a replay whose instruction `failed` (the first in the tape's order) gave no finite number. */
export function forwardError(tape: Tape, failed: number): RangeError {
  const failures = failingSteps(tape);
  const i = failures.length > 1 ? firstMade(tape, failures) : failed;
  const v = tape.values;
  let where = `compiled replay, instruction t${i}`;
  // The parameter slots hold what the replay read: the Values' data, or an arena's.
  const slot = tape.parameterSlot;
  const bad = tape.parameters.findIndex((_, k) => !Number.isFinite(v[slot[k]]));
  if (bad >= 0) {
    const label = tape.parameters[bad].label;
    where += `; parameter ${bad}${label ? ` "${label}"` : ""} is ${v[slot[bad]]}`;
  }
  return new RangeError(eagerMessage(tape, i), { cause: where });
}

function isSum(code: number): boolean {
  return (
    code === SUM || code === SUMPROD || code === DOT || code === DOT_RELU || code === ROWS || code === ROW
  );
}

/**
 * Runs every instruction, one at a time and past failures, with the numbers the replay's loops
 * give (the operations' own rules, a sum's terms in its order); returns, in tape order, those
 * that gave no finite number from operands that instructions gave finite ones (a parameter
 * set to NaN by hand is named where it is first used, as eager names it).
 */
function failingSteps(tape: Tape): number[] {
  const { code, out, values: v } = tape;
  const computed = new Uint8Array(v.length);
  for (let i = 0; i < code.length; i++) computed[out[i]] = 1;
  const failures: number[] = [];
  for (let i = 0; i < code.length; i++) {
    const fromFinite = operandsOf(tape, i).every((s) => computed[s] === 0 || Number.isFinite(v[s]));
    const result = evaluate(tape, i);
    v[out[i]] = result;
    if (fromFinite && !Number.isFinite(result)) failures.push(i);
  }
  return failures;
}

function evaluate(tape: Tape, i: number): number {
  const { a, b, count, argsStart, args, values: v } = tape;
  const code = tape.code[i];
  if (code === SELECT) {
    const index = v[a[i]];
    return Number.isInteger(index) && index >= 0 && index < count[i]
      ? v[args[argsStart[i] + index]]
      : Number.NaN;
  }
  if (!isSum(code)) return OP_BY_INDEX[tape.opIndex[i]].forward(v[a[i]], v[b[i]]);
  const terms = termsOf(tape, i);
  let s = 0;
  for (let k = 0; k < terms.length; k += 2)
    s += terms[k + 1] < 0 ? v[terms[k]] : v[terms[k]] * v[terms[k + 1]];
  // The sum is kept as it is when out of range: relu(−∞) would hide it.
  return isRelu(tape, i) && s - s === 0 ? Math.max(s, 0) : s;
}

/** The slots instruction i reads, in the order fn's code would have made them. */
function operandsOf(tape: Tape, i: number): number[] {
  const code = tape.code[i];
  if (isSum(code)) return termsOf(tape, i).filter((slot) => slot >= 0);
  if (code === SELECT) {
    const start = tape.argsStart[i];
    return [...tape.args.subarray(start, start + tape.count[i]), tape.a[i]];
  }
  return [tape.a[i], tape.b[i]];
}

/**
 * Of the `failures`, the first that fn's code would make: the first met in a walk from the
 * outputs that emits each instruction after its operands, taken in order. Iterative: a graph
 * can be deep.
 */
function firstMade(tape: Tape, failures: readonly number[]): number {
  const { code, out, outputSlots } = tape;
  const producer = new Int32Array(tape.values.length).fill(-1);
  for (let i = 0; i < code.length; i++) producer[out[i]] = i;
  const failing = new Uint8Array(code.length);
  for (const i of failures) failing[i] = 1;
  const seen = new Uint8Array(code.length);
  const stack: { i: number; operands: number[]; next: number }[] = [];
  const enter = (slot: number) => {
    const i = producer[slot];
    if (i < 0 || seen[i]) return;
    seen[i] = 1;
    stack.push({ i, operands: operandsOf(tape, i), next: 0 });
  };
  for (const root of outputSlots) {
    enter(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.next < top.operands.length) {
        enter(top.operands[top.next++]);
        continue;
      }
      stack.pop();
      if (failing[top.i]) return top.i;
    }
  }
  return failures[0];
}

function eagerMessage(tape: Tape, i: number): string {
  const v = tape.values;
  const code = tape.code[i];
  if (code === SELECT) {
    return `Value.select: index ${v[tape.a[i]]} is not an integer in 0..${tape.count[i] - 1}`;
  }
  if (isSum(code)) return sumMessage(tape, i);
  return failureMessage(OP_BY_INDEX[tape.opIndex[i]], v[tape.a[i]], v[tape.b[i]]);
}

/**
 * A sum that fused products and adds: the first of its steps that eager would have found
 * failing. A product is made before it is added (w·x + … written as micrograd's neurons are);
 * a chain of adds fails at its first add out of range, with the partial sum; Value.sum checks
 * its total once, after all of its terms were made.
 */
function sumMessage(tape: Tape, i: number): string {
  const v = tape.values;
  const chain = tape.opIndex[i] !== OPERATIONS.sum.index;
  const terms = termsOf(tape, i);
  let total = 0;
  for (let k = 0; k < terms.length; k += 2) {
    const x = terms[k];
    const y = terms[k + 1];
    const term = y < 0 ? v[x] : v[x] * v[y];
    if (!Number.isFinite(term)) return failureMessage(OPERATIONS.mul, v[x], v[y]);
    if (chain && k > 0 && !Number.isFinite(total + term)) return failureMessage(OPERATIONS.add, total, term);
    total = k === 0 ? term : total + term;
  }
  return chain ? "add: result overflows" : "Value.sum: result overflows";
}

/** The terms of sum instruction i in order, as pairs of slots: a product's two factors, or a plain term and -1. */
function termsOf(tape: Tape, i: number): number[] {
  const { a, b, count, bias, argsStart, args, flags } = tape;
  const terms: number[] = [];
  const start = argsStart[i];
  switch (tape.code[i]) {
    case SUM:
      for (let k = start; k < start + count[i]; k++) terms.push(args[k], -1);
      break;
    case SUMPROD:
      for (let k = start; k < start + 2 * count[i]; k += 2) {
        terms.push(args[k], args[k + 1] === tape.one ? -1 : args[k + 1]);
      }
      break;
    default: {
      // A dot (or a row of a group): its products, and its plain term first or last.
      const biasFirst = (flags[i] & BIAS_FIRST) !== 0;
      if (bias[i] >= 0 && biasFirst) terms.push(bias[i], -1);
      for (let k = 0; k < count[i]; k++) terms.push(a[i] + k, b[i] + k);
      if (bias[i] >= 0 && !biasFirst) terms.push(bias[i], -1);
    }
  }
  return terms;
}
