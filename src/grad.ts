// Gradients as Values. grad(output, inputs) returns d(output)/d(input) for each input and
// leaves every `.grad` field alone; with createGraph, each gradient is built from the
// engine's own operations (the "on Values" rules of the operation table), so that it can be
// differentiated again: Hessians, Hessian-vector products, Newton's method, to any order.
import {
  describe,
  NOT_FINITE_HINT,
  OPERATIONS as OPS,
  type Op,
  type Operand,
  show,
  Value,
  walkGraph,
  withRecording,
} from "./engine.js";
import { checkOptions, type OptionKeys } from "./options.js";

export interface GradOptions {
  /**
   * Build the gradients from Values, so that backward() and grad() work through them again.
   * Default false: each gradient is a new leaf holding its number.
   */
  createGraph?: boolean;
  /**
   * Give 0 (a new leaf) for an input that the output does not depend on. Default false: such
   * an input is an error that names it, since it usually means the wrong Value was passed.
   */
  allowUnused?: boolean;
}

const GRAD_OPTIONS: OptionKeys<GradOptions> = { createGraph: true, allowUnused: true };

/**
 * d(output)/d(input) for each input, as Values, in the order given (as
 * `torch.autograd.grad`). Inputs may be leaves or any node of the output's graph. No `.grad`
 * field changes, so this mixes freely with backward().
 *
 * With `createGraph: true` the results are part of the graph: pass one to grad() or call its
 * backward() to differentiate again. A result may then be a node the output's graph already
 * had (d(x·y)/dx is y itself) or, where the derivative is a constant, a new leaf. They are
 * recorded inside noGrad too (as PyTorch's create_graph=True under torch.no_grad()).
 */
export function grad(output: Value, inputs: readonly Value[], options: GradOptions = {}): Value[] {
  if (!(output instanceof Value)) {
    throw new TypeError(`grad(output, inputs): output must be a Value, got ${show(output)}`);
  }
  if (!Array.isArray(inputs)) {
    throw new TypeError(`grad(output, inputs): inputs must be an array of Values, got ${show(inputs)}`);
  }
  inputs.forEach((input, k) => {
    if (!(input instanceof Value)) throw new TypeError(`grad: input ${k} is ${show(input)}, not a Value`);
  });
  const { createGraph, allowUnused } = checkFlags("grad", options);

  return walkGraph([output], ({ order, positionOf }) => {
    const positions = inputs.map((input, k) => {
      const at = positionOf(input);
      if (at < 0 && !allowUnused) {
        throw new RangeError(
          `grad: input ${k}, ${describe(input)}, is not used to compute the output; pass { allowUnused: true } to get 0 for it`,
        );
      }
      return at;
    });
    // With createGraph the gradients are recorded even inside noGrad, as with PyTorch's
    // create_graph=True: asking for a graph is asking to record.
    const totals = createGraph
      ? withRecording(() => backpropagate(order, positionOf, positions, true))
      : backpropagate(order, positionOf, positions, false);
    return positions.map((at) => {
      const total = at < 0 ? 0 : totals[at];
      return typeof total === "number" ? new Value(total) : total;
    });
  });
}

/** True if any input of `node` is marked in `marks`, by place. */
function anyInputMarked(node: Value, marks: Uint8Array, place: (node: Value) => number): boolean {
  if (node.a !== null && marks[place(node.a)]) return true;
  const b = node.b;
  if (b instanceof Value) return marks[place(b)] === 1;
  if (Array.isArray(b)) {
    for (const term of b as readonly Operand[]) if (term instanceof Value && marks[place(term)]) return true;
  }
  return false;
}

/**
 * The reverse walk: each node's gradient, complete once every consumer has sent its share,
 * times each local derivative, is sent on to the node's inputs. Only nodes on a path to an
 * input take part, so that no gradient graph is built for what nobody asked about.
 * Returns each node's gradient, by place in `order`: numbers, or Operands with createGraph
 * (a number where the gradient is constant).
 */
function backpropagate(
  order: readonly Value[],
  place: (node: Value) => number,
  inputPositions: number[],
  createGraph: boolean,
): Operand[] {
  const n = order.length;
  const leadsToInput = new Uint8Array(n);
  for (const at of inputPositions) if (at >= 0) leadsToInput[at] = 1;
  for (let i = 0; i < n; i++) {
    if (!leadsToInput[i] && anyInputMarked(order[i], leadsToInput, place)) leadsToInput[i] = 1;
  }

  // Each node's incoming shares: numbers added up as they come, Values (createGraph) summed
  // in one node when the node is reached.
  const constants = new Float64Array(n);
  const shares: (Value[] | undefined)[] = new Array(n);
  const totals: Operand[] = new Array(n).fill(0);
  constants[n - 1] = 1;

  const send = (input: Value, amount: Operand) => {
    const at = place(input);
    if (!leadsToInput[at]) return;
    if (typeof amount === "number") constants[at] += amount;
    else if (shares[at] === undefined) shares[at] = [amount];
    else shares[at].push(amount);
  };

  for (let i = n - 1; i >= 0; i--) {
    if (!leadsToInput[i]) continue;
    const node = order[i];
    const total = createGraph ? combine(constants[i], shares[i]) : constants[i];
    totals[i] = total;
    if (total === 0) continue;
    const g = typeof total === "number" ? total : total.data;
    if (!Number.isFinite(g)) {
      throw new RangeError(`grad: the gradient reaching ${describe(node)} overflows (${g})`);
    }
    const op = node.op;
    if (op === OPS.sum) {
      for (const term of node.b as readonly Operand[]) if (term instanceof Value) send(term, total);
      continue;
    }
    const a = node.a;
    if (a === null) continue; // a leaf
    // A select's rules see the chosen candidate as b.
    const b = op === OPS.select ? (node.b as readonly Value[])[a.data] : ((node.b ?? 0) as Operand);
    const bData = typeof b === "number" ? b : b.data;
    if (leadsToInput[place(a)]) send(a, share(node, op, a, b, bData, total, g, "a", createGraph));
    if (b instanceof Value && leadsToInput[place(b)]) {
      send(b, share(node, op, a, b, bData, total, g, "b", createGraph));
    }
  }
  return totals;
}

/** What `node`, whose gradient is `total` (of data g), sends to its input a or b. */
function share(
  node: Value,
  op: Op,
  a: Value,
  b: Operand,
  bData: number,
  total: Operand,
  g: number,
  which: "a" | "b",
  createGraph: boolean,
): Operand {
  // The rule on numbers first: it says cheaply whether the share is finite, and is the share
  // itself unless a graph is wanted.
  const local = (which === "a" ? op.da : op.db)(a.data, bData, node.data);
  const amount = g * local;
  if (!Number.isFinite(amount)) {
    const args = node.inputs.map((x) => show(x instanceof Value ? x.data : x)).join(", ");
    const input = which === "a" ? a : (b as Value);
    throw new RangeError(
      `grad: the derivative of ${op.name}(${args}) with respect to ${describe(input)} is not finite ${NOT_FINITE_HINT}`,
    );
  }
  if (!createGraph) return amount;
  // Even where it is 0 now, a derivative on Values may have a derivative of its own (d(x·y)/dx = y at y = 0).
  return times(total, (which === "a" ? op.daValue : op.dbValue)(a, b, node));
}

/** x·y, keeping numbers as numbers and making no node for a constant factor of 0, 1 or -1. */
function times(x: Operand, y: Operand): Operand {
  if (typeof x === "number" && typeof y === "number") return x * y;
  if (typeof x === "number") return times(y, x);
  if (y === 0) return 0;
  if (y === 1) return x;
  if (y === -1) return x.neg();
  return x.mul(y);
}

/** The sum of a node's incoming shares: one node for all of them (or none, for one). */
function combine(constant: number, values: Value[] | undefined): Operand {
  if (values === undefined) return constant;
  if (values.length === 1) return constant === 0 ? values[0] : values[0].add(constant);
  return Value.sum(constant === 0 ? values : [...values, constant]);
}

/**
 * The matrix of second derivatives of `fn` at `xs`: entry [i][j] is ∂²f/∂xᵢ∂xⱼ. `fn` gets
 * one Value per x and returns one Value. Numbers by default; with `createGraph: true`,
 * Values that can be differentiated again (pass Values as xs to differentiate with respect
 * to them). An x that `fn` does not use has a row and column of 0. Works inside noGrad (fn's
 * graph is recorded for the purpose). At most 100,000 xs, since fn receives them spread.
 */
export function hessian(fn: (...xs: Value[]) => Value, xs: readonly Operand[]): number[][];
export function hessian(
  fn: (...xs: Value[]) => Value,
  xs: readonly Operand[],
  options: { createGraph: true },
): Value[][];
export function hessian(
  fn: (...xs: Value[]) => Value,
  xs: readonly Operand[],
  options?: { createGraph?: boolean },
): number[][] | Value[][];
export function hessian(
  fn: (...xs: Value[]) => Value,
  xs: readonly Operand[],
  options: { createGraph?: boolean } = {},
): number[][] | Value[][] {
  const { createGraph } = checkFlags("hessian", options, { createGraph: true });
  const leaves = asLeaves("hessian", xs);
  // fn's graph is needed to differentiate it, also when called inside noGrad.
  return withRecording(() => {
    const slopes = grad(evaluate("hessian", fn, leaves), leaves, { createGraph: true, allowUnused: true });
    const rows = slopes.map((slope) => grad(slope, leaves, { createGraph, allowUnused: true }));
    return createGraph ? rows : rows.map((row) => row.map((v) => v.data));
  });
}

/**
 * The Hessian of `fn` at `xs` times the vector `v`, without forming the Hessian: the
 * gradient of (gradient · v), two walks of the graph whatever the number of inputs.
 * Numbers by default; Values with `createGraph: true`. Works inside noGrad, like hessian();
 * at most 100,000 xs.
 */
export function hvp(fn: (...xs: Value[]) => Value, xs: readonly Operand[], v: readonly Operand[]): number[];
export function hvp(
  fn: (...xs: Value[]) => Value,
  xs: readonly Operand[],
  v: readonly Operand[],
  options: { createGraph: true },
): Value[];
export function hvp(
  fn: (...xs: Value[]) => Value,
  xs: readonly Operand[],
  v: readonly Operand[],
  options?: { createGraph?: boolean },
): number[] | Value[];
export function hvp(
  fn: (...xs: Value[]) => Value,
  xs: readonly Operand[],
  v: readonly Operand[],
  options: { createGraph?: boolean } = {},
): number[] | Value[] {
  const { createGraph } = checkFlags("hvp", options, { createGraph: true });
  const leaves = asLeaves("hvp", xs);
  if (!Array.isArray(v) || v.length !== leaves.length) {
    throw new RangeError(
      `hvp(fn, xs, v): v must be an array as long as xs (${leaves.length}), got ${show(v)}`,
    );
  }
  v.forEach((vi, k) => {
    if (!(vi instanceof Value) && !(typeof vi === "number" && Number.isFinite(vi))) {
      throw new TypeError(`hvp: v[${k}] is ${show(vi)}, not a finite number or a Value`);
    }
  });
  return withRecording(() => {
    const slopes = grad(evaluate("hvp", fn, leaves), leaves, { createGraph: true, allowUnused: true });
    const along = Value.sum(slopes.map((slope, k) => slope.mul(v[k])));
    const product = grad(along, leaves, { createGraph, allowUnused: true });
    return createGraph ? product : product.map((p) => p.data);
  });
}

/**
 * @internal The most inputs the helpers that call `fn(...xs)` (hessian, hvp, gradcheck)
 * accept: JavaScript passes spread arguments on the stack, and a few hundred thousand
 * overflow it. Beyond this, write fn over one array and use grad() directly.
 */
export const MAX_SPREAD_INPUTS = 100_000;

/** @internal Refuses more inputs than fn(...inputs) can take (see MAX_SPREAD_INPUTS). */
export function checkSpreadLength(caller: string, n: number): void {
  if (n > MAX_SPREAD_INPUTS) {
    throw new RangeError(
      `${caller}: ${n} inputs, but fn(...inputs) takes at most ${MAX_SPREAD_INPUTS} (spread arguments live on the call stack); write fn over one array of Values and call grad() on its output`,
    );
  }
}

function asLeaves(caller: string, xs: readonly Operand[]): Value[] {
  if (!Array.isArray(xs)) throw new TypeError(`${caller}(fn, xs): xs must be an array of numbers or Values`);
  checkSpreadLength(caller, xs.length);
  return xs.map((x, k) => {
    if (x instanceof Value) return x;
    if (typeof x === "number" && Number.isFinite(x)) return new Value(x);
    throw new TypeError(`${caller}: xs[${k}] is ${show(x)}, not a finite number or a Value`);
  });
}

function evaluate(caller: string, fn: (...xs: Value[]) => Value, leaves: Value[]): Value {
  if (typeof fn !== "function") throw new TypeError(`${caller}(fn, xs): fn must be a function`);
  const out = fn(...leaves);
  if (!(out instanceof Value)) throw new TypeError(`${caller}: fn must return a Value, got ${show(out)}`);
  return out;
}

function checkFlags(
  caller: string,
  options: GradOptions,
  keys: OptionKeys<GradOptions> | OptionKeys<{ createGraph?: boolean }> = GRAD_OPTIONS,
): { createGraph: boolean; allowUnused: boolean } {
  checkOptions(caller, options, keys as OptionKeys<GradOptions>);
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(`${caller}: option ${key} must be true or false, got ${show(value)}`);
    }
  }
  return { createGraph: options.createGraph === true, allowUnused: options.allowUnused === true };
}
