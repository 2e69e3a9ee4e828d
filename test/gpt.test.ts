// The GPT: the same math as the reference microgpt.py, gradients against finite differences and
// TensorFlow.js, state dicts, the tokenizer, the bigram baseline, sampling, model files, the CLI.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gptCompiledWorkload, gptEagerWorkload } from "../bench/gpt.js";
import { main } from "../src/cli/commands.js";
import { noGrad, Value } from "../src/engine.js";
import { GPT } from "../src/gpt.js";
import { evaluateGPT, sampleText, splitDocumentsForTraining, trainGPT } from "../src/gpt-train.js";
import { loadGPT, saveGPT } from "../src/node/models.js";
import { Adam, scheduledRate } from "../src/optim.js";
import { createRandom } from "../src/random.js";
import { gptFromJSON, gptToJSON, modelFromJSON } from "../src/serialize.js";
import { BigramModel, CharTokenizer, splitDocuments } from "../src/tokenizer.js";
import { attentionSvg, lossCurveSvg, movingAverage } from "../src/viz/attention.js";
import { tf, useTfjsCpu } from "./tfjs.js";

// Recorded from the reference microgpt.py (copied from the project's shared reference runs):
// its config, initial state dict, the first 20 names in training order and the loss of each step.
const REFERENCE = JSON.parse(
  readFileSync(join(import.meta.dirname, "fixtures", "microgpt_20_steps.json"), "utf8"),
) as {
  config: {
    n_layer: number;
    n_embd: number;
    n_head: number;
    block_size: number;
    vocab: string;
    bos: number;
    lr: number;
    beta1: number;
    beta2: number;
    eps: number;
    num_steps: number;
  };
  docs: string[];
  init: Record<string, number[][]>;
  losses: number[];
};

function referenceModel(): GPT {
  const c = REFERENCE.config;
  const gpt = new GPT({
    vocabSize: c.vocab.length + 1,
    nLayer: c.n_layer,
    nEmbd: c.n_embd,
    nHead: c.n_head,
    blockSize: c.block_size,
    seed: 7,
  });
  gpt.loadStateDict(REFERENCE.init);
  return gpt;
}

const referenceTokens = (doc: string) => {
  const { vocab, bos } = REFERENCE.config;
  return [bos, ...Array.from(doc, (ch) => vocab.indexOf(ch)), bos];
};

// A longer run of the same reference from the same initial weights (README beside it says how it
// was recorded): its first 200 names in training order, the learning rate and loss of each step,
// and the state dict after step 200. The initial weights are REFERENCE.init.
const REFERENCE_200 = JSON.parse(
  readFileSync(join(import.meta.dirname, "fixtures", "microgpt_200_steps.json"), "utf8"),
) as {
  init: string;
  config: typeof REFERENCE.config;
  docs: string[];
  lrs: number[];
  losses: number[];
  final: Record<string, number[][]>;
};

describe("the same math as the reference microgpt.py", () => {
  it("has the reference's parameter names, shapes and count (4,192 on names)", () => {
    const gpt = referenceModel();
    const dict = gpt.stateDict();
    expect(Object.keys(dict)).toEqual(Object.keys(REFERENCE.init));
    for (const [name, rows] of Object.entries(REFERENCE.init)) {
      expect([dict[name].length, dict[name][0].length], name).toEqual([rows.length, rows[0].length]);
    }
    expect(gpt.parameters()).toHaveLength(4192);
    expect(dict).toEqual(REFERENCE.init);
  });

  // The target is 1e-9 relative; in float64 the two implementations agree to about 1e-15.
  it("reproduces the loss of each of the first 20 training steps to 1e-9 relative", () => {
    const c = REFERENCE.config;
    const gpt = referenceModel();
    const optimizer = new Adam(gpt.parameters(), { lr: c.lr, betas: [c.beta1, c.beta2], eps: c.eps });
    const losses: number[] = [];
    REFERENCE.docs.forEach((doc, step) => {
      const loss = gpt.loss(referenceTokens(doc));
      optimizer.zeroGrad();
      loss.backward();
      optimizer.lr = scheduledRate({ kind: "linear", endFactor: 0 }, c.lr, step, c.num_steps);
      optimizer.step();
      losses.push(loss.data);
    });
    losses.forEach((loss, step) => {
      expect(Math.abs(loss - REFERENCE.losses[step]) / REFERENCE.losses[step], `step ${step}`).toBeLessThan(
        1e-9,
      );
    });
  });

  it.each([
    ["compiled (the default)", true],
    ["eager", false],
  ])("trainGPT with the default recipe takes the same steps, %s", (_, compile) => {
    const c = REFERENCE.config;
    const gpt = referenceModel();
    // The reference decays the rate over 1,000 steps; stopping after 20 keeps that schedule.
    const { losses } = trainGPT(gpt, REFERENCE.docs.map(referenceTokens), {
      steps: c.num_steps,
      compile,
      onStep: (record) => record.step < REFERENCE.docs.length - 1,
    });
    expect(losses).toHaveLength(20);
    losses.forEach((loss, step) => {
      expect(Math.abs(loss - REFERENCE.losses[step]) / REFERENCE.losses[step], `step ${step}`).toBeLessThan(
        1e-9,
      );
    });
  });

  // Each weight is compared relative to max(|reference|, 1e-3), i.e. to 1e-12 absolute below 1e-3:
  // the relative error of a weight near zero says little. Measured: losses agree to 4e-16
  // relative and weights to 1.2e-15 absolute (3e-13 on this scale), compiled and eager alike.
  it.each([
    ["compiled (the default)", true],
    ["eager", false],
  ])("trainGPT for 200 steps gives the reference's losses and every weight to 1e-9, %s", (_, compile) => {
    expect(REFERENCE_200.init).toBe("microgpt_20_steps.json");
    expect(REFERENCE_200.config).toEqual(REFERENCE.config);
    expect(REFERENCE_200.docs.slice(0, 20)).toEqual(REFERENCE.docs);
    expect(REFERENCE_200.docs).toHaveLength(200);
    const gpt = referenceModel();
    const lrs: number[] = [];
    const { losses } = trainGPT(gpt, REFERENCE_200.docs.map(referenceTokens), {
      steps: REFERENCE.config.num_steps,
      compile,
      onStep: (record) => {
        lrs.push(record.lr);
        return record.step < REFERENCE_200.docs.length - 1;
      },
    });
    expect(losses).toHaveLength(200);
    lrs.forEach((lr, step) => {
      expect(Math.abs(lr - REFERENCE_200.lrs[step]), `lr of step ${step}`).toBeLessThan(1e-15);
    });
    losses.forEach((loss, step) => {
      const expected = REFERENCE_200.losses[step];
      expect(Math.abs(loss - expected) / expected, `loss of step ${step}`).toBeLessThan(1e-9);
    });
    const trained = gpt.stateDict();
    let moved = 0;
    for (const [name, rows] of Object.entries(REFERENCE_200.final)) {
      rows.forEach((row, i) => {
        row.forEach((expected, j) => {
          const scale = Math.max(Math.abs(expected), 1e-3);
          expect(Math.abs(trained[name][i][j] - expected) / scale, `${name}[${i}][${j}]`).toBeLessThan(1e-9);
          moved = Math.max(moved, Math.abs(expected - REFERENCE.init[name][i][j]));
        });
      });
    }
    expect(Object.keys(trained)).toEqual(Object.keys(REFERENCE_200.final));
    // 200 Adam steps of up to 0.01 each carry weights far from where they started (up to 0.68).
    expect(moved).toBeGreaterThan(0.5);
  });
});

describe("the compiled loss", () => {
  const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);

  it("gives the eager losses and gradients to 1e-12, replaying one trace per length", () => {
    const docs = ["emma", "olivia", "ava", "isabella", "mia", "emmanuelle", "zoe", "ana"].map(
      referenceTokens,
    );
    const compiled = referenceModel();
    const eager = referenceModel();
    // Counts the graphs built: a trace per length compiled, a graph per document eager.
    let traced = 0;
    const loss = compiled.loss.bind(compiled);
    compiled.loss = (tokens) => {
      traced++;
      return loss(tokens);
    };
    // Two steps with the same names, batch of 4: gradients accumulate over documents of several lengths.
    const options = { steps: 2, lr: 0.05, batchSize: 4 };
    const gradients: number[][][] = [];
    const runCompiled = trainGPT(compiled, docs, {
      ...options,
      onStep: () => {
        gradients.push([compiled.parameters().map((p) => p.grad)]);
        return undefined;
      },
    });
    const runEager = trainGPT(eager, docs, {
      ...options,
      compile: false,
      onStep: ({ step }) => {
        gradients[step].push(eager.parameters().map((p) => p.grad));
        return undefined;
      },
    });
    runCompiled.losses.forEach((loss, step) => {
      expect(relative(loss, runEager.losses[step]), `loss of step ${step}`).toBeLessThan(1e-12);
    });
    for (const [step, [fromCompiled, fromEager]] of gradients.entries()) {
      const scale = Math.max(...fromEager.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      fromCompiled.forEach((g, i) => {
        expect(Math.abs(g - fromEager[i]) / scale, `step ${step}, gradient ${i}`).toBeLessThan(1e-12);
      });
    }
    // Lengths 6, 8, 5, 10 and 12 among the 8 names: one trace each, and one more at a length's
    // second call, which compile() verifies by tracing again.
    expect(traced).toBeGreaterThanOrEqual(5);
    expect(traced).toBeLessThanOrEqual(10);
    const weights = compiled.parameters().map((p) => p.data);
    eager.parameters().forEach((p, i) => {
      expect(Math.abs(p.data - weights[i]), `weight ${i}`).toBeLessThan(1e-12);
    });
    // The same documents again, evaluated: the traces of training replay.
    const heldOut = evaluateGPT(compiled, docs);
    expect(traced).toBe(10);
    evaluateGPT(compiled, docs);
    expect(traced).toBe(10);
    expect(relative(heldOut, evaluateGPT(compiled, docs, { compile: false }))).toBeLessThan(1e-12);
    // Inside noGrad nothing can be traced, so evaluation is eager there, with the same number.
    expect(
      relative(
        heldOut,
        noGrad(() => evaluateGPT(compiled, docs)),
      ),
    ).toBeLessThan(1e-12);
  });

  it("cuts documents to the block, so that longer ones share one trace", () => {
    const gpt = smallModel();
    const long = [6, 0, 3, 3, 1, 5, 2, 4, 6]; // block 6: 7 tokens are read
    const longer = [6, 1, 2, 3, 4, 5, 0, 1, 2, 3, 6];
    const eager = evaluateGPT(gpt, [long, longer], { compile: false });
    expect(relative(evaluateGPT(gpt, [long, longer]), eager)).toBeLessThan(1e-12);
  });

  it("names a bad document before training starts", () => {
    const gpt = smallModel();
    const before = gpt.parameters().map((p) => p.data);
    expect(() =>
      trainGPT(gpt, [
        [6, 1, 6],
        [6, 7, 6],
      ]),
    ).toThrow(/trainGPT: document 1 has token 7, not an id in 0\.\.6/);
    expect(() => trainGPT(gpt, [[6, 1, 6], [6]])).toThrow(/document 1 needs at least 2 tokens/);
    expect(() => evaluateGPT(gpt, [[6, 1.5, 6]])).toThrow(/evaluateGPT: document 0 has token 1.5/);
    expect(gpt.parameters().map((p) => p.data)).toEqual(before);
  });
});

describe("token ids as Values", () => {
  it("give the same loss and gradients as numbers, through recorded selections", () => {
    const doc = referenceTokens("emma");
    const withNumbers = referenceModel();
    const lossNumbers = withNumbers.loss(doc);
    lossNumbers.backward();
    const withValues = referenceModel();
    const lossValues = withValues.loss(doc.map((id) => new Value(id)));
    lossValues.backward();
    expect(lossValues.data).toBe(lossNumbers.data);
    const a = withNumbers.parameters().map((p) => p.grad);
    const b = withValues.parameters().map((p) => p.grad);
    b.forEach((g, i) => {
      expect(g).toBeCloseTo(a[i], 14);
    });
    // The selections are in the graph, so that a compiled trace can vary the tokens.
    const ops = new Set<string>();
    const stack: Value[] = [lossValues];
    const seen = new Set<Value>();
    while (stack.length > 0) {
      const node = stack.pop() as Value;
      if (seen.has(node)) continue;
      seen.add(node);
      ops.add(node.op.name);
      for (const input of node.inputs) if (input instanceof Value) stack.push(input);
    }
    expect(ops).toContain("select");
    expect(ops).toContain("max");
  });

  it("an out-of-range token id is an error that names it", () => {
    const gpt = referenceModel();
    expect(() => gpt.loss([26, 3, 27])).toThrow(/token 27 is not an id in 0\.\.26/);
    expect(() => gpt.loss([26, new Value(1.5), 26])).toThrow(/token 1.5/);
    expect(() => gpt.loss([26])).toThrow(/at least 2 tokens/);
  });
});

// A small model with two blocks and a document longer than its block, for gradient checks.
function smallModel(): GPT {
  return new GPT({ vocabSize: 7, nLayer: 2, nEmbd: 8, nHead: 2, blockSize: 6, seed: 3, initStd: 0.5 });
}
const SMALL_DOC = [6, 0, 3, 3, 1, 5, 2, 4, 6]; // 8 predictions, of which the block of 6 sees 6

describe("gradients", () => {
  it("agree with central finite differences in float64", () => {
    const gpt = smallModel();
    const loss = gpt.loss(SMALL_DOC);
    gpt.zeroGrad();
    loss.backward();
    const random = createRandom(11);
    const h = 1e-6;
    for (const [name, matrix] of gpt.namedParameters()) {
      for (let k = 0; k < 3; k++) {
        const row = Math.floor(random() * matrix.length);
        const col = Math.floor(random() * matrix[0].length);
        const p = matrix[row][col];
        const saved = p.data;
        p.data = saved + h;
        const up = gpt.loss(SMALL_DOC).data;
        p.data = saved - h;
        const down = gpt.loss(SMALL_DOC).data;
        p.data = saved;
        const numeric = (up - down) / (2 * h);
        expect(Math.abs(p.grad - numeric), `${name}[${row}][${col}]`).toBeLessThan(
          1e-7 + 1e-5 * Math.abs(numeric),
        );
      }
    }
    // The block reads tokens 6 0 3 3 1 5: rows of tokens it never reads get no gradient.
    expect(gpt.wte[5].every((p) => p.grad !== 0)).toBe(true);
    expect(gpt.wte[2].every((p) => p.grad === 0)).toBe(true);
  });

  beforeAll(async () => {
    await useTfjsCpu();
  });

  it("agree with TensorFlow.js running the same forward pass (float32)", () => {
    const gpt = smallModel();
    const loss = gpt.loss(SMALL_DOC);
    gpt.zeroGrad();
    loss.backward();
    const named = gpt.namedParameters();
    const { nLayer, nEmbd, nHead, blockSize } = gpt.config;
    const headDim = nEmbd / nHead;

    const forward = (...weights: tf.Tensor[]): tf.Scalar => {
      const w = Object.fromEntries(named.map(([name], i) => [name, weights[i] as tf.Tensor2D]));
      const linear = (x: tf.Tensor1D, m: tf.Tensor2D) => tf.dot(m, x) as tf.Tensor1D;
      const rmsnorm = (x: tf.Tensor1D) =>
        tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x)), 1e-5))) as tf.Tensor1D;
      const keys: tf.Tensor1D[][] = Array.from({ length: nLayer }, () => []);
      const values: tf.Tensor1D[][] = Array.from({ length: nLayer }, () => []);
      const losses: tf.Scalar[] = [];
      const n = Math.min(blockSize, SMALL_DOC.length - 1);
      for (let pos = 0; pos < n; pos++) {
        const row = (m: tf.Tensor2D, i: number) => tf.squeeze(tf.slice(m, [i, 0], [1, nEmbd])) as tf.Tensor1D;
        let x = rmsnorm(tf.add(row(w.wte, SMALL_DOC[pos]), row(w.wpe, pos)) as tf.Tensor1D);
        for (let l = 0; l < nLayer; l++) {
          const xn = rmsnorm(x);
          const q = linear(xn, w[`layer${l}.attn_wq`]);
          keys[l].push(linear(xn, w[`layer${l}.attn_wk`]));
          values[l].push(linear(xn, w[`layer${l}.attn_wv`]));
          const K = tf.stack(keys[l]) as tf.Tensor2D;
          const V = tf.stack(values[l]) as tf.Tensor2D;
          const heads: tf.Tensor1D[] = [];
          for (let h = 0; h < nHead; h++) {
            const Kh = tf.slice(K, [0, h * headDim], [pos + 1, headDim]) as tf.Tensor2D;
            const Vh = tf.slice(V, [0, h * headDim], [pos + 1, headDim]) as tf.Tensor2D;
            const qh = tf.slice(q, [h * headDim], [headDim]) as tf.Tensor1D;
            const scores = tf.div(tf.dot(Kh, qh), Math.sqrt(headDim)) as tf.Tensor1D;
            heads.push(tf.dot(tf.softmax(scores), Vh) as tf.Tensor1D);
          }
          x = tf.add(x, linear(tf.concat(heads) as tf.Tensor1D, w[`layer${l}.attn_wo`])) as tf.Tensor1D;
          const hidden = tf.relu(linear(rmsnorm(x), w[`layer${l}.mlp_fc1`])) as tf.Tensor1D;
          x = tf.add(x, linear(hidden, w[`layer${l}.mlp_fc2`])) as tf.Tensor1D;
        }
        const logits = linear(x, w.lm_head);
        losses.push(tf.neg(tf.gather(tf.logSoftmax(logits), SMALL_DOC[pos + 1])) as unknown as tf.Scalar);
      }
      return tf.mean(tf.stack(losses)) as tf.Scalar;
    };

    const inputs = named.map(([, m]) => tf.tensor2d(m.map((row) => row.map((p) => p.data))));
    const { value, grads } = tf.valueAndGrads(forward)(inputs);
    expect(value.dataSync()[0]).toBeCloseTo(loss.data, 5);
    named.forEach(([name, m], i) => {
      const theirs = grads[i].arraySync() as number[][];
      m.forEach((row, r) => {
        row.forEach((p, c) => {
          expect(Math.abs(p.grad - theirs[r][c]), `${name}[${r}][${c}]`).toBeLessThan(
            1e-5 + 1e-3 * Math.abs(p.grad),
          );
        });
      });
    });
    tf.dispose([value, ...grads, ...inputs]);
  });
});

describe("state dicts", () => {
  it("round-trip every weight exactly into a model built with another seed", () => {
    const a = new GPT({ vocabSize: 5, nEmbd: 4, nHead: 2, blockSize: 4, seed: 1 });
    const b = new GPT({ vocabSize: 5, nEmbd: 4, nHead: 2, blockSize: 4, seed: 2 });
    expect(b.stateDict()).not.toEqual(a.stateDict());
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    expect(b.stateDict()).toEqual(a.stateDict());
    expect(b.loss([4, 1, 2, 4]).data).toBe(a.loss([4, 1, 2, 4]).data);
  });

  it("refuse a wrong dict with a message that names the key, changing nothing", () => {
    const gpt = new GPT({ vocabSize: 5, nEmbd: 4, nHead: 2, blockSize: 4, seed: 1 });
    const before = gpt.stateDict();
    const broken = (edit: (d: Record<string, unknown>) => void) => {
      const dict: Record<string, unknown> = JSON.parse(JSON.stringify(before));
      edit(dict);
      return dict;
    };
    expect(() => gpt.loadStateDict(broken((d) => delete d.wpe))).toThrow(
      /"wpe" is missing \(expected \[4\]\[4\]\)/,
    );
    expect(() => gpt.loadStateDict(broken((d) => (d.extra = [[1]])))).toThrow(/unexpected key "extra"/);
    expect(() => gpt.loadStateDict(broken((d) => (d["layer0.mlp_fc1"] as number[][]).pop()))).toThrow(
      /"layer0.mlp_fc1" must have 16 rows/,
    );
    expect(() => gpt.loadStateDict(broken((d) => (d.lm_head as number[][])[2].push(0)))).toThrow(
      /"lm_head"\[2\] must have 4 numbers/,
    );
    expect(() =>
      gpt.loadStateDict(
        broken((d) => {
          (d.wte as number[][])[0][0] = 5;
          (d["layer0.attn_wq"] as unknown[][])[1][3] = "x";
        }),
      ),
    ).toThrow(/"layer0.attn_wq"\[1\]\[3\] is x, not a finite number/);
    expect(() => gpt.loadStateDict(null)).toThrow(/expected an object/);
    expect(gpt.stateDict()).toEqual(before);
  });

  it("checks the configuration", () => {
    expect(() => new GPT({ vocabSize: 5, nEmbd: 6, nHead: 4 })).toThrow(/multiple of nHead/);
    expect(() => new GPT({ vocabSize: 1 })).toThrow(/vocabSize must be an integer from 2/);
    expect(() => new GPT({ vocabSize: 5, blockSize: 0 })).toThrow(/blockSize/);
  });
});

describe("the character tokenizer and the bigram baseline", () => {
  it("sorts the distinct characters by code point; BOS comes after them", () => {
    const docs = splitDocuments("  bob\r\nalice\n\n  \nzoë\n");
    expect(docs).toEqual(["bob", "alice", "zoë"]);
    const tokenizer = CharTokenizer.fromDocuments(docs);
    expect(tokenizer.chars.join("")).toBe("abceilozë");
    expect(tokenizer.bos).toBe(9);
    expect(tokenizer.vocabSize).toBe(10);
    expect(tokenizer.encode("zoë")).toEqual([9, 7, 6, 8, 9]);
    expect(tokenizer.decode([9, 7, 6, 8, 9])).toBe("zoë");
  });

  it("names a character outside the vocabulary, and refuses an empty vocabulary", () => {
    const tokenizer = CharTokenizer.fromDocuments(["abc"]);
    expect(() => tokenizer.encode("abx")).toThrow(
      /"x" \(character 3 of "abx"\) is not in the vocabulary "abc"/,
    );
    expect(() => CharTokenizer.fromDocuments([])).toThrow(/vocabulary would be empty/);
    expect(() => new CharTokenizer([])).toThrow(/vocabulary is empty/);
    expect(() => new CharTokenizer(["a", "a"])).toThrow(/"a" appears twice/);
  });

  it("the bigram model counts pairs and measures the same per-character loss", () => {
    const docs = [
      [2, 0, 1, 2],
      [2, 0, 2],
    ];
    const bigram = BigramModel.fit(docs, 3, 0);
    expect(bigram.probability(2, 0)).toBe(1);
    expect(bigram.probability(0, 1)).toBe(0.5);
    // 5 predictions: 2→0 twice (p 1), 0→1 and 0→2 (p ½ each), 1→2 (p 1).
    expect(bigram.loss(docs)).toBeCloseTo((2 * Math.log(2)) / 5, 14);
    expect(bigram.loss(docs, 1)).toBe(0);
    const smoothed = BigramModel.fit(docs, 3);
    expect(smoothed.probability(1, 1)).toBeCloseTo(1 / 4, 14);
  });

  it("the bigram model names a bad token id or an impossible pair instead of giving NaN or Infinity", () => {
    expect(() => BigramModel.fit([[0, 9]], 3)).toThrow(
      "BigramModel.fit: document 0, position 1: token 9 is not an id in 0..2",
    );
    expect(() => BigramModel.fit([[0, 1.5]], 3)).toThrow(/token 1\.5 is not an id in 0\.\.2/);
    expect(() => BigramModel.fit([[0, -1]], 3)).toThrow(/token -1 is not an id/);
    const model = BigramModel.fit([[2, 0, 2]], 3);
    expect(() => model.loss([[0, 7]])).toThrow(
      "BigramModel.loss: document 0, position 1: token 7 is not an id in 0..2",
    );
    expect(() => model.probability(3, 0)).toThrow(/probability: current token 3 is not an id/);
    expect(() => BigramModel.fit([[0, 1]], 3, -1)).toThrow(/smoothing must be a finite number >= 0/);
    // Without smoothing, an unseen pair has probability 0: the loss would be infinite.
    const unsmoothed = BigramModel.fit([[2, 0, 2]], 3, 0);
    expect(() => unsmoothed.loss([[2, 1, 2]])).toThrow(
      /the pair 2 → 1 \(document 0, position 0\) was never counted and smoothing is 0/,
    );
    expect(() => unsmoothed.probability(1, 0)).toThrow(/token 1 was never followed by another in training/);
    expect(unsmoothed.probability(2, 1)).toBe(0);
  });
});

describe("training, evaluation and sampling", () => {
  const docs = ["ann", "anna", "bob", "bobby", "hannah", "abba", "nan", "oona"];
  const tokenizer = CharTokenizer.fromDocuments(docs);
  const encoded = docs.map((d) => tokenizer.encode(d));

  it("training lowers the loss of the documents below the start", () => {
    const gpt = new GPT({ vocabSize: tokenizer.vocabSize, nEmbd: 8, nHead: 2, blockSize: 8, seed: 1 });
    const before = evaluateGPT(gpt, encoded);
    expect(before).toBeCloseTo(Math.log(tokenizer.vocabSize), 1);
    trainGPT(gpt, encoded, { steps: 60, lr: 0.02, batchSize: 2 });
    expect(evaluateGPT(gpt, encoded)).toBeLessThan(before - 0.5);
  });

  it("an option given as undefined takes its default, as if left out", () => {
    const run = (options: Parameters<typeof trainGPT>[2]) => {
      const gpt = new GPT({ vocabSize: tokenizer.vocabSize, nEmbd: 4, nHead: 1, blockSize: 8, seed: 3 });
      const { losses } = trainGPT(gpt, encoded, options);
      return { losses, weights: gpt.parameters().map((p) => p.data) };
    };
    const plain = run({ steps: 3 });
    expect(run({ steps: 3, lr: undefined, betas: undefined, eps: undefined, batchSize: undefined })).toEqual(
      plain,
    );
    expect(run({ steps: 3, lr: 0.01, betas: [0.85, 0.99], eps: 1e-8, batchSize: 1 })).toEqual(plain);
  });

  it("splits the documents by a seeded shuffle", () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    const a = splitDocumentsForTraining(items, { seed: 5 });
    expect(a.test).toHaveLength(2);
    expect([...a.train, ...a.test].sort((x, y) => x - y)).toEqual(items);
    expect(splitDocumentsForTraining(items, { seed: 5 })).toEqual(a);
    expect(splitDocumentsForTraining(items, { seed: 6 })).not.toEqual(a);
  });

  it("samples are reproducible by seed, start with the prefix, and stay in the block", () => {
    const gpt = new GPT({ vocabSize: tokenizer.vocabSize, nEmbd: 8, nHead: 2, blockSize: 6, seed: 1 });
    const a = sampleText(gpt, tokenizer, { n: 12, temperature: 1, seed: 9 });
    expect(sampleText(gpt, tokenizer, { n: 12, temperature: 1, seed: 9 })).toEqual(a);
    expect(sampleText(gpt, tokenizer, { n: 12, temperature: 1, seed: 10 })).not.toEqual(a);
    for (const s of a) expect(Array.from(s).length).toBeLessThanOrEqual(6);
    const prefixed = sampleText(gpt, tokenizer, { n: 5, prefix: "bo", seed: 1 });
    for (const s of prefixed) expect(s.startsWith("bo")).toBe(true);
    expect(() => sampleText(gpt, tokenizer, { prefix: "box" })).toThrow(/"x" .* not in the vocabulary/);
    expect(() => sampleText(gpt, tokenizer, { temperature: 0 })).toThrow(/temperature must be a number > 0/);
    expect(() => sampleText(gpt, tokenizer, { prefix: "bobbyb" })).toThrow(/room for at most 5/);
  });

  it("a temperature near 0 always picks the likeliest token, whatever the random numbers", () => {
    const gpt = new GPT({ vocabSize: 4, nEmbd: 4, nHead: 1, blockSize: 4, seed: 2 });
    const greedy = gpt.generate({ bos: 3, random: createRandom(1), temperature: 1e-3 });
    const again = gpt.generate({ bos: 3, random: createRandom(2), temperature: 1e-3 });
    expect(again).toEqual(greedy);
  });

  it("attention weights are causal and each row sums to 1", () => {
    const gpt = new GPT({ vocabSize: tokenizer.vocabSize, nEmbd: 8, nHead: 2, blockSize: 8, seed: 1 });
    const weights = gpt.attentionWeights([tokenizer.bos, ...tokenizer.encodeText("hannah")]);
    expect(weights).toHaveLength(1);
    expect(weights[0]).toHaveLength(2);
    for (const head of weights[0]) {
      head.forEach((row, t) => {
        expect(row).toHaveLength(t + 1);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      });
    }
    const labels = ["BOS", ..."hannah"];
    const svg = attentionSvg(weights[0], labels);
    expect(svg.match(/class="head"/g)).toHaveLength(2);
    expect(svg.match(/class="weight"/g)).toHaveLength(2 * 28);
    expect(svg).toContain("attention of &#34;hannah&#34;");
    expect(() => attentionSvg(weights[0], labels.slice(1))).toThrow(/head 0 must have 6 rows/);
  });

  it("the loss curve draws the baseline and the held-out loss", () => {
    const svg = lossCurveSvg([3, 2.8, 2.6, 2.5], {
      baselines: [{ label: "bigram", value: 2.46 }],
      heldOut: 2.4,
    });
    expect(svg).toContain('class="baseline" data-value="2.46"');
    expect(svg).toContain('class="held-out" data-value="2.4"');
    expect(() => lossCurveSvg([])).toThrow(/no losses/);
    expect(() => lossCurveSvg([1, Number.NaN])).toThrow(/losses\[1\] is NaN/);
    expect(movingAverage([1, 2, 3, 4], 2)).toEqual([1, 1.5, 2.5, 3.5]);
  });
});

describe("model files", () => {
  const tokenizer = CharTokenizer.fromDocuments(["abc", "cab"]);
  const gpt = new GPT({ vocabSize: tokenizer.vocabSize, nEmbd: 4, nHead: 2, blockSize: 4, seed: 4 });

  it("round-trip the model and its tokenizer through JSON", () => {
    const file = JSON.parse(JSON.stringify(gptToJSON(gpt, tokenizer, { steps: 3 })));
    const back = gptFromJSON(file);
    expect(back.gpt.stateDict()).toEqual(gpt.stateDict());
    expect(back.gpt.config).toEqual(gpt.config);
    expect(back.tokenizer.chars).toEqual(tokenizer.chars);
    expect(back.notes).toEqual({ steps: 3 });
  });

  it("name what is wrong with a bad file", () => {
    const good = () => JSON.parse(JSON.stringify(gptToJSON(gpt, tokenizer)));
    // biome-ignore lint/suspicious/noExplicitAny: the test breaks the file's fields one at a time
    const bad = (edit: (f: Record<string, any>) => void) => {
      const f = good();
      edit(f);
      return () => gptFromJSON(f);
    };
    expect(bad((f) => (f.chars = ["a", "b"]))).toThrow(
      /"chars" has 2 characters \(\+ BOS\), but "config.vocabSize" is 4/,
    );
    expect(bad((f) => (f.chars = []))).toThrow(/"chars": CharTokenizer: the vocabulary is empty/);
    expect(bad((f) => (f.config.nHead = 3))).toThrow(
      /"config": GPT: nEmbd \(4\) must be a multiple of nHead \(3\)/,
    );
    expect(bad((f) => (f.stateDict.wpe[0][1] = null))).toThrow(/"stateDict": .*"wpe"\[0\]\[1\] is null/);
    expect(bad((f) => (f.kind = "mlp"))).toThrow(/"kind" is "mlp"/);
    expect(() => modelFromJSON(good())).toThrow(/this is a GPT/);
  });

  it("save atomically and load with the file named in errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "micrograd-gpt-"));
    try {
      const path = join(dir, "model.json");
      saveGPT(path, gpt, tokenizer);
      expect(loadGPT(path).gpt.stateDict()).toEqual(gpt.stateDict());
      writeFileSync(path, "{");
      expect(() => loadGPT(path)).toThrow(
        new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .*not JSON`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("micrograd gpt (in process)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "micrograd-gpt-cli-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (args: string[]) => {
    let stdout = "";
    let stderr = "";
    const io = {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
    };
    const code = await main(args, io);
    return { code, stdout, stderr };
  };

  it("trains on a tiny file, says once that long documents are truncated, saves, draws and samples", async () => {
    const data = join(dir, "tiny.txt");
    writeFileSync(data, "anna\nbob\n\nhannah\nabba\nnan\nbobby\noona\nann\nbabbababbabbab\nbanana\n");
    const out = join(dir, "out");
    const trained = await run([
      "gpt",
      "train",
      "--data",
      data,
      "--steps",
      "20",
      "--embd",
      "8",
      "--heads",
      "2",
      "--block",
      "8",
      "--out",
      out,
      "--name",
      "hannah",
      "--seed",
      "3",
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr.match(/longer than the block/g)).toHaveLength(1);
    expect(trained.stderr).toContain("1 of 10 documents are longer than the block of 8 tokens");
    expect(trained.stderr).toMatch(/step 20\/20 {2}loss \d\.\d{4} {2}[\d.]+ steps\/s/);
    expect(trained.stdout).toMatch(/held-out loss per character: GPT \d\.\d{4}, bigram \d\.\d{4}/);
    const samples = trained.stdout.split("samples (temperature 0.5):\n")[1].split("wrote:")[0].split("\n");
    samples.pop();
    expect(samples).toHaveLength(20);
    for (const file of [
      "model.json",
      "history.json",
      "loss.svg",
      "loss.png",
      "attention.svg",
      "attention.png",
    ]) {
      expect(existsSync(join(out, file)), file).toBe(true);
    }
    expect(readFileSync(join(out, "attention.svg"), "utf8")).toContain(
      "attention of &#34;hannah&#34;, block 0",
    );
    const history = JSON.parse(readFileSync(join(out, "history.json"), "utf8"));
    expect(history.losses).toHaveLength(20);

    const model = join(out, "model.json");
    const first = await run(["gpt", "sample", "--model", model, "--n", "5", "--seed", "4", "--prefix", "b"]);
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trim().split("\n");
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(line.startsWith("b")).toBe(true);
    expect(
      (await run(["gpt", "sample", "--model", model, "--n", "5", "--seed", "4", "--prefix", "b"])).stdout,
    ).toBe(first.stdout);

    const outside = await run(["gpt", "sample", "--model", model, "--prefix", "bz"]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/--prefix: "z" \(character 2 of "bz"\) is not in the vocabulary "abhnoy"/);
    const cold = await run(["gpt", "sample", "--model", model, "--temperature", "0"]);
    expect(cold.code).toBe(2);
    expect(cold.stderr).toContain("--temperature must be a number > 0");

    const picture = join(dir, "heads.svg");
    const drawn = await run(["gpt", "attention", "--model", model, "--name", "anna", "--out", picture]);
    expect(drawn.code, drawn.stderr).toBe(0);
    expect(readFileSync(picture, "utf8").match(/class="head"/g)).toHaveLength(2);
  });

  it("--no-compile trains the same model on the eager engine", async () => {
    const data = join(dir, "few.txt");
    writeFileSync(data, "anna\nbob\nhannah\nabby\nnoah\nyoyo\nbo\nann\n");
    const weights = async (extra: string[]) => {
      const out = join(dir, `same-${extra.length}`);
      const args = ["gpt", "train", "--data", data, "--steps", "6", "--embd", "8", "--heads", "2"];
      const result = await run([...args, "--block", "8", "--out", out, "--no-pictures", ...extra]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(extra.length ? /ms\/step, eager\)/ : /ms\/step, compiled\)/);
      return JSON.parse(readFileSync(join(out, "model.json"), "utf8"));
    };
    const compiled = await weights([]);
    const eager = await weights(["--no-compile"]);
    const flat = (model: { stateDict: Record<string, number[][]> }) => Object.values(model.stateDict).flat(2);
    const a = flat(compiled);
    const b = flat(eager);
    expect(a.length).toBeGreaterThan(100);
    for (let i = 0; i < a.length; i++)
      expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(b[i])));
  });

  it("refuses empty files and an unknown subcommand, with help", async () => {
    const empty = join(dir, "empty.txt");
    writeFileSync(empty, "\n  \n\n");
    const result = await run(["gpt", "train", "--data", empty, "--out", join(dir, "never")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${empty} has no documents`);
    expect(existsSync(join(dir, "never"))).toBe(false);
    const unknown = await run(["gpt", "fly"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown gpt command "fly"');
    const helped = await run(["gpt", "train", "--help"]);
    expect(helped.code).toBe(0);
    expect(helped.stdout).toContain("Usage: micrograd gpt train");
    expect((await run(["--help"])).stdout).toContain("gpt       train a character-level GPT");
    const missing = await run(["gpt", "sample"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--model FILE is required\nRun "micrograd gpt sample --help"');
  });
});

describe("the benchmark's GPT workload", () => {
  it("trains the default GPT on names and reports ms per step against the target", () => {
    const [row] = gptEagerWorkload({ reps: 1, steps: 3 });
    expect(row.unit).toBe("ms/step");
    expect(row.value.samples).toHaveLength(1);
    expect(row.value.median).toBeGreaterThan(0);
    expect(row.target).toBe("≤ 25 ms");
    // From N(0, 0.08) weights the first names cost about log(27) = 3.3 nats per character.
    expect(row.result).toMatch(/mean loss 3\.\d{4} over the first 3 steps/);
  });

  it("has a compiled row that takes the eager row's steps", () => {
    const [eager] = gptEagerWorkload({ reps: 1, steps: 3 });
    const [compiled] = gptCompiledWorkload({ reps: 1, steps: 5, compareSteps: 3 });
    expect(compiled.engine).toBe("micrograd compiled");
    expect(compiled.unit).toBe("ms/step");
    expect(compiled.value.samples).toHaveLength(1);
    expect(compiled.target).toBe("≤ 1 ms");
    const meanOf = (row: typeof eager) =>
      /mean loss (\d\.\d{4}) over the first 3 steps/.exec(row.result ?? "")?.[1];
    expect(meanOf(compiled)).toBeDefined();
    expect(meanOf(compiled)).toBe(meanOf(eager));
    expect(compiled.result).toMatch(/over 5; first run [\d.]+ ms\/step with its traces/);
  });
});

describe("the README's GPT example", () => {
  it("runs against the sources and prints a held-out loss below the uniform guess, and 5 names", async () => {
    const root = join(import.meta.dirname, "..");
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("\n### The GPT in code\n"));
    const example = /```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    expect(example).toContain("new GPT(");
    const dir = join(root, ".artifacts", "readme-gpt");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "gpt-example.ts");
    writeFileSync(
      file,
      example
        .replace('from "micrograd/node"', `from ${JSON.stringify(join(root, "src", "node.ts"))}`)
        .replace('from "micrograd"', `from ${JSON.stringify(join(root, "src", "index.ts"))}`),
    );
    const result = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      execFile(join(root, "node_modules", ".bin", "tsx"), [file], { cwd: root }, (_error, stdout, stderr) =>
        resolve({ stdout, stderr }),
      );
    });
    expect(result.stderr).toBe("");
    const [loss, samples] = result.stdout.trim().split("\n");
    expect(Number(loss)).toBeLessThan(Math.log(27));
    expect(samples.split(" ")).toHaveLength(5);
  });
});
