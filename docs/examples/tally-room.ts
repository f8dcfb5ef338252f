/**
 * docs/durable-rooms.md's example: a durable room whose whole game is a shared tally. Each player
 * sends `add` to count one; the state keeps the total and each player's own count. It survives a
 * crash, a drain and a stall with no code of its own for any of them, and loses no count a player
 * saw (every-change policy).
 */
import type { Client } from "@colyseus/core";
import { schema, type SchemaType, t } from "@colyseus/schema";
import { type DurableDeps, DurableRoom, refuseJoinWhenHostCannot } from "../../server/durable/durable-room.ts";
import type { FramePolicy } from "../../server/edge/frame-policy.ts";

export const TallyState = schema(
  {
    total: t.uint32().default(0),
    /** Each seated player's own count, by sessionId. */
    counts: t.map("uint32"),
  },
  "TallyState",
);
export type TallyState = SchemaType<typeof TallyState>;

/** What the default snapshot (the schema state's toJSON) holds, version 2. */
export interface TallySnapshot {
  readonly total: number;
  readonly counts: Record<string, number>;
}

/** The error sent for an `add` while the room waits for its players after a move. */
export const PAUSED = 4409;

/** Its clients send room messages (`add`) only, a few a second. */
export const TALLY_FRAMES: FramePolicy = { data: true, framesPerSecond: 20 };

export function tallyRoom(deps: DurableDeps) {
  return class TallyRoom extends DurableRoom<{ state: TallyState }, TallySnapshot> {
    protected readonly durable = deps;
    readonly snapshotVersion = 2;
    override readonly checkpointPolicy = "every-change";
    override state = new TallyState();
    override maxClients = 8;

    static override async onAuth(): Promise<true> {
      refuseJoinWhenHostCannot(deps.host);
      return true;
    }

    get playerCount(): number {
      return this.state.counts.size;
    }

    protected onCreateGame(): void {
      // Patches go out when a change's checkpoint is stored, not on a timer.
      this.patchRate = null;
      this.onMessage("add", (client) => {
        if (!this.running()) return client.error(PAUSED, "the room is moving to another node: try again in a moment");
        this.state.total++;
        this.state.counts.set(client.sessionId, (this.state.counts.get(client.sessionId) ?? 0) + 1);
        void this.changed();
      });
    }

    protected onSeatTaken(client: Client): void {
      this.state.counts.set(client.sessionId, 0);
    }

    protected onSeatFreed(sessionId: string): void {
      this.state.counts.delete(sessionId);
    }

    /** Untrusted: checked field by field. Version 1 kept only the total. */
    protected parseSnapshot(data: unknown, version: number): TallySnapshot {
      const d = data as Partial<TallySnapshot> | null;
      if (!Number.isSafeInteger(d?.total) || d!.total! < 0) throw new Error("total is not a whole number");
      if (version === 1) return { total: d!.total!, counts: {} };
      if (version !== 2) throw new Error(`version ${version} is unknown`);
      const counts = d!.counts;
      if (typeof counts !== "object" || counts === null || !Object.values(counts).every((n) => Number.isSafeInteger(n) && n >= 0)) {
        throw new Error("counts is not a map of whole numbers");
      }
      return { total: d!.total!, counts };
    }
  };
}
