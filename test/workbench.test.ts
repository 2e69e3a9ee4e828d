// The language-model workbench of the library: running text as windows, held-out loss while
// training, checkpoints that resume to the same bits, AdamW, warm-up, clipping, time budgets.
import { describe, expect, it } from "vitest";
import { checkCheckpoint, type GPTCheckpoint } from "../src/checkpoint.js";
import { noGrad, type Operand, Value } from "../src/engine.js";
import { GPT } from "../src/gpt.js";
import { defaultLearningRate, evaluateGPT, type GPTStepRecord, trainGPT } from "../src/gpt-train.js";
import { Adam, AdamW, SGD, scheduledRate } from "../src/optim.js";
import { createRandom } from "../src/random.js";
import { chooseToken, sampleText, sampleWithProbabilities } from "../src/sampling.js";
import { bigramScore, characterLogProbabilities, scoreGPT, sequencesToScore } from "../src/scoring.js";
import { TextWindows, textDataset } from "../src/text.js";
import { BigramModel, CharTokenizer } from "../src/tokenizer.js";
import { Trainer } from "../src/trainer.js";

const SONNET = `Shall I compare thee to a summer's day?
Thou art more lovely and more temperate:
Rough winds do shake the darling buds of May,
And summer's lease hath all too short a date;
Sometime too hot the eye of heaven shines,
And often is his gold complexion dimm'd;
And every fair from fair sometime declines,
By chance or nature's changing course untrimm'd;
But thy eternal summer shall not fade,
Nor lose possession of that fair thou ow'st;
Nor shall death brag thou wander'st in his shade,
When in eternal lines to time thou grow'st:
So long as men can breathe or eyes can see,
So long lives this, and this gives life to thee.
`;

const NAMES = ["emma", "olivia", "ava", "isabella", "mia", "sophia", "zoe", "ana", "liam", "noah"];

function smallGPT(vocabSize: number, seed = 3): GPT {
  return new GPT({ vocabSize, nLayer: 1, nEmbd: 8, nHead: 2, blockSize: 8, seed });
}

describe("running text as windows", () => {
  it("splits the text 90/10 in order, with the vocabulary of the whole text", () => {
    const text = "abcdefghij".repeat(10);
    const { tokenizer, train, heldOut } = textDataset(text);
    expect(train.length).toBe(90);
    expect(heldOut.length).toBe(10);
    expect(tokenizer.decode(Array.from(train.ids))).toBe(text.slice(0, 90));
    expect(tokenizer.decode(Array.from(heldOut.ids))).toBe(text.slice(90));
    expect(textDataset(text, { heldOut: 0.25 }).heldOut.length).toBe(25);
  });

  it("reads windows of size + 1 ids, at random places or spread evenly (the same ones each time)", () => {
    const windows = new TextWindows(Array.from({ length: 20 }, (_, i) => i));
    expect(windows.at(3, 4)).toEqual([3, 4, 5, 6, 7]);
    expect(windows.count(4)).toBe(16);
    expect(windows.spread(4, 4)).toEqual([
      [0, 1, 2, 3, 4],
      [4, 5, 6, 7, 8],
      [8, 9, 10, 11, 12],
      [12, 13, 14, 15, 16],
    ]);
    expect(windows.spread(4, 4)).toEqual(windows.spread(4, 4));
    expect(windows.spread(100, 18)).toHaveLength(2);
    const random = createRandom(1);
    const starts = new Set<number>();
    for (let i = 0; i < 400; i++) {
      const window = windows.random(4, random);
      expect(window).toHaveLength(5);
      expect(window[4] - window[0]).toBe(4);
      starts.add(window[0]);
    }
    // Every start from 0 to 15, and none past the last window that fits.
    expect([...starts].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(() => windows.at(16, 4)).toThrow("a window of 5 ids at 16 does not fit in 20 ids");
  });

  it("refuses text too short to predict anything, and a window longer than the text", () => {
    expect(() => textDataset("")).toThrow("the text has 0 characters");
    expect(() => textDataset("a")).toThrow("the text has 1 character;");
    const { tokenizer, train } = textDataset("abcabcab");
    const gpt = smallGPT(tokenizer.vocabSize);
    expect(() => trainGPT(gpt, train, { steps: 1 })).toThrow(
      "trainGPT: the training text has 8 characters; a window of the block (8) needs 9",
    );
  });

  it("trains on windows, every next character predicted, and the held-out loss falls below the bigram's start", () => {
    const { tokenizer, train, heldOut } = textDataset(SONNET.repeat(4));
    const gpt = smallGPT(tokenizer.vocabSize);
    const records: GPTStepRecord[] = [];
    const run = trainGPT(gpt, train, {
      steps: 60,
      lr: 0.02,
      batchSize: 4,
      heldOut,
      evalEvery: 20,
      evalSize: 16,
      onStep: (record) => {
        records.push(record);
        return undefined;
      },
    });
    expect(run.losses).toHaveLength(60);
    // Measured after steps 20, 40 and 60 (records count steps from 0), and only then.
    expect(records.filter((r) => r.heldOutLoss !== undefined).map((r) => r.step)).toEqual([19, 39, 59]);
    expect(run.evaluations.map((e) => e.step)).toEqual([19, 39, 59]);
    // The fixed sample, measured again with the trained weights, gives the last figure exactly.
    const sample = heldOut.spread(16, gpt.config.blockSize);
    expect(evaluateGPT(gpt, sample)).toBe(run.evaluations[2].loss);
    // Uniform guessing costs log(vocab); the model learned something.
    expect(run.evaluations[2].loss).toBeLessThan(Math.log(tokenizer.vocabSize) - 0.5);
    expect(records.every((r, i) => i === 0 || r.elapsed >= records[i - 1].elapsed)).toBe(true);
  });
});

describe("checkpoints and resume", () => {
  const settings = {
    lr: 0.02,
    batchSize: 3,
    weightDecay: 0.1,
    warmup: 3,
    schedule: "cosine",
    clip: 0.5,
    seed: 7,
  } as const;

  function straightAndResumed(data: readonly (readonly number[])[] | TextWindows, vocabSize: number) {
    const steps = 14;
    const straight = smallGPT(vocabSize);
    const whole = trainGPT(straight, data, { ...settings, steps });
    const first = smallGPT(vocabSize);
    const stopped = trainGPT(first, data, { ...settings, steps, onStep: (r) => r.step < 5 });
    expect(stopped.losses).toHaveLength(6);
    // Through JSON, as a file would carry it; into a model of other starting weights.
    const saved = JSON.parse(JSON.stringify(stopped.checkpoint())) as GPTCheckpoint;
    const second = smallGPT(vocabSize, 99);
    const resumed = trainGPT(second, data, { ...settings, steps, resume: saved });
    return { whole, stopped, resumed, straight, second };
  }

  it("stopping at step k and resuming to n gives the weights of one run of n steps, to the last bit (running text)", () => {
    const { tokenizer, train } = textDataset(SONNET);
    const { whole, stopped, resumed, straight, second } = straightAndResumed(train, tokenizer.vocabSize);
    expect([...stopped.losses, ...resumed.losses]).toEqual(whole.losses);
    expect(second.stateDict()).toEqual(straight.stateDict());
    expect(resumed.optimizer.stateDict()).toEqual(whole.optimizer.stateDict());
  });

  it("the same with documents read in order (the position is kept)", () => {
    const tokenizer = CharTokenizer.fromDocuments(NAMES);
    const documents = NAMES.map((name) => tokenizer.encode(name));
    const { whole, stopped, resumed, straight, second } = straightAndResumed(documents, tokenizer.vocabSize);
    expect([...stopped.losses, ...resumed.losses]).toEqual(whole.losses);
    expect(second.stateDict()).toEqual(straight.stateDict());
  });

  it("checkpoints every N steps, each one resumable", () => {
    const { tokenizer, train } = textDataset(SONNET);
    const saved: GPTCheckpoint[] = [];
    const straight = smallGPT(tokenizer.vocabSize);
    trainGPT(straight, train, {
      ...settings,
      steps: 9,
      checkpointEvery: 4,
      onCheckpoint: (c) => saved.push(c),
    });
    expect(saved.map((c) => c.step)).toEqual([4, 8]);
    const resumed = smallGPT(tokenizer.vocabSize, 5);
    trainGPT(resumed, train, { ...settings, steps: 9, resume: saved[0] });
    expect(resumed.stateDict()).toEqual(straight.stateDict());
  });

  it("refuses a checkpoint of another configuration, plan or data, naming what differs, and a damaged one", () => {
    const { tokenizer, train } = textDataset(SONNET);
    const run = trainGPT(smallGPT(tokenizer.vocabSize), train, {
      ...settings,
      steps: 4,
      onStep: () => false,
    });
    const checkpoint = run.checkpoint();
    const gpt = smallGPT(tokenizer.vocabSize);
    expect(() => trainGPT(gpt, train, { ...settings, lr: 0.03, steps: 4, resume: checkpoint })).toThrow(
      "trainGPT (resume): the checkpoint is of another run: lr: 0.02 in the checkpoint, 0.03 now",
    );
    const wider = new GPT({ vocabSize: tokenizer.vocabSize, nLayer: 1, nEmbd: 16, nHead: 2, blockSize: 8 });
    expect(() => trainGPT(wider, train, { ...settings, steps: 4, resume: checkpoint })).toThrow(
      "nEmbd: 8 in the checkpoint, 16 now",
    );
    const other = textDataset(SONNET.toUpperCase() + SONNET, {
      tokenizer: CharTokenizer.fromDocuments([SONNET.toUpperCase() + SONNET]),
    });
    const otherGPT = smallGPT(other.tokenizer.vocabSize);
    expect(() => trainGPT(otherGPT, other.train, { ...settings, steps: 4, resume: checkpoint })).toThrow(
      /vocabSize: \d+ in the checkpoint/,
    );
    const sameVocabulary = textDataset(SONNET.split("").reverse().join(""), { tokenizer });
    expect(() => trainGPT(gpt, sameVocabulary.train, { ...settings, steps: 4, resume: checkpoint })).toThrow(
      /data fingerprint: "[0-9a-f]{8}" in the checkpoint, "[0-9a-f]{8}" now/,
    );
    const damaged = {
      ...checkpoint,
      optimizer: { ...checkpoint.optimizer, m: checkpoint.optimizer.m.slice(1) },
    };
    const before = gpt.stateDict();
    expect(() => trainGPT(gpt, train, { ...settings, steps: 4, resume: damaged })).toThrow(
      "AdamW.loadStateDict: m must hold one number per parameter",
    );
    const badWeights = { ...checkpoint, weights: { ...checkpoint.weights, wte: [[Number.NaN]] } };
    expect(() => trainGPT(gpt, train, { ...settings, steps: 4, resume: badWeights })).toThrow(
      '"wte" must have',
    );
    // Refused, nothing of the model changed.
    expect(gpt.stateDict()).toEqual(before);
    expect(() =>
      trainGPT(gpt, train, { ...settings, steps: 4, resume: { ...checkpoint, weights: undefined } as never }),
    ).toThrow('the checkpoint is damaged: "weights" is missing');
    expect(() =>
      trainGPT(gpt, train, { ...settings, steps: 4, resume: { format: "something else" } as never }),
    ).toThrow("not a micrograd GPT checkpoint");
    expect(() => checkCheckpoint("x", { ...checkpoint, version: 99 }, checkpoint)).toThrow("version 99");
  });
});

describe("training controls", () => {
  it("AdamW shrinks each weight by lr · weightDecay before Adam's step, as torch.optim.AdamW", () => {
    const p = new Value(2);
    p.grad = 0.5;
    new AdamW([p], { lr: 0.1, weightDecay: 0.25 }).step();
    // First step: m̂ = g, v̂ = g², so Adam's step is lr · g / (|g| + eps).
    expect(p.data).toBeCloseTo(2 * (1 - 0.1 * 0.25) - (0.1 * 0.5) / (0.5 + 1e-8), 15);
    const q = new Value(2);
    expect(new AdamW([q]).weightDecay).toBe(0.01);
    expect(() => new AdamW([q], { lr: -1 })).toThrow("AdamW: lr must be a positive finite number");
  });

  it("Adam's state round-trips: a copy continued from it takes the same steps", () => {
    const make = () => [new Value(1), new Value(-2)];
    const [a, b] = [make(), make()];
    const first = new Adam(a, { lr: 0.1 });
    const grads = [
      [0.3, -0.1],
      [0.2, 0.4],
      [-0.5, 0.1],
    ];
    const stepWith = (optimizer: Adam, ps: Value[], g: number[]) => {
      ps.forEach((p, i) => {
        p.grad = g[i];
      });
      optimizer.step();
    };
    stepWith(first, a, grads[0]);
    const second = new Adam(b, { lr: 0.1 });
    b.forEach((p, i) => {
      p.data = a[i].data;
    });
    second.loadStateDict(JSON.parse(JSON.stringify(first.stateDict())));
    for (const g of grads.slice(1)) {
      stepWith(first, a, g);
      stepWith(second, b, g);
    }
    expect(b.map((p) => p.data)).toEqual(a.map((p) => p.data));
    expect(() => second.loadStateDict({ step: 1, m: [0], v: [0, 0] })).toThrow(
      "m must hold one number per parameter (2), got 1",
    );
    expect(() => second.loadStateDict({ step: 1, m: [0, 0], v: [0, -1] })).toThrow("v[1] is -1");
  });

  it("warm-up climbs linearly to lr, then the schedule runs over the remaining steps", () => {
    const schedule = { kind: "cosine", endFactor: 0, warmup: 4 } as const;
    expect([0, 1, 2, 3].map((k) => scheduledRate(schedule, 1, k, 14))).toEqual([0.25, 0.5, 0.75, 1]);
    expect(scheduledRate(schedule, 1, 4, 14)).toBe(1);
    expect(scheduledRate(schedule, 1, 9, 14)).toBeCloseTo(0.5, 15);
    expect(scheduledRate({ kind: "linear", endFactor: 0, warmup: 4 }, 1, 9, 14)).toBeCloseTo(0.5, 15);
    // Without warm-up, nothing changes: the reference's linear decay.
    expect(scheduledRate({ kind: "linear", endFactor: 0 }, 0.01, 3, 1000)).toBe(0.01 * (1 - 3 / 1000));
  });

  it("clips the gradients by their global norm before the update, as torch's clip_grad_norm_", () => {
    const ps = [new Value(0), new Value(0)];
    const trainer = new Trainer({
      optimizer: new SGD(ps, { lr: 1 }),
      loss: (x: Operand) => ps[0].mul(x).mul(3).add(ps[1].mul(x).mul(4)),
      compile: false,
      clip: 1,
    });
    trainer.trainStep(1);
    // The gradient (3, 4) has norm 5: scaled to norm 1 (less torch's 1e-6), then one SGD step.
    expect(trainer.gradientNorm).toBe(5);
    expect(ps[0].data).toBeCloseTo(-3 / 5, 6);
    expect(ps[1].data).toBeCloseTo(-4 / 5, 6);
    const small = new Trainer({
      optimizer: new SGD(ps, { lr: 1 }),
      loss: (x: Operand) => ps[0].mul(x),
      compile: false,
      clip: 10,
    });
    const before = ps[0].data;
    small.trainStep(0.5);
    // A gradient shorter than the clip is left as it is.
    expect(ps[0].data).toBe(before - 0.5);
    expect(() => new Trainer({ optimizer: new SGD(ps), clip: 0 })).toThrow(
      "clip must be a positive finite number, got 0",
    );
  });

  it("clips the compiled step's gradients (on its arena) as the eager step's", () => {
    const { tokenizer, train } = textDataset(SONNET);
    const options = { steps: 6, lr: 0.05, batchSize: 2, clip: 0.05 } as const;
    const compiled = trainGPT(smallGPT(tokenizer.vocabSize), train, options);
    const eager = trainGPT(smallGPT(tokenizer.vocabSize), train, { ...options, compile: false });
    const unclipped = trainGPT(smallGPT(tokenizer.vocabSize), train, { ...options, clip: undefined });
    compiled.losses.forEach((loss, i) => {
      expect(Math.abs(loss - eager.losses[i])).toBeLessThan(1e-12);
    });
    // The clip binds: without it the run takes other steps.
    expect(Math.abs(unclipped.losses[5] - compiled.losses[5])).toBeGreaterThan(1e-6);
  });

  it("a time budget ends the run and fits its steps to the measured speed", () => {
    const { tokenizer, train } = textDataset(SONNET);
    const records: GPTStepRecord[] = [];
    const run = trainGPT(smallGPT(tokenizer.vocabSize), train, {
      time: 1,
      schedule: "cosine",
      onStep: (r) => {
        records.push(r);
        return undefined;
      },
    });
    expect(run.losses.length).toBeGreaterThan(5);
    expect(run.steps).toBeGreaterThan(0);
    // Once fitted, the run's steps are known to the records, and the rate decays toward 0 by the end.
    expect(records.at(-1)?.steps).toBe(run.steps);
    expect(records.at(-1)?.lr).toBeLessThan(0.01 * 0.5);
    expect(() => trainGPT(smallGPT(tokenizer.vocabSize), train, { time: 0 })).toThrow(
      "trainGPT: time must be a number of seconds > 0, got 0",
    );
    expect(() => trainGPT(smallGPT(tokenizer.vocabSize), train, { time: 5, steps: 10 })).toThrow(
      "give steps or time, not both",
    );
  });

  it("a model named only by its width starts from a rate scaled by 16 / width: the reference's at 16", () => {
    expect(defaultLearningRate(16)).toBe(0.01);
    expect(defaultLearningRate(64)).toBe(0.0025);
    expect(defaultLearningRate(4)).toBe(0.04);
  });

  it("the random generator's state can be read and set to repeat its numbers", () => {
    const random = createRandom(11);
    random();
    const state = random.state;
    const next = [random(), random()];
    random.state = state;
    expect([random(), random()]).toEqual(next);
    expect(() => {
      random.state = -1;
    }).toThrow("random state must be an integer");
  });
});

describe("the sampler", () => {
  const { tokenizer, train } = textDataset(SONNET);
  const gpt = smallGPT(tokenizer.vocabSize, 4);
  trainGPT(gpt, train, { steps: 30, lr: 0.02, batchSize: 4 });
  const logitsAfter = (ids: number[]) =>
    noGrad(() => {
      const cache = gpt.newCache();
      return (
        ids
          .map((id, position) => gpt.forward(id, position, cache))
          .at(-1)
          ?.map((l) => l.data) ?? []
      );
    });

  it("greedy takes the likeliest token, whatever the seed; top-k 1 is greedy", () => {
    const prefix = "Shall";
    const greedy = sampleText(gpt, tokenizer, { n: 2, prefix, text: true, greedy: true, length: 6 });
    expect(
      sampleText(gpt, tokenizer, { n: 1, prefix, text: true, greedy: true, length: 6, seed: 9 })[0],
    ).toBe(greedy[0]);
    expect(greedy[1]).toBe(greedy[0]);
    const first = logitsAfter(tokenizer.encodeText(prefix));
    const likeliest = first.indexOf(Math.max(...first));
    expect(greedy[0][prefix.length]).toBe(tokenizer.chars[likeliest]);
    expect(sampleText(gpt, tokenizer, { n: 3, prefix, text: true, topK: 1, length: 6, seed: 2 })).toEqual([
      greedy[0],
      greedy[0],
      greedy[0],
    ]);
  });

  it("top-k and top-p draw only from the likeliest tokens, renormalized", () => {
    const logits = [2, 1, 0.5, -1, 3];
    const random = createRandom(5);
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) seen.add(chooseToken(logits, { topK: 2 }, random));
    expect([...seen].sort()).toEqual([0, 4]);
    // Probabilities ≈ 0.61, 0.22, 0.08, 0.05, 0.03 in the order 4, 0, 1, 2, 3: p = 0.8 keeps 4 and 0.
    const nucleus = new Set<number>();
    for (let i = 0; i < 300; i++) nucleus.add(chooseToken(logits, { topP: 0.8 }, random));
    expect([...nucleus].sort()).toEqual([0, 4]);
    const tiny = new Set<number>();
    for (let i = 0; i < 50; i++) tiny.add(chooseToken(logits, { topP: 1e-9 }, random));
    expect([...tiny]).toEqual([4]);
    // Without filters, one random number per token as before: the reference's samples are kept.
    expect(chooseToken(logits, {}, createRandom(3))).toBe(
      chooseToken(logits, { topP: 1, topK: 5 }, createRandom(3)),
    );
  });

  it("goes past the block by sliding the context, and gives each token's probability under the model", () => {
    const [sample] = sampleWithProbabilities(gpt, tokenizer, {
      n: 1,
      prefix: "So",
      text: true,
      length: 30,
      seed: 1,
    });
    expect(sample.text).toHaveLength(32);
    expect(sample.characters).toHaveLength(30);
    const first = logitsAfter(tokenizer.encodeText("So"));
    const chosen = tokenizer.encodeText(sample.characters[0].character)[0];
    const total = first.reduce((sum, l) => sum + Math.exp(l), 0);
    expect(sample.characters[0].probability).toBeCloseTo(Math.exp(first[chosen]) / total, 12);
    for (const { probability } of sample.characters) expect(probability).toBeGreaterThan(0);
  });

  it("a model of documents still stops at its end token, past the block too", () => {
    const names = CharTokenizer.fromDocuments(NAMES);
    const model = smallGPT(names.vocabSize, 2);
    trainGPT(
      model,
      NAMES.map((name) => names.encode(name)),
      { steps: 40, lr: 0.05 },
    );
    const samples = sampleText(model, names, { n: 20, length: 40, seed: 3 });
    // Trained names end well before 40 characters: the end token stops each one.
    expect(samples.some((s) => s.length < 40)).toBe(true);
    for (const s of samples) expect(s.length).toBeLessThanOrEqual(40);
    // Without a length, a document stops at the block, as before.
    for (const s of sampleText(model, names, { n: 20, seed: 3, temperature: 2 }))
      expect(s.length).toBeLessThanOrEqual(8);
  });

  it("refuses decoding options out of range, naming them", () => {
    expect(() => sampleText(gpt, tokenizer, { topK: 0 })).toThrow(
      "topK must be an integer >= 1 (1 is greedy), got 0",
    );
    expect(() => sampleText(gpt, tokenizer, { topP: 1.5 })).toThrow(
      "topP must be a probability > 0 and <= 1, got 1.5",
    );
    expect(() => sampleText(gpt, tokenizer, { temperature: 0 })).toThrow(
      "temperature must be a number > 0, got 0",
    );
    expect(() => sampleText(gpt, tokenizer, { text: true })).toThrow("running text starts from a prefix");
    expect(() => sampleText(gpt, tokenizer, { length: -1 })).toThrow("length must be an integer >= 0");
  });
});

describe("scoring", () => {
  const { tokenizer, train, heldOut } = textDataset(SONNET.repeat(2));
  const gpt = smallGPT(tokenizer.vocabSize, 6);
  trainGPT(gpt, train, { steps: 20, lr: 0.02, batchSize: 2 });

  it("loss per character, bits per character and perplexity: one number three ways", () => {
    const score = scoreGPT(gpt, heldOut);
    expect(score.bitsPerCharacter).toBeCloseTo(score.loss / Math.LN2, 14);
    expect(score.perplexity).toBeCloseTo(Math.exp(score.loss), 12);
    // Every character after the first is predicted once.
    const windows = sequencesToScore(heldOut, gpt.config.blockSize);
    expect(windows.flatMap((w, i) => (i === 0 ? w : w.slice(1)))).toEqual(Array.from(heldOut.ids));
    expect(score.characters).toBe(heldOut.length - 1);
    expect(score.loss).toBe(evaluateGPT(gpt, windows));
  });

  it("the bigram model of the training text, scored on the same characters", () => {
    const score = bigramScore(train, heldOut, tokenizer.vocabSize);
    const counts = BigramModel.fit([Array.from(train.ids)], tokenizer.vocabSize);
    expect(score.loss).toBe(counts.loss([Array.from(heldOut.ids)]));
    expect(score.characters).toBe(heldOut.length - 1);
  });

  it("the log-probability of each character adds up to the model's loss of the document", () => {
    const names = CharTokenizer.fromDocuments(NAMES);
    const model = smallGPT(names.vocabSize, 8);
    const scores = characterLogProbabilities(model, names, "olivia");
    expect(scores.map((s) => s.character).join("")).toBe("olivia");
    expect(scores).toHaveLength(7);
    const total = scores.reduce((sum, s) => sum + s.logProbability, 0);
    expect(-total / 7).toBeCloseTo(model.loss(names.encode("olivia")).data, 12);
    expect(() => characterLogProbabilities(model, names, "bob!")).toThrow(
      /"!" \(character 4 of "bob!"\) is not in the vocabulary/,
    );
    // Running text: every character after the first, past the block too.
    const long = characterLogProbabilities(gpt, tokenizer, SONNET.slice(0, 40), { text: true });
    expect(long).toHaveLength(39);
    for (const s of long) expect(s.logProbability).toBeLessThan(0);
  });
});
