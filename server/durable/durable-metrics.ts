/**
 * What the durable-room layer reports: the node's room and client gauges and the counters it keeps
 * for every durable room, handed to every room type with the node's metrics. A failed checkpoint
 * write is the host's to report (the host is what talks to the store). A node makes the layer's
 * own metrics once, on its registry.
 */
import { Histogram, type Registry } from "prom-client";
import type { NodeMetrics } from "../metrics.ts";

export interface DurableCounters {
  /** Ticks a rebuilt room replayed from its journal on top of its checkpoint. */
  readonly journalTicksReplayed: Histogram;
  readonly journalReplaySeconds: Histogram;
  /** The last tick the dead node recorded minus the tick the rebuilt room resumes from: 0 is nothing lost. */
  readonly journalTicksLost: Histogram;
}

export type DurableMetrics = Pick<NodeMetrics, "rooms" | "clients" | "bytesSent" | "seatTakeoversRefused"> & DurableCounters;

export function createDurableCounters(registry: Registry): DurableCounters {
  return {
    journalTicksReplayed: new Histogram({
      name: "locus_journal_replayed_ticks",
      help: "Ticks a rebuilt room replayed from its input journal on top of its checkpoint.",
      buckets: [0, 1, 5, 15, 30, 60, 150, 300, 900],
      registers: [registry],
    }),
    journalReplaySeconds: new Histogram({
      name: "locus_journal_replay_seconds",
      help: "Time a rebuilt room spent replaying its journal, before any player's reconnect was answered.",
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    journalTicksLost: new Histogram({
      name: "locus_rehydration_ticks_lost",
      help: "Per rehydration of a journaled room: the last tick the dead node recorded minus the tick the room resumed from.",
      buckets: [0, 1, 2, 5, 10, 30, 100],
      registers: [registry],
    }),
  };
}
