// The computation graph as an SVG picture, laid out by Graphviz (compiled to WebAssembly by @viz-js/viz).
import type { Value } from "../index.js";
import { type DotOptions, toDot } from "./dot.js";

type Viz = Awaited<ReturnType<typeof import("@viz-js/viz").instance>>;

// Starting Graphviz compiles its WebAssembly, so it is done once and shared by every call.
let vizInstance: Promise<Viz> | undefined;

function loadViz(): Promise<Viz> {
  vizInstance ??= import("@viz-js/viz").then(
    (viz) => viz.instance(),
    (error: unknown) => {
      vizInstance = undefined;
      throw new Error(
        `renderGraph needs the optional package @viz-js/viz: npm install @viz-js/viz (${(error as Error).message})`,
      );
    },
  );
  return vizInstance;
}

/** SVG text of the graph behind `root` (see `toDot` for what is drawn and for the options). */
export async function renderGraph(root: Value, options: DotOptions = {}): Promise<string> {
  const dot = toDot(root, options);
  const viz = await loadViz();
  // Without the XML declaration the text can be embedded in HTML as it is: nbconvert (lxml)
  // refuses a string that declares its own encoding.
  return viz.renderString(dot, { format: "svg" }).replace(/^\s*<\?xml[^>]*\?>\s*/, "");
}
