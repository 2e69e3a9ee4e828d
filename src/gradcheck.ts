// Checks backward() against central finite differences, input by input.
import { noGrad, Value } from "./engine.js";

export interface GradcheckOptions {
  /** Step for the central difference (f(x + eps) - f(x - eps)) / 2eps. */
  eps?: number;
  /** An input passes when |analytic - numeric| <= atol + rtol * |numeric|. */
  atol?: number;
  rtol?: number;
}

export interface GradcheckInput {
  index: number;
  value: number;
  analytic: number;
  numeric: number;
  error: number;
  ok: boolean;
}

export interface GradcheckResult {
  ok: boolean;
  /** The largest |analytic - numeric| over all inputs. */
  maxError: number;
  inputs: GradcheckInput[];
  /** The inputs that disagree; empty when ok. */
  failures: GradcheckInput[];
}

/**
 * Compares the gradients backward() computes for `fn` at `inputs` with central finite
 * differences. `fn` receives one Value per input and returns a single Value.
 */
export function gradcheck(
  fn: (...inputs: Value[]) => Value,
  inputs: readonly number[],
  options: GradcheckOptions = {},
): GradcheckResult {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-4 } = options;
  if (typeof fn !== "function") throw new TypeError("gradcheck(fn, inputs): fn must be a function");
  if (!Array.isArray(inputs) || inputs.some((x) => typeof x !== "number" || !Number.isFinite(x))) {
    throw new TypeError("gradcheck(fn, inputs): inputs must be an array of finite numbers");
  }
  for (const [name, x] of [
    ["eps", eps],
    ["atol", atol],
    ["rtol", rtol],
  ] as const) {
    if (typeof x !== "number" || !(x >= 0) || !Number.isFinite(x) || (name === "eps" && x === 0)) {
      throw new RangeError(`gradcheck: option ${name} must be a finite number > 0, got ${x}`);
    }
  }

  const leaves = inputs.map((x, i) => new Value(x, `x${i}`));
  const out = call(fn, leaves);
  out.backward();

  const evaluate = (shifted: number[]) =>
    noGrad(
      () =>
        call(
          fn,
          shifted.map((x) => new Value(x)),
        ).data,
    );
  const results = inputs.map((x, index): GradcheckInput => {
    const plus = inputs.slice();
    const minus = inputs.slice();
    plus[index] = x + eps;
    minus[index] = x - eps;
    const numeric = (evaluate(plus) - evaluate(minus)) / (2 * eps);
    const analytic = leaves[index].grad;
    const error = Math.abs(analytic - numeric);
    return { index, value: x, analytic, numeric, error, ok: error <= atol + rtol * Math.abs(numeric) };
  });
  const failures = results.filter((r) => !r.ok);
  const maxError = results.reduce((max, r) => Math.max(max, r.error), 0);
  return { ok: failures.length === 0, maxError, inputs: results, failures };
}

function call(fn: (...inputs: Value[]) => Value, args: Value[]): Value {
  const out = fn(...args);
  if (!(out instanceof Value)) {
    throw new TypeError(`gradcheck: fn must return a Value, got ${out === null ? "null" : typeof out}`);
  }
  return out;
}
