/**
 * The server time each tick's patch is stamped with. Colyseus stamps a patch with its room clock
 * as the tick runs, and its fixed-step loop runs late ticks two at a time: stamps then come 34,
 * 34, …, 0 ms apart, and a client interpolating on them draws other players in jerks. A tick's
 * stamp here is instead one step after the last one: never ahead of the room clock, and put back
 * onto it only when the loop has dropped time it will not catch up.
 */

/** Colyseus's loop catches up a few steps and drops the rest; a lag beyond this many has been dropped. */
const CATCH_UP_STEPS = 6;

export class TickClock {
  private readonly stepMs: number;
  private at = Number.NaN;

  constructor(stepMs: number) {
    this.stepMs = stepMs;
  }

  /** The stamp of a tick that runs when the room clock reads `elapsedMs`. */
  next(elapsedMs: number): number {
    let at = this.at + this.stepMs;
    if (!(at <= elapsedMs) || elapsedMs - at > CATCH_UP_STEPS * this.stepMs) at = elapsedMs;
    this.at = at;
    return at;
  }
}
