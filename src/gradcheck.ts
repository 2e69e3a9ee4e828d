// Checks backward() against central finite differences, input by input; and, with order 2,
// the second derivatives of grad(..., { createGraph: true }) against differences of backward().
import { noGrad, Value, withRecording } from "./engine.js";
import { checkSpreadLength, hessian } from "./grad.js";
import { checkOptions } from "./options.js";

export interface GradcheckOptions {
  /** Step for the central difference (f(x + eps) - f(x - eps)) / 2eps. */
  eps?: number;
  /** An input passes when |analytic - numeric| <= atol + rtol * |numeric|. */
  atol?: number;
  rtol?: number;
  /**
   * 1 (default): backward()'s gradient against differences of fn. 2: the Hessian from
   * grad() with createGraph (the operations' rules on Values) against differences of
   * backward()'s gradient, entry by entry.
   */
  order?: 1 | 2;
}

export interface GradcheckInput {
  index: number;
  /** With order 2: the entry is ∂²f/∂x[index]∂x[secondIndex]. */
  secondIndex?: number;
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
 * differences. `fn` receives one Value per input and returns a single Value. With
 * `order: 2`, compares second derivatives instead (see GradcheckOptions.order). Works inside
 * noGrad (it records fn's graph for itself); at least 1 and at most 100,000 inputs.
 */
export function gradcheck(
  fn: (...inputs: Value[]) => Value,
  inputs: readonly number[],
  options: GradcheckOptions = {},
): GradcheckResult {
  const {
    eps = 1e-6,
    atol = 1e-5,
    rtol = 1e-4,
    order = 1,
  } = checkOptions("gradcheck", options, { eps: true, atol: true, rtol: true, order: true });
  if (typeof fn !== "function") throw new TypeError("gradcheck(fn, inputs): fn must be a function");
  if (!Array.isArray(inputs) || inputs.some((x) => typeof x !== "number" || !Number.isFinite(x))) {
    throw new TypeError("gradcheck(fn, inputs): inputs must be an array of finite numbers");
  }
  if (inputs.length === 0) {
    throw new RangeError("gradcheck(fn, inputs): inputs is empty, so there is no gradient to check");
  }
  checkSpreadLength("gradcheck", inputs.length);
  // A tolerance may be 0 (rtol: 0 checks the absolute error alone, as in PyTorch); the step may not.
  for (const [name, x, least] of [
    ["eps", eps, "> 0"],
    ["atol", atol, ">= 0"],
    ["rtol", rtol, ">= 0"],
  ] as const) {
    if (typeof x !== "number" || !Number.isFinite(x) || x < 0 || (name === "eps" && x === 0)) {
      throw new RangeError(`gradcheck: option ${name} must be a finite number ${least}, got ${x}`);
    }
  }
  if (order !== 1 && order !== 2) {
    throw new RangeError(`gradcheck: option order must be 1 or 2, got ${order}`);
  }
  // Inside noGrad, fn's graph would not be recorded and every gradient would read 0.
  return withRecording(() =>
    order === 2 ? secondOrder(fn, inputs, eps, atol, rtol) : firstOrder(fn, inputs, eps, atol, rtol),
  );
}

function firstOrder(
  fn: (...inputs: Value[]) => Value,
  inputs: readonly number[],
  eps: number,
  atol: number,
  rtol: number,
): GradcheckResult {
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
  return summary(results);
}

function secondOrder(
  fn: (...inputs: Value[]) => Value,
  inputs: readonly number[],
  eps: number,
  atol: number,
  rtol: number,
): GradcheckResult {
  const analytic = hessian((...leaves) => call(fn, leaves), inputs);
  const gradientAt = (point: number[]) => {
    const leaves = point.map((x) => new Value(x));
    call(fn, leaves).backward();
    return leaves.map((leaf) => leaf.grad);
  };
  const results: GradcheckInput[] = [];
  inputs.forEach((x, secondIndex) => {
    const plus = inputs.slice();
    const minus = inputs.slice();
    plus[secondIndex] = x + eps;
    minus[secondIndex] = x - eps;
    const up = gradientAt(plus);
    const down = gradientAt(minus);
    inputs.forEach((value, index) => {
      const numeric = (up[index] - down[index]) / (2 * eps);
      const error = Math.abs(analytic[index][secondIndex] - numeric);
      results.push({
        index,
        secondIndex,
        value,
        analytic: analytic[index][secondIndex],
        numeric,
        error,
        ok: error <= atol + rtol * Math.abs(numeric),
      });
    });
  });
  return summary(results);
}

function summary(results: GradcheckInput[]): GradcheckResult {
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
