// Builds the playground into a static folder (playground/dist): the two pages (the 2-D
// classifier and the GPT), their style, the shipped texts the GPT page trains on, and each
// page's and worker's script bundled by esbuild (the GPT page's training worker starts
// gpt-pool-worker.js beside itself). Graphviz (@viz-js/viz, its WebAssembly inlined
// as base64) goes into a chunk of its own that loads the first time a graph is drawn.
import { copyFile, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

export const PLAYGROUND_DIR = import.meta.dirname;
export const DIST_DIR = join(PLAYGROUND_DIR, "dist");

const STATIC_FILES = ["index.html", "gpt.html", "style.css"];
/** Files from the repository's data folder, fetched by the GPT page's worker. */
const DATA_FILES = ["names.txt", "tinyshakespeare.txt"];

/** Builds into `outdir` (emptied first) and returns the files written, relative to it. */
export async function buildPlayground(outdir = DIST_DIR): Promise<string[]> {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const result = await build({
    entryPoints: {
      main: join(PLAYGROUND_DIR, "main.ts"),
      worker: join(PLAYGROUND_DIR, "worker.ts"),
      "gpt-main": join(PLAYGROUND_DIR, "gpt-main.ts"),
      "gpt-worker": join(PLAYGROUND_DIR, "gpt-worker.ts"),
      "gpt-pool-worker": join(PLAYGROUND_DIR, "gpt-pool-worker.ts"),
    },
    outdir,
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    // Shared code and the lazily imported Graphviz become chunks; module workers import them too.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    minify: true,
    sourcemap: "linked",
    legalComments: "linked",
    metafile: true,
    logLevel: "warning",
  });
  for (const file of STATIC_FILES) await copyFile(join(PLAYGROUND_DIR, file), join(outdir, file));
  for (const file of DATA_FILES) await copyFile(join(PLAYGROUND_DIR, "..", "data", file), join(outdir, file));
  const outputs = Object.keys(result.metafile.outputs).map((file) => file.slice(file.indexOf("dist/") + 5));
  return [...STATIC_FILES, ...DATA_FILES, ...outputs].sort();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const files = await buildPlayground();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`Built the playground into ${DIST_DIR} (${files.length} files, ${seconds} s)`);
}
