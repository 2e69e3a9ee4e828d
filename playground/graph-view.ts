// One neuron's computation, rebuilt from the worker's weights with the library's own Neuron
// and Values, so that backward() fills in real gradients, then drawn by Graphviz.
import { Neuron, Value } from "../src/index.js";
import { renderGraph } from "../src/viz/graph.js";
import { NetworkDiagram, type NeuronRef } from "./network.js";
import { forwardAll } from "./numeric.js";
import type { LayerWeights } from "./protocol.js";

export interface NeuronGraph {
  output: Value;
  /** What the neuron computes, in words, for the caption. */
  formula: string;
}

/**
 * The forward pass of one neuron at input `x`: its inputs are the previous layer's outputs
 * (computed from the same weights, entering as plain leaves), then w·input + b and the
 * activation. backward() has run, so every node's grad is d(neuron's output)/d(node).
 */
export function neuronGraph(
  layers: readonly LayerWeights[],
  ref: NeuronRef,
  x: readonly number[],
): NeuronGraph {
  const layer = layers[ref.layer];
  const inputs = forwardAll(layers, x)[ref.layer];
  const neuron = new Neuron(layer.nin, layer.activation);
  neuron.weights.forEach((w, i) => {
    w.data = layer.W[ref.index * layer.nin + i];
    w.label = `w${i + 1}`;
  });
  neuron.bias.data = layer.b[ref.index];
  neuron.bias.label = "b";
  const inputName = (i: number) => (ref.layer === 0 ? `x${i + 1}` : `h${ref.layer}[${i + 1}]`);
  const values = Array.from(inputs, (v, i) => new Value(v, inputName(i)));
  const name = NetworkDiagram.neuronName(layers, ref);
  const output = neuron.forward(values).named(name);
  output.backward();
  const activation = layer.activation === "linear" ? "" : layer.activation;
  const sum = `Σ wᵢ·${ref.layer === 0 ? "xᵢ" : `h${ref.layer}[i]`} + b`;
  return { output, formula: `${name} = ${activation ? `${activation}(${sum})` : sum}` };
}

/** The weighted sum w·input + b of the neuron at input `x`, before its activation. */
export function preActivation(layers: readonly LayerWeights[], ref: NeuronRef, x: readonly number[]): number {
  const layer = layers[ref.layer];
  const inputs = forwardAll(layers, x)[ref.layer];
  let z = layer.b[ref.index];
  for (let i = 0; i < layer.nin; i++) z += layer.W[ref.index * layer.nin + i] * inputs[i];
  return z;
}

/**
 * A point where a ReLU neuron is on (its sum is > 0), so that gradients flow through it;
 * at the others its output and every gradient are 0, a fine lesson but a dull first picture.
 */
export function firstActivePoint(
  layers: readonly LayerWeights[],
  ref: NeuronRef,
  points: Float32Array,
): number | null {
  const activation = layers[ref.layer].activation;
  if (activation !== "relu") return null;
  for (let i = 0; 2 * i < points.length; i++) {
    if (preActivation(layers, ref, [points[2 * i], points[2 * i + 1]]) > 0) return i;
  }
  return null;
}

/** SVG text of the neuron's graph (Graphviz's WebAssembly is loaded on the first call). */
export function renderNeuronGraph(graph: NeuronGraph): Promise<string> {
  return renderGraph(graph.output, { rankdir: "LR" });
}
