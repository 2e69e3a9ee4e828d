// The public API of the core: the engine and everything built on it that needs nothing but JavaScript.

export { ParameterArena } from "./arena.js";
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type DataIdentity,
  type GPTCheckpoint,
  type TrainingPlan,
} from "./checkpoint.js";
export {
  type Compiled,
  type CompiledFunction,
  CompiledValue,
  type CompileOptions,
  compile,
  type Numeric,
  type NumericArguments,
} from "./compile/index.js";
export {
  DATASET_NAMES,
  type Dataset,
  type DatasetName,
  type GeneratorOptions,
  makeBlobs,
  makeCircles,
  makeDataset,
  makeMoons,
  makeSpiral,
  makeXor,
  parseCsv,
  type Scaler,
  standardize,
  subset,
  trainTestSplit,
} from "./data.js";
export {
  DataParallel,
  type DataParallelOptions,
  type PoolWorker,
  type StartWorker,
  type WorkerData,
} from "./data-parallel.js";
export { serveItems, type WorkerModel } from "./data-parallel-worker.js";
export { isRecording, noGrad, type Op, type Operand, Value } from "./engine.js";
export {
  type Block,
  type GenerateOptions,
  GPT,
  GPT_DEFAULTS,
  type GPTConfig,
  type GPTOptions,
  type KVCache,
  type Matrix,
  type Token,
} from "./gpt.js";
export { GPTParallel, type GPTParallelOptions, type GPTWorkerSetup, gptWorkerModel } from "./gpt-parallel.js";
export {
  type BatchGradients,
  compiledLoss,
  evaluateGPT,
  GPT_TRAINING_DEFAULTS,
  type GPTStepRecord,
  type GPTTrainingData,
  type GPTTrainingResult,
  splitDocumentsForTraining,
  type TrainGPTOptions,
  trainGPT,
} from "./gpt-train.js";
export { type GradOptions, grad, hessian, hvp } from "./grad.js";
export { type GradcheckInput, type GradcheckOptions, type GradcheckResult, gradcheck } from "./gradcheck.js";
export {
  bceWithLogitsLoss,
  classificationLoss,
  hingeLoss,
  LOSS_NAMES,
  type LossName,
  l2Penalty,
  mseLoss,
  multiclassHingeLoss,
  predictedClass,
  softmax,
  softmaxCrossEntropy,
} from "./losses.js";
export {
  ACTIVATION_TABLE,
  ACTIVATIONS,
  type Activation,
  type ActivationRule,
  activate,
  INITS,
  type Init,
  Layer,
  MLP,
  type MLPConfig,
  type MLPOptions,
  Module,
  Neuron,
} from "./nn.js";
export {
  Adam,
  type AdamOptions,
  type AdamState,
  AdamW,
  OPTIMIZER_NAMES,
  type Optimizer,
  type OptimizerName,
  type Schedule,
  SGD,
  type SGDOptions,
  scheduledRate,
} from "./optim.js";
export { checkOptions, type OptionKeys } from "./options.js";
export { createRandom, gaussian, type Random, type SeededRandom, shuffled } from "./random.js";
export {
  chooseToken,
  type DecodingOptions,
  type Generated,
  generateTokens,
  type Sample,
  type SampleOptions,
  SlidingContext,
  sampleText,
  sampleWithProbabilities,
} from "./sampling.js";
export {
  bigramScore,
  type CharacterScore,
  characterLogProbabilities,
  type LanguageScore,
  languageScore,
  scoreGPT,
  sequencesToScore,
} from "./scoring.js";
export {
  type GPTModelFile,
  gptFromJSON,
  gptToJSON,
  MODEL_FORMAT,
  MODEL_VERSION,
  type ModelFile,
  ModelFormatError,
  type ModelMetadata,
  modelFromJSON,
  modelToJSON,
} from "./serialize.js";
export { type TextDataset, TextWindows, textDataset } from "./text.js";
export { BigramModel, CharTokenizer, splitDocuments } from "./tokenizer.js";
export {
  accuracy,
  type ClassifierGradients,
  classifierLoss,
  evaluate,
  type FitOptions,
  type FitResult,
  fit,
  predict,
  SCORE_BLOCK,
  type ScoreOptions,
  type StepRecord,
  scores,
} from "./train.js";
export { type LossFunction, type LossResult, Trainer, type TrainerOptions } from "./trainer.js";
export { useWasm } from "./wasm/adam.js";
