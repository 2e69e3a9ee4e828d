// Training progress: one bar redrawn in place on a terminal, a plain line every so often otherwise
// (a log file or a pipe would fill with carriage returns).
import type { StepRecord } from "../train.js";

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export class Progress {
  private readonly started = performance.now();
  private lastDraw = 0;
  private readonly every: number;

  constructor(
    private readonly stream: ProgressStream,
    private readonly total: number,
    private readonly live = stream.isTTY === true,
  ) {
    // Piped: about ten lines per run, plus the last step.
    this.every = Math.max(1, Math.ceil(total / 10));
  }

  /** `accuracy` may be left out (a language model's step has a loss only). */
  update(record: Pick<StepRecord, "step" | "loss"> & Partial<StepRecord>): void {
    const done = record.step + 1;
    const now = performance.now();
    const rate = done / Math.max((now - this.started) / 1000, 1e-9);
    const accuracy = record.accuracy === undefined ? "" : `  acc ${(record.accuracy * 100).toFixed(1)}%`;
    const validation =
      record.validationAccuracy === undefined
        ? ""
        : `  test ${(record.validationAccuracy * 100).toFixed(1)}%`;
    const stats = `loss ${record.loss.toFixed(4)}${accuracy}${validation}  ${rate.toFixed(rate < 10 ? 1 : 0)} steps/s`;
    const counter = `step ${String(done).padStart(String(this.total).length)}/${this.total}`;
    if (this.live) {
      // Redraw at most 20 times a second; always draw the last step.
      if (now - this.lastDraw < 50 && done < this.total) return;
      this.lastDraw = now;
      const width = 24;
      const filled = Math.round((width * done) / this.total);
      const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
      this.stream.write(`\r\x1b[2K${counter} ${bar} ${stats}`);
    } else if (done % this.every === 0 || done === this.total || done === 1) {
      this.stream.write(`${counter}  ${stats}\n`);
    }
  }

  /** Ends the bar's line, so that what follows starts on a fresh one. */
  finish(): void {
    if (this.live) this.stream.write("\n");
  }
}
