// log.jsonl: one line of JSON per training step (the step, its training loss, the learning rate,
// the held-out loss when it was measured, the seconds since training started), the record of a
// run that a notebook or a plotting script reads line by line.
import { appendFileSync } from "node:fs";

export interface LogRecord {
  /** Steps done, from 1, as the progress counts them. */
  step: number;
  /** The step's training loss, before its update. */
  loss: number;
  /** The learning rate of the step's update. */
  lr: number;
  /** The held-out loss after the step, on the steps where it was measured. */
  heldOut?: number;
}

export class TrainingLog {
  private readonly lines: string[] = [];
  /** The held-out losses measured so far, for the loss curve. */
  readonly heldOut: { step: number; loss: number }[] = [];
  private readonly started = performance.now();

  /**
   * @param file appended to line by line as training goes (a run that is stopped keeps its log);
   *   without it, the lines are kept for `text()`.
   */
  constructor(private readonly file?: string) {}

  add(record: LogRecord): void {
    const seconds = Number(((performance.now() - this.started) / 1000).toFixed(3));
    const line = `${JSON.stringify({ ...record, seconds })}\n`;
    if (record.heldOut !== undefined) this.heldOut.push({ step: record.step, loss: record.heldOut });
    if (this.file === undefined) this.lines.push(line);
    else appendFileSync(this.file, line);
  }

  /** Every line so far, for a log written with the run's other files. */
  text(): string {
    return this.lines.join("");
  }
}
