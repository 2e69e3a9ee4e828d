// The tape: the instruction codes a replay runs, and the record of a traced function.
import type { ParameterArena } from "../arena.js";
import { OPERATIONS, type Op, type Value } from "../engine.js";

/** The engine's index of each operation that the passes name. */
export const OP_INDEX = {
  leaf: OPERATIONS.leaf.index,
  add: OPERATIONS.add.index,
  mul: OPERATIONS.mul.index,
  sum: OPERATIONS.sum.index,
  select: OPERATIONS.select.index,
};

/** Operations by index. */
export const OP_BY_INDEX: Op[] = [];
for (const op of Object.values(OPERATIONS) as Op[]) OP_BY_INDEX[op.index] = op;

// Instruction codes. The first twelve are operations of the engine's table that a replay
// computes inline; CALL runs any other through the table's forward/da/db functions.
export const ADD = 0;
export const SUB = 1;
export const MUL = 2;
export const DIV = 3;
export const POWK = 4;
export const NEG = 5;
export const EXP = 6;
export const LOG = 7;
export const TANH = 8;
export const RELU = 9;
export const LEAKY = 10;
export const MAX = 11;
export const CALL = 12;
/** Σ of plain terms. */
export const SUM = 13;
/** Σ x·y over pairs of slots; a plain term x is paired with the constant 1. */
export const SUMPROD = 14;
/** Σ x[k]·y[k] over two runs of consecutive slots, plus an optional plain term: a neuron's weighted sum and bias. */
export const DOT = 15;
/** The candidate chosen by an index slot. */
export const SELECT = 16;
/** max(DOT, 0): a ReLU neuron. */
export const DOT_RELU = 17;
/** The first row of a group of DOTs (rows.ts): runs the whole group. ROWS and ROW are the last codes. */
export const ROWS = 18;
/** A later row of a group: ran with its first row. */
export const ROW = 19;

// Bits of `flags`.
/** DOT: the second factors need gradients too (not so in a first layer, whose second factors are inputs). */
export const BOTH_SIDES = 1;
/** DOT: the plain term comes first, as in b + w0·x0 + w1·x1 + … written one add at a time. */
export const BIAS_FIRST = 2;
/** CALL: the second operand is a Value, which gets a gradient. */
export const SECOND_IS_VALUE = 4;
/** ROWS, ROW: the group's dots are DOT_RELUs. */
export const RELU_ROWS = 8;

/** How many entries of `args` instruction i lists from `argsStart`: a sum's terms, a SUMPROD's pairs, a select's candidates. */
export function listedArgs(tape: Tape, i: number): number {
  const code = tape.code[i];
  if (code === SUMPROD) return 2 * tape.count[i];
  return code === SUM || code === SELECT ? tape.count[i] : 0;
}

/**
 * Gives every slot that the instructions and the outputs name its new number, `slotOf(slot)`
 * (the passes that move slots after encoding: layout.ts, leaves.ts). The buffers are the
 * caller's to move.
 */
export function renumberSlots(tape: Tape, slotOf: (slot: number) => number): void {
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
}

/** Whether each run of consecutive slots that a dot reads stays consecutive under `slotOf`. */
export function runsStayConsecutive(tape: Tape, slotOf: (slot: number) => number): boolean {
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

/** Whether instruction i is a ReLU of a dot: a DOT_RELU, or a row of a group of them. */
export function isRelu(tape: Tape, i: number): boolean {
  const code = tape.code[i];
  return code === DOT_RELU || ((code === ROWS || code === ROW) && (tape.flags[i] & RELU_ROWS) !== 0);
}

/** The instruction of each operation that the engine's table marks `inline`, by its key in the table (sum and select become SUM/DOT and SELECT). */
export const INSTRUCTION_OF_OPERATION: Partial<Record<keyof typeof OPERATIONS, number>> = {
  add: ADD,
  sub: SUB,
  mul: MUL,
  div: DIV,
  powk: POWK,
  neg: NEG,
  exp: EXP,
  log: LOG,
  tanh: TANH,
  relu: RELU,
  leakyRelu: LEAKY,
  max: MAX,
};
/** The tape's instruction code for each engine operation index: CALL unless the table marks it inline. */
export const INLINE: number[] = [];
for (const [key, op] of Object.entries(OPERATIONS) as [keyof typeof OPERATIONS, Op][]) {
  const code = INSTRUCTION_OF_OPERATION[key];
  if (op.inline && code !== undefined) INLINE[op.index] = code;
}

/**
 * A recorded function: the instructions and the buffers they are replayed on.
 *
 * Slots index `values` and `grads`: [parameters | inputs | constants | instruction outputs].
 * The instructions are columns (structure of arrays), one entry per instruction; each column
 * means one thing, and an instruction uses the columns its code needs:
 *
 *   code           a                 b                  count       bias              argsStart
 *   ADD … MAX      first operand     second operand*    -           -                 -
 *   CALL           first operand     second operand*    -           -                 -
 *   SUM            -                 -                  terms       -                 the terms' slots
 *   SUMPROD        -                 -                  pairs       -                 pairs x, y (y = 1 for a plain term)
 *   DOT, DOT_RELU  the first x       the first y        products    plain term or -1  -
 *   ROWS, ROW      as DOT, each row of a group (rows.ts); nextRow links them
 *   SELECT         the index         -                  candidates  -                 the candidates' slots
 *
 *   * a constant's slot for a number operand; the slot of 0 for a one-input operation.
 */
export interface Tape {
  code: Uint8Array;
  /** The slot of the result. */
  out: Int32Array;
  a: Int32Array;
  b: Int32Array;
  count: Int32Array;
  bias: Int32Array;
  /** Where the instruction's list of slots starts in `args`. */
  argsStart: Int32Array;
  /** BOTH_SIDES, BIAS_FIRST (DOT) and SECOND_IS_VALUE (CALL). */
  flags: Uint8Array;
  /** The engine operation of each instruction (for a fused one, of the node it computes): CALL runs it; the listing and errors name it. */
  opIndex: Int32Array;
  /** The lists of slots of sums and selects. */
  args: Int32Array;
  /** ROWS, ROW: the next row of the group (rows.ts), -1 after the last; -1 for every other instruction. */
  nextRow: Int32Array;
  /** The instructions that can carry a gradient to a parameter, in tape order. */
  backwardOrder: Int32Array;
  values: Float64Array;
  grads: Float64Array;
  parameters: Value[];
  /**
   * Per parameter, 1 for a leaf that fn made while it was traced, which the replay reads from
   * and adds into its own Value, arena or not, as eager would (leaves.ts): until verification
   * tells a constant (a new leaf at every trace) from a parameter that fn makes once and keeps;
   * after it, only a constant that could not move among the constants. Undefined if none.
   */
  madeInside?: Uint8Array;
  /** Each parameter's slot: p as traced, its place in the arena once laid out (layout.ts). */
  parameterSlot: Int32Array;
  /** The first input slot; parameters occupy 0..inputStart-1. */
  inputStart: number;
  inputCount: number;
  constantsStart: number;
  outputStart: number;
  /** The slot of the constant 1, which SUMPROD pairs with a plain term (a product by 1 counts as one). */
  one: number;
  outputSlots: Int32Array;
  /** Per output, how many entries of backwardOrder precede or are its instruction. */
  outputReach: Int32Array;
  /** Builds the result from the output values. */
  template: Template;
  /** Nodes in the eager graph, for the listing and the memory figures. */
  nodeCount: number;
  /** Incremented at each replay, so that backward() on an older result is refused. */
  generation: number;
  /** Check mode: the outputs of the eager run beside the latest replay, for backward() to compare. */
  eagerOutputs?: Value[];
  /** Compared with a second trace (see CompileOptions.verify), or not to be. */
  verified: boolean;
  /** The arena the latest replay read its parameters from (and backward() adds into), if any. */
  arena?: ParameterArena;
  /** Each parameter slot's place in `arena`. */
  arenaIndex?: Int32Array;
  /** The arena `arenaIndex` was made for. */
  arenaIndexOf?: ParameterArena;
  /**
   * The arena the tape is laid out on (layout.ts), if any: its first slots are then the
   * arena's places, one for every parameter of the arena, reached or not.
   */
  laidOn?: ParameterArena;
  /** The arena a layout was last considered for (made, or not possible), so that it is tried once. */
  layoutTried?: ParameterArena;
}

export type Template =
  | { kind: "output"; index: number }
  | { kind: "plain"; value: unknown }
  | { kind: "array"; items: Template[] }
  | { kind: "object"; keys: string[]; items: Template[] };

/** A growable list of integers, for the tables built while lowering. */
export class IntList {
  data = new Int32Array(256);
  length = 0;
  push(x: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = x;
  }
}
