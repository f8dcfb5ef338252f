/**
 * Every request, socket or seat the edge refuses is counted (`locus_edge_refusals_total{reason}`)
 * and logged as `edge_refused` through the process's RepeatLog: the first refusal of an offender
 * (a client address; the node itself for its room cap) for a reason at once, the ones that follow
 * summed once per window. An attacker sending ten thousand requests a second writes one line
 * every ten seconds, not ten thousand.
 */
import type { RepeatLog } from "../repeat-log.ts";

export type RefusalReason =
  | "body_too_large"
  | "sockets_total"
  | "sockets_per_ip"
  | "joins_per_ip"
  | "cors_preflight"
  | "pending_seats"
  | "rooms_per_node"
  | "unknown_room"
  | "holds_full";

/** What a refusal counter needs; a prom-client `Counter<"reason">` is one. */
export interface RefusalCounter {
  inc(labels: { reason: RefusalReason }): void;
}

export class RefusalLog {
  private readonly lines: RepeatLog;
  private readonly counter: RefusalCounter;

  constructor(lines: RepeatLog, counter: RefusalCounter) {
    this.lines = lines;
    this.counter = counter;
  }

  refused(reason: RefusalReason, offender: string, detail: string): void {
    this.counter.inc({ reason });
    this.lines.report({ event: "edge_refused", reason, offender }, `refused ${offender}: ${detail}`);
  }
}
