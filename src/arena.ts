// A model's parameters laid out as two Float64Arrays, their values and their gradients.
//
// A wide model has many parameters and each is its own Value object somewhere on the heap: a
// training step that reads and writes `.data` and `.grad` one object at a time (the replay
// reading every weight, backward adding into every gradient, zeroGrad, the optimizer's update)
// spends much of its time waiting for memory. Bound to a compiled function, an arena is where
// the replay reads the weights and backward adds the gradients; the optimizer updates it in
// place; the Values are brought up to date once, when the step is done.
//
// The buffers may be given (a SharedArrayBuffer that worker threads read), so that several
// copies of a model see one set of weights.
import { Value } from "./engine.js";

export class ParameterArena {
  readonly parameters: readonly Value[];
  /** The parameters' values, in the order of `parameters`. */
  readonly data: Float64Array;
  /** Their gradients, same order. */
  readonly grad: Float64Array;
  private readonly positions = new Map<Value, number>();

  /**
   * An arena over `parameters` (a model's `parameters()`), filled from them; or, when `buffers`
   * are given, over those buffers as they are (each `parameters.length` float64s: the values
   * and the gradients), which gather() fills from the Values.
   */
  constructor(parameters: readonly Value[], buffers?: { data: ArrayBufferLike; grad: ArrayBufferLike }) {
    if (!Array.isArray(parameters)) {
      throw new TypeError("ParameterArena: expected an array of parameters (model.parameters())");
    }
    parameters.forEach((p, i) => {
      if (!(p instanceof Value)) throw new TypeError(`ParameterArena: parameters[${i}] is not a Value`);
      if (this.positions.has(p)) throw new RangeError(`ParameterArena: parameters[${i}] appears twice`);
      this.positions.set(p, i);
    });
    this.parameters = parameters.slice();
    const n = parameters.length;
    this.data = buffers ? new Float64Array(buffers.data, 0, n) : new Float64Array(n);
    this.grad = buffers ? new Float64Array(buffers.grad, 0, n) : new Float64Array(n);
    if (!buffers) this.gather();
  }

  /** The place of `p` in the arena, or -1 if it is not one of its parameters. */
  indexOf(p: Value): number {
    return this.positions.get(p) ?? -1;
  }

  /** Copies every Value's data and grad into the arena. */
  gather(): void {
    const { parameters, data, grad } = this;
    for (let i = 0; i < parameters.length; i++) {
      data[i] = parameters[i].data;
      grad[i] = parameters[i].grad;
    }
  }

  /** Writes the arena's values and gradients back into the Values. */
  scatter(): void {
    const { parameters, data, grad } = this;
    for (let i = 0; i < parameters.length; i++) {
      const p = parameters[i];
      p.data = data[i];
      p.grad = grad[i];
    }
  }
}

/** Whether the first `length` numbers of `x` are finite: x - x is 0 for each then, NaN for any other. */
export function allFinite(x: Float64Array, length = x.length): boolean {
  let sum = 0;
  for (let k = 0; k < length; k++) {
    const number = x[k];
    sum += number - number;
  }
  return sum === 0;
}
