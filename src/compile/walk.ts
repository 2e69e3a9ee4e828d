// The graph walk: the engine's walk of the traced graph (every node after its inputs, in the
// order eager backward() visits them), with what instruction selection needs to know of each
// node: its operation, how often it is used, whether a sum takes it as a term.
import { type GraphWalk, type Operand, Value, walkGraph } from "../engine.js";
import { OP_INDEX } from "./tape.js";

// Bits of `inSum`.
/** A term of a sum or of an add. */
export const SUMMED = 1;
/** The left operand of an add, which can extend a chain of adds. */
export const LEFT_OF_ADD = 2;

export interface TracedGraph extends GraphWalk {
  /** The engine's operation index of each node, by position. */
  readonly opOf: Int32Array;
  /** SUMMED and LEFT_OF_ADD, by position. */
  readonly inSum: Uint8Array;
}

/**
 * Walks the graph under `outputs` and runs `visit` on it. The order is the one eager
 * backward() uses for the first output, so that the reverse loop adds into every gradient in
 * the same order as eager: bit for bit. An output counts as two more uses, so that nothing
 * fuses it away.
 */
export function withTracedGraph<T>(outputs: readonly Value[], visit: (graph: TracedGraph) => T): T {
  return walkGraph(outputs, (walk) => {
    const { order, uses, positionOf } = walk;
    const opOf = new Int32Array(order.length);
    const inSum = new Uint8Array(order.length);
    for (let id = 0; id < order.length; id++) {
      const node = order[id];
      const opIndex = node.op.index;
      opOf[id] = opIndex;
      const b = node.b;
      if (opIndex === OP_INDEX.add) {
        inSum[positionOf(node.a as Value)] |= SUMMED | LEFT_OF_ADD;
        if (b instanceof Value) inSum[positionOf(b)] |= SUMMED;
      } else if (opIndex === OP_INDEX.sum) {
        for (const term of b as readonly Operand[])
          if (term instanceof Value) inSum[positionOf(term)] |= SUMMED;
      }
    }
    for (const root of outputs) uses[positionOf(root)] += 2;
    return visit({ order, uses, positionOf, opOf, inSum });
  });
}
