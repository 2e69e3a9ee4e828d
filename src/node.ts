// Node-only helpers (files on disk, worker threads), kept out of the core so that it runs in browsers and Deno.

export { loadDigits, loadNames, readCsvFile } from "./node/datasets.js";
export { readTextFile, writeFileAtomic } from "./node/files.js";
export { GPTWorkers, type GPTWorkersOptions } from "./node/gpt-workers.js";
export { batchParts, MLPWorkers, type MLPWorkersOptions } from "./node/mlp-workers.js";
export { loadGPT, loadModel, saveGPT, saveModel } from "./node/models.js";
export {
  type AnimationOptions,
  BoundaryAnimation,
  type Caption,
  type PngOptions,
  svgToPng,
  type TrainingPictures,
  writeGraphPicture,
  writeTrainingPictures,
} from "./node/pictures.js";
export { coresAvailable } from "./node/worker-threads.js";
