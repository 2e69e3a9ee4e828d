// The traces of one compiled function, one per shape of the arguments, least recently used
// first out.
import { flattenArguments, NumberBuffer } from "./arguments.js";
import { checkSameParameters } from "./check.js";
import type { Tape } from "./tape.js";

export class TraceCache {
  private readonly traces = new Map<string, Tape>();
  /** How many tapes `makeTape` has made. */
  traceCount = 0;
  /** The tape of the latest call, for listing(). */
  latest: Tape | undefined;
  /** The numbers of the latest arguments looked up, flattened. */
  readonly numbers = new NumberBuffer();

  constructor(
    private readonly maxTraces: number,
    private readonly makeTape: (args: readonly unknown[]) => Tape,
  ) {}

  get size(): number {
    return this.traces.size;
  }

  /** The tape for the shape of `args`, traced if it is new; their numbers are left in `numbers`. */
  tapeFor(args: readonly unknown[]): Tape {
    const signature = flattenArguments(args, this.numbers);
    let tape = this.traces.get(signature);
    if (tape) {
      this.traces.delete(signature);
    } else {
      tape = this.makeTape(args);
      this.traceCount++;
      for (const other of this.traces.values()) checkSameParameters(other, tape);
    }
    this.traces.set(signature, tape);
    if (this.traces.size > this.maxTraces) this.traces.delete(this.traces.keys().next().value as string);
    this.latest = tape;
    return tape;
  }

  /** The cached tape for the shape of `args`, without touching the order of the cache. */
  peek(args: readonly unknown[]): Tape | undefined {
    return this.traces.get(flattenArguments(args, this.numbers));
  }

  clear(): void {
    this.traces.clear();
    this.latest = undefined;
  }
}
