/**
 * The authoritative arena room: it owns one ArenaWorld in this process's memory, steps it at a
 * fixed rate, and sends each client its patch as soon as the loop's callback has run its steps
 * (not on Colyseus's separate patch timer, which ships state about one tick late). What makes it outlive
 * its process (checkpoints, carried-over seats, freeze and fencing) is the durable-room layer's.
 */
import type { AuthContext, Client } from "@colyseus/core";
import { ServerError, TimestepException } from "@colyseus/core";
import { clampAxis, type Stick } from "../../shared/physics.ts";
import { JoinErrorCode, parseJoinOptions, parseRoomIdOption } from "../../shared/protocol.ts";
import { ArenaState, MoveInput } from "../../shared/schema.ts";
import { clientError } from "../client-errors.ts";
import { broadcastPatchStampedAt, guardSeatReservations, mapJoinErrors, recycleInputCopies, shiftInputAck } from "../colyseus-internals.ts";
import { type DurableDeps, DurableRoom, refuseJoinWhenHostCannot, type RestoreContext } from "../durable/durable-room.ts";
import type { PendingSeatLimit, SeatAuth } from "../edge/pending-seats.ts";
import { replayArenaJournal, StepRecorder } from "../game/arena-journal.ts";
import { ArenaWorld } from "../game/arena-world.ts";
import { Rng } from "../game/rng.ts";
import { parseCheckpointWorld, restoreWorld, snapshotWorld, WORLD_SNAPSHOT_VERSION, type WorldSnapshot } from "../game/snapshot.ts";
import type { FramePolicy } from "../edge/frame-policy.ts";
import type { NodeMetrics } from "../metrics.ts";
import { InputCadence } from "./input-cadence.ts";
import { InputGuard } from "./input-guard.ts";
import { StepPatcher } from "./step-patcher.ts";
import { TickClock } from "./tick-clock.ts";

export interface ArenaRoomDeps extends DurableDeps {
  readonly nodeId: string;
  readonly tickHz: number;
  readonly maxPlayers: number;
  /** How long a reserved seat waits for its player's socket. */
  readonly seatReservationSeconds: number;
  /** How many of those one client address may hold in one room. */
  readonly pendingSeats: PendingSeatLimit;
  readonly metrics: NodeMetrics & DurableDeps["metrics"];
}

const IDLE_STICK: Stick = { x: 0, y: 0 };
/** Inputs a client may have waiting in Colyseus's buffer; InputCadence keeps far fewer. */
const INPUT_BUFFER = 32;
const copyStick = (from: MoveInput, to: MoveInput) => {
  to.x = from.x;
  to.y = from.y;
};
const centred = (stick: Stick | undefined) => !stick || (stick.x === 0 && stick.y === 0);
/** The frames an arena client sends besides the join ack, leave and ping: reliable inputs of MoveInput, nothing else. */
export const ARENA_FRAMES: FramePolicy = { input: MoveInput };

/** Binds the room class to this node's dependencies; Colyseus constructs rooms itself, without arguments. */
export function arenaRoom(deps: ArenaRoomDeps): typeof ArenaRoom {
  return class BoundArenaRoom extends ArenaRoom {
    override readonly deps = deps;

    static override async onAuth(token: string, options: unknown, context?: AuthContext): Promise<SeatAuth> {
      refuseJoinWhenHostCannot(deps.host);
      return ArenaRoom.onAuth(token, options, context);
    }
  };
}

export class ArenaRoom extends DurableRoom<{ state: ArenaState; input: MoveInput }, WorldSnapshot> {
  readonly deps!: ArenaRoomDeps;
  readonly snapshotVersion = WORLD_SNAPSHOT_VERSION;

  override state = new ArenaState();
  override inputs = this.defineInput(MoveInput, {
    bufferMaxSize: INPUT_BUFFER,
    sanitize: (input) => this.sanitize(input),
  });

  private world!: ArenaWorld;
  /** Keyed by each client's decoded input instance, the one object the sanitizer is handed. */
  private readonly guards = new WeakMap<object, InputGuard>();
  private readonly stickOf = (sessionId: string): Stick | undefined => this.nextStick(sessionId);
  /** What each step consumed, for the journal: the step runs the sticks as the recorder notes them. */
  private readonly recorder = new StepRecorder();
  private readonly recordedStickOf = (sessionId: string): Stick | undefined => this.recorder.note(this.nextStick(sessionId));
  /** The second input of the player nextStick fed last, when it catches up this tick; asked once, right after. */
  private caughtUp: MoveInput | undefined;
  private readonly catchUpOf = (): Stick | undefined => this.takeCatchUp();
  private readonly recordedCatchUpOf = (): Stick | undefined => this.recorder.noteAgain(this.takeCatchUp());
  private readonly cadences = new Map<string, InputCadence>();
  private tickClock!: TickClock;
  /** The stamp of the last step run: its callback's one patch carries it. */
  private patchStamp = 0;

  protected get durable(): DurableDeps {
    return this.deps;
  }

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

  protected override onCreateGame(_options: unknown, restored: boolean): void {
    const { deps } = this;
    mapJoinErrors(this, (err) => {
      const { error, internal } = clientError(err);
      if (internal) this.log.error({ event: "internal_error", where: "join", err }, "a join failed; the client was told only \"internal error\"");
      return error;
    });
    this.maxClients = deps.maxPlayers;
    this.seatReservationTimeout = deps.seatReservationSeconds;
    guardSeatReservations(this, (seat, pending) => deps.pendingSeats.refuses(this.roomId, seat, pending));
    if (!restored) this.world = new ArenaWorld(this.state, new Rng(Date.now() ^ (Math.random() * 0x7fffffff)));
    this.state.nodeId = deps.nodeId;

    const budgetMs = 1000 / deps.tickHz;
    this.tickClock = new TickClock(budgetMs);
    const { tickDuration, tickOverruns } = deps.metrics;
    const patcher = new StepPatcher({
      budgetMs,
      running: () => this.running(),
      send: () => broadcastPatchStampedAt(this, this.patchStamp),
      sent: (tookMs, overBudget) => {
        tickDuration.observe(tookMs / 1000);
        if (overBudget) tickOverruns.inc();
      },
      // Reported as a throw inside the step would be; the room keeps running.
      failed: (error) => this.onUncaughtException(new TimestepException(error, error.message), "setFixedTimestep"),
    });
    this.setFixedTimestep((ctx) => {
      if (!this.running()) return;
      const started = performance.now();
      if (this.journaling) {
        this.world.step(ctx.dt, this.recordedStickOf, this.recordedCatchUpOf);
        this.record(this.recorder.take(ctx.dt));
      } else {
        this.world.step(ctx.dt, this.stickOf, this.catchUpOf);
      }
      this.patchStamp = this.tickClock.next(this.clock.elapsedTime);
      patcher.stepped(performance.now() - started);
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
    if (!restored) this.log.info({ event: "room_created", tickHz: deps.tickHz, maxPlayers: deps.maxPlayers }, "room created");
  }

  get playerCount(): number {
    return this.world.playerCount;
  }

  protected override progress(): number {
    return this.state.tick;
  }

  protected override snapshot(): WorldSnapshot {
    return snapshotWorld(this.world);
  }

  /** The arena has had one snapshot version; parseWorldSnapshot refuses any other. */
  protected override parseSnapshot(data: unknown, _version: number, context: RestoreContext): WorldSnapshot {
    return parseCheckpointWorld(data, context.tick, context.seats);
  }

  /** Replays what replayArenaJournal takes of the journal; every player is away afterwards, as after restore. */
  protected override replay(records: readonly unknown[]): number {
    const applied = replayArenaJournal(this.world, records);
    this.state.players.forEach((player) => (player.connected = false));
    return applied;
  }

  /** Rebuilds the world; every player is away until its SDK reconnects. */
  protected override restore(snapshot: WorldSnapshot): void {
    this.world = restoreWorld(snapshot, this.state);
    this.state.players.forEach((player) => (player.connected = false));
  }

  protected override onSeatTaken(client: Client, options: unknown): void {
    const parsed = parseJoinOptions(options);
    if (!parsed.ok) throw new ServerError(JoinErrorCode.INVALID_OPTIONS, parsed.error);
    this.world.addPlayer(client.sessionId, parsed.value.name);
    this.record(["j", client.sessionId, parsed.value.name]);
    this.guardInputs(client);
    this.log.info({ event: "client_joined", session: client.sessionId, name: parsed.value.name, players: this.world.playerCount }, "client joined");
  }

  protected override onSeatDropped(client: Client): void {
    const player = this.state.players.get(client.sessionId);
    if (!player) return;
    player.connected = false;
    this.record(["c", client.sessionId, 0]);
  }

  protected override onSeatReturned(client: Client): void {
    const player = this.state.players.get(client.sessionId);
    if (player) {
      player.connected = true;
      this.record(["c", client.sessionId, 1]);
    }
    // The reconnected socket counts its inputs afresh, so no guess from before is owed any more.
    this.cadences.delete(client.sessionId);
    this.guardInputs(client);
  }

  protected override onSeatFreed(sessionId: string): void {
    this.cadences.delete(sessionId);
    this.world.removePlayer(sessionId);
    this.record(["l", sessionId]);
  }

  /**
   * Every socket a seat gets, the first and each reconnect, has its inputs guarded afresh, and
   * buffered in reused copies: a step reads a copy's stick and keeps nothing of it.
   */
  private guardInputs(client: Client): void {
    const input = this.inputs.get(client.sessionId).latest;
    if (!input) return;
    this.guards.set(input, new InputGuard(this.deps.tickHz * 2, performance.now()));
    recycleInputCopies(input, Array.from({ length: INPUT_BUFFER + 2 }, () => ({ x: 0, y: 0 }) as MoveInput), copyStick);
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
      case "step": {
        const input = inputs.next()!;
        const rests = still && centred(input);
        if (cadence.giveBack(inputs.size, rests)) return inputs.next()!;
        if (!rests && cadence.catchUp(inputs.size)) {
          metrics.lateInputTicks.inc({ handled: "caught_up" });
          this.caughtUp = inputs.next()!;
        }
        return input;
      }
    }
  }

  private takeCatchUp(): Stick | undefined {
    const input = this.caughtUp;
    this.caughtUp = undefined;
    return input;
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
