// The practical limit: the same forward and backward math written by hand as loops over
// Float64Arrays, with every buffer allocated once. No graph, no objects per number.
// The sums run in the same order as the engine's, so the forward pass matches it bit for bit.
import type { Batch, Engine, LossAndGradients, LossSpec, OptimizerSpec, Weights } from "./common.js";
import { flatten } from "./common.js";

export interface Float64Batch {
  n: number;
  /** n × nin, row-major. */
  X: Float64Array;
  y: Int32Array;
}

export function createFloat64Engine(
  initial: Weights,
  loss: LossSpec,
  optimizer: OptimizerSpec,
  maxBatch: number,
): Engine<Float64Batch> {
  const sizes = initial.sizes;
  const depth = sizes.length - 1;
  const W = initial.layers.map((layer) => layer.W.slice());
  const b = initial.layers.map((layer) => layer.b.slice());
  const gradW = W.map((w) => new Float64Array(w.length));
  const gradB = b.map((v) => new Float64Array(v.length));
  // activations[l] is the output of layer l (n × sizes[l + 1]); deltas[l] its d(loss)/d(pre-activation).
  const activations = sizes.slice(1).map((size) => new Float64Array(maxBatch * size));
  const deltas = sizes.slice(1).map((size) => new Float64Array(maxBatch * size));

  if (loss.kind === "hinge" && sizes[depth] !== 1) throw new RangeError("hinge loss needs one output");

  function layerInput(batch: Float64Batch, l: number): Float64Array {
    return l === 0 ? batch.X : activations[l - 1];
  }

  function forward(batch: Float64Batch): void {
    for (let l = 0; l < depth; l++) {
      const nin = sizes[l];
      const nout = sizes[l + 1];
      const input = layerInput(batch, l);
      const output = activations[l];
      const w = W[l];
      const bias = b[l];
      const hidden = l < depth - 1;
      for (let s = 0; s < batch.n; s++) {
        for (let j = 0; j < nout; j++) {
          let z = 0;
          for (let i = 0; i < nin; i++) z += w[j * nin + i] * input[s * nin + i];
          z += bias[j];
          // For ReLU layers the pre-activation's sign is all backward needs, so only the output is kept.
          output[s * nout + j] = hidden ? Math.max(z, 0) : z;
        }
      }
    }
  }

  /** Fills deltas[depth - 1] with d(loss)/d(score) and returns the loss (without the L2 term). */
  function dataLoss(batch: Float64Batch): number {
    const n = batch.n;
    const k = sizes[depth];
    const scores = activations[depth - 1];
    const delta = deltas[depth - 1];
    let total = 0;
    if (loss.kind === "hinge") {
      for (let s = 0; s < n; s++) {
        const sign = batch.y[s] === 1 ? 1 : -1;
        const margin = scores[s] * -sign + 1;
        total += Math.max(margin, 0);
        delta[s] = margin > 0 ? (1 / n) * -sign : 0;
      }
      return total / n;
    }
    for (let s = 0; s < n; s++) {
      const row = s * k;
      let max = scores[row];
      for (let c = 1; c < k; c++) max = Math.max(max, scores[row + c]);
      let sumExp = 0;
      for (let c = 0; c < k; c++) {
        const e = Math.exp(scores[row + c] - max);
        delta[row + c] = e;
        sumExp += e;
      }
      total += Math.log(sumExp) - (scores[row + batch.y[s]] - max);
      for (let c = 0; c < k; c++) delta[row + c] = delta[row + c] / sumExp / n;
      delta[row + batch.y[s]] -= 1 / n;
    }
    return total / n;
  }

  function backward(batch: Float64Batch): void {
    for (let l = depth - 1; l >= 0; l--) {
      const nin = sizes[l];
      const nout = sizes[l + 1];
      const input = layerInput(batch, l);
      const delta = deltas[l];
      const gw = gradW[l];
      const gb = gradB[l];
      const w = W[l];
      gw.fill(0);
      gb.fill(0);
      for (let s = 0; s < batch.n; s++) {
        for (let j = 0; j < nout; j++) {
          const d = delta[s * nout + j];
          if (d === 0) continue;
          gb[j] += d;
          for (let i = 0; i < nin; i++) gw[j * nin + i] += d * input[s * nin + i];
        }
      }
      if (l === 0) break;
      // Through the previous layer's ReLU: its output is positive exactly where it passes gradient.
      const below = deltas[l - 1];
      below.fill(0, 0, batch.n * nin);
      for (let s = 0; s < batch.n; s++) {
        for (let j = 0; j < nout; j++) {
          const d = delta[s * nout + j];
          if (d === 0) continue;
          for (let i = 0; i < nin; i++) below[s * nin + i] += d * w[j * nin + i];
        }
        for (let i = 0; i < nin; i++) if (input[s * nin + i] <= 0) below[s * nin + i] = 0;
      }
    }
  }

  /** Adds l2·Σp² to the loss and 2·l2·p to every gradient. */
  function l2Penalty(): number {
    if (loss.kind !== "hinge" || loss.l2 === 0) return 0;
    const alpha = loss.l2;
    let sumSquares = 0;
    for (let l = 0; l < depth; l++) {
      const nin = sizes[l];
      for (let j = 0; j < sizes[l + 1]; j++) {
        for (let i = 0; i < nin; i++) {
          const p = W[l][j * nin + i];
          sumSquares += p * p;
          gradW[l][j * nin + i] += alpha * p + alpha * p;
        }
        const p = b[l][j];
        sumSquares += p * p;
        gradB[l][j] += alpha * p + alpha * p;
      }
    }
    return sumSquares * alpha;
  }

  function compute(batch: Float64Batch): number {
    if (batch.n > maxBatch) throw new RangeError(`batch of ${batch.n} exceeds maxBatch ${maxBatch}`);
    forward(batch);
    const data = dataLoss(batch);
    backward(batch);
    return data + l2Penalty();
  }

  const parameters = [...W, ...b];
  const gradients = [...gradW, ...gradB];
  // Adam's running means of the gradient and of its square, one pair per parameter array.
  const m = parameters.map((p) => new Float64Array(p.length));
  const v = parameters.map((p) => new Float64Array(p.length));
  let steps = 0;

  /** Applies the optimizer to every parameter, given the gradients just computed. */
  function update(): void {
    if (optimizer.kind === "sgd") {
      const lr = optimizer.lr(steps);
      for (let a = 0; a < parameters.length; a++) {
        const p = parameters[a];
        const g = gradients[a];
        for (let k = 0; k < p.length; k++) p[k] -= lr * g[k];
      }
    } else {
      const { lr, beta1, beta2, eps } = optimizer;
      const correction1 = 1 - beta1 ** (steps + 1);
      const correction2 = 1 - beta2 ** (steps + 1);
      for (let a = 0; a < parameters.length; a++) {
        const p = parameters[a];
        const g = gradients[a];
        const ma = m[a];
        const va = v[a];
        for (let k = 0; k < p.length; k++) {
          ma[k] = beta1 * ma[k] + (1 - beta1) * g[k];
          va[k] = beta2 * va[k] + (1 - beta2) * g[k] * g[k];
          p[k] -= (lr * (ma[k] / correction1)) / (Math.sqrt(va[k] / correction2) + eps);
        }
      }
    }
    steps++;
  }

  return {
    name: "Float64Array by hand",
    prepare(batch: Batch): Float64Batch {
      const nin = sizes[0];
      const X = new Float64Array(batch.X.length * nin);
      batch.X.forEach((row, s) => {
        X.set(row, s * nin);
      });
      return { n: batch.X.length, X, y: Int32Array.from(batch.y) };
    },
    lossAndGradients(batch: Float64Batch): LossAndGradients {
      const value = compute(batch);
      const layers = gradW.map((w, l) => ({ W: w, b: gradB[l] }));
      return { loss: value, gradients: flatten({ sizes, layers }) };
    },
    step(batch: Float64Batch): number {
      const value = compute(batch);
      update();
      return value;
    },
    weights(): Weights {
      return { sizes: [...sizes], layers: W.map((w, l) => ({ W: w.slice(), b: b[l].slice() })) };
    },
    release() {},
    dispose() {},
  };
}
