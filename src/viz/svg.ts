// What the hand-written SVG pictures share (boundary.ts, curves.ts, attention.ts): the font and
// ink, the opening of a picture on white, text with its style, and numbers rounded for short files.

export const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
export const INK = "#222222";
export const MUTED = "#666666";
// Average advance of a character as a fraction of the font size, to size boxes around text.
export const CHAR_WIDTH = 0.62;

/** The opening <svg> tag of a picture `width` × `height` pixels, and its white background. */
export function svgOpen(width: number, height: number, className: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="${className}" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="${FONT}">\n<rect width="100%" height="100%" fill="#ffffff"/>`
  );
}

/** The most characters any one text of a picture shows: a title holding a whole document would not fit. */
export const MAX_TEXT = 100;

/** `content` cut to at most `max` characters (code points), an ellipsis marking the cut. */
export function shortened(content: string, max = MAX_TEXT): string {
  if (content.length <= max) return content;
  let kept = "";
  let count = 0;
  for (const character of content) {
    if (count === max - 1) return `${kept}…`;
    kept += character;
    count++;
  }
  return kept;
}

/** A line of text, cut to MAX_TEXT characters. */
export function text(
  x: number,
  y: number,
  content: string,
  style: { size: number; anchor?: "start" | "middle" | "end"; weight?: "bold"; color?: string },
): string {
  const anchor = style.anchor && style.anchor !== "start" ? ` text-anchor="${style.anchor}"` : "";
  const weight = style.weight ? ` font-weight="${style.weight}"` : "";
  return `<text x="${round(x)}" y="${round(y)}" font-size="${style.size}" fill="${style.color ?? INK}"${anchor}${weight}>${escapeXml(shortened(content))}</text>`;
}

export function round(x: number, digits = 2): number {
  return Number(x.toFixed(digits));
}

/**
 * Text for an SVG attribute or element. Control characters are not allowed in XML even as
 * references, so they are shown as their Unicode pictures (U+0001 as ␁); tab, LF and CR stay.
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']|\p{Cc}/gu, (c) => {
    const code = c.charCodeAt(0);
    if (code === 9 || code === 10 || code === 13) return c;
    if (code < 32) return String.fromCharCode(0x2400 + code);
    if (code === 127) return "\u2421";
    if (code > 127) return "\ufffd";
    return `&#${code};`;
  });
}

/** The smallest and largest finite value over the points, in one loop (a spread of a long series overflows the call stack). */
export function extent<T>(points: readonly T[], value: (point: T) => number | undefined): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const point of points) {
    const v = value(point);
    if (v === undefined || !Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}
