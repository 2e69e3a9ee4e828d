// Instruction selection: leaves become parameters or inputs; a product used once, by a sum,
// folds into that sum as a pair of factors; a chain of adds written one add at a time becomes
// one sum; every other node becomes one instruction. Ids: nodes by position, then constants.
import { type Operand, Value } from "../engine.js";
import { CALL, INLINE, IntList, OP_INDEX, SELECT, SUM } from "./tape.js";
import { LEFT_OF_ADD, SUMMED, type TracedGraph } from "./walk.js";

// What each node became (`kind`); 0 is an instruction.
export const LEAF_PARAMETER = 1;
export const LEAF_INPUT = 2;
/** A product used once, by a sum: its factors become a term of that sum. */
export const FUSED = 3;
/** An add whose only consumer is the add to its right: part of that add's chain. */
export const CHAINED = 4;

export interface Selection {
  nodeCount: number;
  /** The constants' numbers; constant k has the id nodeCount + k. */
  constants: number[];
  /** The ids of the constants 0 and 1. */
  zero: number;
  one: number;
  /** Per node: its argument number if it is an input, else -1. */
  inputOf: Int32Array;
  /** Per node: LEAF_PARAMETER, LEAF_INPUT, FUSED, CHAINED, or 0 for an instruction. */
  kind: Uint8Array;
  parameterIds: number[];
  /** Per instruction: its node, its code (SUM for every sum, fused or not), its operands' ids. */
  instructionNode: IntList;
  instructionCode: IntList;
  operandA: IntList;
  operandB: IntList;
  /** Per instruction: the range of its terms (a sum's) or candidates (a select's) in the term lists. */
  termsStart: IntList;
  termCount: IntList;
  /** Per term: the id of a plain term or of a product's first factor, and the product's second factor or -1. */
  termFirst: IntList;
  termSecond: IntList;
}

/** Chooses the instructions for the traced graph, whose leaves `inputs` are the arguments' numbers. */
export function selectInstructions(graph: TracedGraph, inputs: readonly Value[], fuse: boolean): Selection {
  const { order, opOf, uses, inSum, positionOf } = graph;
  const selection = emptySelection(order.length);
  const { kind, inputOf } = selection;
  const constantId = constantIds(selection);
  selection.zero = constantId(0);
  selection.one = constantId(1);
  inputs.forEach((leaf, i) => {
    const id = positionOf(leaf);
    if (id >= 0) inputOf[id] = i;
  });
  for (let id = 0; id < order.length; id++) {
    const opIndex = opOf[id];
    if (opIndex === OP_INDEX.leaf) {
      kind[id] = inputOf[id] >= 0 ? LEAF_INPUT : LEAF_PARAMETER;
      if (kind[id] === LEAF_PARAMETER) selection.parameterIds.push(id);
    } else if (fuse && opIndex === OP_INDEX.mul && uses[id] === 1 && (inSum[id] & SUMMED) !== 0) {
      kind[id] = FUSED;
    } else if (fuse && opIndex === OP_INDEX.add && uses[id] === 1 && (inSum[id] & LEFT_OF_ADD) !== 0) {
      kind[id] = CHAINED;
    } else {
      addInstruction(selection, graph, id, fuse, constantId);
    }
  }
  return selection;
}

function emptySelection(nodeCount: number): Selection {
  return {
    nodeCount,
    constants: [],
    zero: -1,
    one: -1,
    inputOf: new Int32Array(nodeCount).fill(-1),
    kind: new Uint8Array(nodeCount),
    parameterIds: [],
    instructionNode: new IntList(),
    instructionCode: new IntList(),
    operandA: new IntList(),
    operandB: new IntList(),
    termsStart: new IntList(),
    termCount: new IntList(),
    termFirst: new IntList(),
    termSecond: new IntList(),
  };
}

/** A function giving each distinct constant (−0 apart from 0) one id, after the nodes' ids. */
function constantIds(selection: Selection): (x: number) => number {
  const { nodeCount, constants } = selection;
  const ids = new Map<number, number>();
  let negativeZero = -1;
  return (x: number): number => {
    if (Object.is(x, -0)) {
      if (negativeZero < 0) {
        negativeZero = nodeCount + constants.length;
        constants.push(-0);
      }
      return negativeZero;
    }
    let id = ids.get(x);
    if (id === undefined) {
      id = nodeCount + constants.length;
      constants.push(x);
      ids.set(x, id);
    }
    return id;
  };
}

/** Node `id` as one instruction: a sum (of its terms, or of its chain of adds), a select, or its operation. */
function addInstruction(
  selection: Selection,
  graph: TracedGraph,
  id: number,
  fuse: boolean,
  constantId: (x: number) => number,
): void {
  const { positionOf, order, opOf } = graph;
  const node = order[id];
  const opIndex = opOf[id];
  selection.instructionNode.push(id);
  selection.termsStart.push(selection.termFirst.length);
  const terms =
    fuse && opIndex === OP_INDEX.add
      ? chainOfAdds(selection, graph, node)
      : opIndex === OP_INDEX.sum
        ? (node.b as readonly Operand[])
        : undefined;
  if (terms !== undefined) {
    pushTerms(selection, graph, terms, constantId);
    pushInstruction(selection, SUM, -1, -1, terms.length);
  } else if (opIndex === OP_INDEX.select) {
    const candidates = node.b as readonly Value[];
    for (const candidate of candidates) {
      selection.termFirst.push(positionOf(candidate));
      selection.termSecond.push(-1);
    }
    pushInstruction(selection, SELECT, positionOf(node.a as Value), -1, candidates.length);
  } else {
    const b = node.b as Operand | null;
    const operandB = b === null ? selection.zero : typeof b === "number" ? constantId(b) : positionOf(b);
    pushInstruction(selection, INLINE[opIndex] ?? CALL, positionOf(node.a as Value), operandB, 0);
  }
}

function pushInstruction(selection: Selection, code: number, a: number, b: number, termCount: number): void {
  selection.instructionCode.push(code);
  selection.operandA.push(a);
  selection.operandB.push(b);
  selection.termCount.push(termCount);
}

/**
 * The terms of the chain of adds that ends at `node`, or undefined for a lone add of two
 * plain terms (which stays an add). ((t0 + t1) + t2) + t3, written one add at a time as in
 * the original micrograd, is the sum t0 + t1 + t2 + t3 in the same order (a sum starts
 * from 0, and 0 + t0 is t0).
 */
function chainOfAdds(selection: Selection, graph: TracedGraph, node: Value): Operand[] | undefined {
  const { kind } = selection;
  const { positionOf } = graph;
  const rights: Operand[] = [];
  let left: Value = node;
  while (left === node || kind[positionOf(left)] === CHAINED) {
    rights.push(left.b as Operand);
    left = left.a as Value;
  }
  const chain: Operand[] = [left];
  for (let k = rights.length - 1; k >= 0; k--) chain.push(rights[k]);
  const fused = chain.some((term) => term instanceof Value && kind[positionOf(term)] === FUSED);
  return chain.length > 2 || fused ? chain : undefined;
}

/** A sum's terms: a product folded in as its two factors, anything else as itself. */
function pushTerms(
  selection: Selection,
  graph: TracedGraph,
  terms: readonly Operand[],
  constantId: (x: number) => number,
): void {
  const { kind, termFirst, termSecond } = selection;
  const { positionOf } = graph;
  for (const term of terms) {
    if (typeof term === "number") {
      termFirst.push(constantId(term));
      termSecond.push(-1);
    } else if (kind[positionOf(term)] === FUSED) {
      termFirst.push(positionOf(term.a as Value));
      const factor = term.b as Operand;
      termSecond.push(typeof factor === "number" ? constantId(factor) : positionOf(factor));
    } else {
      termFirst.push(positionOf(term));
      termSecond.push(-1);
    }
  }
}
