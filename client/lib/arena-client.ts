/**
 * The headless arena client: join, stage a stick, send exactly one input per fixed step, predict
 * the own player with Colyseus's reconciler over the shared step, interpolate everyone else.
 * The browser game draws from it; tests and bots drive it without a page.
 */
import { Callbacks, type InputHandle, Predict, type Reconciler, type Room } from "@colyseus/sdk";
import { ROOM_NAME } from "../../shared/constants.ts";
import { stepPlayer } from "../../shared/physics.ts";
import type { ArenaState, MoveInput, Player } from "../../shared/schema.ts";
import { DrawClock } from "./draw-clock.ts";
import { reconnectPromptly } from "./reconnection.ts";
import { clientFor, type FollowOption } from "./room-follower.ts";

export interface JoinArenaOptions extends FollowOption {
  /** The node or gateway: http(s):// or ws(s)://, e.g. http://localhost:2567. */
  readonly url: string;
  readonly name: string;
  /** Join this room rather than matchmaking into any arena with room. */
  readonly roomId?: string;
  /** How far in the past other players are drawn, in milliseconds. */
  readonly interpolationDelayMs?: number;
}

export interface Stick {
  x: number;
  y: number;
}

/** Last reconcile correction is eased out over this many milliseconds. */
const SMOOTH_MS = 65;
const PING_INTERVAL_MS = 1000;

export class ArenaSession {
  readonly room: Room<any, ArenaState>;
  readonly input: InputHandle<MoveInput>;
  /** The stick sent with every input from now on; set it from keys, AI or a test. */
  readonly stick: Stick = { x: 0, y: 0 };
  /** Network round trip measured with Colyseus's ping frame, in milliseconds; -1 until measured. */
  pingMs = -1;
  private readonly predict: Predict<ArenaState>;
  private readonly drawClock: DrawClock;
  private reconciler: Reconciler | undefined;
  /** The own player's state object, which positionOf predicts rather than interpolates. */
  private own: Player | undefined;
  private readonly correctionListeners: ((px: number) => void)[] = [];
  /** The own predicted position before this frame's reconcile, to tell how far a correction moved it. */
  private readonly beforeReconcile = { x: 0, y: 0 };
  private pinger: ReturnType<typeof setInterval> | undefined;
  private loop: ReturnType<typeof setInterval> | undefined;

  constructor(room: Room<any, ArenaState>, interpolationDelayMs: number) {
    this.room = room;
    reconnectPromptly(room);
    this.input = room.input<MoveInput>();
    this.drawClock = new DrawClock(room, interpolationDelayMs, this.input);
    room.onStateChange(() => this.drawClock.patched());
    room.onReconnect(() => this.drawClock.forget());
    this.predict = Predict.get(room, { mode: "lerp", delay: interpolationDelayMs, clock: this.drawClock });
    this.predict.attachAll("players", { mode: "lerp", fields: ["x", "y"] });
    // Also on a resync after a reconnect, which may hand us a new Player instance for our seat.
    Callbacks.get(room).onAdd("players", (player: Player, sessionId: string) => {
      if (sessionId === room.sessionId) this.bindReconciler(player);
    });
    this.pinger = setInterval(() => room.ping((ms) => (this.pingMs = ms)), PING_INTERVAL_MS);
    room.onLeave(() => this.stop());
  }

  get sessionId(): string {
    return this.room.sessionId;
  }

  get state(): ArenaState {
    return this.room.state;
  }

  /** The own player as the server last said, or undefined before the first state. */
  get me(): Player | undefined {
    return this.room.state?.players?.get(this.room.sessionId);
  }

  /**
   * The server instant (milliseconds since the room started) other players are drawn at now:
   * the server's present less the interpolation delay and the way down, as Predict's lerp sets it.
   */
  get othersDrawnAt(): number {
    return this.drawClock.drawnAt();
  }

  /** Milliseconds the draw clock holds other players back beyond the interpolation delay now, for the jitter it has seen. */
  get othersExtraDelayMs(): number {
    return this.drawClock.extraMs;
  }

  /** Fixed steps per second that the server advertised at join. */
  get tickHz(): number {
    return this.input.tickRate ?? 0;
  }

  /**
   * Advances prediction to `now` (a performance.now() or requestAnimationFrame timestamp) and
   * sends one input per fixed step that fell due. Call it every frame, before reading positions.
   */
  frame(now: number): number {
    if (this.reconciler) {
      this.beforeReconcile.x = this.reconciler.state.x;
      this.beforeReconcile.y = this.reconciler.state.y;
    }
    this.drawClock.advance(now);
    const due = this.predict.tick(now);
    const data = this.input.data;
    for (let i = 0; i < due; i++) {
      data.x = this.stick.x;
      data.y = this.stick.y;
      this.input.send();
    }
    return due;
  }

  /**
   * A player's position to draw: predicted for the own player, interpolated for the others, and
   * carried on at their last velocity for a moment when the newest patch is late (draw-clock.ts).
   */
  positionOf(player: Player, out: { x: number; y: number }): { x: number; y: number } {
    out.x = this.predict.value(player, "x");
    out.y = this.predict.value(player, "y");
    if (player === this.own) return out;
    const aheadS = this.drawClock.aheadOfNewestMs() / 1000;
    out.x += player.vx * aheadS;
    out.y += player.vy * aheadS;
    return out;
  }

  /**
   * Calls `listener` with the distance, in world units, by which each reconcile moved the own
   * predicted position (0 when the server agreed). The drawn position eases over that distance.
   */
  onCorrection(listener: (px: number) => void): void {
    this.correctionListeners.push(listener);
  }

  /** Drives frame() from a timer, for clients without requestAnimationFrame (tests, bots). */
  run(framesPerSecond = 60): void {
    if (this.loop) return;
    this.loop = setInterval(() => this.frame(performance.now()), 1000 / framesPerSecond);
  }

  stop(): void {
    clearInterval(this.loop);
    clearInterval(this.pinger);
    this.loop = undefined;
    this.pinger = undefined;
  }

  /** Leaves the room for good; resolves at once when the server already closed the connection. */
  async leave(): Promise<void> {
    this.stop();
    if (this.room.connection.isOpen) await this.room.leave(true);
  }

  private bindReconciler(player: Player): void {
    this.own = player;
    this.reconciler?.dispose();
    this.reconciler = this.predict.reconciler(player, {
      input: this.input,
      fields: ["x", "y", "vx", "vy"],
      step: (ctx, body, command) => stepPlayer(body, command, ctx.dt),
      smoothMs: SMOOTH_MS,
      onReconcile: () => this.reconciled(),
    });
  }

  private reconciled(): void {
    if (this.correctionListeners.length === 0 || !this.reconciler) return;
    const { state } = this.reconciler;
    const px = Math.hypot(state.x - this.beforeReconcile.x, state.y - this.beforeReconcile.y);
    for (const listener of this.correctionListeners) listener(px);
  }
}

/** Joins an arena room (a given one, or any with room) and starts measuring ping. */
export async function joinArena(options: JoinArenaOptions): Promise<ArenaSession> {
  const client = clientFor(options.url, options);
  const joinOptions = { name: options.name };
  const room = options.roomId
    ? await client.joinById<ArenaState>(options.roomId, joinOptions)
    : await client.joinOrCreate<ArenaState>(ROOM_NAME, joinOptions);
  return new ArenaSession(room, options.interpolationDelayMs ?? 100);
}
