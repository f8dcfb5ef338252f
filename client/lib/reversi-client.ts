/**
 * The headless Reversi client: join, read the state, play `move(x, y)`, hear refusals. The
 * browser page draws from it; tests and bots drive it without a page. It keeps no reference to
 * state objects, so it reads the same after its room moves to another node and the SDK reconnects
 * into the same Room object with a fresh state.
 */
import type { Room } from "@colyseus/sdk";
import { MOVE_MESSAGE, REVERSI_ROOM_NAME, type ReversiErrorCode } from "../../shared/reversi/protocol.ts";
import { type Color, legalMoves } from "../../shared/reversi/rules.ts";
import type { ReversiPlayer, ReversiState } from "../../shared/reversi/schema.ts";
import { reconnectPromptly } from "./reconnection.ts";
import { clientFor, type FollowOption } from "./room-follower.ts";

export interface JoinReversiOptions extends FollowOption {
  /** The node or gateway: http(s):// or ws(s)://, e.g. http://localhost:2567. */
  readonly url: string;
  readonly name: string;
  /** Join this game rather than matchmaking into one that waits for a player, or a new one. */
  readonly roomId?: string;
}

const PING_INTERVAL_MS = 1000;

export class ReversiSession {
  readonly room: Room<any, ReversiState>;
  /** Network round trip measured with Colyseus's ping frame, in milliseconds; -1 until measured. */
  pingMs = -1;
  private pinger: ReturnType<typeof setInterval> | undefined;

  constructor(room: Room<any, ReversiState>) {
    this.room = room;
    reconnectPromptly(room);
    this.pinger = setInterval(() => room.ping((ms) => (this.pingMs = ms)), PING_INTERVAL_MS);
    room.onLeave(() => this.stop());
  }

  get sessionId(): string {
    return this.room.sessionId;
  }

  /** Undefined until the first state arrives. */
  get state(): ReversiState | undefined {
    return this.room.state;
  }

  get me(): ReversiPlayer | undefined {
    return this.room.state?.players?.get(this.room.sessionId);
  }

  /** The other player, once there is one. */
  get opponent(): ReversiPlayer | undefined {
    let found: ReversiPlayer | undefined;
    this.room.state?.players?.forEach((p, sessionId) => {
      if (sessionId !== this.room.sessionId) found = p;
    });
    return found;
  }

  /** 1 black, 2 white; 0 before the seat shows in the state. */
  get color(): Color | 0 {
    return (this.me?.color ?? 0) as Color | 0;
  }

  get myTurn(): boolean {
    return this.color !== 0 && this.state?.turn === this.color;
  }

  /** The board as a plain array of 64 numbers (empty before the first state). */
  board(): number[] {
    return Array.from(this.room.state?.board ?? []);
  }

  /** Squares (indices `y * 8 + x`) this player may play now: none when it is not its turn. */
  legalMoves(): number[] {
    return this.myTurn ? legalMoves(this.board(), this.color as Color) : [];
  }

  /** Sends a move; the server answers a refused one through `onError` and changes nothing. */
  move(x: number, y: number): void {
    this.room.send(MOVE_MESSAGE, { x, y });
  }

  /** Called with each refusal the server sends this player: a ReversiErrorCode and a message. */
  onError(callback: (code: ReversiErrorCode, message: string) => void): void {
    // A socket that failed to open (a reconnect attempt) reports an error with no code: not a refusal.
    this.room.onError((code, message) => code !== undefined && callback(code as ReversiErrorCode, message ?? ""));
  }

  stop(): void {
    clearInterval(this.pinger);
    this.pinger = undefined;
  }

  /** Leaves the game for good (a player who leaves a game under way loses it). */
  async leave(): Promise<void> {
    this.stop();
    if (this.room.connection.isOpen) await this.room.leave(true);
  }
}

/** Joins a Reversi game (a given one, or any waiting for a player, or a new one). */
export async function joinReversi(options: JoinReversiOptions): Promise<ReversiSession> {
  const client = clientFor(options.url, options);
  const joinOptions = { name: options.name };
  const room = options.roomId
    ? await client.joinById<ReversiState>(options.roomId, joinOptions)
    : await client.joinOrCreate<ReversiState>(REVERSI_ROOM_NAME, joinOptions);
  return new ReversiSession(room);
}
