// The output folder of a training run. Its files are one set: a new run replaces the set of the
// previous one, never leaving an old picture beside a new model, and removes nothing it did not
// write itself: each run records the names it wrote in a manifest (.micrograd-run.json), and
// only names listed there are ever replaced or removed. A run holds its folder (a lock file
// naming its process) from before training to its end. Work in progress lives in a hidden
// folder that is removed on every way out, Ctrl-C included.
import { createHash } from "node:crypto";
import {
  accessSync,
  constants,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { constants as os, tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
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
  "log.jsonl",
  "checkpoint.json",
  "best.json",
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

/** How much later than its model an earlier run's file may have been written. */
const EARLIER_RUN_SLACK_MS = 60_000;

/** The kind of a run: an MLP's (train, demo) or a GPT's (gpt train). */
export type RunKind = "mlp" | "gpt";

/** The files each kind of run writes. */
const FILES_OF_RUN = {
  mlp: [
    "model.json",
    "history.json",
    "boundary.svg",
    "boundary.png",
    "curves.svg",
    "curves.png",
    "training.gif",
  ],
  gpt: ["model.json", "history.json", "loss.svg", "loss.png", "attention.svg", "attention.png"],
} as const;

/**
 * Runs of versions before the manifest left none, so that `micrograd demo` after an upgrade
 * would refuse its own old folder. Such a folder is known by a micrograd model file with its
 * history beside it. Only names that its kind of run (an MLP's or a GPT's, as the model says)
 * writes are taken as that run's, and only files no newer than the model: a copied model beside
 * the user's own attention.png or a loss.svg made later is not a run's, and stays.
 */
function earlierRun(folder: string): string[] {
  const model = join(folder, "model.json");
  let kind: keyof typeof FILES_OF_RUN;
  let saved: number;
  try {
    const stats = statSync(model);
    if (!existsSync(join(folder, "history.json")) || stats.size > 256 * 1024 * 1024) return [];
    const parsed = JSON.parse(readFileSync(model, "utf8")) as { format?: unknown; kind?: unknown };
    if (parsed.format !== MODEL_FORMAT) return [];
    kind = parsed.kind === "gpt" ? "gpt" : "mlp";
    saved = stats.mtimeMs;
  } catch {
    return [];
  }
  // A run draws its pictures within moments of saving its model (and `cp` gives copies one
  // time): a file made more than a minute after the model is someone else's.
  const ofTheRun = (name: string) => {
    const stats = statSync(join(folder, name), { throwIfNoEntry: false });
    return (
      stats?.isFile() === true && (name === "model.json" || stats.mtimeMs <= saved + EARLIER_RUN_SLACK_MS)
    );
  };
  return FILES_OF_RUN[kind].filter(ofTheRun);
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
 * run never overwrites or removes a file of the user's. Only the names a run of `kind` writes are
 * looked at. Creates nothing (a folder made to try that it can be is removed at once).
 */
export function checkOutputDirectory(out: string, kind: RunKind): void {
  checkNoDanglingLink(out);
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
    for (const name of [MANIFEST]) {
      const path = join(out, name);
      if (existsSync(path) && !statSync(path).isFile()) {
        throw new Error(
          `${path} is a folder, where micrograd keeps the list of a run's files; move it away or choose another --out`,
        );
      }
    }
    const written = readManifest(out);
    // A model.onnx the manifest does not list is left alone: nothing a run writes replaces it;
    // nor is a name only the other kind of run writes (an MLP's run leaves a loss.svg alone).
    for (const name of FILES_OF_RUN[kind]) {
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
  // The folder is made only when there is something to put in it; whether it can be is tried
  // now, with a folder made and removed where it would go (write permission alone says
  // nothing of /proc or a read-only mount, and root has it everywhere).
  let parent = dirname(out);
  while (!existsSync(parent) && dirname(parent) !== parent) {
    checkNoDanglingLink(parent, out);
    parent = dirname(parent);
  }
  if (!statSync(parent).isDirectory())
    throw new Error(`--out ${out}: ${parent} is not a folder; choose another path`);
  try {
    accessSync(parent, constants.W_OK | constants.X_OK);
    rmSync(mkdtempSync(join(parent, ".micrograd-check-")), { recursive: true });
  } catch (error) {
    throw new Error(`--out ${out}: cannot create it in ${parent} (${(error as NodeJS.ErrnoException).code})`);
  }
}

/** A symbolic link whose target does not exist passes existsSync as nothing, then fails mkdir. */
function checkNoDanglingLink(path: string, out = path): void {
  const link = lstatSync(path, { throwIfNoEntry: false });
  if (link?.isSymbolicLink() && !existsSync(path)) {
    const where = path === out ? `--out ${out}` : `--out ${out}: ${path}`;
    throw new Error(
      `${where} is a symbolic link to ${readlinkSync(path)}, which does not exist; create its target or choose another --out`,
    );
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
    // A second signal ends the program at once (the handlers are gone), and one whose clean-up
    // fails (a folder that cannot be removed) still ends it.
    for (const name of SIGNALS) process.off(name, this.onSignal);
    let removed = true;
    try {
      if (this.path !== undefined) this.close();
    } catch {
      removed = false;
    }
    process.stderr.write(
      `micrograd: interrupted (${signal}); ${removed ? "unfinished files removed" : `could not remove ${this.path}`}\n`,
    );
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

/**
 * Checks `out` as checkOutputDirectory does for a run of `kind` and holds it for this run until the program ends,
 * so that two runs started together into one folder cannot mix their files: the second is
 * refused, naming the process that holds the folder.
 */
export function claimOutputDirectory(out: string, kind: RunKind): void {
  checkOutputDirectory(out, kind);
  holdOutputDirectory(out);
}

/** What a lock file says of the run that holds a folder. */
interface LockHolder {
  pid: number;
  command: string;
  started: number;
}

/**
 * Holds `out` for this process until it exits, with a lock file that names the process. The
 * lock lives in the system's temporary folder, named after the folder's real path, never in
 * `out`: a run interrupted while training (when no handler can run) must leave nothing there.
 * A lock whose process is gone (killed, or the machine restarted) is stale and taken over.
 */
export function holdOutputDirectory(out: string): void {
  const locks = join(tmpdir(), `micrograd-locks-${process.getuid?.() ?? "user"}`);
  mkdirSync(locks, { recursive: true, mode: 0o700 });
  const path = join(
    locks,
    `${createHash("sha256").update(realFolderPath(out)).digest("hex").slice(0, 24)}.lock`,
  );
  const holder: LockHolder = {
    pid: process.pid,
    command: process.argv.slice(2).join(" "),
    started: Date.now(),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    // Written whole beside the lock, then linked into place: the lock appears complete or not at all.
    const draft = `${path}.${process.pid}.${attempt}`;
    writeFileSync(draft, JSON.stringify(holder));
    try {
      linkSync(draft, path);
      process.once("exit", () => releaseLock(path));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      rmSync(draft, { force: true });
    }
    const other = readLock(path);
    if (other?.pid === process.pid) return;
    if (other !== undefined && isRunning(other.pid)) {
      const seconds = Math.max(0, Math.round((Date.now() - other.started) / 1000));
      throw new Error(
        `--out ${out} is in use by another micrograd run (process ${other.pid}, "micrograd ${other.command}", ` +
          `started ${seconds} s ago); wait for it to end or choose another --out ` +
          `(if no such run is going on, remove ${path})`,
      );
    }
    // Stale (its process is gone) or unreadable: taken over.
    rmSync(path, { force: true });
  }
  throw new Error(`--out ${out}: could not take its lock ${path}; try again`);
}

function readLock(path: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<LockHolder>;
    if (typeof parsed.pid !== "number") return undefined;
    return { pid: parsed.pid, command: String(parsed.command ?? ""), started: Number(parsed.started) || 0 };
  } catch {
    return undefined;
  }
}

function releaseLock(path: string): void {
  if (readLock(path)?.pid === process.pid) rmSync(path, { force: true });
}

/** Whether a process with this id exists (EPERM: it does, but is another user's). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The real path `out` has or will have: symbolic links and `..` resolved in the part that exists. */
function realFolderPath(out: string): string {
  let existing = resolve(out);
  const rest: string[] = [];
  while (!existsSync(existing) && dirname(existing) !== existing) {
    rest.unshift(basename(existing));
    existing = dirname(existing);
  }
  return join(realpathSync(existing), ...rest);
}
