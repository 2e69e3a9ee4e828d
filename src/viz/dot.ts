// The computation graph behind a Value as Graphviz DOT text: one box per Value (label, data,
// grad) and one small oval per operation, inputs on the left and the result on the right.
import type { Operand, Value } from "../index.js";

export interface DotOptions {
  /** "LR" (default): inputs on the left, the result on the right. "TB": top to bottom. */
  rankdir?: "LR" | "TB";
  /** Refuse (with a RangeError) to draw more Values than this; default 500. */
  maxNodes?: number;
}

export const DEFAULT_MAX_NODES = 500;

// The second input of these operations plays a different part from the first, so its edge is named.
const SECOND_INPUT_ROLE: Record<string, string> = { sub: "minus", div: "divisor", pow: "exponent" };

/** Graphviz DOT for the graph that produced `root`. Render it with `renderGraph` or any Graphviz. */
export function toDot(root: Value, options: DotOptions = {}): string {
  const rankdir = options.rankdir ?? "LR";
  if (rankdir !== "LR" && rankdir !== "TB") {
    throw new TypeError(`toDot: rankdir must be "LR" or "TB", got ${String(rankdir)}`);
  }
  const maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
  if (!(Number.isInteger(maxNodes) && maxNodes >= 1)) {
    throw new RangeError(`toDot: maxNodes must be a positive integer, got ${String(maxNodes)}`);
  }
  const nodes = collect(root);
  if (nodes.length > maxNodes) {
    throw new RangeError(
      `toDot: this graph has ${nodes.length} values, more than maxNodes (${maxNodes}); a picture that ` +
        `large is unreadable. Draw a smaller expression (one neuron, or a model with fewer inputs and ` +
        `layers), or pass { maxNodes: ${nodes.length} } to draw it anyway.`,
    );
  }
  const id = new Map<Value, number>();
  nodes.forEach((node, i) => {
    id.set(node, i);
  });

  const lines = [
    "digraph micrograd {",
    `  rankdir=${rankdir};`,
    '  bgcolor="white";',
    '  node [fontname="Helvetica,Arial,sans-serif", fontsize=11];',
    '  edge [fontname="Helvetica,Arial,sans-serif", fontsize=9, color="#555555", arrowsize=0.7];',
  ];
  for (const [i, node] of nodes.entries()) {
    const fields = [
      ...(node.label ? [escapeRecord(node.label)] : []),
      `data ${formatNumber(node.data)}`,
      `grad ${formatNumber(node.grad)}`,
    ].join(" | ");
    // Record fields run across the direction of the graph; braces turn them to read left to right in LR.
    const label = rankdir === "LR" ? `{ ${fields} }` : fields;
    const leaf = node.op.name === "value";
    const fill = leaf ? "#e8f1fb" : "#ffffff";
    lines.push(
      `  v${i} [shape=record, margin="0.2,0.08", style=filled, fillcolor="${fill}", label="${label}"];`,
    );
    if (leaf) continue;

    const inputs = node.inputs;
    const constants = inputs.filter((x): x is number => typeof x === "number").map(formatConstant);
    // A constant operand is folded into the operation's oval: `* 2`, `^ 3`, `LeakyReLU 0.01`.
    const opLabel = [node.op.symbol, ...constants].join(" ");
    lines.push(
      `  v${i}op [shape=ellipse, margin="0.04,0.02", height=0.3, label="${escapeString(opLabel)}"];`,
    );
    lines.push(`  v${i}op -> v${i};`);
    const values = inputs.filter((x): x is Value => typeof x !== "number");
    const role = SECOND_INPUT_ROLE[node.op.name];
    values.forEach((input, k) => {
      const edgeLabel = role && values.length === 2 && k === 1 ? ` [label="${role}"]` : "";
      lines.push(`  v${id.get(input)} -> v${i}op${edgeLabel};`);
    });
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** Every Value under `root` (inputs before the values made from them), found without recursion. */
function collect(root: Value): Value[] {
  const seen = new Set<Value>([root]);
  const stack: Value[] = [root];
  const found: Value[] = [];
  while (stack.length > 0) {
    const node = stack.pop() as Value;
    found.push(node);
    for (const input of node.inputs as Operand[]) {
      if (typeof input !== "number" && !seen.has(input)) {
        seen.add(input);
        stack.push(input);
      }
    }
  }
  // Found consumers-first; reversed, most inputs come before their results, which keeps the DOT readable.
  return found.reverse();
}

/** About four significant digits: 0.7071, -6.000, 1.235e+5. */
export function formatNumber(x: number): string {
  const abs = Math.abs(x);
  if (abs === 0 || (abs >= 1e-3 && abs < 1e5)) return x.toPrecision(4);
  return x.toExponential(3);
}

/** A constant as written in code where it is short (2, 0.01), else to four significant digits. */
function formatConstant(x: number): string {
  return String(Number(x.toPrecision(4)));
}

/** Text for a quoted DOT string: quotes and backslashes escaped, newlines as \n. */
function escapeString(text: string): string {
  return text.replace(/[\\"]/g, "\\$&").replace(/\r?\n/g, "\\n");
}

/** Text for one field of a record label, where { } | < > also have meanings. */
export function escapeRecord(text: string): string {
  return text.replace(/[\\"{}|<>]/g, "\\$&").replace(/\r?\n/g, "\\n");
}
