/**
 * The authoritative arena room: it owns one ArenaWorld in this process's memory, steps it at a
 * fixed rate, and sends each client its patch at the end of the step that produced it (not on
 * Colyseus's separate patch timer, which ships state about one tick late).
 */
import { randomBytes } from "node:crypto";
import { type AuthContext, type Client, ClientState, CloseCode as ColyseusCloseCode, matchMaker, Room, ServerError } from "@colyseus/core";
import type { Logger } from "pino";
import { clampAxis, type Stick } from "../../shared/physics.ts";
import { JoinErrorCode, parseJoinOptions, parseRoomIdOption } from "../../shared/protocol.ts";
import { ArenaState, MoveInput } from "../../shared/schema.ts";
import { CHECKPOINT_FORMAT, type Checkpoint, type SeatCheckpoint } from "../cluster/checkpoint.ts";
import type { TokenHash } from "../cluster/token-hash.ts";
import { clientError } from "../client-errors.ts";
import { admitToHeldSeat, broadcastPatchStampedAt, guardSeatReservations, heldSeatFor, leaveListingToNewOwner, mapJoinErrors, schemaRefIds, shiftInputAck } from "../colyseus-internals.ts";
import type { PendingSeatLimit, SeatAuth } from "../edge/pending-seats.ts";
import { ArenaWorld } from "../game/arena-world.ts";
import { Rng } from "../game/rng.ts";
import { isColyseusId, restoreWorld, snapshotWorld } from "../game/snapshot.ts";
import type { FramePolicy } from "../edge/frame-policy.ts";
import { LogOnce } from "../log-once.ts";
import type { NodeMetrics } from "../metrics.ts";
import { InputCadence } from "./input-cadence.ts";
import { InputGuard } from "./input-guard.ts";
import type { HostedRoom, RoomHost } from "./room-host.ts";
import { SEAT_FREEING_CODES } from "./seat-freeing-codes.ts";
import { TickClock } from "./tick-clock.ts";
import { logUncaught } from "./uncaught.ts";

export interface ArenaRoomDeps {
  readonly nodeId: string;
  readonly tickHz: number;
  readonly maxPlayers: number;
  /** How long a dropped player's seat is held for its SDK to reconnect. */
  readonly seatHoldSeconds: number;
  /** How long a reserved seat waits for its player's socket. */
  readonly seatReservationSeconds: number;
  /** How many of those one client address may hold in one room. */
  readonly pendingSeats: PendingSeatLimit;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  readonly host: RoomHost;
  /** What checkpoints keep of each seat's reconnection token. */
  readonly tokenHash: TokenHash;
}

const IDLE_STICK: Stick = { x: 0, y: 0 };
const centred = (stick: Stick | undefined) => !stick || (stick.x === 0 && stick.y === 0);
/** The frames an arena client sends besides the join ack, leave and ping: reliable inputs of MoveInput, nothing else. */
export const ARENA_FRAMES: FramePolicy = { input: MoveInput };

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
 * (a player sends an input every tick and a ping every second, so only a dead or frozen client is
 * silent this long). A token can thus never push a playing player out.
 */
const SEAT_IN_USE_MS = 3000;

/** What a presented reconnection token may do. */
export type TokenVerdict = { readonly seat: string } | "in_use" | undefined;

/** Binds the room class to this node's dependencies; Colyseus constructs rooms itself, without arguments. */
export function arenaRoom(deps: ArenaRoomDeps): typeof ArenaRoom {
  return class BoundArenaRoom extends ArenaRoom {
    override readonly deps = deps;

    static override async onAuth(token: string, options: unknown, context?: AuthContext): Promise<SeatAuth> {
      const refusal = deps.host.joinRefusal();
      if (refusal) throw new ServerError(JoinErrorCode.UNAVAILABLE, refusal);
      return ArenaRoom.onAuth(token, options, context);
    }
  };
}

export class ArenaRoom extends Room<{ state: ArenaState; input: MoveInput }> implements HostedRoom {
  readonly deps!: ArenaRoomDeps;

  override state = new ArenaState();
  override inputs = this.defineInput(MoveInput, {
    bufferMaxSize: 32,
    sanitize: (input) => this.sanitize(input),
  });

  private world!: ArenaWorld;
  private log!: Logger;
  /** Keyed by each client's decoded input instance, the one object the sanitizer is handed. */
  private readonly guards = new WeakMap<object, InputGuard>();
  private readonly stickOf = (sessionId: string): Stick | undefined => this.nextStick(sessionId);
  private readonly cadences = new Map<string, InputCadence>();
  private tickClock!: TickClock;
  /**
   * The keyed hash of the reconnection token each seat's SDK holds now (a new one is issued on
   * every join and reconnect): what checkpoints carry instead of the token.
   */
  private readonly tokenHashes = new Map<string, string>();
  /** Seats carried over from a checkpoint, by their token's hash: each is held under a random key until its token is presented. */
  private readonly carriedSeats = new Map<string, { readonly heldUnder: string }>();
  /** When each seat's connection last sent a frame (performance.now()). */
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
  private fenced = false;
  /** Set once onCreate has finished: a room refused half way has nothing to count or release. */
  private live = false;

  /**
   * Join options are checked before a seat is reserved, so a bad name never creates a room. The
   * seat remembers who asked for it (the address the node's edge resolved), for the pending-seat limit.
   */
  static override async onAuth(_token: string, options: unknown, context?: AuthContext): Promise<SeatAuth> {
    const parsed = parseJoinOptions(options);
    if (!parsed.ok) throw new ServerError(JoinErrorCode.INVALID_OPTIONS, parsed.error);
    const roomId = parseRoomIdOption(options);
    if (!roomId.ok) throw new ServerError(JoinErrorCode.INVALID_OPTIONS, roomId.error);
    return { address: context?.ip };
  }

  override async onCreate(options: unknown): Promise<void> {
    const { deps } = this;
    const requested = parseRoomIdOption(options);
    if (requested.ok && requested.value) this.roomId = requested.value;
    this.log = deps.log.child({ room: this.roomId });
    if (!requested.ok) throw new ServerError(JoinErrorCode.INVALID_OPTIONS, requested.error);
    mapJoinErrors(this, (err) => {
      const { error, internal } = clientError(err);
      if (internal) this.log.error({ event: "internal_error", where: "join", err }, "a join failed; the client was told only \"internal error\"");
      return error;
    });
    this.maxClients = deps.maxPlayers;
    this.seatReservationTimeout = deps.seatReservationSeconds;
    guardSeatReservations(this, (seat, pending) => deps.pendingSeats.refuses(this.roomId, seat, pending));
    const checkpoint = await deps.host.admit(this.roomId);
    if (checkpoint) {
      try {
        this.restore(checkpoint);
      } catch (err) {
        deps.host.checkpointUnusable(this.roomId, `restore failed: ${err instanceof Error ? err.message : String(err)}`);
        throw err;
      }
    } else {
      this.world = new ArenaWorld(this.state, new Rng(Date.now() ^ (Math.random() * 0x7fffffff)));
    }
    this.state.nodeId = deps.nodeId;

    const budgetMs = 1000 / deps.tickHz;
    this.tickClock = new TickClock(budgetMs);
    const { tickDuration, tickOverruns } = deps.metrics;
    this.setFixedTimestep((ctx) => {
      if (!this.simulating) {
        if (this.awaitedSeats.size > 0 && this.everyAwaitedSeatSynced()) this.resume();
        return;
      }
      const started = performance.now();
      this.world.step(ctx.dt, this.stickOf);
      broadcastPatchStampedAt(this, this.tickClock.next(this.clock.elapsedTime));
      const tookMs = performance.now() - started;
      tickDuration.observe(tookMs / 1000);
      if (tookMs > budgetMs) tickOverruns.inc();
    }, deps.tickHz);
    // Only after setFixedTimestep: set earlier, Colyseus starts a clock timer that starves the step.
    this.patchRate = null;

    // The frame gate refuses room messages for the arena (ARENA_FRAMES) before Colyseus decodes
    // them; the guard still counts any that reach the room by another way.
    this.onMessage("*", (client, type) => {
      const guard = this.guardOf(client);
      if (!guard) return;
      guard.unknownMessages++;
      guard.lastUnknownType = JSON.stringify(String(type)).slice(0, 40);
    });
    this.clock.setInterval(() => this.reviewGuards(), 1000);

    this.live = true;
    deps.metrics.rooms.inc();
    deps.host.started(this);
    if (checkpoint) {
      this.log.info({ event: "room_rehydrated", tick: checkpoint.tick, seats: checkpoint.seats.length, from: checkpoint.nodeId, epoch: checkpoint.epoch }, "room rehydrated from checkpoint");
    } else {
      this.log.info({ event: "room_created", tickHz: deps.tickHz, maxPlayers: deps.maxPlayers }, "room created");
    }
  }

  get playerCount(): number {
    return this.world.playerCount;
  }

  /** Everything needed to rebuild this room elsewhere; called between ticks, never inside one. */
  checkpoint(nodeId: string, epoch: number): Checkpoint {
    const seats: SeatCheckpoint[] = [];
    for (const [sessionId, tokenHash] of this.tokenHashes) {
      const player = this.state.players.get(sessionId);
      if (!player) continue;
      seats.push({ sessionId, tokenHash, name: player.name, inputsConsumed: this.inputs.get(sessionId).consumedCount });
    }
    return {
      format: CHECKPOINT_FORMAT,
      roomId: this.roomId,
      nodeId,
      epoch,
      takenAt: Date.now(),
      tick: this.state.tick,
      world: snapshotWorld(this.world),
      nextRefId: schemaRefIds(this.state).nextUniqueId,
      seats,
    };
  }

  freeze(nodeId: string, epoch: number): Checkpoint {
    this.simulating = false;
    return this.checkpoint(nodeId, epoch);
  }

  fence(reason: string): void {
    if (this.fenced) return;
    this.fenced = true;
    this.simulating = false;
    this.log.info({ event: "room_fenced", reason }, "room closed here: another node owns it now");
    // The matchmaking listing under this id is the new owner's now; disposing must not delete it.
    leaveListingToNewOwner(this);
    // 4010 makes every SDK reconnect, and the gateway leads it to the new owner.
    void this.disconnect(ColyseusCloseCode.MAY_TRY_RECONNECT);
  }

  /** Rebuilds the world from a checkpoint and holds every seat for its player's SDK to reconnect. */
  private restore(checkpoint: Checkpoint): void {
    const root = schemaRefIds(this.state);
    root.nextUniqueId = Math.max(root.nextUniqueId, checkpoint.nextRefId + REF_ID_MARGIN);
    this.world = restoreWorld(checkpoint.world, this.state);
    this.state.players.forEach((player) => (player.connected = false));
    for (const seat of checkpoint.seats) this.holdSeat(seat);
    // The room waits at the checkpoint's tick for its players, so none of them misses a tick of
    // the move; one who does not come back in time does not hold up the others for long.
    if (this.awaitedSeats.size > 0) {
      this.simulating = false;
      this.clock.setTimeout(() => this.resume(), RESUME_WITHOUT_ALL_MS);
    }
  }

  /** True once every carried-over player has reconnected and been sent the state of the checkpoint's tick. */
  private everyAwaitedSeatSynced(): boolean {
    for (const client of this.awaitedSeats.values()) {
      if (client?.state !== ClientState.JOINED) return false;
    }
    return true;
  }

  private resume(): void {
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
    this.awaitedSeats.set(seat.sessionId, undefined);
    const heldUnder = randomBytes(24).toString("base64url");
    this.carriedSeats.set(seat.tokenHash, { heldUnder });
    // allowReconnection reads only these fields of the client it is handed.
    const ghost = { sessionId: seat.sessionId, reconnectionToken: heldUnder, auth: undefined, userData: undefined };
    this.allowReconnection(ghost as unknown as Client, this.deps.seatHoldSeconds).then(
      () => {
        this.carriedSeats.delete(seat.tokenHash);
        // Colyseus counts a client on its first join only; a seat carried over from another node never had one here.
        matchMaker.stats.local.ccu++;
        void matchMaker.stats.persist();
      },
      () => {
        // A carried-over seat never joined this room, so no onLeave comes for it: free it here.
        this.carriedSeats.delete(seat.tokenHash);
        this.tokenHashes.delete(seat.sessionId);
        this.awaitedSeats.delete(seat.sessionId);
        this.cadences.delete(seat.sessionId);
        this.world.removePlayer(seat.sessionId);
        this.log.info({ event: "seat_expired", session: seat.sessionId }, "carried-over seat expired");
      },
    );
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
    const carried = this.carriedSeats.get(this.deps.tokenHash(token));
    if (carried) admitToHeldSeat(this, carried.heldUnder, token);
    const held = heldSeatFor(this, token);
    if (held !== undefined) return { seat: held };
    const client = this.clients.find((c) => c.reconnectionToken === token);
    if (!client) return undefined;
    const heard = this.lastHeard.get(client.sessionId);
    if (!heard || performance.now() - heard.at >= SEAT_IN_USE_MS) return { seat: client.sessionId };
    this.deps.metrics.seatTakeoversRefused.inc();
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

  override onJoin(client: Client, options: unknown): void {
    const parsed = parseJoinOptions(options);
    if (!parsed.ok) throw new ServerError(JoinErrorCode.INVALID_OPTIONS, parsed.error);
    this.world.addPlayer(client.sessionId, parsed.value.name);
    this.attach(client);
    this.tokenHashes.set(client.sessionId, this.deps.tokenHash(client.reconnectionToken));
    this.deps.host.seatsChanged(this);
    this.log.info({ event: "client_joined", session: client.sessionId, name: parsed.value.name, players: this.world.playerCount }, "client joined");
  }

  override async onDrop(client: Client, code?: number): Promise<void> {
    const player = this.state.players.get(client.sessionId);
    if (!player) return;
    this.deps.metrics.clients.dec();
    if (code !== undefined && SEAT_FREEING_CODES.has(code)) return;
    player.connected = false;
    this.log.info({ event: "client_dropped", session: client.sessionId, code }, "client dropped; seat held");
    try {
      await this.allowReconnection(client, this.deps.seatHoldSeconds);
    } catch {
      // Not back in time: onLeave follows and frees the seat.
    }
  }

  override onReconnect(client: Client): void {
    const player = this.state.players.get(client.sessionId);
    if (player) player.connected = true;
    // The reconnected socket counts its inputs afresh, so no guess from before is owed any more.
    this.cadences.delete(client.sessionId);
    this.attach(client);
    this.tokenHashes.set(client.sessionId, this.deps.tokenHash(client.reconnectionToken));
    this.deps.host.seatsChanged(this);
    this.log.info({ event: "client_reconnected", session: client.sessionId }, "client reconnected");
    if (this.awaitedSeats.has(client.sessionId)) this.awaitedSeats.set(client.sessionId, client);
  }

  override onLeave(client: Client, code?: number): void {
    this.tokenHashes.delete(client.sessionId);
    this.lastHeard.delete(client.sessionId);
    this.refusedSeats.forget(client.sessionId);
    this.cadences.delete(client.sessionId);
    if (!this.state.players.has(client.sessionId)) return;
    // A consented leave skips onDrop, so the client gauge is lowered here for it alone.
    if (code === ColyseusCloseCode.CONSENTED) this.deps.metrics.clients.dec();
    this.world.removePlayer(client.sessionId);
    this.deps.host.seatsChanged(this);
    this.log.info({ event: "client_left", session: client.sessionId, code, players: this.world.playerCount }, "client left");
  }

  override onDispose(): void {
    if (!this.live) return;
    this.deps.metrics.rooms.dec();
    this.deps.host.disposed(this);
    this.log.info({ event: "room_disposed" }, "room disposed");
  }

  override onUncaughtException(error: Error, method: string): void {
    logUncaught(this.log, error, method);
  }

  /** Counts the client and its bytes, and notes when it is heard; runs for every socket a seat gets, the first and each reconnect. */
  private attach(client: Client): void {
    const { metrics } = this.deps;
    metrics.clients.inc();
    const heard = { at: performance.now() };
    this.lastHeard.set(client.sessionId, heard);
    (client.ref as { on(event: "message", listener: () => void): void }).on("message", () => {
      heard.at = performance.now();
    });
    const input = this.inputs.get(client.sessionId).latest;
    if (input) this.guards.set(input, new InputGuard(this.deps.tickHz * 2, performance.now()));
    const raw = client.raw.bind(client);
    client.raw = (data, options, cb) => {
      metrics.bytesSent.inc(data.byteLength);
      raw(data, options, cb);
    };
  }

  private guardOf(client: Client): InputGuard | undefined {
    const input = this.inputs.get(client.sessionId).latest;
    return input ? this.guards.get(input) : undefined;
  }

  /** Runs on every decoded input frame before anything reads it. */
  private sanitize(input: MoveInput): void {
    const guard = this.guards.get(input);
    guard?.input(performance.now());
    const x = clampAxis(input.x);
    const y = clampAxis(input.y);
    if (x !== input.x || y !== input.y) {
      if (guard) guard.invalidValues += (x !== input.x ? 1 : 0) + (y !== input.y ? 1 : 0);
      this.deps.metrics.inputsRejected.inc({ reason: "invalid_input" });
      input.x = x;
      input.y = y;
    }
  }

  /**
   * The stick a player's body runs this tick, or undefined when it sits the tick out; how each
   * input is fed in (and acknowledged) is InputCadence's.
   */
  private nextStick(sessionId: string): Stick | undefined {
    const player = this.state.players.get(sessionId);
    if (!player?.connected) return IDLE_STICK;
    const inputs = this.inputs.get(sessionId);
    let cadence = this.cadences.get(sessionId);
    if (!cadence) this.cadences.set(sessionId, (cadence = new InputCadence(this.deps.tickHz)));
    const { metrics } = this.deps;
    for (let n = cadence.settle(inputs.size); n > 0; n--) {
      inputs.next();
      // Its guessed step was acknowledged already.
      shiftInputAck(inputs, -1);
    }
    for (let n = cadence.overflow(inputs.size); n > 0; n--) {
      inputs.next();
      metrics.inputsRejected.inc({ reason: "input_flood" });
    }
    const latest = inputs.latest;
    const still = player.vx === 0 && player.vy === 0;
    const late = inputs.size === 0;
    switch (cadence.plan(inputs.size, still && centred(latest))) {
      case "wait":
        if (late) metrics.lateInputTicks.inc({ handled: "waited" });
        return undefined;
      case "guess":
        metrics.lateInputTicks.inc({ handled: "guessed" });
        shiftInputAck(inputs, 1);
        return latest ?? IDLE_STICK;
      case "coast":
        metrics.lateInputTicks.inc({ handled: "coasted" });
        return latest ?? IDLE_STICK;
      case "step": {
        const input = inputs.next()!;
        return cadence.giveBack(inputs.size, still && centred(input)) ? inputs.next()! : input;
      }
    }
  }

  private reviewGuards(): void {
    for (const client of this.clients) {
      const guard = this.guardOf(client);
      if (!guard) continue;
      const review = guard.review();
      for (const w of review.warnings) client.error(w.code, w.message);
      if (review.kick) {
        this.deps.metrics.clientsKicked.inc({ reason: review.kick.offense });
        this.log.warn({ event: "client_kicked", session: client.sessionId, code: review.kick.code, reason: review.kick.message }, "client kicked");
        client.leave(review.kick.code, review.kick.message);
      }
    }
  }
}
