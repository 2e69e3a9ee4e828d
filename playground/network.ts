// The network diagram: one column of neurons per layer, one line per weight, coloured by the
// weight's sign and as wide as its size. The elements are built once per architecture and only
// their attributes change with each snapshot.
import type { LayerWeights } from "./protocol.js";

const SVG = "http://www.w3.org/2000/svg";
const POSITIVE = "#0072B2";
const NEGATIVE = "#D55E00";
const WIDTH = 360;
const HEIGHT = 260;

export interface NeuronRef {
  /** Index of the weight layer the neuron belongs to (0 = first hidden layer). */
  layer: number;
  index: number;
}

function element<K extends keyof SVGElementTagNameMap>(
  name: K,
  attributes: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

export class NetworkDiagram {
  private shape = "";
  private edges: SVGLineElement[][] = [];
  private neurons: SVGCircleElement[][] = [];
  private selected: NeuronRef | null = null;

  constructor(
    private readonly svg: SVGSVGElement,
    private readonly onSelect: (neuron: NeuronRef) => void,
  ) {}

  /** Name of a neuron as the graph view labels it: h1[3] for hidden layers, out[1] for outputs. */
  static neuronName(layers: readonly LayerWeights[], neuron: NeuronRef): string {
    const output = neuron.layer === layers.length - 1;
    return output ? `out[${neuron.index + 1}]` : `h${neuron.layer + 1}[${neuron.index + 1}]`;
  }

  update(layers: readonly LayerWeights[]): void {
    const sizes = [layers[0].nin, ...layers.map((l) => l.nout)];
    const shape = sizes.join("-");
    if (shape !== this.shape) this.build(sizes);
    let largest = 1e-9;
    for (const layer of layers) for (const w of layer.W) largest = Math.max(largest, Math.abs(w));
    layers.forEach((layer, l) => {
      const lines = this.edges[l];
      for (let k = 0; k < lines.length; k++) {
        const w = layer.W[k];
        const size = Math.abs(w) / largest;
        const line = lines[k];
        line.setAttribute("stroke", w >= 0 ? POSITIVE : NEGATIVE);
        line.setAttribute("stroke-width", (0.25 + 3.25 * size).toFixed(2));
        line.setAttribute("stroke-opacity", (0.2 + 0.75 * size).toFixed(2));
      }
    });
  }

  select(neuron: NeuronRef | null): void {
    this.selected = neuron;
    this.neurons.forEach((column, l) => {
      column.forEach((circle, i) => {
        const on = neuron !== null && l === neuron.layer + 1 && i === neuron.index;
        circle.classList.toggle("selected", on);
      });
    });
  }

  private build(sizes: number[]): void {
    this.shape = sizes.join("-");
    this.svg.replaceChildren();
    const left = 26;
    const right = WIDTH - 26;
    const top = 14;
    const bottom = HEIGHT - 30;
    const columnX = (l: number) => left + (l * (right - left)) / (sizes.length - 1);
    const largest = sizes.reduce((a, b) => Math.max(a, b), 1);
    const spacing = Math.min(26, (bottom - top) / Math.max(largest - 1, 1));
    const radius = Math.max(2.5, Math.min(8, spacing * 0.38));
    const neuronY = (l: number, i: number) => (top + bottom) / 2 + (i - (sizes[l] - 1) / 2) * spacing;

    const edgeGroup = element("g", { class: "edges" });
    const neuronGroup = element("g", { class: "neurons" });
    this.svg.append(edgeGroup, neuronGroup);
    this.edges = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const lines: SVGLineElement[] = [];
      for (let j = 0; j < sizes[l + 1]; j++) {
        for (let i = 0; i < sizes[l]; i++) {
          const line = element("line", {
            x1: columnX(l),
            y1: neuronY(l, i),
            x2: columnX(l + 1),
            y2: neuronY(l + 1, j),
          });
          edgeGroup.append(line);
          lines.push(line);
        }
      }
      this.edges.push(lines);
    }
    this.neurons = sizes.map((size, l) => {
      const circles: SVGCircleElement[] = [];
      for (let i = 0; i < size; i++) {
        const circle = element("circle", { cx: columnX(l), cy: neuronY(l, i), r: radius });
        if (l === 0) {
          circle.setAttribute("class", "input");
        } else {
          const ref = { layer: l - 1, index: i };
          circle.setAttribute("class", "neuron");
          circle.dataset.layer = String(ref.layer);
          circle.dataset.index = String(ref.index);
          circle.setAttribute("tabindex", "0");
          circle.setAttribute("role", "button");
          const name = l === sizes.length - 1 ? `output ${i + 1}` : `hidden layer ${l}, neuron ${i + 1}`;
          circle.setAttribute("aria-label", name);
          const title = element("title", {});
          title.textContent = `${name}: click for its computation graph`;
          circle.append(title);
          circle.addEventListener("click", () => this.onSelect(ref));
          circle.addEventListener("keydown", (event) => {
            if (event.key === "Enter" || event.key === " ") {
              event.preventDefault();
              this.onSelect(ref);
            }
          });
        }
        neuronGroup.append(circle);
        circles.push(circle);
      }
      const caption = element("text", { x: columnX(l), y: HEIGHT - 10, class: "caption" });
      caption.textContent = l === 0 ? "x₁, x₂" : l === sizes.length - 1 ? "output" : `${size}`;
      neuronGroup.append(caption);
      return circles;
    });
    this.select(this.selected);
  }
}
