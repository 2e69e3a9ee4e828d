// micrograd/viz: pictures of computation graphs and of training. Depends on the core, never the reverse.

export {
  type AttentionOptions,
  attentionSvg,
  type LossCurveOptions,
  lossCurveSvg,
  movingAverage,
} from "./attention.js";
export { DEFAULT_MAX_NODES, type DotOptions, toDot } from "./dot.js";
export { renderGraph } from "./graph.js";
export {
  CLASS_COLORS,
  type CurvePoint,
  type DecisionBoundaryOptions,
  decisionBoundarySvg,
  type TrainingCurvesOptions,
  trainingCurvesSvg,
} from "./plots.js";
