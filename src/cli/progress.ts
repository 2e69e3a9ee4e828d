// Training progress: one bar redrawn in place on a terminal, a plain line every so often otherwise
// (a log file or a pipe would fill with carriage returns).
import type { StepRecord } from "../train.js";
import { count } from "./flags.js";

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  /** The terminal's width; the bar's line is cut to fit it, so that it never wraps. */
  columns?: number;
}

/** What the numbers on a progress line are: fit measures the batch before each update. */
export const PROGRESS_LEGEND =
  "(loss, with any L2 penalty, and acc: the step's training batch, before its update)";
/** What `gpt train`'s progress shows: one document's loss jumps too much from step to step. */
export const GPT_PROGRESS_LEGEND =
  "(loss: the training loss averaged over the last 100 steps, each measured before its update)";
/** The same, when the lines also show the held-out test set. */
export const PROGRESS_LEGEND_HELD_OUT =
  "(loss, with any L2 penalty, and acc: the step's training batch, before its update; held-out: the test set, after it)";

/** Piped, a line at least this often, so that a run of hours never looks stuck. */
export const PIPED_INTERVAL_MS = 30_000;

export class Progress {
  private readonly started = performance.now();
  private lastDraw = 0;
  private lastLine = performance.now();
  private every = 1;
  /** The first step this display saw: a resumed run's rate counts only its own steps. */
  private firstDone: number | undefined;
  private drawn = false;
  private heldOut = false;
  private classifier = false;
  /** Says what the numbers are, after the last line; by default, the classifier's legend. */
  legend?: string;
  /** Ends the line with the time so far and an estimate of the time left (a run of minutes). */
  timed = false;

  constructor(
    private readonly stream: ProgressStream,
    private totalSteps: number,
    private readonly live = stream.isTTY === true,
  ) {
    this.total = totalSteps;
  }

  /** The steps of the whole run; a run on a time budget learns them as it goes (0 until then). */
  get total(): number {
    return this.totalSteps;
  }

  set total(steps: number) {
    this.totalSteps = steps;
    // Piped: about ten lines per run, plus the last step, and one at least every 30 s (the
    // only rule while the length of the run is not known).
    this.every = steps > 0 ? Math.max(1, Math.ceil(steps / 10)) : Number.POSITIVE_INFINITY;
  }

  /** `accuracy` may be left out (a language model's step has a loss only). */
  update(record: Pick<StepRecord, "step" | "loss"> & Partial<StepRecord> & { heldOutLoss?: number }): void {
    const done = record.step + 1;
    this.firstDone ??= done;
    const now = performance.now();
    const rate = (done - this.firstDone + 1) / Math.max((now - this.started) / 1000, 1e-9);
    const accuracy = record.accuracy === undefined ? "" : `  acc ${(record.accuracy * 100).toFixed(1)}%`;
    if (record.accuracy !== undefined) this.classifier = true;
    if (record.validationAccuracy !== undefined) this.heldOut = true;
    const validation =
      record.validationAccuracy === undefined
        ? ""
        : `  held-out ${(record.validationAccuracy * 100).toFixed(1)}%`;
    const heldOutLoss = record.heldOutLoss === undefined ? "" : `  held-out ${record.heldOutLoss.toFixed(4)}`;
    const time = this.timed
      ? `  ${clock((now - this.started) / 1000)} elapsed${left(done, this.total, rate)}`
      : "";
    const stats = `loss ${record.loss.toFixed(4)}${accuracy}${validation}${heldOutLoss}  ${rate.toFixed(rate < 10 ? 1 : 0)} steps/s${time}`;
    const total = count(this.total);
    const counter = `step ${count(done).padStart(total.length)}/${total}`;
    if (this.live) {
      // Redraw at most 20 times a second; always draw the last step.
      if (now - this.lastDraw < 50 && done < this.total) return;
      this.lastDraw = now;
      this.drawn = true;
      // One column short of the width: writing the last column makes some terminals wrap.
      const columns = Math.max(1, (this.stream.columns || 80) - 1);
      const room = columns - counter.length - stats.length - 4;
      const width = Math.min(24, room);
      const bar =
        width >= 5
          ? ` [${"#".repeat(filled(width, done, this.total))}${"-".repeat(width - filled(width, done, this.total))}]`
          : "";
      this.stream.write(`\r\x1b[2K${`${counter}${bar} ${stats}`.slice(0, columns)}`);
    } else if (
      done % this.every === 0 ||
      done === this.total ||
      done === 1 ||
      now - this.lastLine >= PIPED_INTERVAL_MS
    ) {
      this.drawn = true;
      this.lastLine = now;
      this.stream.write(`${counter}  ${stats}\n`);
    }
  }

  /** Ends the bar's line and says what its numbers are, so that what follows starts on a fresh line. */
  finish(): void {
    if (this.live) this.stream.write("\n");
    if (!this.drawn) return;
    if (this.legend !== undefined) this.stream.write(`${this.legend}\n`);
    else if (this.classifier)
      this.stream.write(`${this.heldOut ? PROGRESS_LEGEND_HELD_OUT : PROGRESS_LEGEND}\n`);
  }
}

/** 75 → "1:15", 3725 → "1:02:05": elapsed and remaining times on a progress line. */
export function clock(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const [hours, minutes, rest] = [Math.floor(whole / 3600), Math.floor(whole / 60) % 60, whole % 60];
  const two = (n: number) => String(n).padStart(2, "0");
  return hours > 0 ? `${hours}:${two(minutes)}:${two(rest)}` : `${minutes}:${two(rest)}`;
}

/** ", 2:10 left" at the rate so far; nothing once done. */
function left(done: number, total: number, rate: number): string {
  return done >= total || total <= 0 ? "" : `, ${clock((total - done) / rate)} left`;
}

/** How much of a bar `width` wide is done; a run whose length is not known yet shows none. */
function filled(width: number, done: number, total: number): number {
  return total > 0 ? Math.min(width, Math.round((width * done) / total)) : 0;
}
