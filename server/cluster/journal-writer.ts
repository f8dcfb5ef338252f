/**
 * Sends the input journals of every room on this node to Redis: rooms hand over their records as
 * they make them (never waiting), and once per tick the node sends every room's records since its
 * last write as one batch per room, all in one Redis call (ownership.appendJournals), fenced by
 * each room's epoch. Redis load is thus one call per tick per node, whatever the number of rooms;
 * on a Redis Cluster, where a call touches one room's slot, it is one call per room per tick.
 *
 * Calls are not awaited one after another: each goes out on its tick, and the connection keeps
 * them in order, so a room's batches are stored in the order they were made.
 *
 * A room about to send a patch while records of an earlier tick still wait has them all sent at
 * once, before the patch: a loaded loop runs a room ahead of the write's own timer (two callbacks
 * in one timer period, or a callback that catches up several steps under one patch), and the
 * players, having seen that earlier tick's patch or now this one, must never see two ticks that a
 * node killed then would not have journaled (at most one tick is lost). Waiting until the patch,
 * rather than sending as soon as a new tick is recorded, lets one call carry a whole catch-up.
 */
import type { Logger } from "pino";
import { encodeBatch } from "../durable/journal.ts";
import type { HostedRoom } from "../durable/room-host.ts";
import type { NodeMetrics } from "../metrics.ts";
import type { OwnedRoom } from "./owned-room.ts";
import type { JournalAppend, Ownership } from "./ownership.ts";
import type { RecoveryFailures } from "./recovery-failures.ts";

export interface JournalWriterOptions {
  readonly ownership: Ownership;
  /** How often the node writes: one tick. */
  readonly flushMs: number;
  /** How often rooms checkpoint, each checkpoint trimming the journal behind it. */
  readonly checkpointMs: number;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  readonly failures: RecoveryFailures;
  /** The room's entry while this node owns it and can prove its lease: the records of any other room are dropped. */
  readonly ownedEntry: (room: HostedRoom) => OwnedRoom | undefined;
}

interface Pending {
  journalId: string;
  first: number;
  last: number;
  /** The tick of the first record and of the last. */
  firstTick: number;
  tick: number;
  records: unknown[];
}

export class JournalWriter {
  private readonly o: JournalWriterOptions;
  private pending = new Map<HostedRoom, Pending>();
  private timer: NodeJS.Timeout | undefined;
  /**
   * A journal keeps at most this many batches: two checkpoint intervals of writes and a second,
   * so a checkpoint that failed once costs nothing, while a journal no checkpoint trims stays bounded.
   */
  private readonly maxBatches: number;

  constructor(options: JournalWriterOptions) {
    this.o = options;
    this.maxBatches = Math.ceil((2 * options.checkpointMs + 1000) / options.flushMs);
  }

  start(): void {
    this.timer = setInterval(() => this.flush(), this.o.flushMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  record(room: HostedRoom, journalId: string, seq: number, tick: number, record: unknown): void {
    let p = this.pending.get(room);
    if (!p) {
      p = { journalId, first: seq, last: seq, firstTick: tick, tick, records: [] };
      this.pending.set(room, p);
    }
    p.last = seq;
    p.tick = tick;
    p.records.push(record);
  }

  patching(room: HostedRoom, tick: number): void {
    const p = this.pending.get(room);
    if (p && p.firstTick < tick) this.flush();
  }

  /** Sends what the rooms recorded since the last write, in one call. */
  flush(): void {
    if (this.pending.size === 0) return;
    const started = performance.now();
    const batches: JournalAppend[] = [];
    let bytes = 0;
    for (const [room, p] of this.pending) {
      const entry = this.o.ownedEntry(room);
      if (!entry) continue;
      const batch = encodeBatch(p.first, p.last, p.tick, p.records.map((r) => JSON.stringify(r)).join(","));
      bytes += batch.length;
      batches.push({ lease: entry.lease, journalId: p.journalId, batch });
    }
    this.pending = new Map();
    if (batches.length === 0) return;
    const { metrics, failures, ownership } = this.o;
    metrics.journalWrites.inc();
    metrics.journalBatches.inc(batches.length);
    metrics.journalBytes.inc(bytes);
    ownership.appendJournals(batches, this.maxBatches).then(
      (taken) => {
        failures.recovered("journal_write");
        metrics.journalWriteSeconds.observe((performance.now() - started) / 1000);
        const refused = taken.filter((t) => !t).length;
        if (refused > 0) metrics.journalRefused.inc(refused);
      },
      (err: unknown) => failures.report("journal_write", err, { batches: batches.length }),
    );
  }
}
