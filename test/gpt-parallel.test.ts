// The pool's gradients item by item (GPTParallel.addGradients, on Node's threads here): a batch
// computed in several calls and added up call after call is the batch's sum in document order,
// the same bit for bit however it was cut and on however many workers, as the playground's GPT
// page relies on.
import { afterAll, describe, expect, it } from "vitest";
import { compiledLoss, GPT, ParameterArena } from "../src/index.js";
import { GPTWorkers } from "../src/node/gpt-workers.js";

const CONFIG = { vocabSize: 7, nLayer: 1, nEmbd: 8, nHead: 2, blockSize: 6, seed: 5 };
const DOCUMENTS = [
  [0, 3, 5, 1, 2, 6, 4, 0],
  [0, 1, 0],
  [0, 6, 6, 5, 2, 0],
  [0, 2, 4, 0],
  [0, 5, 1, 1, 0],
];
const WEIGHT = 1 / DOCUMENTS.length;

const pools: GPTWorkers[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

/** The batch's gradient from `workers` threads, computed `size` documents per call and added up call after call. */
function inCalls(gpt: GPT, workers: number, size: number): { total: Float64Array; losses: number[] } {
  const pool = new GPTWorkers(gpt, { workers, maxBatch: size });
  pools.push(pool);
  const total = new Float64Array(gpt.parameters().length);
  const losses: number[] = [];
  for (let start = 0; start < DOCUMENTS.length; start += size) {
    losses.push(...pool.compute(DOCUMENTS.slice(start, start + size), WEIGHT));
    pool.addGradients(total);
  }
  return { total, losses };
}

describe("GPTParallel.addGradients", () => {
  it("adds each document's own gradient in document order, however the batch is cut and shared", () => {
    const gpt = new GPT(CONFIG);
    // On this thread: each document's gradient from zero, added to the total one after the other.
    const loss = compiledLoss(gpt);
    const arena = new ParameterArena(gpt.parameters());
    loss.arena = arena;
    const expected = new Float64Array(arena.grad.length);
    const expectedLosses: number[] = [];
    for (const doc of DOCUMENTS) {
      arena.grad.fill(0);
      const [weighted, documentLoss] = loss(doc, WEIGHT);
      weighted.backward();
      expectedLosses.push(documentLoss.data);
      for (let i = 0; i < expected.length; i++) expected[i] += arena.grad[i];
    }
    loss.arena = undefined;
    expect(expected.some((g) => g !== 0)).toBe(true);
    for (const [workers, size] of [
      [1, 1],
      [2, 2],
      [2, 5],
      [3, 3],
    ]) {
      const { total, losses } = inCalls(gpt, workers, size);
      expect(Array.from(total), `${workers} workers, ${size} a call`).toEqual(Array.from(expected));
      expect(losses).toEqual(expectedLosses);
    }
  });

  it("adds the whole batch as compute() sums it, and refuses to add after a failed call", () => {
    const gpt = new GPT(CONFIG);
    const pool = new GPTWorkers(gpt, { workers: 2, maxBatch: DOCUMENTS.length });
    pools.push(pool);
    pool.compute(DOCUMENTS, WEIGHT);
    const total = new Float64Array(pool.arena.grad.length);
    pool.addGradients(total);
    expect(Array.from(total)).toEqual(Array.from(pool.arena.grad));
    expect(() => pool.addGradients(new Float64Array(3))).toThrow(
      `GPTWorkers: a total of 3 gradients; the model has ${total.length}`,
    );
    // A token out of the vocabulary is refused: the rows of the call before are not added for it.
    expect(() => pool.compute([[0, 99, 0]], WEIGHT)).toThrow("99");
    expect(() => pool.addGradients(total)).toThrow(
      "GPTWorkers: no gradients to add: the last compute() failed",
    );
    // A call that fails in a worker (a number out of range) leaves nothing to add either.
    pool.arena.data.fill(1e300);
    expect(() => pool.compute(DOCUMENTS, WEIGHT)).toThrow(RangeError);
    expect(() => pool.addGradients(total)).toThrow(
      "GPTWorkers: no gradients to add: the last compute() failed",
    );
  });
});
