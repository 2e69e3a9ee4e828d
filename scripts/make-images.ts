// Regenerates the pictures in docs/images/ that the README shows: the moons demo's decision boundary,
// its training curves and animation, and the graph of one tanh neuron. Run: npx tsx scripts/make-images.ts
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DEMO_FIT, demoSetup } from "../src/cli/demo.js";
import { Neuron, fit as train, Value } from "../src/index.js";
import { BoundaryAnimation, svgToPng, writeFileAtomic, writeGraphPicture } from "../src/node.js";
import { decisionBoundarySvg, trainingCurvesSvg } from "../src/viz/index.js";

const dir = join(import.meta.dirname, "..", "docs", "images");
mkdirSync(dir, { recursive: true });

const { data, model } = demoSetup();
const animation = new BoundaryAnimation(data);
animation.addFrame(model, "before training");
const { history } = train(model, data, {
  ...DEMO_FIT,
  onStep: (record) => {
    if ((record.step + 1) % 4 === 0) animation.addFrame(model, { ...record, step: record.step + 1 });
    return undefined;
  },
});
const title = "moons: MLP 2-16-16-1";
writeFileAtomic(join(dir, "boundary.png"), svgToPng(decisionBoundarySvg(model, data), { scale: 1.5 }));
writeFileAtomic(join(dir, "curves.png"), svgToPng(trainingCurvesSvg(history, { title }), { scale: 1.5 }));
writeFileAtomic(join(dir, "training.gif"), animation.toGif());

// One neuron, o = tanh(x1·w1 + x2·w2 + b), with the numbers of the first micrograd lecture.
const neuron = new Neuron(2, "tanh");
const names = ["w1", "w2"];
[-3, 1].forEach((w, i) => {
  neuron.weights[i].data = w;
  neuron.weights[i].label = names[i];
});
neuron.bias.data = 6.881373587019543;
neuron.bias.label = "b";
const o = neuron.forward([new Value(2, "x1"), new Value(0, "x2")]).named("o");
o.backward();
await writeGraphPicture(join(dir, "graph.png"), o);

console.log(
  `wrote boundary.png, curves.png, training.gif (${animation.frameCount} frames), graph.png to ${dir}`,
);
