/**
 * The server time each tick's patch is stamped with. Colyseus stamps a patch with its room clock
 * when the loop's callback runs, and Node runs a 33.3 ms interval every 34 ms, now and then
 * catching up two steps in one callback (whose one patch then carries both): stamped so, patches
 * would come 34, 34, …, 34 ms apart for state 33.3, 33.3, …, 66.7 ms apart, and a client
 * interpolating on them draws other players in jerks. A tick's stamp here is instead one step
 * after the last one, put back onto the room clock only when the loop has dropped time it will
 * not catch up.
 *
 * A tick may run earlier on the room clock than one step after the last stamp: the first stamp is
 * the room clock of the first tick, which may be a step or more late (a room busy with its
 * creation runs two ticks in its first callback), and so may the stamp put back onto the room
 * clock after dropped time. The stamps then run ahead of the room clock by that much, for good,
 * rather than falling back onto it: a stamp a few milliseconds after the last is the one interval
 * a client's interpolation must never see (docs/netcode.md, "Remote players in 30 Hz steps under
 * load"). The loop runs at most a few ticks a callback, so they are never far ahead.
 */

/** Colyseus's loop catches up a few steps and drops the rest; stamps further than this many from the room clock have lost it. */
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
    if (!(Math.abs(elapsedMs - at) <= CATCH_UP_STEPS * this.stepMs)) at = elapsedMs;
    this.at = at;
    return at;
  }
}
