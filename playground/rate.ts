// Steps per second for the top bar, shared by both pages' workers, and the GPT page's
// characters per second.

/** Steps per second, measured over windows of about half a second of wall time while running. */
export class StepRate {
  perSecond = 0;
  /** Characters per second, when measure() is told how many were trained on. */
  charactersPerSecond = 0;
  private windowStart = 0;
  private windowStep = 0;
  private windowCharacters = 0;

  /** Called after a step at time `now` (ms) with the steps (and characters) taken so far. */
  measure(step: number, now: number, characters = 0): void {
    if (now - this.windowStart < 500) return;
    if (this.windowStart > 0 && step >= this.windowStep) {
      this.perSecond = ((step - this.windowStep) * 1000) / (now - this.windowStart);
      this.charactersPerSecond = ((characters - this.windowCharacters) * 1000) / (now - this.windowStart);
    }
    this.windowStart = now;
    this.windowStep = step;
    this.windowCharacters = characters;
  }

  /** Starts again from 0 (a new run, a new way of training): no figure mixes two. */
  restart(step: number, now: number, characters = 0): void {
    this.perSecond = 0;
    this.charactersPerSecond = 0;
    this.windowStart = now;
    this.windowStep = step;
    this.windowCharacters = characters;
  }
}
