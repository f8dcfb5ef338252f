/**
 * Takes over an orphaned room: claims the next epoch, reads the checkpoint and recreates the room
 * here under the same id, its seats held for the players' SDKs to reconnect to. A checkpoint no
 * room can be rebuilt from is quarantined for an operator, and the room released.
 */
import { createRoomWithId } from "../colyseus-internals.ts";
import type { Logger } from "pino";
import type { NodeMetrics } from "../metrics.ts";
import { CheckpointError, MAX_CHECKPOINT_BYTES, parseCheckpoint } from "../durable/checkpoint.ts";
import { journalTail } from "../durable/journal.ts";
import type { Claims } from "./claims.ts";
import type { Lease, Ownership } from "./ownership.ts";
import type { RecoveryFailures } from "./recovery-failures.ts";
import type { ClaimMode } from "./redis-scripts.ts";
import type { TokenHash } from "../durable/token-hash.ts";

export interface RehydratorOptions {
  readonly ownership: Ownership;
  readonly claims: Claims;
  /** Whether the room runs or is being started here already. */
  readonly owns: (roomId: string) => boolean;
  /** Reads format 1 checkpoints, which kept seats' tokens in plain text. */
  readonly tokenHash: TokenHash;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  readonly failures: RecoveryFailures;
  /** Whether rooms rebuilt here replay their journal. */
  readonly journals: boolean;
}

/**
 * A journal past this is not one a room wrote between two checkpoints (a full room of 64 writes
 * about 2 KB a tick: two minute-long intervals at 120 Hz stay below it): it is not read, and the
 * room resumes from its checkpoint.
 */
const MAX_JOURNAL_BYTES = 64 * 1024 * 1024;

export class Rehydrator {
  private readonly o: RehydratorOptions;

  constructor(options: RehydratorOptions) {
    this.o = options;
  }

  /**
   * `seenHeartbeat` is the owner's heartbeat as the caller last read its record (0: the record
   * was gone): a "dead" claim is refused if the owner has beaten since. `lastAliveAt` dates the
   * old owner's last sign of life for the recovery-time metric, when known. Resolves with whether
   * the room runs here now.
   */
  async rehydrate(roomId: string, mode: Exclude<ClaimMode, "new">, seenHeartbeat: number, lastAliveAt: number | undefined): Promise<boolean> {
    const { ownership, claims, metrics, failures } = this.o;
    if (this.o.owns(roomId)) return false;
    // Held from before the claim, so a second trigger here (an adopt and a scan) cannot race it.
    const pending = claims.open(roomId);
    let lease: Lease | undefined;
    try {
      lease = pending.lease = await ownership.claim(roomId, mode, seenHeartbeat);
      if (!lease) return false;
      const [read] = await ownership.readCheckpoints([roomId], MAX_CHECKPOINT_BYTES);
      try {
        pending.checkpoint = parseCheckpoint(read!, roomId, this.o.tokenHash);
      } catch (err) {
        if (!(err instanceof CheckpointError)) throw err;
        await this.quarantine(lease, err.message);
        return false;
      }
      const position = pending.checkpoint.journal;
      if (position && this.o.journals) {
        // Read after the claim: the dead owner can append nothing more, so this is all it recorded.
        const { batches, problem } = await ownership.readJournal(roomId, position.id, MAX_JOURNAL_BYTES);
        pending.journal = problem ? { records: [], lastSeq: position.seq, lastTick: -1, refused: problem } : journalTail(batches, position);
      }
      try {
        await createRoomWithId(pending.checkpoint.name, roomId);
      } catch (err) {
        if (pending.unusable === undefined) throw err;
        await this.quarantine(lease, pending.unusable);
        return false;
      }
    } catch (err) {
      // Give the lease straight back, so the next scan anywhere retries instead of waiting it out.
      if (lease) await ownership.yield(lease).catch(() => undefined);
      throw err;
    } finally {
      claims.close(roomId, pending);
    }
    metrics.rehydrations.inc();
    if (lastAliveAt !== undefined) metrics.recoverySeconds.observe((Date.now() - lastAliveAt) / 1000);
    await ownership.announce(lease).then(
      () => failures.recovered("ownership_publish"),
      (err: unknown) => failures.report("ownership_publish", err, { room: roomId }),
    );
    return true;
  }

  /** Its players' reconnects then find no room. */
  private async quarantine(lease: Lease, reason: string): Promise<void> {
    const { key, released } = await this.o.ownership.quarantine(lease);
    this.o.metrics.checkpointsQuarantined.inc();
    this.o.log.error(
      { event: "checkpoint_quarantined", room: lease.roomId, reason, key, released },
      `checkpoint of room ${lease.roomId} cannot be restored (${reason}); kept at ${key} for a day, the room is released`,
    );
  }
}
