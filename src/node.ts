// Node-only helpers (files on disk), kept out of the core so that it runs in browsers and Deno.
export { loadDigits, readCsvFile } from "./node/datasets.js";
export { readTextFile, writeFileAtomic } from "./node/files.js";
export { loadModel, saveModel } from "./node/models.js";
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
