/**
 * What the durable-room layer reports: the node's room and client gauges and the counters it keeps
 * for every durable room, handed to every room type with the node's metrics. A failed checkpoint
 * write is the host's to report (the host is what talks to the store).
 */
import type { NodeMetrics } from "../metrics.ts";

export type DurableMetrics = Pick<NodeMetrics, "rooms" | "clients" | "bytesSent" | "seatTakeoversRefused">;
