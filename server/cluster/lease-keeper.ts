/**
 * Keeps this node's leases: renews them all in one batch a few times per lease, beside the tick
 * loops, and pauses a room the moment this node can no longer prove it holds the lease, before
 * the lease can lapse in Redis and another node claim the room (lease-lapse.ts: a renewal later
 * resumes it, or finds it claimed and fences it). The proof is asked for before every step and
 * every write (`proven`), not only after a renewal: a node woken from a freeze runs whatever timer
 * fell due first, and must not step or write a room it may no longer own.
 */
import type { NodeMetrics } from "../metrics.ts";
import type { LeaseLapses } from "./lease-lapse.ts";
import type { OwnedRoom } from "./owned-room.ts";
import type { Ownership } from "./ownership.ts";

export interface LeaseKeeperOptions {
  readonly ownership: Ownership;
  readonly metrics: NodeMetrics;
  readonly lapses: LeaseLapses;
  /** The rooms this node owns now. */
  readonly rooms: () => Iterable<OwnedRoom>;
}

/**
 * How often every lease is renewed: six times per lease, so a renewal delayed by an event-loop
 * stall of up to a lease less two intervals (1000 ms at the default 1500) still lands before the
 * local deadline (the last renewal sent, plus a lease, less an interval).
 */
export function renewEveryMs(leaseMs: number): number {
  return Math.max(100, Math.floor(leaseMs / 6));
}

export class LeaseKeeper {
  private readonly o: LeaseKeeperOptions;
  readonly renewEveryMs: number;
  /** Local time after which this node can no longer be sure it still owns the room. */
  private readonly deadlines = new WeakMap<OwnedRoom, number>();
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;

  constructor(options: LeaseKeeperOptions) {
    this.o = options;
    this.renewEveryMs = renewEveryMs(options.ownership.leaseMs);
  }

  start(): void {
    this.timer = setInterval(() => void this.renewAll(), this.renewEveryMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** A room just claimed: its lease runs from now. */
  track(entry: OwnedRoom): void {
    this.deadlines.set(entry, Date.now() + this.o.ownership.leaseMs - this.renewEveryMs);
  }

  private async renewAll(): Promise<void> {
    const rooms = [...this.o.rooms()];
    if (this.renewing || rooms.length === 0) return;
    this.renewing = true;
    const { ownership, metrics } = this.o;
    const { leaseMs } = ownership;
    // A room past its proof is paused first, then renewed with the rest: the renewal takes a lapsed
    // lease back only under an unchanged epoch, and is refused when another node claimed the room.
    for (const e of rooms) this.proven(e);
    const entries = rooms.filter((e) => !e.fenced);
    const sentAt = Date.now();
    try {
      const renewals = await ownership.renew(entries.map((e) => e.lease));
      entries.forEach((e, i) => {
        const renewal = renewals[i];
        if (renewal === "renewed") {
          this.deadlines.set(e, sentAt + leaseMs - this.renewEveryMs);
          this.o.lapses.renewed(e);
        } else if (renewal === "fenced") {
          metrics.fencedWrites.inc();
          e.fence("lease renewal refused: another node claimed the room");
        } else {
          metrics.leaseRenewalFailures.inc();
        }
      });
    } catch {
      metrics.leaseRenewalFailures.inc(entries.length);
    } finally {
      this.renewing = false;
    }
    // Checked after every attempt, reached or not: a node that cannot prove its lease stops the room.
    const now = Date.now();
    for (const e of this.o.rooms()) this.proven(e, now);
  }

  /**
   * Whether this node can still prove it holds the room's lease, so the room may step or write; a
   * room past its proof is paused here and now (lease-lapse.ts), before it can step or write again.
   */
  proven(entry: OwnedRoom, now = Date.now()): boolean {
    if (entry.fenced) return false;
    if (!entry.paused && now <= (this.deadlines.get(entry) ?? 0)) return true;
    this.o.lapses.lapsed(entry, this.o.ownership.leaseMs);
    return false;
  }
}
