// micrograd/viz: pictures of computation graphs and of training. Depends on the core, never the reverse.

export {
  type AttentionOptions,
  attentionSvg,
  type LossCurveOptions,
  lossCurveSvg,
  movingAverage,
} from "./attention.js";
export { CLASS_COLORS, type DecisionBoundaryOptions, decisionBoundarySvg } from "./boundary.js";
export { type CurvePoint, type TrainingCurvesOptions, trainingCurvesSvg } from "./curves.js";
export { DEFAULT_MAX_NODES, type DotOptions, toDot } from "./dot.js";
export { renderGraph } from "./graph.js";
export { type SurpriseOptions, surpriseSvg } from "./surprise.js";
