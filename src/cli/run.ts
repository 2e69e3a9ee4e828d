// A training run from start to finish, shared by `train`, `demo` and `gpt train`: say what is
// trained, train with a progress display, then write the run's files into the output folder as
// one set (the model first, the pictures after it) and say where they went. What is trained,
// measured and drawn is the command's; the order and the safety of the files are this file's.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../node/files.js";
import { type Io, UsageError } from "./flags.js";
import { Staging } from "./output.js";
import { Progress } from "./progress.js";

/** One command's training run, as the steps runSession takes in order. */
export interface Session<Result> {
  io: Io;
  /** The output folder, checked before the session was made. */
  out: string;
  /** No announcement and no progress. */
  quiet: boolean;
  /** The line that says what is trained on what. */
  announce: string;
  /** The progress display: how many steps, and what its numbers are. */
  progress: { total: number; legend?: string; timed?: boolean };
  /** Trains, telling `progress` of each step; the time it takes is the run's training time. */
  train: (progress: Progress | undefined) => Result | Promise<Result>;
  /** The files to write once training is done (measuring the model first, if it must). */
  files: (result: Result) => RunFiles | Promise<RunFiles>;
  /** What is said after the files are written: the time, the losses, the samples. */
  summary: (result: Result, seconds: number) => string;
}

/** Runs a session; returns the exit status. */
export async function runSession<Result>(session: Session<Result>): Promise<number> {
  const { io, quiet } = session;
  if (!quiet) io.stdout.write(`${session.announce}\n`);
  const progress = quiet ? undefined : new Progress(io.stderr, session.progress.total);
  if (progress && session.progress.legend !== undefined) progress.legend = session.progress.legend;
  if (progress) progress.timed = session.progress.timed === true;
  const started = performance.now();
  const result = await session.train(progress);
  progress?.finish();
  const seconds = (performance.now() - started) / 1000;
  const files = await writeRunFiles(io, session.out, await session.files(result));
  io.stdout.write(session.summary(result, seconds));
  reportWritten(io, files);
  return 0;
}

/**
 * The most step records history.json holds: 100,000 records are about 15 MB of JSON. A longer
 * run keeps every k-th step (and the last), and says k as "every", so that the file stays far
 * below the longest string JSON.stringify can make (about 500 million characters).
 */
export const MAX_HISTORY_RECORDS = 100_000;

/** Every `every`-th item of `items` and the last, at most about `max` of them. */
export function decimated<T>(items: readonly T[], max: number): { kept: T[]; every: number } {
  const every = Math.max(1, Math.ceil(items.length / max));
  if (every === 1) return { kept: [...items], every };
  const kept: T[] = [];
  for (let i = 0; i < items.length; i += every) kept.push(items[i]);
  if ((items.length - 1) % every !== 0) kept.push(items[items.length - 1]);
  return { kept, every };
}

export interface RunFiles {
  /** Writes the files the run is for (the model, its history) into `folder`; returns their names. */
  essentials: (folder: string) => string[];
  /**
   * Measures the model once the essentials are in place and rewrites some of them (the model
   * with its scores in its notes); returns their names.
   */
  measurement?: (folder: string) => string[];
  /**
   * Writes the pictures into `folder`, telling `onError` of each one that fails and going on
   * with the others; returns the names of those written.
   */
  pictures?: (folder: string, onError: (name: string, error: Error) => void) => Promise<string[]>;
}

/**
 * Writes a run's files into `out` as one set. The essentials go first, replacing the previous
 * run's set of files as a whole (its pictures too, so that no old picture stands beside the new
 * model); then the measurement, which may rewrite them; the pictures follow. A picture that fails is reported and the run still succeeds with
 * its model. Everything is written in a hidden folder first and moved in, so an error or a
 * Ctrl-C leaves no half-written file.
 */
export async function writeRunFiles(
  io: Io,
  out: string,
  files: RunFiles,
): Promise<{ written: string[]; failed: string[] }> {
  const written: string[] = [];
  const failed: string[] = [];
  let staging: Staging;
  try {
    staging = new Staging(out);
  } catch (error) {
    return rescued(out, files, error as Error);
  }
  try {
    let essentials: string[];
    try {
      essentials = files.essentials(staging.path);
      for (const path of staging.commit(essentials, { removeOthers: true })) written.push(path);
    } catch (error) {
      staging.close();
      return rescued(out, files, error as Error);
    }
    if (files.measurement) staging.commit(files.measurement(staging.path));
    if (files.pictures) {
      const made = await files.pictures(staging.path, (name, error) => {
        failed.push(name);
        io.stderr.write(`micrograd: ${name} not written: ${error.message}\n`);
      });
      for (const path of staging.commit(made)) written.push(path);
    }
  } finally {
    staging.close();
  }
  return { written, failed };
}

/**
 * When the output folder fails after training (it was removed, replaced by a file, or the disk
 * filled up), the training is not lost: the model and its history are saved in a new folder in
 * the system's temporary folder, and the error names it.
 */
function rescued(out: string, files: RunFiles, error: Error): never {
  const reasons: Record<string, string> = {
    EEXIST: "something that is not a folder is in its place now",
    ENOTDIR: "something that is not a folder is in its place now",
    ENOENT: "a folder on its path is gone",
    ENOSPC: "the disk is full",
    EACCES: "permission denied",
    EROFS: "the file system is read-only",
  };
  const why = reasons[(error as NodeJS.ErrnoException).code ?? ""] ?? error.message;
  let rescue: string | undefined;
  try {
    rescue = mkdtempSync(join(tmpdir(), "micrograd-rescued-"));
    files.essentials(rescue);
  } catch (second) {
    throw new Error(
      `could not save the trained model into ${out} (${why}), nor into ${rescue ?? "a temporary folder"} (${(second as Error).message})`,
    );
  }
  throw new Error(
    `could not save the trained model into ${out} (${why}); it was saved in ${rescue} instead: move it where you want it`,
  );
}

/** Says where a run's files went, and which could not be written. */
export function reportWritten(io: Io, files: { written: string[]; failed: string[] }): void {
  io.stdout.write(`wrote:\n${files.written.map((path) => `  ${path}\n`).join("")}`);
  if (files.failed.length > 0) io.stdout.write(`not written (see above): ${files.failed.join(", ")}\n`);
}

type Pictures = typeof import("../node/pictures.js");

/** The picture writers need optional packages; without them, training still works. */
export async function loadPictures(io: Io): Promise<Pictures | undefined> {
  try {
    return await import("../node/pictures.js");
  } catch (error) {
    io.stderr.write(`micrograd: pictures skipped (${(error as Error).message})\n`);
    return undefined;
  }
}

/** The picture file `--out` names (`fallback` without it): an .svg or a .png, or a usage error. */
export function pictureOut(
  given: string | undefined,
  fallback: string,
): { path: string; format: "svg" | "png" } {
  const path = resolve(given ?? fallback);
  const format = /\.png$/i.test(path) ? "png" : /\.svg$/i.test(path) ? "svg" : undefined;
  if (format === undefined) throw new UsageError(`--out must end in .svg or .png, got "${given}"`);
  return { path, format };
}

/** Writes `svg` to `out`, rendered when it is a .png; false if the renderer could not be loaded (said on stderr). */
export async function writePicture(
  io: Io,
  out: { path: string; format: "svg" | "png" },
  svg: string,
): Promise<boolean> {
  if (out.format === "svg") {
    writeFileAtomic(out.path, svg);
    return true;
  }
  const renderer = await loadPictures(io);
  if (renderer === undefined) return false;
  writeFileAtomic(out.path, renderer.svgToPng(svg));
  return true;
}

/** A picture as SVG, written as `name`.svg and, with a renderer, as `name`.png. */
export interface Picture {
  name: string;
  svg: () => string;
}

/**
 * Writes each picture into `folder` as SVG and PNG (without `toPng`, an optional package missing,
 * only the SVG), each atomically; a picture that fails is told to `onError` and the others are
 * still written. Returns the names written.
 */
export async function writePictures(
  folder: string,
  pictures: readonly Picture[],
  toPng: ((svg: string) => Uint8Array) | undefined,
  onError: (name: string, error: Error) => void,
): Promise<string[]> {
  const written: string[] = [];
  const attempt = async (name: string, make: () => string | Uint8Array) => {
    // Between pictures, let a Ctrl-C handler run.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      writeFileAtomic(join(folder, name), make());
      written.push(name);
      return true;
    } catch (error) {
      onError(name, error as Error);
      return false;
    }
  };
  for (const picture of pictures) {
    let svg = "";
    const drawn = await attempt(`${picture.name}.svg`, () => {
      svg = picture.svg();
      return svg;
    });
    if (drawn && toPng) await attempt(`${picture.name}.png`, () => toPng(svg));
  }
  return written;
}
