// One worker thread of GPTWorkers (gpt-workers.ts): a copy of the model whose compiled loss
// replays from the shared weights, one document per item.

import { workerData } from "node:worker_threads";
import type { WorkerData } from "../data-parallel.js";
import { serveItems } from "../data-parallel-worker.js";
import { GPT } from "../gpt.js";
import { compiledLoss } from "../gpt-train.js";
import type { GPTWorkerSetup } from "./gpt-workers.js";

serveItems(workerData as WorkerData, (setup) => {
  // The copy's own initial weights are never used: its replays read the shared ones.
  const gpt = new GPT({ ...(setup as GPTWorkerSetup), seed: 0 });
  const loss = compiledLoss(gpt);
  return {
    parameters: gpt.parameters(),
    gradient({ arena, input, results }) {
      loss.arena = arena;
      const [weighted, documentLoss] = loss(Array.from(input.subarray(1)), input[0]);
      weighted.backward();
      results[0] = documentLoss.data;
    },
  };
});
