// Instruction selection: which nodes become instructions, and which fold into another
// (a product into the sum that uses it, an add into the chain of adds it starts).
import { type Operand, Value } from "../engine.js";
import { CALL, E, INLINE, IntList, SELECT, SUM } from "./tape.js";
import { LEFT_OF_ADD, positionOf, SUMMED } from "./walk.js";

export const LEAF_PARAMETER = 1;
export const LEAF_INPUT = 2;
/** A product used once, by a sum: its factors become a term of that sum. */
export const FUSED = 3;
/** An add whose only consumer is the add to its right: part of that add's chain. */
export const CHAINED = 4;

export interface Selection {
  nodeCount: number;
  constants: number[];
  /** The ids of the constants 0 and 1. */
  zero: number;
  one: number;
  /** Per node: its argument number if it is an input, else -1. */
  inputOf: Int32Array;
  /** Per node: LEAF_PARAMETER, LEAF_INPUT, FUSED, CHAINED, or 0 for an instruction. */
  kind: Uint8Array;
  parameterIds: number[];
  /** Per instruction: its node, code, operands, and its terms' range in first/second. */
  insNode: IntList;
  insCode: IntList;
  insA: IntList;
  insB: IntList;
  insStart: IntList;
  insCount: IntList;
  /** The terms of sums and selects: a factor or a term, and the other factor of a product or -1. */
  first: IntList;
  second: IntList;
}

export function selectInstructions(
  order: Value[],
  opOf: Int32Array,
  uses: Int32Array,
  inSum: Int32Array,
  inputs: Value[],
  fuse: boolean,
): Selection {
  const nodeCount = order.length;

  // 2. Constants get ids after the nodes.
  const constants: number[] = [];
  const constantIds = new Map<number, number>();
  let negativeZero = -1;
  const constantId = (x: number): number => {
    if (Object.is(x, -0)) {
      if (negativeZero < 0) {
        negativeZero = nodeCount + constants.length;
        constants.push(-0);
      }
      return negativeZero;
    }
    let id = constantIds.get(x);
    if (id === undefined) {
      id = nodeCount + constants.length;
      constants.push(x);
      constantIds.set(x, id);
    }
    return id;
  };
  const ZERO = constantId(0);
  const ONE = constantId(1);

  // 3. Leaves become parameters or inputs; a product used once, by a sum, folds into that sum;
  // every other node becomes an instruction. Sums and selects list their operands in
  // `first`/`second` (second: the other factor of a product, or -1).
  const inputOf = new Int32Array(nodeCount).fill(-1);
  inputs.forEach((leaf, i) => {
    if (leaf.code < 0) inputOf[positionOf(leaf)] = i;
  });
  const kind = new Uint8Array(nodeCount);
  const parameterIds: number[] = [];
  const insNode = new IntList();
  const insCode = new IntList();
  const insA = new IntList();
  const insB = new IntList();
  const insStart = new IntList();
  const insCount = new IntList();
  const first = new IntList();
  const second = new IntList();
  // A sum's terms: a product folded in as its two factors, anything else as itself.
  const pushTerms = (terms: readonly Operand[]) => {
    for (let k = 0; k < terms.length; k++) {
      const t = terms[k];
      if (typeof t === "number") {
        first.push(constantId(t));
        second.push(-1);
      } else if (kind[positionOf(t)] === FUSED) {
        first.push(positionOf(t.a as Value));
        const f = t.b as Operand;
        second.push(typeof f === "number" ? constantId(f) : positionOf(f));
      } else {
        first.push(positionOf(t));
        second.push(-1);
      }
    }
  };
  for (let id = 0; id < nodeCount; id++) {
    const node = order[id];
    const opIndex = opOf[id];
    if (opIndex === E.leaf) {
      if (inputOf[id] >= 0) kind[id] = LEAF_INPUT;
      else {
        kind[id] = LEAF_PARAMETER;
        parameterIds.push(id);
      }
      continue;
    }
    if (fuse && opIndex === E.mul && uses[id] === 1 && (inSum[id] & SUMMED) !== 0) {
      kind[id] = FUSED;
      continue;
    }
    if (fuse && opIndex === E.add && uses[id] === 1 && (inSum[id] & LEFT_OF_ADD) !== 0) {
      kind[id] = CHAINED;
      continue;
    }
    insNode.push(id);
    insStart.push(first.length);
    let terms: readonly Operand[] | undefined;
    if (fuse && opIndex === E.add) {
      // ((t0 + t1) + t2) + t3, written one add at a time as in the original micrograd, is the
      // sum t0 + t1 + t2 + t3 in the same order (a sum starts from 0, and 0 + t0 is t0).
      const rights: Operand[] = [];
      let left: Value = node;
      while (left === node || (left.code < 0 && kind[positionOf(left)] === CHAINED)) {
        rights.push(left.b as Operand);
        left = left.a as Value;
      }
      const chain: Operand[] = [left];
      for (let k = rights.length - 1; k >= 0; k--) chain.push(rights[k]);
      // A lone add of two plain terms stays an add.
      if (chain.length > 2 || chain.some((t) => t instanceof Value && kind[positionOf(t)] === FUSED)) {
        terms = chain;
      }
    } else if (opIndex === E.sum) {
      terms = node.b as readonly Operand[];
    }
    if (terms !== undefined) {
      pushTerms(terms);
      insCode.push(SUM);
      insA.push(-1);
      insB.push(-1);
      insCount.push(terms.length);
      continue;
    }
    if (opIndex === E.select) {
      const candidates = node.b as readonly Value[];
      for (let k = 0; k < candidates.length; k++) {
        first.push(positionOf(candidates[k]));
        second.push(-1);
      }
      insCode.push(SELECT);
      insA.push(positionOf(node.a as Value));
      insB.push(-1);
      insCount.push(candidates.length);
      continue;
    }
    const b = node.b as Operand | null;
    const code = INLINE[opIndex] ?? CALL;
    insCode.push(code);
    insA.push(positionOf(node.a as Value));
    insB.push(b === null ? ZERO : typeof b === "number" ? constantId(b) : positionOf(b));
    // CALL keeps the operation's index, and whether b is a Value, in `count`.
    insCount.push(code === CALL ? opIndex * 2 + (b instanceof Value ? 1 : 0) : 0);
  }
  return {
    nodeCount,
    constants,
    zero: ZERO,
    one: ONE,
    inputOf,
    kind,
    parameterIds,
    insNode,
    insCode,
    insA,
    insB,
    insStart,
    insCount,
    first,
    second,
  };
}
