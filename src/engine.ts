// The autograd engine: a Value holds one number, remembers the operation and inputs
// that produced it, and backward() sends gradients from an output back to every input.
//
// Every operation is one row of the table below: its forward rule and its local
// derivatives side by side, on numbers (what backward() uses) and again on Values (what
// grad() uses with createGraph, in grad.ts: built from these same operations, so that a
// derivative can be differentiated again). Value's methods look an operation up and record
// a node; backward() walks the recorded graph and applies the chain rule.

/** What an operation takes: another Value, or a plain number used as a constant. */
export type Operand = Value | number;

/** An operation: how it computes its output and how the output changes with each input. */
export interface Op {
  /** @internal Its index in OP_LIST. */
  readonly index: number;
  /** The method's name, used in error messages: `log`, `mul`. */
  readonly name: string;
  /** The short symbol drawn in computation graphs: `+`, `*`, `tanh`. */
  readonly symbol: string;
  readonly forward: (a: number, b: number) => number;
  /** ∂out/∂a, given both inputs and the output (reusing the output often saves work). */
  readonly da: (a: number, b: number, out: number) => number;
  /** ∂out/∂b, for operations whose second operand may be a Value. */
  readonly db: (a: number, b: number, out: number) => number;
  /**
   * ∂out/∂a as a Value built from the engine's operations (differentiable again), given the
   * node's inputs and the node itself; a plain number where the derivative is constant on
   * each side of a kink (relu: 0 or 1), whose own derivative is then 0. `b` is whatever the
   * node holds: a Value, or the constant number (0 for a one-input operation). Declared as
   * a method so that a row may narrow b to what its operation holds (pow: a Value, powk: a number).
   */
  daValue(a: Value, b: Operand, out: Value): Operand;
  /** ∂out/∂b as a Value, or a number where it is constant (see daValue). */
  dbValue(a: Value, b: Operand, out: Value): Operand;
  /** Why the forward rule gave no finite number for these inputs. */
  readonly explain: (a: number, b: number) => string;
  /** Its operands: 1 (no second), 2 (a Value or a constant number), "list" (sum: the terms; select: an index and the candidates), 0 for a leaf. */
  readonly arity: 0 | 1 | 2 | "list";
  /** @internal Whether a compiled replay computes it in its own loop (an instruction code of compile/tape.ts) instead of calling forward/da/db. */
  readonly inline: boolean;
  /** The ONNX operator that computes it, where there is one. */
  readonly onnx?: string;
}

// Every operation, in the order defined; a node stores its operation as an index here (see Value.code).
const OP_LIST: Op[] = [];

const overflow = () => "result overflows";
const noDerivative = () => 0;
/** A rule on Values that is the rule on numbers, taken as a constant: the derivative is piecewise constant. */
const constant = "constant";

function op(
  name: string,
  symbol: string,
  forward: Op["forward"],
  da: Op["da"],
  db: Op["db"],
  daValue: Op["daValue"] | typeof constant,
  dbValue: Op["dbValue"] | typeof constant,
  {
    arity,
    inline = false,
    onnx,
    explain = overflow,
  }: Pick<Op, "arity"> & Partial<Pick<Op, "inline" | "onnx" | "explain">>,
): Op {
  const onValues = (rule: Op["da"]) => (a: Value, b: Operand, out: Value) =>
    rule(a.data, typeof b === "number" ? b : b.data, out.data);
  const entry = {
    index: OP_LIST.length,
    name,
    symbol,
    forward,
    da,
    db,
    daValue: daValue === constant ? onValues(da) : daValue,
    dbValue: dbValue === constant ? onValues(db) : dbValue,
    explain,
    arity,
    inline,
    onnx,
  };
  OP_LIST.push(entry);
  return entry;
}

// Computed so that exp never sees a large positive argument: no overflow at ±1000.
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

// biome-ignore format: the table is aligned so that each rule reads across one line
const OPS = {
  //                    forward                                 ∂out/∂a                         ∂out/∂b
  //                                                            ∂out/∂a on Values               ∂out/∂b on Values
  //                    operands, replayed inline by compile, ONNX operator, why there is no finite result
  add:  op("add", "+",  (a, b) => a + b,                        () => 1,                        () => 1,
                                                                constant,                       constant,
                        { arity: 2, inline: true, onnx: "Add" }),
  sub:  op("sub", "-",  (a, b) => a - b,                        () => 1,                        () => -1,
                                                                constant,                       constant,
                        { arity: 2, inline: true, onnx: "Sub" }),
  mul:  op("mul", "*",  (a, b) => a * b,                        (_a, b) => b,                   (a) => a,
                                                                (_a, b) => b,                   (a) => a,
                        { arity: 2, inline: true, onnx: "Mul" }),
  div:  op("div", "/",  (a, b) => a / b,                        (_a, b) => 1 / b,               (_a, b, out) => -out / b,
                                                                (_a, b) => (typeof b === "number" ? 1 / b : b.pow(-1)), (_a, b, out) => out.div(b).neg(),
                        { arity: 2, inline: true, onnx: "Div", explain: (_a, b) => (b === 0 ? "division by zero" : "result overflows") }),
  // The exponent is a Value, so its gradient needs log(base): the base must not be negative.
  pow:  op("pow", "^",  (a, b) => (a < 0 ? Number.NaN : a ** b), (a, b) => (b === 0 ? 0 : b * a ** (b - 1)), (a, _b, out) => (out === 0 ? 0 : out * Math.log(a)),
                                                                // b·a^(b−1) on Values too, but a^(b−1) is not formed where it is 0^−1 and b is 0.
                                                                (a, b: Value) => (a.data === 0 && b.data === 0 ? 0 : b.mul(a.pow(b.sub(1)))), (a, _b, out) => (out.data === 0 ? 0 : out.mul(a.log())),
                        { arity: 2, onnx: "Pow", explain: (a, b) => (a < 0 ? "base must be >= 0 when the exponent is a Value" : a === 0 && b < 0 ? "0 to a negative power" : "result overflows") }),
  // The exponent is a constant number: any base its power is defined for.
  powk: op("pow", "^",  (a, k) => a ** k,                       (a, k) => (k === 0 ? 0 : k * a ** (k - 1)), noDerivative,
                                                                (a, k: number) => (k === 0 ? 0 : k === 1 ? 1 : a.pow(k - 1).mul(k)), noDerivative,
                        { arity: 2, inline: true, onnx: "Pow", explain: (a, k) => (a === 0 && k < 0 ? "0 to a negative power" : a < 0 && !Number.isInteger(k) ? "negative base to a fractional power" : "result overflows") }),
  neg:  op("neg", "neg", (a) => -a,                             () => -1,                       noDerivative,
                                                                constant,                       noDerivative,
                        { arity: 1, inline: true, onnx: "Neg" }),
  exp:  op("exp", "exp", (a) => Math.exp(a),                    (_a, _b, out) => out,           noDerivative,
                                                                (_a, _b, out) => out,           noDerivative,
                        { arity: 1, inline: true, onnx: "Exp" }),
  log:  op("log", "log", (a) => Math.log(a),                    (a) => 1 / a,                   noDerivative,
                                                                (a) => a.pow(-1),               noDerivative,
                        { arity: 1, inline: true, onnx: "Log", explain: () => "input must be > 0" }),
  sqrt: op("sqrt", "sqrt", (a) => Math.sqrt(a),                 (_a, _b, out) => 0.5 / out,     noDerivative,
                                                                (_a, _b, out) => out.pow(-1).mul(0.5), noDerivative,
                        { arity: 1, onnx: "Sqrt", explain: () => "input must be >= 0" }),
  // Its derivative is the sign, constant on each side, so abs'' = 0 away from 0.
  abs:  op("abs", "abs", (a) => Math.abs(a),                    (a) => Math.sign(a),            noDerivative,
                                                                constant,                       noDerivative,
                        { arity: 1, onnx: "Abs" }),
  tanh: op("tanh", "tanh", (a) => Math.tanh(a),                 (_a, _b, out) => 1 - out * out, noDerivative,
                                                                (_a, _b, out) => out.mul(out).neg().add(1), noDerivative,
                        { arity: 1, inline: true, onnx: "Tanh" }),
  sigmoid: op("sigmoid", "sigmoid", sigmoid,                    (_a, _b, out) => out * (1 - out), noDerivative,
                                                                (_a, _b, out) => out.mul(out.neg().add(1)), noDerivative,
                        { arity: 1, onnx: "Sigmoid" }),
  relu: op("relu", "ReLU", (a) => Math.max(a, 0),                (a) => (a > 0 ? 1 : 0),        noDerivative,
                                                                constant,                       noDerivative,
                        { arity: 1, inline: true, onnx: "Relu" }),
  // The slope for negative inputs rides along as the constant second operand (ONNX's alpha).
  leakyRelu: op("leakyRelu", "LeakyReLU", (a, s) => (a > 0 ? a : s * a), (a, s) => (a > 0 ? 1 : s), noDerivative,
                                                                constant,                       noDerivative,
                        { arity: 2, inline: true, onnx: "LeakyRelu" }),
  // log(1 + e^a), written so that e^a is never formed for large a.
  softplus: op("softplus", "softplus", (a) => Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a))), (a) => sigmoid(a), noDerivative,
                                                                (a) => a.sigmoid(),             noDerivative,
                        { arity: 1, onnx: "Softplus" }),
  // The larger input; on a tie the gradient goes to the first.
  max:  op("max", "max", (a, b) => Math.max(a, b),              (a, b) => (a >= b ? 1 : 0),    (a, b) => (a >= b ? 0 : 1),
                                                                constant,                       constant,
                        { arity: 2, inline: true, onnx: "Max" }),
  // n-ary: the inputs are a list, each receiving the output's gradient unchanged.
  sum:  op("sum", "+",  (a, b) => a + b,                        () => 1,                        noDerivative,
                                                                constant,                       noDerivative,
                        { arity: "list", inline: true, onnx: "Sum" }),
  // b[a]: a is the index (a Value, so that a compiled trace can vary it) and b the list of
  // candidates; the rules see the chosen candidate as b. The index gets no gradient.
  select: op("select", "select", (_i, chosen) => chosen,        () => 0,                        () => 1,
                                                                constant,                       constant,
                        { arity: "list", inline: true }),
  leaf: op("value", "", () => 0,                                () => 0,                        noDerivative,
                                                                noDerivative,                   noDerivative,
                        { arity: 0 }),
} as const;

const LEAF = OPS.leaf.index;
const SUM = OPS.sum.index;
const SELECT = OPS.select.index;

// Labels are rare, so they live beside the nodes instead of costing every node a field.
const labels = new WeakMap<Value, string>();

let recording = true;
// Set while compile traces fn: every leaf made meanwhile (see collectingLeaves).
let leavesMade: Value[] | undefined;

/**
 * One scalar in a computation. `data` is its value; `grad` is d(output)/d(this value)
 * after `output.backward()`. Both are plain numbers that you may read and write.
 */
export class Value {
  data: number;
  grad = 0;
  /**
   * @internal The index of the operation that made this node, times two, plus one while
   * backward() is visiting it. Keeping the visited mark here, instead of in a field of its
   * own or in a Set, keeps a node at five fields (64 bytes) and backward() twice as fast.
   */
  code: number;
  /** @internal The first input (a select's index), or null for a leaf and for a sum. */
  readonly a: Value | null;
  /** @internal The second input: a Value, a constant number, a sum's terms or a select's candidates, or null. */
  readonly b: Operand | readonly Operand[] | null;

  constructor(data: number, label?: string);
  /** @internal */
  constructor(data: number, label: string | undefined, opIndex: number, a: Value | null, b: Value["b"]);
  constructor(data: number, label?: string, opIndex = LEAF, a: Value | null = null, b: Value["b"] = null) {
    if (opIndex === LEAF) {
      if (typeof data !== "number" || !Number.isFinite(data)) {
        throw new TypeError(`new Value(${show(data)}): data must be a finite number`);
      }
      if (label !== undefined) {
        if (typeof label !== "string") {
          throw new TypeError(`new Value(${data}, ${show(label)}): label must be a string`);
        }
        labels.set(this, label);
      }
      if (leavesMade !== undefined) leavesMade.push(this);
    }
    this.data = data;
    this.code = opIndex * 2;
    this.a = a;
    this.b = b;
  }

  /** The operation that produced this value (`op.name === "value"` for a leaf). */
  get op(): Op {
    return OP_LIST[this.code >> 1];
  }

  /** A name for pictures; empty unless given. */
  get label(): string {
    return labels.get(this) ?? "";
  }
  set label(name: string) {
    if (typeof name !== "string") throw new TypeError(`label must be a string, got ${show(name)}`);
    labels.set(this, name);
  }

  /** Names this value for pictures and returns it, so that it can end a chain: `a.mul(b).named("c")`. */
  named(label: string): this {
    this.label = label;
    return this;
  }

  /** The inputs this value was computed from, constants included, in order. */
  get inputs(): Operand[] {
    if (this.code >> 1 === SUM) return [...(this.b as readonly Operand[])];
    if (this.code >> 1 === SELECT) return [this.a as Value, ...(this.b as readonly Value[])];
    const inputs: Operand[] = [];
    if (this.a !== null) inputs.push(this.a);
    if (this.b !== null) inputs.push(this.b as Operand);
    return inputs;
  }

  add(other: Operand): Value {
    return record(OPS.add, this, operand(other, "add", this));
  }
  sub(other: Operand): Value {
    return record(OPS.sub, this, operand(other, "sub", this));
  }
  mul(other: Operand): Value {
    return record(OPS.mul, this, operand(other, "mul", this));
  }
  div(other: Operand): Value {
    return record(OPS.div, this, operand(other, "div", this));
  }
  /** this ** exponent. With a Value exponent the gradient flows to the exponent as well. */
  pow(exponent: Operand): Value {
    const k = operand(exponent, "pow", this);
    return record(typeof k === "number" ? OPS.powk : OPS.pow, this, k);
  }
  neg(): Value {
    return record(OPS.neg, this, null);
  }
  exp(): Value {
    return record(OPS.exp, this, null);
  }
  log(): Value {
    return record(OPS.log, this, null);
  }
  sqrt(): Value {
    return record(OPS.sqrt, this, null);
  }
  abs(): Value {
    return record(OPS.abs, this, null);
  }
  tanh(): Value {
    return record(OPS.tanh, this, null);
  }
  sigmoid(): Value {
    return record(OPS.sigmoid, this, null);
  }
  relu(): Value {
    return record(OPS.relu, this, null);
  }
  /** x where x > 0, slope·x elsewhere (usually 0 < slope < 1): a ReLU whose negative side still passes some gradient. */
  leakyRelu(slope = 0.01): Value {
    return record(OPS.leakyRelu, this, operand(slope, "leakyRelu", this));
  }
  softplus(): Value {
    return record(OPS.softplus, this, null);
  }
  /** The larger of this and other; the gradient flows to the one that is larger (this, on a tie). */
  max(other: Operand): Value {
    return record(OPS.max, this, operand(other, "max", this));
  }

  /** The largest of the terms, as a chain of `max`: softmax shifts by it, traceably. */
  static max(terms: readonly Value[]): Value {
    if (!Array.isArray(terms) || terms.length === 0 || !(terms[0] instanceof Value)) {
      throw new TypeError(`Value.max(${show(terms)}): expected a non-empty array of Values`);
    }
    let largest = terms[0];
    for (let i = 1; i < terms.length; i++) largest = largest.max(terms[i]);
    return largest;
  }

  /**
   * candidates[index]. With a number index it is a plain lookup. With a Value index (a token
   * id, a class label) the choice is recorded as a node, so that a compiled trace replays it
   * for whatever index comes next. The gradient reaches the chosen candidate only.
   */
  static select(candidates: readonly Value[], index: number | Value): Value {
    if (!Array.isArray(candidates) || candidates.length === 0) {
      throw new TypeError(`Value.select(${show(candidates)}): expected a non-empty array of Values`);
    }
    const i = index instanceof Value ? index.data : index;
    if (!Number.isInteger(i) || i < 0 || i >= candidates.length) {
      throw new RangeError(`Value.select: index ${show(i)} is not an integer in 0..${candidates.length - 1}`);
    }
    // Every candidate, not only the chosen one: a compiled replay may pick any of them.
    for (let k = 0; k < candidates.length; k++) {
      if (!(candidates[k] instanceof Value)) {
        throw new TypeError(`Value.select: candidates[${k}] is ${show(candidates[k])}, not a Value`);
      }
    }
    const chosen = candidates[i];
    if (!(index instanceof Value) || !recording) return chosen;
    return new Value(chosen.data, undefined, SELECT, index, candidates.slice());
  }

  /** The sum of many terms as one node: cheaper than a chain of `add`s, same gradients. */
  static sum(terms: readonly Operand[]): Value {
    if (!Array.isArray(terms) || terms.length === 0) {
      throw new TypeError(`Value.sum(${show(terms)}): expected a non-empty array of Values and numbers`);
    }
    let total = 0;
    for (let i = 0; i < terms.length; i++) {
      const term = terms[i];
      if (term instanceof Value) total += term.data;
      else if (typeof term === "number" && Number.isFinite(term)) total += term;
      else throw new TypeError(`Value.sum: term ${i} is ${show(term)}, not a finite number or a Value`);
    }
    if (!Number.isFinite(total)) throw new RangeError("Value.sum: result overflows");
    return recording ? new Value(total, undefined, SUM, null, terms.slice()) : new Value(total);
  }

  /**
   * Computes d(this)/d(node) for every node of the graph that produced this value.
   *
   * Leaves (values you created, such as parameters) accumulate: their gradients are
   * added to what they held, as in PyTorch, so call `zeroGrad()` between steps.
   * Interior nodes (results of operations) are reset first, so calling backward twice
   * adds the leaves' gradients twice but never mixes stale interior gradients in.
   */
  backward(): void {
    // Inside noGrad nothing is recorded, so a loss built there has no graph to walk: say so
    // rather than set this.grad to 1 and leave every parameter's gradient untouched.
    if (!recording) {
      throw new Error(
        "backward() was called inside noGrad(), where no graph is recorded; build the loss and call backward() outside noGrad",
      );
    }
    const order = topologicalOrder(this);
    for (const node of order) {
      node.code &= ~1;
      if (node.code >> 1 !== LEAF) node.grad = 0;
    }
    this.grad += 1;
    // Consumers come before their inputs, so a node's gradient is complete when we reach it.
    for (let i = order.length - 1; i >= 0; i--) {
      const node = order[i];
      if (!Number.isFinite(node.grad)) {
        throw new RangeError(
          `backward(): the gradient reaching ${describe(node)} overflows (${node.grad})${INCOMPLETE_GRADIENTS}`,
        );
      }
      propagate(node);
    }
  }

  /** As the default conversion (to toString()'s text), except while compile traces (see refusingConversions). */
  [Symbol.toPrimitive](): string {
    if (conversionRefusal !== undefined) throw new TypeError(conversionRefusal);
    return this.toString();
  }

  toString(): string {
    const label = this.label;
    return `Value(${label ? `${label}, ` : ""}data=${this.data}, grad=${this.grad})`;
  }
}

// V8 stores a number field in one of two ways: tagged (a whole number in place, a fraction in
// a box) or, once the field has held a fraction anywhere, always boxed, 0 included. After the
// first backward(), every new node would then pay 16 bytes for its grad of 0; making the field
// hold a non-number once keeps it tagged. Demo graph: 103 → 87 heap bytes per node, no slower.
(new Value(0) as unknown as { grad: unknown }).grad = null;

/** Adds this node's gradient, times each local derivative, into its inputs' gradients. */
function propagate(node: Value): void {
  const g = node.grad;
  const a = node.a;
  let b = node.b;
  const op = OP_LIST[node.code >> 1];
  if (op === OPS.sum) {
    for (const term of b as readonly Operand[]) if (term instanceof Value) term.grad += g;
  } else if (a !== null) {
    if (op === OPS.select) b = (b as readonly Value[])[a.data];
    const bData = b instanceof Value ? b.data : (b as number);
    // Checked before it is added, so that a failed backward() leaves no Infinity behind.
    const toA = g * op.da(a.data, bData, node.data);
    if (!Number.isFinite(toA)) throw infiniteDerivative(node, a);
    a.grad += toA;
    if (b instanceof Value) {
      const toB = g * op.db(a.data, bData, node.data);
      if (!Number.isFinite(toB)) throw infiniteDerivative(node, b);
      b.grad += toB;
    }
  }
}

/** @internal Where derivatives are not finite, for every message that reports one. */
export const NOT_FINITE_HINT = "(e.g. sqrt or pow at 0, log or division near 0)";
/** @internal What a failed backward() leaves, for a library user; a program tells its own user. */
export const INCOMPLETE_GRADIENTS = "; gradients are incomplete, zero them before trying again";

function infiniteDerivative(node: Value, input: Value): RangeError {
  const args = node.inputs.map((x) => show(x instanceof Value ? x.data : x)).join(", ");
  return new RangeError(
    `backward(): the derivative of ${node.op.name}(${args}) with respect to ${describe(input)} is not finite ${NOT_FINITE_HINT}${INCOMPLETE_GRADIENTS}`,
  );
}

/**
 * Appends to `order` every node of the graph under `root` not yet marked, each after all of
 * its inputs, and marks them (the caller clears the marks). Iterative depth-first search
 * with an explicit stack, so a chain of a million nodes works.
 */
function topologicalOrder(root: Value, order: Value[] = []): Value[] {
  // Each node is pushed twice: once to expand its inputs, once (after them) to be emitted.
  const stack: Value[] = [root];
  const expanded: boolean[] = [false];
  while (stack.length > 0) {
    const node = stack.pop() as Value;
    if (expanded.pop()) {
      order.push(node);
      continue;
    }
    if (node.code & 1) continue;
    node.code |= 1;
    stack.push(node);
    expanded.push(true);
    const a = node.a;
    const b = node.b;
    if (a !== null && !(a.code & 1)) {
      stack.push(a);
      expanded.push(false);
    }
    if (b instanceof Value) {
      if (!(b.code & 1)) {
        stack.push(b);
        expanded.push(false);
      }
    } else if (Array.isArray(b)) {
      for (const term of b as readonly Operand[]) {
        if (term instanceof Value && !(term.code & 1)) {
          stack.push(term);
          expanded.push(false);
        }
      }
    }
  }
  return order;
}

/** @internal The graph under some roots, laid out for a walk outside this file (grad, compile). */
export interface GraphWalk {
  /** Every node, each after its inputs: for each root in turn, the order its backward() visits. */
  readonly order: readonly Value[];
  /** How many times each node, by position, is an input of another. */
  readonly uses: Int32Array;
  /** The position of `node` in `order`, or -1 if it is not in the graph. */
  positionOf(node: Value): number;
}

/**
 * @internal Walks the graph under `roots` and runs `visit` on it. While `visit` runs, each
 * node's grad holds its position (a Map from nodes to positions made grad() and compile
 * several times slower); the gradients are put back when `visit` returns or throws.
 */
export function walkGraph<T>(roots: readonly Value[], visit: (walk: GraphWalk) => T): T {
  const order: Value[] = [];
  for (const root of roots) topologicalOrder(root, order);
  const count = order.length;
  const savedGrads = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const node = order[i];
    node.code &= ~1;
    savedGrads[i] = node.grad;
    node.grad = i;
  }
  const uses = new Int32Array(count);
  for (const node of order) {
    const b = node.b;
    if (node.a !== null) uses[node.a.grad]++;
    if (b instanceof Value) uses[b.grad]++;
    else if (Array.isArray(b)) for (const term of b) if (term instanceof Value) uses[term.grad]++;
  }
  const positionOf = (node: Value) => (order[node.grad] === node ? node.grad : -1);
  try {
    return visit({ order, uses, positionOf });
  } finally {
    for (let i = 0; i < count; i++) order[i].grad = savedGrads[i];
  }
}

/**
 * @internal The operation table, for grad.ts, compile, nn and the CLI. Exported under a name
 * of its own because backward() reads OPS for every node, and an exported binding is slower
 * to read: exporting OPS itself cost 5% of the demo's training step.
 */
export const OPERATIONS = OPS;

/**
 * Runs `fn` without recording the graph: results are plain leaves, cheaper to make and to keep.
 * grad() with createGraph still records (as PyTorch), and hessian, hvp and gradcheck record
 * the graph they need, so that they give the same numbers inside noGrad.
 */
export function noGrad<T>(fn: () => T): T {
  const previous = recording;
  recording = false;
  try {
    const result = fn();
    if (result instanceof Promise) {
      throw new TypeError("noGrad(fn): fn must be synchronous (it returned a Promise)");
    }
    return result;
  } finally {
    recording = previous;
  }
}

/**
 * @internal Runs `fn` recording the graph even inside noGrad, as PyTorch's autograd.grad does
 * with create_graph: for grad() with createGraph, and for the helpers (hessian, hvp,
 * gradcheck) that return numbers but need a graph of their own to compute them.
 */
export function withRecording<T>(fn: () => T): T {
  const previous = recording;
  recording = true;
  try {
    return fn();
  } finally {
    recording = previous;
  }
}

// Set while compile traces: converting a Value to a number or a string (a comparison, an
// index, a template string) would bake today's number into a replay, so it throws this.
let conversionRefusal: string | undefined;

/** @internal Runs `fn` with every conversion of a Value to a number or a string throwing `why`. */
export function refusingConversions<T>(why: string, fn: () => T): T {
  const previous = conversionRefusal;
  conversionRefusal = why;
  try {
    return fn();
  } finally {
    conversionRefusal = previous;
  }
}

/**
 * @internal Runs `fn`, adding to `made` every leaf Value made while it runs: compile tells the
 * leaves that fn makes itself (new at every call: constants) from the ones it reaches.
 */
export function collectingLeaves<T>(made: Value[], fn: () => T): T {
  const previous = leavesMade;
  leavesMade = made;
  try {
    return fn();
  } finally {
    leavesMade = previous;
  }
}

/** True unless inside `noGrad`. */
export function isRecording(): boolean {
  return recording;
}

function record(op: Op, a: Value, b: Operand | null): Value {
  const bData = b === null ? 0 : typeof b === "number" ? b : b.data;
  const data = op.forward(a.data, bData);
  if (!Number.isFinite(data)) throw new RangeError(failureMessage(op, a.data, bData));
  return recording ? new Value(data, undefined, op.index, a, b) : new Value(data);
}

/**
 * @internal Why `op` gave no finite number for these inputs: "mul(1e+200, 1e+200): result
 * overflows". A compiled replay names a failure in the same words (one cause, one message).
 */
export function failureMessage(op: Op, a: number, b: number): string {
  const args = op.arity === 1 ? show(a) : `${show(a)}, ${show(b)}`;
  const reason =
    Number.isFinite(a) && Number.isFinite(b)
      ? op.explain(a, b)
      : "an input is not a finite number (was data set to NaN or Infinity by hand?)";
  return `${op.name}(${args}): ${reason}`;
}

function operand(x: unknown, opName: string, self: Value): Operand {
  if (x instanceof Value) return x;
  if (typeof x === "number" && Number.isFinite(x)) return x;
  throw new TypeError(
    `${opName}(${show(self.data)}, ${show(x)}): operand must be a finite number or a Value`,
  );
}

/** @internal A node for error messages: "the mul node "c" (data 2)". */
export function describe(node: Value): string {
  const label = node.label;
  const name = node.code >> 1 === LEAF ? "a leaf" : `the ${node.op.name} node`;
  return `${name}${label ? ` "${label}"` : ""} (data ${show(node.data)})`;
}

/** @internal Any argument for error messages, without converting a Value (a compiled trace forbids that). */
export function show(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "number") return String(x);
  if (typeof x === "string") return JSON.stringify(x);
  if (x instanceof Value) return `Value(${x.data})`;
  if (Array.isArray(x)) return `an array of ${x.length}`;
  return typeof x === "object" ? "an object" : typeof x === "function" ? "a function" : String(x);
}
