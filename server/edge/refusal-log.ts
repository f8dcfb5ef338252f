/**
 * Every request, socket or seat the edge refuses is counted, and logged once per offender per
 * interval: the first refusal of an offender (a client address; the node itself for its room
 * cap) for a reason is logged at once, and when the interval ends one more line says how many
 * followed it. An attacker sending ten thousand
 * requests a second writes two log lines every ten seconds, not ten thousand.
 */
import type { Logger } from "pino";

export type RefusalReason =
  | "body_too_large"
  | "sockets_total"
  | "sockets_per_ip"
  | "joins_per_ip"
  | "pending_seats"
  | "rooms_per_node"
  | "unknown_room"
  | "holds_full";

/** What a refusal counter needs; a prom-client `Counter<"reason">` is one. */
export interface RefusalCounter {
  inc(labels: { reason: RefusalReason }): void;
}

export interface RefusalLogOptions {
  readonly log: Logger;
  /** Each offender is logged once in this long; 10 s by default. */
  readonly intervalMs?: number;
  /** Offenders remembered per interval (1000 by default); refusals of further ones are summed in one line. */
  readonly maxOffenders?: number;
  readonly counter?: RefusalCounter;
}

export class RefusalLog {
  private readonly o: Required<Omit<RefusalLogOptions, "counter">> & Pick<RefusalLogOptions, "counter">;
  /** Refusals after the first in this interval, by `reason offender`. */
  private readonly repeats = new Map<string, { reason: RefusalReason; offender: string; count: number }>();
  private overflow = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(options: RefusalLogOptions) {
    this.o = { intervalMs: 10_000, maxOffenders: 1000, ...options };
    this.timer = setInterval(() => this.flush(), this.o.intervalMs).unref();
  }

  refused(reason: RefusalReason, offender: string, detail: string): void {
    this.o.counter?.inc({ reason });
    const key = `${reason} ${offender}`;
    const seen = this.repeats.get(key);
    if (seen) {
      seen.count++;
    } else if (this.repeats.size >= this.o.maxOffenders) {
      this.overflow++;
    } else {
      this.repeats.set(key, { reason, offender, count: 0 });
      this.o.log.warn({ event: "edge_refused", reason, offender }, `refused ${offender}: ${detail}`);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.flush();
  }

  private flush(): void {
    const seconds = this.o.intervalMs / 1000;
    for (const { reason, offender, count } of this.repeats.values()) {
      if (count > 0) this.o.log.warn({ event: "edge_refused_repeats", reason, offender, count, seconds }, `refused ${offender} ${count} more times (${reason}) in the last ${seconds} s`);
    }
    if (this.overflow > 0) {
      this.o.log.warn({ event: "edge_refused_repeats", reason: "many", offender: "others", count: this.overflow, seconds }, `refused ${this.overflow} more times, offenders past the first ${this.o.maxOffenders} in the last ${seconds} s`);
    }
    this.repeats.clear();
    this.overflow = 0;
  }
}
