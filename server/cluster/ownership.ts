/**
 * Room ownership, the one place that knows how it is kept in Redis: the owner lease and its value
 * `"{nodeId} {epoch}"`, the fencing epoch, the checkpoint key, the live-room set, and the order of
 * every ownership script's KEYS and ARGV. Nodes, gateways and the ops CLI read and change
 * ownership only through here; none of them builds an ownership key or splits an owner value.
 *
 * `OwnershipView` reads (gateways, the ops CLI, the orphan watch); `Ownership` is a node's own
 * hold on its rooms, each through a `Lease` it got from `claim`.
 */
import type { BadRecordSink } from "./bad-records.ts";
import { MAX_NODE_RECORD_BYTES } from "./node-registry.ts";
import { channels, JOURNAL_TTL_MS, keys, olderOwnerKey, type OwnershipChange, QUARANTINE_TTL_MS } from "./redis-keys.ts";
import { type Bounded, type ClaimMode, readBounded, RENEWED_OVER_BAD_VALUE, type ScriptedRedis } from "./redis-scripts.ts";

export interface Owner {
  readonly nodeId: string;
  readonly epoch: number;
}

/** A room this node holds, under the epoch its claim won. */
export interface Lease {
  readonly roomId: string;
  readonly epoch: number;
}

/** What one renewal came to: `fenced` when another node claimed the room, `unreached` when it got no answer. */
export type Renewal = "renewed" | "fenced" | "unreached";

/** Longest valid owner value: a 64-character node id, a space and a 15-digit epoch. */
export const MAX_OWNER_BYTES = 80;
/** The Lua scripts (redis-scripts.ts, OWNER_OF) read owner values by the same pattern. */
const OWNER = /^([A-Za-z0-9._-]{1,64}) ([1-9][0-9]{0,14})$/;

/** The owner a lease names, or undefined for a value that is no valid owner. */
export function parseOwner(value: string): Owner | undefined {
  const m = OWNER.exec(value);
  return m ? { nodeId: m[1]!, epoch: Number(m[2]) } : undefined;
}

export class OwnershipView {
  protected readonly redis: ScriptedRedis;
  protected readonly bad: BadRecordSink;

  /** Owner values that are not valid ones are reported to `bad`. */
  constructor(redis: ScriptedRedis, bad: BadRecordSink) {
    this.redis = redis;
    this.bad = bad;
  }

  /** Ids of the rooms that live somewhere in the cluster. */
  liveRoomIds(): Promise<string[]> {
    return this.redis.smembers(keys.rooms);
  }

  async isLive(roomId: string): Promise<boolean> {
    return (await this.redis.sismember(keys.rooms, roomId)) === 1;
  }

  /**
   * The owners of these rooms: undefined for a room without one, and for one whose lease is not a
   * valid owner value (reported), which every caller may treat as no owner: the claim scripts do
   * too, so such a room is taken over and rebuilt from its checkpoint.
   */
  async ownersOf(roomIds: readonly string[]): Promise<(Owner | undefined)[]> {
    const values = await readBounded(this.redis, roomIds.map(keys.owner), MAX_OWNER_BYTES);
    return values.map((value, i) => {
      if (value.status === "missing") return undefined;
      const key = keys.owner(roomIds[i]!);
      if (value.status === "ok") {
        const owner = parseOwner(value.text);
        if (!owner) this.bad.report("owner", key, value.text, 'not "{nodeId} {epoch}"');
        return owner;
      }
      this.bad.report("owner", key, undefined, value.status === "wrong_type" ? `a ${value.type}, not a string` : `${value.bytes} bytes, over ${MAX_OWNER_BYTES}`);
      return undefined;
    });
  }

  /** How long each room's owner lease has to run, in milliseconds; negative for a room with none. */
  async leaseRemainingMs(roomIds: readonly string[]): Promise<number[]> {
    const pipeline = this.redis.pipeline();
    for (const id of roomIds) pipeline.pttl(keys.owner(id));
    const results = (await pipeline.exec()) ?? [];
    return roomIds.map((_, i) => {
      const [err, ttl] = results[i] ?? [new Error("no reply"), -2];
      return err || typeof ttl !== "number" ? -2 : ttl;
    });
  }

  /** Live rooms whose lease is held under the key names of a release before the hash tags: older nodes run on this Redis. */
  async olderLayoutRooms(): Promise<string[]> {
    const roomIds = await this.liveRoomIds();
    const held = await Promise.all(roomIds.map((id) => this.redis.exists(olderOwnerKey(id))));
    return roomIds.filter((_, i) => held[i] === 1);
  }

  /** The rooms' last checkpoints, each read only when it is at most `maxBytes` long. */
  readCheckpoints(roomIds: readonly string[], maxBytes: number): Promise<Bounded[]> {
    return readBounded(this.redis, roomIds.map(keys.checkpoint), maxBytes);
  }
}

/** One room's journal batch for `appendJournals`. */
export interface JournalAppend {
  readonly lease: Lease;
  readonly journalId: string;
  readonly batch: string;
}

/**
 * Claims that must survive a failover (Sentinel mode): each is made on a connection of its own and
 * counts only once a replica holds it (`WAIT 1`), so a replica promoted after the master dies has
 * every claim a node acted on (docs/architecture.md, "Fencing across a failover"). The connection
 * is its own because WAIT holds up whatever the connection sends next, renewals above all.
 */
export interface ReplicatedClaims {
  readonly redis: ScriptedRedis;
  /** How long a claim waits for a replica before it is given back and refused. */
  readonly timeoutMs: number;
}

/** A claim the master took but no replica confirmed in time: it was given back, and the room is not this node's. */
export class ClaimNotReplicated extends Error {
  override name = "ClaimNotReplicated";
}

export interface OwnershipOptions {
  readonly redis: ScriptedRedis;
  readonly bad: BadRecordSink;
  readonly nodeId: string;
  readonly leaseMs: number;
  /** Set in Sentinel mode: claims wait for a replica. */
  readonly replicatedClaims?: ReplicatedClaims;
}

export class Ownership extends OwnershipView {
  readonly nodeId: string;
  readonly leaseMs: number;
  private readonly replicated: ReplicatedClaims | undefined;

  constructor(options: OwnershipOptions) {
    super(options.redis, options.bad);
    this.nodeId = options.nodeId;
    this.leaseMs = options.leaseMs;
    this.replicated = options.replicatedClaims;
  }

  /**
   * Claims a room for this node (redis-scripts.ts, `claim`, says what each mode requires), or
   * undefined when refused. `seenHeartbeat` is the owner's heartbeat as the caller last read its
   * record (0: the record was gone), for mode "dead". With replicated claims, rejects with
   * ClaimNotReplicated when no replica confirmed the claim in time (it was given back).
   */
  async claim(roomId: string, mode: ClaimMode, seenHeartbeat = 0): Promise<Lease | undefined> {
    const { nodeId, leaseMs, replicated } = this;
    const redis = replicated?.redis ?? this.redis;
    const epoch = await redis.locusClaim(keys.owner(roomId), keys.epoch(roomId), keys.rooms, roomId, nodeId, leaseMs, mode, keys.node(""), seenHeartbeat, MAX_NODE_RECORD_BYTES);
    if (epoch === 0) return undefined;
    const lease = { roomId, epoch };
    if (!replicated || (await redis.wait(1, replicated.timeoutMs)) >= 1) return lease;
    // Taken back, so the room is neither stuck behind a lease nobody renews nor, once new, live with no owner.
    await (mode === "new" ? this.release(lease) : this.yield(lease)).catch(() => undefined);
    throw new ClaimNotReplicated(`no replica confirmed the claim of room ${roomId} within ${replicated.timeoutMs} ms: given back`);
  }

  /**
   * Renews every lease in one round trip; a failed round trip throws. A lease that held something
   * that is no owner value is taken back over it and reported: its owner may be the first to
   * meet it, and the last.
   */
  async renew(leases: readonly Lease[]): Promise<Renewal[]> {
    const pipeline = this.redis.pipeline() as unknown as ScriptedRedis & { exec(): Promise<[Error | null, unknown][] | null> };
    for (const { roomId, epoch } of leases) pipeline.locusRenew(keys.owner(roomId), keys.epoch(roomId), keys.rooms, roomId, this.nodeId, epoch, this.leaseMs);
    const results = (await pipeline.exec()) ?? [];
    return leases.map((_, i) => {
      const [err, renewed] = results[i] ?? [new Error("no reply"), 0];
      if (err) return "unreached";
      if (renewed === RENEWED_OVER_BAD_VALUE) this.bad.report("owner", keys.owner(leases[i]!.roomId), undefined, "no valid owner value; its owner renewed the lease over it");
      return renewed === 1 || renewed === RENEWED_OVER_BAD_VALUE ? "renewed" : "fenced";
    });
  }

  /** Stores the room's checkpoint; false when the lease is no longer this node's (fenced off). */
  async writeCheckpoint(lease: Lease, data: string): Promise<boolean> {
    return (await this.redis.locusWriteCheckpoint(keys.owner(lease.roomId), keys.checkpoint(lease.roomId), this.nodeId, lease.epoch, data)) === 1;
  }

  /**
   * Stores the room's checkpoint and trims its journal up to the last record the checkpoint holds;
   * false when the lease is no longer this node's.
   */
  async writeCheckpointTrim(lease: Lease, data: string, journalId: string, seq: number): Promise<boolean> {
    const { roomId, epoch } = lease;
    return (await this.redis.locusWriteCheckpointTrim(keys.owner(roomId), keys.checkpoint(roomId), keys.journal(roomId, journalId), this.nodeId, epoch, data, seq)) === 1;
  }

  /**
   * Appends one journal batch for each room, each under its lease: in one call on a plain Redis; on
   * a Cluster, where one call may touch one room's slot only, one call a room, sent together.
   * Resolves with whether each was taken (false: the room is no longer this node's). Rejects when
   * Redis was not reached.
   */
  async appendJournals(batches: readonly JournalAppend[], maxBatches: number): Promise<boolean[]> {
    if (!this.redis.isCluster) return this.appendJournalsCall(batches, maxBatches);
    return (await Promise.all(batches.map((batch) => this.appendJournalsCall([batch], maxBatches)))).flat();
  }

  private async appendJournalsCall(batches: readonly JournalAppend[], maxBatches: number): Promise<boolean[]> {
    const keyList: string[] = [];
    const args: (string | number)[] = [this.nodeId, maxBatches, JOURNAL_TTL_MS];
    for (const { lease, journalId, batch } of batches) {
      keyList.push(keys.owner(lease.roomId), keys.journal(lease.roomId, journalId));
      args.push(lease.epoch, batch);
    }
    const taken = await this.redis.locusAppendJournals(keyList.length, ...keyList, ...args);
    return taken.map((t) => t === 1);
  }

  /** A room's journal batches in the order they were stored; none when it has none, or one over `maxBytes` (said by `problem`). */
  async readJournal(roomId: string, journalId: string, maxBytes: number): Promise<{ batches: string[]; problem?: string }> {
    const read = await this.redis.locusReadJournal(keys.journal(roomId, journalId), maxBytes);
    switch (read[0]) {
      case "ok":
        return { batches: read.slice(1) as string[] };
      case "none":
        return { batches: [] };
      case "type":
        return { batches: [], problem: `the journal key holds a ${read[1]}, not a list` };
      default:
        return { batches: [], problem: `the journal is ${read[1]} bytes, over ${maxBytes}` };
    }
  }

  /** Gives up the lease, keeping the checkpoint, so the next claim rebuilds the room from it; false when not ours. */
  async yield(lease: Lease): Promise<boolean> {
    return (await this.redis.locusYield(keys.owner(lease.roomId), keys.epoch(lease.roomId), this.nodeId, lease.epoch)) === 1;
  }

  /** The room has ended: its lease and checkpoint go, and it leaves the live rooms; false when not ours. */
  async release(lease: Lease): Promise<boolean> {
    const { roomId, epoch } = lease;
    return (await this.redis.locusRelease(keys.owner(roomId), keys.epoch(roomId), keys.checkpoint(roomId), keys.rooms, roomId, this.nodeId, epoch)) === 1;
  }

  /**
   * A release that keeps a checkpoint no room could be rebuilt from under its quarantine key, for
   * an operator to look at. Resolves with that key and whether the lease was still ours.
   */
  async quarantine(lease: Lease): Promise<{ key: string; released: boolean }> {
    const { roomId, epoch } = lease;
    const key = keys.quarantine(roomId);
    const released = await this.redis.locusQuarantine(keys.owner(roomId), keys.epoch(roomId), keys.checkpoint(roomId), keys.rooms, key, roomId, this.nodeId, epoch, QUARANTINE_TTL_MS);
    return { key, released: released === 1 };
  }

  /** Tells gateways and peers that this node owns the room now (`locus:ownership`). */
  async announce(lease: Lease): Promise<void> {
    const change: OwnershipChange = { roomId: lease.roomId, nodeId: this.nodeId, epoch: lease.epoch };
    await this.redis.publish(channels.ownership, JSON.stringify(change));
  }
}
