// Adam's update on WebAssembly (adam.wat), where it runs: the same numbers as the JavaScript
// rule in optim.ts, bit for bit, in half the time over a wide model. Optional: where
// WebAssembly with SIMD is missing or a Content-Security-Policy forbids compiling it, or after
// useWasm(false), the optimizer keeps to its JavaScript loop.
import { ADAM_WASM } from "./adam-bytes.js";

/** Below this many weights the JavaScript loop is as fast, and a reader sees plain arrays. */
const MIN_WEIGHTS = 1024;

let allowed = true;
/** The compiled module: undefined until first needed, null where it cannot be compiled. */
let compiled: WebAssembly.Module | null | undefined;

/**
 * Whether optimizers made from now on may run their update on WebAssembly (the default, where
 * it is available). The numbers are the same either way; false keeps every step in JavaScript.
 */
export function useWasm(enabled: boolean): void {
  if (typeof enabled !== "boolean")
    throw new TypeError(`useWasm: expected true or false, got ${String(enabled)}`);
  allowed = enabled;
}

/** Adam's hyperparameters for one step, as Adam.apply computes them. */
export interface AdamRule {
  beta1: number;
  beta2: number;
  correction1: number;
  correction2: number;
  lr: number;
  eps: number;
  decay: number;
  shrink: number;
}

/** Adam's update over `count` weights, with its moments `m` and `v` kept in the kernel's memory. */
export interface AdamKernel {
  readonly m: Float64Array;
  readonly v: Float64Array;
  /** Updates `data` from `grad` and the moments; returns whether every new weight is finite. */
  step(data: Float64Array, grad: Float64Array, rule: AdamRule): boolean;
}

/** A kernel for `count` weights, or undefined where the JavaScript loop is to be used. */
export function adamKernel(count: number): AdamKernel | undefined {
  if (!allowed || count < MIN_WEIGHTS) return undefined;
  const module = compiledModule();
  if (!module) return undefined;
  const bytes = 8 * count;
  let memory: WebAssembly.Memory;
  let adam: (...args: number[]) => number;
  try {
    const pages = Math.ceil((4 * bytes) / 65536);
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    adam = new WebAssembly.Instance(module, { kernel: { memory } }).exports.adam as typeof adam;
  } catch {
    // Too large for a 32-bit memory, or out of memory: the JavaScript loop needs less.
    return undefined;
  }
  const view = (at: number) => new Float64Array(memory.buffer, at * bytes, count);
  const [data, grad, m, v] = [view(0), view(1), view(2), view(3)];
  return {
    m,
    v,
    step(weights, gradients, rule) {
      data.set(weights);
      grad.set(gradients);
      const { beta1, beta2, correction1, correction2, lr, eps, decay, shrink } = rule;
      const poison = adam(
        count,
        0,
        bytes,
        2 * bytes,
        3 * bytes,
        beta1,
        beta2,
        1 - beta1,
        1 - beta2,
        correction1,
        correction2,
        lr,
        eps,
        decay,
        shrink,
      );
      weights.set(data);
      return poison === 0;
    },
  };
}

function compiledModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    const binary = Uint8Array.from(atob(ADAM_WASM), (c) => c.charCodeAt(0));
    compiled = WebAssembly.validate(binary) ? new WebAssembly.Module(binary) : null;
  } catch {
    // No WebAssembly, or a Content-Security-Policy without 'wasm-unsafe-eval'.
    compiled = null;
  }
  return compiled;
}
