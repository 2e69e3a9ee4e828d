// What the GPT page shows of a model besides its loss: where each head's attention looks while
// reading a prefix, which tokens it expects next, and its token embeddings projected onto their
// first two principal components. All of it from the current weights, without recording a graph.
import { type CharTokenizer, type GPT, noGrad, softmax } from "../src/index.js";
import type { Inspection } from "./gpt-protocol.js";

/**
 * The prefix's attention maps and next-token candidates. A prefix with a character outside the
 * vocabulary, or too long for the block, is reported in `problem` (and read up to that point).
 */
export function inspectPrefix(
  gpt: GPT,
  tokenizer: CharTokenizer,
  prefix: string,
  topCandidates: number,
): Pick<Inspection, "prefix" | "problem" | "labels" | "attention" | "candidates"> {
  const { blockSize } = gpt.config;
  const ids: number[] = [];
  let problem = "";
  for (const ch of prefix) {
    const id = tokenizer.chars.indexOf(ch);
    if (id < 0) {
      problem = `${JSON.stringify(ch)} is not one of the model's characters; read up to it.`;
      break;
    }
    if (ids.length + 1 >= blockSize) {
      problem = `The block of ${blockSize} reads BOS and ${blockSize - 1} characters; the rest is not read.`;
      break;
    }
    ids.push(id);
  }
  const tokens = [tokenizer.bos, ...ids];
  const cache = gpt.newCache(true);
  let logits: number[] = [];
  noGrad(() => {
    tokens.forEach((token, position) => {
      logits = gpt.forward(token, position, cache).map((logit) => logit.data);
    });
  });
  const probabilities = softmax(logits);
  const candidates = probabilities
    .map((probability, id) => ({ token: id === tokenizer.bos ? "" : tokenizer.chars[id], probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, topCandidates);
  return {
    prefix,
    problem,
    labels: tokens.map((id) => (id === tokenizer.bos ? "BOS" : tokenizer.chars[id])),
    attention: cache.attention as number[][][][],
    candidates,
  };
}

/**
 * The rows of `matrix` (one point each) projected onto their first two principal components:
 * the directions in which the points spread most. Power iteration on the covariance, the
 * second component after removing the first. `previous` components, when given, start the
 * iteration and fix the signs, so that a projection redrawn as the weights move does not flip.
 */
export function principalComponents(
  matrix: readonly (readonly number[])[],
  previous?: readonly (readonly number[])[],
): { projection: number[]; components: number[][]; mean: number[]; explained: [number, number] } {
  const n = matrix.length;
  const width = matrix[0]?.length ?? 0;
  const mean = new Array(width).fill(0);
  for (const row of matrix) for (let j = 0; j < width; j++) mean[j] += row[j] / n;
  const centred = matrix.map((row) => row.map((x, j) => x - mean[j]));
  const covariance = Array.from({ length: width }, () => new Array(width).fill(0));
  for (const row of centred) {
    for (let i = 0; i < width; i++) for (let j = 0; j < width; j++) covariance[i][j] += (row[i] * row[j]) / n;
  }
  let total = 0;
  for (let i = 0; i < width; i++) total += covariance[i][i];
  const components: number[][] = [];
  const variances: number[] = [];
  for (let k = 0; k < Math.min(2, width); k++) {
    let vector = previous?.[k]?.length === width ? [...previous[k]] : startVector(width, k);
    let variance = 0;
    for (let iteration = 0; iteration < 200; iteration++) {
      const next = multiply(covariance, vector);
      for (const found of components) subtract(next, found, dot(next, found));
      const size = Math.hypot(...next);
      if (size < 1e-300) break;
      const normalized = next.map((x) => x / size);
      const change = Math.hypot(...normalized.map((x, i) => x - vector[i]));
      vector = normalized;
      variance = size;
      if (change < 1e-10) break;
    }
    if (previous?.[k] && dot(vector, previous[k]) < 0) vector = vector.map((x) => -x);
    components.push(vector);
    variances.push(variance);
  }
  while (components.length < 2) {
    components.push(new Array(width).fill(0));
    variances.push(0);
  }
  const share = (v: number) => (total > 0 ? v / total : 0);
  return {
    projection: project(matrix, mean, components),
    components,
    mean,
    explained: [share(variances[0]), share(variances[1])],
  };
}

/** Rows as points on two components: x0, y0, x1, y1, … after subtracting `mean`. */
export function project(
  rows: readonly (readonly number[])[],
  mean: readonly number[],
  components: readonly (readonly number[])[],
): number[] {
  const points: number[] = [];
  for (const row of rows) {
    const centred = row.map((x, j) => x - mean[j]);
    points.push(dot(centred, components[0]), dot(centred, components[1]));
  }
  return points;
}

function startVector(width: number, k: number): number[] {
  // Not orthogonal to any likely component: every entry non-zero and different.
  return Array.from({ length: width }, (_, i) => 1 / Math.sqrt(width) + ((i + k) % 3) * 0.01);
}

function multiply(matrix: readonly (readonly number[])[], vector: readonly number[]): number[] {
  return matrix.map((row) => dot(row, vector));
}

function dot(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** a −= factor · b, in place. */
function subtract(a: number[], b: readonly number[], factor: number): void {
  for (let i = 0; i < a.length; i++) a[i] -= factor * b[i];
}
