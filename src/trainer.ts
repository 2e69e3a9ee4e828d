// One training loop for everything that trains: fit, trainGPT, the playground's worker and the
// benchmark. A step is zeroGrad, the loss of the batch (or of each of its parts) and its
// backward, then the optimizer's update at the rate of the schedule. The loss runs eagerly or
// as the replay of its compiled trace, and a number out of range anywhere in the step becomes
// one message: at which step training diverged, the last loss, and the likeliest cause.

import type { ParameterArena } from "./arena.js";
import {
  type Compiled,
  type CompiledFunction,
  type CompileOptions,
  compile,
  type NumericArguments,
} from "./compile/index.js";
import type { Value } from "./engine.js";
import type { Optimizer } from "./optim.js";
import { checkOptions } from "./options.js";

/**
 * The loss of a batch, or of one part of one: its first output is the number backpropagated
 * (a compiled result's backward() follows the graph of its first output); the others, such as
 * a classifier's outputs, come back to the caller.
 */
export type LossFunction = (...args: never[]) => Value | readonly [Value, ...unknown[]];

/** What a step's loss returned: eager Values, or their replayed values when compiled. */
export type LossResult<F extends LossFunction> = ReturnType<F> | Compiled<ReturnType<F>>;

export interface TrainerOptions<F extends LossFunction> {
  optimizer: Optimizer;
  /**
   * The loss that `accumulate` backpropagates, written with Values and called with numbers (and
   * arrays of them). A caller that backpropagates its own parts `within()` a step needs none.
   */
  loss?: F;
  /** Replay the compiled loss (default true); false builds each step's graph eagerly. */
  compile?: boolean;
  /** Options of the compiled loss, when the trainer compiles it. */
  compileOptions?: CompileOptions;
  /** A compiled form of `loss` made elsewhere, to share its traces (with evaluation, say). */
  compiled?: CompiledFunction<F>;
  /**
   * Clip by global norm: before each update, when the gradients of all the parameters taken as
   * one vector are longer than `clip`, they are scaled to that length (torch's clip_grad_norm_).
   */
  clip?: number;
  /** The learning rate of step `step` (0-based); without it the optimizer's rate stays as it is. */
  learningRate?: (step: number) => number;
  /** Who trains, the first word of the messages ("fit", "trainGPT"). */
  caller?: string;
  /** The planned number of steps, for the messages ("step 7 of 100"). */
  steps?: number;
  /**
   * The likeliest cause of a divergence, from what the caller can see; `updating` says whether
   * the number went out of range in the optimizer's update rather than in forward or backward.
   * Default: the steps are too large.
   */
  explainDivergence?: (failure: { updating: boolean }) => string;
  /**
   * An arena over the optimizer's parameters (see arena.ts): a compiled step replays from it,
   * adds its gradients there and updates it, and the Values are written back at the end of
   * each step (see `writeBack`). An arena shared with worker threads lets them compute the
   * step's gradients (`within`). The same numbers as without it.
   */
  arena?: ParameterArena;
  /**
   * When the arena's weights and gradients are written back into the Values: at the end of
   * every step (the default), or only by sync(), which the caller then runs before any code
   * that reads or changes the parameters between steps (the trainer runs it itself before an
   * eager step or a run outside a step). Writing 100,000 Values back costs about as much as
   * an Adam update, so a loop that looks at them rarely saves that.
   */
  writeBack?: "every step" | "on sync";
}

/**
 * Runs training steps over one loss and one optimizer. A step in one piece is `trainStep(...)`;
 * a step whose batch is cut into parts (the playground, a batch of documents replayed one at a
 * time) is `begin()`, `accumulate(...)` for each part, then `update(loss)`.
 */
export class Trainer<F extends LossFunction> {
  readonly optimizer: Optimizer;
  /** Whether the next part replays the compiled loss; may change between parts, as both add into the same gradients. */
  compile: boolean;
  /** Steps completed. */
  step = 0;
  /** The loss of the last completed step (NaN before the first). */
  lastLoss = Number.NaN;
  /** The global norm of the last step's gradients, before clipping (measured only when clipping). */
  gradientNorm = Number.NaN;
  private compiledLoss: CompiledFunction<F> | undefined;
  private readonly options: TrainerOptions<F>;
  /** The rate before any schedule, the one to name in advice. */
  private readonly startingRate: number;
  /** The arena of the step in progress, if it is on one. */
  private stepArena: ParameterArena | undefined;
  /** The arena holds updates the Values do not have yet. */
  private valuesBehind = false;
  /** The Values may have changed since the arena last read them. */
  private arenaBehind = true;

  constructor(options: TrainerOptions<F>) {
    checkOptions("Trainer", options, {
      optimizer: true,
      loss: true,
      compile: true,
      compileOptions: true,
      compiled: true,
      clip: true,
      learningRate: true,
      caller: true,
      steps: true,
      explainDivergence: true,
      arena: true,
      writeBack: true,
    });
    this.options = options;
    this.optimizer = options.optimizer;
    this.compile = options.compile !== false;
    this.compiledLoss = options.compiled;
    this.startingRate = options.optimizer.lr;
    const { clip } = options;
    if (clip !== undefined && !(typeof clip === "number" && clip > 0 && Number.isFinite(clip))) {
      throw new RangeError(
        `${options.caller ?? "Trainer"}: clip must be a positive finite number, got ${String(clip)}`,
      );
    }
  }

  /** The compiled loss, made at its first use. */
  get compiled(): CompiledFunction<F> {
    this.compiledLoss ??= compile(this.eagerLoss, this.options.compileOptions);
    return this.compiledLoss;
  }

  private get eagerLoss(): F {
    if (!this.options.loss) throw new Error("Trainer: no loss was given to run or accumulate");
    return this.options.loss;
  }

  /** The loss at the current weights, eager or replayed, without backward. */
  run(...args: NumericArguments<Parameters<F>>): LossResult<F> {
    if (this.compile) {
      const compiled = this.compiled;
      if (!this.stepArena) {
        this.sync();
        return compiled(...args);
      }
      // Bound for the call only: backward() follows the arena its replay read.
      compiled.arena = this.stepArena;
      try {
        return compiled(...args);
      } finally {
        compiled.arena = undefined;
      }
    }
    this.sync();
    return (this.eagerLoss as unknown as (...a: unknown[]) => ReturnType<F>)(...args);
  }

  /** Starts a step: the gradients of the last one are zeroed. */
  begin(): void {
    const arena = this.compile ? this.options.arena : undefined;
    this.stepArena = arena;
    if (!arena) this.sync();
    this.guard(false, () => {
      if (!arena) return this.optimizer.zeroGrad();
      if (this.arenaBehind) arena.gather();
      this.arenaBehind = false;
      arena.grad.fill(0);
    });
  }

  /**
   * Writes the arena's weights and gradients back into the Values, if they are behind; after
   * it, the Values are the ones to read or change until the next step.
   */
  sync(): void {
    const arena = this.options.arena;
    if (!arena) return;
    if (this.valuesBehind) arena.scatter();
    this.valuesBehind = false;
    this.arenaBehind = true;
  }

  /** Adds one part's gradient (the whole batch, or its share of it) into the parameters; returns what its loss returned. */
  accumulate(...args: NumericArguments<Parameters<F>>): LossResult<F> {
    if (this.stepArena && !this.compile) {
      throw new Error(
        "Trainer: a step begun on the arena adds only compiled gradients; set compile before begin()",
      );
    }
    return this.guard(false, () => {
      const result = this.run(...args);
      firstOutput(result).backward();
      return result;
    });
  }

  /** Ends a step: the rate of the schedule, the optimizer's update. `loss` is the step's loss, for the record. */
  update(loss: number): void {
    const arena = this.stepArena;
    this.stepArena = undefined;
    // Whatever happens in the update, the arena holds the step's gradients.
    if (arena) this.valuesBehind = true;
    try {
      this.guard(true, () => {
        const rate = this.options.learningRate;
        if (rate) this.optimizer.lr = rate(this.step);
        if (this.options.clip !== undefined) this.clipGradients(this.options.clip, arena);
        this.optimizer.step(arena);
      });
    } finally {
      if (this.options.writeBack !== "on sync") this.sync();
    }
    this.step += 1;
    this.lastLoss = loss;
  }

  /** A whole step on one batch: begin, accumulate, update. Returns what the loss returned. */
  trainStep(...args: NumericArguments<Parameters<F>>): LossResult<F> {
    this.begin();
    const result = this.accumulate(...args);
    this.update(firstOutput(result).data);
    return result;
  }

  /** Scales the step's gradients (the arena's, when the step is on one) to at most `clip` long. */
  private clipGradients(clip: number, arena: ParameterArena | undefined): void {
    const parameters = this.optimizer.parameters;
    let squares = 0;
    if (arena) for (const g of arena.grad) squares += g * g;
    else for (const p of parameters) squares += p.grad * p.grad;
    const norm = Math.sqrt(squares);
    this.gradientNorm = norm;
    if (!Number.isFinite(norm)) throw new RangeError(`the gradients' norm is ${norm}`);
    // The 1e-6 keeps a norm of about `clip` from dividing by nearly nothing, as torch does.
    const factor = clip / (norm + 1e-6);
    if (factor >= 1) return;
    if (arena) for (let i = 0; i < arena.grad.length; i++) arena.grad[i] *= factor;
    else for (const p of parameters) p.grad *= factor;
  }

  /**
   * Runs `work`, a piece of the current step done outside `accumulate` (a loss backpropagated by
   * hand); a number out of range (a RangeError) becomes the divergence message.
   */
  within<T>(work: () => T): T {
    return this.guard(false, work);
  }

  private guard<T>(updating: boolean, work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw this.diverged(error, updating);
    }
  }

  private diverged(error: RangeError, updating: boolean): RangeError {
    const { caller, steps, explainDivergence } = this.options;
    // Counted from 1, as the progress displays count the steps.
    const where = `step ${this.step + 1}${steps === undefined ? "" : ` of ${steps}`}`;
    const last = Number.isNaN(this.lastLoss) ? "" : `, last loss ${this.lastLoss.toPrecision(4)}`;
    const cause =
      explainDivergence?.({ updating }) ??
      `the steps are too large; try a smaller learning rate than ${this.startingRate}`;
    return new RangeError(
      `${caller ? `${caller}: ` : ""}training diverged at ${where}${last} (${error.message}); ${cause}`,
    );
  }
}

/** The output a step backpropagates: the loss itself, or the first of the outputs. */
function firstOutput(result: unknown): { data: number; backward(): void } {
  return (Array.isArray(result) ? result[0] : result) as { data: number; backward(): void };
}
