/**
 * A room that outlives its process. A game's room extends DurableRoom instead of Colyseus's Room
 * and gets, with no cluster code of its own: checkpoints, rehydration under the same roomId on
 * another node after a crash, its players' SDKs reconnecting into the same Room objects (their
 * seats carried over), freeze and hand-off on drain, fencing when another node owns the room, and
 * a rebuilt room that waits for its players before it goes on.
 *
 * The game supplies what is its own:
 * - `snapshot()` / `restore()`: its state as plain JSON and back (by default the schema state's
 *   toJSON and restore, enough for a room whose whole game lives in its schema state);
 * - `snapshotVersion` and `parseSnapshot(data, version)`: the version it writes, and the check of
 *   a snapshot read back (untrusted: written by another node, maybe an older version of the game,
 *   which it upgrades);
 * - `checkpointPolicy`: "periodic" (the node checkpoints every room on its schedule: a crash loses
 *   at most one interval) or "every-change" (the game calls `changed()` after every state change;
 *   the change is checkpointed at once and shown to no client before the checkpoint is stored, so
 *   no change a player saw is ever lost);
 * - the seat hooks (`onSeatTaken`, `onSeatFreed`, and optionally `onSeatDropped`,
 *   `onSeatReturned`) in place of Colyseus's onJoin / onLeave / onDrop / onReconnect, which this
 *   class implements; and `onCreateGame` in place of onCreate.
 *
 * Rules for a durable room: all game state is in what snapshot() returns; timers and loops are
 * set up again in onCreateGame (which runs for a new room and for a rebuilt one); the game
 * advances only while `running()` says so; with "every-change", `changed()` follows every change,
 * and what changed reaches clients only in the state (a message sent with it is not held back).
 */
import { randomBytes } from "node:crypto";
import { type Client, ClientState, CloseCode as ColyseusCloseCode, Room, type RoomOptions, ServerError } from "@colyseus/core";
import type { Logger } from "pino";
import { JoinErrorCode, parseRoomIdOption } from "../../shared/protocol.ts";
import type { TokenHash } from "./token-hash.ts";
import {
  admitToHeldSeat, countBytesSent, countCarriedOverClient, discardUnsentChanges, ghostClient, heldSeatFor, leaveListingToNewOwner, onEveryFrame,
  routeFullStates, routeTimedPatches, schemaRefIds,
} from "../colyseus-internals.ts";
import { sendTimedPatch } from "./patch-frames.ts";
import { lastMessageAt } from "../edge/frame-gate.ts";
import { LogOnce } from "../log-once.ts";
import { SEAT_FREEING_CODES } from "../rooms/seat-freeing-codes.ts";
import { logUncaught } from "../rooms/uncaught.ts";
import { CHECKPOINT_FORMAT, type Checkpoint, type SeatCheckpoint } from "./checkpoint.ts";
import { isColyseusId } from "./colyseus-id.ts";
import { type JournalTail, newJournalId } from "./journal.ts";
import type { DurableMetrics } from "./durable-metrics.ts";
import type { HostedRoom, RoomHost } from "./room-host.ts";

/** When a room's checkpoint is written. */
export type CheckpointPolicy =
  /** On the node's schedule (CHECKPOINT_MS, sliced across rooms), and whenever a seat changes: for tick games. */
  | "periodic"
  /** Also after every `changed()`, and no client sees the change before its checkpoint is stored: for turn-based games. */
  | "every-change";

/** What the layer needs from the node, handed to each room type when it is defined. */
export interface DurableDeps {
  readonly host: RoomHost;
  /** What checkpoints keep of each seat's reconnection token. */
  readonly tokenHash: TokenHash;
  /** How long a dropped player's seat is held for its SDK to reconnect. */
  readonly seatHoldSeconds: number;
  readonly log: Logger;
  readonly metrics: DurableMetrics;
}

/** What a game's parseSnapshot and restore learn of the checkpoint besides the snapshot. */
export interface RestoreContext {
  /** The checkpoint's tick (what `progress()` returned when it was taken). */
  readonly tick: number;
  /** Wall-clock milliseconds when it was taken: how long the room was down is `Date.now() - takenAt`. */
  readonly takenAt: number;
  /** The session ids of the seats it carries, each held for its player's SDK. */
  readonly seats: readonly string[];
}

/** What a presented reconnection token may do. */
export type TokenVerdict = { readonly seat: string } | "in_use" | undefined;

/**
 * A rehydrated room numbers its schema refs this far above the checkpoint's counter: the dead
 * owner may have handed out ids after its last checkpoint, and a client that still holds one
 * would otherwise decode a new object into an old one of another type.
 */
const REF_ID_MARGIN = 100_000;

/** A rebuilt room resumes when all its players are back, or after this long without some of them. */
const RESUME_WITHOUT_ALL_MS = 1000;

/**
 * A seat whose connection sent a frame this recently is in use: its reconnection token is refused
 * (an arena player sends an input every tick and every SDK a ping every second, so only a dead or
 * frozen client is silent this long). A token can thus never push a playing player out.
 */
const SEAT_IN_USE_MS = 3000;

/** An every-change room whose checkpoint write failed tries again this long after. */
const COMMIT_RETRY_MS = 250;

/** A checkpoint the room could not be rebuilt from: the host quarantines it and says why, so the room's failed create is not logged again. */
class UnusableCheckpoint extends Error {
  override name = "UnusableCheckpoint";
}

/** Refuses a join when the node cannot take one (draining, or its state store unreachable); for a room type's static onAuth. */
export function refuseJoinWhenHostCannot(host: RoomHost): void {
  const refusal = host.joinRefusal();
  if (refusal) throw new ServerError(JoinErrorCode.UNAVAILABLE, refusal);
}

export abstract class DurableRoom<T extends RoomOptions = RoomOptions, Snapshot = unknown> extends Room<T> implements HostedRoom {
  /** The node's side of the layer; a room type's binding supplies it (Colyseus constructs rooms without arguments). */
  protected abstract readonly durable: DurableDeps;
  /** The version of what snapshot() returns, stored beside it. */
  abstract readonly snapshotVersion: number;
  readonly checkpointPolicy: CheckpointPolicy = "periodic";
  /**
   * Whether a periodic room keeps an input journal, so a crash loses at most a tick rather than
   * the ticks since its checkpoint: the game calls `record()` for everything its step consumes and
   * implements `replay()`. False for a game whose step is not deterministic (docs/durable-rooms.md).
   */
  readonly journal: boolean = true;

  /** The room's logger, with its room id; set at the start of onCreate. */
  protected log!: Logger;

  /**
   * The keyed hash of the reconnection token each seat's SDK holds now (a new one is issued on
   * every join and reconnect): what checkpoints carry instead of the token.
   */
  private readonly tokenHashes = new Map<string, string>();
  /** Sessions holding a seat: joined, dropped and held, or carried over from a checkpoint. */
  private readonly seated = new Set<string>();
  /** Seats carried over from a checkpoint, by their token's hash: each is held under a random key until its token is presented. */
  private readonly carriedSeats = new Map<string, { readonly heldUnder: string }>();
  /** When each seat's connection was attached, or (a socket the frame gate does not front) last sent a frame (performance.now()). */
  private readonly lastHeard = new Map<string, { at: number }>();
  /** Seats whose token was refused while in use: logged once per seat, until its player leaves. */
  private readonly refusedSeats = new LogOnce();
  /** False while a rebuilt room waits for its players, and once it is frozen for a hand-off or fenced off. */
  private simulating = true;
  /**
   * Seats carried over from a checkpoint, until their players are back and have been sent the
   * state: the client once it has reconnected, undefined before.
   */
  private readonly awaitedSeats = new Map<string, Client | undefined>();
  /** Resumes a rebuilt room without the players not back in time. */
  private resumeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Paused by the host while it cannot prove the room's lease: no step until it unpauses it. */
  private paused = false;
  /** Frozen for a hand-off, fenced or disposed: no change is committed from now on. */
  private stopped = false;
  private fenced = false;
  /** Set once onCreate has finished: a room refused half way has nothing to count or release. */
  private live = false;

  /** Every-change: `changed()` calls so far, and how many of them a stored checkpoint holds. */
  private changes = 0;
  private committedChanges = 0;
  private committing = false;
  /** The change count each checkpoint was taken at, to credit a stored one with what it holds. */
  private readonly changesIn = new WeakMap<Checkpoint, number>();
  private readonly commitWaiters: { readonly upTo: number; readonly resolve: () => void }[] = [];
  /** Clients whose full state waits for the pending changes' checkpoint. */
  private readonly owedFullStates: (() => void)[] = [];

  /** The journal this room writes (a rebuilt room starts a new one) and the number of its last record. */
  private journalId = newJournalId();
  private journalSeq = 0;

  /**
   * Sets up the game: its timers, loop and message handlers, and for a new room (`restored`
   * false) its starting state. A rebuilt room's state is restored before this runs.
   */
  protected abstract onCreateGame(options: unknown, restored: boolean): void | Promise<void>;

  /** The game seats a joining player (throwing refuses the join). */
  protected abstract onSeatTaken(client: Client, options: unknown): void | Promise<void>;

  /** A seat is gone for good: its player left, was sent away, or never came back in time (`code` undefined for a carried-over seat that expired). */
  protected abstract onSeatFreed(sessionId: string, code: number | undefined): void;

  /** A seated player's connection dropped; the seat is held for its SDK to reconnect. */
  protected onSeatDropped(_client: Client): void {}

  /** A held seat's player is back, on a new connection (after a drop, or into a seat carried over from a checkpoint). */
  protected onSeatReturned(_client: Client): void {}

  /**
   * Checks a snapshot read back from a checkpoint (untrusted: written by another node, maybe by an
   * older version of this game) and returns it as this version's snapshot, upgrading an older
   * `version`. Throws, saying what is wrong, to refuse it: the checkpoint is then quarantined.
   */
  protected abstract parseSnapshot(data: unknown, version: number, context: RestoreContext): Snapshot;

  /** The game's state as plain JSON; by default the schema state's own toJSON. */
  protected snapshot(): Snapshot {
    return (this.state as { toJSON(): Snapshot }).toJSON();
  }

  /** Puts a checked snapshot into the room's state; by default the schema state's own restore. */
  protected restore(snapshot: Snapshot, _context: RestoreContext): void {
    (this.state as { restore(json: Snapshot): unknown }).restore(snapshot);
  }

  /**
   * Applies journal records (untrusted: read back from Redis) in order to the state just restored
   * from the checkpoint, as the room applied them when it recorded them; returns how many it
   * applied. It may stop early at a record it cannot replay (the rest are dropped, as without a
   * journal). It checks every record it will apply before applying any, and throws, having
   * changed nothing, when they do not fit the state.
   */
  protected replay(_records: readonly unknown[]): number {
    throw new Error(`${this.roomName} rooms keep no journal to replay`);
  }

  /** Whether this room records its step's inputs now: the game may skip building records when not. */
  protected get journaling(): boolean {
    return this.journal && this.checkpointPolicy === "periodic" && this.durable.host.journals;
  }

  /**
   * Something the game's state consumed: a step's inputs, a seat change. Goes into the room's
   * journal in the order of the calls, to be replayed by `replay()`; the record must not be
   * changed afterwards. Recorded only while the room may change (not once frozen or fenced).
   */
  protected record(record: unknown): void {
    if (this.stopped || !this.journaling) return;
    this.durable.host.record(this, this.journalId, ++this.journalSeq, this.progress(), record);
  }

  /** How far the game has got (a tick, a move count), stored as the checkpoint's tick for operators and hand-off reports. */
  protected progress(): number {
    return 0;
  }

  abstract get playerCount(): number;

  /**
   * Whether the game may advance now; a loop asks once per step, a handler before each action.
   * False while a rebuilt room waits for its players (the call that finds them all back and
   * synced resumes it, and answers true), while the host pauses it, once the room is frozen for a
   * hand-off or fenced off, and when the host can no longer vouch for the room (a node woken from a
   * freeze past its lease).
   */
  protected running(): boolean {
    if (this.paused) return false;
    if (!this.simulating && this.awaitedSeats.size > 0 && this.everyAwaitedSeatSynced()) this.resume();
    return this.simulating && this.durable.host.mayRun(this);
  }

  /**
   * Every-change: the state just changed. Its checkpoint is written at once (changes made while a
   * write is in flight go into the next one), and no client is sent the change, in a patch or a
   * full state, before a checkpoint holding it is stored. Resolves then; also when the room is
   * handed over or fenced first, the change then unrevealed. A periodic room's call resolves at once.
   */
  protected changed(): Promise<void> {
    if (this.checkpointPolicy !== "every-change") return Promise.resolve();
    const upTo = ++this.changes;
    if (this.stopped) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.commitWaiters.push({ upTo, resolve }));
    if (!this.committing) void this.commitChanges();
    return done;
  }

  override broadcastPatch(): boolean {
    if (this.committedChanges < this.changes) return false;
    if (this.journaling) this.durable.host.patching(this, this.progress());
    return super.broadcastPatch();
  }

  override async onCreate(options: unknown): Promise<void> {
    const { host, log } = this.durable;
    const requested = parseRoomIdOption(options);
    if (requested.ok && requested.value) this.roomId = requested.value;
    this.log = log.child({ room: this.roomId });
    if (!requested.ok) throw new ServerError(JoinErrorCode.INVALID_OPTIONS, requested.error);
    if (this.checkpointPolicy === "every-change") {
      routeFullStates(this, (_client, send) => {
        if (this.committedChanges < this.changes) this.owedFullStates.push(send);
        else send();
      });
    }
    const checkpoint = await host.admit(this.roomId);
    if (checkpoint) {
      try {
        this.rebuild(checkpoint);
      } catch (err) {
        const reason = `restore failed: ${err instanceof Error ? err.message : String(err)}`;
        host.checkpointUnusable(this.roomId, reason);
        throw new UnusableCheckpoint(reason, { cause: err });
      }
    }
    await this.onCreateGame(options, checkpoint !== undefined);
    // After the game's setup, which may have given the room its state (and so its serializer).
    routeTimedPatches(this, (clients, body, sNow) => {
      const bytes = sendTimedPatch(clients, body, sNow);
      if (bytes > 0) this.durable.metrics.bytesSent.inc(bytes);
    });
    // No client is here yet: what the restore and the game's setup changed reaches each returning
    // player in its full state, and must not follow it as a patch too (applied twice, an array grows).
    if (checkpoint) discardUnsentChanges(this);
    this.live = true;
    this.durable.metrics.rooms.inc();
    host.started(this);
    if (checkpoint) {
      this.log.info({ event: "room_rehydrated", tick: checkpoint.tick, seats: checkpoint.seats.length, from: checkpoint.nodeId, epoch: checkpoint.epoch }, "room rehydrated from checkpoint");
    }
  }

  /** Everything needed to rebuild this room elsewhere; called between two steps of the game, never inside one. */
  checkpoint(nodeId: string, epoch: number): Checkpoint {
    const seats: SeatCheckpoint[] = [];
    for (const [sessionId, tokenHash] of this.tokenHashes) {
      if (this.seated.has(sessionId)) seats.push({ sessionId, tokenHash });
    }
    const checkpoint: Checkpoint = {
      format: CHECKPOINT_FORMAT,
      roomId: this.roomId,
      name: this.roomName,
      nodeId,
      epoch,
      takenAt: Date.now(),
      tick: this.progress(),
      nextRefId: schemaRefIds(this.state).nextUniqueId,
      seats,
      game: { version: this.snapshotVersion, data: this.snapshot() },
      // A stopped room (frozen for a hand-off) records nothing more: its checkpoint holds every
      // record, so it names no journal and the next owner rebuilds it without reading one.
      ...(this.journaling && !this.stopped ? { journal: { id: this.journalId, seq: this.journalSeq } } : {}),
    };
    this.changesIn.set(checkpoint, this.changes);
    return checkpoint;
  }

  freeze(nodeId: string, epoch: number): Checkpoint {
    this.simulating = false;
    this.stopped = true;
    return this.checkpoint(nodeId, epoch);
  }

  pause(): void {
    this.paused = true;
  }

  unpause(): void {
    this.paused = false;
  }

  fence(reason: string): void {
    if (this.fenced) return;
    this.fenced = true;
    this.stopped = true;
    this.simulating = false;
    this.releaseCommitWaiters();
    this.log.info({ event: "room_fenced", reason, tick: this.progress() }, "room closed here: another node owns it now");
    // The matchmaking listing under this id is the new owner's now; disposing must not delete it.
    leaveListingToNewOwner(this);
    // 4010 makes every SDK reconnect, and the gateway leads it to the new owner.
    void this.disconnect(ColyseusCloseCode.MAY_TRY_RECONNECT);
  }

  /**
   * Decides what a presented reconnection token may do; the websocket upgrade (reconnect-gate.ts)
   * and POST /matchmake/reconnect (checkReconnectionToken) both ask. A carried-over seat's token
   * is checked against the seat's hash and, when it matches, admitted. A token takes its seat
   * when the seat is held for a dropped player; for a seat whose connection has gone silent, it
   * may wait for that connection to drop (Colyseus's own wait for a stale connection); for a seat
   * whose connection is live and talking, it is refused ("in_use"). No token ever closes a
   * connection, so a leaked one cannot push a playing player out.
   */
  tokenVerdict(token: string): TokenVerdict {
    if (!isColyseusId(token)) return undefined;
    const carried = this.carriedSeats.get(this.durable.tokenHash(token));
    if (carried) admitToHeldSeat(this, carried.heldUnder, token);
    const held = heldSeatFor(this, token);
    if (held !== undefined) return { seat: held };
    const client = this.clients.find((c) => c.reconnectionToken === token);
    if (!client) return undefined;
    const heard = this.lastHeard.get(client.sessionId);
    if (!heard || performance.now() - Math.max(heard.at, lastMessageAt(client.ref) ?? heard.at) >= SEAT_IN_USE_MS) return { seat: client.sessionId };
    this.durable.metrics.seatTakeoversRefused.inc();
    if (this.refusedSeats.first(client.sessionId)) {
      this.log.warn({ event: "reconnect_refused_seat_in_use", session: client.sessionId }, "a reconnection token was presented for a seat whose player is playing; refused");
    }
    return "in_use";
  }

  /**
   * POST /matchmake/reconnect/:roomId. Colyseus's own check force-closes a live client holding
   * the token (4002, which frees the seat for good): this one never closes anything.
   */
  override checkReconnectionToken(token: string): string {
    const verdict = typeof token === "string" ? this.tokenVerdict(token) : undefined;
    // Colyseus answers "reconnection token invalid or expired" for no session.
    return (typeof verdict === "object" ? verdict.seat : undefined) as string;
  }

  override async onJoin(client: Client, options: unknown): Promise<void> {
    await this.onSeatTaken(client, options);
    this.seated.add(client.sessionId);
    this.attach(client);
    this.tokenHashes.set(client.sessionId, this.durable.tokenHash(client.reconnectionToken));
    this.durable.host.seatsChanged(this);
    // A new player is a change: the join completes once it is stored.
    await this.changed();
  }

  override async onDrop(client: Client, code?: number): Promise<void> {
    if (!this.seated.has(client.sessionId)) return;
    this.durable.metrics.clients.dec();
    if (code !== undefined && SEAT_FREEING_CODES.has(code)) return;
    this.onSeatDropped(client);
    this.log.info({ event: "client_dropped", session: client.sessionId, code }, "client dropped; seat held");
    try {
      await this.allowReconnection(client, this.durable.seatHoldSeconds);
    } catch {
      // Not back in time: onLeave follows and frees the seat.
    }
  }

  override onReconnect(client: Client): void {
    this.onSeatReturned(client);
    this.attach(client);
    this.tokenHashes.set(client.sessionId, this.durable.tokenHash(client.reconnectionToken));
    this.durable.host.seatsChanged(this);
    this.log.info({ event: "client_reconnected", session: client.sessionId }, "client reconnected");
    if (this.awaitedSeats.has(client.sessionId)) this.awaitedSeats.set(client.sessionId, client);
  }

  override onLeave(client: Client, code?: number): void {
    this.tokenHashes.delete(client.sessionId);
    this.lastHeard.delete(client.sessionId);
    this.refusedSeats.forget(client.sessionId);
    if (!this.seated.delete(client.sessionId)) return;
    // A consented leave skips onDrop, so the client gauge is lowered here for it alone.
    if (code === ColyseusCloseCode.CONSENTED) this.durable.metrics.clients.dec();
    this.onSeatFreed(client.sessionId, code);
    this.durable.host.seatsChanged(this);
    void this.changed();
    this.log.info({ event: "client_left", session: client.sessionId, code, players: this.playerCount }, "client left");
  }

  override onDispose(): void {
    clearTimeout(this.resumeTimer);
    this.stopped = true;
    this.releaseCommitWaiters();
    if (!this.live) return;
    this.durable.metrics.rooms.dec();
    this.durable.host.disposed(this);
    this.log.info({ event: "room_disposed" }, "room disposed");
  }

  override onUncaughtException(error: Error, method: string): void {
    if (error.cause instanceof UnusableCheckpoint) return;
    logUncaught(this.log, error, method);
  }

  /** Rebuilds the game from a checkpoint and holds every seat for its player's SDK to reconnect. */
  private rebuild(checkpoint: Checkpoint): void {
    if (checkpoint.name !== this.roomName) throw new Error(`the checkpoint is of a ${checkpoint.name} room, not ${this.roomName}`);
    const context: RestoreContext = { tick: checkpoint.tick, takenAt: checkpoint.takenAt, seats: checkpoint.seats.map((s) => s.sessionId) };
    const snapshot = this.parseSnapshot(checkpoint.game.data, checkpoint.game.version, context);
    const root = schemaRefIds(this.state);
    root.nextUniqueId = Math.max(root.nextUniqueId, checkpoint.nextRefId + REF_ID_MARGIN);
    this.restore(snapshot, context);
    const tail = checkpoint.journal && this.journaling ? this.durable.host.journalFor(this.roomId) : undefined;
    if (tail) this.replayJournal(tail);
    for (const seat of checkpoint.seats) this.holdSeat(seat);
    // The room waits where the checkpoint left it for its players, so none of them misses a step;
    // one who does not come back in time does not hold up the others for long.
    if (this.awaitedSeats.size > 0) {
      this.simulating = false;
      // Not the room's clock: without a loop Colyseus may tick it only as it sends a patch, and an
      // every-change room holds its patches back while a change is not yet stored.
      this.resumeTimer = setTimeout(() => this.resume(), RESUME_WITHOUT_ALL_MS);
    }
  }

  /**
   * Replays the journal's records on the state just restored, before any player can reconnect.
   * A replay the game refuses (having applied nothing) leaves the room where it was
   * checkpointed, as it would be without a journal. The room's own records go
   * to a new journal (the field initialiser drew its id), so none of the dead owner's records can
   * ever be read as this owner's.
   */
  private replayJournal(tail: JournalTail): void {
    const { metrics } = this.durable;
    const started = performance.now();
    const fromTick = this.progress();
    if (tail.refused) {
      this.log.warn({ event: "journal_replay_refused", reason: tail.refused, replayable: tail.records.length }, `journal replay stops short: ${tail.refused}`);
    }
    let applied = 0;
    if (tail.records.length > 0) {
      try {
        applied = this.replay(tail.records);
      } catch (err) {
        this.log.warn({ event: "journal_replay_failed", err }, "the journal does not replay on the checkpoint; the room resumes from the checkpoint");
      }
    }
    const replayed = this.progress() - fromTick;
    const lost = tail.lastTick < 0 ? 0 : Math.max(0, tail.lastTick - this.progress());
    metrics.journalTicksReplayed.observe(replayed);
    metrics.journalReplaySeconds.observe((performance.now() - started) / 1000);
    metrics.journalTicksLost.observe(lost);
    this.log.info({ event: "journal_replayed", records: applied, fromTick, toTick: this.progress(), ticksLost: lost }, "journal replayed on the checkpoint");
  }

  /** True once every carried-over player has reconnected and been sent the state of the checkpoint. */
  private everyAwaitedSeatSynced(): boolean {
    for (const client of this.awaitedSeats.values()) {
      if (client?.state !== ClientState.JOINED) return false;
    }
    return true;
  }

  private resume(): void {
    clearTimeout(this.resumeTimer);
    if (this.fenced || this.simulating) return;
    this.awaitedSeats.clear();
    this.simulating = true;
  }

  /**
   * Holds a carried-over seat for its player's SDK. The room knows only the hash of the token the
   * SDK holds, so the seat is held under a random key that never leaves the process, and the
   * token is admitted once it is presented and matches (tokenVerdict).
   */
  private holdSeat(seat: SeatCheckpoint): void {
    this.tokenHashes.set(seat.sessionId, seat.tokenHash);
    this.seated.add(seat.sessionId);
    this.awaitedSeats.set(seat.sessionId, undefined);
    const heldUnder = randomBytes(24).toString("base64url");
    this.carriedSeats.set(seat.tokenHash, { heldUnder });
    this.allowReconnection(ghostClient(seat.sessionId, heldUnder), this.durable.seatHoldSeconds).then(
      () => {
        this.carriedSeats.delete(seat.tokenHash);
        countCarriedOverClient();
      },
      () => {
        // A carried-over seat never joined this room, so no onLeave comes for it: free it here.
        this.carriedSeats.delete(seat.tokenHash);
        this.tokenHashes.delete(seat.sessionId);
        this.awaitedSeats.delete(seat.sessionId);
        if (!this.seated.delete(seat.sessionId)) return;
        this.onSeatFreed(seat.sessionId, undefined);
        void this.changed();
        this.log.info({ event: "seat_expired", session: seat.sessionId }, "carried-over seat expired");
      },
    );
  }

  /** Counts the client and its bytes, and notes when it is heard; runs for every socket a seat gets, the first and each reconnect. */
  private attach(client: Client): void {
    const { metrics } = this.durable;
    metrics.clients.inc();
    const heard = { at: performance.now() };
    this.lastHeard.set(client.sessionId, heard);
    // A node's frame gate keeps each socket's last message time itself; a second 'message'
    // listener would make every frame's dispatch copy the listener list. Only a socket of
    // another transport is listened to here.
    if (lastMessageAt(client.ref) === undefined) {
      onEveryFrame(client, () => {
        heard.at = performance.now();
      });
    }
    countBytesSent(client, (bytes) => metrics.bytesSent.inc(bytes));
  }

  /** Writes checkpoints until one holds every change so far, revealing what each stored one holds. */
  private async commitChanges(): Promise<void> {
    this.committing = true;
    try {
      while (this.committedChanges < this.changes && !this.stopped) {
        let stored: Checkpoint | undefined;
        try {
          stored = await this.durable.host.commit(this);
        } catch {
          // The host, which talks to the store, has counted and logged the failure; the change stays unrevealed.
          // Not the room's clock: a room without a loop of its own ticks it only in the patches held back now.
          await new Promise<void>((resolve) => setTimeout(resolve, COMMIT_RETRY_MS));
          continue;
        }
        // Not stored: this node no longer owns the room, which the host fences.
        if (!stored) break;
        this.committedChanges = Math.max(this.committedChanges, this.changesIn.get(stored) ?? 0);
        this.reveal();
      }
    } finally {
      this.committing = false;
    }
  }

  /** Sends what stored checkpoints hold: owed full states, then the patch, once nothing is pending. */
  private reveal(): void {
    for (let i = this.commitWaiters.length - 1; i >= 0; i--) {
      const waiter = this.commitWaiters[i]!;
      if (waiter.upTo > this.committedChanges) continue;
      this.commitWaiters.splice(i, 1);
      waiter.resolve();
    }
    if (this.committedChanges < this.changes) return;
    for (const send of this.owedFullStates.splice(0)) send();
    this.broadcastPatch();
  }

  private releaseCommitWaiters(): void {
    for (const waiter of this.commitWaiters.splice(0)) waiter.resolve();
  }
}
