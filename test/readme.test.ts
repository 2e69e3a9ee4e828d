// The README's TypeScript examples run as written, against the built package, so the tour stays true.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const readme = readFileSync(join(root, "README.md"), "utf8");

/** The ```ts blocks under the heading `title`, in order. */
function examples(title: string): string[] {
  const start = readme.indexOf(`\n### ${title}\n`);
  expect(start, `README section "${title}"`).toBeGreaterThan(0);
  const end = readme.slice(start + 1).search(/\n##/);
  const section = readme.slice(start, end === -1 ? undefined : start + 1 + end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

// Inside the project folder, so that "micrograd" resolves to this package by its own name.
function runTs(name: string, source: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = join(root, ".artifacts", "readme");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, source);
  return new Promise((resolve) => {
    execFile(join(root, "node_modules", ".bin", "tsx"), [file], { cwd: root }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("README examples", () => {
  it("the engine example prints the numbers its comments promise", async () => {
    const [example] = examples("The engine");
    const result = await runTs("engine", example);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("24.7041\n138.8338\n645.5773\n");
  });

  it("the Newton's method example reaches the bottom of the valley, (1, 1), in six steps", async () => {
    const [example] = examples("Derivatives of derivatives");
    const promised = [...example.matchAll(/^\/\/ (\d .*)$/gm)].map((m) => m[1]);
    expect(promised).toHaveLength(6);
    const result = await runTs("newton", example);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`${promised.join("\n")}\n`);
    expect(promised[5]).toBe("6 1.000000 1.000000");
  });

  it("the network example counts 337 parameters", async () => {
    const [example] = examples("Neural networks");
    const result = await runTs("network", example);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("337\n");
  });

  it("the training examples run, and the model learns the moons", async () => {
    const blocks = examples("Training");
    expect(blocks).toHaveLength(2);
    const result = await runTs(
      "training",
      `${blocks.join("\n")}\nconsole.log("final", evaluate(model, data).accuracy);\n`,
    );
    expect(result.stderr).toBe("");
    const final = Number(/^final (\S+)$/m.exec(result.stdout)?.[1]);
    expect(final).toBeGreaterThanOrEqual(0.95);
  });
});
