/**
 * A token bucket paid by the clock. Credit grows at `perSecond`; it may hold one second's worth,
 * or, right after a silence, as much as that silence earned, up to `capSeconds` worth. The
 * long-run rate stays bounded, and a sender that has been sending all along cannot save up a
 * flood, yet a burst after a silence is paid for by the time that passed. That includes a
 * silence the server caused: while a node is stalled (a GC pause, a slow tick, SIGSTOP) an honest
 * client keeps sending, and the backlog reaches the node in one burst when it wakes. A counter per
 * fixed window reads that burst as a flood; here the stall itself bought the credit for it.
 */
export class CreditBucket {
  private readonly perMs: number;
  private readonly capMs: number;
  private credit: number;
  private lastMs: number;

  /** Starts with one second's worth of credit at `nowMs` (any monotonic millisecond clock). */
  constructor(perSecond: number, capSeconds: number, nowMs: number) {
    this.perMs = perSecond / 1000;
    this.capMs = capSeconds * 1000;
    this.credit = perSecond;
    this.lastMs = nowMs;
  }

  /** Draws one unit at `nowMs`; false when the credit does not cover it (nothing is drawn then). */
  take(nowMs: number): boolean {
    const silenceMs = nowMs - this.lastMs;
    this.lastMs = nowMs;
    // Credit left from a longer silence is kept until spent; only earning stops at the ceiling.
    const ceiling = this.perMs * Math.min(Math.max(silenceMs, 1000), this.capMs);
    if (this.credit < ceiling) this.credit = Math.min(this.credit + silenceMs * this.perMs, ceiling);
    if (this.credit < 1) return false;
    this.credit -= 1;
    return true;
  }
}
