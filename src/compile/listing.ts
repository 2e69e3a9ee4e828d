// Listing, in the manner of a jaxpr: one instruction per line.
import { nameOf } from "./replay.js";
import {
  ADD,
  BIAS_FIRST,
  CALL,
  DIV,
  DOT,
  DOT_RELU,
  LEAKY,
  MAX,
  MUL,
  POWK,
  SELECT,
  SUB,
  SUM,
  SUMPROD,
  type Tape,
} from "./tape.js";

const SYMBOLS: Record<number, string> = { [ADD]: "+", [SUB]: "-", [MUL]: "*", [DIV]: "/", [POWK]: "^" };

export function listing(tape: Tape): string {
  const { code, out, a: A, b: B, n: N, c: C, args, values } = tape;
  const slotName = new Map<number, string>();
  for (let i = 0; i < code.length; i++) slotName.set(out[i], `t${i}`);
  const name = (s: number): string => {
    if (s < tape.inputStart) return `p${s}`;
    if (s < tape.constantsStart) return `x${s - tape.inputStart}`;
    if (s < tape.outputStart) return String(values[s]);
    return slotName.get(s) ?? `?${s}`;
  };
  // Parameters and inputs in a row read as a range; instruction outputs are listed.
  const range = (start: number, n: number) =>
    start < tape.constantsStart
      ? `${name(start)}…${name(start + n - 1)}`
      : Array.from({ length: n }, (_, k) => name(start + k)).join(", ");
  const lines = [
    `compiled trace: ${plural(tape.parameters.length, "parameter")} (p), ${plural(tape.inputCount, "input")} (x), ${plural(tape.outputStart - tape.constantsStart, "constant")}, ${plural(code.length, "instruction")} for ${plural(tape.nodeCount, "node")}`,
  ];
  for (let i = 0; i < code.length; i++) {
    const a = A[i];
    const b = B[i];
    let text: string;
    switch (code[i]) {
      case ADD:
      case SUB:
      case MUL:
      case DIV:
      case POWK:
        text = `${name(a)} ${SYMBOLS[code[i]]} ${name(b)}`;
        break;
      case LEAKY:
      case MAX:
        text = `${nameOf(tape, i)} ${name(a)} ${name(b)}`;
        break;
      case CALL:
        text =
          C[i] === 1 || nameOf(tape, i) === "pow"
            ? `${nameOf(tape, i)} ${name(a)} ${name(b)}`
            : `${nameOf(tape, i)} ${name(a)}`;
        break;
      case SUM:
        text = `sum [${Array.from(args.subarray(a, a + N[i]), name).join(", ")}]`;
        break;
      case SUMPROD: {
        const terms: string[] = [];
        for (let k = a; k < a + 2 * N[i]; k += 2) {
          terms.push(args[k + 1] === tape.one ? name(args[k]) : `${name(args[k])}·${name(args[k + 1])}`);
        }
        text = `sum [${terms.join(", ")}]`;
        break;
      }
      case DOT:
      case DOT_RELU: {
        const products = `[${range(a, N[i])}]·[${range(b, N[i])}]`;
        const dot =
          (tape.dotFlags[i] & BIAS_FIRST) !== 0
            ? `dot ${name(C[i])} + ${products}`
            : `dot ${products}${C[i] >= 0 ? ` + ${name(C[i])}` : ""}`;
        text = code[i] === DOT_RELU ? `relu(${dot})` : dot;
        break;
      }
      case SELECT:
        text = `select ${name(a)} [${Array.from(args.subarray(C[i], C[i] + N[i]), name).join(", ")}]`;
        break;
      default:
        text = `${nameOf(tape, i)} ${name(a)}`;
    }
    lines.push(`  t${i} = ${text}`);
  }
  lines.push(`  out (${Array.from(tape.outputSlots, name).join(", ")})`);
  return lines.join("\n");
}

export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
