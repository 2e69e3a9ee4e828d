// Encoding: the selected instructions as the tape's columns over slots. A sum of products in
// consecutive slots becomes a DOT, a ReLU that only reads a DOT joins it, and the backward
// order keeps only the instructions through which a gradient can reach a parameter.
import type { Value } from "../engine.js";
import type { Selection } from "./select.js";
import type { Slots } from "./slots.js";
import {
  BIAS_FIRST,
  BOTH_SIDES,
  CALL,
  DOT,
  DOT_RELU,
  IntList,
  RELU,
  SECOND_IS_VALUE,
  SELECT,
  SUM,
  SUMPROD,
  type Tape,
  type Template,
} from "./tape.js";
import type { TracedGraph } from "./walk.js";

/** The tape: the instructions encoded, the buffers they run on, and where each output's backward pass starts. */
export function encodeTape(
  graph: TracedGraph,
  selection: Selection,
  slots: Slots,
  outputs: readonly Value[],
  inputCount: number,
  template: Template,
  fuse: boolean,
): Tape {
  const writer = new TapeWriter(selection, slots);
  writer.writeAll(graph, fuse);
  const { slot, parameters, inputStart, constantsStart, outputStart, slotCount } = slots;
  const values = new Float64Array(slotCount);
  selection.constants.forEach((constant, k) => {
    values[constantsStart + k] = constant;
  });
  const backwardOrder = writer.backwardOrder.data.slice(0, writer.backwardOrder.length);
  const outputSlots = new Int32Array(outputs.length);
  const outputReach = new Int32Array(outputs.length);
  outputs.forEach((root, k) => {
    const id = graph.positionOf(root);
    outputSlots[k] = slot[id];
    outputReach[k] = countUpTo(backwardOrder, writer.instructionOf[id]);
  });
  const { code, out, a, b, count, bias, argsStart, flags, opIndex } = writer.columns();
  return {
    code,
    out,
    a,
    b,
    count,
    bias,
    argsStart,
    flags,
    opIndex,
    args: writer.args.data.slice(0, writer.args.length),
    // No groups until rows.ts makes them.
    nextRow: new Int32Array(code.length).fill(-1),
    backwardOrder,
    values,
    grads: new Float64Array(slotCount),
    parameters,
    madeInside: undefined,
    parameterSlot: Int32Array.from(parameters, (_, p) => p),
    inputStart,
    inputCount,
    constantsStart,
    outputStart,
    one: slot[selection.one],
    outputSlots,
    outputReach,
    template,
    nodeCount: graph.order.length,
    generation: 0,
    verified: false,
    // Set later, but present from the start: a tape keeps one shape for the replay's property reads.
    eagerOutputs: undefined,
    arena: undefined,
    arenaIndex: undefined,
    arenaIndexOf: undefined,
    laidOn: undefined,
    layoutTried: undefined,
  };
}

/** How many entries of the sorted `list` are at most `x`. */
function countUpTo(list: Int32Array, x: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (list[mid] <= x) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Writes the tape's columns, one instruction at a time. */
class TapeWriter {
  readonly code: Uint8Array;
  readonly out: Int32Array;
  readonly a: Int32Array;
  readonly b: Int32Array;
  readonly count: Int32Array;
  readonly bias: Int32Array;
  readonly argsStart: Int32Array;
  readonly flags: Uint8Array;
  readonly opIndex: Int32Array;
  readonly args = new IntList();
  readonly backwardOrder = new IntList();
  /** Per node: the instruction that computes it, or -1. */
  readonly instructionOf: Int32Array;
  /** Per slot: whether a gradient sent to it can reach a parameter. */
  private readonly needsGrad: Uint8Array;
  /** How many instructions are written: fewer than selected once a ReLU has joined its DOT. */
  private written = 0;

  constructor(
    private readonly selection: Selection,
    private readonly slots: Slots,
  ) {
    const count = selection.instructionNode.length;
    this.code = new Uint8Array(count);
    this.out = new Int32Array(count);
    this.a = new Int32Array(count);
    this.b = new Int32Array(count);
    this.count = new Int32Array(count);
    this.bias = new Int32Array(count).fill(-1);
    this.argsStart = new Int32Array(count);
    this.flags = new Uint8Array(count);
    this.opIndex = new Int32Array(count);
    this.instructionOf = new Int32Array(selection.nodeCount).fill(-1);
    this.needsGrad = new Uint8Array(slots.slotCount);
    this.needsGrad.fill(1, 0, slots.parameterCount);
  }

  writeAll(graph: TracedGraph, fuse: boolean): void {
    const { instructionNode, instructionCode } = this.selection;
    for (let i = 0; i < instructionNode.length; i++) {
      const id = instructionNode.data[i];
      const previous = instructionNode.data[i - 1];
      // A relu of a dot that nothing else reads: one instruction, relu(dot), instead of two.
      if (fuse && instructionCode.data[i] === RELU && this.joinsDot(i, graph.uses[previous])) continue;
      const w = this.written++;
      this.out[w] = this.slots.slot[id];
      this.opIndex[w] = graph.opOf[id];
      this.instructionOf[id] = w;
      const code = instructionCode.data[i];
      const sendsGrad =
        code === SUM
          ? this.writeSum(w, i)
          : code === SELECT
            ? this.writeSelect(w, i)
            : this.writeOperation(w, i, code);
      if (sendsGrad) {
        this.needsGrad[this.out[w]] = 1;
        this.backwardOrder.push(w);
      }
    }
  }

  /** The columns, cut to the instructions written. */
  columns() {
    const n = this.written;
    return {
      code: this.code.slice(0, n),
      out: this.out.slice(0, n),
      a: this.a.slice(0, n),
      b: this.b.slice(0, n),
      count: this.count.slice(0, n),
      bias: this.bias.slice(0, n),
      argsStart: this.argsStart.slice(0, n),
      flags: this.flags.slice(0, n),
      opIndex: this.opIndex.slice(0, n),
    };
  }

  /** If selected instruction i, a ReLU, reads the DOT just written and nothing else does, merges it in. */
  private joinsDot(i: number, usesOfPrevious: number): boolean {
    const w = this.written - 1;
    const { slot } = this.slots;
    const input = slot[this.selection.operandA.data[i]];
    if (w < 0 || this.code[w] !== DOT || this.out[w] !== input || usesOfPrevious !== 1) return false;
    const id = this.selection.instructionNode.data[i];
    this.code[w] = DOT_RELU;
    this.out[w] = slot[id];
    this.instructionOf[id] = w;
    if (this.needsGrad[input]) this.needsGrad[this.out[w]] = 1;
    return true;
  }

  /** An operation of the engine's table (inline or CALL); returns whether it can send a gradient. */
  private writeOperation(w: number, i: number, code: number): boolean {
    const { operandA, operandB, nodeCount } = this.selection;
    const { slot } = this.slots;
    this.code[w] = code;
    this.a[w] = slot[operandA.data[i]];
    this.b[w] = slot[operandB.data[i]];
    const secondIsValue = operandB.data[i] < nodeCount;
    if (code === CALL && secondIsValue) this.flags[w] = SECOND_IS_VALUE;
    return this.needsGrad[this.a[w]] === 1 || (secondIsValue && this.needsGrad[this.b[w]] === 1);
  }

  private writeSelect(w: number, i: number): boolean {
    const { operandA, termsStart, termCount, termFirst } = this.selection;
    const { slot } = this.slots;
    this.code[w] = SELECT;
    this.a[w] = slot[operandA.data[i]];
    this.count[w] = termCount.data[i];
    this.argsStart[w] = this.args.length;
    let sendsGrad = false;
    const start = termsStart.data[i];
    for (let k = start; k < start + termCount.data[i]; k++) {
      const candidate = slot[termFirst.data[k]];
      this.args.push(candidate);
      if (this.needsGrad[candidate]) sendsGrad = true;
    }
    return sendsGrad;
  }

  /**
   * A sum: a DOT where its products lie in consecutive slots, with one plain term (a bias)
   * last, or first as in b + w0·x0 + w1·x1 + … written one add at a time; else a SUM of
   * plain terms or a SUMPROD.
   */
  private writeSum(w: number, i: number): boolean {
    const { termsStart, termCount, termFirst, termSecond } = this.selection;
    const { slot } = this.slots;
    const firsts = termFirst.data;
    const seconds = termSecond.data;
    const start = termsStart.data[i];
    const n = termCount.data[i];
    const end = start + n;
    const lead = n >= 3 && seconds[start] < 0 && !hasPlain(seconds, start + 1, end) ? 1 : 0;
    const from = start + lead;
    let products = 0;
    while (products < n - lead && seconds[from + products] >= 0) products++;
    let dense = products >= 2 && (lead === 1 ? products === n - 1 : products >= n - 1);
    let sendsGrad = false;
    for (let k = start; k < end; k++) {
      const x = slot[firsts[k]];
      const y = seconds[k] < 0 ? -1 : slot[seconds[k]];
      if (this.needsGrad[x] || (y >= 0 && this.needsGrad[y])) sendsGrad = true;
      if (dense && k > from && k < from + products) {
        if (x !== slot[firsts[k - 1]] + 1 || y !== slot[seconds[k - 1]] + 1) dense = false;
      }
    }
    this.count[w] = dense ? products : n;
    if (dense) {
      const bias = lead === 1 ? slot[firsts[start]] : products < n ? slot[firsts[end - 1]] : -1;
      this.writeDot(w, slot[firsts[from]], slot[seconds[from]], bias, lead === 1);
    } else if (products === 0 && !hasProduct(seconds, start, end)) {
      this.code[w] = SUM;
      this.argsStart[w] = this.args.length;
      for (let k = start; k < end; k++) this.args.push(slot[firsts[k]]);
    } else {
      this.code[w] = SUMPROD;
      this.argsStart[w] = this.args.length;
      for (let k = start; k < end; k++) {
        this.args.push(slot[firsts[k]]);
        this.args.push(seconds[k] < 0 ? slot[this.selection.one] : slot[seconds[k]]);
      }
    }
    return sendsGrad;
  }

  private writeDot(w: number, firstX: number, firstY: number, bias: number, biasFirst: boolean): void {
    this.code[w] = DOT;
    this.a[w] = firstX;
    this.b[w] = firstY;
    this.bias[w] = bias;
    // The second factors of a first layer are inputs: no gradient to send them.
    let secondNeedsGrad = false;
    for (let k = 0; k < this.count[w]; k++) if (this.needsGrad[firstY + k]) secondNeedsGrad = true;
    this.flags[w] = (secondNeedsGrad ? BOTH_SIDES : 0) | (biasFirst ? BIAS_FIRST : 0);
  }
}

function hasPlain(seconds: Int32Array, start: number, end: number): boolean {
  for (let k = start; k < end; k++) if (seconds[k] < 0) return true;
  return false;
}

function hasProduct(seconds: Int32Array, start: number, end: number): boolean {
  for (let k = start; k < end; k++) if (seconds[k] >= 0) return true;
  return false;
}
