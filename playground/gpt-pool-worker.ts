// One of the Web Workers among which the GPT page's training worker shares each step's
// documents (gpt-pool.ts starts them): it is sent the pool's shared memory, says it has
// started, and from then on computes its share of every batch until the pool closes.
import { gptWorkerModel, serveItems, type WorkerData } from "../src/index.js";

self.onmessage = (event: MessageEvent<WorkerData>) => {
  self.onmessage = null;
  // Said before serveItems blocks this worker for good: from here on it answers only through
  // shared memory, and the training worker must not wait on it before it is there.
  self.postMessage("started");
  serveItems(event.data, gptWorkerModel);
};
