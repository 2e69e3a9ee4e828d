// log.jsonl: one line of JSON per training step (the step, its training loss, the learning rate,
// the held-out loss when it was measured, the seconds since training started), the record of a
// run that a notebook or a plotting script reads line by line.
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../node/files.js";

export interface LogRecord {
  /** Steps done, from 1, as the progress counts them. */
  step: number;
  /** The step's training loss, before its update. */
  loss: number;
  /** The learning rate of the step's update. */
  lr: number;
  /** The held-out loss after the step, on the steps where it was measured. */
  heldOut?: number;
  /** Seconds of training so far (a resumed run counts on from its checkpoint). */
  seconds: number;
}

export class TrainingLog {
  private readonly lines: string[] = [];
  /** Every step's training loss so far, a resumed run's earlier steps included. */
  readonly losses: number[] = [];
  /** The held-out losses measured so far, for the loss curve. */
  readonly heldOut: { step: number; loss: number }[] = [];

  /**
   * @param file appended to line by line as training goes, so that a run that is stopped keeps
   *   its log; without it, the lines are only kept for `text()`.
   * @param resumedAt a resumed run's step: the file's records up to it are kept, later ones (of
   *   steps the run takes again) dropped; otherwise the file starts empty.
   */
  constructor(
    private readonly file?: string,
    resumedAt?: number,
  ) {
    if (file === undefined) return;
    const earlier = resumedAt !== undefined && existsSync(file) ? readFileSync(file, "utf8").split("\n") : [];
    for (const line of earlier) {
      if (line.trim() === "") continue;
      let record: LogRecord;
      try {
        record = JSON.parse(line) as LogRecord;
      } catch {
        break; // the last line of a run stopped while writing it
      }
      if (record.step > (resumedAt as number)) break;
      this.remember(record, `${line}\n`);
    }
    writeFileAtomic(file, this.lines.join(""));
  }

  add(record: LogRecord): void {
    const { heldOut, ...rest } = record;
    const line = `${JSON.stringify({ ...rest, ...(heldOut === undefined ? {} : { heldOut }), seconds: Number(record.seconds.toFixed(3)) })}\n`;
    this.remember(record, line);
    if (this.file !== undefined) appendFileSync(this.file, line);
  }

  private remember(record: LogRecord, line: string): void {
    this.lines.push(line);
    this.losses.push(record.loss);
    if (record.heldOut !== undefined) this.heldOut.push({ step: record.step, loss: record.heldOut });
  }

  /** Every line so far. */
  text(): string {
    return this.lines.join("");
  }
}
