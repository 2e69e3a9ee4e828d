// The line where a score crosses 0 over a grid of scores (marching squares), as SVG path data:
// the decision boundary of a one-output classifier.
import { round } from "./svg.js";

/**
 * The line where the score crosses 0, by marching squares over the grid of cell centres:
 * in each square of four neighbouring centres, the crossing points on its edges are found by
 * linear interpolation and joined.
 */
export function zeroContour(
  score: (row: number, col: number) => number,
  n: number,
  cx: (col: number) => number,
  cy: (row: number) => number,
): string {
  const parts: string[] = [];
  const cross = (a: number, b: number) => a / (a - b);
  for (let row = 0; row < n - 1; row++) {
    for (let col = 0; col < n - 1; col++) {
      const tl = score(row, col);
      const tr = score(row, col + 1);
      const br = score(row + 1, col + 1);
      const bl = score(row + 1, col);
      const caseIndex = (tl > 0 ? 8 : 0) | (tr > 0 ? 4 : 0) | (br > 0 ? 2 : 0) | (bl > 0 ? 1 : 0);
      if (caseIndex === 0 || caseIndex === 15) continue;
      const x0 = cx(col);
      const x1 = cx(col + 1);
      const y0 = cy(row);
      const y1 = cy(row + 1);
      const edge = {
        top: [x0 + (x1 - x0) * cross(tl, tr), y0],
        right: [x1, y0 + (y1 - y0) * cross(tr, br)],
        bottom: [x0 + (x1 - x0) * cross(bl, br), y1],
        left: [x0, y0 + (y1 - y0) * cross(tl, bl)],
      };
      for (const [from, to] of CONTOUR_SEGMENTS[caseIndex]) {
        parts.push(
          `M${round(edge[from][0])},${round(edge[from][1])}L${round(edge[to][0])},${round(edge[to][1])}`,
        );
      }
    }
  }
  return parts.join("");
}

type Edge = "top" | "right" | "bottom" | "left";
// Which edges of a square the line crosses, by which corners are positive (tl 8, tr 4, br 2, bl 1).
const CONTOUR_SEGMENTS: [Edge, Edge][][] = [
  [],
  [["left", "bottom"]],
  [["bottom", "right"]],
  [["left", "right"]],
  [["top", "right"]],
  [
    ["left", "top"],
    ["bottom", "right"],
  ],
  [["top", "bottom"]],
  [["left", "top"]],
  [["left", "top"]],
  [["top", "bottom"]],
  [
    ["top", "right"],
    ["left", "bottom"],
  ],
  [["top", "right"]],
  [["left", "right"]],
  [["bottom", "right"]],
  [["left", "bottom"]],
  [],
];
