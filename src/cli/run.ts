// A training run from start to finish, shared by `train` and `demo`: fit with a progress display,
// measure, then write the model first and the pictures after it into the output folder (that
// last part, writeRunFiles, is shared with `gpt train`).
import { basename, join } from "node:path";
import { type Dataset, subset } from "../data.js";
import type { MLP } from "../nn.js";
import { writeFileAtomic } from "../node/files.js";
import { saveModel } from "../node/models.js";
import { createRandom, shuffled } from "../random.js";
import type { ModelMetadata } from "../serialize.js";
import { evaluate, type FitOptions, fit, plannedSteps, SCORE_BLOCK, type StepRecord } from "../train.js";
import { count, type Io } from "./flags.js";
import { MAX_GRAPH, scoringGraphSize } from "./limits.js";
import { Staging } from "./output.js";
import { Progress } from "./progress.js";

/** The most points a boundary picture or frame draws; more are drawn from a random sample. */
const MAX_DRAWN_POINTS = 2000;

export interface Run {
  io: Io;
  out: string;
  data: Dataset;
  test?: Dataset;
  model: MLP;
  options: FitOptions;
  metadata?: ModelMetadata;
  quiet: boolean;
  pictures: boolean;
  name: string;
  /** --max-graph: also bounds the measurement after training and the pictures. */
  maxGraph?: number;
}

export async function runTraining(run: Run): Promise<number> {
  const { io, out, data, test, model } = run;
  let options = run.options;
  // Measuring and drawing run the model over 64 rows at once; for a network so wide that this
  // is larger than the step the limits allowed, measure one row at a time and draw nothing
  // (a picture would take hours), rather than exhaust the memory after training.
  const scoring = scoringGraphSize({
    sizes: [model.nin, ...model.config.nouts],
    activation: model.config.activation,
    outputActivation: model.config.outputActivation,
  });
  const maxGraph = run.maxGraph ?? MAX_GRAPH;
  const rowByRow = scoring > maxGraph;
  if (rowByRow) options = { ...options, compile: false };
  if (rowByRow && run.pictures) {
    io.stderr.write(
      `micrograd: pictures skipped: drawing runs the model over ${SCORE_BLOCK} points at a time, about ${count(scoring)} values, ` +
        `more than --max-graph ${count(maxGraph)}; the model is still written (--no-pictures silences this)\n`,
    );
  }
  const pictures = run.pictures && !rowByRow ? await loadPictures(io) : undefined;
  // A boundary picture needs a plane: two features. Drawing every point of a large data set
  // would take seconds per frame and hide the boundary, so a large one is drawn from a sample.
  const drawn =
    data.X.length > MAX_DRAWN_POINTS
      ? subset(
          data,
          shuffled(
            data.y.map((_, i) => i),
            createRandom(0),
          ).slice(0, MAX_DRAWN_POINTS),
        )
      : data;
  const shown = drawn === data ? "" : ` (${count(MAX_DRAWN_POINTS)} of ${count(data.X.length)} points shown)`;
  const animation = pictures && data.X[0].length === 2 ? new pictures.BoundaryAnimation(drawn) : undefined;
  const total = plannedSteps(data.X.length, options);
  // About 25 frames: each one renders the whole plane, so more would slow training down.
  const frameEvery = Math.max(1, Math.ceil(total / 25));
  const progress = run.quiet ? undefined : new Progress(io.stderr, total);
  const sizes = [model.nin, ...model.config.nouts].join("-");
  if (!run.quiet) {
    io.stdout.write(
      `training an MLP ${sizes} (${count(model.parameters().length)} parameters) on ${count(data.X.length)} ${run.name} samples` +
        `${test ? `, holding out ${count(test.X.length)} for testing` : ""}\n`,
    );
  }

  const started = performance.now();
  // The frames' drawing time is kept apart, so that steps/s is the training's own rate.
  let drawing = 0;
  const result = fit(model, data, {
    ...options,
    onStep: (record: StepRecord) => {
      progress?.update(record);
      if (animation && (record.step % frameEvery === 0 || record.step === total - 1)) {
        const drawingStarted = performance.now();
        animation.addFrame(model, { ...record, step: record.step + 1 });
        drawing += (performance.now() - drawingStarted) / 1000;
      }
      return undefined;
    },
  });
  progress?.finish();
  const seconds = (performance.now() - started) / 1000;

  const metadata: ModelMetadata = {
    ...run.metadata,
    loss: result.loss,
    notes: { data: run.name, steps: result.history.length },
  };
  const measured = { loss: result.loss, compile: !rowByRow };
  let trained = { loss: Number.NaN, accuracy: Number.NaN };
  let held: typeof trained | undefined;

  const files = await writeRunFiles(io, out, {
    essentials: (folder) => {
      saveModel(join(folder, "model.json"), model, metadata);
      const { kept, every } = decimated(result.history, MAX_HISTORY_RECORDS);
      const history = { options: describeOptions(options), ...(every > 1 ? { every } : {}), history: kept };
      writeFileAtomic(join(folder, "history.json"), `${JSON.stringify(history)}\n`);
      return ["model.json", "history.json"];
    },
    // Measured once the model is safe on disk, then saved again with the accuracies in its notes.
    measurement: (folder) => {
      trained = evaluate(model, data, measured);
      held = test ? evaluate(model, test, measured) : undefined;
      const notes = {
        ...metadata.notes,
        trainAccuracy: trained.accuracy,
        ...(held ? { testAccuracy: held.accuracy } : {}),
      };
      saveModel(join(folder, "model.json"), model, { ...metadata, notes });
      return ["model.json"];
    },
    pictures:
      pictures &&
      (async (folder, onError) => {
        const made = await pictures.writeTrainingPictures(folder, {
          model,
          data: data.X[0].length === 2 ? drawn : undefined,
          history: result.history,
          animation,
          title: `${run.name}: MLP ${sizes}${shown}`,
          onError,
        });
        return made.map((path) => basename(path));
      }),
  });

  const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
  io.stdout.write(
    `trained ${count(result.history.length)} step${result.history.length === 1 ? "" : "s"} in ${seconds.toFixed(1)} s (${describeRate(result.history.length, seconds, drawing, options.compile !== false)}); after the last update: ` +
      `training loss ${trained.loss.toFixed(4)}${options.l2 ? " (without L2)" : ""}, training accuracy ${percent(trained.accuracy)} (${count(data.X.length)} samples)` +
      `${held && test ? `; test accuracy ${percent(held.accuracy)} (${count(test.X.length)} held-out samples)` : ""}\n`,
  );
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
  const staging = new Staging(out);
  const written: string[] = [];
  const failed: string[] = [];
  try {
    const essentials = files.essentials(staging.path);
    for (const path of staging.commit(essentials, { removeOthers: true })) written.push(path);
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

/** "compiled, 850 steps/s": what --no-compile is there to compare, without the frames' drawing. */
function describeRate(steps: number, seconds: number, drawing: number, compiled: boolean): string {
  const rate = steps / Math.max(seconds - drawing, 1e-9);
  const frames = drawing > 0 ? `, not counting ${drawing.toFixed(1)} s drawing frames` : "";
  return `${compiled ? "compiled" : "eager"}, ${rate.toFixed(rate < 10 ? 1 : 0)} steps/s${frames}`;
}

function describeOptions(options: FitOptions): Record<string, unknown> {
  const { validation: _validation, onStep: _onStep, ...rest } = options;
  return rest;
}
