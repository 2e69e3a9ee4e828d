// What the three engines of the benchmark share: the batch and loss they are given, the weights
// they start from, and the one interface through which the workloads drive them.
import type { MLP } from "../src/index.js";

/** Samples and their class indices (0..K-1), as the data sets give them. */
export interface Batch {
  X: number[][];
  y: number[];
}

/**
 * The loss being minimized. `hinge`: one output, labels ±1 from classes 0/1, mean of
 * max(0, 1 - y·score) plus l2·Σp² over every parameter. `softmax`: K outputs, mean
 * softmax cross-entropy.
 */
export type LossSpec = { kind: "hinge"; l2: number } | { kind: "softmax" };

/**
 * An MLP's parameters as plain arrays: for each layer, W holds one row of `nin` weights
 * per neuron (row-major, nout × nin) and b one bias per neuron. Hidden layers use ReLU,
 * the last layer is linear, as in every benchmark workload.
 */
export interface Weights {
  sizes: number[];
  layers: { W: Float64Array; b: Float64Array }[];
}

export interface LossAndGradients {
  loss: number;
  /** d(loss)/d(parameter), in the order of `MLP.parameters()`. */
  gradients: Float64Array;
}

/**
 * How parameters are updated. `sgd`: p -= lr(step) · dL/dp, the rate following a schedule
 * over the steps (0-based). `adam`: Adam with bias correction, as torch.optim.Adam and
 * this library's Adam.
 */
export type OptimizerSpec =
  | { kind: "sgd"; lr: (step: number) => number }
  | { kind: "adam"; lr: number; beta1: number; beta2: number; eps: number };

/** One way of training: this engine, TensorFlow.js, or hand-written loops. */
export interface Engine<Prepared> {
  readonly name: string;
  /** Converts a batch to the engine's own format; not timed, as a user would do it once. */
  prepare(batch: Batch): Prepared;
  /** The loss at the current weights and its gradients, leaving the weights as they are. */
  lossAndGradients(batch: Prepared): LossAndGradients;
  /** One optimizer step on this batch; returns the loss before the update. */
  step(batch: Prepared): number;
  /** Compiled engines: records the step for this batch's shape (timed apart from the steps). */
  trace?(batch: Prepared): void;
  /** The current parameters, converted to float64. */
  weights(): Weights;
  /** Frees what a prepared batch holds (TensorFlow.js tensors). */
  release(batch: Prepared): void;
  /** Frees what the engine holds; the engine is unusable afterwards. */
  dispose(): void;
}

/** Copies an MLP's parameters, so that every engine starts from the same numbers. */
export function weightsOf(model: MLP): Weights {
  const sizes = [model.nin, ...model.config.nouts];
  const layers = model.layers.map((layer) => {
    const nin = layer.nin;
    const W = new Float64Array(layer.nout * nin);
    const b = new Float64Array(layer.nout);
    layer.neurons.forEach((neuron, j) => {
      for (let i = 0; i < nin; i++) W[j * nin + i] = neuron.weights[i].data;
      b[j] = neuron.bias.data;
    });
    return { W, b };
  });
  return { sizes, layers };
}

export function parameterCount(sizes: readonly number[]): number {
  let count = 0;
  for (let l = 1; l < sizes.length; l++) count += (sizes[l - 1] + 1) * sizes[l];
  return count;
}

/** Weights flattened in `MLP.parameters()` order: per neuron its weights, then its bias. */
export function flatten(weights: Weights): Float64Array {
  const flat = new Float64Array(parameterCount(weights.sizes));
  let k = 0;
  weights.layers.forEach(({ W, b }, l) => {
    const nin = weights.sizes[l];
    for (let j = 0; j < b.length; j++) {
      flat.set(W.subarray(j * nin, (j + 1) * nin), k);
      k += nin;
      flat[k++] = b[j];
    }
  });
  return flat;
}

/** The class each sample gets from these weights: score > 0 with one output, argmax with more. */
export function predictClasses(weights: Weights, X: readonly (readonly number[])[]): number[] {
  return X.map((x) => {
    let h = Float64Array.from(x);
    weights.layers.forEach(({ W, b }, l) => {
      const nin = weights.sizes[l];
      const isLast = l === weights.layers.length - 1;
      const out = new Float64Array(b.length);
      for (let j = 0; j < b.length; j++) {
        let z = 0;
        for (let i = 0; i < nin; i++) z += W[j * nin + i] * h[i];
        z += b[j];
        out[j] = isLast ? z : Math.max(z, 0);
      }
      h = out;
    });
    if (h.length === 1) return h[0] > 0 ? 1 : 0;
    let best = 0;
    for (let k = 1; k < h.length; k++) if (h[k] > h[best]) best = k;
    return best;
  });
}

export function accuracyOf(weights: Weights, batch: Batch): number {
  const predicted = predictClasses(weights, batch.X);
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === batch.y[i]) correct++;
  return correct / predicted.length;
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new RangeError("median of no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
