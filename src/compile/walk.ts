// The graph walk: every node after its inputs, how often each is used, and which are summed.
import { type Operand, Value } from "../engine.js";
import { E, IntList } from "./tape.js";

// Flags of `inSum` in `lower`: a term of a sum or an add; the left operand of an add.
export const SUMMED = 1;
export const LEFT_OF_ADD = 2;

/** Whether the walk in `lower` has reached a node: marked (odd code) or placed (negative code). */
const reached = (node: Value) => (node.code & 1) !== 0 || node.code < 0;

/** The position in `order` of a node placed by the walk in `lower`. */
export const positionOf = (node: Value) => -1 - node.code;

/**
 * Walks the graph under `outputs` and hands the walk to `visit`. While it works, each node's `code` holds the engine's
 * visited mark while the node is being expanded, then −1 − its position in `order` (a Map from
 * nodes to positions made the first call several times slower); codes are restored at the end.
 */
export function withGraphWalk<T>(
  outputs: Value[],
  visit: (order: Value[], opOf: Int32Array, uses: Int32Array, inSum: Int32Array) => T,
): T {
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
    return visit(order, opOf.data, uses.data, inSum.data);
  } finally {
    const ops = opOf.data;
    for (let i = 0; i < order.length; i++) order[i].code = ops[i] * 2;
  }
}
