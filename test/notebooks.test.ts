// Executes the three notebooks from scratch with Deno's Jupyter kernel (through scripts/notebooks.sh,
// into a temporary folder, never over the committed files) and checks what they show; exports
// the committed notebooks to HTML with nbconvert and checks that every picture survives.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

interface Output {
  output_type: "stream" | "execute_result" | "display_data" | "error";
  text?: string | string[];
  data?: Record<string, string | string[]>;
  ename?: string;
  evalue?: string;
}
interface Cell {
  cell_type: "code" | "markdown";
  source: string | string[];
  outputs?: Output[];
  execution_count?: number | null;
}
interface Notebook {
  cells: Cell[];
  metadata: { kernelspec?: { name: string } };
}

const root = join(import.meta.dirname, "..");
const NOTEBOOKS = ["part1-engine", "part2-neural-network", "part3-next-token"] as const;
type Name = (typeof NOTEBOOKS)[number];

const joined = (text: string | string[] | undefined) => (Array.isArray(text) ? text.join("") : (text ?? ""));
const codeCells = (notebook: Notebook) => notebook.cells.filter((cell) => cell.cell_type === "code");
const outputsOf = (notebook: Notebook) => codeCells(notebook).flatMap((cell) => cell.outputs ?? []);
const printed = (notebook: Notebook) =>
  outputsOf(notebook)
    .map((o) => (o.output_type === "stream" ? joined(o.text) : joined(o.data?.["text/plain"])))
    .join("\n");
/** The SVG (or PNG) of every picture, in order. */
const pictures = (notebook: Notebook) =>
  outputsOf(notebook).flatMap((o) => {
    const svg = o.data?.["image/svg+xml"];
    const png = o.data?.["image/png"];
    return [...(svg ? [joined(svg)] : []), ...(png ? [joined(png)] : [])];
  });
/** The text/html form of every output that has one. */
const htmlOutputs = (notebook: Notebook) =>
  outputsOf(notebook).flatMap((o) => (o.data?.["text/html"] ? [joined(o.data["text/html"])] : []));
const markdown = (notebook: Notebook) =>
  notebook.cells
    .filter((cell) => cell.cell_type === "markdown")
    .map((cell) => joined(cell.source))
    .join("\n");
const errorsOf = (notebook: Notebook) =>
  outputsOf(notebook)
    .filter((o) => o.output_type === "error")
    .map((o) => `${o.ename}: ${o.evalue}`);

async function readNotebook(path: string): Promise<Notebook> {
  return JSON.parse(await readFile(path, "utf8")) as Notebook;
}

function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("the notebook tooling", () => {
  it("installs Jupyter and registers Deno's kernel, and does nothing more when run again", async () => {
    const first = await run("bash", ["scripts/ensure-jupyter.sh"]);
    expect(first.code, first.stderr).toBe(0);
    const again = await run("bash", ["scripts/ensure-jupyter.sh"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toBe("");
    const findDeno =
      "from jupyter_client.kernelspec import get_kernel_spec; print(get_kernel_spec('deno').argv[0])";
    const kernel = await run("/usr/bin/python3", ["-c", findDeno]);
    expect(kernel.code, kernel.stderr).toBe(0);
    expect(kernel.stdout.trim()).toMatch(/deno$/);
  });

  it("refuses an unknown argument with a usage message", async () => {
    const result = await run("bash", ["scripts/notebooks.sh", "--inplace"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown argument '--inplace'");
  });
});

const MAX_BYTES = 1024 * 1024;
// Elements that draw something: an SVG whose only content is text has lost its drawing.
const DRAWING = /<(path|polygon|polyline|rect|ellipse|circle|line)\b/g;
const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;
/** Every SVG embedded in an HTML page as an <img> data URI, decoded. */
const svgImages = (html: string) =>
  [...html.matchAll(/<img src="data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)"/g)].map((m) =>
    Buffer.from(m[1], "base64").toString("utf8"),
  );
/** The numbers of a line such as "x1: -1.5   w1: 1   x2: 0.5   w2: 0   b: 0.5" after its prefix. */
function gradsAfter(text: string, prefix: string): number[] {
  const line = text.split("\n").find((l) => l.startsWith(prefix));
  expect(line, `a line starting with ${prefix}`).toBeDefined();
  return [...(line as string).slice(prefix.length).matchAll(/\w+: (-?[\d.e-]+)/g)].map((m) => Number(m[1]));
}

// Every piece the notebooks import has landed, so nothing here is skipped: a renamed export makes
// a cell fail, and that failure is the test's to report.
describe("the notebooks, executed from scratch", () => {
  let outDir = "";
  let stderr = "";
  const executed = {} as Record<Name, Notebook>;
  const executedBytes = {} as Record<Name, number>;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), "micrograd-notebooks-"));
    const result = await run("bash", ["scripts/notebooks.sh", "--output-dir", outDir]);
    if (result.code !== 0)
      throw new Error(`scripts/notebooks.sh failed (exit ${result.code}):\n${result.stderr}`);
    stderr = result.stderr;
    for (const name of NOTEBOOKS) {
      const path = join(outDir, `${name}.ipynb`);
      executed[name] = await readNotebook(path);
      executedBytes[name] = (await stat(path)).size;
    }
  });

  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it("run without warnings from Deno (its kernel starts quietly)", () => {
    expect(stderr).toContain("notebooks.sh: wrote");
    expect(stderr).not.toMatch(/warning|unstable/i);
  });

  describe.each(NOTEBOOKS)("%s, executed from scratch", (name) => {
    it("runs every code cell, in order, without an error", () => {
      const notebook = executed[name];
      expect(notebook.metadata.kernelspec?.name).toBe("deno");
      expect(errorsOf(notebook)).toEqual([]);
      const counts = codeCells(notebook).map((cell) => cell.execution_count);
      expect(counts).toEqual(counts.map((_, i) => i + 1));
    });

    it("shows pictures as SVG, each also as an <img> of the same SVG for HTML exports", () => {
      const images = pictures(executed[name]);
      expect(images.length).toBeGreaterThanOrEqual(5);
      for (const image of images) {
        expect(image).toMatch(/^(\s*<!DOCTYPE[^>]*>)?(\s*<!--[\s\S]*?-->)*\s*<svg[\s>]/);
        // nbconvert (lxml) refuses a string that declares its own encoding.
        expect(image).not.toContain("<?xml");
      }
      expect(htmlOutputs(executed[name]).flatMap(svgImages)).toEqual(images);
    });

    it("prints without ANSI colour codes, which GitHub cannot show", () => {
      expect(printed(executed[name])).not.toContain("\u001b[");
    });

    it("stays under 1 MB with its outputs", () => {
      expect(executedBytes[name]).toBeLessThanOrEqual(MAX_BYTES);
    });

    it("credits the Karpathy lecture it follows, and the original micrograd", () => {
      const text = markdown(executed[name]);
      // Parts 1 and 2 follow the micrograd lecture; part 3, language modelling, the makemore one.
      const lecture =
        name === "part3-next-token"
          ? "The spelled-out intro to language modeling: building makemore"
          : "The spelled-out intro to neural networks and backpropagation: building micrograd";
      expect(text).toContain(lecture);
      expect(text).toContain("https://github.com/karpathy/micrograd");
      expect(text).toContain("all three notebooks");
      expect(text).not.toContain("both notebooks");
    });

    it("opens with its lesson: the drawing helpers come from helpers.ts", () => {
      const [first, second] = executed[name].cells;
      expect(first.cell_type).toBe("markdown");
      expect(joined(second.source)).toContain('from "./helpers.ts"');
      expect(joined(second.source).split("\n").length).toBeLessThanOrEqual(10);
    });
  });

  describe.each(NOTEBOOKS)("the committed %s", (name) => {
    const path = join(root, "notebooks", `${name}.ipynb`);

    it("has the same cells as the executed one, with stored outputs, under 1 MB", async () => {
      const committed = await readNotebook(path);
      expect(committed.cells.map((cell) => joined(cell.source))).toEqual(
        executed[name].cells.map((cell) => joined(cell.source)),
      );
      expect(errorsOf(committed)).toEqual([]);
      expect(codeCells(committed).every((cell) => typeof cell.execution_count === "number")).toBe(true);
      expect(pictures(committed).length).toBe(pictures(executed[name]).length);
      expect((await stat(path)).size).toBeLessThanOrEqual(MAX_BYTES);
    });

    it("exports to HTML with jupyter nbconvert, every picture drawn in full", async () => {
      const committed = await readNotebook(path);
      const result = await run("jupyter-nbconvert", ["--to", "html", "--output-dir", outDir, path]);
      expect(result.code, result.stderr).toBe(0);
      const html = await readFile(join(outDir, `${name}.html`), "utf8");
      const shown = svgImages(html);
      expect(shown).toHaveLength(pictures(committed).length);
      for (const svg of shown) {
        expect(svg).toMatch(/<svg[\s>]/);
        expect(count(svg, DRAWING)).toBeGreaterThanOrEqual(10);
        expect(count(svg, /<text\b/g)).toBeGreaterThanOrEqual(3);
      }
    });
  });

  describe("part 1 builds the engine and shows it right", () => {
    const text = () => printed(executed["part1-engine"]);
    const neuronGrads = "x1: -1.5   w1: 1   x2: 0.5   w2: 0   b: 0.5";

    it("estimates a derivative by nudging and finds f'(3) = 14", () => {
      expect(text()).toMatch(/h = 1e-5\s+slope ≈ 14\.0000/);
      expect(text()).toMatch(/^14\.0000000\d*$/m);
    });

    it("backpropagates by hand through its own Value, checked by nudging", () => {
      expect(text()).toContain('L = -8, made by "*" from');
      expect(text()).toContain("a: 6   b: -4   c: -2   e: -2   d: -2   f: 4   L: 1");
      expect(text()).toContain("∂L/∂a ≈ 6  by hand: 6");
      expect(text()).toContain("n = 0.881374  o = 0.707107");
    });

    it("shows that stepping along the gradient raises the output and against it lowers it", () => {
      const now = Number(text().match(/^L now: (-?[\d.]+)$/m)?.[1]);
      const along = Number(text().match(/along its gradient: +L = (-?[\d.]+)$/m)?.[1]);
      const against = Number(text().match(/against its gradient: +L = (-?[\d.]+)$/m)?.[1]);
      expect(now).toBe(-8);
      expect(along).toBeGreaterThan(now);
      expect(against).toBeLessThan(now);
    });

    it("gets the neuron's gradients by hand, by each operation's step and by backward()", () => {
      // by hand; by calling the steps; by backward(); tanh twice; ours and the library's
      expect(text().split(neuronGrads).length - 1).toBeGreaterThanOrEqual(7);
      expect(text()).toContain("x1 → w1 → x1·w1 → x2 → w2 → x2·w2 → x1·w1 + x2·w2 → b → n → o");
    });

    it("rebuilds tanh from exp and division with the same gradients", () => {
      expect(text()).toContain(`tanh as one operation: o = 0.707107   ${neuronGrads}`);
      expect(text()).toContain(`tanh from exp and /:   o = 0.707107   ${neuronGrads}`);
    });

    it("shows that only a topological order gives the right gradient", () => {
      expect(text()).toMatch(/reverse topological .*∂L\/∂a = 3\.798908/);
      expect(text()).toMatch(/breadth-first .*∂L\/∂a = 2$/m);
      expect(text()).toContain("by calculus: ∂L/∂a = 3.798908");
    });

    it("shows why gradients accumulate", () => {
      expect(text()).toContain("overwriting:  ∂(a + a)/∂a = 1");
      expect(text()).toContain("accumulating: ∂(a + a)/∂a = 2");
    });

    it("shows that its own backward() doubles interior gradients too, and the fix the library has", () => {
      // y = (w·2)·3: the interior node m keeps its gradient from the first pass
      expect(text()).toMatch(/^after one backward: w\.grad = 6 +m\.grad = 3$/m);
      expect(text()).toMatch(/^after two: +w\.grad = 18 +m\.grad = 6 /m);
      expect(text()).toContain("clearing interior gradients, after two: w.grad = 12");
      expect(text()).toContain("micrograd.Value, y = (w·2)·3, backward twice: w.grad = 12");
    });

    it("draws the wide tanh-from-exp graph top to bottom, narrow enough to read", () => {
      const wide = pictures(executed["part1-engine"]).find((svg) => />\s*e\^2n\s*</.test(svg)) ?? "";
      const [width, height] = (wide.match(/<svg width="(\d+)pt" height="(\d+)pt"/) ?? [])
        .slice(1)
        .map(Number);
      expect(height).toBeGreaterThan(width);
      expect(width).toBeLessThan(900);
    });

    it("switches to the library: same gradients, no recursion limit, the rules' third argument", () => {
      expect(gradsAfter(text(), "micrograd.Value:")).toEqual(gradsAfter(text(), "our Value:"));
      expect(text()).toMatch(/our Value, 100,000 nodes: RangeError: Maximum call stack size exceeded/);
      expect(text()).toContain("micrograd.Value, 1,000,000 nodes: ∂last/∂first = 1");
      expect(text()).toContain("tanh: da(123, 0, 0.5) = 0.75");
    });

    it("agrees with TensorFlow.js on the neuron's gradients", () => {
      const theirs = gradsAfter(text(), "TensorFlow.js:");
      const ours = gradsAfter(text(), "micrograd.Value:");
      expect(theirs).toHaveLength(5);
      theirs.forEach((g, i) => {
        expect(g).toBeCloseTo(ours[i], 4);
      });
    });

    it("checks gradients with gradcheck and shows clear errors", () => {
      expect(text()).toMatch(/ok: true {2}largest difference: \d\.\de-\d+/);
      expect(text()).toContain("ok: false  backward: 0  nudging: 0.5");
      expect(text()).toContain("RangeError: log(-1): input must be > 0");
    });

    it("differentiates tanh twice with grad, in agreement with the closed form at every point", () => {
      expect(text()).toContain("tanh(0.5) = 0.462117   tanh' = 0.786448   tanh'' = -0.726862");
      expect(text()).toContain("1 − tanh² = 0.786448   −2·tanh·(1 − tanh²) = -0.726862");
      expect(text()).toContain("input.grad is still 0;");
      const worst = text().match(/^(\d+) points; largest \|grad twice − closed form\|: (\S+)$/m);
      expect(worst).not.toBeNull();
      expect(Number(worst?.[1])).toBe(121);
      expect(Number(worst?.[2])).toBeLessThan(1e-12);
      expect(text()).toMatch(/^\|tanh''\| is largest at x = ±0\.6[5-7] /m);
    });

    it("draws the slope's own graph, and tanh with its two derivatives", () => {
      const drawn = pictures(executed["part1-engine"]);
      const slopeGraph = drawn.find((svg) => />\s*neg\s*</.test(svg) && />\s*x\s*</.test(svg));
      expect(slopeGraph).toBeDefined();
      // grad() wrote no grad field: every box still shows 0
      expect(slopeGraph?.match(/grad -?[\d.]+/g)?.every((g) => g === "grad 0.000")).toBe(true);
      const curves = drawn.find((svg) => svg.includes("tanh″ (grad twice)"));
      expect(curves).toBeDefined();
      expect(count(curves ?? "", /<polyline\b/g)).toBe(3);
      // the closed form's dots (every tenth of 121 points) and its legend entry
      expect(count(curves ?? "", /<circle\b/g)).toBe(14);
    });

    it("finds a minimum with Newton's method in a few steps, where gradient descent takes many", () => {
      const steps = [...text().matchAll(/^Newton step (\d+): x = (-?[\d.]+) +f'\(x\) = (\S+)$/gm)].map((m) =>
        m.slice(1).map(Number),
      );
      expect(steps.length).toBeGreaterThanOrEqual(3);
      expect(steps.length).toBeLessThanOrEqual(7);
      const [, x, slope] = steps[steps.length - 1];
      expect(Math.abs(slope)).toBeLessThan(1e-12);
      // the minimum of x² + e^(−x), where 2x = e^(−x)
      expect(2 * x - Math.exp(-x)).toBeCloseTo(0, 10);
      const descent = text().match(/^gradient descent at rate 0\.1: (\d+) steps to x = ([\d.]+)$/m);
      expect(descent).not.toBeNull();
      expect(Number(descent?.[1])).toBeGreaterThan(10 * steps.length);
      expect(Number(descent?.[2])).toBeCloseTo(x, 10);
    });

    it("checks a Hessian-vector product against the full Hessian and against nudging the gradient", () => {
      const vector = (label: string) => {
        const line = text()
          .split("\n")
          .find((l) => l.startsWith(label));
        expect(line, `a line starting with ${label}`).toBeDefined();
        return (line as string).slice(label.length).trim().split(/\s+/).map(Number);
      };
      const hv = vector("hvp:");
      const viaMatrix = vector("the full Hessian × v:");
      const nudged = vector("nudging the gradient:");
      expect(hv).toHaveLength(3);
      expect(hv.some((entry) => Math.abs(entry) > 0.01)).toBe(true);
      hv.forEach((entry, i) => {
        expect(entry).toBeCloseTo(viaMatrix[i], 7);
        expect(entry).toBeCloseTo(nudged[i], 7);
      });
      expect(Number(text().match(/^largest \|hvp − nudging\|: (\S+)$/m)?.[1])).toBeLessThan(1e-8);
      expect(text()).toMatch(/^order 2: ok: true {2}entries: 9 {2}largest difference: \d\.\de-\d+$/m);
    });

    it("draws the graphs with their labels and gradients", () => {
      const graphs = pictures(executed["part1-engine"]);
      expect(graphs.length).toBeGreaterThanOrEqual(5);
      // L after backpropagation by hand: the leaf a with its gradient 6
      expect(graphs[1]).toMatch(/>\s*a\s*</);
      expect(graphs[1]).toContain("grad 6.000");
      // the library's neuron, drawn by renderGraph
      expect(graphs[4]).toMatch(/>\s*w1\s*</);
      expect(graphs[4]).toContain("grad 1.000");
    });
  });

  describe("part 2 trains networks and shows each lesson running", () => {
    const text = () => printed(executed["part2-neural-network"]);
    const percent = (pattern: RegExp) => Number(text().match(pattern)?.[1] ?? Number.NaN);

    it("says early that the last layer is linear, and counts parameters by the formula", () => {
      const notes = markdown(executed["part2-neural-network"]);
      expect(notes.indexOf("linearNeuron")).toBeGreaterThan(0);
      expect(notes.indexOf("linearNeuron")).toBeLessThan(notes.indexOf("## 2."));
      expect(text()).toContain("parameters: 41  by the formula: 41");
    });

    it("writes Neuron, Layer and MLP itself, before using the library's", () => {
      const code = codeCells(executed["part2-neural-network"]).map((cell) => joined(cell.source));
      const defines = (name: string) => code.findIndex((source) => source.includes(`class ${name} {`));
      const firstLibraryUse = code.findIndex((source) => source.includes("new micrograd.MLP("));
      for (const name of ["Neuron", "Layer", "MLP"]) {
        expect(defines(name), name).toBeGreaterThan(0);
        expect(defines(name), name).toBeLessThan(firstLibraryUse);
      }
      // the four examples are trained with the notebook's own MLP
      const training = code.findIndex((source) => source.includes("after training: "));
      expect(training).toBeLessThan(firstLibraryUse);
      expect(code[training - 1] ?? "").toMatch(/const model = new MLP\(3, \[4, 4, 1\]/);
    });

    it("shows that the library's MLP gives the same outputs for the same weights", () => {
      const outputs = (label: string) => {
        const line = text().match(new RegExp(`^${label}: +\\[([^\\]]*)\\]$`, "m"));
        expect(line, label).not.toBeNull();
        return (line?.[1] ?? "").split(",").map(Number);
      };
      const ours = outputs("ours, trained");
      expect(outputs("library, our weights")).toEqual(ours);
      expect(outputs("library, its own weights")).not.toEqual(ours);
      expect(text()).toContain("largest difference between ours and the library's: 0");
    });

    it("labels the small network's graph, drawn narrow enough to read", () => {
      const graph = pictures(executed["part2-neural-network"])[0];
      for (const label of ["x1", "x2", "h1.w1", "h2.b", "out.w2", "score"])
        expect(graph).toMatch(new RegExp(`>\\s*${label.replace(".", "\\.")}\\s*<`));
      const width = Number(graph.match(/<svg width="(\d+)pt"/)?.[1]);
      expect(width).toBeLessThan(1000);
      expect(markdown(executed["part2-neural-network"])).not.toContain("h j.w1");
    });

    it("fits the four examples by hand: every prediction ends near its ±1 target", () => {
      const line = text().match(/after training: +\[([^\]]*)\] +targets: \[([^\]]*)\]/);
      expect(line).not.toBeNull();
      const predictions = (line?.[1] ?? "").split(",").map(Number);
      const targets = (line?.[2] ?? "").split(",").map(Number);
      expect(predictions).toHaveLength(4);
      predictions.forEach((p, i) => {
        expect(Math.abs(p - targets[i])).toBeLessThan(0.25);
      });
    });

    it("shows the forgotten zeroGrad(): the loss stalls and swings instead of settling", () => {
      const rows = [...text().matchAll(/^ *(\d+) +([\d.]+) +([\d.]+)$/gm)].map((m) => m.slice(1).map(Number));
      expect(rows.length).toBeGreaterThanOrEqual(8);
      const withZeroGrad = rows.map((r) => r[1]);
      const without = rows.map((r) => r[2]);
      const last = rows.length - 1;
      expect(withZeroGrad[last]).toBeLessThan(withZeroGrad[0] / 100);
      expect(without[last]).toBeGreaterThan(10 * withZeroGrad[last]);
      // not a slow descent: it goes up again, more than once
      const rises = without.slice(1).filter((loss, i) => loss > without[i]).length;
      expect(rises).toBeGreaterThanOrEqual(2);
    });

    it("separates the moons with the hand-written loop; the last picture matches the last line", () => {
      expect(text()).toContain("100 points with 2 features; per class: [ 50, 50 ]");
      const final = percent(/^after 60 steps: loss [\d.]+ +accuracy (\d+)%$/m);
      expect(final).toBeGreaterThanOrEqual(95);
      const snapshots =
        pictures(executed["part2-neural-network"]).find((svg) => svg.includes(">before training<")) ?? "";
      expect(snapshots).toContain(">after 60 steps<");
      const titles = [...snapshots.matchAll(/accuracy (\d+)%</g)].map((m) => Number(m[1]));
      expect(titles).toHaveLength(3);
      expect(titles[2]).toBe(final);
    });

    it("splits the hand-written loss into its L2 term and the hinge loss that fit's evaluation reports", () => {
      const total = Number(text().match(/^after 60 steps: loss ([\d.]+) /m)?.[1]);
      const [, penalty, hinge] = (
        text().match(/^of which the L2 term: ([\d.]+), and the hinge loss: ([\d.]+)$/m) ?? []
      ).map(Number);
      expect(penalty).toBeGreaterThan(0);
      expect(penalty + hinge).toBeCloseTo(total, 3);
      expect(Number(text().match(/^SGD, rate 1 → 0\.1 +loss ([\d.]+) /m)?.[1])).toBe(hinge);
    });

    it("overlays the compared runs on one axis", () => {
      const drawn = pictures(executed["part2-neural-network"]);
      for (const names of [
        ["gradients zeroed", "never zeroed"],
        ["SGD", "SGD + momentum 0.9", "Adam"],
      ]) {
        const plot = drawn.find((svg) => names.every((name) => svg.includes(`>${name}<`)));
        expect(plot, names.join(", ")).toBeDefined();
        expect(count(plot ?? "", /<polyline\b/g)).toBe(names.length);
      }
    });

    it("points at the loss spike, and shows the learning rate's trade", () => {
      const spike = text().match(/^biggest rise: loss ([\d.]+) at step (\d+) → ([\d.]+) at step (\d+)/m);
      expect(spike).not.toBeNull();
      const [, before, , after] = (spike as RegExpMatchArray).map(Number);
      expect(after).toBeGreaterThan(before);
      const rise = (label: string) =>
        Number(text().match(new RegExp(`^${label} +largest rise of the loss (-?[\\d.]+)$`, "m"))?.[1]);
      const loss = (label: string) =>
        Number(text().match(new RegExp(`^${label} +loss ([\\d.]+) +accuracy`, "m"))?.[1]);
      expect(rise("SGD, rate 1")).toBeGreaterThan(0.1);
      expect(rise("SGD, rate 0\\.1")).toBeLessThan(0.02);
      expect(loss("SGD, rate 0\\.1")).toBeGreaterThan(loss("SGD, rate 1"));
    });

    it("compares activations, optimizers and losses with fit, measured after training", () => {
      for (const label of [
        "sigmoid, hinge, SGD",
        "relu, hinge, SGD \\+ momentum 0\\.9",
        "relu, bce, Adam",
        "relu, mse, Adam",
        "relu, hinge, Adam",
      ]) {
        expect(text()).toMatch(new RegExp(`^${label} +loss [\\d.]+ +accuracy \\d+%$`, "m"));
      }
      expect(percent(/^relu, hinge, Adam +loss [\d.]+ +accuracy (\d+)%$/m)).toBeGreaterThanOrEqual(90);
      expect(text()).toMatch(
        /^the same models, all measured with hinge: hinge [\d.]+ +bce [\d.]+ +mse [\d.]+$/m,
      );
    });

    it("shows SGD with squared error at learning rate 1 diverging, and training at 0.1", () => {
      expect(text()).toMatch(/^RangeError: fit: training diverged at step \d+/m);
      expect(text()).not.toContain("compiled replay");
      // The steps printed just before the error, one line each.
      const before = text()
        .slice(0, text().indexOf("RangeError: fit: training diverged"))
        .split("\n")
        .filter((line) => line !== "");
      const steps: string[] = [];
      while (/^step \d+ {2}loss /.test(before[before.length - 1] ?? ""))
        steps.unshift(before.pop() as string);
      const losses = steps.map((line) => Number(line.split("loss ")[1]));
      expect(losses.length).toBeGreaterThanOrEqual(3);
      expect(losses[losses.length - 1]).toBeGreaterThan(1e10 * losses[0]);
      expect(percent(/^relu, mse, SGD at rate 0\.1 +loss [\d.]+ +accuracy (\d+)%$/m)).toBeGreaterThanOrEqual(
        90,
      );
    });

    it("learns the spiral in the closing experiment", () => {
      expect(percent(/^after \d+ steps: loss [\d.]+, accuracy (\d+)%$/m)).toBeGreaterThanOrEqual(80);
    });

    it("times eager against compiled training: the same final loss; lists a compiled neuron", () => {
      expect(markdown(executed["part2-neural-network"])).toContain("## 6. Compiled training");
      const finalLoss = (label: string) =>
        Number(text().match(new RegExp(`^${label} +final loss ([\\d.e-]+) +\\d+ steps/s$`, "m"))?.[1]);
      const eager = finalLoss("eager");
      expect(eager).toBeGreaterThan(0);
      expect(Math.abs(finalLoss("compiled") - eager)).toBeLessThanOrEqual(1e-12 * eager);
      const neuron = text().match(/^compiled (-?[\d.e-]+) {2}eager (-?[\d.e-]+)$/m);
      expect(neuron).not.toBeNull();
      expect(neuron?.[1]).toBe(neuron?.[2]);
      expect(text()).toMatch(/^compiled trace: 4 parameters \(p\), 3 inputs \(x\)/m);
      expect(text()).toMatch(/^ +t0 = relu\(dot \[p0…p2\]·\[x0…x2\] \+ p3\)$/m);
    });

    it("draws the forward pass, the boundaries and the training curves", () => {
      expect(pictures(executed["part2-neural-network"]).length).toBeGreaterThanOrEqual(6);
    });
  });

  describe("part 3 goes from counting pairs to a GPT that beats them", () => {
    it("measures the bigram model and trains the GPT below it on held-out names", () => {
      const text = printed(executed["part3-next-token"]);
      expect(text).toMatch(/uniform guess: 3\.2958 {3}bigram, held-out: 2\.4\d+/);
      const [, gpt, bigram] =
        text.match(/held-out loss per character: GPT ([\d.]+) {2}bigram ([\d.]+)/) ?? [];
      expect(Number(gpt)).toBeLessThan(Number(bigram));
    });

    it("draws the bigram table, and the heads before training, after it, and on a held-out name", () => {
      const notebook = executed["part3-next-token"];
      const shown = pictures(notebook);
      expect(shown).toHaveLength(5);
      const [table, before, loss, after, unseen] = shown;
      expect(printed(notebook)).toContain("every row sums to 1: true");
      // 27 × 27 pairs, each a square of its own.
      expect(count(table, /<rect x=/g)).toBe(27 * 27);
      expect(loss).toContain("bigram, held-out");
      const name = (svg: string) => svg.match(/attention of &#34;(\w+)&#34;/)?.[1];
      expect([before, after].map(name)).toEqual(["isabella", "isabella"]);
      expect(name(unseen)).toMatch(/^[a-z]{7,}$/);
      expect(printed(notebook)).toContain(`held-out name: ${name(unseen)}`);
      for (const svg of [before, after, unseen]) expect(count(svg, /class="head"/g)).toBe(4);
      expect(after).not.toBe(before);
    });

    const text = () => printed(executed["part3-next-token"]);
    const numberAfter = (pattern: RegExp) => Number(text().match(pattern)?.[1] ?? Number.NaN);

    it("learns the bigram table by gradient descent, down to the counting model's loss", () => {
      const counting = numberAfter(/^the counting model's loss on them \(no smoothing\): ([\d.]+)$/m);
      expect(counting).toBeGreaterThan(2);
      const first = numberAfter(/^step +0 {2}loss ([\d.]+)$/m);
      expect(first).toBeCloseTo(Math.log(27), 4);
      const [, learned, countingAgain] = (
        text().match(/^learned table: ([\d.]+) +counting: ([\d.]+)/m) ?? []
      ).map(Number);
      expect(countingAgain).toBe(counting);
      // Counting is the best any table can do on the training pairs; gradient descent gets close.
      expect(learned).toBeGreaterThanOrEqual(counting);
      expect(learned - counting).toBeLessThan(0.01);
      const [, pairByPair, byCounts] = text().match(/pair by pair: ([\d.]+) +by counts: ([\d.]+)$/m) ?? [];
      expect(pairByPair).toBe(byCounts);
      const counted = text().match(/^after a, counted: (.*)$/m)?.[1];
      expect(counted).toBeDefined();
      expect(text()).toContain(`after a, learned: ${counted}`);
    });

    it("shows smoothing as a regulariser on a pair never seen in training", () => {
      expect(text()).toMatch(/^"kd": 0 times in the training names, [1-9]\d* in the held-out ones$/m);
      const rows = [...text().matchAll(/p\(d \| k\): no penalty (\S+) +penalty 1e-5 (\S+)$/gm)].map((m) =>
        m.slice(1).map(Number),
      );
      expect(rows.length).toBeGreaterThanOrEqual(3);
      const unpenalised = rows.map((r) => r[0]);
      const penalised = rows.map((r) => r[1]);
      // without a penalty the unseen pair keeps losing probability; with one it levels off above
      unpenalised.slice(1).forEach((p, i) => {
        expect(p).toBeLessThan(0.8 * unpenalised[i]);
      });
      expect(penalised[penalised.length - 1]).toBeGreaterThan(1.5 * unpenalised[unpenalised.length - 1]);
      const lastDrop = (xs: number[]) => xs[xs.length - 2] / xs[xs.length - 1];
      expect(lastDrop(penalised)).toBeLessThan(lastDrop(unpenalised));
      expect(text()).toMatch(/^counted, no smoothing: +p\(d \| k\) = 0 +held-out loss ∞$/m);
    });

    it("writes the GPT's pieces and matches the library's loss and gradients for the same weights", () => {
      expect(numberAfter(/mean square before: [\d.]+ +after: ([\d.]+)$/m)).toBeCloseTo(1, 2);
      const spreads = [
        ...text().matchAll(/^d = +(\d+) +spread of q·k ≈ +([\d.]+) .*after dividing by √d: ([\d.]+)$/gm),
      ];
      expect(spreads.length).toBeGreaterThanOrEqual(3);
      for (const [, dim, spread, scaled] of spreads) {
        expect(Number(spread) / Math.sqrt(Number(dim))).toBeCloseTo(1, 1);
        expect(Number(scaled)).toBeCloseTo(1, 1);
      }
      const [, ours, library] = text().match(/^loss of "emma": ours ([\d.]+) +library ([\d.]+)$/m) ?? [];
      expect(Number(ours)).toBeGreaterThan(3);
      expect(Math.abs(Number(ours) - Number(library))).toBeLessThanOrEqual(1e-12);
      expect(numberAfter(/^difference of the losses: (\S+)$/m)).toBeLessThanOrEqual(1e-12);
      expect(numberAfter(/^largest difference of the 4192 gradients: (\S+)$/m)).toBeLessThanOrEqual(1e-12);
      // the library is used for training only after the check
      const code = codeCells(executed["part3-next-token"]).map((cell) => joined(cell.source));
      expect(code.findIndex((source) => source.includes("gpt.loss(emma)"))).toBeLessThan(
        code.findIndex((source) => source.includes("trainGPT(")),
      );
    });

    it("writes Adam out for one weight, beside SGD, in agreement with the library's", () => {
      const after20 = (scale: string) => {
        const line = text().match(
          new RegExp(
            `^loss ${scale} · p²: after 20 steps from p = 1, SGD p = ([\\d.]+) +Adam p = ([\\d.]+)$`,
            "m",
          ),
        );
        expect(line, scale).not.toBeNull();
        return { sgd: Number(line?.[1]), adam: Number(line?.[2]) };
      };
      const [large, small] = [after20("1"), after20("0\\.01")];
      // a hundred times smaller gradients: SGD moves about a hundred times less, Adam as far
      expect(1 - large.sgd).toBeGreaterThan(50 * (1 - small.sgd));
      expect(1 - large.adam).toBeCloseTo(1 - small.adam, 3);
      expect(1 - small.adam).toBeGreaterThan(0.1);
      expect(numberAfter(/^the library's Adam, loss 0\.01 · p²: p = ([\d.]+)$/m)).toBe(small.adam);
    });

    it("describes the heads from their measured weights", () => {
      const rows = [...text().matchAll(/^(\d) +(\d+)% +(\d+)% +(\d+)% +(\d+)% +(\d+)% +(.+)$/gm)].map(
        (m) => ({ shares: m.slice(2, 6).map(Number), even: Number(m[6]), verdict: m[7] }),
      );
      expect(rows).toHaveLength(4);
      const places = ["BOS", "the first character", "the previous character", "itself"];
      for (const { shares, even, verdict } of rows) {
        const most = Math.max(...shares);
        const place = places[shares.indexOf(most)];
        // the printed percentages are rounded: judge only where a threshold is clearly passed or not
        if (most > 2 * even + 2) expect(verdict).toBe(`mostly on ${place}`);
        else if (most > 1.25 * even + 2 && most < 2 * even - 2)
          expect(verdict).toBe(`leans towards ${place}`);
        else if (most < 1.25 * even - 2) expect(verdict).toBe("close to an even spread");
      }
      // What the text says of them must be what the cell measured.
      expect(rows.map((row) => row.verdict)).toEqual([
        "mostly on BOS",
        "leans towards BOS",
        "close to an even spread",
        "leans towards BOS",
      ]);
      for (const { shares, even } of rows)
        for (const share of shares.slice(1)) expect(share).toBeLessThanOrEqual(1.2 * even + 1);
      const notes = markdown(executed["part3-next-token"]);
      expect(notes).toContain("Head 0 puts about two fifths of its weight on the BOS");
      expect(notes).toContain("none of those gets more than about 1.2 times the weight of an even spread");
      expect(Math.abs(rows[0].shares[0] - 40)).toBeLessThanOrEqual(3);
      expect(rows[0].shares[0]).toBeGreaterThanOrEqual(2 * rows[0].even - 1);
    });

    it("shows that the vowels' embeddings end up near each other", () => {
      const [, near, of] = (
        text().match(/^(\d+) of the (\d+) nearest neighbours of the vowels are vowels/m) ?? []
      ).map(Number);
      expect(of).toBe(15);
      expect(near).toBeGreaterThanOrEqual(10);
      // what the text says of them
      expect(text()).toMatch(/^i: y /m);
      expect(text()).toMatch(/^i: .*BOS/m);
      expect(text()).toMatch(/^u: .*BOS/m);
    });

    it("trains on running text in windows, its held-out loss falling, and writes past the block", () => {
      const bigram = numberAfter(/^bigram, held-out: ([\d.]+) per character/m);
      expect(bigram).toBeGreaterThan(2);
      const heldOut = [...text().matchAll(/^after +\d+ windows: held-out loss ([\d.]+)$/gm)].map((m) =>
        Number(m[1]),
      );
      expect(heldOut.length).toBeGreaterThanOrEqual(3);
      heldOut.slice(1).forEach((loss, i) => {
        expect(loss).toBeLessThan(heldOut[i]);
      });
      // what the text says: still above the bigram after a few seconds
      expect(heldOut[heldOut.length - 1]).toBeGreaterThan(bigram);
      expect(markdown(executed["part3-next-token"])).toContain("still above the bigram's line");
      const continued = text().slice(text().indexOf("ROMEO:\n"));
      expect(continued.length).toBeGreaterThanOrEqual("ROMEO:\n".length + 160);
    });

    it("marks samples cut at the block's end, and only those", () => {
      const lines = text()
        .split("\n")
        .filter((line) => /^(temperature [\d.]+|starting with 'mar'):/.test(line));
      expect(lines.length).toBeGreaterThanOrEqual(3);
      const samples = lines.flatMap((line) =>
        line
          .slice(line.indexOf(":") + 1)
          .trim()
          .split(/ {2}/),
      );
      for (const sample of samples) {
        const letters = sample.replace("…", "");
        expect(letters.length >= 16, sample).toBe(sample.endsWith("…"));
      }
      expect(samples.some((sample) => sample.endsWith("…"))).toBe(true);
    });
  });
});
