// Listing, in the manner of a jaxpr: one instruction per line.
import {
  ADD,
  BIAS_FIRST,
  DIV,
  DOT,
  DOT_RELU,
  isRelu,
  MUL,
  OP_BY_INDEX,
  POWK,
  ROW,
  ROWS,
  SELECT,
  SUB,
  SUM,
  SUMPROD,
  type Tape,
} from "./tape.js";

const SYMBOLS: Record<number, string> = { [ADD]: "+", [SUB]: "-", [MUL]: "*", [DIV]: "/", [POWK]: "^" };

/** The tape as text: a line of counts, one line per instruction (`t3 = tanh t2`), the outputs. */
export function listing(tape: Tape): string {
  const { code, out, values } = tape;
  const slotName = new Map<number, string>();
  for (let i = 0; i < code.length; i++) slotName.set(out[i], `t${i}`);
  const name = (s: number): string => {
    if (s < tape.inputStart) return `p${s}`;
    if (s < tape.constantsStart) return `x${s - tape.inputStart}`;
    if (s < tape.outputStart) return String(values[s]);
    return slotName.get(s) ?? `?${s}`;
  };
  const lines = [
    `compiled trace: ${plural(tape.parameters.length, "parameter")} (p), ${plural(tape.inputCount, "input")} (x), ${plural(tape.outputStart - tape.constantsStart, "constant")}, ${plural(code.length, "instruction")} for ${plural(tape.nodeCount, "node")}${groupsText(tape)}`,
  ];
  for (let i = 0; i < code.length; i++) lines.push(`  t${i} = ${instructionText(tape, i, name)}`);
  lines.push(`  out (${Array.from(tape.outputSlots, name).join(", ")})`);
  return lines.join("\n");
}

/** How many dots replay as rows of a matrix-vector product (rows.ts), if any. */
function groupsText(tape: Tape): string {
  let groups = 0;
  let rows = 0;
  for (const code of tape.code) {
    if (code === ROWS) groups++;
    if (code === ROWS || code === ROW) rows++;
  }
  return groups === 0 ? "" : `; ${plural(rows, "dot")} run as ${plural(groups, "matrix-vector product")}`;
}

function instructionText(tape: Tape, i: number, name: (slot: number) => string): string {
  const { a, b, count, bias, argsStart, args } = tape;
  const listed = (start: number, n: number) => Array.from(args.subarray(start, start + n), name).join(", ");
  switch (tape.code[i]) {
    case SUM:
      return `sum [${listed(argsStart[i], count[i])}]`;
    case SUMPROD: {
      const terms: string[] = [];
      for (let k = argsStart[i]; k < argsStart[i] + 2 * count[i]; k += 2) {
        terms.push(args[k + 1] === tape.one ? name(args[k]) : `${name(args[k])}·${name(args[k + 1])}`);
      }
      return `sum [${terms.join(", ")}]`;
    }
    case DOT:
    case DOT_RELU:
    case ROWS:
    case ROW: {
      // Parameters and inputs in a row read as a range; instruction outputs are listed.
      const range = (start: number, n: number) =>
        start < tape.constantsStart
          ? `${name(start)}…${name(start + n - 1)}`
          : Array.from({ length: n }, (_, k) => name(start + k)).join(", ");
      const products = `[${range(a[i], count[i])}]·[${range(b[i], count[i])}]`;
      const dot =
        (tape.flags[i] & BIAS_FIRST) !== 0
          ? `dot ${name(bias[i])} + ${products}`
          : `dot ${products}${bias[i] >= 0 ? ` + ${name(bias[i])}` : ""}`;
      return isRelu(tape, i) ? `relu(${dot})` : dot;
    }
    case SELECT:
      return `select ${name(a[i])} [${listed(argsStart[i], count[i])}]`;
    default: {
      const symbol = SYMBOLS[tape.code[i]];
      if (symbol !== undefined) return `${name(a[i])} ${symbol} ${name(b[i])}`;
      const op = OP_BY_INDEX[tape.opIndex[i]];
      return op.arity === 1 ? `${op.name} ${name(a[i])}` : `${op.name} ${name(a[i])} ${name(b[i])}`;
    }
  }
}

export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
