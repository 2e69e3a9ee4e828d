// Numbers and number fields of the page: what is shown, and what is accepted from the controls.

/**
 * A number as the page shows it: three significant digits (at most three decimals) for ordinary
 * sizes, a power of ten beyond (1.2e+23, 5e-4), a dash when there is no number.
 */
export function formatNumber(y: number): string {
  if (!Number.isFinite(y)) return "–";
  if (y === 0) return "0";
  const size = Math.abs(y);
  if (size >= 0.01 && size < 1e4) {
    return y.toFixed(Math.min(3, Math.max(0, 2 - Math.floor(Math.log10(size)))));
  }
  return y.toExponential(1).replace(".0e", "e");
}

/** What a number field accepts. */
export interface FieldRule {
  /** What the field holds and what it must be: "the learning rate", "must be above 0". */
  name: string;
  must: string;
  /** Smallest value; `above` makes it exclusive. */
  min?: number;
  above?: boolean;
  max?: number;
  integer?: boolean;
  /** The value of an empty field; without it, an empty field is an error. */
  empty?: number;
}

export const FIELD_RULES = {
  size: {
    name: "the number of points",
    must: "must be a whole number from 2 to 1000",
    min: 2,
    max: 1000,
    integer: true,
  },
  modelSeed: { name: "the seed", must: "must be a whole number", integer: true },
  lr: { name: "the learning rate", must: "must be above 0, such as 0.1", min: 0, above: true },
  batchSize: {
    name: "the batch size",
    must: "must be a whole number of points, 1 or more (empty: all of them)",
    min: 1,
    integer: true,
    empty: 0,
  },
  l2: { name: "the L2 penalty", must: "must be 0 or more (0: none)", min: 0 },
} satisfies Record<string, FieldRule>;

/**
 * The number in a field, or why it is not acceptable. `text` is the field's value; `unreadable`
 * is true when the browser could not read a number from what was typed (a number input's
 * `validity.badInput`: its value is then empty).
 */
export function readField(text: string, unreadable: boolean, rule: FieldRule): number | { error: string } {
  const trimmed = text.trim();
  const reject = (what: string) => ({ error: `${what}: ${rule.name} ${rule.must}.` });
  if (unreadable) return reject("Not a number");
  if (trimmed === "") return rule.empty ?? reject("Empty");
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return reject(`${trimmed} is not a finite number`);
  const tooSmall = rule.min !== undefined && (rule.above ? value <= rule.min : value < rule.min);
  const tooLarge = rule.max !== undefined && value > rule.max;
  if (tooSmall || tooLarge || (rule.integer && !Number.isInteger(value))) return reject(trimmed);
  return value;
}
