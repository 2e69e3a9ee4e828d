// TensorFlow.js with its pure-JavaScript CPU backend (float32): the ecosystem's standard
// framework running the same model, loss and optimizer as the other engines, the way its
// users write it — dense tensors, tf.train optimizers, optimizer.minimize.
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import type { Batch, Engine, LossAndGradients, LossSpec, OptimizerSpec, Weights } from "./common.js";
import { flatten } from "./common.js";

export interface TfBatch {
  x: tf.Tensor2D;
  /** hinge: labels ±1 (n × 1); softmax: one-hot rows (n × K). */
  target: tf.Tensor2D;
}

let backendReady: Promise<void> | undefined;

/** Selects the CPU backend once; call (and await) before creating an engine. */
export function useTfjsCpu(): Promise<void> {
  backendReady ??= tf.setBackend("cpu").then((ok) => {
    if (!ok) throw new Error("TensorFlow.js: the cpu backend could not be selected");
    // Production mode: no debug checks on every kernel (and no console banner), as one deploys it.
    tf.enableProdMode();
  });
  return backendReady;
}

export function tfjsVersion(): string {
  return tf.version_core;
}

export function createTfjsEngine(
  initial: Weights,
  loss: LossSpec,
  optimizer: OptimizerSpec,
): Engine<TfBatch> {
  if (tf.getBackend() !== "cpu") throw new Error("TensorFlow.js: await useTfjsCpu() first");
  const sizes = initial.sizes;
  const depth = sizes.length - 1;
  // TensorFlow.js multiplies x (n × nin) by W (nin × nout): the transpose of our per-neuron rows.
  const W = initial.layers.map(({ W: rows }, l) => {
    const nin = sizes[l];
    const nout = sizes[l + 1];
    const columns = new Float32Array(nin * nout);
    for (let j = 0; j < nout; j++) for (let i = 0; i < nin; i++) columns[i * nout + j] = rows[j * nin + i];
    return tf.variable(tf.tensor2d(columns, [nin, nout]));
  });
  const b = initial.layers.map(({ b: bias }) => tf.variable(tf.tensor1d(Float32Array.from(bias))));
  const variables: tf.Variable[] = [...W, ...b];
  const update: tf.Optimizer =
    optimizer.kind === "sgd"
      ? tf.train.sgd(optimizer.lr(0))
      : tf.train.adam(optimizer.lr, optimizer.beta1, optimizer.beta2, optimizer.eps);
  let steps = 0;

  function lossOf(batch: TfBatch): tf.Scalar {
    let h: tf.Tensor2D = batch.x;
    for (let l = 0; l < depth; l++) {
      const z = tf.add(tf.matMul(h, W[l]), b[l]) as tf.Tensor2D;
      h = l < depth - 1 ? tf.relu(z) : z;
    }
    if (loss.kind === "hinge") {
      const data = tf.mean(tf.relu(tf.sub(1, tf.mul(batch.target, h))));
      if (loss.l2 === 0) return data as tf.Scalar;
      const sumSquares = tf.addN(variables.map((v) => tf.sum(tf.square(v))));
      return tf.add(data, tf.mul(sumSquares, loss.l2)) as tf.Scalar;
    }
    return tf.neg(tf.mean(tf.sum(tf.mul(batch.target, tf.logSoftmax(h)), 1))) as tf.Scalar;
  }

  return {
    name: "TensorFlow.js (cpu, float32)",
    prepare(batch: Batch): TfBatch {
      const n = batch.X.length;
      const x = tf.tensor2d(batch.X, [n, sizes[0]]);
      const target =
        loss.kind === "hinge"
          ? tf.tensor2d(
              batch.y.map((c) => (c === 1 ? 1 : -1)),
              [n, 1],
            )
          : tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(batch.y, "int32"), sizes[depth]), "float32"));
      return { x, target: target as tf.Tensor2D };
    },
    lossAndGradients(batch: TfBatch): LossAndGradients {
      // tidy keeps the tensors it returns and frees the rest; the numbers are read outside it.
      const { value, grads } = tf.tidy(() => tf.variableGrads(() => lossOf(batch), variables));
      const layers = W.map((w, l) => ({
        W: transposeToRows(grads[w.name].dataSync(), sizes[l], sizes[l + 1]),
        b: Float64Array.from(grads[b[l].name].dataSync()),
      }));
      const result = { loss: value.dataSync()[0], gradients: flatten({ sizes, layers }) };
      value.dispose();
      tf.dispose(grads);
      return result;
    },
    step(batch: TfBatch): number {
      if (optimizer.kind === "sgd") (update as tf.SGDOptimizer).setLearningRate(optimizer.lr(steps));
      const cost = update.minimize(() => lossOf(batch), true, variables);
      steps++;
      if (!cost) throw new Error("TensorFlow.js: minimize returned no cost");
      const value = cost.dataSync()[0];
      cost.dispose();
      return value;
    },
    weights(): Weights {
      const layers = W.map((w, l) => ({
        W: transposeToRows(w.dataSync(), sizes[l], sizes[l + 1]),
        b: Float64Array.from(b[l].dataSync()),
      }));
      return { sizes: [...sizes], layers };
    },
    release(batch: TfBatch) {
      batch.x.dispose();
      batch.target.dispose();
    },
    dispose() {
      update.dispose();
      for (const v of variables) v.dispose();
    },
  };
}

function transposeToRows(columns: ArrayLike<number>, nin: number, nout: number): Float64Array {
  const rows = new Float64Array(nin * nout);
  for (let j = 0; j < nout; j++) for (let i = 0; i < nin; i++) rows[j * nin + i] = columns[i * nout + j];
  return rows;
}
