// TensorFlow.js (tfjs-core with its gradients and the CPU backend) for the notebooks.
// tfjs-core's gradients live in ES modules that import each other without file extensions:
// bundlers and vitest accept that, Deno does not. So esbuild (a devDependency) bundles them,
// once per kernel, into one module in memory, which Deno imports.
import * as esbuild from "esbuild";

const entry = `
export * from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import "@tensorflow/tfjs-backend-cpu";
`;
const bundle = await esbuild.build({
  stdin: { contents: entry, resolveDir: import.meta.dirname, loader: "js" },
  bundle: true,
  format: "esm",
  platform: "node",
  // The ES modules of every package, so that there is one tfjs-core, not its Node bundle beside them.
  mainFields: ["module", "main"],
  // tfjs-core asks for Node's util module with require(), which an ES module has to be given.
  banner: { js: `import { createRequire } from "node:module"; const require = createRequire("${import.meta.url}");` },
  write: false,
  logLevel: "error",
});
await esbuild.stop();
const code = bundle.outputFiles[0].text;
const tf: typeof import("@tensorflow/tfjs-core") = await import(`data:text/javascript,${encodeURIComponent(code)}`);
await tf.setBackend("cpu");
// Production mode: no debug checks on every operation, and no banner on the console.
tf.enableProdMode();
export default tf;
