// Leaves that fn makes: constants of the tape, once verification has seen them.
//
// A leaf made inside fn (`new Value(2)`, the ±1 a loss picks from by the class) is a new object
// at every trace, with the same number: a constant. But the first trace cannot know that: fn
// may equally make a parameter at its first call and keep it (a model created lazily), whose
// gradient eager would add into its .grad. So until verification (check.ts) compares a second
// trace, such a leaf is what eager makes it: its .data read, its gradient added into its .grad,
// and an arena need not hold it. Verification then finds each one new again with the same
// number (a constant) or the same object (a parameter), and the constants move out of the
// parameters: a replay reads them from no Value and gives them no gradient, as eager gives its
// fresh leaf one that nobody can see, and a tape bound to an arena of the model's parameters
// reads every parameter from it. The numbers are the same either way, bit for bit.
//
// With { verify: false } nothing tells the two apart, and the leaves stay as eager has them.
import type { Value } from "../engine.js";
import { renumberSlots, runsStayConsecutive, type Tape } from "./tape.js";

/** Per parameter, 1 for a leaf of `made` (the leaves fn made while traced); undefined if none is. */
export function markMadeInside(parameters: readonly Value[], made: readonly Value[]): Uint8Array | undefined {
  if (made.length === 0) return undefined;
  const madeNow = new Set(made);
  const marks = Uint8Array.from(parameters, (p) => (madeNow.has(p) ? 1 : 0));
  return marks.includes(1) ? marks : undefined;
}

/**
 * Makes the parameters `constants` (their indices, ascending) constants of `tape`, holding the
 * numbers they hold now: their slots move after the other constants, the parameters and inputs
 * after them move down, and the latest replay's numbers move along, for its backward(). Where
 * that would break a dot's run of consecutive slots they stay parameters, marked in
 * madeInside; every other parameter is unmarked.
 */
export function holdAsConstants(tape: Tape, constants: readonly number[]): void {
  const parameterCount = tape.inputStart;
  const moving = constants.length;
  const isConstant = new Uint8Array(parameterCount);
  for (const p of constants) isConstant[p] = 1;
  // A traced tape's parameter p is slot p: verification comes before any layout.
  const newSlot = new Int32Array(parameterCount);
  const firstMoved = tape.outputStart - moving;
  let kept = 0;
  let moved = 0;
  for (let p = 0; p < parameterCount; p++) newSlot[p] = isConstant[p] ? firstMoved + moved++ : kept++;
  const { outputStart } = tape;
  const slotOf = (slot: number) =>
    slot < parameterCount ? newSlot[slot] : slot < outputStart ? slot - moving : slot;
  // Which parameters an arena must hold has changed.
  tape.arenaIndex = undefined;
  tape.arenaIndexOf = undefined;
  if (moving === 0 || !runsStayConsecutive(tape, slotOf)) {
    tape.madeInside = moving === 0 ? undefined : isConstant;
    return;
  }
  renumberSlots(tape, slotOf);
  // Every number moves with its slot: backward() of the replay just made reads them.
  const { values, parameters } = tape;
  const before = values.slice();
  for (let slot = 0; slot < before.length; slot++) values[slotOf(slot)] = before[slot];
  for (const p of constants) values[newSlot[p]] = parameters[p].data;
  tape.parameters = parameters.filter((_, p) => isConstant[p] === 0);
  tape.parameterSlot = Int32Array.from(tape.parameters, (_, p) => p);
  tape.madeInside = undefined;
  tape.inputStart -= moving;
  tape.constantsStart -= moving;
}
