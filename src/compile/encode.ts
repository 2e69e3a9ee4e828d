// Encoding: the selected instructions as typed arrays over slots.
import type { Op, Value } from "../engine.js";
import type { Selection } from "./select.js";
import type { Slots } from "./slots.js";
import {
  BIAS_FIRST,
  BOTH_SIDES,
  CALL,
  DOT,
  DOT_RELU,
  IntList,
  OP_BY_INDEX,
  RELU,
  SELECT,
  SUM,
  SUMPROD,
  type Tape,
  type Template,
} from "./tape.js";
import { positionOf } from "./walk.js";

/** Step 5: the instructions as typed arrays over slots, a ReLU merged into its dot, and the backward order. */
function encode(selection: Selection, slots: Slots, opOf: Int32Array, uses: Int32Array, fuse: boolean) {
  const { nodeCount, insNode, insCode, insA, insB, insStart, insCount, first, second, one: ONE } = selection;
  const { slot, parameterCount, slotCount } = slots;
  const count = insNode.length;
  const F = first.data;
  const S = second.data;
  let code = new Uint8Array(count);
  let out = new Int32Array(count);
  let A = new Int32Array(count);
  let B = new Int32Array(count);
  let N = new Int32Array(count);
  let C = new Int32Array(count);
  let dotFlags = new Uint8Array(count);
  const args = new IntList();
  const ops: Op[] = [];
  const opSlot = new Map<number, number>();
  let opIndices = new Int32Array(count);
  const needsGrad = new Uint8Array(slotCount);
  for (let p = 0; p < parameterCount; p++) needsGrad[p] = 1;
  const backwardOrder = new IntList();
  const instructionOf = new Int32Array(nodeCount).fill(-1);
  const one = slot[ONE];
  // Instructions are written at w, which lags i once a relu has been merged into its dot.
  let w = 0;
  for (let i = 0; i < count; i++, w++) {
    const id = insNode.data[i];
    out[w] = slot[id];
    opIndices[w] = opOf[id];
    instructionOf[id] = w;
    const start = insStart.data[i];
    const n = insCount.data[i];
    const end = start + n;
    let grad = false;
    const kindOf = insCode.data[i];
    if (kindOf === SUM) {
      // A dot: products in consecutive slots, with one plain term (a bias) last, or first
      // as in b + w0·x0 + w1·x1 + … written one add at a time.
      const lead = n >= 3 && S[start] < 0 && !hasPlain(S, start + 1, end) ? 1 : 0;
      const from = start + lead;
      let products = 0;
      while (products < n - lead && S[from + products] >= 0) products++;
      let dense = products >= 2 && (lead === 1 ? products === n - 1 : products >= n - 1);
      for (let k = start; k < end; k++) {
        const x = slot[F[k]];
        const y = S[k] < 0 ? -1 : slot[S[k]];
        if (needsGrad[x] || (y >= 0 && needsGrad[y])) grad = true;
        if (dense && k > from && k < from + products) {
          if (x !== slot[F[k - 1]] + 1 || y !== slot[S[k - 1]] + 1) dense = false;
        }
      }
      if (dense) {
        code[w] = DOT;
        A[w] = slot[F[from]];
        B[w] = slot[S[from]];
        N[w] = products;
        C[w] = lead === 1 ? slot[F[start]] : products < n ? slot[F[end - 1]] : -1;
        // The second factors of a first layer are inputs: no gradient to send them.
        let secondNeedsGrad = false;
        for (let k = 0; k < products; k++) if (needsGrad[B[w] + k]) secondNeedsGrad = true;
        dotFlags[w] = (secondNeedsGrad ? BOTH_SIDES : 0) | (lead === 1 ? BIAS_FIRST : 0);
      } else if (products === 0 && !hasProduct(S, start, end)) {
        code[w] = SUM;
        A[w] = args.length;
        N[w] = n;
        for (let k = start; k < end; k++) args.push(slot[F[k]]);
      } else {
        code[w] = SUMPROD;
        A[w] = args.length;
        N[w] = n;
        for (let k = start; k < end; k++) {
          args.push(slot[F[k]]);
          args.push(S[k] < 0 ? one : slot[S[k]]);
        }
      }
    } else if (kindOf === SELECT) {
      code[w] = SELECT;
      A[w] = slot[insA.data[i]];
      N[w] = n;
      C[w] = args.length;
      for (let k = start; k < end; k++) {
        const s = slot[F[k]];
        args.push(s);
        if (needsGrad[s]) grad = true;
      }
    } else {
      code[w] = kindOf;
      A[w] = slot[insA.data[i]];
      B[w] = slot[insB.data[i]];
      let bIsValue = kindOf !== CALL || (n & 1) === 1;
      if (kindOf === CALL) {
        const opIndex = n >> 1;
        let k = opSlot.get(opIndex);
        if (k === undefined) {
          k = ops.length;
          ops.push(OP_BY_INDEX[opIndex]);
          opSlot.set(opIndex, k);
        }
        N[w] = k;
        C[w] = n & 1;
      } else if (insB.data[i] >= nodeCount) bIsValue = false;
      grad = needsGrad[A[w]] === 1 || (bIsValue && needsGrad[B[w]] === 1);
    }
    // A relu of a dot that nothing else reads: one instruction, relu(dot), instead of two.
    if (
      fuse &&
      kindOf === RELU &&
      w > 0 &&
      code[w - 1] === DOT &&
      out[w - 1] === A[w] &&
      uses[insNode.data[i - 1]] === 1
    ) {
      w--;
      code[w] = DOT_RELU;
      out[w] = slot[id];
      instructionOf[id] = w;
      if (needsGrad[A[w + 1]]) needsGrad[out[w]] = 1;
      continue;
    }
    if (grad) {
      needsGrad[out[w]] = 1;
      backwardOrder.push(w);
    }
  }

  if (w < count) {
    code = code.slice(0, w);
    out = out.slice(0, w);
    A = A.slice(0, w);
    B = B.slice(0, w);
    N = N.slice(0, w);
    C = C.slice(0, w);
    dotFlags = dotFlags.slice(0, w);
    opIndices = opIndices.slice(0, w);
  }

  return { code, out, A, B, N, C, dotFlags, args, ops, opIndices, backwardOrder, instructionOf, one };
}

function hasPlain(second: Int32Array, start: number, end: number): boolean {
  for (let k = start; k < end; k++) if (second[k] < 0) return true;
  return false;
}

function hasProduct(second: Int32Array, start: number, end: number): boolean {
  for (let k = start; k < end; k++) if (second[k] >= 0) return true;
  return false;
}

/** The tape: the instructions encoded, the buffers they run on, and where each output's backward pass starts. */
export function encodeTape(
  order: Value[],
  selection: Selection,
  slots: Slots,
  opOf: Int32Array,
  uses: Int32Array,
  outputs: Value[],
  inputCount: number,
  template: Template,
  fuse: boolean,
): Tape {
  const nodeCount = order.length;

  const { code, out, A, B, N, C, dotFlags, args, ops, opIndices, backwardOrder, instructionOf, one } = encode(
    selection,
    slots,
    opOf,
    uses,
    fuse,
  );
  const { constants } = selection;
  const { slot, parameters, inputStart, constantsStart, outputStart, slotCount } = slots;

  // 6. The buffers, and where each output's backward pass starts.
  const values = new Float64Array(slotCount);
  for (let k = 0; k < constants.length; k++) values[constantsStart + k] = constants[k];
  const outputSlots = new Int32Array(outputs.length);
  const outputReach = new Int32Array(outputs.length);
  const backwardList = backwardOrder.data.slice(0, backwardOrder.length);
  outputs.forEach((root, k) => {
    const id = positionOf(root);
    outputSlots[k] = slot[id];
    const i = instructionOf[id];
    // Entries of backwardOrder up to and including instruction i (it is sorted).
    let low = 0;
    let high = backwardList.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (backwardList[mid] <= i) low = mid + 1;
      else high = mid;
    }
    outputReach[k] = low;
  });

  return {
    code,
    out,
    a: A,
    b: B,
    n: N,
    c: C,
    dotFlags,
    args: args.data.slice(0, args.length),
    ops,
    backwardOrder: backwardList,
    values,
    grads: new Float64Array(slotCount),
    parameters,
    inputStart,
    inputCount,
    outputSlots,
    outputReach,
    template,
    nodeCount,
    generation: 0,
    opIndices,
    constantsStart,
    outputStart,
    one,
    verified: false,
  };
}
