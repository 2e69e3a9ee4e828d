// One worker thread of GPTWorkers (gpt-workers.ts); what it computes is ../gpt-parallel.ts's.
import { workerData } from "node:worker_threads";
import type { WorkerData } from "../data-parallel.js";
import { serveItems } from "../data-parallel-worker.js";
import { gptWorkerModel } from "../gpt-parallel.js";

serveItems(workerData as WorkerData, gptWorkerModel);
