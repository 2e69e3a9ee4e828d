// The output folder of a training run. Its files are one set: a new run replaces the set of the
// previous one, never leaving an old picture beside a new model, and removes nothing it did not
// write itself: each run records the names it wrote in a manifest (.micrograd-run.json), and
// only names listed there are ever replaced or removed. Work in progress lives in a hidden
// folder that is removed on every way out, Ctrl-C included.
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { constants as os } from "node:os";
import { basename, dirname, join } from "node:path";
import { writeFileAtomic } from "../node/files.js";
import { MODEL_FORMAT } from "../serialize.js";

/**
 * Every file a training run (`train`, `demo`, `gpt train`) may write into its output folder: the
 * only names it ever removes. One list for all of them, so that a GPT run into an MLP's folder
 * (or the other way round) leaves no picture of the other model beside its own.
 */
export const OUTPUT_FILES = [
  "model.json",
  "history.json",
  "boundary.svg",
  "boundary.png",
  "curves.svg",
  "curves.png",
  "training.gif",
  "loss.svg",
  "loss.png",
  "attention.svg",
  "attention.png",
] as const;

/** The file in an output folder that lists the files the last run (and export) wrote there. */
export const MANIFEST = ".micrograd-run.json";
/** `micrograd export`'s default outputs beside model.json: stale once a new run replaces the model. */
export const EXPORTED_FILES = ["model.onnx", "model.safetensors"] as const;
const MANAGED: readonly string[] = [...OUTPUT_FILES, ...EXPORTED_FILES];

/**
 * The names the manifest in `folder` lists: none when it cannot be read, and never a name
 * outside the known output files, so that an edited manifest cannot make a run remove anything
 * else. A folder without a manifest may be a run of a version that wrote none (see earlierRun).
 */
export function readManifest(folder: string): string[] {
  const path = join(folder, MANIFEST);
  if (!existsSync(path)) return earlierRun(folder);
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as { files?: unknown };
    if (!Array.isArray(parsed.files)) return [];
    return parsed.files.filter((name): name is string => typeof name === "string" && MANAGED.includes(name));
  } catch {
    return [];
  }
}

/**
 * Runs of versions before the manifest left none, so that `micrograd demo` after an upgrade
 * would refuse its own old folder. Such a folder is known by a micrograd model file with its
 * history beside it; its files with output names are taken as that run's.
 */
function earlierRun(folder: string): string[] {
  const model = join(folder, "model.json");
  try {
    if (!existsSync(join(folder, "history.json")) || statSync(model).size > 256 * 1024 * 1024) return [];
    const parsed = JSON.parse(readFileSync(model, "utf8")) as { format?: unknown };
    if (parsed.format !== MODEL_FORMAT) return [];
  } catch {
    return [];
  }
  return OUTPUT_FILES.filter((name) => existsSync(join(folder, name)));
}

export function writeManifest(folder: string, names: readonly string[]): void {
  writeFileAtomic(join(folder, MANIFEST), `${JSON.stringify({ files: [...new Set(names)] })}\n`);
}

/**
 * Adds `path` to the manifest of its folder when that folder holds a run whose model.json the
 * manifest lists (so that the next run there removes the now stale file); otherwise does nothing.
 */
export function recordInManifest(path: string): void {
  const folder = dirname(path);
  const listed = readManifest(folder);
  if (MANAGED.includes(basename(path)) && listed.includes("model.json")) {
    writeManifest(folder, [...listed, basename(path)]);
  }
}

/**
 * Checks, before any training, that `out` is a writable folder or can be made one, that none
 * of the files a run writes is something else there, such as a folder, and that every file
 * there with one of their names was written by the previous run (its manifest lists it): a
 * run never overwrites or removes a file of the user's. Creates nothing.
 */
export function checkOutputDirectory(out: string): void {
  if (existsSync(out)) {
    if (!statSync(out).isDirectory())
      throw new Error(`--out ${out} exists and is not a folder; choose another path`);
    try {
      rmSync(mkdtempSync(join(out, ".micrograd-check-")), { recursive: true });
    } catch (error) {
      throw new Error(
        `--out ${out}: cannot write there (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
    const written = readManifest(out);
    // A model.onnx the manifest does not list is left alone: nothing a run writes replaces it.
    for (const name of OUTPUT_FILES) {
      const path = join(out, name);
      if (!existsSync(path)) continue;
      if (!statSync(path).isFile()) {
        throw new Error(`${path} exists and is not a file; move it away or choose another --out`);
      }
      if (!written.includes(name)) {
        throw new Error(
          `${path} was not written by a micrograd run into this folder (its ${MANIFEST} does not list it), ` +
            "and a run would replace or remove it; move it away (or delete it, if a micrograd older than this " +
            "list wrote it) or choose another --out",
        );
      }
    }
    return;
  }
  // The folder is made only when there is something to put in it.
  let parent = dirname(out);
  while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
  if (!statSync(parent).isDirectory())
    throw new Error(`--out ${out}: ${parent} is not a folder; choose another path`);
  try {
    accessSync(parent, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new Error(`--out ${out}: cannot create it in ${parent} (${(error as NodeJS.ErrnoException).code})`);
  }
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * A hidden folder inside `out` where files are written before they are moved into place.
 * Until `close()`, a Ctrl-C (or SIGTERM, SIGHUP) removes it and ends the program with 128 + the
 * signal's number, as a shell reports an interrupted command. The handlers run between steps
 * of asynchronous work, so the writer yields between files.
 */
export class Staging {
  readonly path!: string;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    if (this.path !== undefined) this.close();
    process.stderr.write(`micrograd: interrupted (${signal}); unfinished files removed\n`);
    process.exit(128 + (os.signals[signal] ?? 2));
  };

  constructor(readonly out: string) {
    // The handlers come first and go last, so that the folder never exists without them.
    for (const signal of SIGNALS) process.on(signal, this.onSignal);
    try {
      mkdirSync(out, { recursive: true });
      this.path = mkdtempSync(join(out, ".micrograd-run-"));
    } catch (error) {
      for (const signal of SIGNALS) process.off(signal, this.onSignal);
      throw error;
    }
  }

  /** This run's files in `out` so far, as its manifest lists them. */
  private readonly committed: string[] = [];

  /**
   * Moves the named files from the staging folder into `out` and lists them in the manifest.
   * With `removeOthers`, first removes every other file the previous run's manifest lists
   * (nothing else is touched), so that what is left is this run's set, even if a later file fails.
   */
  commit(names: readonly string[], options: { removeOthers?: boolean } = {}): string[] {
    if (options.removeOthers) {
      for (const name of readManifest(this.out)) {
        if (!names.includes(name)) rmSync(join(this.out, name), { force: true });
      }
    }
    // Listed before they are moved in, so that an interruption leaves no unlisted file of ours.
    this.committed.push(...names);
    writeManifest(this.out, [...(options.removeOthers ? [] : readManifest(this.out)), ...this.committed]);
    return names.map((name) => {
      renameSync(join(this.path, name), join(this.out, name));
      return join(this.out, name);
    });
  }

  /** Removes the staging folder and whatever was not moved out of it; safe to call twice. */
  close(): void {
    rmSync(this.path, { recursive: true, force: true });
    for (const signal of SIGNALS) process.off(signal, this.onSignal);
  }
}
