// The Graphviz layout of `micrograd graph`, in a worker thread so that the command can stop it.
import { parentPort, workerData } from "node:worker_threads";
import { svgToPng } from "../node/pictures.js";
import { renderGraph } from "../viz/graph.js";
import { build } from "./graph.js";

const { source, maxNodes, format } = workerData as {
  source: Parameters<typeof build>[0];
  maxNodes: number;
  format: "svg" | "png";
};
const svg = await renderGraph(build(source), { maxNodes });
parentPort?.postMessage(format === "png" ? svgToPng(svg, { scale: 2 }) : svg);
