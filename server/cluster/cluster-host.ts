/**
 * The cluster side of every room on this node, as the rooms see it (`RoomHost`): a new room is
 * admitted once its owner lease is claimed, a started room is handed to the lease keeper and the
 * checkpoint writer, a disposed one releases its lease. Rebuilding orphans (rehydrator.ts) and
 * moving rooms away (hand-off.ts) run beside them on the same rooms. Nothing here runs inside a
 * tick: rooms hand over a checkpoint synchronously and the Redis round trips happen afterwards.
 */
import { ServerError } from "@colyseus/core";
import type { Logger } from "pino";
import { JoinErrorCode } from "../../shared/protocol.ts";
import type { RoomCap } from "../edge/room-cap.ts";
import type { NodeMetrics } from "../metrics.ts";
import type { Checkpoint } from "../durable/checkpoint.ts";
import type { JournalTail } from "../durable/journal.ts";
import type { HostedRoom, RoomHost } from "../durable/room-host.ts";
import { CheckpointWriter } from "./checkpoint-writer.ts";
import { Claims } from "./claims.ts";
import type { DrainableRooms } from "./drain.ts";
import { RoomHandOff } from "./hand-off.ts";
import { JournalWriter } from "./journal-writer.ts";
import { LeaseKeeper } from "./lease-keeper.ts";
import { LeaseLapses } from "./lease-lapse.ts";
import type { OrphanTaker } from "./orphan-watch.ts";
import { OwnedRoom } from "./owned-room.ts";
import { ClaimNotReplicated, type Ownership } from "./ownership.ts";
import type { RecoveryFailures } from "./recovery-failures.ts";
import type { OwnershipChange } from "./redis-keys.ts";
import { Rehydrator } from "./rehydrator.ts";
import type { ClaimMode } from "./redis-scripts.ts";
import type { TokenHash } from "../durable/token-hash.ts";

export interface ClusterHostOptions {
  readonly ownership: Ownership;
  readonly checkpointMs: number;
  /** How often the node writes its rooms' input journals (one tick), or undefined when the journal is switched off. */
  readonly journalFlushMs: number | undefined;
  /** New rooms past it are refused; rooms rebuilt from a checkpoint are not. */
  readonly roomCap: RoomCap;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  readonly failures: RecoveryFailures;
  /** Reads format 1 checkpoints, which kept seats' tokens in plain text. */
  readonly tokenHash: TokenHash;
  /** Whether Redis answers now: without it no new room could be claimed. */
  readonly redisReady: () => boolean;
  /** Whether the node drains: it takes no new players then. */
  readonly draining: () => boolean;
  /** Rooms or players came or went: the node's published load should follow at once. */
  readonly onLoadChange: () => void;
}

export class ClusterRoomHost implements RoomHost, DrainableRooms, OrphanTaker {
  private readonly o: ClusterHostOptions;
  private readonly owned = new Map<string, OwnedRoom>();
  private readonly claims = new Claims();
  private readonly leases: LeaseKeeper;
  private readonly checkpoints: CheckpointWriter;
  private readonly rehydrator: Rehydrator;
  private readonly handOffs: RoomHandOff;
  private readonly journal: JournalWriter | undefined;

  constructor(options: ClusterHostOptions) {
    this.o = options;
    const { ownership, metrics, log, failures } = options;
    const rooms = () => this.owned.values();
    this.leases = new LeaseKeeper({ ownership, metrics, lapses: new LeaseLapses(log), rooms });
    const proven = (entry: OwnedRoom) => this.leases.proven(entry);
    this.checkpoints = new CheckpointWriter({ ownership, checkpointMs: options.checkpointMs, metrics, log, failures, rooms, proven });
    const journals = options.journalFlushMs !== undefined;
    this.rehydrator = new Rehydrator({ ownership, claims: this.claims, owns: (id) => this.owns(id), tokenHash: options.tokenHash, metrics, log, failures, journals });
    if (options.journalFlushMs !== undefined) {
      this.journal = new JournalWriter({ ownership, flushMs: options.journalFlushMs, checkpointMs: options.checkpointMs, metrics, log, failures, ownedEntry: (room) => this.provenEntryOf(room) });
    }
    this.handOffs = new RoomHandOff({ ownership, log, owned: (id) => this.owned.get(id) });
  }

  start(): void {
    this.leases.start();
    this.checkpoints.start();
    this.journal?.start();
  }

  stop(): void {
    this.leases.stop();
    this.checkpoints.stop();
    this.journal?.stop();
  }

  get journals(): boolean {
    return this.journal !== undefined;
  }

  record(room: HostedRoom, journalId: string, seq: number, tick: number, record: unknown): void {
    this.journal?.record(room, journalId, seq, tick, record);
  }

  patching(room: HostedRoom, tick: number): void {
    this.journal?.patching(room, tick);
  }

  journalFor(roomId: string): JournalTail | undefined {
    return this.claims.get(roomId)?.journal;
  }

  /** Rooms running here and being started here: placement must see a burst of creates as it lands. */
  get roomCount(): number {
    return this.owned.size + this.claims.size;
  }

  get playerCount(): number {
    let n = 0;
    for (const { room } of this.owned.values()) n += room.playerCount;
    return n;
  }

  owns(roomId: string): boolean {
    return this.owned.has(roomId) || this.claims.has(roomId);
  }

  joinRefusal(): string | undefined {
    if (this.o.draining()) return "this node is draining; join through the gateway to reach another node";
    return this.o.redisReady() ? undefined : "the cluster's state store (Redis) is unreachable; new joins are refused until it returns";
  }

  list(): HostedRoom[] {
    return [...this.owned.values()].map((e) => e.room);
  }

  async admit(roomId: string): Promise<Checkpoint | undefined> {
    const claim = this.claims.get(roomId);
    if (claim?.checkpoint) return claim.checkpoint;
    // Colyseus's RedisDriver does not keep chosen ids unique (colyseus#978): the claim does, and
    // the placeholder stops a second create here from slipping in while the first one's claim is in flight.
    if (claim || this.owned.has(roomId)) throw new ServerError(JoinErrorCode.CONFLICT, `room ${roomId} already exists`);
    // Claims in flight count: a burst of creates must not slip past the cap before any of them started.
    this.o.roomCap.check(this.roomCount);
    const placeholder = this.claims.open(roomId);
    try {
      placeholder.lease = await this.o.ownership.claim(roomId, "new");
    } catch (err) {
      if (err instanceof ClaimNotReplicated) throw new ServerError(JoinErrorCode.UNAVAILABLE, "the cluster's state store has no replica answering; new rooms are refused until one does");
      throw err;
    } finally {
      if (!placeholder.lease) this.claims.close(roomId, placeholder);
    }
    if (!placeholder.lease) throw new ServerError(JoinErrorCode.CONFLICT, `room ${roomId} already exists`);
    return undefined;
  }

  checkpointUnusable(roomId: string, reason: string): void {
    const claim = this.claims.get(roomId);
    if (claim?.checkpoint) claim.unusable = reason;
  }

  started(room: HostedRoom): void {
    const claim = this.claims.get(room.roomId);
    if (!claim?.lease) return;
    this.claims.close(room.roomId, claim);
    const entry = new OwnedRoom(room, claim.lease);
    this.owned.set(room.roomId, entry);
    this.leases.track(entry);
    this.checkpoints.track(entry);
    this.o.onLoadChange();
  }

  disposed(room: HostedRoom): void {
    const entry = this.owned.get(room.roomId);
    if (!entry || entry.room !== room) return;
    this.owned.delete(room.roomId);
    this.o.onLoadChange();
    if (entry.fenced) return;
    this.o.ownership
      .release(entry.lease)
      .catch((err: unknown) => this.o.log.warn({ event: "release_failed", room: room.roomId, err }, "could not release a disposed room's keys"));
  }

  /** A seat's token changed (join, reconnect, leave): checkpoint now, or a crash would strand that player. */
  seatsChanged(room: HostedRoom): void {
    const entry = this.owned.get(room.roomId);
    if (!entry) return;
    this.checkpoints.write(entry);
    this.o.onLoadChange();
  }

  commit(room: HostedRoom): Promise<Checkpoint | undefined> {
    const entry = this.entryOf(room);
    if (!entry) return Promise.resolve(undefined);
    return this.checkpoints.commit(entry, () => this.owned.get(room.roomId) === entry);
  }

  private entryOf(room: HostedRoom): OwnedRoom | undefined {
    const entry = this.owned.get(room.roomId);
    return entry?.room === room ? entry : undefined;
  }

  /** The room's entry while this node can prove its lease; a room past its proof is fenced. */
  private provenEntryOf(room: HostedRoom): OwnedRoom | undefined {
    const entry = this.entryOf(room);
    return entry && this.leases.proven(entry) ? entry : undefined;
  }

  mayRun(room: HostedRoom): boolean {
    return this.provenEntryOf(room) !== undefined;
  }

  /** Ids of the rooms this node owns and still runs. */
  liveRoomIds(): string[] {
    return [...this.owned.values()].filter((e) => !e.fenced).map((e) => e.room.roomId);
  }

  handOff(roomId: string, adopt: () => Promise<unknown>): Promise<{ tick: number; newOwner: string | undefined }> {
    return this.handOffs.handOff(roomId, adopt);
  }

  abandon(roomId: string): Promise<void> {
    return this.handOffs.abandon(roomId);
  }

  /** Some node announced it owns a room now (`locus:ownership`). */
  ownershipChanged(change: OwnershipChange): void {
    this.handOffs.ownershipChanged(change);
  }

  rehydrate(roomId: string, mode: Exclude<ClaimMode, "new">, seenHeartbeat: number, lastAliveAt: number | undefined): Promise<boolean> {
    return this.rehydrator.rehydrate(roomId, mode, seenHeartbeat, lastAliveAt);
  }
}
