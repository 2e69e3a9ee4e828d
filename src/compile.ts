// compile(fn): record the graph of a function of Values once, then replay it on typed arrays.
//
// The eager engine builds one object per arithmetic step and walks them with a topological
// sort; a training step builds the same graph every time. Tracing runs `fn` once on Values,
// walks the graph it returns, and lowers it into a tape: typed arrays of instruction codes and
// operand slots (structure of arrays). A replay is one forward loop and, for backward(), one
// reverse loop over Float64Arrays of values and gradients: no objects, no sort, no collector.
//
// Slots: [parameters | inputs | constants | instruction outputs]. Parameters are the leaves
// that `fn` reaches without being given them (a model's weights): read from `.data` at every
// call, their gradients added into `.grad` by backward(), exactly as eager. Inputs are the
// numbers of the arguments. A neuron's weighted sum (a `sum` of `mul`s, plus a bias) becomes
// one dot instruction over contiguous slots, and its ReLU joins it: `relu(dot …)`. A
// `Value.select` by a Value index becomes a gather whose index is an input slot.
//
// A replay repeats the graph of the trace, so a graph that depends on the inputs' values must
// not be replayed: conversions of traced Values to numbers throw while tracing, and the second
// call of each shape traces again and compares (see verifyTrace).
//
// The order of the tape is the order eager backward() visits the graph of the first output,
// so the reverse loop adds into every gradient in the same order: bit-identical results
// wherever fusing keeps that order (an MLP: always). No JavaScript is generated, so a page
// whose Content-Security-Policy forbids eval runs it as well.
import { isRecording, NOT_FINITE_HINT, OPERATIONS, type Op, type Operand, Value } from "./engine.js";

export interface CompileOptions {
  /**
   * Also run `fn` eagerly at every call and throw at the first output that differs (and, in
   * backward(), the first parameter gradient). Slow; for finding data-dependent code.
   */
  check?: boolean;
  /** Traces kept (one per shape of the arguments); the least recently used goes first. Default 8. */
  maxTraces?: number;
  /** Fuse sums of products into dot instructions and a ReLU into its dot. Default true; false keeps one instruction per node (for comparison). */
  fuse?: boolean;
  /**
   * Refuse a trace in which a constant with more digits than a literal (more than 8 significant
   * digits) equals the value of a traced node or input: the sign of a number read from `.data`
   * and fed back in, which a replay would not update. Default true.
   */
  constantCheck?: boolean;
  /**
   * At the second call of each shape, after its replay, trace `fn` once more and compare with the first trace:
   * the instructions and constants, the leaves created inside `fn`, the plain numbers of the
   * result. A difference means `fn` depends on its inputs' values in a way a replay would not
   * follow, and throws. Costs one extra trace per shape. Default true.
   */
  verify?: boolean;
}

/** The arguments of a compiled function: numbers where `fn` receives Values, arrays nested alike. */
export type Numeric<T> = T extends Value
  ? number
  : T extends number
    ? number
    : T extends readonly unknown[]
      ? { readonly [K in keyof T]: Numeric<T[K]> }
      : never;

/** What a compiled function returns: `fn`'s result with every Value replaced by a CompiledValue. */
export type Compiled<T> = T extends Value
  ? CompiledValue
  : T extends number | string | boolean | null | undefined
    ? T
    : { -readonly [K in keyof T]: Compiled<T[K]> };

/** The arguments of a compiled function, from the parameters of the traced one. */
export type NumericArguments<P extends readonly unknown[]> = { [K in keyof P]: Numeric<P[K]> };

export interface CompiledFunction<F extends (...args: never[]) => unknown> {
  (...args: NumericArguments<Parameters<F>>): Compiled<ReturnType<F>>;
  /** How many times `fn` has been traced (once per new shape of the arguments, and again after eviction; verification's second trace of a shape is not counted). */
  readonly traceCount: number;
  /** How many traces are cached now (at most `maxTraces`). */
  readonly cacheSize: number;
  /**
   * The most recent trace as a readable list of instructions. Arguments, if given, pick the
   * trace of their shape; one not cached is traced for the listing alone (not kept, not counted).
   */
  listing(...args: NumericArguments<Parameters<F>> | []): string;
  /** Forgets every trace. */
  clear(): void;
}

// ---------------------------------------------------------------------------------------
// Instructions. The engine's table is read through a node's `op` (forward, da, db) and its
// index (`code >> 1`); the operations replayed inline are named from the exported table.

const E = {
  leaf: OPERATIONS.leaf.index,
  add: OPERATIONS.add.index,
  sub: OPERATIONS.sub.index,
  mul: OPERATIONS.mul.index,
  div: OPERATIONS.div.index,
  powk: OPERATIONS.powk.index,
  neg: OPERATIONS.neg.index,
  exp: OPERATIONS.exp.index,
  log: OPERATIONS.log.index,
  tanh: OPERATIONS.tanh.index,
  relu: OPERATIONS.relu.index,
  leakyRelu: OPERATIONS.leakyRelu.index,
  max: OPERATIONS.max.index,
  sum: OPERATIONS.sum.index,
  select: OPERATIONS.select.index,
};

/** Operations by index. */
const OP_BY_INDEX: Op[] = [];
for (const op of Object.values(OPERATIONS) as Op[]) OP_BY_INDEX[op.index] = op;

// Instruction codes of the tape.
const ADD = 0;
const SUB = 1;
const MUL = 2;
const DIV = 3;
const POWK = 4;
const NEG = 5;
const EXP = 6;
const LOG = 7;
const TANH = 8;
const RELU = 9;
const LEAKY = 10;
const MAX = 11;
/** Any other operation of the table, through its forward/da/db functions. */
const CALL = 12;
/** n plain terms, their slots in `args`. */
const SUM = 13;
/** Σ x·y over pairs of slots in `args`; a plain term x is paired with the constant 1. */
const SUMPROD = 14;
/** Σ v[a+k]·v[b+k] for k < n, plus an optional last term: a neuron's weighted sum and bias. */
const DOT = 15;
/** args[c + v[a]]: a candidate chosen by an index slot. */
const SELECT = 16;
/** max(DOT, 0): a ReLU neuron. */
const DOT_RELU = 17;
// Flags of a DOT: the second factors need gradients too; the plain term comes first.
const BOTH_SIDES = 1;
const BIAS_FIRST = 2;

const INLINE_ENTRIES: [number, number][] = [
  [E.add, ADD],
  [E.sub, SUB],
  [E.mul, MUL],
  [E.div, DIV],
  [E.powk, POWK],
  [E.neg, NEG],
  [E.exp, EXP],
  [E.log, LOG],
  [E.tanh, TANH],
  [E.relu, RELU],
  [E.leakyRelu, LEAKY],
  [E.max, MAX],
];
/** The tape's instruction code for each engine operation index (CALL for the rest). */
const INLINE: number[] = [];
for (const [opIndex, code] of INLINE_ENTRIES) INLINE[opIndex] = code;

/** A recorded function: the tape and the buffers it is replayed on. */
interface Tape {
  code: Uint8Array;
  out: Int32Array;
  a: Int32Array;
  b: Int32Array;
  /** Count (sums, dot, select) or, for CALL, the operation's index in `ops`. */
  n: Int32Array;
  /** DOT: the slot of the last plain term or -1; SELECT: offset in `args`; CALL: 1 if b is a Value. */
  c: Int32Array;
  /** DOT: BOTH_SIDES if the second factors need gradients too (not so in a first layer, whose second factors are inputs); BIAS_FIRST if the plain term comes first. */
  dotFlags: Uint8Array;
  args: Int32Array;
  /** Operations called through the table (CALL), by index. */
  ops: Op[];
  /** The instructions that can carry a gradient to a parameter, in tape order. */
  backwardOrder: Int32Array;
  values: Float64Array;
  grads: Float64Array;
  parameters: Value[];
  /** The first input slot; parameters occupy 0..inputStart-1. */
  inputStart: number;
  inputCount: number;
  outputSlots: Int32Array;
  /** Per output, how many entries of backwardOrder precede or are its instruction. */
  outputReach: Int32Array;
  /** Builds the result from the output values. */
  template: Template;
  /** Nodes in the eager graph, for the listing and the memory figures. */
  nodeCount: number;
  /** Incremented at each replay, so that backward() on an older result is refused. */
  generation: number;
  /** For the listing and errors: the engine operation index of each instruction. */
  opIndices: Int32Array;
  constantsStart: number;
  outputStart: number;
  /** The slot of the constant 1, which SUMPROD pairs with a plain term (a product by 1 counts as one). */
  one: number;
  /** Check mode: the outputs of the eager run beside the latest replay, for backward() to compare. */
  eagerOutputs?: Value[];
  /** Compared with a second trace (see CompileOptions.verify), or not to be. */
  verified: boolean;
}

type Template =
  | { kind: "output"; index: number }
  | { kind: "plain"; value: unknown }
  | { kind: "array"; items: Template[] }
  | { kind: "object"; keys: string[]; items: Template[] };

/** A result of a compiled function: the value, and backward() into the parameters' gradients. */
export class CompiledValue {
  /** @internal */
  constructor(
    readonly data: number,
    private readonly tape: Tape,
    private readonly output: number,
    private readonly generation: number,
  ) {}

  /** As `Value.backward()`: adds d(this)/d(parameter) into every parameter's `.grad`. */
  backward(): void {
    if (this.generation !== this.tape.generation) {
      throw new Error(
        "backward(): this result is from an earlier call of the compiled function; call backward() before calling the function again",
      );
    }
    const eager = this.tape.eagerOutputs;
    if (eager) backwardChecked(this.tape, this.output, eager[this.output]);
    else runBackward(this.tape, this.output);
  }

  toString(): string {
    return `CompiledValue(data=${this.data})`;
  }
}

// ---------------------------------------------------------------------------------------
// compile

export function compile<F extends (...args: never[]) => unknown>(
  fn: F,
  options: CompileOptions = {},
): CompiledFunction<F> {
  if (typeof fn !== "function") throw new TypeError(`compile(fn): fn must be a function, got ${typeof fn}`);
  const { check = false, maxTraces = 8, fuse = true, constantCheck = true, verify = true } = options;
  if (!Number.isInteger(maxTraces) || maxTraces < 1) {
    throw new RangeError(`compile: maxTraces must be a positive integer, got ${String(maxTraces)}`);
  }
  const traces = new Map<string, Tape>();
  let traceCount = 0;
  let latest: Tape | undefined;
  const scratch = new NumberBuffer();

  const traced = fn as unknown as (...a: unknown[]) => unknown;

  function tapeFor(args: readonly unknown[]): Tape {
    const signature = flattenArguments(args, scratch);
    let tape = traces.get(signature);
    if (tape) {
      traces.delete(signature);
      traces.set(signature, tape);
    } else {
      tape = trace(traced, args, fuse, constantCheck);
      tape.verified = !verify;
      traceCount++;
      traces.set(signature, tape);
      if (traces.size > maxTraces) traces.delete(traces.keys().next().value as string);
    }
    latest = tape;
    return tape;
  }

  const compiled = (...args: unknown[]) => {
    if (args.length < fn.length) {
      throw new TypeError(
        `compiled function: expected ${plural(fn.length, "argument")} (numbers or arrays of numbers), got ${args.length}`,
      );
    }
    const tape = tapeFor(args);
    const values = tape.values;
    values.set(scratch.data.subarray(0, scratch.length), tape.inputStart);
    const result = replay(tape);
    if (check) compareWithEager(traced, args, tape);
    // The first replay of a shape made outside noGrad (tracing records a graph) is verified
    // after it ran, so that errors of the numbers are named by the replay.
    if (!tape.verified && tape.generation > 1 && isRecording()) {
      verifyTrace(tape, trace(traced, args, fuse, false));
      tape.verified = true;
    }
    return result;
  };
  Object.defineProperties(compiled, {
    traceCount: { get: () => traceCount },
    cacheSize: { get: () => traces.size },
  });
  Object.assign(compiled, {
    listing(...args: unknown[]): string {
      if (args.length === 0) {
        if (!latest)
          throw new Error("listing(): nothing traced yet; call the compiled function (or pass arguments)");
        return listing(latest);
      }
      // Looked up without touching the cache's order; a shape not cached is traced for the
      // listing alone, neither kept nor counted.
      const cached = traces.get(flattenArguments(args, scratch));
      return listing(cached ?? trace(traced, args, fuse, constantCheck));
    },
    clear(): void {
      traces.clear();
      latest = undefined;
    },
  });
  return compiled as unknown as CompiledFunction<F>;
}

// ---------------------------------------------------------------------------------------
// Arguments: numbers, arrays of them (nested, typed arrays allowed).

/** The numbers of the arguments, in order: a growing Float64Array reused from call to call. */
class NumberBuffer {
  data = new Float64Array(1024);
  length = 0;
  reserve(n: number): void {
    if (this.length + n <= this.data.length) return;
    const bigger = new Float64Array(Math.max(this.data.length * 2, this.length + n));
    bigger.set(this.data.subarray(0, this.length));
    this.data = bigger;
  }
}

/** Thrown by shapeOf at the first bad argument; the message is made by describeBadArgument. */
const BAD_ARGUMENT = new Error("bad argument");

/** Appends every number of `args` to `into` and returns a string that identifies their shape. */
function flattenArguments(args: readonly unknown[], into: NumberBuffer): string {
  into.length = 0;
  let signature = "";
  try {
    for (let i = 0; i < args.length; i++) signature += `${shapeOf(args[i], into, 0)};`;
  } catch (error) {
    if (error === BAD_ARGUMENT) throw describeBadArgument(args);
    throw error;
  }
  return signature;
}

function isNumberArray(x: unknown): x is ArrayLike<number> {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

// "[n]" for arrays of n numbers, made once: a batch's rows would otherwise each build one.
const ROW_SHAPES: string[] = [];
function rowShape(n: number): string {
  let shape = ROW_SHAPES[n];
  if (shape === undefined) {
    shape = `[${n}]`;
    if (n < 4096) ROW_SHAPES[n] = shape;
  }
  return shape;
}

/** Arrays nested deeper than this are refused (the walks over arguments recurse by depth). */
const MAX_NESTING = 100;

function shapeOf(x: unknown, into: NumberBuffer, depth: number): string {
  if (typeof x === "number") {
    if (!Number.isFinite(x)) throw BAD_ARGUMENT;
    into.reserve(1);
    into.data[into.length++] = x;
    return "n";
  }
  if (isNumberArray(x) || (Array.isArray(x) && (x.length === 0 || typeof x[0] === "number"))) {
    const n = x.length;
    into.reserve(n);
    const data = into.data;
    let at = into.length;
    for (let i = 0; i < n; i++) {
      const xi = x[i];
      if (typeof xi !== "number" || !Number.isFinite(xi)) {
        if (Array.isArray(x) && Array.isArray(xi)) return mixedShape(x, into, depth);
        throw BAD_ARGUMENT;
      }
      data[at++] = xi;
    }
    into.length = at;
    return rowShape(n);
  }
  if (Array.isArray(x)) return mixedShape(x, into, depth);
  throw BAD_ARGUMENT;
}

/** An array of arrays (or of numbers and arrays): "[3x[2]]" when the items are alike. */
function mixedShape(x: readonly unknown[], into: NumberBuffer, depth: number): string {
  if (depth >= MAX_NESTING) throw BAD_ARGUMENT;
  let same = true;
  let first = "";
  const parts: string[] = new Array(x.length);
  for (let i = 0; i < x.length; i++) {
    parts[i] = shapeOf(x[i], into, depth + 1);
    if (i === 0) first = parts[i];
    else if (parts[i] !== first) same = false;
  }
  return same ? `[${x.length}x${first}]` : `[${parts.join(",")}]`;
}

/** The error for the first argument that is not a finite number or an array of them, named by its path. */
function describeBadArgument(args: readonly unknown[]): Error {
  const stack: [unknown, string, number][] = args.map((a, i) => [a, `argument ${i}`, 0]);
  stack.reverse();
  while (stack.length > 0) {
    const [x, where, depth] = stack.pop() as [unknown, string, number];
    if (typeof x === "number") {
      if (!Number.isFinite(x))
        return new RangeError(`compiled function: ${where} is ${x}, expected a finite number`);
      continue;
    }
    if (isNumberArray(x) || Array.isArray(x)) {
      if (depth > MAX_NESTING) {
        return new RangeError(
          `compiled function: ${where.replace(/\[.*$/, "")} is nested more than ${MAX_NESTING} arrays deep`,
        );
      }
      const items = Array.from(x as ArrayLike<unknown>, (xi, i): [unknown, string, number] => [
        xi,
        `${where}[${i}]`,
        depth + 1,
      ]);
      for (let i = items.length - 1; i >= 0; i--) stack.push(items[i]);
      continue;
    }
    if (x instanceof Value) {
      return new TypeError(
        `compiled function: ${where} is a Value; pass plain numbers (the Values fn reaches by itself, such as a model's weights, become its parameters)`,
      );
    }
    return new TypeError(`compiled function: ${where} is ${describeThing(x)}, expected a number or an array`);
  }
  return new TypeError("compiled function: bad arguments");
}

function describeThing(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return "an array";
  return typeof x === "object" ? "an object" : `${typeof x} ${String(x)}`;
}

/** The arguments with every number replaced by a fresh leaf Value, collected in order in `inputs`. */
function wrapArguments(x: unknown, inputs: Value[]): unknown {
  if (typeof x === "number") {
    const leaf = new Value(x);
    inputs.push(leaf);
    return leaf;
  }
  if (isNumberArray(x)) return Array.from(x, (xi) => wrapArguments(xi, inputs));
  return (x as unknown[]).map((xi) => wrapArguments(xi, inputs));
}

// ---------------------------------------------------------------------------------------
// Tracing: run fn on Values, with number conversions of Values refused.

const DATA_DEPENDENT =
  "compile: a traced Value was converted to a number or a string (compared with < or >, used as an array index, passed to Math.max, put in a template string) while tracing. A replay would repeat the choice made now for every later input. Use Value.select(candidates, index) to pick by a Value, Value.max or .max() for the largest, .relu()/.abs() instead of a branch on the sign; read .data only outside the compiled function";

let tracing = 0;

// Installed once, not per trace: changing Value.prototype while running would throw away
// V8's optimized code for every Value method, making each trace (and the eager steps after
// it) many times slower. Outside a trace it does what the default conversion does.
Object.defineProperty(Value.prototype, Symbol.toPrimitive, {
  value(this: Value): string {
    if (tracing > 0) throw new TypeError(DATA_DEPENDENT);
    return this.toString();
  },
  configurable: true,
  writable: true,
});

function withConversionsRefused<T>(body: () => T): T {
  tracing++;
  try {
    return body();
  } finally {
    tracing--;
  }
}

function trace(
  fn: (...args: unknown[]) => unknown,
  args: readonly unknown[],
  fuse: boolean,
  constantCheck: boolean,
): Tape {
  if (!isRecording()) {
    throw new Error(
      "compile: the first call for a shape traces fn, which needs a recorded graph; make that call outside noGrad()",
    );
  }
  const inputs: Value[] = [];
  const traced = args.map((arg) => wrapArguments(arg, inputs));
  const result = withConversionsRefused(() => fn(...traced));
  if (result instanceof Promise)
    throw new TypeError("compile: fn must be synchronous (it returned a Promise)");
  const outputs: Value[] = [];
  const template = templateOf(result, outputs);
  if (outputs.length === 0)
    throw new TypeError("compile: fn returned no Value (return a Value, or arrays/objects of Values)");
  return lower(outputs, inputs, template, fuse, constantCheck);
}

function templateOf(x: unknown, outputs: Value[]): Template {
  if (x instanceof Value) {
    outputs.push(x);
    return { kind: "output", index: outputs.length - 1 };
  }
  if (Array.isArray(x)) return { kind: "array", items: x.map((item) => templateOf(item, outputs)) };
  if (x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype) {
    const keys = Object.keys(x);
    return {
      kind: "object",
      keys,
      items: keys.map((k) => templateOf((x as Record<string, unknown>)[k], outputs)),
    };
  }
  if (
    x === null ||
    x === undefined ||
    typeof x === "number" ||
    typeof x === "string" ||
    typeof x === "boolean"
  ) {
    return { kind: "plain", value: x };
  }
  throw new TypeError(
    `compile: fn returned ${describeThing(x)}; return Values, numbers, arrays or plain objects of them`,
  );
}

// ---------------------------------------------------------------------------------------
// Lowering: graph → tape.

// Flags of `inSum` in `lower`: a term of a sum or an add; the left operand of an add.
const SUMMED = 1;
const LEFT_OF_ADD = 2;

/** Whether the walk in `lower` has reached a node: marked (odd code) or placed (negative code). */
const reached = (node: Value) => (node.code & 1) !== 0 || node.code < 0;

/** The position in `order` of a node placed by the walk in `lower`. */
const positionOf = (node: Value) => -1 - node.code;

/**
 * Lowers the graph under `outputs`. While it works, each node's `code` holds the engine's
 * visited mark while the node is being expanded, then −1 − its position in `order` (a Map from
 * nodes to positions made the first call several times slower); codes are restored at the end.
 */
function lower(
  outputs: Value[],
  inputs: Value[],
  template: Template,
  fuse: boolean,
  constantCheck: boolean,
): Tape {
  // 1. Every node, each after its inputs, in the order Value.backward() uses for the first
  // output: the reverse loop then adds gradients in the same order as eager, bit for bit.
  const order: Value[] = [];
  // The operation of each node (its code is borrowed meanwhile).
  const opOf = new IntList();
  // How many times each node is an operand, and whether a sum has it as a term.
  const uses = new IntList();
  const inSum = new IntList();
  try {
    // A node is pushed once to be expanded and, marked, once more above its inputs; met
    // marked, it is placed. (A marked node cannot be met again before it is placed: it would
    // be its own input. A copy pushed by a second consumer is met after, and skipped.) The
    // same decisions as the engine's walk, without its second stack.
    const stack: Value[] = [];
    for (const root of outputs) {
      if (reached(root)) continue;
      stack.push(root);
      while (stack.length > 0) {
        const node = stack.pop() as Value;
        const code = node.code;
        if (code < 0) continue;
        const a = node.a;
        const b = node.b;
        if (code & 1) {
          const opIndex = code >> 1;
          opOf.push(opIndex);
          node.code = -1 - order.length;
          order.push(node);
          uses.push(0);
          inSum.push(0);
          const counts = uses.data;
          if (a !== null) counts[positionOf(a)]++;
          if (b instanceof Value) counts[positionOf(b)]++;
          if (opIndex === E.add) {
            // An add is a sum of two terms; its left operand can extend a chain of adds.
            const summed = inSum.data;
            if (a !== null) summed[positionOf(a)] |= SUMMED | LEFT_OF_ADD;
            if (b instanceof Value) summed[positionOf(b)] |= SUMMED;
          } else if (Array.isArray(b)) {
            const isSum = opIndex === E.sum ? SUMMED : 0;
            const summed = inSum.data;
            for (const term of b as readonly Operand[]) {
              if (term instanceof Value) {
                const t = positionOf(term);
                counts[t]++;
                summed[t] |= isSum;
              }
            }
          }
          continue;
        }
        node.code = code | 1;
        stack.push(node);
        if (a !== null && !reached(a)) stack.push(a);
        if (b instanceof Value) {
          if (!reached(b)) stack.push(b);
        } else if (Array.isArray(b)) {
          for (const term of b as readonly Operand[]) {
            if (term instanceof Value && !reached(term)) stack.push(term);
          }
        }
      }
    }
    for (const root of outputs) uses.data[positionOf(root)] += 2;
    return lowerOrdered(
      order,
      opOf.data,
      uses.data,
      inSum.data,
      outputs,
      inputs,
      template,
      fuse,
      constantCheck,
    );
  } finally {
    const ops = opOf.data;
    for (let i = 0; i < order.length; i++) order[i].code = ops[i] * 2;
  }
}

/** A growable list of integers, for the tables built while lowering. */
class IntList {
  data = new Int32Array(256);
  length = 0;
  push(x: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = x;
  }
}

// Node kinds while lowering: leaves, and the nodes folded into another instruction.
const LEAF_PARAMETER = 1;
const LEAF_INPUT = 2;
/** A product used once, by a sum: its factors become a term of that sum. */
const FUSED = 3;
/** An add whose only consumer is the add to its right: part of that add's chain. */
const CHAINED = 4;

/** Lowers the nodes of `order` (each after its inputs) into a tape, in the steps below. */
function lowerOrdered(
  order: Value[],
  opOf: Int32Array,
  uses: Int32Array,
  inSum: Int32Array,
  outputs: Value[],
  inputs: Value[],
  template: Template,
  fuse: boolean,
  constantCheck: boolean,
): Tape {
  const nodeCount = order.length;

  const selection = selectInstructions(order, opOf, uses, inSum, inputs, fuse);
  const slots = assignSlots(order, selection, inputs.length);
  const { code, out, A, B, N, C, dotFlags, args, ops, opIndices, backwardOrder, instructionOf, one } = encode(
    selection,
    slots,
    opOf,
    uses,
    fuse,
  );
  const { constants, inputOf } = selection;
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

  if (constantCheck) checkConstants(order, opOf, constants, inputOf);

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
    inputCount: inputs.length,
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

/** The instructions chosen by steps 2 and 3, over node ids and constant ids (after the nodes). */
interface Selection {
  nodeCount: number;
  constants: number[];
  /** The ids of the constants 0 and 1. */
  zero: number;
  one: number;
  /** Per node: its argument number if it is an input, else -1. */
  inputOf: Int32Array;
  /** Per node: LEAF_PARAMETER, LEAF_INPUT, FUSED, CHAINED, or 0 for an instruction. */
  kind: Uint8Array;
  parameterIds: number[];
  /** Per instruction: its node, code, operands, and its terms' range in first/second. */
  insNode: IntList;
  insCode: IntList;
  insA: IntList;
  insB: IntList;
  insStart: IntList;
  insCount: IntList;
  /** The terms of sums and selects: a factor or a term, and the other factor of a product or -1. */
  first: IntList;
  second: IntList;
}

function selectInstructions(
  order: Value[],
  opOf: Int32Array,
  uses: Int32Array,
  inSum: Int32Array,
  inputs: Value[],
  fuse: boolean,
): Selection {
  const nodeCount = order.length;

  // 2. Constants get ids after the nodes.
  const constants: number[] = [];
  const constantIds = new Map<number, number>();
  let negativeZero = -1;
  const constantId = (x: number): number => {
    if (Object.is(x, -0)) {
      if (negativeZero < 0) {
        negativeZero = nodeCount + constants.length;
        constants.push(-0);
      }
      return negativeZero;
    }
    let id = constantIds.get(x);
    if (id === undefined) {
      id = nodeCount + constants.length;
      constants.push(x);
      constantIds.set(x, id);
    }
    return id;
  };
  const ZERO = constantId(0);
  const ONE = constantId(1);

  // 3. Leaves become parameters or inputs; a product used once, by a sum, folds into that sum;
  // every other node becomes an instruction. Sums and selects list their operands in
  // `first`/`second` (second: the other factor of a product, or -1).
  const inputOf = new Int32Array(nodeCount).fill(-1);
  inputs.forEach((leaf, i) => {
    if (leaf.code < 0) inputOf[positionOf(leaf)] = i;
  });
  const kind = new Uint8Array(nodeCount);
  const parameterIds: number[] = [];
  const insNode = new IntList();
  const insCode = new IntList();
  const insA = new IntList();
  const insB = new IntList();
  const insStart = new IntList();
  const insCount = new IntList();
  const first = new IntList();
  const second = new IntList();
  // A sum's terms: a product folded in as its two factors, anything else as itself.
  const pushTerms = (terms: readonly Operand[]) => {
    for (let k = 0; k < terms.length; k++) {
      const t = terms[k];
      if (typeof t === "number") {
        first.push(constantId(t));
        second.push(-1);
      } else if (kind[positionOf(t)] === FUSED) {
        first.push(positionOf(t.a as Value));
        const f = t.b as Operand;
        second.push(typeof f === "number" ? constantId(f) : positionOf(f));
      } else {
        first.push(positionOf(t));
        second.push(-1);
      }
    }
  };
  for (let id = 0; id < nodeCount; id++) {
    const node = order[id];
    const opIndex = opOf[id];
    if (opIndex === E.leaf) {
      if (inputOf[id] >= 0) kind[id] = LEAF_INPUT;
      else {
        kind[id] = LEAF_PARAMETER;
        parameterIds.push(id);
      }
      continue;
    }
    if (fuse && opIndex === E.mul && uses[id] === 1 && (inSum[id] & SUMMED) !== 0) {
      kind[id] = FUSED;
      continue;
    }
    if (fuse && opIndex === E.add && uses[id] === 1 && (inSum[id] & LEFT_OF_ADD) !== 0) {
      kind[id] = CHAINED;
      continue;
    }
    insNode.push(id);
    insStart.push(first.length);
    let terms: readonly Operand[] | undefined;
    if (fuse && opIndex === E.add) {
      // ((t0 + t1) + t2) + t3, written one add at a time as in the original micrograd, is the
      // sum t0 + t1 + t2 + t3 in the same order (a sum starts from 0, and 0 + t0 is t0).
      const rights: Operand[] = [];
      let left: Value = node;
      while (left === node || (left.code < 0 && kind[positionOf(left)] === CHAINED)) {
        rights.push(left.b as Operand);
        left = left.a as Value;
      }
      const chain: Operand[] = [left];
      for (let k = rights.length - 1; k >= 0; k--) chain.push(rights[k]);
      // A lone add of two plain terms stays an add.
      if (chain.length > 2 || chain.some((t) => t instanceof Value && kind[positionOf(t)] === FUSED)) {
        terms = chain;
      }
    } else if (opIndex === E.sum) {
      terms = node.b as readonly Operand[];
    }
    if (terms !== undefined) {
      pushTerms(terms);
      insCode.push(SUM);
      insA.push(-1);
      insB.push(-1);
      insCount.push(terms.length);
      continue;
    }
    if (opIndex === E.select) {
      const candidates = node.b as readonly Value[];
      for (let k = 0; k < candidates.length; k++) {
        first.push(positionOf(candidates[k]));
        second.push(-1);
      }
      insCode.push(SELECT);
      insA.push(positionOf(node.a as Value));
      insB.push(-1);
      insCount.push(candidates.length);
      continue;
    }
    const b = node.b as Operand | null;
    const code = INLINE[opIndex] ?? CALL;
    insCode.push(code);
    insA.push(positionOf(node.a as Value));
    insB.push(b === null ? ZERO : typeof b === "number" ? constantId(b) : positionOf(b));
    // CALL keeps the operation's index, and whether b is a Value, in `count`.
    insCount.push(code === CALL ? opIndex * 2 + (b instanceof Value ? 1 : 0) : 0);
  }
  return {
    nodeCount,
    constants,
    zero: ZERO,
    one: ONE,
    inputOf,
    kind,
    parameterIds,
    insNode,
    insCode,
    insA,
    insB,
    insStart,
    insCount,
    first,
    second,
  };
}

/** Where each node, input and constant lives in the tape's buffers (step 4). */
interface Slots {
  slot: Int32Array;
  parameters: Value[];
  parameterCount: number;
  inputStart: number;
  constantsStart: number;
  outputStart: number;
  slotCount: number;
}

function assignSlots(order: Value[], selection: Selection, inputCount: number): Slots {
  const {
    nodeCount,
    constants,
    inputOf,
    kind,
    parameterIds,
    insNode,
    insCode,
    insStart,
    insCount,
    first,
    second,
  } = selection;
  const count = insNode.length;
  // 4. Slots. Parameters first, laid out so that each weighted sum reads its weights from
  // consecutive slots; then inputs in argument order; constants; instruction outputs, again
  // laid out so that a layer's activations, read by the next layer's sums, are consecutive.
  const slot = new Int32Array(nodeCount + constants.length).fill(-1);
  const stamp = new Int32Array(nodeCount).fill(-1);
  let parameterCount = 0;
  const F = first.data;
  const S = second.data;
  // Gives consecutive slots to the operands (factors `which`: 0 first, 1 second) of sum i if
  // all are distinct, unassigned and of the wanted kind (0 = instruction output).
  const assignRun = (i: number, which: number, wanted: number, products: boolean, next: () => number) => {
    const start = insStart.data[i];
    const end = start + insCount.data[i];
    let n = 0;
    for (let k = start; k < end; k++) {
      if (products && S[k] < 0) continue;
      const id = which === 0 ? F[k] : S[k];
      if (id >= nodeCount || kind[id] !== wanted || slot[id] >= 0 || stamp[id] === i * 2 + which) return;
      stamp[id] = i * 2 + which;
      n++;
    }
    if (n < 2) return;
    for (let k = start; k < end; k++) {
      if (products && S[k] < 0) continue;
      slot[which === 0 ? F[k] : S[k]] = next();
    }
  };
  const nextParameter = () => parameterCount++;
  for (let i = 0; i < count; i++) {
    if (insCode.data[i] === SELECT) assignRun(i, 0, LEAF_PARAMETER, false, nextParameter);
    if (insCode.data[i] !== SUM) continue;
    assignRun(i, 0, LEAF_PARAMETER, true, nextParameter);
    assignRun(i, 1, LEAF_PARAMETER, true, nextParameter);
  }
  for (const id of parameterIds) if (slot[id] < 0) slot[id] = nextParameter();
  const parameters: Value[] = new Array(parameterCount);
  for (const id of parameterIds) parameters[slot[id]] = order[id];
  const inputStart = parameterCount;
  for (let id = 0; id < nodeCount; id++) if (inputOf[id] >= 0) slot[id] = inputStart + inputOf[id];
  const constantsStart = inputStart + inputCount;
  for (let k = 0; k < constants.length; k++) slot[nodeCount + k] = constantsStart + k;
  const outputStart = constantsStart + constants.length;
  let nextOutput = outputStart;
  const nextSlot = () => nextOutput++;
  for (let i = 0; i < count; i++) {
    if (insCode.data[i] === SELECT) assignRun(i, 0, 0, false, nextSlot);
    if (insCode.data[i] !== SUM) continue;
    assignRun(i, 1, 0, true, nextSlot);
    assignRun(i, 0, 0, false, nextSlot);
  }
  for (let i = 0; i < count; i++) {
    const id = insNode.data[i];
    if (slot[id] < 0) slot[id] = nextOutput++;
  }
  const slotCount = nextOutput;

  return { slot, parameters, parameterCount, inputStart, constantsStart, outputStart, slotCount };
}

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

/**
 * Whether a constant carries more digits than a literal written by hand would (1/3, a number
 * read from `.data`): 0.5, 0.01, 1e-4 and integers never do, so a learning rate, a slope or a
 * label cannot be mistaken for a number fed back from the graph.
 */
function hasFullPrecision(c: number): boolean {
  return !Number.isInteger(c) && Number(c.toPrecision(8)) !== c;
}

/**
 * A full-precision constant equal to the value of a node or input of the same trace was most
 * likely read from `.data` and fed back (softmax's shift by a max taken from `.data`, say): a
 * replay would keep today's number.
 */
function checkConstants(order: Value[], opOf: Int32Array, constants: number[], inputOf: Int32Array): void {
  const suspects = constants.filter(hasFullPrecision);
  if (suspects.length === 0) return;
  const wanted = new Set(suspects);
  // A node that has the constant as an operand is not its source.
  const usesConstant = (node: Value, c: number) => {
    const b = node.b;
    if (typeof b === "number") return b === c;
    if (Array.isArray(b)) return (b as readonly Operand[]).includes(c);
    return false;
  };
  // Usually there is at most one such constant (1/n): compared directly, no hashing.
  const only = suspects.length === 1 ? suspects[0] : Number.NaN;
  for (let id = 0; id < order.length; id++) {
    const node = order[id];
    const x = node.data;
    if (x !== only && (suspects.length === 1 || !wanted.has(x))) continue;
    if (usesConstant(node, x)) continue;
    const label = node.label ? ` "${node.label}"` : "";
    const kind =
      inputOf[id] >= 0
        ? `input (x${inputOf[id]})`
        : opOf[id] === E.leaf
          ? `parameter${label}`
          : `${OP_BY_INDEX[opOf[id]].name} node${label}`;
    throw new TypeError(
      `compile: the constant ${node.data} equals the value of ${/^input/.test(kind) ? "an" : "a"} ${kind} of the same trace; it was probably read from .data and fed back in, which a replay would not update (use the Value itself, e.g. Value.max(row) instead of Math.max of .data). If the constant is meant, pass { constantCheck: false }`,
    );
  }
}

// ---------------------------------------------------------------------------------------
// Verification: a second trace of the same shape must be the first one again.

const VERIFY_ADVICE =
  "Read no .data inside fn: use Value.select(candidates, index) to pick by a Value, Value.max or .max() for the largest, .relu() or .abs() instead of a branch on a sign; compile(fn, { check: true }) compares every replay with an eager run; { verify: false } skips this check";

/** Throws if `second`, traced at the second call of a shape, is not `first` with new numbers. */
function verifyTrace(first: Tape, second: Tape): void {
  if (!sameInstructions(first, second)) {
    const before = listing(first).split("\n");
    const after = listing(second).split("\n");
    // The first instruction that differs (line 0, the counts, only if none does).
    let k = 1;
    while (k < before.length && before[k] === after[k]) k++;
    if (k === before.length) k = 0;
    throw new Error(
      `compile: fn's graph depends on the values of its inputs: traced again at the second call of this shape, it differs from the first trace (first: "${clip(before[k])}", now: "${clip(after[k] ?? "")}"), and a replay would repeat the first call's graph. ${VERIFY_ADVICE}`,
    );
  }
  for (let p = 0; p < first.parameters.length; p++) {
    const was = first.parameters[p];
    const now = second.parameters[p];
    // A leaf made inside fn is a new object at every trace: a constant if its number stays.
    if (was === now || Object.is(was.data, now.data)) continue;
    throw new Error(
      `compile: parameter p${p} is a leaf created inside fn (its number was ${was.data} at the first call, ${now.data} at the second): it was computed from numbers outside the graph (noGrad inside fn, grad() without { createGraph: true }, new Value(x.data)), and a replay would keep the first call's number. Compute it with recorded operations (grad() with { createGraph: true }), or pass it as an argument. ${VERIFY_ADVICE}`,
    );
  }
  const plain = differingPlainPart(first.template, second.template);
  if (plain !== undefined) {
    throw new Error(
      `compile: fn returned plain numbers/booleans that depend on the inputs (result${plain}); a replay returns the first call's. Return Values: their .data follows every call`,
    );
  }
}

function sameInstructions(first: Tape, second: Tape): boolean {
  const same = (x: ArrayLike<number>, y: ArrayLike<number>) => {
    if (x.length !== y.length) return false;
    for (let k = 0; k < x.length; k++) if (!Object.is(x[k], y[k])) return false;
    return true;
  };
  const constants = (t: Tape) => t.values.subarray(t.constantsStart, t.outputStart);
  return (
    first.nodeCount === second.nodeCount &&
    first.inputStart === second.inputStart &&
    first.constantsStart === second.constantsStart &&
    first.outputStart === second.outputStart &&
    first.ops.length === second.ops.length &&
    first.ops.every((op, k) => op === second.ops[k]) &&
    same(first.code, second.code) &&
    same(first.out, second.out) &&
    same(first.a, second.a) &&
    same(first.b, second.b) &&
    same(first.n, second.n) &&
    same(first.c, second.c) &&
    same(first.dotFlags, second.dotFlags) &&
    same(first.args, second.args) &&
    same(first.opIndices, second.opIndices) &&
    same(first.outputSlots, second.outputSlots) &&
    same(constants(first), constants(second))
  );
}

function clip(line: string): string {
  const text = line.trim();
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** The path (".loss", "[1]") of the first part of two results that differs, other than a Value's number. */
function differingPlainPart(first: Template, second: Template): string | undefined {
  const stack: [Template, Template, string][] = [[first, second, ""]];
  while (stack.length > 0) {
    const [x, y, path] = stack.pop() as [Template, Template, string];
    if (x.kind !== y.kind)
      return `${path}: ${describeTemplate(x)} at the first call, ${describeTemplate(y)} at the second`;
    if (x.kind === "output" && y.kind === "output") {
      if (x.index !== y.index) return `${path}: a different Value`;
    } else if (x.kind === "plain" && y.kind === "plain") {
      if (!Object.is(x.value, y.value))
        return `${path}: ${String(x.value)} at the first call, ${String(y.value)} at the second`;
    } else if (x.kind === "array" && y.kind === "array") {
      if (x.items.length !== y.items.length)
        return `${path}: ${x.items.length} items at the first call, ${y.items.length} at the second`;
      for (let k = x.items.length - 1; k >= 0; k--) stack.push([x.items[k], y.items[k], `${path}[${k}]`]);
    } else if (x.kind === "object" && y.kind === "object") {
      if (x.keys.join("\u0000") !== y.keys.join("\u0000"))
        return `${path}: keys ${x.keys.join(", ")} at the first call, ${y.keys.join(", ")} at the second`;
      for (let k = x.items.length - 1; k >= 0; k--)
        stack.push([x.items[k], y.items[k], `${path}.${x.keys[k]}`]);
    }
  }
  return undefined;
}

function describeTemplate(t: Template): string {
  return t.kind === "output" ? "a Value" : t.kind === "plain" ? String(t.value) : `an ${t.kind}`;
}

// ---------------------------------------------------------------------------------------
// Replay

function replay(tape: Tape): unknown {
  const { values, parameters } = tape;
  for (let p = 0; p < parameters.length; p++) values[p] = parameters[p].data;
  const failed = runForward(tape);
  if (failed >= 0) throw forwardError(tape, failed);
  const generation = ++tape.generation;
  return build(tape.template, tape, generation);
}

function build(t: Template, tape: Tape, generation: number): unknown {
  switch (t.kind) {
    case "output":
      return new CompiledValue(tape.values[tape.outputSlots[t.index]], tape, t.index, generation);
    case "plain":
      return t.value;
    case "array":
      return t.items.map((item) => build(item, tape, generation));
    case "object": {
      const result: Record<string, unknown> = {};
      t.keys.forEach((key, k) => {
        result[key] = build(t.items[k], tape, generation);
      });
      return result;
    }
  }
}

/** One pass over the tape; returns -1, or the index of the first instruction without a finite result. */
function runForward(tape: Tape): number {
  const { code, out, a: A, b: B, n: N, c: C, dotFlags, args, ops, values: v } = tape;
  const count = code.length;
  // Each case writes its own result: one shared accumulator, assigned from the CALL's
  // untyped return too, made V8 box the sums of the dot loop (twice as slow).
  for (let i = 0; i < count; i++) {
    const a = A[i];
    const b = B[i];
    const o = out[i];
    switch (code[i]) {
      case DOT:
      case DOT_RELU: {
        // Unrolled, in order: the sum must round exactly as the eager sum of products does.
        const end = a + N[i];
        const bias = C[i];
        const biasFirst = (dotFlags[i] & BIAS_FIRST) !== 0;
        let x = a;
        let y = b;
        let s = 0;
        if (biasFirst) s += v[bias];
        for (; x + 3 < end; x += 4, y += 4) {
          s += v[x] * v[y];
          s += v[x + 1] * v[y + 1];
          s += v[x + 2] * v[y + 2];
          s += v[x + 3] * v[y + 3];
        }
        for (; x < end; x++, y++) s += v[x] * v[y];
        if (bias >= 0 && !biasFirst) s += v[bias];
        // The sum is checked before the relu: relu(−∞) would hide an overflow that eager reports.
        if (code[i] === DOT_RELU && s - s === 0) v[o] = Math.max(s, 0);
        else v[o] = s;
        break;
      }
      case RELU:
        v[o] = Math.max(v[a], 0);
        break;
      case ADD:
        v[o] = v[a] + v[b];
        break;
      case SUB:
        v[o] = v[a] - v[b];
        break;
      case MUL:
        v[o] = v[a] * v[b];
        break;
      case DIV:
        v[o] = v[a] / v[b];
        break;
      case POWK:
        v[o] = v[a] ** v[b];
        break;
      case NEG:
        v[o] = -v[a];
        break;
      case EXP:
        v[o] = Math.exp(v[a]);
        break;
      case LOG:
        v[o] = Math.log(v[a]);
        break;
      case TANH:
        v[o] = Math.tanh(v[a]);
        break;
      case LEAKY: {
        const x = v[a];
        v[o] = x > 0 ? x : v[b] * x;
        break;
      }
      case MAX:
        v[o] = Math.max(v[a], v[b]);
        break;
      case CALL:
        v[o] = ops[N[i]].forward(v[a], v[b]);
        break;
      case SUM: {
        const end = a + N[i];
        let s = 0;
        for (let k = a; k < end; k++) s += v[args[k]];
        v[o] = s;
        break;
      }
      case SUMPROD: {
        const end = a + 2 * N[i];
        let s = 0;
        for (let k = a; k < end; k += 2) s += v[args[k]] * v[args[k + 1]];
        v[o] = s;
        break;
      }
      case SELECT: {
        const index = v[a];
        if (!(Number.isInteger(index) && index >= 0 && index < N[i])) return i;
        v[o] = v[args[C[i] + index]];
        break;
      }
    }
    const r = v[o];
    if (r - r !== 0) return i;
  }
  return -1;
}

/** The engine's name for the operation of instruction i. */
function nameOf(tape: Tape, i: number): string {
  return tape.code[i] === DOT_RELU ? OPERATIONS.relu.name : OP_BY_INDEX[tape.opIndices[i]].name;
}

function forwardError(tape: Tape, i: number): RangeError {
  const v = tape.values;
  const bad = tape.parameters.findIndex((p) => !Number.isFinite(p.data));
  if (bad >= 0) {
    const p = tape.parameters[bad];
    return new RangeError(
      `compiled replay: parameter ${bad}${p.label ? ` "${p.label}"` : ""} is ${p.data}, not a finite number (was data set to NaN or Infinity by hand?)`,
    );
  }
  const name = nameOf(tape, i);
  if (tape.code[i] === SELECT) {
    return new RangeError(
      `Value.select: index ${v[tape.a[i]]} is not an integer in 0..${tape.n[i] - 1} (compiled replay)`,
    );
  }
  const code = tape.code[i];
  if (code === SUM || code === SUMPROD || code === DOT || code === DOT_RELU) {
    // Named as eager names it: Value.sum, or the add of a chain written one add at a time.
    const summed = OP_BY_INDEX[tape.opIndices[i]].name;
    const where = `compiled replay, instruction t${i}`;
    return new RangeError(
      summed === "sum"
        ? `Value.sum: result overflows (${where})`
        : `${summed}: result overflows (a chain of ${summed}s, ${where})`,
    );
  }
  const a = v[tape.a[i]];
  const b = v[tape.b[i]];
  const op = tape.code[i] === CALL ? tape.ops[tape.n[i]] : undefined;
  const unary =
    [NEG, EXP, LOG, TANH, RELU].includes(tape.code[i]) ||
    (op !== undefined && tape.c[i] === 0 && op.name !== "pow");
  const args = unary ? `${a}` : `${a}, ${b}`;
  const reason =
    Number.isFinite(a) && Number.isFinite(b)
      ? OP_BY_INDEX[tape.opIndices[i]].explain(a, b)
      : "an input is not a finite number";
  return new RangeError(`${name}(${args}): ${reason}`);
}

function runBackward(tape: Tape, output: number): void {
  const {
    code,
    out,
    a: A,
    b: B,
    n: N,
    c: C,
    args,
    ops,
    values: v,
    grads: g,
    parameters,
    backwardOrder,
  } = tape;
  g.fill(0);
  for (let p = 0; p < parameters.length; p++) g[p] = parameters[p].grad;
  g[tape.outputSlots[output]] += 1;
  for (let j = tape.outputReach[output] - 1; j >= 0; j--) {
    const i = backwardOrder[j];
    const d = g[out[i]];
    if (d === 0) continue;
    if (d - d !== 0) throw backwardError(tape, i, d);
    const a = A[i];
    const b = B[i];
    switch (code[i]) {
      case ADD:
        g[a] += d;
        g[b] += d;
        break;
      case SUB:
        g[a] += d;
        g[b] += d * -1;
        break;
      case MUL:
        g[a] += d * v[b];
        g[b] += d * v[a];
        break;
      case DIV:
        g[a] += d * (1 / v[b]);
        g[b] += d * (-v[out[i]] / v[b]);
        break;
      case POWK: {
        const k = v[b];
        g[a] += d * (k === 0 ? 0 : k * v[a] ** (k - 1));
        break;
      }
      case NEG:
        g[a] += d * -1;
        break;
      case EXP:
        g[a] += d * v[out[i]];
        break;
      case LOG:
        g[a] += d * (1 / v[a]);
        break;
      case TANH: {
        const y = v[out[i]];
        g[a] += d * (1 - y * y);
        break;
      }
      case RELU:
        if (v[a] > 0) g[a] += d;
        break;
      case LEAKY:
        g[a] += d * (v[a] > 0 ? 1 : v[b]);
        break;
      case MAX:
        if (v[a] >= v[b]) g[a] += d;
        else g[b] += d;
        break;
      case CALL: {
        const op = ops[N[i]];
        g[a] += d * op.da(v[a], v[b], v[out[i]]);
        if (C[i] === 1) g[b] += d * op.db(v[a], v[b], v[out[i]]);
        break;
      }
      case SUM: {
        const end = a + N[i];
        for (let k = a; k < end; k++) g[args[k]] += d;
        break;
      }
      case SUMPROD: {
        // As eager: the sum hands its gradient to every term first, the products pass it on after.
        const end = a + 2 * N[i];
        const one = tape.one;
        for (let k = a; k < end; k += 2) if (args[k + 1] === one) g[args[k]] += d;
        for (let k = a; k < end; k += 2) {
          const y = args[k + 1];
          if (y === one) continue;
          const x = args[k];
          g[x] += d * v[y];
          g[y] += d * v[x];
        }
        break;
      }
      case DOT_RELU:
      case DOT: {
        // A relu passes the gradient where its input, the sum, was positive: where its output is.
        if (code[i] === DOT_RELU && !(v[out[i]] > 0)) break;
        const bias = C[i];
        if (bias >= 0) g[bias] += d;
        const n = N[i];
        if ((tape.dotFlags[i] & BOTH_SIDES) !== 0) {
          for (let k = 0; k < n; k++) {
            g[a + k] += d * v[b + k];
            g[b + k] += d * v[a + k];
          }
        } else {
          for (let k = 0; k < n; k++) g[a + k] += d * v[b + k];
        }
        break;
      }
      case SELECT:
        g[args[C[i] + v[a]]] += d;
        break;
    }
  }
  for (let p = 0; p < parameters.length; p++) {
    if (!Number.isFinite(g[p])) {
      throw new RangeError(
        `backward(): the gradient of parameter ${p}${parameters[p].label ? ` "${parameters[p].label}"` : ""} (data ${parameters[p].data}) is not finite ${NOT_FINITE_HINT}; gradients are unchanged`,
      );
    }
  }
  for (let p = 0; p < parameters.length; p++) parameters[p].grad = g[p];
}

function backwardError(tape: Tape, i: number, d: number): RangeError {
  return new RangeError(
    `backward(): the gradient reaching the ${nameOf(tape, i)} node (instruction t${i} of the compiled trace) overflows (${d}); gradients are unchanged`,
  );
}

// ---------------------------------------------------------------------------------------
// Check mode: the same call, eagerly.

/** Check mode's backward(): eager backward on the eager run's graph, then the replay's, compared parameter by parameter. */
function backwardChecked(tape: Tape, output: number, eagerOutput: Value): void {
  const parameters = tape.parameters;
  const before = parameters.map((p) => p.grad);
  eagerOutput.backward();
  const expected = parameters.map((p) => p.grad);
  parameters.forEach((p, k) => {
    p.grad = before[k];
  });
  runBackward(tape, output);
  for (let k = 0; k < parameters.length; k++) {
    const got = parameters[k].grad;
    const scale = Math.max(1, Math.abs(got), Math.abs(expected[k]));
    if (Math.abs(got - expected[k]) > 1e-12 * scale) {
      throw new Error(
        `compile check: the gradient of parameter ${k} is ${expected[k]} eagerly but ${got} replayed: fn's graph depends on its inputs' values`,
      );
    }
  }
}

function compareWithEager(fn: (...args: unknown[]) => unknown, args: readonly unknown[], tape: Tape): void {
  const inputs: Value[] = [];
  const traced = args.map((arg) => wrapArguments(arg, inputs));
  const result = fn(...traced);
  const outputs: Value[] = [];
  templateOf(result, outputs);
  if (outputs.length !== tape.outputSlots.length) {
    throw new Error(
      `compile check: fn returned ${outputs.length} Values when run eagerly but ${tape.outputSlots.length} when traced: its graph depends on its inputs' values`,
    );
  }
  tape.eagerOutputs = outputs;
  for (let k = 0; k < outputs.length; k++) {
    const eager = outputs[k].data;
    const replayed = tape.values[tape.outputSlots[k]];
    const scale = Math.max(Math.abs(eager), Math.abs(replayed), 1e-300);
    if (eager !== replayed && Math.abs(eager - replayed) / scale > 1e-12) {
      throw new Error(
        `compile check: output ${k} is ${eager} when run eagerly but ${replayed} replayed: fn's graph depends on its inputs' values (a branch on .data, an index or a max taken from .data); use Value.select / Value.max, or do not compile fn`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------
// Listing, in the manner of a jaxpr: one instruction per line.

const SYMBOLS: Record<number, string> = { [ADD]: "+", [SUB]: "-", [MUL]: "*", [DIV]: "/", [POWK]: "^" };

function listing(tape: Tape): string {
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

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
