/**
 * The durable room around a ReversiGame: seats, the `move` message checked before it reaches the
 * game, errors back to their sender, and the clocks shown every 100 ms. It holds no rule of the
 * game; what makes it outlive its process is the durable-room layer's. Every move and every clock
 * update is a change checkpointed before any player sees it, so a crash loses no move a player
 * saw and no more than one clock update of time.
 */
import { type Client, ServerError } from "@colyseus/core";
import { JoinErrorCode, parseJoinOptions, parseRoomIdOption } from "../../../shared/protocol.ts";
import {
  MOVE_MESSAGE, parseMove, REVERSI_MAX_FRAMES_PER_SECOND, REVERSI_PLAYERS, ReversiErrorCode,
} from "../../../shared/reversi/protocol.ts";
import { countDiscs } from "../../../shared/reversi/rules.ts";
import { ReversiState } from "../../../shared/reversi/schema.ts";
import { type DurableDeps, DurableRoom, refuseJoinWhenHostCannot } from "../../durable/durable-room.ts";
import type { FramePolicy } from "../../edge/frame-policy.ts";
import type { NodeMetrics } from "../../metrics.ts";
import { ReversiGame, type ReversiGameOptions } from "./reversi-game.ts";
import { parseReversiSnapshot, REVERSI_SNAPSHOT_VERSION, type ReversiSnapshot } from "./reversi-snapshot.ts";
import { RoomTime } from "./room-time.ts";

export interface ReversiRoomDeps extends DurableDeps {
  readonly nodeId: string;
  /** Each player's time for the whole game (REVERSI_CLOCK_MS). */
  readonly clockMs: number;
  readonly metrics: NodeMetrics & DurableDeps["metrics"];
}

/** How often the clock to move is brought up to date in the state, in milliseconds. */
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

    static override async onAuth(token: string, options: unknown): Promise<true> {
      refuseJoinWhenHostCannot(deps.host);
      return ReversiRoom.onAuth(token, options);
    }
  };
}

export class ReversiRoom extends DurableRoom<{ state: ReversiState }, ReversiSnapshot> {
  readonly deps!: ReversiRoomDeps;
  readonly snapshotVersion = REVERSI_SNAPSHOT_VERSION;
  override readonly checkpointPolicy = "every-change";

  override state = new ReversiState();
  override maxClients = REVERSI_PLAYERS;

  private game!: ReversiGame;
  /** The game's only time: it stands while the room is down, moving or waiting for its players. */
  private time = new RoomTime();

  protected get durable(): DurableDeps {
    return this.deps;
  }

  /** Join options are checked before a seat is reserved, so a bad name never creates a room. */
  static override async onAuth(_token: string, options: unknown): Promise<true> {
    const parsed = parseJoinOptions(options);
    if (!parsed.ok) throw new ServerError(JoinErrorCode.INVALID_OPTIONS, parsed.error);
    const roomId = parseRoomIdOption(options);
    if (!roomId.ok) throw new ServerError(JoinErrorCode.INVALID_OPTIONS, roomId.error);
    return true;
  }

  protected override onCreateGame(_options: unknown, restored: boolean): void {
    this.log = this.log.child({ game: "reversi" });
    this.state.nodeId = this.deps.nodeId;
    if (restored) {
      // Nobody else may take a seat in a game that started, not even one a leaver frees.
      if (this.game.running || this.game.over) void this.lock();
    } else {
      this.game = new ReversiGame(this.state, this.gameOptions());
      this.log.info({ event: "room_created", clockMs: this.deps.clockMs }, "room created");
    }
    this.setTimestep(() => {
      if (!this.running()) return this.time.stand();
      this.time.run();
      if (!this.game.running) return;
      this.game.update();
      void this.changed();
    }, CLOCK_UPDATE_MS);
    // After setTimestep: patches go out when a change is stored (the layer's reveal), not on a timer of their own.
    this.patchRate = null;

    this.onMessage(MOVE_MESSAGE, (client, payload: unknown) => {
      const move = parseMove(payload);
      if (!move.ok) return this.refuse(client, ReversiErrorCode.MALFORMED_MOVE, move.error);
      if (!this.running()) return this.refuse(client, ReversiErrorCode.GAME_NOT_RUNNING, "the game is paused while its room moves to another node: try again in a moment");
      this.time.run();
      const outcome = this.game.move(client.sessionId, move.value);
      if (!outcome.ok) return this.refuse(client, outcome.code, outcome.message);
      void this.changed();
    });
    this.onMessage("*", (client, type) => {
      this.refuse(client, ReversiErrorCode.UNKNOWN_MESSAGE, `message type ${JSON.stringify(String(type)).slice(0, 40)} is unknown; this room takes only "${MOVE_MESSAGE}"`);
    });
  }

  get playerCount(): number {
    return this.state.players.size;
  }

  /** Moves played so far. */
  protected override progress(): number {
    const { black, white } = countDiscs(this.state.board);
    return black + white - 4;
  }

  protected override snapshot(): ReversiSnapshot {
    return this.game.snapshot();
  }

  protected override parseSnapshot(data: unknown): ReversiSnapshot {
    return parseReversiSnapshot(data);
  }

  protected override restore(snapshot: ReversiSnapshot): void {
    this.time = new RoomTime(snapshot.at);
    this.game = new ReversiGame(this.state, this.gameOptions(), snapshot);
  }

  protected override onSeatTaken(client: Client, options: unknown): void {
    const parsed = parseJoinOptions(options);
    if (!parsed.ok) throw new ServerError(JoinErrorCode.INVALID_OPTIONS, parsed.error);
    const color = this.game.seat(client.sessionId, parsed.value.name);
    if (color === undefined) throw new ServerError(JoinErrorCode.INVALID_OPTIONS, "this game has its two players already");
    this.log.info({ event: "client_joined", session: client.sessionId, name: parsed.value.name, color }, "client joined");
  }

  protected override onSeatFreed(sessionId: string, code: number | undefined): void {
    this.game.leave(sessionId);
    this.log.info({ event: "seat_freed", session: sessionId, code }, "seat freed");
  }

  private gameOptions(): ReversiGameOptions {
    return {
      clockMs: this.deps.clockMs,
      now: () => this.time.now(),
      onStart: () => {
        void this.lock();
        this.log.info({ event: "game_started" }, "game started");
      },
      onEnd: (winner, reason) => {
        this.log.info({ event: "game_over", winner, reason, ...countDiscs(this.state.board) }, "game over");
      },
    };
  }

  private refuse(client: Client, code: ReversiErrorCode, message: string): void {
    this.deps.metrics.inputsRejected.inc({ reason: REJECTED_AS[code] });
    client.error(code, message);
  }
}
