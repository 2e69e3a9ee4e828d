// The deep-chain workload: one input pushed through a long sequence of operations, so that
// the graph is as deep as it is large. A recursive graph walk would overflow the call stack
// long before a million nodes; the time per node shows the engine's fixed cost per operation.
import { Value } from "../src/index.js";
import { countValues } from "../src/viz/dot.js";

/**
 * x, then `links` = nodes / 2 times h ← tanh(h) + h: `nodes` operation nodes above the leaf x.
 * Each h is used twice (by tanh and by the add), as values in real graphs are.
 */
export function buildChain(nodes: number, x0 = 0.5): { root: Value; x: Value } {
  if (!Number.isInteger(nodes) || nodes < 2 || nodes % 2 !== 0) {
    throw new RangeError(`buildChain: nodes must be an even integer >= 2, got ${nodes}`);
  }
  const x = new Value(x0);
  let h = x;
  for (let i = 0; i < nodes / 2; i++) h = h.tanh().add(h);
  return { root: h, x };
}

/** The same recurrence on plain numbers: the root's value and d(root)/dx by forward differentiation. */
export function float64Chain(nodes: number, x0 = 0.5): { value: number; gradient: number } {
  let h = x0;
  let dh = 1;
  for (let i = 0; i < nodes / 2; i++) {
    const t = Math.tanh(h);
    dh = dh * (1 - t * t) + dh;
    h = t + h;
  }
  return { value: h, gradient: dh };
}

/** Every value in the graph under `root`, counted once. */
export const countNodes = countValues;
