// The network's forward pass on plain numbers. Painting the decision boundary asks for
// thousands of forward passes 30 times a second; building a graph of Values for each would
// be a hundred times slower and is not needed, since nothing is differentiated there.
import { ACTIVATION_TABLE, type Activation, type MLP } from "../src/index.js";
import type { LayerWeights } from "./protocol.js";

/** Copies an MLP's parameters into flat arrays (the order of `model.parameters()`). */
export function layerWeights(model: MLP): LayerWeights[] {
  return model.layers.map((layer) => {
    const nin = layer.nin;
    const nout = layer.nout;
    const W = new Float64Array(nin * nout);
    const b = new Float64Array(nout);
    layer.neurons.forEach((neuron, j) => {
      for (let i = 0; i < nin; i++) W[j * nin + i] = neuron.weights[i].data;
      b[j] = neuron.bias.data;
    });
    return { nin, nout, activation: layer.activation, W, b };
  });
}

/** The activation's function on numbers, from the library's table. */
export function activateNumber(z: number, activation: Activation): number {
  return ACTIVATION_TABLE[activation].onNumber(z);
}

/** The outputs of every layer for input `x`: element 0 is `x` itself, the last is the scores. */
export function forwardAll(layers: readonly LayerWeights[], x: readonly number[]): Float64Array[] {
  const outputs = [Float64Array.from(x)];
  for (const layer of layers) {
    const input = outputs[outputs.length - 1];
    const output = new Float64Array(layer.nout);
    for (let j = 0; j < layer.nout; j++) {
      let z = layer.b[j];
      for (let i = 0; i < layer.nin; i++) z += layer.W[j * layer.nin + i] * input[i];
      output[j] = activateNumber(z, layer.activation);
    }
    outputs.push(output);
  }
  return outputs;
}

/**
 * A forward pass that allocates nothing: reuse one instance for a whole grid.
 * `run(x, y)` returns the scores in a buffer that the next call overwrites.
 */
export class Forward {
  private readonly buffers: Float64Array[];
  /** Each layer's activation on numbers, looked up once rather than per neuron. */
  private readonly activations: ((z: number) => number)[];

  constructor(private readonly layers: readonly LayerWeights[]) {
    this.buffers = [new Float64Array(2), ...layers.map((l) => new Float64Array(l.nout))];
    this.activations = layers.map((l) => ACTIVATION_TABLE[l.activation].onNumber);
  }

  run(x: number, y: number): Float64Array {
    const { layers, buffers, activations } = this;
    buffers[0][0] = x;
    buffers[0][1] = y;
    for (let l = 0; l < layers.length; l++) {
      const { nin, nout, W, b } = layers[l];
      const activate = activations[l];
      const input = buffers[l];
      const output = buffers[l + 1];
      for (let j = 0; j < nout; j++) {
        let z = b[j];
        const row = j * nin;
        for (let i = 0; i < nin; i++) z += W[row + i] * input[i];
        output[j] = activate(z);
      }
    }
    return buffers[layers.length];
  }
}

/** The class a row of scores votes for, as `predictedClass` in the library. */
export function classOf(scores: ArrayLike<number>): number {
  if (scores.length === 1) return scores[0] > 0 ? 1 : 0;
  let best = 0;
  for (let j = 1; j < scores.length; j++) if (scores[j] > scores[best]) best = j;
  return best;
}
