// Slot assignment: where each parameter, input, constant and instruction output lives in
// the tape's buffers.
import type { Value } from "../engine.js";
import { LEAF_PARAMETER, type Selection } from "./select.js";
import { SELECT, SUM } from "./tape.js";

export interface Slots {
  /** The slot of each id (nodes, then constants), or -1 for a node folded into an instruction. */
  slot: Int32Array;
  /** The parameters by slot. */
  parameters: Value[];
  parameterCount: number;
  inputStart: number;
  constantsStart: number;
  outputStart: number;
  slotCount: number;
}

export function assignSlots(order: readonly Value[], selection: Selection, inputCount: number): Slots {
  const {
    nodeCount,
    constants,
    inputOf,
    kind,
    parameterIds,
    instructionNode,
    instructionCode,
    termsStart,
    termCount,
    termFirst,
    termSecond,
  } = selection;
  const count = instructionNode.length;
  // Parameters first, laid out so that each weighted sum reads its weights from
  // consecutive slots; then inputs in argument order; constants; instruction outputs, again
  // laid out so that a layer's activations, read by the next layer's sums, are consecutive.
  const slot = new Int32Array(nodeCount + constants.length).fill(-1);
  const stamp = new Int32Array(nodeCount).fill(-1);
  let parameterCount = 0;
  const firsts = termFirst.data;
  const seconds = termSecond.data;
  // Gives consecutive slots to the terms' factors (`which`: 0 the first, 1 the second) of
  // instruction i if they are distinct, unassigned and of the wanted kind (0: instruction
  // outputs); `products`: of its products only. `stamp` marks the ids met in this run.
  const assignRun = (i: number, which: number, wanted: number, products: boolean, next: () => number) => {
    const start = termsStart.data[i];
    const end = start + termCount.data[i];
    const factors = which === 0 ? firsts : seconds;
    let runLength = 0;
    for (let k = start; k < end; k++) {
      if (products && seconds[k] < 0) continue;
      const id = factors[k];
      if (id >= nodeCount || kind[id] !== wanted || slot[id] >= 0 || stamp[id] === i * 2 + which) return;
      stamp[id] = i * 2 + which;
      runLength++;
    }
    if (runLength < 2) return;
    for (let k = start; k < end; k++) {
      if (products && seconds[k] < 0) continue;
      slot[factors[k]] = next();
    }
  };
  const nextParameter = () => parameterCount++;
  for (let i = 0; i < count; i++) {
    if (instructionCode.data[i] === SELECT) assignRun(i, 0, LEAF_PARAMETER, false, nextParameter);
    if (instructionCode.data[i] !== SUM) continue;
    assignRun(i, 0, LEAF_PARAMETER, true, nextParameter);
    assignRun(i, 1, LEAF_PARAMETER, true, nextParameter);
  }
  for (const id of parameterIds) if (slot[id] < 0) slot[id] = nextParameter();
  const parameters: Value[] = new Array(parameterCount);
  for (const id of parameterIds) parameters[slot[id]] = order[id];
  const inputStart = parameterCount;
  for (let id = 0; id < nodeCount; id++) if (inputOf[id] >= 0) slot[id] = inputStart + inputOf[id];
  const constantsStart = inputStart + inputCount;
  for (let k = 0; k < constants.length; k++) slot[nodeCount + k] = constantsStart + k;
  const outputStart = constantsStart + constants.length;
  let nextOutput = outputStart;
  const nextSlot = () => nextOutput++;
  for (let i = 0; i < count; i++) {
    if (instructionCode.data[i] === SELECT) assignRun(i, 0, 0, false, nextSlot);
    if (instructionCode.data[i] !== SUM) continue;
    assignRun(i, 1, 0, true, nextSlot);
    assignRun(i, 0, 0, false, nextSlot);
  }
  for (let i = 0; i < count; i++) {
    const id = instructionNode.data[i];
    if (slot[id] < 0) slot[id] = nextOutput++;
  }
  const slotCount = nextOutput;

  return { slot, parameters, parameterCount, inputStart, constantsStart, outputStart, slotCount };
}
