/**
 * The cluster side of every room on this node: it claims each room's owner lease, renews the
 * leases in one batch beside the tick loops, writes checkpoints under the room's epoch, fences a
 * room whose lease it can no longer prove, and rebuilds orphaned rooms from their checkpoints.
 * Nothing here runs inside a tick: rooms hand over a checkpoint synchronously and the Redis
 * round trips happen afterwards, on timers.
 */
import { ServerError } from "@colyseus/core";
import type { Logger } from "pino";
import { JoinErrorCode } from "../../shared/protocol.ts";
import type { RoomCap } from "../edge/room-cap.ts";
import type { NodeMetrics } from "../metrics.ts";
import { createRoomWithId } from "../colyseus-internals.ts";
import { type Checkpoint, CheckpointError, MAX_CHECKPOINT_BYTES, parseCheckpoint } from "../durable/checkpoint.ts";
import type { HostedRoom, RoomHost } from "../durable/room-host.ts";
import type { BadRecordSink } from "./bad-records.ts";
import { MAX_NODE_RECORD_BYTES } from "./node-registry.ts";
import { readOwners } from "./owner-value.ts";
import { channels, keys, type OwnershipChange, QUARANTINE_TTL_MS } from "./redis-keys.ts";
import { type ClaimMode, readBounded, RENEWED_OVER_BAD_VALUE, type ScriptedRedis } from "./redis-scripts.ts";
import type { TokenHash } from "./token-hash.ts";

/** How long a hand-off waits to see the room's new owner before reporting none. */
const HANDOFF_WAIT_MS = 5000;

export interface ClusterHostOptions {
  readonly redis: ScriptedRedis;
  readonly nodeId: string;
  readonly leaseMs: number;
  readonly checkpointMs: number;
  /** New rooms past it are refused; rooms rebuilt from a checkpoint are not. */
  readonly roomCap: RoomCap;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  /** Reads format 1 checkpoints, which kept seats' tokens in plain text. */
  readonly tokenHash: TokenHash;
  readonly badRecords: BadRecordSink;
  /** Rooms or players came or went: the node's published load should follow at once. */
  readonly onLoadChange: () => void;
}

interface Claim {
  epoch: number;
  checkpoint: Checkpoint | undefined;
  /** Set when the room could not be rebuilt from the checkpoint: why. */
  unusable?: string;
}

interface OwnedRoom {
  readonly room: HostedRoom;
  readonly epoch: number;
  /** Local time after which this node can no longer be sure it still owns the room. */
  deadline: number;
  /** The checkpoint write in flight, if any: settles when it does. */
  writing: Promise<unknown> | undefined;
  fenced: boolean;
  /** When this room's next periodic checkpoint is due (local clock). */
  checkpointDueAt: number;
}

/**
 * The checkpoint interval is cut into slices of at least this long, and rooms' due times are
 * spread over them: checkpointing every room at once would stall the event loop (and every room's
 * next tick) for the sum of their serialisations. Each room keeps its own due time, so a late
 * timer or a write still in flight delays it by a slice, never by a whole interval.
 */
const MIN_CHECKPOINT_SLICE_MS = 50;
const MAX_CHECKPOINT_SLICES = 10;

export class ClusterRoomHost implements RoomHost {
  private readonly o: ClusterHostOptions;
  private readonly owned = new Map<string, OwnedRoom>();
  /** Epochs claimed for rooms whose onCreate is running, and the checkpoint when it is a rehydration. */
  private readonly claimed = new Map<string, Claim>();
  private readonly renewEveryMs: number;
  private readonly checkpointSlices: number;
  private readonly checkpointSliceMs: number;
  private nextSlot = 0;
  private timers: NodeJS.Timeout[] = [];
  private renewing = false;
  private readonly ownerWaiters = new Map<string, (nodeId: string) => void>();
  /** Set while the node drains: it takes no new players. */
  draining = false;

  constructor(options: ClusterHostOptions) {
    this.o = options;
    // Several renewals fit in one lease, so one lost round trip never costs a room.
    this.renewEveryMs = Math.max(100, Math.floor(options.leaseMs / 5));
    this.checkpointSlices = Math.max(1, Math.min(MAX_CHECKPOINT_SLICES, Math.floor(options.checkpointMs / MIN_CHECKPOINT_SLICE_MS)));
    this.checkpointSliceMs = options.checkpointMs / this.checkpointSlices;
  }

  start(): void {
    this.timers.push(setInterval(() => void this.renewAll(), this.renewEveryMs));
    this.timers.push(setInterval(() => this.checkpointDue(), this.checkpointSliceMs));
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Rooms running here and being started here: placement must see a burst of creates as it lands. */
  get roomCount(): number {
    return this.owned.size + this.claimed.size;
  }

  get playerCount(): number {
    let n = 0;
    for (const { room } of this.owned.values()) n += room.playerCount;
    return n;
  }

  owns(roomId: string): boolean {
    return this.owned.has(roomId) || this.claimed.has(roomId);
  }

  joinRefusal(): string | undefined {
    if (this.draining) return "this node is draining; join through the gateway to reach another node";
    return this.o.redis.status === "ready" ? undefined : "the cluster's state store (Redis) is unreachable; new joins are refused until it returns";
  }

  list(): HostedRoom[] {
    return [...this.owned.values()].map((e) => e.room);
  }

  async admit(roomId: string): Promise<Checkpoint | undefined> {
    const claim = this.claimed.get(roomId);
    if (claim?.checkpoint) return claim.checkpoint;
    // Colyseus's RedisDriver does not keep chosen ids unique (colyseus#978): the claim does, and
    // the placeholder stops a second create here from slipping in while the first one's claim is in flight.
    if (claim || this.owned.has(roomId)) throw new ServerError(JoinErrorCode.CONFLICT, `room ${roomId} already exists`);
    // Claims in flight count: a burst of creates must not slip past the cap before any of them started.
    this.o.roomCap.check(this.roomCount);
    const placeholder: Claim = { epoch: 0, checkpoint: undefined };
    this.claimed.set(roomId, placeholder);
    const epoch = await this.claim(roomId, "new").catch((err: unknown) => {
      this.claimed.delete(roomId);
      throw err;
    });
    if (epoch === 0) {
      this.claimed.delete(roomId);
      throw new ServerError(JoinErrorCode.CONFLICT, `room ${roomId} already exists`);
    }
    placeholder.epoch = epoch;
    return undefined;
  }

  checkpointUnusable(roomId: string, reason: string): void {
    const claim = this.claimed.get(roomId);
    if (claim?.checkpoint) claim.unusable = reason;
  }

  started(room: HostedRoom): void {
    const claim = this.claimed.get(room.roomId);
    if (!claim) return;
    this.claimed.delete(room.roomId);
    const entry: OwnedRoom = {
      room,
      epoch: claim.epoch,
      deadline: Date.now() + this.o.leaseMs - this.renewEveryMs,
      writing: undefined,
      fenced: false,
      // Within one interval of the checkpoint written below, at the next slice in turn.
      checkpointDueAt: Date.now() + ((this.nextSlot++ % this.checkpointSlices) + 1) * this.checkpointSliceMs,
    };
    this.owned.set(room.roomId, entry);
    this.writeCheckpoint(entry);
    this.o.onLoadChange();
  }

  disposed(room: HostedRoom): void {
    const entry = this.owned.get(room.roomId);
    if (!entry || entry.room !== room) return;
    this.owned.delete(room.roomId);
    this.o.onLoadChange();
    if (entry.fenced) return;
    const { redis, nodeId } = this.o;
    redis
      .locusRelease(keys.owner(room.roomId), keys.epoch(room.roomId), keys.checkpoint(room.roomId), keys.rooms, room.roomId, nodeId, entry.epoch)
      .catch((err: unknown) => this.o.log.warn({ event: "release_failed", room: room.roomId, err }, "could not release a disposed room's keys"));
  }

  /** Ids of the rooms this node owns and still runs. */
  liveRoomIds(): string[] {
    return [...this.owned.values()].filter((e) => !e.fenced).map((e) => e.room.roomId);
  }

  /**
   * Hands a room on: freezes it after the current tick, writes that tick's checkpoint, gives up
   * the lease, closes the players with 4010 and asks `adopt` to have another node rebuild the room
   * from exactly that checkpoint. The players' reconnects and the rebuild run at the same time:
   * the gateway and the new node hold each reconnect until the room is there. If the adopting
   * node fails, the room is an ordinary orphan and any node's scan rebuilds it. Resolves with the
   * tick handed over and the node that took the room.
   */
  async handOff(roomId: string, adopt: () => Promise<unknown>): Promise<{ tick: number; newOwner: string | undefined }> {
    const e = this.owned.get(roomId);
    if (!e || e.fenced) throw new Error(`room ${roomId} is not running here`);
    const { tick, yielded } = await this.freezeAndYield(e);
    if (!yielded) {
      this.fence(e, "lease lost before the hand-off");
      throw new Error(`room ${roomId} lost its lease before the hand-off`);
    }
    this.fence(e, "handed off");
    // Listening before asking: the announcement may come back faster than this node resumes.
    const newOwner = this.waitForOwner(roomId, HANDOFF_WAIT_MS);
    await adopt().catch((err: unknown) => this.o.log.warn({ event: "adopt_failed", room: roomId, err }, "the chosen node did not adopt the room; any node may take it now"));
    return { tick, newOwner: await newOwner };
  }

  /**
   * The drain deadline passed: write each room's checkpoint, give up its lease and close it here.
   * The other nodes' scans rebuild the rooms as ordinary orphans.
   */
  async abandon(roomId: string): Promise<void> {
    const e = this.owned.get(roomId);
    if (!e || e.fenced) return;
    try {
      await this.freezeAndYield(e);
    } finally {
      this.fence(e, "drain deadline: left to recovery on the other nodes");
    }
  }

  /**
   * Stops the room after the current tick, writes that tick's checkpoint and gives up the lease,
   * so the next claim rebuilds the room from exactly there. `yielded` is false when this node no
   * longer held the lease to give.
   */
  private async freezeAndYield(e: OwnedRoom): Promise<{ tick: number; yielded: boolean }> {
    const { redis, nodeId } = this.o;
    const { roomId } = e.room;
    const checkpoint = e.room.freeze(nodeId, e.epoch);
    const written = await redis.locusWriteCheckpoint(keys.owner(roomId), keys.checkpoint(roomId), nodeId, e.epoch, JSON.stringify(checkpoint));
    const yielded = written === 1 && (await redis.locusYield(keys.owner(roomId), keys.epoch(roomId), nodeId, e.epoch)) === 1;
    return { tick: checkpoint.tick, yielded };
  }

  /** Some node announced it owns a room now (`locus:ownership`). */
  ownershipChanged(change: OwnershipChange): void {
    const wake = this.ownerWaiters.get(change.roomId);
    if (wake) wake(change.nodeId);
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
    const [owner] = await readOwners(this.o.redis, [roomId], this.o.badRecords).catch(() => [undefined]);
    return owner?.nodeId;
  }

  /** A seat's token changed (join, reconnect, leave): checkpoint now, or a crash would strand that player. */
  seatsChanged(room: HostedRoom): void {
    const entry = this.owned.get(room.roomId);
    if (!entry) return;
    this.writeCheckpoint(entry);
    this.o.onLoadChange();
  }

  /**
   * Takes over an orphaned room: claims the next epoch, reads the checkpoint and recreates the
   * room here under the same id, its seats held for the players' SDKs to reconnect to.
   * `seenHeartbeat` is the owner's heartbeat as the caller last read its record (0: the record was
   * gone): a "dead" claim is refused if the owner has beaten since. `lastAliveAt` dates the old
   * owner's last sign of life for the recovery-time metric, when known.
   */
  async rehydrate(roomId: string, mode: Exclude<ClaimMode, "new">, seenHeartbeat: number, lastAliveAt: number | undefined): Promise<boolean> {
    const { redis, log, metrics, nodeId } = this.o;
    if (this.owns(roomId)) return false;
    // Held from before the claim, so a second trigger here (an adopt and a scan) cannot race it.
    const pending: Claim = { epoch: 0, checkpoint: undefined };
    this.claimed.set(roomId, pending);
    try {
      pending.epoch = await this.claim(roomId, mode, seenHeartbeat);
      if (pending.epoch === 0) return false;
      const [read] = await readBounded(redis, [keys.checkpoint(roomId)], MAX_CHECKPOINT_BYTES);
      try {
        pending.checkpoint = parseCheckpoint(read!, roomId, this.o.tokenHash);
      } catch (err) {
        if (!(err instanceof CheckpointError)) throw err;
        await this.quarantine(roomId, pending.epoch, err.message);
        return false;
      }
      try {
        await createRoomWithId(pending.checkpoint.name, roomId);
      } catch (err) {
        if (pending.unusable === undefined) throw err;
        await this.quarantine(roomId, pending.epoch, pending.unusable);
        return false;
      }
    } catch (err) {
      // Give the lease straight back, so the next scan anywhere retries instead of waiting it out.
      if (pending.epoch > 0) await redis.locusYield(keys.owner(roomId), keys.epoch(roomId), nodeId, pending.epoch).catch(() => undefined);
      throw err;
    } finally {
      if (this.claimed.get(roomId) === pending) this.claimed.delete(roomId);
    }
    metrics.rehydrations.inc();
    if (lastAliveAt !== undefined) metrics.recoverySeconds.observe((Date.now() - lastAliveAt) / 1000);
    const change: OwnershipChange = { roomId, nodeId, epoch: pending.epoch };
    await redis.publish(channels.ownership, JSON.stringify(change)).catch(() => undefined);
    return true;
  }

  /**
   * A checkpoint no room can be rebuilt from: kept under its quarantine key for an operator, the
   * room released so that nobody claims it again. Its players' reconnects then find no room.
   */
  private async quarantine(roomId: string, epoch: number, reason: string): Promise<void> {
    const { redis, nodeId, log, metrics } = this.o;
    const key = keys.quarantine(roomId);
    const released = await redis.locusQuarantine(keys.owner(roomId), keys.epoch(roomId), keys.checkpoint(roomId), keys.rooms, key, roomId, nodeId, epoch, QUARANTINE_TTL_MS);
    metrics.checkpointsQuarantined.inc();
    log.error(
      { event: "checkpoint_quarantined", room: roomId, reason, key, released: released === 1 },
      `checkpoint of room ${roomId} cannot be restored (${reason}); kept at ${key} for a day, the room is released`,
    );
  }

  private claim(roomId: string, mode: ClaimMode, seenHeartbeat = 0): Promise<number> {
    const { redis, nodeId, leaseMs } = this.o;
    return redis.locusClaim(keys.owner(roomId), keys.epoch(roomId), keys.rooms, roomId, nodeId, leaseMs, mode, keys.node(""), seenHeartbeat, MAX_NODE_RECORD_BYTES);
  }

  private async renewAll(): Promise<void> {
    if (this.renewing || this.owned.size === 0) return;
    this.renewing = true;
    const { redis, nodeId, leaseMs, metrics } = this.o;
    const entries = [...this.owned.values()].filter((e) => !e.fenced);
    const sentAt = Date.now();
    try {
      const pipeline = redis.pipeline();
      for (const e of entries) {
        (pipeline as unknown as ScriptedRedis).locusRenew(keys.owner(e.room.roomId), keys.epoch(e.room.roomId), keys.rooms, e.room.roomId, nodeId, e.epoch, leaseMs);
      }
      const results = (await pipeline.exec()) ?? [];
      entries.forEach((e, i) => {
        const [err, renewed] = results[i] ?? [new Error("no reply"), 0];
        if (err) {
          metrics.leaseRenewalFailures.inc();
        } else if (renewed === 1 || renewed === RENEWED_OVER_BAD_VALUE) {
          e.deadline = sentAt + leaseMs - this.renewEveryMs;
          // Whoever meets a spoilt lease reports it; its owner may be the first, and the last.
          if (renewed === RENEWED_OVER_BAD_VALUE) this.o.badRecords.report("owner", keys.owner(e.room.roomId), undefined, "no valid owner value; its owner renewed the lease over it");
        } else {
          metrics.fencedWrites.inc();
          this.fence(e, "lease renewal refused: another node claimed the room");
        }
      });
    } catch {
      metrics.leaseRenewalFailures.inc(entries.length);
    } finally {
      this.renewing = false;
    }
    // Checked after every attempt, reached or not: a node that cannot prove its lease stops.
    const now = Date.now();
    for (const e of this.owned.values()) {
      if (!e.fenced && now > e.deadline) this.fence(e, `lease not renewed for ${leaseMs} ms`);
    }
  }

  private checkpointDue(): void {
    const now = Date.now();
    for (const e of this.owned.values()) {
      if (e.checkpointDueAt > now || e.writing || e.fenced) continue;
      e.checkpointDueAt += this.o.checkpointMs;
      // A node that fell a whole interval behind starts afresh rather than writing a backlog.
      if (e.checkpointDueAt <= now) e.checkpointDueAt = now + this.o.checkpointMs;
      this.writeCheckpoint(e);
    }
  }

  private writeCheckpoint(e: OwnedRoom): void {
    if (e.writing || e.fenced) return;
    this.write(e).catch(() => undefined);
  }

  async commit(room: HostedRoom): Promise<Checkpoint | undefined> {
    const e = this.owned.get(room.roomId);
    if (!e || e.room !== room) return undefined;
    // One write of a room at a time, so a newer checkpoint is never overtaken by an older one.
    while (e.writing) await e.writing.catch(() => undefined);
    // Disposed meanwhile: its keys are released, and a write now would only be refused.
    return e.fenced || this.owned.get(room.roomId) !== e ? undefined : this.write(e);
  }

  /** Writes the room's checkpoint under its epoch; resolves with it once stored, undefined when the lease refused it. */
  private async write(e: OwnedRoom): Promise<Checkpoint | undefined> {
    const { redis, nodeId, metrics, log } = this.o;
    const started = performance.now();
    const checkpoint = e.room.checkpoint(nodeId, e.epoch);
    const data = JSON.stringify(checkpoint);
    const writing = redis.locusWriteCheckpoint(keys.owner(e.room.roomId), keys.checkpoint(e.room.roomId), nodeId, e.epoch, data);
    e.writing = writing;
    try {
      if ((await writing) === 1) {
        metrics.checkpointBytes.observe(data.length);
        metrics.checkpointWriteSeconds.observe((performance.now() - started) / 1000);
        return checkpoint;
      }
      metrics.fencedWrites.inc();
      log.warn({ event: "checkpoint_fenced", room: e.room.roomId, epoch: e.epoch }, "checkpoint refused: this node no longer holds the room's lease");
      return undefined;
    } finally {
      e.writing = undefined;
    }
  }

  private fence(e: OwnedRoom, reason: string): void {
    e.fenced = true;
    e.room.fence(reason);
  }
}
