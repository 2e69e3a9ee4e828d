// One worker thread of MLPWorkers (mlp-workers.ts): a copy of the model whose compiled loss
// replays from the shared weights, one part of the batch per item.

import { workerData } from "node:worker_threads";
import { compile } from "../compile/index.js";
import type { WorkerData } from "../data-parallel.js";
import { serveItems } from "../data-parallel-worker.js";
import type { Value } from "../engine.js";
import { classificationLoss, LOSS_NAMES, type LossName, l2Penalty } from "../losses.js";
import { MLP } from "../nn.js";
import { type MLPWorkerSetup, PART_HEADER } from "./mlp-workers.js";

serveItems(workerData as WorkerData, (setup) => {
  const { nin, nouts, ...options } = setup as MLPWorkerSetup;
  // The copy's own initial weights are never used: its replays read the shared ones.
  const model = new MLP(nin, nouts, { ...options, seed: 0 });
  const parameters = model.parameters();
  const nout = nouts[nouts.length - 1];

  /** A part's mean loss times its weight, plus the penalty when it has one, and its outputs. */
  const partLoss = (loss: LossName, l2: number) =>
    compile((X: Value[][], classes: Value[], weight: Value) => {
      const outputs = X.map((x) => model.forward(x));
      let total = classificationLoss(loss, outputs, classes).mul(weight);
      if (l2 > 0) total = total.add(l2Penalty(parameters, l2));
      return [total, outputs] as const;
    });
  // One compiled loss for each loss and penalty met (a pool may serve several runs of fit).
  const losses = new Map<string, ReturnType<typeof partLoss>>();

  return {
    parameters,
    gradient({ arena, input, results }) {
      const loss = LOSS_NAMES[input[1]];
      const l2 = input[2];
      const key = `${loss} ${l2}`;
      let f = losses.get(key);
      if (!f) {
        f = partLoss(loss, l2);
        losses.set(key, f);
      }
      const samples = (input.length - PART_HEADER) / (nin + 1);
      // Typed arrays, as a compiled function takes them: views of the input, not copies.
      const X: Float64Array[] = new Array(samples);
      const classes: number[] = new Array(samples);
      for (let i = 0; i < samples; i++) {
        const at = PART_HEADER + i * (nin + 1);
        X[i] = input.subarray(at, at + nin);
        classes[i] = input[at + nin];
      }
      f.arena = arena;
      const result = f(X as unknown as number[][], classes, input[0]);
      result[0].backward();
      const [total, outputs] = result;
      results[0] = total.data;
      for (let i = 0; i < samples; i++) {
        for (let j = 0; j < nout; j++) results[1 + i * nout + j] = outputs[i][j].data;
      }
    },
  };
});
