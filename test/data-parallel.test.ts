// The data-parallel pool on its own, with a model whose items are plain numbers
// (fixtures/items-worker.ts): the sum in item order, and the failure of the lowest item that
// fails, whichever worker took it.
import { afterAll, describe, expect, it } from "vitest";
import { DataParallel, takingOrder, type WorkerData } from "../src/data-parallel.js";
import { Value } from "../src/engine.js";
import { threadBeside } from "../src/node/worker-threads.js";

const pools: DataParallel[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

function pool(workers: number): DataParallel {
  const made = new DataParallel({
    name: "TestPool",
    start: (workerData: WorkerData) => threadBeside(import.meta.url, "fixtures/items-worker", workerData),
    setup: null,
    parameters: [new Value(0)],
    workers,
    maxItems: 8,
    inputStride: 8,
    resultStride: 1,
  });
  pools.push(made);
  return made;
}

/** Item i's input: its number, then padding to its length. */
function run(target: DataParallel, items: { number: number; length: number }[]): void {
  items.forEach(({ number, length }, i) => {
    target.setInput(i, [number, ...new Array(length - 1).fill(0)]);
  });
  target.run(items.length);
}

describe("DataParallel", () => {
  it("takes the longest items first", () => {
    const order = new Int32Array(5);
    takingOrder([3, 9, 4, 9, 2], order);
    expect(Array.from(order)).toEqual([1, 3, 2, 0, 4]);
  });

  it("sums the items' gradients in item order, and keeps each item's results", () => {
    for (const workers of [1, 2, 3]) {
      const target = pool(workers);
      // In item order, 0.1 + 0.2 + 0.3 rounds to 0.6000000000000001; from the right, to 0.6.
      run(target, [
        { number: 0.1, length: 1 },
        { number: 0.2, length: 7 },
        { number: 0.3, length: 3 },
      ]);
      expect(target.arena.grad[0]).toBe(0.1 + 0.2 + 0.3);
      expect([0, 1, 2].map((item) => target.result(item)[0])).toEqual([0.2, 0.4, 0.6]);
    }
  }, 30_000);

  it("throws the failure of the lowest item that fails, though the workers took others first", () => {
    // Two workers take items 2 and 3 first (the longest); both fail, and they must go on to
    // item 1, which fails too: the failure one thread would meet first.
    const target = pool(2);
    const items = [
      { number: 1, length: 1 },
      { number: -1, length: 1 },
      { number: -2, length: 6 },
      { number: -3, length: 6 },
    ];
    for (let attempt = 0; attempt < 5; attempt++) {
      expect(() => run(target, items)).toThrow(new RangeError("item with -1 failed"));
    }
    // The pool goes on working after a failure.
    run(target, [{ number: 0.5, length: 2 }]);
    expect(target.arena.grad[0]).toBe(0.5);
  }, 30_000);
});
