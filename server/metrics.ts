/**
 * The node's Prometheus metrics, on a registry of its own so that nothing else in the process
 * (or a second node in a test) mixes in. Rooms report into these from beside their tick, never
 * awaiting anything.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export interface NodeMetrics {
  readonly registry: Registry;
  readonly rooms: Gauge;
  readonly clients: Gauge;
  readonly tickDuration: Histogram;
  readonly tickOverruns: Counter;
  readonly bytesSent: Counter;
  readonly inputsRejected: Counter<"reason">;
  readonly clientsKicked: Counter<"reason">;
}

/** Tick time buckets, in seconds: fine below a millisecond, where a healthy room lives. */
const TICK_BUCKETS = [
  0.00005, 0.0001, 0.0002, 0.0003, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.0333,
  0.05, 0.1,
];

export function createNodeMetrics(labels: { node: string }): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry, prefix: "locus_" });
  return {
    registry,
    rooms: new Gauge({ name: "locus_rooms", help: "Rooms live on this node.", registers: [registry] }),
    clients: new Gauge({ name: "locus_clients", help: "Clients connected to this node's rooms.", registers: [registry] }),
    tickDuration: new Histogram({
      name: "locus_tick_duration_seconds",
      help: "Time one room spends in one fixed step, simulation and patch encoding included.",
      buckets: TICK_BUCKETS,
      registers: [registry],
    }),
    tickOverruns: new Counter({
      name: "locus_tick_overruns_total",
      help: "Steps that took longer than the tick budget (1 / TICK_HZ).",
      registers: [registry],
    }),
    bytesSent: new Counter({
      name: "locus_bytes_sent_total",
      help: "Bytes of websocket payload sent to clients (state, patches, messages).",
      registers: [registry],
    }),
    inputsRejected: new Counter({
      name: "locus_inputs_rejected_total",
      help: "Client messages refused or clamped, by reason.",
      labelNames: ["reason"],
      registers: [registry],
    }),
    clientsKicked: new Counter({
      name: "locus_clients_kicked_total",
      help: "Clients disconnected for abuse, by reason.",
      labelNames: ["reason"],
      registers: [registry],
    }),
  };
}
