/**
 * The node's Prometheus metrics, on a registry of its own so that nothing else in the process
 * (or a second node in a test) mixes in. Rooms report into these from beside their tick, never
 * awaiting anything.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { TallyCounter, TallyHistogram } from "./tick-metrics.ts";

export interface NodeMetrics {
  readonly registry: Registry;
  readonly rooms: Gauge;
  readonly clients: Gauge;
  readonly tickDuration: TallyHistogram;
  readonly tickOverruns: Counter;
  readonly bytesSent: TallyCounter;
  readonly inputsRejected: Counter<"reason">;
  readonly clientsKicked: Counter<"reason">;
  readonly framesRefused: Counter<"reason">;
  readonly framesDropped: Counter;
  readonly rehydrations: Counter;
  readonly recoverySeconds: Histogram;
  readonly checkpointBytes: Histogram;
  readonly checkpointWriteSeconds: Histogram;
  readonly journalBytes: Counter;
  readonly journalBatches: Counter;
  readonly journalWrites: Counter;
  readonly journalWriteSeconds: Histogram;
  readonly journalRefused: Counter;
  readonly leaseRenewalFailures: Counter;
  readonly fencedWrites: Counter;
  readonly recoveryFailures: Counter<"kind">;
  readonly adminAuthFailures: Counter;
  readonly badRedisRecords: Counter<"kind">;
  readonly checkpointsQuarantined: Counter;
  readonly seatTakeoversRefused: Counter;
  readonly edgeRefusals: Counter<"reason">;
  readonly lateInputTicks: Counter<"handled">;
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
    tickDuration: new TallyHistogram({
      name: "locus_tick_duration_seconds",
      help: "Time one room spends on one patch: the fixed steps it carries (one, but when a late loop catches up) and the patch's encoding and sending.",
      buckets: TICK_BUCKETS,
      registers: [registry],
    }),
    tickOverruns: new Counter({
      name: "locus_tick_overruns_total",
      help: "Patches whose steps and sending took longer than their budget (1 / TICK_HZ a step).",
      registers: [registry],
    }),
    bytesSent: new TallyCounter({
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
    framesRefused: new Counter({
      name: "locus_frames_refused_total",
      help: "Websocket frames outside their room's frame policy, by reason; each closed its socket with 4415.",
      labelNames: ["reason"],
      registers: [registry],
    }),
    framesDropped: new Counter({
      name: "locus_frames_dropped_total",
      help: "Websocket frames dropped unprocessed because their connection was over its frame budget (counted when the connection closes).",
      registers: [registry],
    }),
    rehydrations: new Counter({
      name: "locus_rehydrations_total",
      help: "Rooms this node rebuilt from another node's checkpoint.",
      registers: [registry],
    }),
    recoverySeconds: new Histogram({
      name: "locus_recovery_seconds",
      help: "From the old owner's last sign of life to the room live again here.",
      buckets: [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13],
      registers: [registry],
    }),
    checkpointBytes: new Histogram({
      name: "locus_checkpoint_bytes",
      help: "Size of each checkpoint written.",
      buckets: [512, 1024, 2048, 4096, 8192, 16384, 65536],
      registers: [registry],
    }),
    checkpointWriteSeconds: new Histogram({
      name: "locus_checkpoint_write_seconds",
      help: "Time to write one checkpoint to Redis, serialisation included.",
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    journalBytes: new Counter({
      name: "locus_journal_bytes_total",
      help: "Bytes of input-journal batches sent to Redis.",
      registers: [registry],
    }),
    journalBatches: new Counter({
      name: "locus_journal_batches_total",
      help: "Input-journal batches (one room's records since the node's last write) sent to Redis.",
      registers: [registry],
    }),
    journalWrites: new Counter({
      name: "locus_journal_writes_total",
      help: "Redis calls carrying journal batches: at most one per tick per node, whatever the number of rooms.",
      registers: [registry],
    }),
    journalWriteSeconds: new Histogram({
      name: "locus_journal_write_seconds",
      help: "Round trip of one journal write to Redis, encoding included.",
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    journalRefused: new Counter({
      name: "locus_journal_refused_total",
      help: "Journal batches Redis refused because this node no longer holds the room's lease.",
      registers: [registry],
    }),
    leaseRenewalFailures: new Counter({
      name: "locus_lease_renewal_failures_total",
      help: "Lease renewals that did not reach Redis (the room keeps running until its lease runs out).",
      registers: [registry],
    }),
    fencedWrites: new Counter({
      name: "locus_fenced_writes_total",
      help: "Checkpoint writes and renewals refused because another node holds a newer epoch.",
      registers: [registry],
    }),
    recoveryFailures: new Counter({
      name: "locus_recovery_failures_total",
      help: "Failures on the recovery paths, by kind: checkpoint_write, subscribe (to the cluster's channels), heartbeat, ownership_publish.",
      labelNames: ["kind"],
      registers: [registry],
    }),
    adminAuthFailures: new Counter({
      name: "locus_admin_auth_failures_total",
      help: "Admin API requests refused for a missing or wrong bearer token (or with the admin API off).",
      registers: [registry],
    }),
    badRedisRecords: badRedisRecordsCounter(registry),
    checkpointsQuarantined: new Counter({
      name: "locus_checkpoints_quarantined_total",
      help: "Checkpoints no room could be rebuilt from, moved to their quarantine key and their room released.",
      registers: [registry],
    }),
    seatTakeoversRefused: new Counter({
      name: "locus_seat_takeovers_refused_total",
      help: "Reconnection tokens presented for a seat whose connection is live and talking, refused.",
      registers: [registry],
    }),
    edgeRefusals: edgeRefusalsCounter(registry),
    lateInputTicks: new Counter({
      name: "locus_late_input_ticks_total",
      help: "Ticks at which a connected player's input had not arrived: guessed (run on its last stick and acknowledged) or waited (not run); and caught_up, ticks that ran two of a moving player's inputs to make up for one waited.",
      labelNames: ["handled"],
      registers: [registry],
    }),
  };
}

/** Kept by nodes and gateways alike: what the public edge refused (server/edge/). */
export function edgeRefusalsCounter(registry: Registry): Counter<"reason"> {
  return new Counter({
    name: "locus_edge_refusals_total",
    help: "Requests, sockets, seats and rooms refused by the public edge's limits, by reason.",
    labelNames: ["reason"],
    registers: [registry],
  });
}

/** Kept by nodes and gateways alike: what they skipped of Redis's content (server/cluster/bad-records.ts). */
export function badRedisRecordsCounter(registry: Registry): Counter<"kind"> {
  return new Counter({
    name: "locus_bad_redis_records_total",
    help: "Node records and owner values in Redis that were not valid and were skipped, each counted once, by kind (node, owner).",
    labelNames: ["kind"],
    registers: [registry],
  });
}
