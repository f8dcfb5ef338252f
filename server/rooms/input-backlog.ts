/**
 * Keeps a player's input queue from standing. A client clock a hair faster than the server's,
 * or one burst of inputs after a stall, leaves inputs waiting that never drain: at one input
 * consumed per tick, each one waiting adds a whole tick between a key press and its effect, for
 * the rest of the match. Jitter makes a queue that comes and goes; a queue that never once
 * emptied for a whole second is standing, and then one input is skipped (as CoDel does for
 * packets), until the queue is down to what the jitter needs.
 */
export class InputBacklog {
  private readonly windowTicks: number;
  private fewestWaiting = Number.POSITIVE_INFINITY;
  private ticks = 0;

  constructor(windowTicks: number) {
    this.windowTicks = windowTicks;
  }

  /**
   * Called once per tick with the inputs queued before this tick takes one; true when the
   * oldest should be skipped this tick.
   */
  standing(queued: number): boolean {
    const waiting = queued - 1;
    if (waiting < this.fewestWaiting) this.fewestWaiting = waiting;
    if (++this.ticks < this.windowTicks) return false;
    const standing = this.fewestWaiting > 0;
    this.ticks = 0;
    this.fewestWaiting = Number.POSITIVE_INFINITY;
    return standing && queued > 1;
  }
}
