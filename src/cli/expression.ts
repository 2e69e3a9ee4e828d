// A small arithmetic language for `micrograd graph --expr`: numbers, named inputs, + - * / ^,
// unary minus, parentheses and the engine's one-argument functions, e.g. "tanh(x1*w1 + x2*w2 + b)".
import { Value } from "../engine.js";

const FUNCTIONS = ["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "softplus", "neg"] as const;
type FunctionName = (typeof FUNCTIONS)[number];

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

/**
 * Builds the Value graph of `source`, each name bound to a leaf Value labelled with that name.
 * Every name must be in `inputs`, and every input must be used.
 */
export function evaluateExpression(source: string, inputs: Record<string, number>): Value {
  const leaves = new Map<string, Value>();
  for (const [name, data] of Object.entries(inputs)) leaves.set(name, new Value(data, name));
  const used = new Set<string>();
  // Literal numbers stay constants, so that x^2 is a power with a number exponent.
  const constants = new WeakSet<Value>();
  const constant = (data: number) => {
    const value = new Value(data);
    constants.add(value);
    return value;
  };
  const tokens = tokenize(source);
  let at = 0;
  const peek = () => tokens[at];
  const fail = (message: string): never => {
    throw new ExpressionError(`${message} at column ${peek().position + 1} of "${source}"`, peek().position);
  };
  const expect = (text: string) => {
    if (peek().text !== text) fail(`expected "${text}" but found ${describe(peek().text)}`);
    at++;
  };

  // Precedence climbing by grammar levels: sum → product → unary → power → atom.
  const sum = (): Value => {
    let left = product();
    while (peek().text === "+" || peek().text === "-") {
      const operator = tokens[at++].text;
      const right = product();
      left = operator === "+" ? left.add(right) : left.sub(right);
    }
    return left;
  };
  const product = (): Value => {
    let left = unary();
    while (peek().text === "*" || peek().text === "/") {
      const operator = tokens[at++].text;
      const right = unary();
      left = operator === "*" ? left.mul(right) : left.div(right);
    }
    return left;
  };
  // The parser recurses once per nesting level, so the nesting is bounded rather than the stack.
  let depth = 0;
  const unary = (): Value => {
    if (++depth > 200) fail("the expression is nested more than 200 levels deep");
    try {
      return unaryUnbounded();
    } finally {
      depth--;
    }
  };
  const unaryUnbounded = (): Value => {
    if (peek().text === "-") {
      at++;
      const operand = unary();
      return constants.has(operand) ? constant(-operand.data) : operand.neg();
    }
    return power();
  };
  const power = (): Value => {
    const base = atom();
    if (peek().text !== "^") return base;
    at++;
    const exponent = unary(); // right-associative: 2^3^2 = 2^(3^2)
    return base.pow(constants.has(exponent) ? exponent.data : exponent);
  };
  const atom = (): Value => {
    const token = peek();
    if (token.kind === "number") {
      at++;
      return constant(Number(token.text));
    }
    if (token.kind === "name") {
      at++;
      if (peek().text === "(") {
        if (!(FUNCTIONS as readonly string[]).includes(token.text)) {
          at--;
          fail(`unknown function "${token.text}" (known: ${FUNCTIONS.join(", ")})`);
        }
        at++;
        const argument = sum();
        expect(")");
        return argument[token.text as FunctionName]();
      }
      const leaf = leaves.get(token.text);
      if (!leaf) {
        at--;
        fail(`"${token.text}" has no value (give it one, e.g. --values ${token.text}=1)`);
      }
      used.add(token.text);
      return leaf as Value;
    }
    if (token.text === "(") {
      at++;
      const inner = sum();
      expect(")");
      return inner;
    }
    return fail(`expected a number, a name or "(" but found ${describe(token.text)}`);
  };

  const result = sum();
  if (peek().kind !== "end") fail(`unexpected ${describe(peek().text)}`);
  const unused = [...leaves.keys()].filter((name) => !used.has(name));
  if (unused.length > 0) {
    throw new ExpressionError(`values given for names the expression does not use: ${unused.join(", ")}`, 0);
  }
  return result;
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
        `unexpected character "${source[column]}" at column ${column + 1} of "${source}"`,
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

function describe(text: string): string {
  return text === "" ? "the end" : `"${text}"`;
}
