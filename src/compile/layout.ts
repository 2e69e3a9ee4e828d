// Layout: a tape's parameter slots renumbered to be the places of an arena's parameters.
//
// Traced, a tape numbers its parameters in the order the graph reaches them; an arena holds
// them in the model's order. Each replay on the arena then reads every weight through a table
// of places and backward() moves every gradient in and out the same way: three passes of
// scattered reads and writes over 100,000 numbers, most of them missing the cache, for each
// document. Laid out on the arena, slot p is the arena's parameter p, and those passes become
// three copies of one block. Every operand is renumbered; nothing else changes.
//
// A dot reads its weights as a run of consecutive slots, so the layout is made only where each
// run stays consecutive in the arena (a model keeps each row's weights together); else the tape
// stays as traced and reads through the table.
import type { ParameterArena } from "../arena.js";
import { DOT, DOT_RELU, listedArgs, ROW, ROWS, type Tape } from "./tape.js";

/**
 * Lays `tape` out on `arena`, given each parameter slot's place in it (`place`); returns
 * whether it did (not if a run of a dot's weights would not stay consecutive).
 */
export function layOutOnArena(tape: Tape, arena: ParameterArena, place: Int32Array): boolean {
  const parameterCount = tape.inputStart;
  const shift = arena.parameters.length - parameterCount;
  const slotOf = (slot: number) => (slot < parameterCount ? place[slot] : slot + shift);
  if (!runsStayConsecutive(tape, slotOf)) return false;
  const { code, a, b, bias, out, argsStart, args, outputSlots } = tape;
  for (let i = 0; i < code.length; i++) {
    out[i] = slotOf(out[i]);
    a[i] = slotOf(a[i]);
    b[i] = slotOf(b[i]);
    if (bias[i] >= 0) bias[i] = slotOf(bias[i]);
    const listed = listedArgs(tape, i);
    for (let k = argsStart[i]; k < argsStart[i] + listed; k++) args[k] = slotOf(args[k]);
  }
  for (let k = 0; k < outputSlots.length; k++) outputSlots[k] = slotOf(outputSlots[k]);
  tape.one = slotOf(tape.one);
  const slotCount = tape.values.length + shift;
  const values = new Float64Array(slotCount);
  values.set(tape.values.subarray(parameterCount), parameterCount + shift);
  tape.values = values;
  tape.grads = new Float64Array(slotCount);
  tape.inputStart += shift;
  tape.constantsStart += shift;
  tape.outputStart += shift;
  tape.parameterSlot = place.slice();
  tape.laidOn = arena;
  tape.arenaIndex = undefined;
  tape.arenaIndexOf = undefined;
  return true;
}

function runsStayConsecutive(tape: Tape, slotOf: (slot: number) => number): boolean {
  const { code, a, b, count } = tape;
  for (let i = 0; i < code.length; i++) {
    if (code[i] !== DOT && code[i] !== DOT_RELU && code[i] !== ROWS && code[i] !== ROW) continue;
    for (const start of [a[i], b[i]]) {
      const first = slotOf(start);
      for (let k = 1; k < count[i]; k++) if (slotOf(start + k) !== first + k) return false;
    }
  }
  return true;
}
