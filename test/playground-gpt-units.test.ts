// The GPT page's logic that runs in Node as well: its data (names, pasted lines, running text,
// and the texts it refuses), the prefix's attention and next-token candidates, the embeddings'
// principal components, and the size estimate that keeps a document's graph within bounds.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  DataProblem,
  MAX_TEXT_CHARACTERS,
  prepareData,
  randomWindow,
  valuesPerDocument,
} from "../playground/gpt-data.js";
import { inspectPrefix, principalComponents } from "../playground/gpt-inspect.js";
import { DEFAULT_GPT_SETTINGS, type GPTSettings } from "../playground/gpt-protocol.js";
import { BigramModel, CharTokenizer, createRandom, GPT, softmax, textDataset } from "../src/index.js";
import { countValues } from "../src/viz/dot.js";

const namesText = readFileSync(join(import.meta.dirname, "..", "data", "names.txt"), "utf8");
const pasted = (text: string, mode: GPTSettings["mode"] = "lines"): GPTSettings => ({
  ...DEFAULT_GPT_SETTINGS,
  source: "text",
  text,
  mode,
});

describe("prepareData", () => {
  it("reads the shipped names as the command line does: 27 tokens, 10% held out, the bigram baseline", () => {
    const data = prepareData(DEFAULT_GPT_SETTINGS, { names: namesText }, 16);
    expect(data.info.vocabSize).toBe(27);
    expect(data.info.trainCount).toBe(28_830);
    expect(data.info.heldOutCount).toBe(3_203);
    expect(data.measured).toHaveLength(300);
    expect(data.info.measuredHeldOut).toBe(true);
    // The bigram of the training names, measured on the 300 held-out names the GPT is measured on.
    const bigram = BigramModel.fit(data.documents, 27);
    expect(data.info.bigramLoss).toBeCloseTo(bigram.loss(data.measured, 16), 12);
    expect(data.info.bigramLoss).toBeGreaterThan(2.3);
    expect(data.info.bigramLoss).toBeLessThan(2.6);
    for (const doc of data.documents.slice(0, 50)) {
      expect(doc[0]).toBe(data.tokenizer.bos);
      expect(doc[doc.length - 1]).toBe(data.tokenizer.bos);
    }
  });

  it("reads pasted lines as documents, measuring on training lines when there are too few to hold out", () => {
    const data = prepareData(pasted("abba\r\nbaab\n\n  abab  \n"), { names: namesText }, 16);
    expect(data.tokenizer.chars).toEqual(["a", "b"]);
    expect(data.documents).toHaveLength(3);
    expect(data.info.measuredHeldOut).toBe(false);
    expect(data.info.heldOutCount).toBe(0);
    expect(data.measured).toHaveLength(3);
  });

  it("reads running text with textDataset, in windows of the block after BOS, and holds out its end", () => {
    const text = "the cat sat on the mat. ".repeat(20);
    const data = prepareData(pasted(text, "running"), { names: namesText }, 8);
    const { tokenizer, train, heldOut } = textDataset(text, { heldOut: 0.1 });
    expect(data.tokenizer.chars).toEqual(tokenizer.chars);
    expect(data.text?.ids).toEqual(train.ids);
    expect(data.documents).toEqual([]);
    expect(data.info.measuredHeldOut).toBe(true);
    // The measured windows: BOS and 8 characters from the held-out end, the first at its start.
    for (const window of data.measured) {
      expect(window).toHaveLength(9);
      expect(window[0]).toBe(tokenizer.bos);
    }
    expect(data.measured[0]).toEqual([tokenizer.bos, ...heldOut.at(0, 7)]);
    expect(data.info.trainCount).toBe(train.length - 8 + 1);
    const window = randomWindow(data, 8, createRandom(1));
    expect(window[0]).toBe(tokenizer.bos);
    expect(tokenizer.decode(window)).toHaveLength(8);
    expect(text).toContain(tokenizer.decode(window));
  });

  it("reads Tiny Shakespeare as running text", () => {
    const shakespeare = readFileSync(join(import.meta.dirname, "..", "data", "tinyshakespeare.txt"), "utf8");
    const data = prepareData({ ...DEFAULT_GPT_SETTINGS, source: "shakespeare" }, { shakespeare }, 16);
    expect(data.info.vocabSize).toBe(66);
    expect(data.info.description).toContain("Tiny Shakespeare");
    expect(data.info.measuredHeldOut).toBe(true);
    expect(data.measured).toHaveLength(300);
    // The bigram of characters: about 2.5 nats per character on Shakespeare.
    expect(data.info.bigramLoss).toBeGreaterThan(2.3);
    expect(data.info.bigramLoss).toBeLessThan(2.7);
  });

  it.each([
    ["", "The text is empty"],
    ["   \n\n  ", "The text is empty"],
    ["abcdefg", "No character appears twice"],
    ["ab\ncd\nef", "No character appears twice"],
    ["x".repeat(MAX_TEXT_CHARACTERS + 1), "at most 1,200,000 here"],
  ])("refuses %#: says %s", (text, message) => {
    expect(() => prepareData(pasted(text), { names: namesText }, 16)).toThrow(DataProblem);
    expect(() => prepareData(pasted(text), { names: namesText }, 16)).toThrow(message);
  });

  it("refuses running text shorter than a window, and more than 256 different characters", () => {
    expect(() => prepareData(pasted("abab", "running"), { names: namesText }, 16)).toThrow(
      "running text needs more than the block (16)",
    );
    const many = Array.from({ length: 300 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join("");
    expect(() => prepareData(pasted(many + many), { names: namesText }, 16)).toThrow(
      "300 different characters",
    );
  });
});

describe("inspectPrefix", () => {
  const tokenizer = CharTokenizer.fromDocuments(["abcde"]);
  const gpt = new GPT({
    vocabSize: tokenizer.vocabSize,
    nLayer: 2,
    nEmbd: 8,
    nHead: 2,
    blockSize: 6,
    seed: 3,
  });

  it("gives every head's attention and the likeliest next tokens, as the model computes them", () => {
    const seen = inspectPrefix(gpt, tokenizer, "cab", 4);
    const tokens = [tokenizer.bos, ...tokenizer.encodeText("cab")];
    expect(seen.problem).toBe("");
    expect(seen.labels).toEqual(["BOS", "c", "a", "b"]);
    expect(seen.attention).toEqual(gpt.attentionWeights(tokens));
    expect(seen.attention).toHaveLength(2);
    expect(seen.attention[1]).toHaveLength(2);
    // The candidates: the top 4 of the softmax of the last position's logits, most likely first.
    const cache = gpt.newCache();
    let logits: number[] = [];
    tokens.forEach((token, position) => {
      logits = gpt.forward(token, position, cache).map((v) => v.data);
    });
    const expected = softmax(logits)
      .map((probability, id) => ({ token: id === tokenizer.bos ? "" : tokenizer.chars[id], probability }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, 4);
    expect(seen.candidates).toEqual(expected);
    const total = seen.candidates.reduce((sum, c) => sum + c.probability, 0);
    expect(total).toBeLessThanOrEqual(1);
  });

  it("reads up to a character outside the vocabulary, or to the end of the block, and says so", () => {
    const unknown = inspectPrefix(gpt, tokenizer, "abz", 3);
    expect(unknown.problem).toBe('"z" is not one of the model\'s characters; read up to it.');
    expect(unknown.labels).toEqual(["BOS", "a", "b"]);
    const long = inspectPrefix(gpt, tokenizer, "abcdeabcde", 3);
    expect(long.problem).toContain("The block of 6 reads BOS and 5 characters");
    expect(long.labels).toHaveLength(6);
  });
});

function expectClose(actual: readonly number[], expected: readonly number[]): void {
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i], 9);
}

describe("principalComponents", () => {
  // Points a·u + b·v around a centre, with u and v orthonormal and a, b uncorrelated: the
  // components are ±u and ±v, explaining var(a) and var(b) of the total.
  const u = [1, 1, 0, 1].map((x) => x / Math.sqrt(3));
  const v = [1, -1, 1, 0].map((x) => x / Math.sqrt(3));
  const a = [3, -3, 3, -3, 0, 0];
  const b = [1, 1, -1, -1, 0, 0];
  const centre = [5, -2, 0.5, 1];
  const points = a.map((ai, i) => centre.map((c, j) => c + ai * u[j] + b[i] * v[j]));

  it("finds the directions of largest spread and the share of the variance each explains", () => {
    const { components, projection, explained } = principalComponents(points);
    const [first, second] = components;
    const sign1 = Math.sign(first[0] * u[0]);
    const sign2 = Math.sign(second[0] * v[0]);
    expectClose(
      first,
      u.map((x) => sign1 * x),
    );
    expectClose(
      second,
      v.map((x) => sign2 * x),
    );
    a.forEach((ai, i) => {
      expect(projection[2 * i]).toBeCloseTo(sign1 * ai, 9);
      expect(projection[2 * i + 1]).toBeCloseTo(sign2 * b[i], 9);
    });
    expect(explained[0]).toBeCloseTo(36 / 40, 9);
    expect(explained[1]).toBeCloseTo(4 / 40, 9);
  });

  it("keeps the orientation of the previous components, so a redrawn picture does not flip", () => {
    const once = principalComponents(points);
    const flipped = once.components.map((c) => c.map((x) => -x));
    const again = principalComponents(points, flipped);
    expectClose(again.components[0], flipped[0]);
    expectClose(again.components[1], flipped[1]);
  });
});

describe("valuesPerDocument", () => {
  it.each([
    { nLayer: 1, nEmbd: 16, nHead: 4, blockSize: 16 },
    { nLayer: 2, nEmbd: 32, nHead: 4, blockSize: 8 },
    { nLayer: 3, nEmbd: 8, nHead: 2, blockSize: 24 },
  ])("is within a factor of two of the values a full block's loss builds: %j", (config) => {
    const gpt = new GPT({ vocabSize: 27, ...config, seed: 1 });
    const doc = Array.from({ length: config.blockSize + 1 }, (_, i) => (i === 0 ? 26 : i % 26));
    const actual = countValues(gpt.loss(doc));
    const estimate = valuesPerDocument({ vocabSize: 27, ...config });
    expect(estimate / actual).toBeGreaterThan(0.5);
    expect(estimate / actual).toBeLessThan(2);
  });
});
