// The WebAssembly kernel of Adam's update: assembled from its text as committed, and the same
// numbers as the JavaScript loop, bit for bit, for Adam and AdamW, an odd count, a schedule,
// a reloaded state; a weight that is not finite named the same way.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { assemble, bytesModule } from "../scripts/generate-wasm.js";
import { Adam, AdamW, ParameterArena, useWasm, Value } from "../src/index.js";
import { adamKernel } from "../src/wasm/adam.js";

const FOLDER = join(import.meta.dirname, "..", "src", "wasm");

afterEach(() => useWasm(true));

/** Numbers of every size and sign, some zero, from a fixed formula. */
function numbers(count: number, seed: number, scale: number): number[] {
  return Array.from({ length: count }, (_, i) => {
    const x = Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453;
    const fraction = x - Math.floor(x);
    if (i % 17 === 0) return 0;
    return (fraction - 0.5) * scale * 10 ** ((i % 7) - 3);
  });
}

/** `steps` steps of the optimizer `make` gives, on the Values' path; the weights and moments after. */
function train(make: (parameters: Value[]) => Adam, count: number, steps: number, wasm: boolean) {
  useWasm(wasm);
  const parameters = numbers(count, 1, 1).map((x) => new Value(x));
  const optimizer = make(parameters);
  for (let step = 0; step < steps; step++) {
    const gradients = numbers(count, step + 2, 0.1);
    parameters.forEach((p, i) => {
      p.grad = gradients[i];
    });
    // A schedule changes the rate between steps.
    optimizer.lr *= 0.97;
    optimizer.step();
  }
  return { weights: parameters.map((p) => p.data), state: optimizer.stateDict() };
}

describe("Adam's WebAssembly kernel", () => {
  it("is the committed module, assembled from adam.wat as committed", async () => {
    const bytes = await assemble("adam.wat", readFileSync(join(FOLDER, "adam.wat"), "utf8"));
    expect(readFileSync(join(FOLDER, "adam-bytes.ts"), "utf8")).toBe(bytesModule("adam", bytes));
  });

  it("runs here, on wide models only, and not after useWasm(false)", () => {
    expect(adamKernel(4096)).toBeDefined();
    expect(adamKernel(100)).toBeUndefined();
    useWasm(false);
    expect(adamKernel(4096)).toBeUndefined();
    expect(() => useWasm("no" as unknown as boolean)).toThrow("useWasm: expected true or false, got no");
  });

  it.each([
    ["Adam", (p: Value[]) => new Adam(p, { lr: 0.01, betas: [0.85, 0.99] })],
    ["Adam with L2", (p: Value[]) => new Adam(p, { lr: 0.003, weightDecay: 0.05 })],
    ["AdamW", (p: Value[]) => new AdamW(p, { lr: 0.02, weightDecay: 0.1, eps: 1e-6 })],
  ])("gives the JavaScript loop's weights and moments, bit for bit: %s", (_, make) => {
    // An odd count: the last weight goes through the kernel's one-number path.
    const viaWasm = train(make, 2049, 25, true);
    const viaJavaScript = train(make, 2049, 25, false);
    expect(viaWasm.weights).toEqual(viaJavaScript.weights);
    expect(viaWasm.state).toEqual(viaJavaScript.state);
    expect(viaWasm.weights).not.toEqual(numbers(2049, 1, 1));
  });

  it("continues from a loaded state as the JavaScript loop does, on an arena", () => {
    const count = 1500;
    const run = (wasm: boolean) => {
      const first = train((p) => new Adam(p, { lr: 0.01 }), count, 5, true);
      useWasm(wasm);
      const parameters = first.weights.map((x) => new Value(x));
      const optimizer = new Adam(parameters, { lr: 0.01 });
      optimizer.loadStateDict(first.state);
      const arena = new ParameterArena(parameters);
      arena.grad.set(numbers(count, 9, 0.1));
      optimizer.step(arena);
      optimizer.step(arena);
      return { weights: Array.from(arena.data), state: optimizer.stateDict() };
    };
    const viaWasm = run(true);
    const viaJavaScript = run(false);
    expect(viaWasm.weights).toEqual(viaJavaScript.weights);
    expect(viaWasm.state).toEqual(viaJavaScript.state);
  });

  it("names a weight that is not finite as the JavaScript loop does", () => {
    const message = (wasm: boolean) => {
      useWasm(wasm);
      const parameters = numbers(2048, 1, 1).map((x) => new Value(x));
      parameters[1234].grad = Number.NaN;
      try {
        new Adam(parameters, { lr: 0.01 }).step();
      } catch (error) {
        return (error as Error).message;
      }
      return "no error";
    };
    expect(message(true)).toBe(
      "Adam.step(): parameter 1234 became NaN (its gradient was NaN); the learning rate is too large or the gradients are not finite",
    );
    expect(message(false)).toBe(message(true));
  });
});
