/**
 * Rooms being started here: a create whose claim is in flight, or a rebuild from a checkpoint.
 * Their ids count as taken, and against the room cap, from before the claim until the room has
 * started or failed, so a second create or rebuild of the same id here cannot slip in meanwhile.
 */
import type { Checkpoint } from "../durable/checkpoint.ts";
import type { JournalTail } from "../durable/journal.ts";
import type { Lease } from "./ownership.ts";

export interface Claim {
  /** Set once the claim is won. */
  lease: Lease | undefined;
  /** Set when the room is a rebuild: what it is rebuilt from. */
  checkpoint: Checkpoint | undefined;
  /** Set when the checkpoint names a journal and the node replays journals: the records after it. */
  journal?: JournalTail;
  /** Set when the room could not be rebuilt from the checkpoint: why. */
  unusable?: string;
}

export class Claims {
  private readonly pending = new Map<string, Claim>();

  get size(): number {
    return this.pending.size;
  }

  has(roomId: string): boolean {
    return this.pending.has(roomId);
  }

  get(roomId: string): Claim | undefined {
    return this.pending.get(roomId);
  }

  /** Holds the id for a claim about to be made. */
  open(roomId: string): Claim {
    const claim: Claim = { lease: undefined, checkpoint: undefined };
    this.pending.set(roomId, claim);
    return claim;
  }

  /** The claim is over: its room started, or it failed. */
  close(roomId: string, claim: Claim): void {
    if (this.pending.get(roomId) === claim) this.pending.delete(roomId);
  }
}
