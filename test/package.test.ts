// The package as users get it: after the build, plain Node imports it by name, Deno runs the
// same core unchanged, and the core itself neither needs Node nor any dependency.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

function run(
  command: string,
  args: string[],
  cwd = root,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// The README's first example, as a user would type it.
const EXAMPLE = `
const a = new Value(-4.0, "a");
const b = new Value(2.0, "b");
let c = a.add(b);
let d = a.mul(b).add(b.pow(3));
c = c.add(c.add(1));
c = c.add(c.add(1).add(a.neg()));
d = d.add(d.mul(2).add(b.add(a).relu()));
d = d.add(d.mul(3).add(b.sub(a).relu()));
const e = c.sub(d);
const f = e.pow(2);
let g = f.div(2.0);
g = g.add(f.pow(-1).mul(10));
g.backward();
console.log(g.data.toFixed(4), a.grad.toFixed(4), b.grad.toFixed(4));
`;

describe("the built package", () => {
  it("plain Node imports micrograd, micrograd/viz and micrograd/node by name", async () => {
    const script = `import { Value, MLP } from "micrograd"; import { toDot } from "micrograd/viz";
      import { loadDigits } from "micrograd/node"; ${EXAMPLE}
      console.log(new MLP(2, [16, 16, 1]).parameters().length, loadDigits().X.length, toDot(g).startsWith("digraph"));`;
    const result = await run(process.execPath, ["--input-type=module", "-e", script]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("24.7041 138.8338 645.5773\n337 1797 true\n");
  });

  it("Deno runs the same built core unchanged", async () => {
    const deno = join(root, "node_modules", ".bin", "deno");
    const script = `import { Value } from "./dist/index.js"; ${EXAMPLE}`;
    const result = await run(deno, ["eval", "--no-config", script]);
    expect(result.stderr.replace(/^Warning.*\n/gm, "")).toBe("");
    expect(result.stdout).toBe("24.7041 138.8338 645.5773\n");
  });

  it("the core imports nothing but itself: no Node built-ins, no packages", () => {
    // The core is src/*.ts (but node.ts), the compiler's passes in src/compile/ and the
    // WebAssembly kernels' loaders in src/wasm/; each may import only another file of the core,
    // never an extra (cli, node, viz, onnx), a built-in or a package.
    const top = readdirSync(join(root, "src")).filter((file) => file.endsWith(".ts") && file !== "node.ts");
    const passes = readdirSync(join(root, "src", "compile")).filter((file) => file.endsWith(".ts"));
    const kernels = readdirSync(join(root, "src", "wasm")).filter((file) => file.endsWith(".ts"));
    expect(top).toContain("engine.ts");
    expect(passes).toContain("index.ts");
    const allowed = new Set([
      ...top.map((f) => f.replace(/\.ts$/, ".js")),
      ...passes.map((f) => `compile/${f.replace(/\.ts$/, ".js")}`),
      ...kernels.map((f) => `wasm/${f.replace(/\.ts$/, ".js")}`),
    ]);
    const check = (file: string, folder: string) => {
      const source = readFileSync(join(root, "src", folder, file), "utf8");
      // Import and export statements only: a comment may say `from "…"` too.
      const imports = [...source.matchAll(/^(?:import|export)\b[^;]*?\bfrom "([^"]+)"/gm)].map((m) => m[1]);
      for (const path of imports) {
        expect(path, `${folder}${file} imports ${path}`).toMatch(/^\.\.?\/[\w/-]+\.js$/);
        const target = posix.normalize(posix.join(folder, path));
        expect(allowed.has(target), `${folder}${file} imports ${path}, outside the core`).toBe(true);
      }
    };
    for (const file of top) check(file, "");
    for (const file of passes) check(file, "compile/");
    for (const file of kernels) check(file, "wasm/");
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Record<string, unknown>;
    expect(manifest.dependencies).toBeUndefined();
  });

  it("installs elsewhere as the README says: npm pack, then npm install of the file, then npx micrograd", async () => {
    const place = mkdtempSync(join(tmpdir(), "micrograd-install-"));
    try {
      const packed = await run("npm", ["pack", "--pack-destination", place, "--silent"]);
      expect(packed.code, packed.stderr).toBe(0);
      const tarball = join(place, packed.stdout.trim());
      const project = join(place, "project");
      mkdirSync(project);
      writeFileSync(join(project, "package.json"), '{ "name": "user-project", "private": true }\n');
      // Offline and without the optional picture packages: the test must not need the registry.
      const installed = await run(
        "npm",
        ["install", tarball, "--omit=optional", "--offline", "--no-audit", "--no-fund"],
        project,
      );
      expect(installed.code, installed.stderr).toBe(0);
      const help = await run("npx", ["--offline", "micrograd", "--help"], project);
      expect(help.stdout).toContain("Usage: micrograd <command> [options]");
      const trained = await run(
        "npx",
        ["--offline", "micrograd", "train", "--steps", "3", "--quiet", "--out", "run"],
        project,
      );
      expect(trained.code, trained.stderr).toBe(0);
      // Without the optional picture packages, each picture says what it needs, in one line.
      expect(trained.stderr).toContain(
        "micrograd: training.gif not written: BoundaryAnimation needs the optional package gifenc, which is not installed: npm install gifenc\n",
      );
      expect(trained.stderr).not.toContain("Require stack");
      expect(readdirSync(join(project, "run"))).toContain("model.json");
      const imported = await run(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `import { MLP } from "micrograd"; console.log(new MLP(2, [3, 1]).parameters().length);`,
        ],
        project,
      );
      expect(imported.stdout).toBe("13\n");
    } finally {
      rmSync(place, { recursive: true, force: true });
    }
  });
});
