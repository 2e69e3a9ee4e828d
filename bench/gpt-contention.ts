// How far two cores can go at all: the same one-thread compiled GPT replay (2 × 64, a name at a
// time, forward and backward), alone and then on two threads at once that share nothing but
// the machine. Any slowdown of each is the machine's (the cores' shared cache and memory), not
// the pool's, and 2 ÷ that slowdown is what two workers could reach with no overhead at all.
//
// As a worker thread (workerData set), it runs the replays and posts the time per name.
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { compiledLoss } from "../src/gpt-train.js";
import { GPT } from "../src/index.js";
import { threadBeside } from "../src/node/worker-threads.js";
import { median } from "./common.js";
import { benchNames, type GPTBenchRow } from "./gpt.js";

const NAMES = 48;

interface Job {
  nLayer: number;
  nEmbd: number;
  reps: number;
}

/** The best time per name over `reps` passes over the names, after two passes that trace. */
function replays(job: Job): number {
  const { tokenizer, documents } = benchNames();
  const config = {
    vocabSize: tokenizer.vocabSize,
    nLayer: job.nLayer,
    nEmbd: job.nEmbd,
    nHead: 4,
    blockSize: 16,
  };
  const gpt = new GPT({ ...config, seed: 42 });
  const loss = compiledLoss(gpt);
  const names = documents.slice(0, NAMES);
  const pass = () => {
    for (const name of names) loss(name, 1)[0].backward();
  };
  pass();
  pass();
  const times: number[] = [];
  for (let rep = 0; rep < job.reps; rep++) {
    const started = performance.now();
    pass();
    times.push((performance.now() - started) / names.length);
  }
  return Math.min(...times);
}

function onThread(job: Job): Promise<number> {
  const thread = threadBeside(import.meta.url, "gpt-contention", job);
  return new Promise((resolve, reject) => {
    thread.once("message", resolve);
    thread.once("error", reject);
  });
}

export async function gptContentionWorkload(options: {
  reps: number;
  nLayer?: number;
  nEmbd?: number;
}): Promise<GPTBenchRow[]> {
  const { nLayer = 2, nEmbd = 64 } = options;
  const job: Job = { nLayer, nEmbd, reps: Math.max(3, options.reps) };
  const alone: number[] = [];
  const together: number[] = [];
  // Alone and together in turn, so that load from elsewhere falls on both; alone on a fresh
  // thread too, since this one's heap (the whole benchmark's by then) would slow it.
  for (let round = 0; round < 3; round++) {
    alone.push(await onThread(job));
    together.push(...(await Promise.all([onThread(job), onThread(job)])));
  }
  const slowdowns = together.map((ms) => ms / median(alone));
  const slowdown = median(slowdowns);
  const workload = `Two one-thread GPT replays at once (${nLayer} layer${nLayer === 1 ? "" : "s"}, embd ${nEmbd}, ${NAMES} names each), sharing nothing but the machine`;
  return [
    {
      workload: `${workload}: each one's time ÷ one alone`,
      engine: "micrograd compiled",
      value: {
        median: slowdown,
        min: Math.min(...slowdowns),
        max: Math.max(...slowdowns),
        samples: slowdowns,
      },
      unit: "×",
      result: `alone ${median(alone).toFixed(2)} ms/name, together ${median(together).toFixed(2)}; so two workers can reach at most ${(2 / slowdown).toFixed(2)}× one thread on this machine`,
    },
  ];
}

if (!isMainThread && parentPort) parentPort.postMessage(replays(workerData as Job));
