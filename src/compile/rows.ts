// Rows: the dots of a layer that read one input (or one row of weights), grouped to run as one
// matrix-vector product.
//
// A linear layer is one DOT per output, each over its own row of weights and the same input.
// Replayed one at a time, each dot is a chain of dependent additions, bound by the latency of
// an add; replayed four rows at a time, four independent chains share each load of the input
// and keep the processor busy. Each row's sum still runs in its own order, so the numbers do
// not change: the grouping is a way of running the instructions, not new instructions (the
// listing and the errors name the rows as before).
//
// The rows of a group are DOTs (or DOT_RELUs) of the same length and flags, all with a plain
// term (a bias) or all without, that share one of their two runs: the input (the rows of a
// layer's weights times one input) or the weights (one row of weights times the inputs of
// several positions, as a transformer's keys and values of the earlier positions, which eager
// order visits one after another: each weight is then loaded once for four positions). Other instructions may lie between them, as the
// residual add that follows each row of a transformer's projection: the forward loop runs the
// whole group at its first row, the reverse loop when it is back at the first row, after every
// instruction between. That is the same arithmetic in the same order as long as the rows' slots
// (their weights, input, biases and outputs) lie apart, and the instructions between neither
// write nor add gradients into the rows' weights, input or biases (reading a row's output is
// fine: it is ready, and its gradient is complete before the row's reverse runs); a group ends
// where that would fail.
import { DOT, DOT_RELU, listedArgs, RELU_ROWS, ROW, ROWS, SELECT, SUM, SUMPROD, type Tape } from "./tape.js";

/** Instructions between two rows of a group at most. */
const MAX_GAP = 4;
/**
 * The smallest group and the shortest dot worth grouping: fewer rows than a block of four run
 * one at a time anyway, and over a run of two or three (the first layer of a network on 2-D
 * points) the group's bookkeeping costs more than its independent sums save.
 */
const MIN_ROWS = 4;
const MIN_LENGTH = 4;

function rowsOf(head: number, nextRow: Int32Array): number {
  let rows = 0;
  for (let row = head; row >= 0; row = nextRow[row]) rows++;
  return rows;
}

/** Groups rows: their codes become ROWS (a group's first row) and ROW, and nextRow links them. */
export function groupRows(tape: Tape): void {
  const { code } = tape;
  const n = code.length;
  const groupHead = Int32Array.from(code, (_, i) => i);
  const nextRow = new Int32Array(n).fill(-1);
  const sendsGrad = new Uint8Array(n);
  for (const i of tape.backwardOrder) sendsGrad[i] = 1;
  // Per slot, the last group to see it, and how: read by a row, written by a row, or touched by
  // an instruction between rows (see Marks).
  const marks = new Int32Array(tape.values.length);
  for (let head = 0; head < n; head++) {
    if ((code[head] !== DOT && code[head] !== DOT_RELU) || groupHead[head] !== head) continue;
    if (!canHead(tape, head)) continue;
    const mark: Marks = { rowInput: 3 * head + 1, rowOutput: 3 * head + 2, between: 3 * head + 3 };
    claimRow(tape, head, marks, mark, undefined);
    let last = head;
    // Which run the rows share, once the second row says it.
    let shared: Shared | undefined;
    for (let j = head + 1; j < n && j - last <= MAX_GAP + 1; j++) {
      const share =
        groupHead[j] === j && sendsGrad[j] === sendsGrad[head] ? sharedRun(tape, head, j) : undefined;
      const isRow =
        share !== undefined &&
        (shared === undefined || share === shared) &&
        rowIsFree(tape, j, share, marks, mark);
      if (isRow) {
        shared = share;
        claimRow(tape, j, marks, mark, share);
        groupHead[j] = head;
        nextRow[last] = j;
        last = j;
      } else if (!markBetween(tape, j, marks, mark)) {
        break;
      }
    }
    if (rowsOf(head, nextRow) < MIN_ROWS) {
      for (let row = head; row >= 0; ) {
        const next = nextRow[row];
        groupHead[row] = row;
        nextRow[row] = -1;
        row = next;
      }
    }
  }
  tape.nextRow = nextRow;
  for (let i = 0; i < n; i++) {
    if (groupHead[i] === i && nextRow[i] < 0) continue;
    if (code[i] === DOT_RELU) tape.flags[i] |= RELU_ROWS;
    code[i] = groupHead[i] === i ? ROWS : ROW;
  }
}

/**
 * Whether a dot may begin a group. A dot of a run with itself (a sum of squares), or whose
 * plain term is one of its own factors, adds twice into one gradient, in an order a group
 * would change; and a short dot gains less from a group than its bookkeeping costs.
 */
function canHead(tape: Tape, head: number): boolean {
  const { a, b, count, bias } = tape;
  const length = count[head];
  const inRun = (slot: number, start: number) => slot >= start && slot < start + length;
  if (length < MIN_LENGTH) return false;
  if (a[head] < b[head] + length && b[head] < a[head] + length) return false;
  const plain = bias[head];
  return !(plain >= 0 && (inRun(plain, a[head]) || inRun(plain, b[head])));
}

/** The run the rows of a group share: the second factors ("b", a layer's input) or the first ("a"). */
type Shared = "a" | "b";

/** Which run `row` shares with `head` as a row of its group, if it can be one. */
function sharedRun(tape: Tape, head: number, row: number): Shared | undefined {
  const { code, a, b, count, bias, flags } = tape;
  const alike =
    code[row] === code[head] &&
    count[row] === count[head] &&
    flags[row] === flags[head] &&
    bias[row] < 0 === bias[head] < 0;
  if (!alike) return undefined;
  if (b[row] === b[head]) return "b";
  return a[row] === a[head] ? "a" : undefined;
}

/** The marks of one group: distinct numbers for each group, so that the marks need no clearing. */
interface Marks {
  rowInput: number;
  rowOutput: number;
  between: number;
}

/**
 * Marks the slots of a row as the group's: the run it does not share with the others, its bias
 * and its output; for the first row (shared undefined), both runs.
 */
function claimRow(tape: Tape, row: number, marks: Int32Array, mark: Marks, shared: Shared | undefined): void {
  const { a, b, count, bias, out } = tape;
  if (shared !== "a") marks.fill(mark.rowInput, a[row], a[row] + count[row]);
  if (shared !== "b") marks.fill(mark.rowInput, b[row], b[row] + count[row]);
  if (bias[row] >= 0) marks[bias[row]] = mark.rowInput;
  marks[out[row]] = mark.rowOutput;
}

/** Whether a candidate row's own run, bias and output are the group's in no way and touched by nothing between. */
function rowIsFree(tape: Tape, row: number, shared: Shared, marks: Int32Array, mark: Marks): boolean {
  const { count, bias, out } = tape;
  const own = shared === "b" ? tape.a[row] : tape.b[row];
  const taken = (slot: number) =>
    marks[slot] === mark.rowInput || marks[slot] === mark.rowOutput || marks[slot] === mark.between;
  for (let k = own; k < own + count[row]; k++) if (taken(k)) return false;
  return !(bias[row] >= 0 && taken(bias[row])) && !taken(out[row]);
}

/**
 * Marks the slots an instruction between rows reads or writes; false (and the group ends) if
 * one of them is a row's weight, input or bias.
 */
function markBetween(tape: Tape, i: number, marks: Int32Array, mark: Marks): boolean {
  let apart = true;
  forEachSlot(tape, i, (slot) => {
    if (marks[slot] === mark.rowInput) apart = false;
    else if (marks[slot] !== mark.rowOutput) marks[slot] = mark.between;
  });
  return apart;
}

/** Every slot instruction i reads or writes. */
function forEachSlot(tape: Tape, i: number, visit: (slot: number) => void): void {
  const { code, out, a, b, count, bias, argsStart, args } = tape;
  visit(out[i]);
  switch (code[i]) {
    case DOT:
    case DOT_RELU:
      for (let k = 0; k < count[i]; k++) {
        visit(a[i] + k);
        visit(b[i] + k);
      }
      if (bias[i] >= 0) visit(bias[i]);
      return;
    case SUM:
    case SUMPROD:
    case SELECT: {
      const listed = listedArgs(tape, i);
      for (let k = argsStart[i]; k < argsStart[i] + listed; k++) visit(args[k]);
      if (code[i] === SELECT) visit(a[i]);
      return;
    }
    default:
      visit(a[i]);
      visit(b[i]);
  }
}
