// A small arithmetic language for `micrograd graph --expr`: numbers, named inputs, + - * / ^,
// unary minus, parentheses and the engine's one-argument functions, e.g. "tanh(x1*w1 + x2*w2 + b)".
import { OPERATIONS, type Op, Value } from "../engine.js";

/** The engine's one-input operations, each a Value method of its name. */
const FUNCTIONS = (Object.values(OPERATIONS) as Op[]).filter((op) => op.arity === 1).map((op) => op.name);
type FunctionName = string;

/** The expression could not be read; `position` is the 0-based character where reading stopped. */
export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = "ExpressionError";
  }
}

/** The longest expression `evaluateExpression` reads, in characters. */
export const MAX_EXPRESSION_LENGTH = 100_000;

/** Binding strength of the binary operators; "^" groups from the right (2^3^2 = 2^9). */
const PRECEDENCE: Record<string, number> = { "+": 1, "-": 1, "*": 2, "/": 2, "^": 4 };
/** Unary minus binds tighter than * but looser than ^: -2^2 = -4, 2*-3 = -6. */
const NEGATE_PRECEDENCE = 3;

/** What waits on the operator stack: a binary operator, a unary minus, or an open parenthesis (of a function call or not). */
type Pending =
  | { kind: "binary"; text: string; position: number }
  | { kind: "negate"; position: number }
  | { kind: "open"; fn?: FunctionName; position: number };

/**
 * Builds the Value graph of `source`, each name bound to a leaf Value labelled with that name.
 * Every name must be in `inputs`, and every input must be used. The parser keeps its own
 * stacks (operator precedence, shunting-yard), so a sum of thousands of terms or parentheses
 * nested thousands deep need no call stack.
 */
export function evaluateExpression(source: string, inputs: Record<string, number>): Value {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(
      `the expression has ${source.length} characters, more than the ${MAX_EXPRESSION_LENGTH} allowed`,
      MAX_EXPRESSION_LENGTH,
    );
  }
  const leaves = new Map<string, Value>();
  for (const [name, data] of Object.entries(inputs)) leaves.set(name, new Value(data, name));
  const parser: Parser = {
    source,
    leaves,
    used: new Set<string>(),
    constants: new WeakSet<Value>(),
    operands: [],
    pending: [],
  };
  const tokens = tokenize(source);

  // Two states: expecting an operand (a number, a name, a call, "(" or a unary minus) or an operator.
  let expectOperand = true;
  for (let at = 0; at < tokens.length; at++) {
    const token = tokens[at];
    if (!expectOperand) {
      if (token.kind === "end") break;
      expectOperand = readOperator(parser, token);
    } else if (token.kind === "name" && tokens[at + 1].text === "(") {
      if (!FUNCTIONS.includes(token.text)) {
        fail(parser, `unknown function "${token.text}" (known: ${FUNCTIONS.join(", ")})`, token);
      }
      parser.pending.push({ kind: "open", fn: token.text, position: token.position });
      at++;
    } else {
      expectOperand = !readOperand(parser, token);
    }
  }
  if (openParenthesis(parser)) fail(parser, 'expected ")" but found the end', tokens[tokens.length - 1]);
  while (parser.pending.length > 0) apply(parser, parser.pending.pop() as Pending);
  const result = parser.operands.pop() as Value;
  const unused = [...leaves.keys()].filter((name) => !parser.used.has(name));
  if (unused.length > 0) {
    throw new ExpressionError(`values given for names the expression does not use: ${unused.join(", ")}`, 0);
  }
  return result;
}

/** The parser's state: the leaves by name (and which are used), and its two stacks. */
interface Parser {
  source: string;
  leaves: Map<string, Value>;
  used: Set<string>;
  /** Literal numbers stay constants, so that x^2 is a power with a number exponent. */
  constants: WeakSet<Value>;
  operands: Value[];
  pending: Pending[];
}

function fail(parser: Parser, message: string, token: Token): never {
  throw new ExpressionError(
    `${message} at column ${token.position + 1} of ${excerpt(parser.source, token.position)}`,
    token.position,
  );
}

function constant(parser: Parser, data: number): Value {
  const value = new Value(data);
  parser.constants.add(value);
  return value;
}

/**
 * Where an operand is expected: a number or a name (true: an operand is read), or "(" or a
 * unary minus, which wait on the stack for theirs (false).
 */
function readOperand(parser: Parser, token: Token): boolean {
  if (token.kind === "number") {
    const data = Number(token.text);
    if (!Number.isFinite(data)) fail(parser, `the number ${token.text} is too large`, token);
    parser.operands.push(constant(parser, data));
    return true;
  }
  if (token.kind === "name") {
    const leaf = parser.leaves.get(token.text);
    if (!leaf)
      fail(parser, `"${token.text}" has no value (give it one, e.g. --values ${token.text}=1)`, token);
    parser.used.add(token.text);
    parser.operands.push(leaf as Value);
    return true;
  }
  if (token.text === "(") {
    parser.pending.push({ kind: "open", position: token.position });
  } else if (token.text === "-") {
    parser.pending.push({ kind: "negate", position: token.position });
  } else {
    fail(parser, `expected a number, a name or "(" but found ${describe(token.text)}`, token);
  }
  return false;
}

/**
 * Where an operator is expected: a binary operator (first applying those on the stack that bind
 * at least as tightly; then an operand is expected, true) or a ")" that closes a parenthesis or
 * a call (false).
 */
function readOperator(parser: Parser, token: Token): boolean {
  const { pending, operands } = parser;
  if (token.kind === "symbol" && token.text in PRECEDENCE) {
    const incoming = PRECEDENCE[token.text];
    const rightAssociative = token.text === "^";
    for (;;) {
      const top = pending[pending.length - 1];
      if (top === undefined || top.kind === "open") break;
      const topStrength = strength(top);
      if (topStrength > incoming || (topStrength === incoming && !rightAssociative))
        apply(parser, pending.pop() as Pending);
      else break;
    }
    pending.push({ kind: "binary", text: token.text, position: token.position });
    return true;
  }
  if (token.text === ")" && openParenthesis(parser)) {
    let top = pending.pop() as Pending;
    while (top.kind !== "open") {
      apply(parser, top);
      top = pending.pop() as Pending;
    }
    if (top.fn) operands.push((operands.pop() as unknown as Record<FunctionName, () => Value>)[top.fn]());
    return false;
  }
  if (openParenthesis(parser)) fail(parser, `expected ")" but found ${describe(token.text)}`, token);
  return fail(parser, `unexpected ${describe(token.text)}`, token);
}

/** Applies an operator from the stack to the operands it takes. */
function apply(parser: Parser, operator: Pending): void {
  const { operands, constants } = parser;
  if (operator.kind === "negate") {
    const operand = operands.pop() as Value;
    operands.push(constants.has(operand) ? constant(parser, -operand.data) : operand.neg());
  } else if (operator.kind === "binary") {
    const right = operands.pop() as Value;
    const left = operands.pop() as Value;
    operands.push(
      operator.text === "+"
        ? left.add(right)
        : operator.text === "-"
          ? left.sub(right)
          : operator.text === "*"
            ? left.mul(right)
            : operator.text === "/"
              ? left.div(right)
              : left.pow(constants.has(right) ? right.data : right),
    );
  }
}

function strength(operator: Pending): number {
  return operator.kind === "binary"
    ? PRECEDENCE[operator.text]
    : operator.kind === "negate"
      ? NEGATE_PRECEDENCE
      : 0;
}

function openParenthesis(parser: Parser): boolean {
  return parser.pending.some((operator) => operator.kind === "open");
}

interface Token {
  kind: "number" | "name" | "symbol" | "end";
  text: string;
  position: number;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|([A-Za-z_]\w*)|([-+*/^()]))/y;
  let position = 0;
  while (position < source.length) {
    if (/^\s*$/.test(source.slice(position))) break;
    pattern.lastIndex = position;
    const match = pattern.exec(source);
    if (!match) {
      const column = position + (source.slice(position).length - source.slice(position).trimStart().length);
      throw new ExpressionError(
        `unexpected character "${source[column]}" at column ${column + 1} of ${excerpt(source, column)}`,
        column,
      );
    }
    const text = match[1] ?? match[2] ?? match[3];
    const start = pattern.lastIndex - text.length;
    tokens.push({ kind: match[1] ? "number" : match[2] ? "name" : "symbol", text, position: start });
    position = pattern.lastIndex;
  }
  tokens.push({ kind: "end", text: "", position: source.length });
  return tokens;
}

/** The most characters of an expression a message quotes: a long one is shown around the error. */
const EXCERPT_LENGTH = 80;

/** `source` in quotes, or the 80 characters around `position` with "…" for what is left out. */
export function excerpt(source: string, position: number): string {
  if (source.length <= EXCERPT_LENGTH) return `"${source}"`;
  const start = Math.max(0, Math.min(position - EXCERPT_LENGTH / 2, source.length - EXCERPT_LENGTH));
  const end = start + EXCERPT_LENGTH;
  return `"${start > 0 ? "…" : ""}${source.slice(start, end)}${end < source.length ? "…" : ""}"`;
}

function describe(text: string): string {
  return text === "" ? "the end" : `"${text}"`;
}
