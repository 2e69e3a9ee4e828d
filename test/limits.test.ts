// The size estimates behind `micrograd train --max-params / --max-graph`, against real graphs.
import { describe, expect, it } from "vitest";
import { checkGPTSizes, checkSizes } from "../src/cli/limits.js";
import { makeMoons } from "../src/data.js";
import { GPT, gptParameterCount, gptStepGraphSize } from "../src/gpt.js";
import { classificationLoss, type LossName, l2Penalty } from "../src/losses.js";
import { type Activation, MLP, parameterCount, stepGraphSize } from "../src/nn.js";
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
