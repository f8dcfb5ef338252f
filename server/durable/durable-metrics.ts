/**
 * What the durable-room layer reports: the node's room and client gauges it keeps for every
 * durable room, and the counters of its own. A node makes the layer's counters once, on its
 * registry, and hands them to every room type with the node's metrics.
 */
import { Counter, type Registry } from "prom-client";
import type { NodeMetrics } from "../metrics.ts";

export interface DurableCounters {
  /** Writes of an every-change room's checkpoint that failed; the change waits, unrevealed, for a retry. */
  readonly checkpointCommitFailures: Counter;
}

export type DurableMetrics = Pick<NodeMetrics, "rooms" | "clients" | "bytesSent" | "seatTakeoversRefused"> & DurableCounters;

export function createDurableCounters(registry: Registry): DurableCounters {
  return {
    checkpointCommitFailures: new Counter({
      name: "locus_checkpoint_commit_failures_total",
      help: "Checkpoint writes of every-change rooms that failed; the change is revealed only once a retry is stored.",
      registers: [registry],
    }),
  };
}
