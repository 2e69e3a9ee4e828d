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
// call, their gradients added into `.grad` by backward(), exactly as eager; a leaf that fn
// makes itself is one until verification finds it a constant (leaves.ts). Inputs are the
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
//
// The pipeline, one file per pass, in the order it runs:
//   cache.ts      one trace per shape of the arguments, least recently used out
//   arguments.ts  the numbers of the arguments, flattened; their shape picks the trace
//   trace.ts      run fn once on Values (conversions of Values to numbers refused)
//   walk.ts       the graph walk: every node after its inputs, use counts
//   select.ts     instruction selection: products fused into sums, chains of adds into one sum
//   slots.ts      slot assignment: a layer's weights and activations in consecutive slots
//   encode.ts     the tape: typed arrays of instructions over slots, a ReLU merged into its dot
//   rows.ts       the dots of a layer that share an input (or a row of weights), grouped
//   layout.ts     on an arena, once verified: the parameter slots renumbered as the arena's places
//   replay.ts     the forward and reverse loops over the tape
//   replay-rows.ts  the replay of a group of rows, four at a time
//   failure.ts    a replay's number out of range, named as eager names it
//   check.ts      the constant check, verification by a second trace, check mode
//   leaves.ts     once verified: the leaves fn makes (new at every trace) become constants
//   listing.ts    the tape as a readable list of instructions
// tape.ts holds what the passes share: the instruction codes and the Tape.
import type { ParameterArena } from "../arena.js";
import { isRecording, type Value } from "../engine.js";
import { checkOptions } from "../options.js";
import { TraceCache } from "./cache.js";
import { backwardChecked, checkConstants, compareWithEager, verifyTrace } from "./check.js";
import { encodeTape } from "./encode.js";
import { forwardError } from "./failure.js";
import { layOutOnArena } from "./layout.js";
import { holdAsConstants, markMadeInside } from "./leaves.js";
import { listing, plural } from "./listing.js";
import { runBackward, runForward } from "./replay.js";
import { groupRows } from "./rows.js";
import { selectInstructions } from "./select.js";
import { assignSlots } from "./slots.js";
import type { Tape, Template } from "./tape.js";
import { traceFunction } from "./trace.js";
import { withTracedGraph } from "./walk.js";

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
   * follow, and throws. Costs one extra trace per shape. Default true. The leaves that fn made
   * at both traces with the same number then become constants of the trace (leaves.ts);
   * without verification they stay parameters, read from their own Values.
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
  /**
   * Where replays read the parameters and backward() adds their gradients: an arena holding
   * every parameter the function reaches, or undefined (the default) for the Values' own
   * `.data` and `.grad`. The results are the same numbers either way.
   */
  arena: ParameterArena | undefined;
}

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
  const {
    check = false,
    maxTraces = 8,
    fuse = true,
    constantCheck = true,
    verify = true,
  } = checkOptions("compile", options, {
    check: true,
    maxTraces: true,
    fuse: true,
    constantCheck: true,
    verify: true,
  });
  if (!Number.isInteger(maxTraces) || maxTraces < 1) {
    throw new RangeError(`compile: maxTraces must be a positive integer, got ${String(maxTraces)}`);
  }
  const traced = fn as unknown as (...a: unknown[]) => unknown;
  const cache = new TraceCache(maxTraces, (args) => {
    const tape = trace(traced, args, fuse, constantCheck);
    tape.verified = !verify;
    return tape;
  });
  let arena: ParameterArena | undefined;

  const compiled = (...args: unknown[]) => {
    if (args.length < fn.length) {
      throw new TypeError(
        `compiled function: expected ${plural(fn.length, "argument")} (numbers or arrays of numbers), got ${args.length}`,
      );
    }
    const tape = cache.tapeFor(args);
    // Once verified (a layout renumbers the slots the verification compares), on the arena.
    if (arena && tape.verified && tape.layoutTried !== arena) {
      tape.layoutTried = arena;
      const place = arenaIndex(tape, arena);
      // Not while a leaf fn made is read from its own Value (leaves.ts).
      if (!tape.laidOn && !place.includes(-1)) layOutOnArena(tape, arena, place);
    }
    const { numbers } = cache;
    tape.values.set(numbers.data.subarray(0, numbers.length), tape.inputStart);
    const result = replay(tape, arena);
    if (check) compareWithEager(traced, args, tape);
    // The first replay of a shape made outside noGrad (tracing records a graph) is verified
    // after it ran, so that errors of the numbers are named by the replay.
    if (!tape.verified && tape.generation > 1 && isRecording()) {
      holdAsConstants(tape, verifyTrace(tape, trace(traced, args, fuse, false)));
      tape.verified = true;
      // The places of the parameters left, for this call's backward(); every one must be there now.
      if (arena) arenaIndex(tape, arena);
    }
    return result;
  };
  Object.defineProperties(compiled, {
    traceCount: { get: () => cache.traceCount },
    cacheSize: { get: () => cache.size },
    arena: {
      get: () => arena,
      set: (bound: ParameterArena | undefined) => {
        // Check mode compares the replay's gradients with eager ones in the Values' .grad.
        if (bound && check)
          throw new Error("compiled function: check mode works on the Values, not an arena");
        arena = bound;
      },
    },
  });
  Object.assign(compiled, {
    listing(...args: unknown[]): string {
      if (args.length > 0) {
        // A shape not cached is traced for the listing alone, neither kept nor counted.
        return listing(cache.peek(args) ?? trace(traced, args, fuse, constantCheck));
      }
      if (!cache.latest) {
        throw new Error("listing(): nothing traced yet; call the compiled function (or pass arguments)");
      }
      return listing(cache.latest);
    },
    clear: () => cache.clear(),
  });
  return compiled as unknown as CompiledFunction<F>;
}

/** The pipeline: trace `fn`, walk its graph, select instructions, assign slots, encode the tape. */
function trace(
  fn: (...args: unknown[]) => unknown,
  args: readonly unknown[],
  fuse: boolean,
  constantCheck: boolean,
): Tape {
  const { inputs, outputs, template, made } = traceFunction(fn, args);
  return withTracedGraph(outputs, (graph) => {
    const selection = selectInstructions(graph, inputs, fuse);
    if (constantCheck) checkConstants(graph.order, graph.opOf, selection.constants, selection.inputOf);
    const slots = assignSlots(graph.order, selection, inputs.length);
    const tape = encodeTape(graph, selection, slots, outputs, inputs.length, template, fuse);
    tape.madeInside = markMadeInside(tape.parameters, made);
    groupRows(tape);
    return tape;
  });
}

function replay(tape: Tape, arena: ParameterArena | undefined): unknown {
  const { values, parameters, parameterSlot: slot } = tape;
  if (arena && tape.laidOn === arena) {
    values.set(arena.data);
  } else if (arena) {
    const index = arenaIndex(tape, arena);
    const data = arena.data;
    for (let p = 0; p < index.length; p++) {
      const place = index[p];
      // A leaf fn made, not in the arena, is read from its Value (leaves.ts).
      values[slot[p]] = place >= 0 ? data[place] : parameters[p].data;
    }
  } else {
    for (let p = 0; p < parameters.length; p++) values[slot[p]] = parameters[p].data;
  }
  tape.arena = arena;
  const failed = runForward(tape);
  if (failed >= 0) {
    // The buffers no longer hold the last call's numbers: its result's backward() is refused.
    tape.generation++;
    throw forwardError(tape, failed);
  }
  const generation = ++tape.generation;
  return build(tape.template, tape, generation);
}

/**
 * Each parameter slot's place in the arena, made once per tape and arena: -1 for a leaf that
 * fn made, which the arena need not hold (leaves.ts).
 */
function arenaIndex(tape: Tape, arena: ParameterArena): Int32Array {
  if (tape.arenaIndexOf === arena && tape.arenaIndex) return tape.arenaIndex;
  const index = Int32Array.from(tape.parameters, (p) => arena.indexOf(p));
  const missing = index.findIndex((place, p) => place < 0 && tape.madeInside?.[p] !== 1);
  if (missing >= 0) {
    const p = tape.parameters[missing];
    throw new RangeError(
      `compiled function: parameter ${missing}${p.label ? ` "${p.label}"` : ""} (data ${p.data}) is not in the arena; make the arena from every parameter the function reaches (model.parameters())`,
    );
  }
  tape.arenaIndex = index;
  tape.arenaIndexOf = arena;
  return index;
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
