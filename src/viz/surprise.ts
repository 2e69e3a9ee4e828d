// A text with each character shaded by how surprised a language model was to see it: the
// picture of `micrograd gpt score`.
import { escapeXml, svgOpen, text } from "./svg.js";

export interface SurpriseOptions {
  title?: string;
  /** Characters per line before the text wraps (default 48). */
  lineLength?: number;
}

/**
 * Each character in a box shaded from white (expected) to dark red (surprising) by −log₂ p in
 * bits, on a scale up to the largest surprise in the text (at least 8 bits); the number of bits
 * is in each box's tooltip.
 */
export function surpriseSvg(
  characters: readonly string[],
  logProbabilities: readonly number[],
  options: SurpriseOptions = {},
): string {
  if (characters.length !== logProbabilities.length || characters.length === 0) {
    throw new RangeError(
      `surpriseSvg: ${characters.length} characters and ${logProbabilities.length} log-probabilities; give one per character, at least one`,
    );
  }
  const bad = logProbabilities.findIndex((lp) => !(lp <= 0));
  if (bad >= 0)
    throw new RangeError(
      `surpriseSvg: logProbabilities[${bad}] is ${logProbabilities[bad]}, not a log-probability (≤ 0)`,
    );
  const lineLength = options.lineLength ?? 48;
  const bits = logProbabilities.map((lp) => -lp / Math.LN2);
  const scale = Math.max(8, ...bits.filter(Number.isFinite));
  const cell = { width: 16, height: 24 };
  const left = 16;
  const top = options.title ? 44 : 16;
  const lines = Math.ceil(characters.length / lineLength);
  const width = left * 2 + cell.width * Math.min(lineLength, characters.length);
  const height = top + lines * (cell.height + 4) + 40;
  const out = [svgOpen(Math.max(width, 320), height, "micrograd-surprise")];
  if (options.title)
    out.push(
      text(Math.max(width, 320) / 2, 24, options.title, { size: 13, anchor: "middle", weight: "bold" }),
    );
  characters.forEach((character, i) => {
    const x = left + (i % lineLength) * cell.width;
    const y = top + Math.floor(i / lineLength) * (cell.height + 4);
    const shade = Math.min(1, bits[i] / scale);
    out.push(
      `<g class="character" data-bits="${bits[i].toFixed(3)}"><title>${escapeXml(JSON.stringify(character))}: ${bits[i].toFixed(2)} bits</title>` +
        `<rect x="${x}" y="${y}" width="${cell.width - 1}" height="${cell.height}" fill="${heat(shade)}"/>` +
        text(x + cell.width / 2, y + 16, visible(character), {
          size: 13,
          anchor: "middle",
          color: shade > 0.6 ? "#ffffff" : "#222222",
        }) +
        "</g>",
    );
  });
  out.push(
    text(
      left,
      height - 14,
      `white: expected; dark red: ${scale.toFixed(1)} bits or more of surprise (−log₂ p)`,
      { size: 10, color: "#666666" },
    ),
  );
  out.push("</svg>");
  return out.join("\n");
}

/** White to dark red. */
function heat(shade: number): string {
  const mix = (from: number, to: number) => Math.round(from + (to - from) * shade);
  return `rgb(${mix(255, 140)},${mix(255, 10)},${mix(255, 20)})`;
}

/** Characters a reader could not see, shown by name. */
function visible(character: string): string {
  if (character === " ") return "␣";
  if (character === "\n") return "⏎";
  if (character === "\t") return "⇥";
  return /\p{C}/u.test(character) ? "?" : character;
}
