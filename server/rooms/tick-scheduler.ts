/**
 * Runs the node's room loops, each at a phase of its own spread over the tick, on one timer.
 *
 * A room loop on a setInterval of its own drifts into step with the others: after any stall (a
 * scavenge, a checkpoint, a burst of socket reads) every loop that fell due meanwhile runs back
 * to back, and Node restarts each interval from when it ran, so from then on those loops fall
 * due together. Within seconds of load a node's rooms tick in clumps, and the event loop does a
 * clump's work in one burst each tick that every other due tick and socket read waits behind:
 * the event-loop delay then grows with the node's CPU, well before the core is full.
 *
 * Here each loop keeps a phase on a fixed grid of the tick period (a new loop takes the middle of
 * the widest gap between the phases in use), so after a stall the late loops run once and are
 * back at their own phases for their next tick. A loop never runs before its time on the grid:
 * Colyseus's fixed-step accumulator then sees the deltas it sees on its own interval.
 */

interface Loop {
  readonly phase: number;
  dueAt: number;
  readonly run: () => void;
}

export class TickScheduler {
  private readonly periodMs: number;
  private readonly loops = new Set<Loop>();
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer is due (performance.now()); Infinity while none is. */
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(periodMs: number) {
    this.periodMs = periodMs;
  }

  /** Runs `run` once a period from now on, at a phase of its own; the returned function stops it. */
  add(run: () => void): () => void {
    const phase = this.freePhase();
    const loop: Loop = { phase, dueAt: this.nextOnGrid(phase, performance.now()), run };
    this.loops.add(loop);
    this.arm();
    return () => {
      this.loops.delete(loop);
      if (this.loops.size === 0) this.disarm();
    };
  }

  /** The phase in the middle of the widest gap between the phases in use. */
  private freePhase(): number {
    if (this.loops.size === 0) return 0;
    const phases = [...this.loops].map((l) => l.phase).sort((a, b) => a - b);
    let widest = phases[0]! + this.periodMs - phases[phases.length - 1]!;
    let after = phases[phases.length - 1]!;
    for (let i = 1; i < phases.length; i++) {
      const gap = phases[i]! - phases[i - 1]!;
      if (gap > widest) {
        widest = gap;
        after = phases[i - 1]!;
      }
    }
    return (after + widest / 2) % this.periodMs;
  }

  /** The first time at or after `now` on the grid of `phase`. */
  private nextOnGrid(phase: number, now: number): number {
    return phase + Math.ceil((now - phase) / this.periodMs) * this.periodMs;
  }

  private readonly fire = () => {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    try {
      for (const loop of this.loops) {
        if (loop.dueAt > now) continue;
        const next = loop.dueAt + this.periodMs;
        // A loop that missed whole periods runs once, as a late interval does, and keeps its phase.
        loop.dueAt = next > now ? next : this.nextOnGrid(loop.phase, now);
        loop.run();
      }
    } finally {
      this.arm();
    }
  };

  private arm(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const loop of this.loops) if (loop.dueAt < next) next = loop.dueAt;
    if (next >= this.armedFor) return;
    this.disarm();
    this.armedFor = next;
    // Node's timers count whole milliseconds: rounded up, the timer never fires before the loop is due.
    this.timer = setTimeout(this.fire, Math.ceil(next - performance.now()));
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }
}
