// The pictures: DOT and SVG of computation graphs, decision boundaries, training curves, PNG and GIF files.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import {
  classificationLoss,
  l2Penalty,
  MLP,
  makeMoons,
  makeSpiral,
  predict,
  scores,
  fit as train,
  Value,
} from "../src/index.js";
import {
  BoundaryAnimation,
  svgToPng,
  writeGraphPicture,
  writeTrainingPictures,
} from "../src/node/pictures.js";
import { decimate } from "../src/viz/curves.js";
import { formatNumber } from "../src/viz/dot.js";
import { decisionBoundarySvg, renderGraph, toDot, trainingCurvesSvg } from "../src/viz/index.js";

/** The expression of the first micrograd lecture, after backward. */
function lectureExpression(): Value {
  const a = new Value(2, "a");
  const b = new Value(-3, "b");
  const c = new Value(10, "c");
  const e = a.mul(b).named("e");
  const d = e.add(c).named("d");
  const f = new Value(-2, "f");
  const L = d.mul(f).named("L");
  L.backward();
  return L;
}

/** Graphviz writes minus signs as &#45; in SVG text. */
const plain = (svg: string) => svg.replaceAll("&#45;", "-");
const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;

describe("toDot", () => {
  it("draws one record per value with its label, data and grad, and one node per operation", () => {
    const dot = toDot(lectureExpression());
    expect(dot).toMatch(/^digraph micrograd \{/);
    expect(dot).toContain("rankdir=LR;");
    expect(count(dot, /shape=record/g)).toBe(7);
    expect(count(dot, /shape=ellipse/g)).toBe(3);
    for (const [label, data, grad] of [
      ["a", "2.000", "6.000"],
      ["b", "-3.000", "-4.000"],
      ["c", "10.00", "-2.000"],
      ["e", "-6.000", "-2.000"],
      ["d", "4.000", "-2.000"],
      ["f", "-2.000", "4.000"],
      ["L", "-8.000", "1.000"],
    ]) {
      expect(dot).toContain(`label="{ ${label} | data ${data} | grad ${grad} }"`);
    }
    // Each operation has one edge out (to its result) and one in per Value input.
    expect(count(dot, /->/g)).toBe(3 + 6);
  });

  it("folds constants into the operation and names the second input of non-commutative operations", () => {
    const x = new Value(3, "x");
    const y = new Value(0.5, "y");
    const dot = toDot(x.mul(2).sub(y).pow(2));
    expect(dot).toContain('label="* 2"');
    expect(dot).toContain('label="^ 2"');
    expect(dot).toMatch(/v\d+ -> v\d+op \[label="minus"\]/);
  });

  it("escapes the characters that mean something in record labels", () => {
    const dot = toDot(new Value(1, 'a|b"<x>{y}\\'));
    expect(dot).toContain('label="{ a\\|b\\"\\<x\\>\\{y\\}\\\\ | data 1.000 | grad 0.000 }"');
  });

  it("lays out top to bottom on request", () => {
    const dot = toDot(lectureExpression(), { rankdir: "TB" });
    expect(dot).toContain("rankdir=TB;");
    expect(dot).toContain('label="a | data 2.000 | grad 6.000"');
  });

  it("with summarize: false, refuses a graph above maxNodes, saying how large it is and what to do", () => {
    let v = new Value(1);
    for (let i = 0; i < 600; i++) v = v.add(1);
    expect(() => toDot(v, { summarize: false })).toThrow(RangeError);
    expect(() => toDot(v, { summarize: false })).toThrow(
      /601 values, more than maxNodes \(500\).*summarize.*smaller expression.*maxNodes: 601/s,
    );
    expect(() => toDot(v, { maxNodes: 601, summarize: false })).not.toThrow();
    expect(() => toDot(v, { summarize: "yes" as never })).toThrow(/summarize must be "auto", true or false/);
  });

  it("walks a very deep graph without recursion, and summarises it to the values nearest the result", () => {
    let v = new Value(0.5, "x");
    for (let i = 0; i < 200_000; i++) v = v.mul(1);
    v.named("y");
    expect(() => toDot(v, { summarize: false })).toThrow(/200001 values/);
    const dot = toDot(v, { maxNodes: 40 });
    expect(dot).toContain('label="200,001 values, summarised: only the values nearest the result"');
    expect(boxes(dot)).toBeLessThanOrEqual(40);
    expect(count(dot, /shape=record/g)).toBe(39);
    expect(dot).toContain('label="{ y | data 0.5000 | grad 0.000 }"');
    expect(dot).not.toContain("{ x |");
    expect(count(dot, /label="… more of the graph, not drawn"/g)).toBe(1);
  });
});

/** Boxes in a DOT picture: values, neurons and the notes that stand for what is left out. */
const boxes = (dot: string) => count(dot, /shape=(record|box)/g);

/** The README's training step: moons 100, MLP 2-16-16-1, hinge + L2, after backward. */
function trainingLoss() {
  const data = makeMoons({ nSamples: 100, noise: 0.1, seed: 1 });
  const model = new MLP(2, [16, 16, 1], { seed: 1 });
  const outputs = data.X.map((x) => model.forward(x));
  const loss = classificationLoss("hinge", outputs, data.y).add(l2Penalty(model.parameters(), 1e-4));
  loss.backward();
  return { model, outputs, loss };
}

describe("toDot summaries of large graphs", () => {
  it("draws a training loss over a batch with one box per neuron, wide sums shortened", async () => {
    const { outputs, loss } = trainingLoss();
    const dot = toDot(loss);
    expect(dot).toMatch(/label="3\d,\d{3} values, summarised: one box per neuron; of more than 5 inputs/);
    expect(boxes(dot)).toBeLessThanOrEqual(60);
    // The loss itself, and the first sample's output neuron with its own data and grad.
    expect(dot).toContain(`label="{ data ${formatNumber(loss.data)} | grad 1.000 }"`);
    const first = outputs[0][0];
    expect(dot).toContain(
      `label="{ linear neuron (3 of 16 inputs) | data ${formatNumber(first.data)} | grad ${formatNumber(first.grad)} }"`,
    );
    // Three samples of the 100 (first two, last), each through 3 of 16 neurons of the last hidden
    // layer, each of those through the same 3 of the first layer's.
    expect(count(dot, /linear neuron/g)).toBe(3);
    expect(count(dot, /ReLU neuron \(3 of 16 inputs\)/g)).toBe(9);
    expect(count(dot, /ReLU neuron \(2 inputs\)/g)).toBe(9);
    expect(dot).toContain('label="… 97 more inputs"');
    // The L2 penalty's sum of 337 squares is no neuron (no bias): it is drawn as a sum.
    expect(dot).toContain('label="… 334 more inputs"');
    // The README's example, as written: the picture of a real loss.
    const svg = plain(await renderGraph(loss));
    expect(count(svg, /class="node"/g)).toBeGreaterThan(40);
    expect(svg).toContain("linear neuron (3 of 16 inputs)");
  });

  it("draws one box per neuron, and nothing shortened, when that fits", () => {
    const model = new MLP(3, [4, 4, 2], { seed: 2, activation: "tanh" });
    const x = [new Value(0.5, "x1"), new Value(-1, "x2"), new Value(2, "x3")];
    const [out] = model.forward(x);
    out.backward();
    const dot = toDot(out, { summarize: true });
    expect(count(dot, /tanh neuron \(3 inputs\)/g)).toBe(4);
    expect(count(dot, /tanh neuron \(4 inputs\)/g)).toBe(4);
    expect(count(dot, /linear neuron \(4 inputs\)/g)).toBe(1);
    expect(dot).toContain('label="{ x1 | data 0.5000 | grad ');
    // x1, x2, x3 into each first-layer neuron; every neuron into each of the next layer.
    expect(count(dot, /->/g)).toBe(3 * 4 + 4 * 4 + 4);
    // Weights and biases are inside their neurons: no other box.
    expect(boxes(dot)).toBe(3 + 4 + 4 + 1);
    // Each first-layer box shows its neuron's output.
    for (const neuron of model.layers[0].neurons) {
      const z = neuron.weights.reduce((sum, w, i) => sum + w.data * x[i].data, neuron.bias.data);
      expect(dot).toContain(`tanh neuron (3 inputs) | data ${formatNumber(Math.tanh(z))} | grad `);
    }
  });

  it("shortens a wide sum to its first two terms, a count of the rest, and its last", () => {
    const terms = Array.from({ length: 3000 }, (_, i) => new Value(i, `t${i}`));
    const total = Value.sum(terms);
    total.backward();
    const dot = toDot(total);
    expect(boxes(dot)).toBe(5);
    for (const name of ["t0", "t1", "t2999"]) expect(dot).toContain(`{ ${name} | data`);
    expect(dot).toContain('label="… 2997 more inputs"');
  });

  it("keeps a long chain of additions within maxNodes, and draws it in SVG", async () => {
    const x = new Value(1, "x");
    let v = x;
    for (let i = 0; i < 999; i++) v = v.add(x);
    v.backward();
    const dot = toDot(v, { maxNodes: 30 });
    // x is used all along the chain: it is drawn beside each use rather than once, far away.
    const copies = count(dot, /\{ x \| one value, drawn at each use \| data 1.000 \| grad 1000 \}/g);
    expect(copies).toBeGreaterThan(20);
    expect(boxes(dot) - copies).toBeLessThanOrEqual(30);
    const svg = await renderGraph(v, { maxNodes: 30 });
    expect(svg).toContain("more of the graph, not drawn");
  });

  it("draws a leaf used all along a long chain beside each use (x+x+…+x, 400 terms)", async () => {
    const x = new Value(1, "x");
    let v = x;
    for (let i = 0; i < 399; i++) v = v.add(x);
    v.backward();
    // Drawn once, x's 400 arrows across the picture took Graphviz over ten seconds to lay out.
    const svg = plain(await renderGraph(v));
    // 399 sums and their ovals, and x beside each of its 400 uses (the first sum is x + x).
    expect(count(svg, /class="node"/g)).toBe(399 + 399 + 400);
    expect(count(svg, />one value, drawn at each use</g)).toBe(400);
    expect(count(svg, />grad 400.0</g)).toBe(400);
  });
});

describe("renderGraph", () => {
  it("renders the graph as SVG with every value's data and grad", async () => {
    const svg = plain(await renderGraph(lectureExpression()));
    expect(svg).toMatch(/<svg[\s\S]*<\/svg>\s*$/);
    // No XML declaration: HTML (and nbconvert) take the text as it is.
    expect(svg).not.toContain("<?xml");
    for (const grad of ["6.000", "-4.000", "-2.000", "4.000", "1.000"]) expect(svg).toContain(`grad ${grad}`);
    expect(svg).toContain("data -8.000");
    expect(count(svg, /class="node"/g)).toBe(10);
  });

  it("shows an awkward label literally, as one field", async () => {
    const svg = await renderGraph(new Value(1, 'a|b"<x>').mul(2));
    expect(svg).toContain(">a|b&quot;&lt;x&gt;</text>");
  });
});

/** Width, height and RGBA pixels of a PNG as resvg writes it (8-bit RGBA, not interlaced). */
function decodePng(png: Uint8Array): { width: number; height: number; pixels: Uint8Array } {
  const bytes = Buffer.from(png);
  expect([...bytes.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  expect([bytes[24], bytes[25]]).toEqual([8, 6]);
  const chunks: Buffer[] = [];
  for (let at = 8; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    if (bytes.toString("latin1", at + 4, at + 8) === "IDAT")
      chunks.push(bytes.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(chunks));
  const stride = width * 4;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x];
      const left = x >= 4 ? pixels[y * stride + x - 4] : 0;
      const up = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const upLeft = x >= 4 && y > 0 ? pixels[(y - 1) * stride + x - 4] : 0;
      const p = left + up - upLeft;
      const paeth =
        Math.abs(p - left) <= Math.abs(p - up) && Math.abs(p - left) <= Math.abs(p - upLeft)
          ? left
          : Math.abs(p - up) <= Math.abs(p - upLeft)
            ? up
            : upLeft;
      const predictor = [0, left, up, (left + up) >> 1, paeth][filter];
      pixels[y * stride + x] = (value + predictor) & 255;
    }
  }
  return { width, height, pixels };
}

function distinctColors(pixels: Uint8Array): number {
  const colors = new Set<number>();
  for (let i = 0; i < pixels.length; i += 4)
    colors.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
  return colors.size;
}

describe("svgToPng", () => {
  it("writes a PNG of the requested width, with the picture in it", async () => {
    const svg = await renderGraph(lectureExpression());
    const png = decodePng(svgToPng(svg, { width: 400 }));
    expect(png.width).toBe(400);
    const [, w, h] = /viewBox="[\d.-]+ [\d.-]+ ([\d.]+) ([\d.]+)"/.exec(svg) ?? [];
    expect(png.height).toBeCloseTo((400 * Number(h)) / Number(w), -0.5);
    expect(distinctColors(png.pixels)).toBeGreaterThan(20);
  });

  it("draws text (a font is found)", () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40">' +
      '<text x="10" y="28" font-size="20" font-family="Helvetica, Arial, sans-serif">micrograd</text></svg>';
    const { pixels } = decodePng(svgToPng(svg));
    let dark = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i] < 100) dark++;
    expect(dark).toBeGreaterThan(200);
  });
});

// A small model trained a little: some points right, some wrong, so both kinds get drawn.
const moons = makeMoons({ nSamples: 60, noise: 0.2, seed: 3 });
const moonModel = new MLP(2, [8, 1], { seed: 3 });
const moonHistory = train(moonModel, moons, { steps: 15, lr: 0.1 }).history;
const spiral = makeSpiral({ nSamples: 60, nClasses: 3, noise: 0.05, seed: 4 });
const spiralModel = new MLP(2, [8, 3], { seed: 4 });
train(spiralModel, spiral, { optimizer: "adam", lr: 0.05, steps: 15 });

/**
 * Each grid cell's point of the plane and what the picture shows at the cell's centre: the
 * class, shade level and fill of the rectangle (a run of one shade in one row) covering it.
 */
function cellsOf(svg: string): { cls: string; level: number; fill: string; at: number[] }[] {
  const group =
    /<g class="cells"[^>]*data-resolution="(\d+)" data-x-range="(\S+) (\S+)" data-y-range="(\S+) (\S+)" data-plot="(\S+) (\S+) (\S+) (\S+)">/.exec(
      svg,
    );
  expect(group).not.toBeNull();
  const [n, xMin, xMax, yMin, yMax, left, top, right, bottom] = (group as RegExpExecArray)
    .slice(1)
    .map(Number);
  const runs = [
    ...svg.matchAll(
      /<path class="shade" data-class="(\d+)" data-level="(\d+)" fill="([^"]*)" d="([^"]*)"\/>/g,
    ),
  ].flatMap(([, cls, level, fill, d]) =>
    [...d.matchAll(/M([\d.]+),([\d.]+)h([\d.]+)v([\d.]+)h-[\d.]+z/g)].map((m) => {
      const [x, y, w, h] = m.slice(1).map(Number);
      return { cls, level: Number(level), fill, x, y, w, h };
    }),
  );
  return Array.from({ length: n * n }, (_, i) => {
    const [row, col] = [Math.floor(i / n), i % n];
    const cx = left + ((col + 0.5) / n) * (right - left);
    const cy = top + ((row + 0.5) / n) * (bottom - top);
    // The overlap of 0.4 px between neighbours never reaches a neighbour's centre.
    const covering = runs.filter((r) => r.x <= cx && cx < r.x + r.w && r.y <= cy && cy < r.y + r.h);
    expect(covering).toHaveLength(1);
    return {
      ...covering[0],
      at: [xMin + ((col + 0.5) / n) * (xMax - xMin), yMax - ((row + 0.5) / n) * (yMax - yMin)],
    };
  });
}

const rgb = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));

describe("decisionBoundarySvg", () => {
  const svg = decisionBoundarySvg(moonModel, moons, { resolution: 30 });

  it("draws every data point once, marking exactly the ones the model gets wrong", () => {
    const predicted = predict(moonModel, moons.X);
    const wrong = predicted.filter((c, i) => c !== moons.y[i]).length;
    expect(wrong).toBeGreaterThan(0);
    expect(count(svg, /class="point"/g)).toBe(moons.X.length);
    expect(count(svg, /class="point" data-class="1"/g)).toBe(moons.y.filter((c) => c === 1).length);
    expect(count(svg, /data-correct="false"/g)).toBe(wrong);
    expect(count(svg, /class="miss"/g)).toBe(wrong);
    expect(svg).toContain(`misclassified (${wrong})`);
    expect(svg).toContain(`accuracy ${Math.round((1 - wrong / moons.X.length) * 100)}%`);
  });

  it("colours each grid cell by the sign of the model's score there", () => {
    const cells = cellsOf(svg);
    expect(cells.length).toBe(900);
    const sample = cells.filter((_, i) => i % 47 === 0);
    expect(sample.length).toBeGreaterThanOrEqual(19);
    const modelScores = scores(
      moonModel,
      sample.map((c) => c.at),
    ).map((row) => row[0]);
    const signs = new Set(modelScores.map((s) => s > 0));
    expect(signs.size).toBe(2);
    sample.forEach((cell, k) => {
      const s = modelScores[k];
      expect(cell.cls).toBe(s > 0 ? "1" : "0");
      // 12 shades per side, deeper as |score| grows (tanh saturates it by about 2).
      expect(Math.abs(cell.level - Math.tanh(Math.abs(s)) * 12)).toBeLessThanOrEqual(1);
      // Class 1 is orange (more red than blue), class 0 blue (more blue than red).
      const [red, , blue] = rgb(cell.fill);
      expect(red > blue).toBe(s > 0);
    });
    const levels = new Set(cells.map((cell) => cell.level));
    expect(levels.size).toBeGreaterThan(4);
  });

  it("colours cells by the most likely class for a model with several outputs", () => {
    const picture = decisionBoundarySvg(spiralModel, spiral, { resolution: 20 });
    const sample = cellsOf(picture).filter((_, i) => i % 19 === 0);
    const modelScores = scores(
      spiralModel,
      sample.map((c) => c.at),
    );
    sample.forEach((cell, k) => {
      const best = modelScores[k].indexOf(Math.max(...modelScores[k]));
      expect(cell.cls).toBe(String(best));
    });
    expect(count(picture, /class="point"/g)).toBe(spiral.X.length);
    for (const k of [0, 1, 2]) expect(picture).toContain(`>class ${k}</text>`);
  });

  it("draws the background as a few shapes rather than one element per cell", () => {
    const picture = decisionBoundarySvg(moonModel, moons);
    const cells = cellsOf(picture);
    expect(cells).toHaveLength(60 * 60);
    const rectangles = count(picture, /z/g);
    expect(rectangles).toBeLessThan(cells.length / 3);
    expect(count(picture, /<path class="shade"/g)).toBeLessThanOrEqual(24);
    expect(picture.length).toBeLessThan(100_000);
  });

  it("names classes from the data set and draws the title it is given", () => {
    const named = { ...moons, classNames: ["lower <moon>", "upper"] };
    const picture = decisionBoundarySvg(moonModel, named, { title: "Moons & model", resolution: 10 });
    expect(picture).toContain("lower &#60;moon&#62;");
    expect(picture).toContain("Moons &#38; model");
  });

  it("refuses a model that does not take 2 inputs", () => {
    expect(() => decisionBoundarySvg(new MLP(3, [1]), moons)).toThrow(/2 inputs; this one has 3/);
  });
});

describe("trainingCurvesSvg", () => {
  it("draws loss and accuracy, with validation where it was measured", () => {
    const history = moonHistory.map((h, i) => ({
      ...h,
      ...(i % 5 === 4 ? { validationLoss: h.loss * 1.1, validationAccuracy: h.accuracy * 0.9 } : {}),
    }));
    const svg = trainingCurvesSvg(history);
    expect(count(svg, /class="panel"/g)).toBe(2);
    expect(count(svg, /<polyline class="series"/g)).toBe(4);
    const training = /data-series="training loss" points="([^"]*)"/.exec(svg)?.[1] ?? "";
    expect(training.split(" ").length).toBe(history.length);
    const validation = /data-series="validation accuracy" points="([^"]*)"/.exec(svg)?.[1] ?? "";
    expect(validation.split(" ").length).toBe(3);
    for (const label of ["loss", "accuracy", "step", "training loss", "validation accuracy", "100%"]) {
      expect(svg).toContain(`>${label}</text>`);
    }
  });

  it("draws no validation series when there is none, and refuses an empty history", () => {
    const svg = trainingCurvesSvg(moonHistory);
    expect(count(svg, /<polyline class="series"/g)).toBe(2);
    expect(svg).not.toContain("validation");
    expect(() => trainingCurvesSvg([])).toThrow(/history is empty/);
  });

  it("draws a history of 200,000 steps from a decimated series that keeps its spikes", () => {
    const n = 200_000;
    const spikeAt = 123_457;
    const history = Array.from({ length: n }, (_, i) => ({
      step: i + 1,
      loss: i + 1 === spikeAt ? 5 : 1 / (1 + i / 1000),
      accuracy: 0.5 + (0.5 * i) / n,
    }));
    const svg = trainingCurvesSvg(history, { width: 600 });
    const points = (/data-series="training loss" points="([^"]*)"/.exec(svg)?.[1] ?? "").split(" ");
    // At most four points per pixel column of the panel, first and last included.
    expect(points.length).toBeGreaterThan(500);
    expect(points.length).toBeLessThanOrEqual(4 * 600);
    const xy = points.map((p) => p.split(",").map(Number));
    const ys = xy.map(([, y]) => y);
    const top = Math.min(...ys);
    // The spike is the highest point (smallest y), at its step.
    const spike = xy[ys.indexOf(top)];
    const xOf = (step: number) => xy[0][0] + ((step - 1) / (n - 1)) * (xy[xy.length - 1][0] - xy[0][0]);
    expect(Math.abs(spike[0] - xOf(spikeAt))).toBeLessThan(0.02);
    expect(svg).toContain(">200000</text>");
  });
});

describe("decimate", () => {
  it("keeps each run's first, lowest, highest and last point, in order", () => {
    // Three runs of five: [5 1 9 3 6] [2 2 8 0 7] [4 4 4 4 4].
    const values = [5, 1, 9, 3, 6, 2, 2, 8, 0, 7, 4, 4, 4, 4, 4];
    expect(decimate(values, (v) => v, 4)).toEqual(values);
    const kept = decimate(
      values.map((v, i) => ({ i, v })),
      (p) => p.v,
      3,
    ).map((p) => p.i);
    expect(kept).toEqual([0, 1, 2, 4, 5, 7, 8, 9, 10, 14]);
  });
});

/** Frames and size of a GIF, read block by block. */
function readGif(gif: Uint8Array): {
  header: string;
  width: number;
  height: number;
  frames: number;
  controls: number;
} {
  const bytes = Buffer.from(gif);
  const header = bytes.toString("latin1", 0, 6);
  const width = bytes.readUInt16LE(6);
  const height = bytes.readUInt16LE(8);
  const tableSize = (flags: number) => (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
  const skipSubBlocks = (at: number) => {
    while (bytes[at] !== 0) at += bytes[at] + 1;
    return at + 1;
  };
  let at = 13 + tableSize(bytes[10]);
  let frames = 0;
  let controls = 0;
  while (bytes[at] !== 0x3b) {
    if (bytes[at] === 0x21) {
      if (bytes[at + 1] === 0xf9) controls++;
      at = skipSubBlocks(at + 2);
    } else if (bytes[at] === 0x2c) {
      frames++;
      at = skipSubBlocks(at + 10 + tableSize(bytes[at + 9]) + 1);
    } else {
      throw new Error(`unexpected GIF block 0x${bytes[at].toString(16)} at ${at}`);
    }
  }
  return { header, width, height, frames, controls };
}

describe("BoundaryAnimation", () => {
  it("makes an animated GIF with one frame per addFrame", () => {
    const animation = new BoundaryAnimation(moons, { width: 160, height: 150, resolution: 12 });
    animation.addFrame(moonModel, { step: 1, loss: 0.5, accuracy: 0.75 });
    animation.addFrame(moonModel, "second");
    animation.addFrame(moonModel);
    expect(animation.frameCount).toBe(3);
    const gif = readGif(animation.toGif());
    expect(gif).toEqual({ header: "GIF89a", width: 160, height: 150, frames: 3, controls: 3 });
  });

  it("refuses to make a GIF of no frames", () => {
    expect(() => new BoundaryAnimation(moons).toGif()).toThrow(/no frames/);
  });
});

describe("picture files", () => {
  const dir = mkdtempSync(join(tmpdir(), "micrograd-viz-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes the pictures of a training run", async () => {
    const animation = new BoundaryAnimation(moons, { width: 160, height: 150, resolution: 10 });
    animation.addFrame(moonModel);
    const written = await writeTrainingPictures(dir, {
      model: moonModel,
      data: moons,
      history: moonHistory,
      animation,
      title: "moons",
    });
    expect(written.map((p) => p.slice(dir.length + 1))).toEqual([
      "boundary.svg",
      "boundary.png",
      "curves.svg",
      "curves.png",
      "training.gif",
    ]);
    expect(readFileSync(join(dir, "boundary.svg"), "utf8")).toContain(">moons · accuracy");
    expect(readFileSync(join(dir, "curves.svg"), "utf8")).toContain(">moons</text>");
    expect(decodePng(readFileSync(join(dir, "curves.png"))).width).toBe(1120);
    expect(readFileSync(join(dir, "training.gif")).toString("latin1", 0, 6)).toBe("GIF89a");
  });

  it("writes no boundary without 2-D data", async () => {
    const written = await writeTrainingPictures(join(dir, "no-data"), {
      model: moonModel,
      history: moonHistory,
    });
    expect(written.map((p) => p.split("/").pop())).toEqual(["curves.svg", "curves.png"]);
  });

  it("writes a graph as .dot, .svg or .png by the extension", async () => {
    const root = lectureExpression();
    await writeGraphPicture(join(dir, "g.dot"), root);
    await writeGraphPicture(join(dir, "g.svg"), root);
    await writeGraphPicture(join(dir, "g.png"), root);
    expect(readFileSync(join(dir, "g.dot"), "utf8")).toMatch(/^digraph/);
    expect(readFileSync(join(dir, "g.svg"), "utf8")).toContain("<svg");
    expect(distinctColors(decodePng(readFileSync(join(dir, "g.png"))).pixels)).toBeGreaterThan(20);
    await expect(writeGraphPicture(join(dir, "g.jpg"), root)).rejects.toThrow(/\.svg, \.png or \.dot/);
  });
});

describe("layering", () => {
  it("keeps the core free of viz and the plots free of Node built-ins", () => {
    const core = readFileSync(new URL("../src/index.ts", import.meta.url), "utf8");
    expect(core).not.toMatch(/viz/);
    for (const file of [
      "dot.ts",
      "graph.ts",
      "plots.ts",
      "boundary.ts",
      "contour.ts",
      "curves.ts",
      "index.ts",
    ]) {
      const source = readFileSync(new URL(`../src/viz/${file}`, import.meta.url), "utf8");
      expect(source).not.toMatch(/from "node:|\/node\//);
    }
  });
});

describe("the GPT's loss curve", () => {
  it("draws a run of 300,000 steps (no spread of the losses) with the axis following the average", async () => {
    const { lossCurveSvg } = await import("../src/viz/attention.js");
    const losses = Array.from({ length: 300_000 }, (_, i) => 3.3 - i / 300_000 + ((i * 7919) % 13) / 26);
    const svg = lossCurveSvg(losses, { baselines: [{ label: "bigram", value: 2.46 }] });
    expect(svg).toContain('data-series="raw"');
    const points = /data-series="raw" points="([^"]*)"/.exec(svg)?.[1].split(" ") ?? [];
    expect(points.length).toBeGreaterThan(100);
    expect(points.length).toBeLessThan(2000);
  });
});
