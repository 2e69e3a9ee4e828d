// Neural networks from Values: a neuron is weights, a bias, a weighted sum and an activation;
// a layer is neurons side by side; a multi-layer perceptron is layers one after another.
import { OPERATIONS, type Op, type Operand, show, Value } from "./engine.js";
import type { LossName } from "./losses.js";
import { checkOptions } from "./options.js";
import { createRandom, gaussian, type Random } from "./random.js";

/** What an activation is to each part of the library that computes it. */
export interface ActivationRule {
  /** On a Value, recorded in the graph (what a Neuron applies). */
  readonly onValue: (z: Value) => Value;
  /** On a plain number: the same function (the playground paints decision boundaries with it). */
  readonly onNumber: (z: number) => number;
  /** The ONNX operator that computes it and its `alpha` attribute, if any; none for linear. */
  readonly onnx?: { readonly op: string; readonly alpha?: number };
}

/** The engine's default slope of leakyRelu, read from the engine rather than restated. */
const LEAKY_RELU_SLOPE = -new Value(-1).leakyRelu().data;

/** An activation that is one operation of the engine's table (its second operand a constant). */
function fromOperation(
  op: Op,
  onValue: (z: Value) => Value,
  second = 0,
  alpha?: number,
): Required<ActivationRule> {
  // A one-input operation's forward rule ignores its second operand: it is the rule on numbers itself.
  const onNumber = op.arity === 1 ? (z: number) => op.forward(z, 0) : (z: number) => op.forward(z, second);
  return { onValue, onNumber, onnx: { op: op.onnx as string, alpha } };
}

/** Every activation a layer can have, by name. */
export const ACTIVATION_TABLE = {
  relu: fromOperation(OPERATIONS.relu, (z) => z.relu()),
  tanh: fromOperation(OPERATIONS.tanh, (z) => z.tanh()),
  sigmoid: fromOperation(OPERATIONS.sigmoid, (z) => z.sigmoid()),
  linear: { onValue: (z: Value) => z, onNumber: (z: number) => z },
  leakyRelu: fromOperation(OPERATIONS.leakyRelu, (z) => z.leakyRelu(), LEAKY_RELU_SLOPE, LEAKY_RELU_SLOPE),
} satisfies Record<string, ActivationRule>;

export type Activation = keyof typeof ACTIVATION_TABLE;
/** The names of the activations. */
export const ACTIVATIONS = Object.keys(ACTIVATION_TABLE) as readonly Activation[];

/**
 * How weights start. `uniform`: U(-1, 1), as in the original micrograd. `xavier`:
 * U(±√(6/(nin+nout))), suits tanh and sigmoid. `he`: N(0, 2/nin), suits ReLU.
 * Biases start at 0.
 */
export type Init = "uniform" | "xavier" | "he";
export const INITS: readonly Init[] = ["uniform", "xavier", "he"];

/** Anything with parameters to train. */
export abstract class Module {
  abstract parameters(): Value[];

  /** Sets every parameter's gradient to 0; backward() adds to gradients, so do this before each. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = 0;
  }
}

export function activate(z: Value, activation: Activation): Value {
  return ACTIVATION_TABLE[activation].onValue(z);
}

export class Neuron extends Module {
  readonly weights: Value[];
  readonly bias: Value;

  constructor(
    readonly nin: number,
    readonly activation: Activation = "relu",
    initWeight: () => number = uniform(createRandom()),
  ) {
    super();
    checkCount("Neuron", "nin", nin);
    checkActivation("Neuron", activation);
    this.weights = Array.from({ length: nin }, () => new Value(initWeight()));
    this.bias = new Value(0);
  }

  /** activation(w · x + b) */
  forward(x: readonly Operand[]): Value {
    checkInput("Neuron", x, this.nin);
    const terms: Operand[] = new Array(this.nin + 1);
    for (let i = 0; i < this.nin; i++) terms[i] = this.weights[i].mul(x[i]);
    terms[this.nin] = this.bias;
    return activate(Value.sum(terms), this.activation);
  }

  parameters(): Value[] {
    return [...this.weights, this.bias];
  }

  override toString(): string {
    return `${this.activation}Neuron(${this.nin})`;
  }
}

export class Layer extends Module {
  readonly neurons: Neuron[];

  constructor(
    readonly nin: number,
    readonly nout: number,
    readonly activation: Activation = "relu",
    initWeight: () => number = uniform(createRandom()),
  ) {
    super();
    checkCount("Layer", "nout", nout);
    this.neurons = Array.from({ length: nout }, () => new Neuron(nin, activation, initWeight));
  }

  forward(x: readonly Operand[]): Value[] {
    checkInput("Layer", x, this.nin);
    return this.neurons.map((n) => n.forward(x));
  }

  parameters(): Value[] {
    return this.neurons.flatMap((n) => n.parameters());
  }

  override toString(): string {
    return `Layer of [${this.neurons.join(", ")}]`;
  }
}

export interface MLPOptions {
  /** Activation of the hidden layers; default "relu". */
  activation?: Activation;
  /** Activation of the last layer; default "linear" (raw scores, as losses expect). */
  outputActivation?: Activation;
  /** Weight initialization; default "uniform". */
  init?: Init;
  /** Same seed, bit-identical weights. Without one, weights differ on every run. */
  seed?: number;
}

/** Everything needed to rebuild an MLP's architecture: plain data, as saved in model files. */
export interface MLPConfig {
  nin: number;
  nouts: number[];
  activation: Activation;
  outputActivation: Activation;
  init: Init;
  seed?: number;
}

/** A multi-layer perceptron: `new MLP(2, [16, 16, 1])` has two hidden layers of 16 and one output. */
export class MLP extends Module {
  readonly layers: Layer[];
  readonly config: MLPConfig;

  constructor(nin: number, nouts: readonly number[], options: MLPOptions = {}) {
    super();
    const {
      activation = "relu",
      outputActivation = "linear",
      init = "uniform",
      seed,
    } = checkOptions("MLP", options, { activation: true, outputActivation: true, init: true, seed: true });
    checkCount("MLP", "nin", nin);
    if (!Array.isArray(nouts) || nouts.length === 0) {
      throw new TypeError(`MLP: nouts must be a non-empty array of layer sizes, got ${show(nouts)}`);
    }
    nouts.forEach((n, i) => {
      checkCount("MLP", `nouts[${i}]`, n);
    });
    checkActivation("MLP", activation);
    checkActivation("MLP", outputActivation);
    if (!INITS.includes(init))
      throw new TypeError(`MLP: unknown init "${init}"; expected ${INITS.join(", ")}`);
    this.config = { nin, nouts: [...nouts], activation, outputActivation, init, seed };

    const random = createRandom(seed);
    const sizes = [nin, ...nouts];
    this.layers = nouts.map((nout, i) => {
      const isLast = i === nouts.length - 1;
      return new Layer(
        sizes[i],
        nout,
        isLast ? outputActivation : activation,
        initializer(init, sizes[i], nout, random),
      );
    });
  }

  get nin(): number {
    return this.config.nin;
  }

  get nout(): number {
    return this.config.nouts[this.config.nouts.length - 1];
  }

  /** One Value per output neuron. */
  forward(x: readonly Operand[]): Value[] {
    checkInput("MLP", x, this.nin);
    let h: readonly Operand[] = x;
    for (const layer of this.layers) h = layer.forward(h);
    return h as Value[];
  }

  /** Layer by layer, neuron by neuron: each neuron's weights in input order, then its bias. */
  parameters(): Value[] {
    return this.layers.flatMap((l) => l.parameters());
  }

  override toString(): string {
    return `MLP of [${this.layers.join(", ")}]`;
  }
}

function uniform(random: Random, limit = 1): () => number {
  return () => (random() * 2 - 1) * limit;
}

function initializer(init: Init, nin: number, nout: number, random: Random): () => number {
  switch (init) {
    case "uniform":
      return uniform(random);
    case "xavier":
      return uniform(random, Math.sqrt(6 / (nin + nout)));
    case "he": {
      const std = Math.sqrt(2 / nin);
      return () => gaussian(random) * std;
    }
  }
}

function checkCount(where: string, name: string, n: unknown): void {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
    throw new TypeError(`${where}: ${name} must be a positive integer, got ${show(n)}`);
  }
}

function checkActivation(where: string, activation: unknown): void {
  if (!ACTIVATIONS.includes(activation as Activation)) {
    throw new TypeError(
      `${where}: unknown activation ${show(activation)}; expected ${ACTIVATIONS.join(", ")}`,
    );
  }
}

function checkInput(where: string, x: readonly Operand[], nin: number): void {
  // show(), not String(): a Value inside a compiled trace refuses to become a string.
  if (!Array.isArray(x)) throw new TypeError(`${where}.forward: input must be an array, got ${show(x)}`);
  if (x.length !== nin) {
    throw new RangeError(`${where}.forward: input has length ${x.length}, expected ${nin}`);
  }
  for (let i = 0; i < nin; i++) {
    const xi = x[i];
    if (!(xi instanceof Value) && !(typeof xi === "number" && Number.isFinite(xi))) {
      throw new TypeError(
        `${where}.forward: input[${i}] is ${show(xi)}, expected a finite number or a Value`,
      );
    }
  }
}

// ---- sizes, before anything is built ----------------------------------------------------------
// Counted from how this file and losses.ts build the graph (test/limits.test.ts checks them against
// real graphs): the command line refuses a network too large for memory before allocating it.

export interface NetworkShape {
  /** Inputs, then the outputs of every layer: [2, 16, 16, 1]. */
  sizes: readonly number[];
  activation: Activation;
  outputActivation?: Activation;
}

export function parameterCount(sizes: readonly number[]): number {
  let total = 0;
  for (let l = 1; l < sizes.length; l++) total += (sizes[l - 1] + 1) * sizes[l];
  return total;
}

/**
 * How many Values one step of `fit` creates: the parameters, every sample's forward pass (a
 * product per weight, a sum and an activation per neuron), the loss and the L2 penalty.
 * Counted from how this file and losses.ts build them.
 */
export function stepGraphSize(shape: NetworkShape, batch: number, loss: LossName, l2: boolean): number {
  const { sizes, activation, outputActivation = "linear" } = shape;
  const parameters = parameterCount(sizes);
  let forward = 0;
  for (let l = 1; l < sizes.length; l++) {
    const isLast = l === sizes.length - 1;
    const activated = (isLast ? outputActivation : activation) !== "linear";
    forward += sizes[l] * (sizes[l - 1] + 1 + (activated ? 1 : 0));
  }
  const k = sizes[sizes.length - 1];
  const perSample =
    loss === "softmax"
      ? 2 * k + 4
      : loss === "hinge"
        ? k === 1
          ? 3
          : 3 * (k - 1) + 1
        : (loss === "mse" ? 2 : 3) * k;
  return parameters + batch * (forward + perSample) + 2 + (l2 ? parameters + 3 : 0);
}
