/**
 * Keeps this node's leases: renews them all in one batch a few times per lease, beside the tick
 * loops, and pauses a room the moment this node can no longer prove it holds the lease, before
 * the lease can lapse in Redis and another node claim the room (lease-lapse.ts: a renewal later
 * resumes it, or finds it claimed and fences it).
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

export class LeaseKeeper {
  private readonly o: LeaseKeeperOptions;
  /** How often every lease is renewed: several renewals fit in one lease, so one lost round trip never costs a room. */
  readonly renewEveryMs: number;
  /** Local time after which this node can no longer be sure it still owns the room. */
  private readonly deadlines = new WeakMap<OwnedRoom, number>();
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;

  constructor(options: LeaseKeeperOptions) {
    this.o = options;
    this.renewEveryMs = Math.max(100, Math.floor(options.ownership.leaseMs / 5));
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
    for (const e of this.o.rooms()) {
      if (!e.fenced && now > (this.deadlines.get(e) ?? 0)) this.o.lapses.lapsed(e, leaseMs);
    }
  }
}
