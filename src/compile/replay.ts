// Replay: the forward and the reverse loop over a tape, and the errors they report.
import { allFinite } from "../arena.js";
import { NOT_FINITE_HINT, OPERATIONS } from "../engine.js";
import { backwardRows, forwardRows } from "./replay-rows.js";
import {
  ADD,
  BIAS_FIRST,
  BOTH_SIDES,
  CALL,
  DIV,
  DOT,
  DOT_RELU,
  EXP,
  isRelu,
  LEAKY,
  LOG,
  MAX,
  MUL,
  NEG,
  OP_BY_INDEX,
  POWK,
  RELU,
  ROW,
  ROWS,
  SECOND_IS_VALUE,
  SELECT,
  SUB,
  SUM,
  SUMPROD,
  TANH,
  type Tape,
} from "./tape.js";

// The cases of the two loops below are the codes' numbers, not their names: V8 makes a switch
// over integer literals a jump table, but one over imported constants a chain of comparisons
// in the order written, which cost the moons demo's step about 8%. This keeps the numbers
// those of tape.ts.
const NUMBERED_CODES = [
  ADD,
  SUB,
  MUL,
  DIV,
  POWK,
  NEG,
  EXP,
  LOG,
  TANH,
  RELU,
  LEAKY,
  MAX,
  CALL,
  SUM,
  SUMPROD,
  DOT,
  SELECT,
  DOT_RELU,
  ROWS,
  ROW,
];
if (NUMBERED_CODES.some((code, number) => code !== number)) {
  throw new Error(
    "compile/replay.ts: the instruction codes of tape.ts changed; renumber the cases of its loops",
  );
}

/** One pass over the tape; returns -1, or the index of the first instruction without a finite result. */
export function runForward(tape: Tape): number {
  const { code, out, a: first, b: second, count, bias, argsStart, flags, opIndex, args, values: v } = tape;
  const operations = OP_BY_INDEX;
  // Each case writes its own result: one shared accumulator, assigned from the CALL's
  // untyped return too, made V8 box the sums of the dot loop (twice as slow).
  for (let i = 0; i < code.length; i++) {
    const a = first[i];
    const b = second[i];
    const o = out[i];
    switch (code[i]) {
      case 18: {
        // ROWS
        const failed = forwardRows(tape, i);
        if (failed >= 0) return failed;
        continue;
      }
      // A later row of a group ran with its first row.
      case 19: // ROW
        continue;
      case 15: // DOT
      case 17: {
        // DOT_RELU
        // Σ v[a+k]·v[b+k] for k < count, the plain term first or last. Unrolled, in order:
        // the sum must round exactly as the eager sum of products does.
        const end = a + count[i];
        const plain = bias[i];
        const biasFirst = (flags[i] & BIAS_FIRST) !== 0;
        let x = a;
        let y = b;
        let s = 0;
        if (biasFirst) s += v[plain];
        for (; x + 3 < end; x += 4, y += 4) {
          s += v[x] * v[y];
          s += v[x + 1] * v[y + 1];
          s += v[x + 2] * v[y + 2];
          s += v[x + 3] * v[y + 3];
        }
        for (; x < end; x++, y++) s += v[x] * v[y];
        if (plain >= 0 && !biasFirst) s += v[plain];
        // The sum is checked before the relu: relu(−∞) would hide an overflow that eager reports.
        if (code[i] === DOT_RELU && s - s === 0) v[o] = Math.max(s, 0);
        else v[o] = s;
        break;
      }
      case 9: // RELU
        v[o] = Math.max(v[a], 0);
        break;
      case 0: // ADD
        v[o] = v[a] + v[b];
        break;
      case 1: // SUB
        v[o] = v[a] - v[b];
        break;
      case 2: // MUL
        v[o] = v[a] * v[b];
        break;
      case 3: // DIV
        v[o] = v[a] / v[b];
        break;
      case 4: // POWK
        v[o] = v[a] ** v[b];
        break;
      case 5: // NEG
        v[o] = -v[a];
        break;
      case 6: // EXP
        v[o] = Math.exp(v[a]);
        break;
      case 7: // LOG
        v[o] = Math.log(v[a]);
        break;
      case 8: // TANH
        v[o] = Math.tanh(v[a]);
        break;
      case 10: {
        // LEAKY
        const x = v[a];
        v[o] = x > 0 ? x : v[b] * x;
        break;
      }
      case 11: // MAX
        v[o] = Math.max(v[a], v[b]);
        break;
      case 12: // CALL
        v[o] = operations[opIndex[i]].forward(v[a], v[b]);
        break;
      case 13: {
        // SUM
        const end = argsStart[i] + count[i];
        let s = 0;
        for (let k = argsStart[i]; k < end; k++) s += v[args[k]];
        v[o] = s;
        break;
      }
      case 14: {
        // SUMPROD
        const end = argsStart[i] + 2 * count[i];
        let s = 0;
        for (let k = argsStart[i]; k < end; k += 2) s += v[args[k]] * v[args[k + 1]];
        v[o] = s;
        break;
      }
      case 16: {
        // SELECT
        const index = v[a];
        if (!(Number.isInteger(index) && index >= 0 && index < count[i])) return i;
        v[o] = v[args[argsStart[i] + index]];
        break;
      }
    }
    const r = v[o];
    if (r - r !== 0) return i;
  }
  return -1;
}

/** The engine's name for the operation of instruction i. */
export function nameOf(tape: Tape, i: number): string {
  return isRelu(tape, i) ? OPERATIONS.relu.name : OP_BY_INDEX[tape.opIndex[i]].name;
}

/**
 * The reverse loop: from the output's instruction back, each instruction's gradient times
 * its local derivatives into its operands' gradients; then into the parameters' `.grad`,
 * only if every one is finite.
 */
export function runBackward(tape: Tape, output: number): void {
  const { code, out, a: first, b: second, count, bias, argsStart, flags, opIndex, args } = tape;
  const { values: v, grads: g, parameters, parameterSlot: slot, backwardOrder } = tape;
  const operations = OP_BY_INDEX;
  const arena = tape.arena;
  const arenaIndex = tape.arenaIndex;
  if (arena && tape.laidOn === arena) {
    g.set(arena.grad);
    g.fill(0, arena.grad.length);
  } else if (arena && arenaIndex) {
    g.fill(0);
    const grad = arena.grad;
    for (let p = 0; p < parameters.length; p++) {
      // A leaf fn made, not in the arena, has its gradient in its Value (leaves.ts).
      const place = arenaIndex[p];
      g[slot[p]] = place >= 0 ? grad[place] : parameters[p].grad;
    }
  } else {
    g.fill(0);
    for (let p = 0; p < parameters.length; p++) g[slot[p]] = parameters[p].grad;
  }
  g[tape.outputSlots[output]] += 1;
  for (let j = tape.outputReach[output] - 1; j >= 0; j--) {
    const i = backwardOrder[j];
    const instruction = code[i];
    // A group runs when the loop is back at its first row, after everything between its rows
    // (ROWS and ROW are the last codes: one comparison for the others).
    if (instruction >= ROWS) {
      if (instruction === ROW) continue;
      const failed = backwardRows(tape, i);
      if (failed >= 0) throw backwardError(tape, failed, g[out[failed]]);
      continue;
    }
    const d = g[out[i]];
    if (d === 0) continue;
    if (d - d !== 0) throw backwardError(tape, i, d);
    const a = first[i];
    const b = second[i];
    switch (instruction) {
      case 0: // ADD
        g[a] += d;
        g[b] += d;
        break;
      case 1: // SUB
        g[a] += d;
        g[b] += d * -1;
        break;
      case 2: // MUL
        g[a] += d * v[b];
        g[b] += d * v[a];
        break;
      case 3: // DIV
        g[a] += d * (1 / v[b]);
        g[b] += d * (-v[out[i]] / v[b]);
        break;
      case 4: {
        // POWK
        const k = v[b];
        g[a] += d * (k === 0 ? 0 : k * v[a] ** (k - 1));
        break;
      }
      case 5: // NEG
        g[a] += d * -1;
        break;
      case 6: // EXP
        g[a] += d * v[out[i]];
        break;
      case 7: // LOG
        g[a] += d * (1 / v[a]);
        break;
      case 8: {
        // TANH
        const y = v[out[i]];
        g[a] += d * (1 - y * y);
        break;
      }
      case 9: // RELU
        if (v[a] > 0) g[a] += d;
        break;
      case 10: // LEAKY
        g[a] += d * (v[a] > 0 ? 1 : v[b]);
        break;
      case 11: // MAX
        if (v[a] >= v[b]) g[a] += d;
        else g[b] += d;
        break;
      case 12: {
        // CALL
        const op = operations[opIndex[i]];
        g[a] += d * op.da(v[a], v[b], v[out[i]]);
        if ((flags[i] & SECOND_IS_VALUE) !== 0) g[b] += d * op.db(v[a], v[b], v[out[i]]);
        break;
      }
      case 13: {
        // SUM
        const end = argsStart[i] + count[i];
        for (let k = argsStart[i]; k < end; k++) g[args[k]] += d;
        break;
      }
      case 14: {
        // SUMPROD
        // As eager: the sum hands its gradient to every term first, the products pass it on after.
        const end = argsStart[i] + 2 * count[i];
        const one = tape.one;
        for (let k = argsStart[i]; k < end; k += 2) if (args[k + 1] === one) g[args[k]] += d;
        for (let k = argsStart[i]; k < end; k += 2) {
          const y = args[k + 1];
          if (y === one) continue;
          const x = args[k];
          g[x] += d * v[y];
          g[y] += d * v[x];
        }
        break;
      }
      case 17: // DOT_RELU
      case 15: {
        // DOT
        // A relu passes the gradient where its input, the sum, was positive: where its output is.
        if (code[i] === DOT_RELU && !(v[out[i]] > 0)) break;
        const plain = bias[i];
        if (plain >= 0) g[plain] += d;
        const n = count[i];
        if ((flags[i] & BOTH_SIDES) !== 0) {
          for (let k = 0; k < n; k++) {
            g[a + k] += d * v[b + k];
            g[b + k] += d * v[a + k];
          }
        } else {
          for (let k = 0; k < n; k++) g[a + k] += d * v[b + k];
        }
        break;
      }
      case 16: // SELECT
        g[args[argsStart[i] + v[a]]] += d;
        break;
    }
  }
  storeParameterGradients(tape);
}

/** The parameters' gradients into their `.grad`, unless one is not finite (then none changes). */
function storeParameterGradients(tape: Tape): void {
  const { values: v, grads: g, parameters, parameterSlot: slot, arena, arenaIndex } = tape;
  const laidOut = arena !== undefined && tape.laidOn === arena;
  // Laid out, the gradients are one block, and one pass without a branch over it usually
  // settles the check (a wide model's are many: a branch per parameter cost a few percent of
  // a step); the parameters are looked at one by one only when it fails.
  if (!(laidOut && allFinite(g, arena.grad.length))) {
    // The parameters the function reaches: an arena's others keep what they had.
    for (let p = 0; p < parameters.length; p++) {
      if (!Number.isFinite(g[slot[p]])) {
        throw new RangeError(
          `backward(): the gradient of parameter ${p}${parameters[p].label ? ` "${parameters[p].label}"` : ""} (data ${v[slot[p]]}) is not finite ${NOT_FINITE_HINT}; gradients are unchanged`,
        );
      }
    }
  }
  if (laidOut) {
    arena.grad.set(g.subarray(0, arena.grad.length));
  } else if (arena && arenaIndex) {
    const grad = arena.grad;
    for (let p = 0; p < parameters.length; p++) {
      const place = arenaIndex[p];
      if (place >= 0) grad[place] = g[slot[p]];
      else parameters[p].grad = g[slot[p]];
    }
  } else {
    for (let p = 0; p < parameters.length; p++) parameters[p].grad = g[slot[p]];
  }
}

function backwardError(tape: Tape, i: number, d: number): RangeError {
  return new RangeError(
    `backward(): the gradient reaching the ${nameOf(tape, i)} node (instruction t${i} of the compiled trace) overflows (${d}); gradients are unchanged`,
  );
}
