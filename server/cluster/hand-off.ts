/**
 * Moving a room off this node by choice: handed to a chosen node in a drain, or left checkpointed
 * for the others to recover when the drain runs out of time. Either way the room freezes after
 * its current tick and that tick's checkpoint is what the next owner rebuilds it from.
 */
import type { Logger } from "pino";
import type { OwnedRoom } from "./owned-room.ts";
import type { Ownership } from "./ownership.ts";
import type { OwnershipChange } from "./redis-keys.ts";

/** How long a hand-off waits to see the room's new owner before reporting none. */
const HANDOFF_WAIT_MS = 5000;

export interface HandOffOptions {
  readonly ownership: Ownership;
  readonly log: Logger;
  /** The room, when this node owns it. */
  readonly owned: (roomId: string) => OwnedRoom | undefined;
}

export class RoomHandOff {
  private readonly o: HandOffOptions;
  private readonly ownerWaiters = new Map<string, (nodeId: string) => void>();

  constructor(options: HandOffOptions) {
    this.o = options;
  }

  /**
   * Freezes the room after the current tick, writes that tick's checkpoint, gives up the lease,
   * closes the players with 4010 and asks `adopt` to have another node rebuild the room from
   * exactly that checkpoint. The players' reconnects and the rebuild run at the same time: the
   * gateway and the new node hold each reconnect until the room is there. If the adopting node
   * fails, the room is an ordinary orphan and any node's scan rebuilds it. Resolves with the tick
   * handed over and the node that took the room.
   */
  async handOff(roomId: string, adopt: () => Promise<unknown>): Promise<{ tick: number; newOwner: string | undefined }> {
    const e = this.o.owned(roomId);
    if (!e || e.fenced) throw new Error(`room ${roomId} is not running here`);
    const { tick, yielded } = await this.freezeAndYield(e);
    if (!yielded) {
      e.fence("lease lost before the hand-off");
      throw new Error(`room ${roomId} lost its lease before the hand-off`);
    }
    e.fence("handed off");
    // Listening before asking: the announcement may come back faster than this node resumes.
    const newOwner = this.waitForOwner(roomId, HANDOFF_WAIT_MS);
    await adopt().catch((err: unknown) => this.o.log.warn({ event: "adopt_failed", room: roomId, err }, "the chosen node did not adopt the room; any node may take it now"));
    return { tick, newOwner: await newOwner };
  }

  /** Writes the room's checkpoint, gives up its lease and closes it here: the other nodes' scans rebuild it as an ordinary orphan. */
  async abandon(roomId: string): Promise<void> {
    const e = this.o.owned(roomId);
    if (!e || e.fenced) return;
    try {
      await this.freezeAndYield(e);
    } finally {
      e.fence("drain deadline: left to recovery on the other nodes");
    }
  }

  /** Some node announced it owns a room now (`locus:ownership`). */
  ownershipChanged(change: OwnershipChange): void {
    this.ownerWaiters.get(change.roomId)?.(change.nodeId);
  }

  /**
   * Stops the room after the current tick, writes that tick's checkpoint and gives up the lease,
   * so the next claim rebuilds the room from exactly there. `yielded` is false when this node no
   * longer held the lease to give.
   */
  private async freezeAndYield(e: OwnedRoom): Promise<{ tick: number; yielded: boolean }> {
    const { ownership } = this.o;
    const checkpoint = e.room.freeze(ownership.nodeId, e.lease.epoch);
    const yielded = (await ownership.writeCheckpoint(e.lease, JSON.stringify(checkpoint))) && (await ownership.yield(e.lease));
    return { tick: checkpoint.tick, yielded };
  }

  /** The room's next owner, from its ownership announcement, or a look in Redis when none comes. */
  private async waitForOwner(roomId: string, timeoutMs: number): Promise<string | undefined> {
    const announced = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const finish = (nodeId: string | undefined) => {
        clearTimeout(timer);
        this.ownerWaiters.delete(roomId);
        resolve(nodeId);
      };
      this.ownerWaiters.set(roomId, finish);
    });
    if (announced) return announced;
    const [owner] = await this.o.ownership.ownersOf([roomId]).catch(() => [undefined]);
    return owner?.nodeId;
  }
}
