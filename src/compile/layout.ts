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
import { renumberSlots, runsStayConsecutive, type Tape } from "./tape.js";

/**
 * Lays `tape` out on `arena`, given each parameter slot's place in it (`place`); returns
 * whether it did (not if a run of a dot's weights would not stay consecutive).
 */
export function layOutOnArena(tape: Tape, arena: ParameterArena, place: Int32Array): boolean {
  const parameterCount = tape.inputStart;
  const shift = arena.parameters.length - parameterCount;
  const slotOf = (slot: number) => (slot < parameterCount ? place[slot] : slot + shift);
  if (!runsStayConsecutive(tape, slotOf)) return false;
  renumberSlots(tape, slotOf);
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
