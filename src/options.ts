// Options objects as plain JavaScript passes them: without the type checker, a misspelt key
// ({ step: 3 } for { steps: 3 }) would be ignored and the default used without a word.

/** Every key of an options type, each `true`: the compiler keeps the list and the type in step. */
export type OptionKeys<T> = { readonly [K in keyof Required<T>]: true };

/**
 * Refuses an options argument that is not an object, or that has a key `keys` does not list,
 * naming the nearest valid key. `undefined` is no options. Returns the options, typed.
 */
export function checkOptions<T extends object>(
  where: string,
  options: T | undefined,
  keys: OptionKeys<T>,
): T {
  if (options === undefined) return {} as T;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    const given = options === null ? "null" : Array.isArray(options) ? "an array" : `a ${typeof options}`;
    throw new TypeError(
      `${where}: options must be an object such as { ${Object.keys(keys)[0]}: … }, got ${given}`,
    );
  }
  const valid = Object.keys(keys);
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(keys, key)) continue;
    const nearest = nearestKey(key, valid);
    throw new TypeError(
      `${where}: unknown option "${key}"${nearest === undefined ? "" : `; did you mean "${nearest}"?`} ` +
        `(the options are ${valid.join(", ")})`,
    );
  }
  return options;
}

/** The valid key closest to `key` in edits, if any is close enough to be a likely misspelling. */
export function nearestKey(key: string, valid: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of valid) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // A third of the longer name may differ: "nSample" → "nSamples", but not "x" → "seed".
  const allowed = Math.max(1, Math.floor(Math.max(key.length, best?.length ?? 0) / 3));
  return bestDistance <= allowed ? best : undefined;
}

/**
 * The fewest insertions, deletions, substitutions and swaps of neighbours that turn a into b
 * (optimal string alignment): one swap turns "titel" into "title".
 */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2][j - 2] + 1);
      }
      rows[i][j] = best;
    }
  }
  return rows[a.length][b.length];
}
