// The tape: the instruction codes a replay runs, and the record of a traced function.
import type { ParameterArena } from "../arena.js";
import { OPERATIONS, type Op, type Value } from "../engine.js";

export const E = {
  leaf: OPERATIONS.leaf.index,
  add: OPERATIONS.add.index,
  sub: OPERATIONS.sub.index,
  mul: OPERATIONS.mul.index,
  div: OPERATIONS.div.index,
  powk: OPERATIONS.powk.index,
  neg: OPERATIONS.neg.index,
  exp: OPERATIONS.exp.index,
  log: OPERATIONS.log.index,
  tanh: OPERATIONS.tanh.index,
  relu: OPERATIONS.relu.index,
  leakyRelu: OPERATIONS.leakyRelu.index,
  max: OPERATIONS.max.index,
  sum: OPERATIONS.sum.index,
  select: OPERATIONS.select.index,
};

/** Operations by index. */
export const OP_BY_INDEX: Op[] = [];
for (const op of Object.values(OPERATIONS) as Op[]) OP_BY_INDEX[op.index] = op;

// Instruction codes of the tape.
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
/** Any other operation of the table, through its forward/da/db functions. */
export const CALL = 12;
/** n plain terms, their slots in `args`. */
export const SUM = 13;
/** Σ x·y over pairs of slots in `args`; a plain term x is paired with the constant 1. */
export const SUMPROD = 14;
/** Σ v[a+k]·v[b+k] for k < n, plus an optional last term: a neuron's weighted sum and bias. */
export const DOT = 15;
/** args[c + v[a]]: a candidate chosen by an index slot. */
export const SELECT = 16;
/** max(DOT, 0): a ReLU neuron. */
export const DOT_RELU = 17;
// Flags of a DOT: the second factors need gradients too; the plain term comes first.
export const BOTH_SIDES = 1;
export const BIAS_FIRST = 2;

const INLINE_ENTRIES: [number, number][] = [
  [E.add, ADD],
  [E.sub, SUB],
  [E.mul, MUL],
  [E.div, DIV],
  [E.powk, POWK],
  [E.neg, NEG],
  [E.exp, EXP],
  [E.log, LOG],
  [E.tanh, TANH],
  [E.relu, RELU],
  [E.leakyRelu, LEAKY],
  [E.max, MAX],
];
/** The tape's instruction code for each engine operation index (CALL for the rest). */
export const INLINE: number[] = [];
for (const [opIndex, code] of INLINE_ENTRIES) INLINE[opIndex] = code;

/** A recorded function: the tape and the buffers it is replayed on. */
export interface Tape {
  code: Uint8Array;
  out: Int32Array;
  a: Int32Array;
  b: Int32Array;
  /** Count (sums, dot, select) or, for CALL, the operation's index in `ops`. */
  n: Int32Array;
  /** DOT: the slot of the last plain term or -1; SELECT: offset in `args`; CALL: 1 if b is a Value. */
  c: Int32Array;
  /** DOT: BOTH_SIDES if the second factors need gradients too (not so in a first layer, whose second factors are inputs); BIAS_FIRST if the plain term comes first. */
  dotFlags: Uint8Array;
  args: Int32Array;
  /** Operations called through the table (CALL), by index. */
  ops: Op[];
  /** The instructions that can carry a gradient to a parameter, in tape order. */
  backwardOrder: Int32Array;
  values: Float64Array;
  grads: Float64Array;
  parameters: Value[];
  /** The first input slot; parameters occupy 0..inputStart-1. */
  inputStart: number;
  inputCount: number;
  outputSlots: Int32Array;
  /** Per output, how many entries of backwardOrder precede or are its instruction. */
  outputReach: Int32Array;
  /** Builds the result from the output values. */
  template: Template;
  /** Nodes in the eager graph, for the listing and the memory figures. */
  nodeCount: number;
  /** Incremented at each replay, so that backward() on an older result is refused. */
  generation: number;
  /** For the listing and errors: the engine operation index of each instruction. */
  opIndices: Int32Array;
  constantsStart: number;
  outputStart: number;
  /** The slot of the constant 1, which SUMPROD pairs with a plain term (a product by 1 counts as one). */
  one: number;
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
