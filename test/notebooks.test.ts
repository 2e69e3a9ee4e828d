// Executes both notebooks from scratch with Deno's Jupyter kernel (through scripts/notebooks.sh,
// into a temporary folder, never over the committed files) and checks what they show.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
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
const NOTEBOOKS = ["part1-engine", "part2-neural-network"] as const;
type Name = (typeof NOTEBOOKS)[number];

const joined = (text: string | string[] | undefined) => (Array.isArray(text) ? text.join("") : (text ?? ""));
const codeCells = (notebook: Notebook) => notebook.cells.filter((cell) => cell.cell_type === "code");
const outputsOf = (notebook: Notebook) => codeCells(notebook).flatMap((cell) => cell.outputs ?? []);
const printed = (notebook: Notebook) =>
  outputsOf(notebook)
    .map((o) => (o.output_type === "stream" ? joined(o.text) : joined(o.data?.["text/plain"])))
    .join("\n");
const pictures = (notebook: Notebook) =>
  outputsOf(notebook).flatMap((o) => {
    const svg = o.data?.["image/svg+xml"];
    const png = o.data?.["image/png"];
    return [...(svg ? [joined(svg)] : []), ...(png ? [joined(png)] : [])];
  });
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

// What the notebooks import beyond the engine. Until every piece has landed there is nothing to run.
const NEEDED: Record<string, string[]> = {
  "../src/index.js": ["Value", "MLP", "gradcheck", "fit"],
  "../src/data.js": ["makeMoons", "makeSpiral"],
  "../src/viz/index.js": ["renderGraph", "decisionBoundarySvg", "trainingCurvesSvg"],
};
async function missingPieces(): Promise<string[]> {
  const missing: string[] = [];
  for (const [path, names] of Object.entries(NEEDED)) {
    const module: Record<string, unknown> = await import(path).catch(() => ({}));
    for (const name of names) if (typeof module[name] !== "function") missing.push(`${name} (${path})`);
  }
  return missing;
}
const missing = await missingPieces();

describe.skipIf(missing.length > 0)(
  `the notebooks, executed from scratch${missing.length ? ` (waiting for ${missing.join(", ")})` : ""}`,
  () => {
    let outDir = "";
    let stderr = "";
    const executed = {} as Record<Name, Notebook>;

    beforeAll(async () => {
      outDir = await mkdtemp(join(tmpdir(), "micrograd-notebooks-"));
      const result = await run("bash", ["scripts/notebooks.sh", "--output-dir", outDir]);
      if (result.code !== 0)
        throw new Error(`scripts/notebooks.sh failed (exit ${result.code}):\n${result.stderr}`);
      stderr = result.stderr;
      for (const name of NOTEBOOKS) executed[name] = await readNotebook(join(outDir, `${name}.ipynb`));
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

      it("shows pictures as SVG or PNG rich output", () => {
        const images = pictures(executed[name]);
        expect(images.length).toBeGreaterThanOrEqual(3);
        for (const image of images)
          expect(image).toMatch(
            /^(\s*<\?xml[^>]*>)?(\s*<!DOCTYPE[^>]*>)?(\s*<!--[\s\S]*?-->)*\s*<svg[\s>]|^iVBORw0KGgo/,
          );
      });

      it("prints without ANSI colour codes, which GitHub cannot show", () => {
        expect(printed(executed[name])).not.toContain("\u001b[");
      });
    });

    describe("the committed notebooks", () => {
      it.each(NOTEBOOKS)(
        "%s has the same cells as the executed one and stored outputs for them",
        async (name) => {
          const committed = await readNotebook(join(root, "notebooks", `${name}.ipynb`));
          expect(committed.cells.map((cell) => joined(cell.source))).toEqual(
            executed[name].cells.map((cell) => joined(cell.source)),
          );
          expect(errorsOf(committed)).toEqual([]);
          expect(codeCells(committed).every((cell) => typeof cell.execution_count === "number")).toBe(true);
          expect(pictures(committed).length).toBe(pictures(executed[name]).length);
        },
      );
    });

    describe("part 1 teaches the engine with numbers that are right", () => {
      const text = () => printed(executed["part1-engine"]);

      it("estimates a derivative by nudging and finds f'(3) = 14", () => {
        expect(text()).toMatch(/h = 1e-5\s+slope ≈ 14\.0000/);
        expect(text()).toMatch(/^14\.0000000\d*$/m);
      });

      it("backpropagates by hand through the expression and the neuron", () => {
        expect(text()).toContain("a: 6   b: -4   c: -2   e: -2   d: -2   f: 4   L: 1");
        expect(text()).toContain("∂L/∂a ≈ 6  by hand: 6");
        expect(text()).toContain("n = 0.881374  o = 0.707107");
        // by hand, then again with the per-operation local derivatives
        const neuron = "x1: -1.5   w1: 1   x2: 0.5   w2: 0   b: 0.5";
        expect(text().split(neuron).length - 1).toBe(2);
      });

      it("shows that only a topological order gives the right gradient", () => {
        expect(text()).toMatch(/reverse topological .*∂L\/∂a = 3\.798908/);
        expect(text()).toMatch(/breadth-first .*∂L\/∂a = 2$/m);
        expect(text()).toContain("by calculus: ∂L/∂a = 3.798908");
      });

      it("shows why gradients accumulate", () => {
        expect(text()).toContain("overwriting:  ∂(a + a)/∂a = 1");
        expect(text()).toContain("accumulating: ∂(a + a)/∂a = 2");
        expect(text()).toMatch(/after two:\s+12/);
      });

      it("checks gradients with gradcheck and shows clear errors", () => {
        expect(text()).toMatch(/ok: true {2}largest difference: \d\.\de-\d+/);
        expect(text()).toContain("ok: false  backward: 0  nudging: 0.5");
        expect(text()).toContain("RangeError: log(-1): input must be > 0");
      });

      it("draws the expression's graph with its values", () => {
        const graphs = pictures(executed["part1-engine"]);
        expect(graphs.length).toBe(3);
        // the graph of L after backprop by hand: node labels and the gradient 6 of a
        expect(graphs[1]).toMatch(/>\s*a\s*</);
        expect(graphs[1]).toContain("6");
      });
    });

    describe("part 2 builds and trains networks that learn", () => {
      const text = () => printed(executed["part2-neural-network"]);
      const percent = (pattern: RegExp) => Number(text().match(pattern)?.[1] ?? Number.NaN);

      it("counts an MLP's parameters by the formula", () => {
        expect(text()).toContain("parameters: 41  by the formula: 41");
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

      it("separates the moons with the hand-written loop", () => {
        expect(text()).toContain("100 points with 2 features; per class: [ 50, 50 ]");
        expect(percent(/^step 59 +loss [\d.]+ +accuracy (\d+)%/m)).toBeGreaterThanOrEqual(95);
      });

      it("compares activations, losses and optimizers with fit", () => {
        for (const label of [
          "sigmoid, hinge, SGD",
          "relu, bce, Adam",
          "relu, mse, Adam",
          "relu, hinge, Adam",
        ]) {
          expect(text()).toMatch(new RegExp(`^${label} +loss [\\d.]+ +accuracy \\d+%$`, "m"));
        }
        expect(percent(/^relu, hinge, Adam +loss [\d.]+ +accuracy (\d+)%$/m)).toBeGreaterThanOrEqual(90);
      });

      it("learns the spiral in the closing experiment", () => {
        expect(percent(/^after \d+ steps: loss [\d.]+, accuracy (\d+)%$/m)).toBeGreaterThanOrEqual(80);
      });

      it("draws the forward pass, the boundaries and the training curves", () => {
        expect(pictures(executed["part2-neural-network"]).length).toBe(6);
      });
    });
  },
);
