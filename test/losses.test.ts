// Each loss against values worked out by hand, its gradient against finite differences,
// and its behaviour at the extremes where a naive formula overflows.
import { describe, expect, it } from "vitest";
import { compile } from "../src/compile/index.js";
import { Value } from "../src/engine.js";
import { gradcheck } from "../src/gradcheck.js";
import {
  bceWithLogitsLoss,
  classificationLoss,
  hingeLoss,
  LOSS_NAMES,
  l2Penalty,
  mseLoss,
  multiclassHingeLoss,
  predictedClass,
  softmax,
  softmaxCrossEntropy,
} from "../src/losses.js";

const values = (xs: number[]) => xs.map((x) => new Value(x));

describe("hinge", () => {
  it("is the mean of max(0, 1 - y*s)", () => {
    // 1 - 1*2 = -1 → 0;  1 - (-1)(0.5) = 1.5;  1 - 1*(-1) = 2 → mean 3.5 / 3
    const loss = hingeLoss(values([2, 0.5, -1]), [1, -1, 1]);
    expect(loss.data).toBeCloseTo(3.5 / 3, 15);
  });

  it("sends gradient only through samples inside the margin", () => {
    const scores = values([2, 0.5, -1]);
    hingeLoss(scores, [1, -1, 1]).backward();
    expect(scores.map((s) => s.grad)).toEqual([0, 1 / 3, -1 / 3]);
  });

  it("rejects labels other than ±1", () => {
    expect(() => hingeLoss(values([1]), [0])).toThrow("hingeLoss: labels[0] is 0, expected 1 or -1");
  });

  it("multi-class: sums the margins of the wrong classes", () => {
    // scores [3, 1, 2.5], true 0: max(0, 1+1-3) + max(0, 1+2.5-3) = 0 + 0.5
    // scores [0, 0, 0], true 2: 1 + 1 = 2 → mean 1.25
    const loss = multiclassHingeLoss([values([3, 1, 2.5]), values([0, 0, 0])], [0, 2]);
    expect(loss.data).toBeCloseTo(1.25, 15);
  });
});

describe("mse", () => {
  it("is the mean of squared differences, gradient 2(p - t)/n", () => {
    const p = values([1, 2, 4]);
    const loss = mseLoss(p, [0, 2, 1]);
    expect(loss.data).toBeCloseTo((1 + 0 + 9) / 3, 15);
    loss.backward();
    expect(p.map((v) => v.grad)).toEqual([2 / 3, 0, 2]);
  });
});

describe("binary cross-entropy on logits", () => {
  it("matches -t log σ(z) - (1-t) log(1-σ(z))", () => {
    const z = [0.3, -1.2, 2];
    const t = [1, 0, 0.25];
    const sigma = (x: number) => 1 / (1 + Math.exp(-x));
    const expected =
      z.reduce((s, zi, i) => s - t[i] * Math.log(sigma(zi)) - (1 - t[i]) * Math.log(1 - sigma(zi)), 0) / 3;
    const logits = values(z);
    const loss = bceWithLogitsLoss(logits, t);
    expect(loss.data).toBeCloseTo(expected, 14);
    loss.backward();
    // d/dz = (σ(z) - t) / n
    for (const [i, v] of logits.entries()) expect(v.grad).toBeCloseTo((sigma(z[i]) - t[i]) / 3, 14);
  });

  it("stays finite for logits of ±1000", () => {
    const logits = values([1000, -1000]);
    const loss = bceWithLogitsLoss(logits, [0, 1]);
    expect(loss.data).toBeCloseTo(1000, 10);
    loss.backward();
    expect(logits.map((v) => v.grad)).toEqual([0.5, -0.5]);
    expect(bceWithLogitsLoss(values([1000, -1000]), [1, 0]).data).toBe(0);
  });
});

describe("softmax cross-entropy", () => {
  it("matches log Σ e^z - z_y and its gradient softmax - onehot", () => {
    const z = [1, 2, 0.5];
    const expected = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(0.5)) - 2;
    const logits = values(z);
    const loss = softmaxCrossEntropy([logits], [1]);
    expect(loss.data).toBeCloseTo(expected, 14);
    loss.backward();
    const p = softmax(z);
    for (const [j, v] of logits.entries()) expect(v.grad).toBeCloseTo(p[j] - (j === 1 ? 1 : 0), 14);
  });

  it("does not overflow for logits in the thousands", () => {
    const loss = softmaxCrossEntropy([values([1000, 1001, 999])], [0]);
    // log(e^1000 + e^1001 + e^999) - 1000 = 1 + log(1 + e^-1 + e^-2)
    const expected = 1 + Math.log(1 + Math.exp(-1) + Math.exp(-2));
    expect(loss.data).toBeCloseTo(expected, 12);
  });

  it("passes a finite-difference check on a batch", () => {
    const result = gradcheck(
      (a, b, c, d, e, f) =>
        softmaxCrossEntropy(
          [
            [a, b, c],
            [d, e, f],
          ],
          [2, 0],
        ),
      [0.1, -0.4, 0.7, 1.5, 0.2, -2],
    );
    expect(result.failures).toEqual([]);
  });

  it("names a class that is out of range", () => {
    expect(() => softmaxCrossEntropy([values([1, 2])], [2])).toThrow(
      "class 2 of sample 0 is not an integer in 0..1",
    );
  });
});

describe("l2Penalty", () => {
  it("is alpha times the sum of squares, gradient 2·alpha·p", () => {
    const p = values([1, -2, 3]);
    const penalty = l2Penalty(p, 0.1);
    expect(penalty.data).toBeCloseTo(1.4, 15);
    penalty.backward();
    expect(p.map((v) => v.grad)).toEqual([0.2, -0.4, 0.6000000000000001]);
  });

  it("rejects a negative alpha", () => {
    expect(() => l2Penalty(values([1]), -1)).toThrow("alpha must be a finite number >= 0");
  });
});

describe("classificationLoss", () => {
  it("maps classes 0/1 to ±1 for hinge and mse with one output", () => {
    const outputs = [[new Value(0.5)], [new Value(-2)]];
    expect(classificationLoss("hinge", outputs, [1, 0]).data).toBeCloseTo(
      hingeLoss([outputs[0][0], outputs[1][0]], [1, -1]).data,
      15,
    );
    expect(classificationLoss("mse", outputs, [1, 0]).data).toBeCloseTo(
      ((0.5 - 1) ** 2 + (-2 + 1) ** 2) / 2,
      15,
    );
    expect(classificationLoss("bce", outputs, [1, 0]).data).toBeCloseTo(
      bceWithLogitsLoss([outputs[0][0], outputs[1][0]], [1, 0]).data,
      15,
    );
  });

  it("uses one-hot targets with K outputs", () => {
    const outputs = [values([0.2, 0.9, -1])];
    expect(classificationLoss("mse", outputs, [1]).data).toBeCloseTo((0.04 + 0.01 + 1) / 3, 15);
  });

  it("refuses softmax with a single output", () => {
    expect(() => classificationLoss("softmax", [[new Value(1)]], [0])).toThrow(
      "softmax needs one output per class",
    );
  });

  it("checks the batch", () => {
    expect(() => classificationLoss("hinge", [], [])).toThrow("the batch is empty");
    expect(() => classificationLoss("hinge", [[new Value(1)]], [0, 1])).toThrow("1 outputs but 2 labels");
  });
});

describe("predictedClass", () => {
  it("reads the sign of one score and the argmax of several", () => {
    expect(predictedClass([0.1])).toBe(1);
    expect(predictedClass([-0.1])).toBe(0);
    expect(predictedClass([0.1, 3, -2])).toBe(1);
  });
});

describe("losses name the usual slips", () => {
  const rows = [values([0.5]), values([-1])];
  it("an array per sample, where one Value per sample is expected", () => {
    expect(() => hingeLoss(rows as unknown as Value[], [1, -1])).toThrow(
      "hingeLoss: scores[0] is an array of 1 (what model.forward returns); pass one Value per sample, model.forward(x)[0]",
    );
    expect(() => mseLoss(rows as unknown as Value[], [1, -1])).toThrow(
      "mseLoss: predictions[0] is an array of 1 (what model.forward returns)",
    );
    expect(() => bceWithLogitsLoss(rows as unknown as Value[], [1, 0])).toThrow(
      "bceWithLogitsLoss: logits[0] is an array of 1",
    );
    expect(() => mseLoss([new Value(1), 2] as unknown as Value[], [1, 1])).toThrow(
      "mseLoss: predictions[1] is the number 2, not a Value",
    );
  });

  it("one Value per sample, where an array per sample is expected", () => {
    const flat = values([0.5, -1]);
    expect(() => softmaxCrossEntropy(flat as unknown as Value[][], [0, 1])).toThrow(
      "softmaxCrossEntropy: logits[0] is a Value; expected an array of Values per sample (what model.forward(x) returns), not a single Value",
    );
    expect(() => classificationLoss("hinge", flat as unknown as Value[][], [0, 1])).toThrow(
      "classificationLoss: outputs[0] is a Value; expected an array of Values per sample",
    );
    expect(() => multiclassHingeLoss([values([1, 2]), values([1])], [0, 1])).toThrow(
      "multiclassHingeLoss: scores[1] has 1 outputs, but scores[0] has 2",
    );
  });

  it("softmax of many logits: no spread, no stack overflow", () => {
    const logits = Array.from({ length: 300_000 }, (_, i) => (i === 7 ? 1000 : 0));
    const p = softmax(logits);
    expect(p[7]).toBe(1);
    expect(p[0]).toBe(0);
  });
});

describe("labels given as Values (a compiled step's)", () => {
  const rows = [
    [0.3, -1.2, 0.7],
    [2.0, 0.1, -0.4],
  ];

  it("give the same loss and gradients as the same labels as numbers, bit for bit", () => {
    for (const name of LOSS_NAMES) {
      for (const k of name === "softmax" ? [3] : [1, 3]) {
        const classes = k === 1 ? [1, 0] : [2, 0];
        const outputsOf = () => rows.map((row) => row.slice(0, k).map((x) => new Value(x)));
        const byNumber = outputsOf();
        const byValue = outputsOf();
        const a = classificationLoss(name, byNumber, classes);
        const b = classificationLoss(
          name,
          byValue,
          classes.map((c) => new Value(c)),
        );
        a.backward();
        b.backward();
        expect(b.data).toBe(a.data);
        expect(byValue.flat().map((v) => v.grad)).toEqual(byNumber.flat().map((v) => v.grad));
      }
    }
    const scores = () => [new Value(0.4), new Value(-2)];
    expect(hingeLoss(scores(), [new Value(1), new Value(-1)]).data).toBe(hingeLoss(scores(), [1, -1]).data);
  });

  it("a compiled loss checks the labels of every replay, not only those it was traced with", () => {
    const w = [new Value(0.5), new Value(-0.3), new Value(0.2)];
    const model = (xs: Value[], k: number) => xs.map((x) => w.slice(0, k).map((wj) => wj.mul(x)));
    for (const name of LOSS_NAMES) {
      for (const k of name === "softmax" ? [3] : [1, 3]) {
        const step = compile((xs: Value[], ys: Value[]) => classificationLoss(name, model(xs, k), ys), {
          constantCheck: false,
        });
        const good = k === 1 ? [1, 0] : [0, 2];
        const eager = classificationLoss(
          name,
          model(
            [1, 2].map((x) => new Value(x)),
            k,
          ),
          good,
        ).data;
        expect(step([1, 2], good).data).toBe(eager);
        expect(step([1, 2], k === 1 ? [0, 1] : [2, 1]).data).toBeGreaterThan(0);
        const last = k - 1 === 0 ? 1 : k - 1;
        for (const bad of [k === 1 ? 2 : 7, 1.5, -1]) {
          // The replay's select names the class as its index.
          expect(() => step([1, 2], [0, bad]), `${name}, ${k} outputs, class ${bad}`).toThrow(
            `index ${bad} is not an integer in 0..${last}`,
          );
        }
      }
    }
    const hinge = compile((s: Value[], y: Value[]) =>
      hingeLoss(
        s.map((v) => v.mul(w[0])),
        y,
      ),
    );
    expect(hinge([1, 2], [1, -1]).data).toBe(hingeLoss([new Value(0.5), new Value(1)], [1, -1]).data);
    expect(hinge([1, 2], [-1, 1]).data).toBe(hingeLoss([new Value(0.5), new Value(1)], [-1, 1]).data);
    // The label y is checked as the index (y + 1) / 2 of the pair [+1, −1].
    expect(() => hinge([1, 2], [1, 3])).toThrow(/Value\.select: index 2 is not an integer in 0\.\.1/);
    expect(() => hinge([1, 2], [1, 0])).toThrow(/Value\.select: index 0\.5 is not an integer in 0\.\.1/);
  });
});
