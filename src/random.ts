// A small seeded random number generator, so that models and data sets are reproducible:
// the same seed gives the same numbers on every machine and in every JavaScript engine.

/** Returns numbers uniform in [0, 1). */
export type Random = () => number;

/** A generator whose whole state is one 32-bit integer, readable and settable (for checkpoints). */
export type SeededRandom = Random & { state: number };

/**
 * A generator from a 32-bit seed (mulberry32: one 32-bit state, full period 2^32,
 * good enough for initial weights and toy data, not for cryptography).
 * Without a seed it starts from Math.random. Setting `state` to a value read earlier
 * makes it repeat the numbers that followed.
 */
export function createRandom(seed?: number): SeededRandom {
  if (seed !== undefined && (typeof seed !== "number" || !Number.isInteger(seed))) {
    throw new TypeError(`seed must be an integer, got ${String(seed)}`);
  }
  let state = (seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return Object.defineProperty(random, "state", {
    get: () => state,
    set: (value: number) => {
      if (!Number.isInteger(value) || value < 0 || value >= 2 ** 32) {
        throw new RangeError(`random state must be an integer in 0..2^32 - 1, got ${String(value)}`);
      }
      state = value;
    },
  }) as SeededRandom;
}

/** A standard normal sample (Box–Muller); 1 - u keeps the logarithm away from 0. */
export function gaussian(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Fisher–Yates shuffle of a copy. */
export function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
