// The size estimates behind `micrograd train --max-params / --max-graph`, against real graphs.
import { describe, expect, it } from "vitest";
import { loadTrainingData } from "../src/cli/gpt-data.js";
import {
  checkGPTSizes,
  checkSizes,
  EAGER_DOCUMENTS_AT_PEAK,
  gptDocumentsAtPeak,
  MAX_GRAPH,
} from "../src/cli/limits.js";
import { makeMoons } from "../src/data.js";
import { Value } from "../src/engine.js";
import { GPT, gptParameterCount, gptStepGraphSize } from "../src/gpt.js";
import { classificationLoss, type LossName, l2Penalty } from "../src/losses.js";
import { type Activation, MLP, parameterCount, stepGraphSize } from "../src/nn.js";
import { createRandom, gaussian } from "../src/random.js";
import { classifierLoss } from "../src/train.js";
import { countValues } from "../src/viz/dot.js";

describe("stepGraphSize", () => {
  const data = makeMoons({ nSamples: 30, seed: 1 });
  const cases: [number[], LossName, Activation, boolean][] = [
    [[2, 8, 1], "hinge", "relu", true],
    [[2, 8, 1], "mse", "tanh", false],
    [[2, 8, 1], "bce", "relu", true],
    [[2, 6, 5, 3], "hinge", "linear", true],
    [[2, 5, 3], "mse", "relu", false],
    [[2, 5, 3], "bce", "sigmoid", true],
    [[2, 4, 4], "softmax", "leakyRelu", true],
  ];
  it.each(cases)("%j %s %s, l2 %s: the count of a real step's graph", (sizes, loss, activation, l2) => {
    const model = new MLP(2, sizes.slice(1), { activation, seed: 1 });
    const k = sizes[sizes.length - 1];
    const classes = data.y.map((c, i) => (k === 1 ? c : (c + i) % k));
    const outputs = data.X.map((x) => model.forward(x));
    let total = classificationLoss(loss, outputs, classes);
    if (l2) total = total.add(l2Penalty(model.parameters(), 1e-4));
    const estimate = stepGraphSize({ sizes, activation }, data.X.length, loss, l2);
    if (loss === "softmax") {
      // The softmax loss's own nodes may change with the engine; the network's dominate.
      expect(Math.abs(estimate - countValues(total)) / countValues(total)).toBeLessThan(0.25);
    } else {
      expect(estimate).toBe(countValues(total));
    }
    expect(parameterCount(sizes)).toBe(model.parameters().length);
  });

  it("refuses with the size and what to change", () => {
    const shape = { sizes: [64, 4096, 10], activation: "relu" as const };
    expect(() => checkSizes(shape, 1437, "softmax", true, { maxParams: 1e6, maxGraph: 1e7 })).toThrow(
      /a training step of an MLP 64-4096-10 on 1,437 samples builds about 447,995,635 values \(about 103 GB of memory\), more than --max-graph 10,000,000; use --batch-size 16 or smaller hidden layers/,
    );
    expect(() => checkSizes(shape, 10, "softmax", true, { maxParams: 1e6, maxGraph: 1e7 })).not.toThrow();
    expect(() => checkSizes(shape, 10, "softmax", true, { maxParams: 1e5, maxGraph: 1e7 })).toThrow(
      "an MLP 64-4096-10 has 307,210 parameters, more than --max-params 100,000",
    );
  });
});

describe("gptStepGraphSize", () => {
  const shapes = [
    { vocabSize: 27, nLayer: 1, nEmbd: 16, nHead: 4, blockSize: 16 },
    { vocabSize: 5, nLayer: 2, nEmbd: 8, nHead: 2, blockSize: 6 },
    { vocabSize: 40, nLayer: 1, nEmbd: 12, nHead: 1, blockSize: 10 },
  ];
  it.each(shapes)("%j: at least a real step's graph, and within 5% of it", (shape) => {
    const gpt = new GPT({ ...shape, seed: 1 });
    expect(gptParameterCount(shape)).toBe(gpt.parameters().length);
    // A document longer than the block: every position is used, as in the worst case.
    const bos = shape.vocabSize - 1;
    const doc = [bos, ...Array.from({ length: shape.blockSize + 3 }, (_, i) => i % bos), bos];
    const one = countValues(gpt.loss(doc));
    const estimate = gptStepGraphSize(shape, 1);
    expect(estimate).toBeGreaterThanOrEqual(one);
    expect((estimate - one) / one).toBeLessThan(0.05);
    // Two documents held at once (two worker threads) share the parameters: the second adds only its own forward pass.
    const two = countValues(gpt.loss(doc).add(gpt.loss(doc)));
    expect(gptStepGraphSize(shape, 2)).toBeGreaterThanOrEqual(two);
    expect((gptStepGraphSize(shape, 2) - two) / two).toBeLessThan(0.05);
  });

  it("refuses with the size and what to change", () => {
    const shape = { vocabSize: 27, nLayer: 1, nEmbd: 64, nHead: 4, blockSize: 16 };
    const limits = { maxParams: 1e6, maxGraph: 1e7 };
    // One document at a time per thread, whatever the batch: many threads are what multiply it.
    expect(() => checkGPTSizes(shape, 100, limits)).toThrow(
      /a training step of a GPT of 1 layer, embd 64, block 16 holds 100 documents at a time \(one per worker\) and builds up to about [\d,]+ values \(about [\d.]+ GB of memory\), more than --max-graph 10,000,000; use fewer --workers, a smaller --embd or --block/,
    );
    expect(() => checkGPTSizes({ ...shape, nEmbd: 256, blockSize: 64 }, 1, limits)).toThrow(
      /embd 256, block 64 holds one document at a time and builds up to about [\d,]+ values/,
    );
    expect(() => checkGPTSizes(shape, 1, limits)).not.toThrow();
    expect(() => checkGPTSizes({ ...shape, nLayer: 30 }, 1, limits)).toThrow(
      "a GPT of 30 layers, embd 64, block 16 has 1,479,040 parameters, more than --max-params 1,000,000",
    );
  });
});

// The estimates against the graph an eager training step builds, as fit and trainGPT build it,
// for shapes drawn at random: what --max-graph multiplies by its bytes per value. The bytes
// themselves vary with the collector from run to run; `npm run bench -- --only graph` measures them.
describe("the --max-graph estimate against an eager step's counted values", () => {
  const random = createRandom(23);
  const pick = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  const within2 = (estimate: number, counted: number) => {
    expect(estimate).toBeGreaterThanOrEqual(counted / 2);
    expect(estimate).toBeLessThanOrEqual(2 * counted);
  };

  it("fit's step of an MLP: its whole batch's graph, loss and penalty", () => {
    const losses: LossName[] = ["hinge", "mse", "bce", "softmax"];
    for (let trial = 0; trial < 8; trial++) {
      const loss = losses[trial % losses.length];
      const outputs = loss === "softmax" ? pick(2, 5) : loss === "hinge" ? pick(1, 3) : 1;
      const sizes = [pick(1, 6), ...Array.from({ length: pick(1, 2) }, () => pick(2, 12)), outputs];
      const batch = pick(1, 9);
      const l2 = trial % 2 === 0 ? 1e-4 : 0;
      const model = new MLP(sizes[0], sizes.slice(1), { seed: trial });
      const X = Array.from({ length: batch }, () => Array.from({ length: sizes[0] }, () => gaussian(random)));
      const classes = X.map((_, i) => i % Math.max(2, outputs));
      const [step] = classifierLoss(model, loss, l2)(X, classes);
      within2(stepGraphSize({ sizes, activation: "relu" }, batch, loss, l2 > 0), countValues(step));
    }
  });

  it("trainGPT's eager step: each document's graph, up to the documents the collector leaves", () => {
    for (let trial = 0; trial < 5; trial++) {
      const nHead = pick(1, 3);
      const config = {
        vocabSize: pick(3, 30),
        nLayer: pick(1, 2),
        nEmbd: nHead * pick(1, 4),
        nHead,
        blockSize: pick(2, 9),
      };
      const gpt = new GPT({ ...config, seed: trial });
      const batch = pick(1, 8);
      // Windows of running text, each as long as the block, weighted as trainGPT weights them.
      const held = gptDocumentsAtPeak({ eagerBatch: batch });
      const windows = Array.from({ length: held }, () =>
        Array.from({ length: config.blockSize + 1 }, () => pick(0, config.vocabSize - 1)),
      );
      const step = Value.sum(windows.map((w) => gpt.loss(w).mul(1 / batch)));
      within2(gptStepGraphSize(config, held), countValues(step));
    }
  });

  it("counts no more than four documents of an eager batch, and one per compiled thread", () => {
    expect(EAGER_DOCUMENTS_AT_PEAK).toBe(4);
    expect([1, 3, 4, 8, 32].map((eagerBatch) => gptDocumentsAtPeak({ eagerBatch }))).toEqual([1, 3, 4, 4, 4]);
    expect(gptDocumentsAtPeak({ threads: 2 })).toBe(2);
    const shape = { vocabSize: 27, nLayer: 1, nEmbd: 64, nHead: 4, blockSize: 16 };
    const oneDocument = gptStepGraphSize(shape, 1);
    const limits = { maxParams: 1e6, maxGraph: oneDocument + 10 };
    expect(() => checkGPTSizes(shape, 1, limits, 1)).not.toThrow();
    expect(() => checkGPTSizes(shape, 1, limits, 8)).toThrow(
      /holds the graphs of up to 4 documents at a time \(eager, the collector frees a batch's earlier graphs only as the heap grows\) and builds up to about [\d,]+ values .*; use a smaller --batch \(or drop --no-compile\), a smaller --embd or --block/,
    );
  });

  it("gpt train --no-compile is held to its batch's documents, compiled to its threads", () => {
    const plan = (compile: boolean) => ({
      text: false,
      heldOut: 0.1,
      splitSeed: 1,
      config: { nLayer: 2, nEmbd: 64, nHead: 4, blockSize: 16 },
      batchSize: 8,
      workers: 1,
      compile,
      limits: { maxParams: 1e6, maxGraph: MAX_GRAPH / 4 },
    });
    const io = { stdout: { write: () => true }, stderr: { write: () => true } };
    expect(loadTrainingData(plan(true), io).kind).toBe("documents");
    expect(() => loadTrainingData(plan(false), io)).toThrow(/up to 4 documents at a time \(eager/);
  });
});
