// The computation graph behind a Value as Graphviz DOT text: one box per Value (label, data,
// grad) and one small oval per operation, inputs on the left and the result on the right.
import { checkOptions, type Operand, type Value } from "../index.js";

export interface DotOptions {
  /** "LR" (default): inputs on the left, the result on the right. "TB": top to bottom. */
  rankdir?: "LR" | "TB";
  /**
   * The most values in one picture; default 500. A neuron's box and a box counting values left
   * out count as one each; a leaf drawn beside each of its uses counts once.
   */
  maxNodes?: number;
  /**
   * How a graph of more than `maxNodes` values is drawn. `"auto"` (default): every value while
   * there are at most `maxNodes`, else a summary (see `toDot`). `true`: always the summary.
   * `false`: every value, and a RangeError above `maxNodes`.
   */
  summarize?: "auto" | boolean;
}

export const DEFAULT_MAX_NODES = 500;

// The second input of these operations plays a different part from the first, so its edge is named.
const SECOND_INPUT_ROLE: Record<string, string> = { sub: "minus", div: "divisor", pow: "exponent" };

const HEADER = (rankdir: string) => [
  "digraph micrograd {",
  `  rankdir=${rankdir};`,
  // Caps Graphviz's network-simplex passes that place boxes across the ranks (2 per node).
  // Ordinary graphs settle well within it; a value used all along a long chain (x in x+x+…+x)
  // would otherwise take minutes.
  "  nslimit=2;",
  '  bgcolor="white";',
  '  node [fontname="Helvetica,Arial,sans-serif", fontsize=11];',
  '  edge [fontname="Helvetica,Arial,sans-serif", fontsize=9, color="#555555", arrowsize=0.7];',
];

/**
 * Graphviz DOT for the graph that produced `root`. Render it with `renderGraph` or any Graphviz.
 *
 * Every value is a box with its label, data and grad, every operation a small oval. A graph of
 * more than `maxNodes` values (a loss over a batch has tens of thousands) is summarised, in
 * steps, until it fits: each neuron (its weighted sum and activation, weights and bias folded
 * in) becomes one box with the neuron's output data and grad; then an operation with many
 * inputs shows its first two and its last, and one box counting the rest; then only the
 * values nearest the result are drawn, and a box marks where the graph goes on.
 */
export function toDot(root: Value, options: DotOptions = {}): string {
  checkOptions("toDot", options, { rankdir: true, maxNodes: true, summarize: true });
  const rankdir = options.rankdir ?? "LR";
  if (rankdir !== "LR" && rankdir !== "TB") {
    throw new TypeError(`toDot: rankdir must be "LR" or "TB", got ${String(rankdir)}`);
  }
  const maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
  if (!(Number.isInteger(maxNodes) && maxNodes >= 1)) {
    throw new RangeError(`toDot: maxNodes must be a positive integer, got ${String(maxNodes)}`);
  }
  const summarize = options.summarize ?? "auto";
  if (summarize !== "auto" && summarize !== true && summarize !== false) {
    throw new TypeError(`toDot: summarize must be "auto", true or false, got ${String(summarize)}`);
  }
  const nodes = collect(root);
  if (summarize === true || (summarize === "auto" && nodes.length > maxNodes)) {
    return summaryDot(root, nodes, rankdir, maxNodes);
  }
  if (nodes.length > maxNodes) {
    throw new RangeError(
      `toDot: this graph has ${nodes.length} values, more than maxNodes (${maxNodes}); a picture that ` +
        `large is unreadable. Leave out { summarize: false } to draw a summary (one box per neuron), ` +
        `draw a smaller expression, or pass { maxNodes: ${nodes.length} } to draw every value anyway.`,
    );
  }
  const id = new Map<Value, number>();
  nodes.forEach((node, i) => {
    id.set(node, i);
  });

  const lines = HEADER(rankdir);
  const valueInputs = (node: Value) => node.inputs.filter((x): x is Value => typeof x !== "number");
  const source = leafCopies(root, valueInputs, lines, rankdir, (node) => `v${id.get(node)}`);
  for (const [i, node] of nodes.entries()) {
    if (!source.copied.has(node)) lines.push(valueBox(`v${i}`, node, rankdir));
    if (node.op.name === "value") continue;
    lines.push(operationOval(`v${i}`, node));
    const values = valueInputs(node);
    const role = SECOND_INPUT_ROLE[node.op.name];
    values.forEach((input, k) => {
      const edgeLabel = role && values.length === 2 && k === 1 ? ` [label="${role}"]` : "";
      lines.push(`  ${source.nameFor(input)} -> v${i}op${edgeLabel};`);
    });
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/**
 * Leaves used at many depths of the graph (x in x+x+…+x) get a box of their own beside each
 * operation that uses them. Drawn once, their arrows would cross the whole picture, and
 * Graphviz's layout time grows with the square of such arrows' lengths: minutes for a chain
 * of a few hundred. Returns which leaves are copied and the name to draw an arrow from.
 */
function leafCopies(
  root: Value,
  inputsOf: (value: Value) => readonly Value[],
  lines: string[],
  rankdir: string,
  nameOf: (value: Value) => string,
): { copied: Set<Value>; nameFor: (input: Value) => string } {
  const depth = new Map<Value, number>([[root, 0]]);
  const uses = new Map<Value, { count: number; nearest: number; farthest: number }>();
  const queue = [root];
  for (let i = 0; i < queue.length; i++) {
    const value = queue[i];
    const d = depth.get(value) as number;
    for (const input of new Set(inputsOf(value))) {
      const use = uses.get(input);
      if (use) {
        use.count++;
        use.nearest = Math.min(use.nearest, d);
        use.farthest = Math.max(use.farthest, d);
      } else {
        uses.set(input, { count: 1, nearest: d, farthest: d });
      }
      if (!depth.has(input)) {
        depth.set(input, d + 1);
        queue.push(input);
      }
    }
  }
  const copied = new Set<Value>();
  for (const [value, use] of uses) {
    if (value.op.name === "value" && use.count > 2 && use.farthest - use.nearest > MAX_ARROW_SPAN) {
      copied.add(value);
    }
  }
  let copies = 0;
  const nameFor = (input: Value): string => {
    if (!copied.has(input)) return nameOf(input);
    const name = `${nameOf(input)}c${copies++}`;
    lines.push(valueBox(name, input, rankdir, "one value, drawn at each use"));
    return name;
  };
  return { copied, nameFor };
}

/** A value's box: its label (if any), data and grad. */
function valueBox(name: string, node: Value, rankdir: string, heading?: string, fill?: string): string {
  const fields = [
    ...(node.label ? [escapeRecord(node.label)] : []),
    ...(heading ? [escapeRecord(heading)] : []),
    `data ${formatNumber(node.data)}`,
    `grad ${formatNumber(node.grad)}`,
  ].join(" | ");
  // Record fields run across the direction of the graph; braces turn them to read left to right in LR.
  const label = rankdir === "LR" ? `{ ${fields} }` : fields;
  const color = fill ?? (node.op.name === "value" ? "#e8f1fb" : "#ffffff");
  return `  ${name} [shape=record, margin="0.2,0.08", style=filled, fillcolor="${color}", label="${label}"];`;
}

/** The oval of the operation that made `node`, with an edge to its box; constants folded in (`* 2`). */
function operationOval(name: string, node: Value): string {
  const constants = node.inputs.filter((x): x is number => typeof x === "number").map(formatConstant);
  const opLabel = [node.op.symbol, ...constants].join(" ");
  return (
    `  ${name}op [shape=ellipse, margin="0.04,0.02", height=0.3, label="${escapeString(opLabel)}"];\n` +
    `  ${name}op -> ${name};`
  );
}

// ---- the summary ----------------------------------------------------------------------------

const ACTIVATION_NAMES: Record<string, string> = {
  relu: "ReLU",
  tanh: "tanh",
  sigmoid: "sigmoid",
  leakyRelu: "leaky ReLU",
};
/** A leaf used by operations further apart than this (in steps from the result) is drawn beside each. */
const MAX_ARROW_SPAN = 3;
/** An operation with more inputs than this shows only some of them once the graph is too large. */
const WIDE = 5;
const NEURON_FILL = "#fdf0dc";

/** A neuron found in the graph: its output (the activation, or the sum when linear) and inputs. */
interface Neuron {
  output: Value;
  activation: string;
  /** Its inputs x in w·x + b: Values drawn as boxes, numbers only counted. */
  inputs: Value[];
  inputCount: number;
}

/** What a box of the summary stands for: a value (or a neuron, by its output), or several inputs left out. */
type Item = Value | More;
type More = { more: number };
const isMore = (item: Item): item is More => (item as More).more !== undefined;

/**
 * Neurons as Neuron.forward builds them: a sum of w·x terms (w a leaf, each term used only by
 * the sum) and a bias leaf last, with the activation that alone uses that sum. Keyed by output.
 */
function findNeurons(nodes: readonly Value[]): Map<Value, Neuron> {
  const consumers = new Map<Value, number>();
  for (const node of nodes) {
    for (const input of node.inputs) {
      if (typeof input !== "number") consumers.set(input, (consumers.get(input) ?? 0) + 1);
    }
  }
  const neuronOfSum = new Map<Value, Neuron>();
  for (const node of nodes) {
    if (node.op.name !== "sum") continue;
    const terms = node.inputs;
    const bias = terms[terms.length - 1];
    if (terms.length < 2 || typeof bias === "number" || bias.op.name !== "value") continue;
    const inputs: Value[] = [];
    let isNeuron = true;
    for (let i = 0; i < terms.length - 1 && isNeuron; i++) {
      const term = terms[i];
      isNeuron =
        typeof term !== "number" &&
        term.op.name === "mul" &&
        consumers.get(term) === 1 &&
        term.a !== null &&
        term.a.op.name === "value" &&
        term.b !== term.a;
      const x = (term as Value).b;
      if (isNeuron && x !== null && typeof x !== "number") inputs.push(x as Value);
    }
    if (isNeuron) {
      neuronOfSum.set(node, { output: node, activation: "linear", inputs, inputCount: terms.length - 1 });
    }
  }
  const neurons = new Map<Value, Neuron>();
  for (const node of nodes) {
    const activation = ACTIVATION_NAMES[node.op.name];
    const neuron = activation && node.a ? neuronOfSum.get(node.a) : undefined;
    if (neuron && consumers.get(neuron.output) === 1) {
      neuron.output = node;
      neuron.activation = activation;
    }
  }
  for (const neuron of neuronOfSum.values()) neurons.set(neuron.output, neuron);
  return neurons;
}

/**
 * The boxes of a summary, level by level from the result: each level holds what the previous
 * one takes as inputs and is not drawn yet. Stops (complete = false) where `budget` would be exceeded.
 */
function plan(
  root: Value,
  inputsOf: (value: Value) => Item[],
  budget: number,
): { levels: Item[][]; complete: boolean } {
  const seen = new Set<Value>([root]);
  const levels: Item[][] = [[root]];
  let count = 1;
  for (;;) {
    const next: Item[] = [];
    for (const item of levels[levels.length - 1]) {
      if (isMore(item)) continue;
      for (const input of inputsOf(item)) {
        if (isMore(input)) next.push(input);
        else if (!seen.has(input)) {
          seen.add(input);
          next.push(input);
        }
      }
      if (count + next.length > budget) return { levels, complete: false };
    }
    if (next.length === 0) return { levels, complete: true };
    levels.push(next);
    count += next.length;
  }
}

function summaryDot(root: Value, nodes: readonly Value[], rankdir: string, maxNodes: number): string {
  const neurons = findNeurons(nodes);
  const summary = chooseSummary(root, neurons, maxNodes);
  const lines = HEADER(rankdir);
  const notes = summaryNotes(summary, neurons);
  lines.splice(
    2,
    0,
    `  label="${escapeString(`${nodes.length.toLocaleString("en-US")} values, summarised: ${notes.join("; ")}`)}";`,
    "  labelloc=t;",
    '  fontname="Helvetica,Arial,sans-serif";',
    "  fontsize=12;",
  );
  drawSummary(lines, root, summary, neurons, rankdir);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** What a summary draws, and how it was made to fit. */
interface Summary {
  /** The values (and neurons, by their outputs) that get a box. */
  drawn: Set<Value>;
  /** Drawn values with inputs left out, each pointed at by one box saying so. */
  cut: Set<Value>;
  /** Whether every value under the result is drawn (nothing cut). */
  complete: boolean;
  /** Whether operations with more than WIDE inputs show only some of them. */
  elide: boolean;
  /** A value's inputs as drawn (a neuron's are the x of its w·x), with elision if chosen. */
  inputsOf: (value: Value) => Item[];
  /** A value's inputs, all of them. */
  fullInputs: (value: Value) => Value[];
}

/**
 * The boxes within `maxNodes`, trying in turn: every value (neurons folded), then wide
 * operations elided, then only the levels nearest the result.
 */
function chooseSummary(root: Value, neurons: Map<Value, Neuron>, maxNodes: number): Summary {
  const fullInputs = (value: Value): Value[] => {
    const neuron = neurons.get(value);
    if (neuron) return neuron.inputs;
    return value.inputs.filter((x): x is Value => typeof x !== "number");
  };
  // Inputs in order without repeats; past WIDE of them, the first two, a count of the rest (a
  // neuron's heading says it instead), the last.
  const inputsOf =
    (elide: boolean) =>
    (value: Value): Item[] => {
      const inputs = [...new Set(fullInputs(value))];
      if (!elide || inputs.length <= WIDE) return inputs;
      const last = inputs[inputs.length - 1];
      if (neurons.has(value)) return [inputs[0], inputs[1], last];
      return [inputs[0], inputs[1], { more: inputs.length - 3 }, last];
    };

  let elide = false;
  let { levels, complete } = plan(root, inputsOf(false), maxNodes);
  if (!complete) {
    elide = true;
    ({ levels, complete } = plan(root, inputsOf(true), maxNodes));
  }
  const drawn = new Set<Value>();
  for (const level of levels) for (const item of level) if (!isMore(item)) drawn.add(item);
  const cut = complete ? [] : cutDeeper(levels, drawn, inputsOf(elide), maxNodes);
  return { drawn, cut: new Set(cut), complete, elide, inputsOf: inputsOf(elide), fullInputs };
}

/**
 * Cut deeper: each box of the last level with inputs left out gets one box saying so, and the
 * deepest levels go (from `levels` and `drawn`) until those boxes fit too. Returns the cut boxes.
 */
function cutDeeper(
  levels: Item[][],
  drawn: Set<Value>,
  inputsOf: (value: Value) => Item[],
  maxNodes: number,
): Value[] {
  const cutOf = (level: Item[]) =>
    level.filter((item) => !isMore(item) && inputsOf(item).some((x) => !isMore(x) && !drawn.has(x)));
  let cut = cutOf(levels[levels.length - 1]) as Value[];
  let boxes = levels.reduce((n, level) => n + level.length, 0);
  while (levels.length > 1 && boxes + cut.length > maxNodes) {
    const dropped = levels.pop() as Item[];
    boxes -= dropped.length;
    for (const item of dropped) if (!isMore(item)) drawn.delete(item);
    cut = cutOf(levels[levels.length - 1]) as Value[];
  }
  return cut;
}

/** What the summary's title says was left out or folded. */
function summaryNotes(summary: Summary, neurons: Map<Value, Neuron>): string[] {
  const { drawn, fullInputs } = summary;
  const notes: string[] = [];
  if ([...drawn].some((value) => neurons.has(value))) notes.push("one box per neuron");
  if (summary.elide && [...drawn].some((value) => new Set(fullInputs(value)).size > WIDE)) {
    notes.push(`of more than ${WIDE} inputs, the first two and the last`);
  }
  if (!summary.complete) notes.push("only the values nearest the result");
  return notes;
}

/** The summary's boxes and arrows, appended to `lines`. */
function drawSummary(
  lines: string[],
  root: Value,
  summary: Summary,
  neurons: Map<Value, Neuron>,
  rankdir: string,
): void {
  const { drawn, inputsOf } = summary;
  const id = new Map<Value, string>();
  let next = 0;
  for (const value of drawn) id.set(value, `v${next++}`);
  let extra = 0;
  const noteBox = (text: string): string => {
    const name = `m${extra++}`;
    lines.push(
      `  ${name} [shape=box, style="dashed,rounded", color="#888888", fontcolor="#555555", label="${escapeString(text)}"];`,
    );
    return name;
  };
  const drawnInputs = (value: Value) =>
    drawn.has(value) ? inputsOf(value).filter((x): x is Value => !isMore(x) && drawn.has(x)) : [];
  const source = leafCopies(root, drawnInputs, lines, rankdir, (value) => id.get(value) as string);
  for (const value of drawn) {
    const name = id.get(value) as string;
    const neuron = neurons.get(value);
    let target: string;
    const inputs = inputsOf(value);
    if (neuron) {
      lines.push(neuronBox(name, value, neuron, inputs, drawn, rankdir));
      target = name;
    } else {
      if (!source.copied.has(value)) lines.push(valueBox(name, value, rankdir));
      if (value.op.name === "value") continue;
      lines.push(operationOval(name, value));
      target = `${name}op`;
    }
    const role = SECOND_INPUT_ROLE[value.op.name];
    const isCut = summary.cut.has(value);
    inputs.forEach((input, k) => {
      if (isMore(input)) {
        if (isCut) return; // the cut's box stands for these too
        lines.push(`  ${noteBox(`… ${input.more} more inputs`)} -> ${target};`);
      } else if (drawn.has(input)) {
        const edgeLabel = !neuron && role && inputs.length === 2 && k === 1 ? ` [label="${role}"]` : "";
        lines.push(`  ${source.nameFor(input)} -> ${target}${edgeLabel};`);
      }
    });
    if (isCut) lines.push(`  ${noteBox("… more of the graph, not drawn")} -> ${target};`);
  }
}

/** A neuron's box: its output's data and grad under "ReLU neuron (3 of 10 inputs)". */
function neuronBox(
  name: string,
  value: Value,
  neuron: Neuron,
  inputs: readonly Item[],
  drawn: Set<Value>,
  rankdir: string,
): string {
  const shown = inputs.filter((x) => !isMore(x) && drawn.has(x)).length;
  const count =
    shown > 0 && shown < neuron.inputCount ? `${shown} of ${neuron.inputCount}` : neuron.inputCount;
  const heading = `${neuron.activation} neuron (${count} input${neuron.inputCount === 1 ? "" : "s"})`;
  return valueBox(name, value, rankdir, heading, NEURON_FILL);
}

/** How many Values the graph under `root` holds, each counted once (without recursion). */
export function countValues(root: Value): number {
  return collect(root).length;
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
