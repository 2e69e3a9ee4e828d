// `micrograd graph`: an expression's computation graph after backward, as SVG, PNG or DOT.
// Graphviz lays out the picture in a worker thread with a time limit: some small graphs
// (one input used in a hundred places) take it minutes, and a command must not hang.
import { extname, resolve } from "node:path";
import { INCOMPLETE_GRADIENTS, type Value } from "../engine.js";
import { writeFileAtomic } from "../node/files.js";
import { threadBeside } from "../node/worker-threads.js";
import { countValues, toDot } from "../viz/dot.js";
import { ExpressionError, evaluateExpression, MAX_EXPRESSION_LENGTH } from "./expression.js";
import {
  type Command,
  count,
  type FlagTable,
  helpText,
  type Io,
  parseFlags,
  printHelp,
  UsageError,
} from "./flags.js";

const DEFAULT_MAX_NODES = 500;
const DEFAULT_TIMEOUT_SECONDS = 30;

const GRAPH_INTRO = `micrograd graph — draw the computation graph of an expression, after backward

Usage: micrograd graph [--expr EXPR --values a=1,b=2] [--out FILE]

Without --expr, draws a single neuron with two inputs and tanh:
  tanh(x1*w1 + x2*w2 + b) with x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432`;

export const GRAPH = {
  name: "graph",
  intro: GRAPH_INTRO,
  flags: {
    expr: {
      kind: "text",
      value: "EXPR",
      section: "Options",
      help:
        "numbers, names, + - * / ^, parentheses and exp log sqrt abs tanh sigmoid relu softplus;\n" +
        `at most ${count(MAX_EXPRESSION_LENGTH)} characters`,
    },
    values: {
      kind: "text",
      value: "LIST",
      section: "Options",
      help: "a value for every name, e.g. x=2,w=-3",
    },
    out: { kind: "path", value: "FILE", section: "Options", help: ".svg, .png or .dot (default graph.svg)" },
    "max-nodes": {
      kind: "integer",
      value: "N",
      section: "Options",
      min: 1,
      help:
        "draw up to N values one by one; a larger graph is drawn summarised\n" +
        `(one box per neuron, long sums shortened) (default ${DEFAULT_MAX_NODES})`,
    },
    timeout: {
      kind: "number",
      value: "S",
      section: "Options",
      above: 0,
      max: 3600,
      tooLarge: "must be at most 3600 seconds",
      help: `give Graphviz's layout of .svg and .png at most S seconds (default ${DEFAULT_TIMEOUT_SECONDS})`,
    },
  },
} as const satisfies Command<FlagTable>;

export const GRAPH_HELP = helpText(GRAPH);

/** The neuron drawn when no --expr is given. */
const NEURON = {
  expr: "tanh(x1*w1 + x2*w2 + b)",
  values: { x1: 2, x2: 0, w1: -3, w2: 1, b: 6.881373587019543 },
  label: "o",
};

export async function graph(args: string[], io: Io): Promise<number> {
  const { help, values } = parseFlags(GRAPH, args);
  if (help) return printHelp(GRAPH_HELP, io);
  const out = resolve(values.out ?? "graph.svg");
  const format = extname(out).slice(1).toLowerCase();
  if (format !== "svg" && format !== "png" && format !== "dot")
    throw new UsageError(`--out ${values.out}: the file must end in .svg, .png or .dot`);
  const maxNodes = values["max-nodes"] ?? DEFAULT_MAX_NODES;
  const timeout = values.timeout ?? DEFAULT_TIMEOUT_SECONDS;
  if (values.expr === undefined && values.values !== undefined) throw new UsageError("--values needs --expr");
  const source =
    values.expr === undefined
      ? NEURON
      : { expr: values.expr, values: parseAssignments(values.values ?? ""), label: undefined };

  let root: Value;
  try {
    root = build(source);
  } catch (error) {
    // A malformed expression, or math with no answer for these values (log(-1), sqrt'(0)).
    if (error instanceof ExpressionError || error instanceof RangeError) {
      // The engine's advice is for code that calls backward(); here the remedy is other values.
      const message = error.message.replace(
        INCOMPLETE_GRADIENTS,
        "; the expression has no derivative at these --values: choose others",
      );
      throw new UsageError(`--expr: ${message}`);
    }
    throw error;
  }
  const size = countValues(root);
  if (size > maxNodes) {
    io.stdout.write(
      `the graph has ${count(size)} values, more than --max-nodes ${maxNodes}: drawing it summarised ` +
        `(pass --max-nodes ${size} to draw every value)\n`,
    );
  }
  if (format === "dot") {
    writeFileAtomic(out, toDot(root, { maxNodes }));
  } else {
    writeFileAtomic(out, await layOut(source, { maxNodes, format, timeout, size }));
  }
  io.stdout.write(`output ${root.data.toPrecision(6)}; wrote ${out}\n`);
  return 0;
}

interface Source {
  expr: string;
  values: Record<string, number>;
  label: string | undefined;
}

/** The expression's graph, after backward. The layout worker builds it again the same way. */
export function build(source: Source): Value {
  const root = evaluateExpression(source.expr, source.values);
  if (source.label) root.named(source.label);
  root.backward();
  return root;
}

/** SVG text or PNG bytes from Graphviz, in a worker that is stopped after `timeout` seconds. */
function layOut(
  source: Source,
  options: { maxNodes: number; format: "svg" | "png"; timeout: number; size: number },
): Promise<string | Uint8Array> {
  const workerData = { source, maxNodes: options.maxNodes, format: options.format };
  const worker = threadBeside(import.meta.url, "graph-worker", workerData);
  const advice = "write --out FILE.dot instead (no layout needed), or draw a smaller expression";
  return new Promise((resolvePicture, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(
        new Error(
          `Graphviz did not finish laying out the graph (${count(options.size)} values) within --timeout ${options.timeout} s; ${advice}`,
        ),
      );
    }, options.timeout * 1000);
    worker.once("message", (picture: string | Uint8Array) => {
      clearTimeout(timer);
      void worker.terminate();
      resolvePicture(picture);
    });
    worker.once("error", (error) => {
      clearTimeout(timer);
      reject(
        new Error(`could not draw the graph (${count(options.size)} values): ${error.message}; ${advice}`),
      );
    });
    worker.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`could not draw the graph: the layout stopped (exit ${code}); ${advice}`));
    });
  });
}

function parseAssignments(text: string): Record<string, number> {
  // No prototype: a name such as __proto__ or constructor is a name like any other.
  const inputs: Record<string, number> = Object.create(null);
  for (const part of text.split(",")) {
    if (part.trim() === "") continue;
    const match = /^\s*([A-Za-z_]\w*)\s*=\s*(\S+)\s*$/.exec(part);
    const value = match ? Number(match[2]) : Number.NaN;
    if (!match || !Number.isFinite(value)) {
      throw new UsageError(`--values: "${part}" is not name=number`);
    }
    if (Object.hasOwn(inputs, match[1]))
      throw new UsageError(`--values: ${match[1]} is given twice; give each name one value`);
    inputs[match[1]] = value;
  }
  return inputs;
}
