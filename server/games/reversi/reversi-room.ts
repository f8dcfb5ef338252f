/**
 * The Colyseus room around a ReversiGame: seats, the `move` message checked before it reaches the
 * game, errors back to their sender, and the clocks shown every 100 ms. It holds no rule of the
 * game and no clock of its own beyond the room time it hands the game.
 */
import { type Client, CloseCode as ColyseusCloseCode, Room, ServerError } from "@colyseus/core";
import type { Logger } from "pino";
import { JoinErrorCode, parseJoinOptions } from "../../../shared/protocol.ts";
import {
  MOVE_MESSAGE, parseMove, REVERSI_MAX_FRAMES_PER_SECOND, REVERSI_PLAYERS, ReversiErrorCode,
} from "../../../shared/reversi/protocol.ts";
import { countDiscs } from "../../../shared/reversi/rules.ts";
import { ReversiState } from "../../../shared/reversi/schema.ts";
import type { FramePolicy } from "../../edge/frame-policy.ts";
import type { NodeMetrics } from "../../metrics.ts";
import { ReversiGame } from "./reversi-game.ts";
import { SEAT_FREEING_CODES } from "../../rooms/seat-freeing-codes.ts";
import { logUncaught } from "../../rooms/uncaught.ts";

export interface ReversiRoomDeps {
  readonly nodeId: string;
  /** Each player's time for the whole game (REVERSI_CLOCK_MS). */
  readonly clockMs: number;
  /** How long a dropped player's seat is held for its SDK to reconnect. */
  readonly seatHoldSeconds: number;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
}

/** How often the clock to move is brought up to date in the state, in milliseconds of room time. */
const CLOCK_UPDATE_MS = 100;
/**
 * The frames a Reversi client sends besides the join ack, leave and ping: room messages (`move`),
 * no inputs, and a few a second at most.
 */
export const REVERSI_FRAMES: FramePolicy = { data: true, framesPerSecond: REVERSI_MAX_FRAMES_PER_SECOND };
/** The `reason` label of locus_inputs_rejected_total for each refusal. */
const REJECTED_AS: Record<ReversiErrorCode, string> = {
  [ReversiErrorCode.MALFORMED_MOVE]: "malformed_move",
  [ReversiErrorCode.NOT_YOUR_TURN]: "not_your_turn",
  [ReversiErrorCode.ILLEGAL_SQUARE]: "illegal_square",
  [ReversiErrorCode.GAME_NOT_RUNNING]: "game_not_running",
  [ReversiErrorCode.UNKNOWN_MESSAGE]: "unknown_message",
};

/** Binds the room class to this node's dependencies; Colyseus constructs rooms itself, without arguments. */
export function reversiRoom(deps: ReversiRoomDeps): typeof ReversiRoom {
  return class BoundReversiRoom extends ReversiRoom {
    override readonly deps = deps;
  };
}

export class ReversiRoom extends Room<{ state: ReversiState }> {
  readonly deps!: ReversiRoomDeps;

  override state = new ReversiState();
  override maxClients = REVERSI_PLAYERS;

  private game!: ReversiGame;
  private log!: Logger;
  /** Room time: milliseconds since this room was made. The durable layer will own it and stop it while the room is down. */
  private readonly origin = performance.now();
  /** Set once onCreate has finished: a room refused half way has nothing to count. */
  private live = false;

  /** Join options are checked before a seat is reserved, so a bad name never creates a room. */
  static override async onAuth(_token: string, options: unknown): Promise<true> {
    const parsed = parseJoinOptions(options);
    if (!parsed.ok) throw new ServerError(JoinErrorCode.INVALID_OPTIONS, parsed.error);
    return true;
  }

  override onCreate(): void {
    const { deps } = this;
    this.log = deps.log.child({ room: this.roomId, game: "reversi" });
    this.state.nodeId = deps.nodeId;
    this.game = new ReversiGame(this.state, {
      clockMs: deps.clockMs,
      now: () => performance.now() - this.origin,
      onStart: () => {
        // Nobody else may take a seat once the game is on, not even one a leaver frees.
        void this.lock();
        this.log.info({ event: "game_started" }, "game started");
      },
      onEnd: (winner, reason) => {
        this.log.info({ event: "game_over", winner, reason, ...countDiscs(this.state.board) }, "game over");
      },
    });
    this.setTimestep(() => {
      this.game.update();
      this.broadcastPatch();
    }, CLOCK_UPDATE_MS);
    // After setTimestep: patches go out after each clock update and each move, not on a timer of their own.
    this.patchRate = null;

    this.onMessage(MOVE_MESSAGE, (client, payload: unknown) => {
      const move = parseMove(payload);
      if (!move.ok) return this.refuse(client, ReversiErrorCode.MALFORMED_MOVE, move.error);
      const outcome = this.game.move(client.sessionId, move.value);
      if (!outcome.ok) return this.refuse(client, outcome.code, outcome.message);
      this.broadcastPatch();
    });
    this.onMessage("*", (client, type) => {
      this.refuse(client, ReversiErrorCode.UNKNOWN_MESSAGE, `message type ${JSON.stringify(String(type)).slice(0, 40)} is unknown; this room takes only "${MOVE_MESSAGE}"`);
    });

    this.live = true;
    deps.metrics.rooms.inc();
    this.log.info({ event: "room_created", clockMs: deps.clockMs }, "room created");
  }

  override onJoin(client: Client, options: unknown): void {
    const parsed = parseJoinOptions(options);
    if (!parsed.ok) throw new ServerError(JoinErrorCode.INVALID_OPTIONS, parsed.error);
    const color = this.game.seat(client.sessionId, parsed.value.name);
    if (color === undefined) throw new ServerError(JoinErrorCode.INVALID_OPTIONS, "this game has its two players already");
    this.deps.metrics.clients.inc();
    this.log.info({ event: "client_joined", session: client.sessionId, name: parsed.value.name, color }, "client joined");
    this.broadcastPatch();
  }

  override async onDrop(client: Client, code?: number): Promise<void> {
    this.deps.metrics.clients.dec();
    if (code !== undefined && SEAT_FREEING_CODES.has(code)) return;
    this.log.info({ event: "client_dropped", session: client.sessionId, code }, "client dropped; seat held");
    try {
      await this.allowReconnection(client, this.deps.seatHoldSeconds);
    } catch {
      // Not back in time: onLeave follows, and the game counts the player as gone.
    }
  }

  override onReconnect(client: Client): void {
    this.deps.metrics.clients.inc();
    this.log.info({ event: "client_reconnected", session: client.sessionId }, "client reconnected");
  }

  override onLeave(client: Client, code?: number): void {
    // A consented leave skips onDrop, so the client gauge is lowered here for it alone.
    if (code === ColyseusCloseCode.CONSENTED) this.deps.metrics.clients.dec();
    this.game.leave(client.sessionId);
    this.log.info({ event: "client_left", session: client.sessionId, code }, "client left");
  }

  override onDispose(): void {
    if (!this.live) return;
    this.deps.metrics.rooms.dec();
    this.log.info({ event: "room_disposed" }, "room disposed");
  }

  override onUncaughtException(error: Error, method: string): void {
    logUncaught(this.log, error, method);
  }

  private refuse(client: Client, code: ReversiErrorCode, message: string): void {
    this.deps.metrics.inputsRejected.inc({ reason: REJECTED_AS[code] });
    client.error(code, message);
  }
}
