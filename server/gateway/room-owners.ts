/**
 * Where each room lives now, as the gateway needs it for every websocket and every request that
 * names a room. A room id that is not a live room (`locus:rooms`) is refused at once. A live room
 * with no live owner (its node just died, or is handing it on) holds its callers until another
 * node takes it over, up to GATEWAY_HOLD_MS: and however many callers wait for one room, they
 * share one lookup in Redis per ownership change (woken by `locus:ownership`, or a slow poll
 * should that message be missed), and one request to the nodes to rebuild it. The number of
 * callers held at once is capped (GATEWAY_MAX_HELD); past it a caller is turned away at once.
 */
import type { BadRecordSink } from "../cluster/bad-records.ts";
import { type NodeRecord, readNode } from "../cluster/node-registry.ts";
import type { OwnershipView } from "../cluster/ownership.ts";
import { channels, type RehydrateRequest } from "../cluster/redis-keys.ts";
import type { ScriptedRedis } from "../cluster/redis-scripts.ts";

export type OwnerAnswer =
  | { readonly kind: "owner"; readonly node: NodeRecord }
  /** Not a live room: made up, or finished. */
  | { readonly kind: "unknown" }
  /** Too many callers held already. */
  | { readonly kind: "busy" }
  /** Held for GATEWAY_HOLD_MS and nobody took the room over. */
  | { readonly kind: "unavailable" };

/** Who waits: a websocket upgrade, or a request that names a room. */
export type HoldKind = "upgrade" | "request";

export interface RoomOwnersOptions {
  readonly redis: ScriptedRedis;
  readonly ownership: OwnershipView;
  /** Where node records that are not valid ones are reported. */
  readonly bad: BadRecordSink;
  /** How long a caller waits for a room with no live owner. */
  readonly holdMs: number;
  /** Callers held at once, all rooms together. */
  readonly maxHeld: number;
  /** Counts each caller held (a prom-client `Counter<"kind">`). */
  readonly held: { inc(labels: { kind: HoldKind }): void };
}

type Lookup = OwnerAnswer | { readonly kind: "none" };

interface Hold {
  readonly roomId: string;
  readonly waiters: Set<(answer: OwnerAnswer) => void>;
  looking: boolean;
  /** An ownership change came while a lookup was in flight: look once more after it. */
  again: boolean;
  readonly timers: NodeJS.Timeout[];
}

/** A held room is looked up again this often when no ownership message comes (one was missed, or its stalled owner woke up). */
const HOLD_POLL_MS = 500;
/** A room being handed on has no owner for a few milliseconds: only a longer wait asks every node to look for orphans. */
const ASK_FOR_REBUILD_AFTER_MS = 250;
/** Longer than a node record's TTL, so a dead node's last record is never trusted again. */
const REFUSAL_MEMORY_MS = 2000;

export class RoomOwners {
  private readonly o: RoomOwnersOptions;
  private readonly holds = new Map<string, Hold>();
  /** Lookups in flight, shared by every caller asking for the same room at once. */
  private readonly looking = new Map<string, Promise<Lookup>>();
  /** Nodes whose port just refused a connection: dead, whatever their record says until it lapses. */
  private readonly refusedAt = new Map<string, number>();
  private held = 0;

  constructor(options: RoomOwnersOptions) {
    this.o = options;
  }

  /** The room's live owner, at once when it has one, after a hold when it is being taken over. */
  async find(roomId: string, kind: HoldKind): Promise<OwnerAnswer> {
    const hold = this.holds.get(roomId);
    if (hold) return this.wait(hold, kind);
    const found = await this.look(roomId);
    if (found.kind !== "none") return found;
    return this.wait(this.holds.get(roomId) ?? this.startHold(roomId), kind);
  }

  /** `locus:ownership` said the room has a new owner: the callers held for it look once, together. */
  ownershipChanged(roomId: string): void {
    const hold = this.holds.get(roomId);
    if (hold) void this.relook(hold);
  }

  /** A node's port refused a connection: it is gone, so its rooms are looked up as ownerless for a while. */
  nodeRefused(nodeId: string): void {
    this.refusedAt.set(nodeId, Date.now());
  }

  get heldCount(): number {
    return this.held;
  }

  private wait(hold: Hold, kind: HoldKind): Promise<OwnerAnswer> {
    if (this.held >= this.o.maxHeld) return Promise.resolve({ kind: "busy" });
    this.held++;
    this.o.held.inc({ kind });
    return new Promise((resolve) => {
      const settle = (answer: OwnerAnswer) => {
        clearTimeout(timer);
        if (!hold.waiters.delete(settle)) return;
        this.held--;
        if (hold.waiters.size === 0) this.endHold(hold);
        resolve(answer);
      };
      const timer = setTimeout(() => settle({ kind: "unavailable" }), this.o.holdMs);
      hold.waiters.add(settle);
    });
  }

  private startHold(roomId: string): Hold {
    const hold: Hold = { roomId, waiters: new Set(), looking: false, again: false, timers: [] };
    hold.timers.push(
      setInterval(() => void this.relook(hold), HOLD_POLL_MS),
      setTimeout(() => {
        const request: RehydrateRequest = { roomId };
        this.o.redis.publish(channels.rehydrate, JSON.stringify(request)).catch(() => undefined);
      }, ASK_FOR_REBUILD_AFTER_MS),
    );
    this.holds.set(roomId, hold);
    return hold;
  }

  private endHold(hold: Hold): void {
    for (const t of hold.timers) clearTimeout(t);
    if (this.holds.get(hold.roomId) === hold) this.holds.delete(hold.roomId);
  }

  private async relook(hold: Hold): Promise<void> {
    if (hold.looking) {
      hold.again = true;
      return;
    }
    hold.looking = true;
    const found = await this.look(hold.roomId);
    hold.looking = false;
    if (found.kind === "owner" || found.kind === "unknown") {
      for (const settle of [...hold.waiters]) settle(found);
    } else if (hold.again) {
      hold.again = false;
      await this.relook(hold);
    }
  }

  private look(roomId: string): Promise<Lookup> {
    let lookup = this.looking.get(roomId);
    if (!lookup) {
      lookup = this.lookInRedis(roomId).catch((): Lookup => ({ kind: "none" }));
      this.looking.set(roomId, lookup);
      void lookup.finally(() => this.looking.delete(roomId));
    }
    return lookup;
  }

  /**
   * Membership and owner together (sent at once, one round trip), then a live owner's record. A
   * lease that names no valid owner is treated as none: the room is waited for, and rebuilt.
   */
  private async lookInRedis(roomId: string): Promise<Lookup> {
    const { redis, ownership, bad } = this.o;
    const [live, [owner]] = await Promise.all([ownership.isLive(roomId), ownership.ownersOf([roomId])]);
    if (!live) return { kind: "unknown" };
    if (!owner || Date.now() - (this.refusedAt.get(owner.nodeId) ?? 0) <= REFUSAL_MEMORY_MS) return { kind: "none" };
    const node = await readNode(redis, owner.nodeId, bad);
    return node ? { kind: "owner", node } : { kind: "none" };
  }
}
