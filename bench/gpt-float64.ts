// The practical limit for the GPT: the same model's training step (forward, backward, Adam)
// written by hand as loops over Float64Arrays, every buffer allocated once. Like the engine it
// works one position at a time (matrix-vector products), so it does the same arithmetic; the
// difference from the compiled replay is what an interpreter, a tape and Value parameters cost.
import type { GPTConfig } from "../src/index.js";

/** The matrices of the model, in state-dict order: the order of `GPT.parameters()`. */
function layout(config: GPTConfig) {
  const { vocabSize, nLayer, nEmbd, blockSize } = config;
  let offset = 0;
  const take = (rows: number, cols: number) => {
    const at = offset;
    offset += rows * cols;
    return at;
  };
  const wte = take(vocabSize, nEmbd);
  const wpe = take(blockSize, nEmbd);
  const lmHead = take(vocabSize, nEmbd);
  const blocks = Array.from({ length: nLayer }, () => ({
    wq: take(nEmbd, nEmbd),
    wk: take(nEmbd, nEmbd),
    wv: take(nEmbd, nEmbd),
    wo: take(nEmbd, nEmbd),
    fc1: take(4 * nEmbd, nEmbd),
    fc2: take(nEmbd, 4 * nEmbd),
  }));
  return { wte, wpe, lmHead, blocks, size: offset };
}

/** y = W·x for the rows × cols matrix at `w` in `P`. */
function matVec(
  P: Float64Array,
  w: number,
  rows: number,
  cols: number,
  x: Float64Array,
  xAt: number,
  y: Float64Array,
  yAt: number,
) {
  for (let i = 0; i < rows; i++) {
    const row = w + i * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += P[row + j] * x[xAt + j];
    y[yAt + i] = s;
  }
}

/** dW += dy ⊗ x and dx (+)= Wᵀ·dy, for y = W·x. */
function matVecBack(
  P: Float64Array,
  G: Float64Array,
  w: number,
  rows: number,
  cols: number,
  x: Float64Array,
  xAt: number,
  dy: Float64Array,
  dyAt: number,
  dx: Float64Array,
  dxAt: number,
) {
  for (let i = 0; i < rows; i++) {
    const d = dy[dyAt + i];
    if (d === 0) continue;
    const row = w + i * cols;
    for (let j = 0; j < cols; j++) {
      G[row + j] += d * x[xAt + j];
      dx[dxAt + j] += d * P[row + j];
    }
  }
}

const RMS_EPS = 1e-5;

/** y = x / √(mean(x²) + ε); returns the scale 1/√(…). */
function rmsnorm(x: Float64Array, xAt: number, n: number, y: Float64Array, yAt: number): number {
  let sumSquares = 0;
  for (let j = 0; j < n; j++) sumSquares += x[xAt + j] * x[xAt + j];
  const scale = (sumSquares * (1 / n) + RMS_EPS) ** -0.5;
  for (let j = 0; j < n; j++) y[yAt + j] = x[xAt + j] * scale;
  return scale;
}

/** dx += the gradient through y = x·scale(x), given dy. */
function rmsnormBack(
  x: Float64Array,
  xAt: number,
  n: number,
  scale: number,
  dy: Float64Array,
  dyAt: number,
  dx: Float64Array,
  dxAt: number,
) {
  let dot = 0;
  for (let j = 0; j < n; j++) dot += dy[dyAt + j] * x[xAt + j];
  // d(scale)/d(x_j) = −scale³ · x_j / n
  const k = (dot * scale * scale * scale) / n;
  for (let j = 0; j < n; j++) dx[dxAt + j] += scale * dy[dyAt + j] - k * x[xAt + j];
}

export interface Float64GPT {
  /** Every parameter, in `GPT.parameters()` order. */
  readonly parameters: Float64Array;
  readonly gradients: Float64Array;
  /** The document's mean loss; adds its gradients (times `weight`) into `gradients`. */
  lossAndGradients(tokens: readonly number[], weight?: number): number;
  /** One Adam step at rate `lr` from the gradients, which it then zeroes. */
  adamStep(lr: number): void;
}

export interface AdamSettings {
  betas: [number, number];
  eps: number;
}

export function createFloat64GPT(config: GPTConfig, initial: Float64Array, adam: AdamSettings): Float64GPT {
  const { vocabSize: V, nLayer: L, nEmbd: C, nHead: H, blockSize: T } = config;
  const at = layout(config);
  if (initial.length !== at.size)
    throw new RangeError(`createFloat64GPT: expected ${at.size} parameters, got ${initial.length}`);
  const P = initial.slice();
  const G = new Float64Array(at.size);
  const m = new Float64Array(at.size);
  const v = new Float64Array(at.size);
  let adamSteps = 0;
  const D = C / H;
  const F = 4 * C;
  const scale = 1 / Math.sqrt(D);
  const buffer = (width: number) => new Float64Array(T * width);
  const perLayer = (width: number) => Array.from({ length: L }, () => buffer(width));

  // Activations of every position, kept for backward. `input[l]` is layer l's input (the
  // residual stream), `input[L]` the final one.
  const embedding = buffer(C);
  const embeddingScale = new Float64Array(T);
  const input = Array.from({ length: L + 1 }, () => buffer(C));
  const norm1 = perLayer(C);
  const scale1 = perLayer(1);
  const q = perLayer(C);
  const k = perLayer(C);
  const val = perLayer(C);
  const attention = perLayer(H * T); // [t][h][s]
  const heads = perLayer(C);
  const middle = perLayer(C); // after attention's residual
  const norm2 = perLayer(C);
  const scale2 = perLayer(1);
  const hidden = perLayer(F);
  const probabilities = buffer(V);

  // Gradients of activations.
  const dInput = buffer(C);
  const dMiddle = buffer(C);
  const dNorm = new Float64Array(C);
  const dHidden = new Float64Array(F);
  const dHeads = new Float64Array(C);
  const dq = new Float64Array(C);
  const dk = buffer(C);
  const dv = buffer(C);
  const dScores = new Float64Array(T);
  const dLogits = new Float64Array(V);

  function forward(tokens: readonly number[], n: number): number {
    let loss = 0;
    for (let t = 0; t < n; t++) {
      const e = t * C;
      const tokenRow = at.wte + tokens[t] * C;
      const positionRow = at.wpe + t * C;
      for (let j = 0; j < C; j++) embedding[e + j] = P[tokenRow + j] + P[positionRow + j];
      embeddingScale[t] = rmsnorm(embedding, e, C, input[0], e);
      for (let l = 0; l < L; l++) {
        const b = at.blocks[l];
        const x = input[l];
        scale1[l][t] = rmsnorm(x, e, C, norm1[l], e);
        matVec(P, b.wq, C, C, norm1[l], e, q[l], e);
        matVec(P, b.wk, C, C, norm1[l], e, k[l], e);
        matVec(P, b.wv, C, C, norm1[l], e, val[l], e);
        for (let h = 0; h < H; h++) {
          const weights = attention[l];
          const w0 = (t * H + h) * T;
          let max = Number.NEGATIVE_INFINITY;
          for (let s = 0; s <= t; s++) {
            let dot = 0;
            for (let j = 0; j < D; j++) dot += q[l][e + h * D + j] * k[l][s * C + h * D + j];
            weights[w0 + s] = dot * scale;
            if (weights[w0 + s] > max) max = weights[w0 + s];
          }
          let total = 0;
          for (let s = 0; s <= t; s++) {
            weights[w0 + s] = Math.exp(weights[w0 + s] - max);
            total += weights[w0 + s];
          }
          for (let s = 0; s <= t; s++) weights[w0 + s] /= total;
          for (let j = 0; j < D; j++) {
            let sum = 0;
            for (let s = 0; s <= t; s++) sum += weights[w0 + s] * val[l][s * C + h * D + j];
            heads[l][e + h * D + j] = sum;
          }
        }
        matVec(P, b.wo, C, C, heads[l], e, middle[l], e);
        for (let j = 0; j < C; j++) middle[l][e + j] += x[e + j];
        scale2[l][t] = rmsnorm(middle[l], e, C, norm2[l], e);
        matVec(P, b.fc1, F, C, norm2[l], e, hidden[l], t * F);
        for (let j = 0; j < F; j++) hidden[l][t * F + j] = Math.max(hidden[l][t * F + j], 0);
        matVec(P, b.fc2, C, F, hidden[l], t * F, input[l + 1], e);
        for (let j = 0; j < C; j++) input[l + 1][e + j] += middle[l][e + j];
      }
      const p0 = t * V;
      matVec(P, at.lmHead, V, C, input[L], e, probabilities, p0);
      let max = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < V; c++) max = Math.max(max, probabilities[p0 + c]);
      let total = 0;
      for (let c = 0; c < V; c++) {
        probabilities[p0 + c] = Math.exp(probabilities[p0 + c] - max);
        total += probabilities[p0 + c];
      }
      for (let c = 0; c < V; c++) probabilities[p0 + c] /= total;
      loss -= Math.log(probabilities[p0 + tokens[t + 1]]);
    }
    return loss / n;
  }

  function backward(tokens: readonly number[], n: number, weight: number): void {
    // d(loss)/d(the residual stream at the top), position by position.
    dInput.fill(0, 0, n * C);
    for (let t = 0; t < n; t++) {
      const p0 = t * V;
      for (let c = 0; c < V; c++) dLogits[c] = (probabilities[p0 + c] * weight) / n;
      dLogits[tokens[t + 1]] -= weight / n;
      matVecBack(P, G, at.lmHead, V, C, input[L], t * C, dLogits, 0, dInput, t * C);
    }
    for (let l = L - 1; l >= 0; l--) {
      const b = at.blocks[l];
      dk.fill(0, 0, n * C);
      dv.fill(0, 0, n * C);
      // Latest position first: by the time position t is reached, every later query has
      // added its share to t's key and value gradients.
      for (let t = n - 1; t >= 0; t--) {
        const e = t * C;
        // MLP: input[l + 1] = fc2·relu(fc1·norm2) + middle.
        dHidden.fill(0);
        matVecBack(P, G, b.fc2, C, F, hidden[l], t * F, dInput, e, dHidden, 0);
        for (let j = 0; j < F; j++) if (!(hidden[l][t * F + j] > 0)) dHidden[j] = 0;
        dNorm.fill(0);
        matVecBack(P, G, b.fc1, F, C, norm2[l], e, dHidden, 0, dNorm, 0);
        for (let j = 0; j < C; j++) dMiddle[e + j] = dInput[e + j];
        rmsnormBack(middle[l], e, C, scale2[l][t], dNorm, 0, dMiddle, e);
        // Attention: middle = wo·heads + input[l].
        dHeads.fill(0);
        matVecBack(P, G, b.wo, C, C, heads[l], e, dMiddle, e, dHeads, 0);
        dq.fill(0);
        for (let h = 0; h < H; h++) {
          const w0 = (t * H + h) * T;
          const weights = attention[l];
          let weighted = 0;
          for (let s = 0; s <= t; s++) {
            let dWeight = 0;
            for (let j = 0; j < D; j++) {
              dWeight += dHeads[h * D + j] * val[l][s * C + h * D + j];
              dv[s * C + h * D + j] += weights[w0 + s] * dHeads[h * D + j];
            }
            dScores[s] = dWeight;
            weighted += weights[w0 + s] * dWeight;
          }
          for (let s = 0; s <= t; s++) {
            const dScore = weights[w0 + s] * (dScores[s] - weighted) * scale;
            for (let j = 0; j < D; j++) {
              dq[h * D + j] += dScore * k[l][s * C + h * D + j];
              dk[s * C + h * D + j] += dScore * q[l][e + h * D + j];
            }
          }
        }
        dNorm.fill(0);
        matVecBack(P, G, b.wq, C, C, norm1[l], e, dq, 0, dNorm, 0);
        matVecBack(P, G, b.wk, C, C, norm1[l], e, dk, e, dNorm, 0);
        matVecBack(P, G, b.wv, C, C, norm1[l], e, dv, e, dNorm, 0);
        // The residual: d(input[l]) = d(middle) + through norm1.
        for (let j = 0; j < C; j++) dInput[e + j] = dMiddle[e + j];
        rmsnormBack(input[l], e, C, scale1[l][t], dNorm, 0, dInput, e);
      }
    }
    for (let t = 0; t < n; t++) {
      const e = t * C;
      dNorm.fill(0);
      rmsnormBack(embedding, e, C, embeddingScale[t], dInput, e, dNorm, 0);
      const tokenRow = at.wte + tokens[t] * C;
      const positionRow = at.wpe + t * C;
      for (let j = 0; j < C; j++) {
        G[tokenRow + j] += dNorm[j];
        G[positionRow + j] += dNorm[j];
      }
    }
  }

  return {
    parameters: P,
    gradients: G,
    lossAndGradients(tokens: readonly number[], weight = 1): number {
      const n = Math.min(T, tokens.length - 1);
      const loss = forward(tokens, n);
      backward(tokens, n, weight);
      return loss;
    },
    adamStep(lr: number): void {
      const [beta1, beta2] = adam.betas;
      adamSteps++;
      const correction1 = 1 - beta1 ** adamSteps;
      const correction2 = 1 - beta2 ** adamSteps;
      for (let i = 0; i < P.length; i++) {
        const g = G[i];
        m[i] = beta1 * m[i] + (1 - beta1) * g;
        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
        P[i] -= (lr * (m[i] / correction1)) / (Math.sqrt(v[i] / correction2) + adam.eps);
      }
      G.fill(0);
    },
  };
}

/**
 * Floating-point operations of one training step on a document of `n` predicted positions:
 * the multiply-adds of the matrix-vector products and of attention, two operations each,
 * forward once and backward twice (into the weights and into the activations).
 */
export function gptStepFlops(config: GPTConfig, n: number): number {
  const { vocabSize: V, nLayer: L, nEmbd: C } = config;
  const perPosition = L * (4 * C * C + 8 * C * C) + V * C;
  let attention = 0;
  for (let t = 0; t < n; t++) attention += L * 2 * C * (t + 1); // scores and weighted sums
  const forward = 2 * (n * perPosition + attention);
  return 3 * forward;
}
