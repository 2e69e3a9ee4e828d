// The replay of a group of rows (rows.ts): the dots of a layer that share a run, four rows to a
// pass over it. The forward and reverse loops (replay.ts) hand a group here at its first row.
import { BIAS_FIRST, BOTH_SIDES, RELU_ROWS, type Tape } from "./tape.js";

/**
 * The run the rows of the group that `head` begins share (rows.ts), and each row's own: the
 * shared run is the input of a layer's rows of weights (b), or one row of weights that the
 * rows multiply by the inputs of several positions (a).
 */
function runsOf(tape: Tape, head: number): { sharedIsA: boolean; shared: number; own: Int32Array } {
  const next = tape.nextRow[head];
  const sharedIsA = tape.a[next] === tape.a[head];
  return sharedIsA
    ? { sharedIsA, shared: tape.a[head], own: tape.b }
    : { sharedIsA, shared: tape.b[head], own: tape.a };
}

/**
 * The rows of the group that `head` begins, four at a time: four sums, each in its own order,
 * share each load of the shared run. Returns -1, or the first row without a finite result.
 */
export function forwardRows(tape: Tape, head: number): number {
  const { count, bias, out, nextRow, values: v } = tape;
  const { shared, own } = runsOf(tape, head);
  const n = count[head];
  const biasFirst = (tape.flags[head] & BIAS_FIRST) !== 0;
  const relu = (tape.flags[head] & RELU_ROWS) !== 0;
  const hasBias = bias[head] >= 0;
  let r0 = head;
  for (;;) {
    const r1 = nextRow[r0];
    const r2 = r1 < 0 ? -1 : nextRow[r1];
    const r3 = r2 < 0 ? -1 : nextRow[r2];
    if (r3 < 0) break;
    const w0 = own[r0];
    const w1 = own[r1];
    const w2 = own[r2];
    const w3 = own[r3];
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    if (biasFirst) {
      s0 += v[bias[r0]];
      s1 += v[bias[r1]];
      s2 += v[bias[r2]];
      s3 += v[bias[r3]];
    }
    for (let k = 0; k < n; k++) {
      const x = v[shared + k];
      s0 += v[w0 + k] * x;
      s1 += v[w1 + k] * x;
      s2 += v[w2 + k] * x;
      s3 += v[w3 + k] * x;
    }
    if (hasBias && !biasFirst) {
      s0 += v[bias[r0]];
      s1 += v[bias[r1]];
      s2 += v[bias[r2]];
      s3 += v[bias[r3]];
    }
    v[out[r0]] = relu ? reluOfSum(s0) : s0;
    v[out[r1]] = relu ? reluOfSum(s1) : s1;
    v[out[r2]] = relu ? reluOfSum(s2) : s2;
    v[out[r3]] = relu ? reluOfSum(s3) : s3;
    r0 = nextRow[r3];
    if (r0 < 0) break;
  }
  for (let r = r0; r >= 0; r = nextRow[r]) {
    const w = own[r];
    let s = 0;
    if (biasFirst) s += v[bias[r]];
    for (let k = 0; k < n; k++) s += v[w + k] * v[shared + k];
    if (hasBias && !biasFirst) s += v[bias[r]];
    v[out[r]] = relu ? reluOfSum(s) : s;
  }
  for (let r = head; r >= 0; r = nextRow[r]) {
    const result = v[out[r]];
    if (result - result !== 0) return r;
  }
  return -1;
}

/** A ReLU of a sum, which keeps a sum out of range as it is (relu(−∞) would hide an overflow that eager reports). */
function reluOfSum(s: number): number {
  return s - s === 0 ? Math.max(s, 0) : s;
}

/** The rows of a group, then those of them with a gradient to pass on (reused from group to group). */
let groupRows: Int32Array = new Int32Array(256);
let liveRows: Int32Array = new Int32Array(256);

/**
 * The reverse of the rows of the group that `head` begins, as the reverse loop would run them
 * one at a time (the last row first), but four rows to a pass over the shared run: each of its
 * gradients adds the four rows' terms in that same order, and each gradient of a row's own run
 * gets its one term. A DOT's first run always gets gradients, its second with BOTH_SIDES.
 * Returns -1, or the first row (in the reverse loop's order) whose gradient is not finite.
 */
export function backwardRows(tape: Tape, head: number): number {
  const { count, bias, out, nextRow, values: v, grads: g } = tape;
  const relu = (tape.flags[head] & RELU_ROWS) !== 0;
  let rowCount = 0;
  for (let r = head; r >= 0; r = nextRow[r]) {
    if (rowCount === groupRows.length) {
      groupRows = grown(groupRows);
      liveRows = new Int32Array(groupRows.length);
    }
    groupRows[rowCount++] = r;
  }
  const live = liveRows;
  let liveCount = 0;
  for (let k = rowCount - 1; k >= 0; k--) {
    const r = groupRows[k];
    const d = g[out[r]];
    if (d === 0) continue;
    if (d - d !== 0) return r;
    // A relu passes the gradient where its input, the sum, was positive: where its output is.
    if (relu && !(v[out[r]] > 0)) continue;
    live[liveCount++] = r;
  }
  if (liveCount === 0) return -1;
  if (bias[head] >= 0) for (let l = 0; l < liveCount; l++) g[bias[live[l]]] += g[out[live[l]]];
  const { sharedIsA, shared, own } = runsOf(tape, head);
  const n = count[head];
  const bothSides = (tape.flags[head] & BOTH_SIDES) !== 0;
  const ownGetGrads = sharedIsA ? bothSides : true;
  const sharedGetsGrads = sharedIsA ? true : bothSides;
  let l = 0;
  for (; l + 3 < liveCount; l += 4) {
    const w0 = own[live[l]];
    const w1 = own[live[l + 1]];
    const w2 = own[live[l + 2]];
    const w3 = own[live[l + 3]];
    const d0 = g[out[live[l]]];
    const d1 = g[out[live[l + 1]]];
    const d2 = g[out[live[l + 2]]];
    const d3 = g[out[live[l + 3]]];
    if (ownGetGrads && sharedGetsGrads) {
      // Both in one pass: the runs do not overlap (rows.ts), so each gradient still gets its
      // terms in the same order, and each number is loaded once.
      for (let k = 0; k < n; k++) {
        const x = v[shared + k];
        const x0 = v[w0 + k];
        const x1 = v[w1 + k];
        const x2 = v[w2 + k];
        const x3 = v[w3 + k];
        g[w0 + k] += d0 * x;
        g[w1 + k] += d1 * x;
        g[w2 + k] += d2 * x;
        g[w3 + k] += d3 * x;
        g[shared + k] = g[shared + k] + d0 * x0 + d1 * x1 + d2 * x2 + d3 * x3;
      }
    } else if (ownGetGrads) {
      for (let k = 0; k < n; k++) {
        const x = v[shared + k];
        g[w0 + k] += d0 * x;
        g[w1 + k] += d1 * x;
        g[w2 + k] += d2 * x;
        g[w3 + k] += d3 * x;
      }
    } else if (sharedGetsGrads) {
      for (let k = 0; k < n; k++) {
        g[shared + k] = g[shared + k] + d0 * v[w0 + k] + d1 * v[w1 + k] + d2 * v[w2 + k] + d3 * v[w3 + k];
      }
    }
  }
  for (; l < liveCount; l++) {
    const w = own[live[l]];
    const d = g[out[live[l]]];
    for (let k = 0; k < n; k++) {
      if (ownGetGrads) g[w + k] += d * v[shared + k];
      if (sharedGetsGrads) g[shared + k] += d * v[w + k];
    }
  }
  return -1;
}

function grown(list: Int32Array): Int32Array {
  const bigger = new Int32Array(2 * list.length);
  bigger.set(list);
  return bigger;
}
