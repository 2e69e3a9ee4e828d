// Optimizers in PyTorch's shape: construct with the parameters, call zeroGrad(), backward, step().
// Each optimizer's rule is written once (`apply`), as one loop over arrays of weights and
// gradients: those of an arena over the same parameters when step() is given one, or else the
// Values' own, gathered into arrays and written back. One tight loop over 100,000 weights runs
// about three times as fast as a call per Value.
import { ParameterArena } from "./arena.js";
import { Value } from "./engine.js";
import { checkOptions } from "./options.js";
import { type AdamKernel, adamKernel } from "./wasm/adam.js";

export interface Optimizer {
  readonly parameters: readonly Value[];
  /** The learning rate of the next step; schedules change it between steps. */
  lr: number;
  /**
   * Updates every parameter from its gradient: the Values' `.data` from their `.grad`, or with
   * an arena over these parameters (in this order), the arena's `data` from its `grad`.
   */
  step(arena?: ParameterArena): void;
  zeroGrad(): void;
}

export interface SGDOptions {
  lr?: number;
  /** Fraction of the previous update carried into this one (0 = plain gradient descent). */
  momentum?: number;
  /** Adds weightDecay · p to each gradient, the same as an L2 penalty of weightDecay/2 · Σp². */
  weightDecay?: number;
  nesterov?: boolean;
}

/** Stochastic gradient descent: p -= lr · (g + weightDecay · p), with optional (Nesterov) momentum. */
export class SGD implements Optimizer {
  readonly parameters: readonly Value[];
  lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private readonly velocity: Float64Array;

  constructor(parameters: readonly Value[], options: SGDOptions = {}) {
    this.parameters = checkParameters("SGD", parameters);
    const {
      lr = 0.01,
      momentum = 0,
      weightDecay = 0,
      nesterov = false,
    } = checkOptions("SGD", options, {
      lr: true,
      momentum: true,
      weightDecay: true,
      nesterov: true,
    });
    this.lr = checkRate("SGD", lr);
    this.momentum = checkRange("SGD", "momentum", momentum, 0, 1);
    this.weightDecay = checkRange("SGD", "weightDecay", weightDecay, 0, Number.POSITIVE_INFINITY);
    if (nesterov && momentum === 0) throw new RangeError("SGD: nesterov needs momentum > 0");
    this.nesterov = nesterov;
    this.velocity = new Float64Array(this.parameters.length);
  }

  step(arena?: ParameterArena): void {
    const target = arena ? checkArena("SGD", this.parameters, arena) : gatherValues(this.parameters);
    const finite = this.apply(target.data, target.grad);
    finishStep("SGD", target, arena, finite);
  }

  /** The rule, over every parameter: its next value from its gradient and value. Returns whether every one is finite. */
  private apply(data: Float64Array, grad: Float64Array): boolean {
    const { velocity, momentum, nesterov, weightDecay, lr } = this;
    let poison = 0;
    for (let i = 0; i < data.length; i++) {
      const value = data[i];
      let g = grad[i] + weightDecay * value;
      if (momentum !== 0) {
        velocity[i] = momentum * velocity[i] + g;
        g = nesterov ? g + momentum * velocity[i] : velocity[i];
      }
      const next = value - lr * g;
      data[i] = next;
      poison += next - next;
    }
    return poison === 0;
  }

  zeroGrad(): void {
    for (const p of this.parameters) p.grad = 0;
  }
}

export interface AdamOptions {
  lr?: number;
  /** Decay rates of the running means of the gradient and of its square. */
  betas?: [number, number];
  eps?: number;
  /**
   * Adam: L2 added to the gradient (as in torch.optim.Adam). AdamW: decoupled, each weight
   * shrunk by lr · weightDecay of itself before the update (as torch.optim.AdamW; default 0.01).
   */
  weightDecay?: number;
}

/** Adam's running moments and count of steps as plain numbers: what a checkpoint keeps. */
export interface AdamState {
  step: number;
  m: number[];
  v: number[];
}

/** Adam (Kingma & Ba, 2015) with bias correction, as torch.optim.Adam. */
export class Adam implements Optimizer {
  readonly parameters: readonly Value[];
  lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  /** The same rule on WebAssembly, where it runs (wasm/adam.ts); it then holds m and v. */
  private readonly kernel: AdamKernel | undefined;
  private t = 0;
  /** AdamW's decay, apart from the gradient, instead of Adam's L2 in it. */
  private readonly decoupled: boolean;
  private readonly name: string;

  constructor(parameters: readonly Value[], options: AdamOptions = {}) {
    const decoupled = new.target === AdamW;
    const name = decoupled ? "AdamW" : "Adam";
    this.decoupled = decoupled;
    this.name = name;
    this.parameters = checkParameters(name, parameters);
    const {
      lr = 0.001,
      betas = [0.9, 0.999],
      eps = 1e-8,
      weightDecay = decoupled ? 0.01 : 0,
    } = checkOptions(name, options, { lr: true, betas: true, eps: true, weightDecay: true });
    this.lr = checkRate(name, lr);
    if (!Array.isArray(betas) || betas.length !== 2)
      throw new TypeError(`${name}: betas must be [beta1, beta2]`);
    this.betas = [checkRange(name, "betas[0]", betas[0], 0, 1), checkRange(name, "betas[1]", betas[1], 0, 1)];
    // eps > 0: with eps = 0, a weight whose gradient is 0 would become 0 / 0.
    this.eps = checkRange(name, "eps", eps, Number.MIN_VALUE, Number.POSITIVE_INFINITY);
    this.weightDecay = checkRange(name, "weightDecay", weightDecay, 0, Number.POSITIVE_INFINITY);
    this.kernel = adamKernel(this.parameters.length);
    this.m = this.kernel?.m ?? new Float64Array(this.parameters.length);
    this.v = this.kernel?.v ?? new Float64Array(this.parameters.length);
  }

  step(arena?: ParameterArena): void {
    const target = arena ? checkArena(this.name, this.parameters, arena) : gatherValues(this.parameters);
    this.t += 1;
    const finite = this.apply(target.data, target.grad);
    finishStep(this.name, target, arena, finite);
  }

  /**
   * The rule, over every parameter: the running moments, then the weight, with this step's bias
   * corrections. Returns whether every new weight is finite. wasm/adam.wat is this loop too.
   */
  private apply(data: Float64Array, grad: Float64Array): boolean {
    const { m, v, eps, lr, weightDecay, decoupled } = this;
    const [beta1, beta2] = this.betas;
    const correction1 = 1 - beta1 ** this.t;
    const correction2 = 1 - beta2 ** this.t;
    // Adam's decay is an L2 term in the gradient, AdamW's a shrink of the weight; the other is
    // 0 or 1, which leave every number as it is (the loop has no branch to take).
    const decay = decoupled ? 0 : weightDecay;
    const shrink = decoupled ? 1 - lr * weightDecay : 1;
    if (this.kernel) {
      return this.kernel.step(data, grad, { beta1, beta2, correction1, correction2, lr, eps, decay, shrink });
    }
    let poison = 0;
    for (let i = 0; i < data.length; i++) {
      const value = data[i];
      const g = grad[i] + decay * value;
      const mean = beta1 * m[i] + (1 - beta1) * g;
      const square = beta2 * v[i] + (1 - beta2) * g * g;
      m[i] = mean;
      v[i] = square;
      const next = value * shrink - (lr * (mean / correction1)) / (Math.sqrt(square / correction2) + eps);
      data[i] = next;
      // x - x is 0 for a finite x, NaN otherwise: the check costs no pass of its own.
      poison += next - next;
    }
    return poison === 0;
  }

  zeroGrad(): void {
    for (const p of this.parameters) p.grad = 0;
  }

  /** The moments and the count of steps, copied. */
  stateDict(): AdamState {
    return { step: this.t, m: Array.from(this.m), v: Array.from(this.v) };
  }

  /** Continues from a state of `stateDict()`: checked whole before anything changes. */
  loadStateDict(state: unknown): void {
    const where = `${this.name}.loadStateDict`;
    const given = state as Partial<AdamState> | null;
    const n = this.parameters.length;
    if (typeof given !== "object" || given === null) {
      throw new TypeError(`${where}: expected { step, m, v }, got ${String(state)}`);
    }
    if (typeof given.step !== "number" || !Number.isInteger(given.step) || given.step < 0) {
      throw new RangeError(`${where}: step must be an integer >= 0, got ${String(given.step)}`);
    }
    for (const key of ["m", "v"] as const) {
      const moments = given[key];
      if (!Array.isArray(moments) || moments.length !== n) {
        const got = Array.isArray(moments) ? `${moments.length}` : typeof moments;
        throw new RangeError(`${where}: ${key} must hold one number per parameter (${n}), got ${got}`);
      }
      const bad = moments.findIndex(
        (x) => typeof x !== "number" || !Number.isFinite(x) || (key === "v" && x < 0),
      );
      if (bad >= 0)
        throw new RangeError(`${where}: ${key}[${bad}] is ${String(moments[bad])}, not a valid moment`);
    }
    this.t = given.step;
    this.m.set(given.m as number[]);
    this.v.set(given.v as number[]);
  }
}

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as torch.optim.AdamW: each
 * step shrinks every weight by lr · weightDecay of itself, then takes Adam's step.
 */
export class AdamW extends Adam {}

export type OptimizerName = "sgd" | "adam";
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ["sgd", "adam"];

/**
 * How the learning rate changes over training, as a factor of the starting rate:
 * `linear` goes from 1 to `endFactor` (the demo: 1.0 → 0.1), `step` multiplies by `gamma`
 * every `stepSize` steps, `cosine` follows half a cosine down to `endFactor`. With `warmup`
 * W, the rate first climbs linearly over W steps (lr/W, 2·lr/W, …, lr), and the schedule
 * then runs over the remaining steps (as nanoGPT's warm-up then cosine decay).
 */
export type Schedule = (
  | { kind: "constant" }
  | { kind: "linear"; endFactor: number }
  | { kind: "step"; stepSize: number; gamma: number }
  | { kind: "cosine"; endFactor?: number }
) & { warmup?: number };

/** The learning rate at `step` (0-based) of `totalSteps`, for a starting rate `lr`. */
export function scheduledRate(schedule: Schedule, lr: number, step: number, totalSteps: number): number {
  const warmup = schedule.warmup ?? 0;
  if (step < warmup) return (lr * (step + 1)) / warmup;
  const after = step - warmup;
  const remaining = totalSteps - warmup;
  const progress = remaining > 0 ? after / remaining : 0;
  switch (schedule.kind) {
    case "constant":
      return lr;
    case "linear":
      return lr * (1 - (1 - schedule.endFactor) * progress);
    case "step":
      return lr * schedule.gamma ** Math.floor(after / schedule.stepSize);
    case "cosine": {
      const end = schedule.endFactor ?? 0;
      return lr * (end + ((1 - end) * (1 + Math.cos(Math.PI * progress))) / 2);
    }
  }
}

/** Checks a schedule from outside the type system (a CLI flag, a JSON file). */
export function checkSchedule(where: string, schedule: unknown): Schedule {
  const s = schedule as Record<string, unknown> | null;
  const warmup = s?.warmup;
  if (warmup === undefined) return checkDecay(where, s);
  if (typeof warmup !== "number" || !Number.isInteger(warmup) || warmup < 0) {
    throw new RangeError(`${where}: schedule.warmup must be an integer >= 0 (steps), got ${String(warmup)}`);
  }
  return { ...checkDecay(where, s), warmup };
}

function checkDecay(where: string, schedule: unknown): Schedule {
  const s = schedule as Record<string, unknown> | null;
  const factor = (name: string, x: unknown) => checkRange(where, `schedule.${name}`, x, 0, 1, true);
  switch (s?.kind) {
    case "constant":
      return { kind: "constant" };
    case "linear":
      return { kind: "linear", endFactor: factor("endFactor", s.endFactor) };
    case "cosine":
      return { kind: "cosine", endFactor: s.endFactor === undefined ? 0 : factor("endFactor", s.endFactor) };
    case "step": {
      const stepSize = s.stepSize;
      if (typeof stepSize !== "number" || !Number.isInteger(stepSize) || stepSize < 1) {
        throw new RangeError(
          `${where}: schedule.stepSize must be a positive integer, got ${String(stepSize)}`,
        );
      }
      return { kind: "step", stepSize, gamma: factor("gamma", s.gamma) };
    }
    default:
      throw new TypeError(
        `${where}: unknown schedule ${JSON.stringify(schedule)}; expected kind constant, linear, step or cosine`,
      );
  }
}

/** Lists of parameters found to be Values, each once, with their length then. */
const checkedLists = new WeakMap<readonly Value[], number>();

function checkParameters(where: string, parameters: readonly Value[]): readonly Value[] {
  if (checkedLists.get(parameters) === parameters.length) return parameters.slice();
  if (!Array.isArray(parameters)) {
    throw new TypeError(
      `${where}: expected an array of parameters (model.parameters()), got ${String(parameters)}`,
    );
  }
  const firstPlace = new Map<Value, number>();
  parameters.forEach((p, i) => {
    if (!(p instanceof Value)) {
      throw new TypeError(
        `${where}: parameters[${i}] is ${String(p)}, not a Value (pass model.parameters())`,
      );
    }
    // Given twice, a parameter would be stepped twice per step(), at twice the learning rate.
    const first = firstPlace.get(p);
    if (first !== undefined) {
      throw new RangeError(
        `${where}: parameters[${i}] is the same Value as parameters[${first}]; give each parameter once ` +
          "(to train two models together, concatenate their parameters(), which share none)",
      );
    }
    firstPlace.set(p, i);
  });
  checkedLists.set(parameters, parameters.length);
  return parameters.slice();
}

const checkedArenas = new WeakMap<ParameterArena, readonly Value[]>();

/** The arena, if it holds exactly these parameters in this order (checked once per arena and list). */
function checkArena(where: string, parameters: readonly Value[], arena: ParameterArena): ParameterArena {
  if (checkedArenas.get(arena) === parameters) return arena;
  const same =
    arena.parameters.length === parameters.length && parameters.every((p, i) => arena.parameters[i] === p);
  if (!same) {
    throw new RangeError(
      `${where}.step(arena): the arena holds other parameters than the optimizer's (${arena.parameters.length} against ${parameters.length}); make both from the same model.parameters()`,
    );
  }
  checkedArenas.set(arena, parameters);
  return arena;
}

function checkFiniteArena(where: string, arena: ParameterArena): void {
  const { data, grad } = arena;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new RangeError(
        `${where}.step(): parameter ${i} became ${data[i]} (its gradient was ${grad[i]}); the learning rate is too large or the gradients are not finite`,
      );
    }
  }
}

const ownArenas = new WeakMap<readonly Value[], ParameterArena>();

/**
 * A step on the Values themselves runs the same rule over an arena of their own: their data and
 * gradients gathered into it here, written back by finishStep.
 */
function gatherValues(parameters: readonly Value[]): ParameterArena {
  const arena = ownArenas.get(parameters);
  if (arena) {
    arena.gather();
    return arena;
  }
  const made = new ParameterArena(parameters);
  ownArenas.set(parameters, made);
  return made;
}

/**
 * After the rule: the Values' data brought up to date (unless the step was on the caller's
 * arena); if the rule found a weight that is not finite, it is named.
 */
function finishStep(
  where: string,
  target: ParameterArena,
  callersArena: ParameterArena | undefined,
  finite: boolean,
): void {
  if (!callersArena) {
    const { parameters, data } = target;
    for (let i = 0; i < parameters.length; i++) parameters[i].data = data[i];
  }
  if (!finite) checkFiniteArena(where, target);
}

function checkRate(where: string, lr: unknown): number {
  if (typeof lr !== "number" || !(lr > 0) || !Number.isFinite(lr)) {
    throw new RangeError(`${where}: lr must be a positive finite number, got ${String(lr)}`);
  }
  return lr;
}

function checkRange(
  where: string,
  name: string,
  x: unknown,
  low: number,
  high: number,
  closed = false,
): number {
  const ok = typeof x === "number" && x >= low && (closed ? x <= high : x < high) && !Number.isNaN(x);
  if (!ok) {
    const upper = high === Number.POSITIVE_INFINITY ? "" : ` and ${closed ? "<=" : "<"} ${high}`;
    throw new RangeError(`${where}: ${name} must be >= ${low}${upper}, got ${String(x)}`);
  }
  return x as number;
}
