/**
 * Writes each owned room's checkpoint under its lease: once per checkpoint interval on a sliced
 * schedule, and at once when asked (a room just started, a seat changed). The room hands its
 * checkpoint over synchronously between two ticks; serialising it and the Redis round trip
 * happen here, outside the tick.
 */
import type { Logger } from "pino";
import type { NodeMetrics } from "../metrics.ts";
import type { Checkpoint } from "../durable/checkpoint.ts";
import type { OwnedRoom } from "./owned-room.ts";
import type { Ownership } from "./ownership.ts";
import type { RecoveryFailures } from "./recovery-failures.ts";

export interface CheckpointWriterOptions {
  readonly ownership: Ownership;
  readonly checkpointMs: number;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  readonly failures: RecoveryFailures;
  /** The rooms this node owns now. */
  readonly rooms: () => Iterable<OwnedRoom>;
  /** Whether the node can still prove the room's lease (lease-keeper.ts): a room past it is not written, and is fenced. */
  readonly proven: (entry: OwnedRoom) => boolean;
}

/**
 * The checkpoint interval is cut into slices of at least this long, and rooms' due times are
 * spread over them: checkpointing every room at once would stall the event loop (and every room's
 * next tick) for the sum of their serialisations. Each room keeps its own due time, so a late
 * timer or a write still in flight delays it by a slice, never by a whole interval.
 */
const MIN_CHECKPOINT_SLICE_MS = 50;
const MAX_CHECKPOINT_SLICES = 10;

interface Schedule {
  /** When this room's next periodic checkpoint is due (local clock). */
  dueAt: number;
  /** The write in flight, if any: settles when it does. */
  writing: Promise<unknown> | undefined;
}

export class CheckpointWriter {
  private readonly o: CheckpointWriterOptions;
  private readonly slices: number;
  private readonly sliceMs: number;
  private nextSlot = 0;
  private readonly schedules = new WeakMap<OwnedRoom, Schedule>();
  private timer: NodeJS.Timeout | undefined;

  constructor(options: CheckpointWriterOptions) {
    this.o = options;
    this.slices = Math.max(1, Math.min(MAX_CHECKPOINT_SLICES, Math.floor(options.checkpointMs / MIN_CHECKPOINT_SLICE_MS)));
    this.sliceMs = options.checkpointMs / this.slices;
  }

  start(): void {
    this.timer = setInterval(() => this.writeDue(), this.sliceMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** A room started here: its first checkpoint now, the next within one interval, at the next slice in turn. */
  track(entry: OwnedRoom): void {
    this.schedules.set(entry, { dueAt: Date.now() + ((this.nextSlot++ % this.slices) + 1) * this.sliceMs, writing: undefined });
    this.write(entry);
  }

  /** Writes the room's checkpoint now, unless one is in flight already. */
  write(entry: OwnedRoom): void {
    const schedule = this.schedules.get(entry);
    if (!schedule || schedule.writing || !this.o.proven(entry)) return;
    // A failure was reported where it happened; the next write is the retry.
    this.store(entry, schedule).catch(() => undefined);
  }

  /**
   * Writes the room's checkpoint now, after any write of it still in flight (and, when the room is
   * paused, once it resumes), so a newer checkpoint is never overtaken by an older one.
   * `stillOwned` is asked once that write settled: a room disposed meanwhile has its keys
   * released, and a write now would only be refused.
   */
  async commit(entry: OwnedRoom, stillOwned: () => boolean): Promise<Checkpoint | undefined> {
    const schedule = this.schedules.get(entry);
    if (!schedule) return undefined;
    // A paused room's lease is unproven: its change is stored once a renewal resumes the room, or never (fenced).
    await entry.unpaused();
    while (schedule.writing) await schedule.writing.catch(() => undefined);
    return !this.o.proven(entry) || !stillOwned() ? undefined : this.store(entry, schedule);
  }

  /**
   * Writes the room's checkpoint under its lease: resolves with the checkpoint once it is stored,
   * undefined when the lease refused it (fenced off); rejects when Redis was not reached.
   */
  private async store(entry: OwnedRoom, schedule: Schedule): Promise<Checkpoint | undefined> {
    const { ownership, metrics, log, failures } = this.o;
    const { room, lease } = entry;
    const started = performance.now();
    const checkpoint = room.checkpoint(ownership.nodeId, lease.epoch);
    const data = JSON.stringify(checkpoint);
    const writing = checkpoint.journal
      ? ownership.writeCheckpointTrim(lease, data, checkpoint.journal.id, checkpoint.journal.seq)
      : ownership.writeCheckpoint(lease, data);
    schedule.writing = writing;
    try {
      const written = await writing;
      failures.recovered("checkpoint_write");
      if (written) {
        metrics.checkpointBytes.observe(data.length);
        metrics.checkpointWriteSeconds.observe((performance.now() - started) / 1000);
        return checkpoint;
      }
      metrics.fencedWrites.inc();
      log.warn({ event: "checkpoint_fenced", room: lease.roomId, epoch: lease.epoch }, "checkpoint refused: this node no longer holds the room's lease");
      return undefined;
    } catch (err) {
      failures.report("checkpoint_write", err, { room: lease.roomId });
      throw err;
    } finally {
      schedule.writing = undefined;
    }
  }

  private writeDue(): void {
    const now = Date.now();
    const { checkpointMs } = this.o;
    for (const e of this.o.rooms()) {
      const schedule = this.schedules.get(e);
      if (!schedule || schedule.dueAt > now || schedule.writing || !this.o.proven(e)) continue;
      schedule.dueAt += checkpointMs;
      // A node that fell a whole interval behind starts afresh rather than writing a backlog.
      if (schedule.dueAt <= now) schedule.dueAt = now + checkpointMs;
      this.write(e);
    }
  }
}
