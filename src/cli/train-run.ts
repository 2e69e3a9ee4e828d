// The run of an MLP, shared by `train` and `demo`: fit with a progress display (and the frames of
// the boundary's animation), then the model and its history, the measurement and the pictures.
import { basename, join } from "node:path";
import { type Dataset, subset } from "../data.js";
import type { MLP } from "../nn.js";
import { writeFileAtomic } from "../node/files.js";
import { MLPWorkers } from "../node/mlp-workers.js";
import { saveModel } from "../node/models.js";
import { createRandom, shuffled } from "../random.js";
import type { ModelMetadata } from "../serialize.js";
import { evaluate, type FitOptions, fit, plannedSteps, SCORE_BLOCK, type StepRecord } from "../train.js";
import { count, type Io, plural } from "./flags.js";
import { MAX_GRAPH, scoringGraphSize } from "./limits.js";
import type { Progress } from "./progress.js";
import { decimated, loadPictures, MAX_HISTORY_RECORDS, type RunFiles, runSession } from "./run.js";

/**
 * Rows × parameters from which the measurement after training is said before it starts: about
 * 10^8 multiply-adds, a few seconds, long enough to look stuck.
 */
const LONG_MEASUREMENT = 1e8;

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
  /** Worker threads sharing each batch (default 1: this thread). */
  workers?: number;
}

type Pictures = NonNullable<Awaited<ReturnType<typeof loadPictures>>>;

export async function runTraining(run: Run): Promise<number> {
  const { io, data, test, model } = run;
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
  const options = rowByRow ? { ...run.options, compile: false } : run.options;
  // Workers replay the compiled step: a run made eager trains on this thread.
  const workers = options.compile === false ? 1 : (run.workers ?? 1);
  if (rowByRow && !run.quiet && run.options.compile !== false) {
    // Measured side by side (64-400-400-10, batch 8): 2.3 s an eager step, 1.2 s compiled.
    io.stderr.write(
      `micrograd: note: training eager, not compiled: a compiled pass over ${SCORE_BLOCK} rows would build about ${count(scoring)} values, ` +
        `more than --max-graph ${count(maxGraph)}; eager steps of a network this wide take about twice as long, ` +
        "and the measurement after training runs one row at a time (raise --max-graph if you have the memory)\n",
    );
  }
  if (rowByRow && run.pictures) {
    io.stderr.write(
      `micrograd: pictures skipped: drawing runs the model over ${SCORE_BLOCK} points at a time, about ${count(scoring)} values, ` +
        `more than --max-graph ${count(maxGraph)}; the model is still written (--no-pictures silences this)\n`,
    );
  }
  const pictures = run.pictures && !rowByRow ? await loadPictures(io) : undefined;
  const drawn = drawnPoints(data);
  let animation = pictures && data.X[0].length === 2 ? new pictures.BoundaryAnimation(drawn) : undefined;
  const total = plannedSteps(data.X.length, options);
  // About 25 frames: each one renders the whole plane, so more would slow training down.
  const frameEvery = Math.max(1, Math.ceil(total / 25));
  const sizes = [model.nin, ...model.config.nouts].join("-");
  // The frames' drawing time is kept apart, so that steps/s is the training's own rate.
  let drawing = 0;
  let scores: { trained: Score; held?: Score } = { trained: { loss: Number.NaN, accuracy: Number.NaN } };
  const trainOn = (progress: Progress | undefined, pool: MLPWorkers | undefined) =>
    fit(model, data, {
      ...options,
      workers: pool,
      onStep: (record: StepRecord) => {
        progress?.update(record);
        if (animation && (record.step % frameEvery === 0 || record.step === total - 1)) {
          const drawingStarted = performance.now();
          try {
            animation.addFrame(model, { ...record, step: record.step + 1 });
          } catch (error) {
            // An optional package missing (gifenc): the animation is skipped, never the training.
            io.stderr.write(`micrograd: training.gif not written: ${(error as Error).message}\n`);
            animation = undefined;
          }
          drawing += (performance.now() - drawingStarted) / 1000;
        }
        return undefined;
      },
    });
  return runSession({
    io,
    out: run.out,
    quiet: run.quiet,
    announce:
      `training an MLP ${sizes} (${count(model.parameters().length)} parameters) on ${count(data.X.length)} ${run.name} samples` +
      `${test ? `, holding out ${count(test.X.length)} for testing` : ""}` +
      (workers > 1 ? `, on ${workers} worker threads` : ""),
    progress: { total },
    train: (progress) => {
      const maxBatch = Math.min(options.batchSize ?? data.X.length, data.X.length);
      const pool = workers > 1 ? new MLPWorkers(model, { workers, maxBatch }) : undefined;
      try {
        return trainOn(progress, pool);
      } finally {
        // Idle workers do not hold the process; stopping them is not waited for.
        void pool?.close();
      }
    },
    files: (result) =>
      runFiles(run, options, result, {
        compile: !rowByRow,
        pictures: pictures && { writer: pictures, drawn, animation, sizes },
        measured: (measured) => {
          scores = measured;
        },
      }),
    summary: (result, seconds) => {
      const steps = result.history.length;
      const { trained, held } = scores;
      const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
      return (
        `trained ${plural(steps, "step")} in ${seconds.toFixed(1)} s (${describeRate(steps, seconds, drawing, options.compile !== false, workers)}); after the last update: ` +
        `training loss ${trained.loss.toFixed(4)}${options.l2 ? " (without L2)" : ""}, training accuracy ${percent(trained.accuracy)} (${count(data.X.length)} samples)` +
        `${held && test ? `; test accuracy ${percent(held.accuracy)} (${count(test.X.length)} held-out samples)` : ""}\n`
      );
    },
  });
}

type Score = { loss: number; accuracy: number };

/**
 * A boundary picture needs a plane: two features. Drawing every point of a large data set
 * would take seconds per frame and hide the boundary, so a large one is drawn from a sample.
 */
function drawnPoints(data: Dataset): Dataset {
  if (data.X.length <= MAX_DRAWN_POINTS) return data;
  const order = shuffled(
    data.y.map((_, i) => i),
    createRandom(0),
  );
  return subset(data, order.slice(0, MAX_DRAWN_POINTS));
}

/** The model and its history, then its scores, then the pictures. */
function runFiles(
  run: Run,
  options: FitOptions,
  result: ReturnType<typeof fit>,
  how: {
    compile: boolean;
    pictures?: {
      writer: Pictures;
      drawn: Dataset;
      animation?: InstanceType<Pictures["BoundaryAnimation"]>;
      sizes: string;
    };
    measured: (scores: { trained: Score; held?: Score }) => void;
  },
): RunFiles {
  const { model, data, test } = run;
  const metadata: ModelMetadata = {
    ...run.metadata,
    loss: result.loss,
    notes: { data: run.name, steps: result.history.length },
  };
  const measured = { loss: result.loss, compile: how.compile };
  const pictures = how.pictures;
  return {
    essentials: (folder) => {
      saveModel(join(folder, "model.json"), model, metadata);
      const { kept, every } = decimated(result.history, MAX_HISTORY_RECORDS);
      const history = { options: describeOptions(options), ...(every > 1 ? { every } : {}), history: kept };
      writeFileAtomic(join(folder, "history.json"), `${JSON.stringify(history)}\n`);
      return ["model.json", "history.json"];
    },
    // Measured once the model is safe on disk, then saved again with the accuracies in its notes.
    measurement: (folder) => {
      const rows = data.X.length + (test?.X.length ?? 0);
      if (!run.quiet && rows * model.parameters().length >= LONG_MEASUREMENT) {
        run.io.stderr.write(
          `micrograd: measuring the trained model on ${count(data.X.length)} training${test ? ` and ${count(test.X.length)} held-out` : ""} rows…\n`,
        );
      }
      const trained = evaluate(model, data, measured);
      const held = test ? evaluate(model, test, measured) : undefined;
      how.measured({ trained, held });
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
        const shown =
          pictures.drawn === data
            ? ""
            : ` (${count(MAX_DRAWN_POINTS)} of ${count(data.X.length)} points shown)`;
        const made = await pictures.writer.writeTrainingPictures(folder, {
          model,
          data: data.X[0].length === 2 ? pictures.drawn : undefined,
          history: result.history,
          animation: pictures.animation,
          title: `${run.name}: MLP ${pictures.sizes}${shown}`,
          onError,
        });
        return made.map((path) => basename(path));
      }),
  };
}

/** "compiled, 850 steps/s": what --no-compile and --workers are there to compare, without the frames' drawing. */
function describeRate(
  steps: number,
  seconds: number,
  drawing: number,
  compiled: boolean,
  workers: number,
): string {
  const rate = steps / Math.max(seconds - drawing, 1e-9);
  const frames = drawing > 0 ? `, not counting ${drawing.toFixed(1)} s drawing frames` : "";
  const threads = workers > 1 ? `, ${workers} workers` : "";
  return `${compiled ? "compiled" : "eager"}${threads}, ${rate.toFixed(rate < 10 ? 1 : 0)} steps/s${frames}`;
}

function describeOptions(options: FitOptions): Record<string, unknown> {
  const { validation: _validation, onStep: _onStep, ...rest } = options;
  return rest;
}
