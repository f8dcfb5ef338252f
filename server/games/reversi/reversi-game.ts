/**
 * One game of Reversi with chess clocks, independent of Colyseus: it seats two players, judges
 * their moves, runs their clocks and ends the game, all in the schema state it is given plus the
 * exact clocks beside it (`ReversiClocks`). Time comes only from `now`, milliseconds of *room*
 * time: a room that is frozen, moving or waiting for its players stops that time, so neither
 * player is charged for it.
 */
import { type Move, ReversiErrorCode } from "../../../shared/reversi/protocol.ts";
import {
  BLACK, type Color, DRAW, flipsFor, indexOf, initialBoard, nextTurn, other, WHITE, winnerByDiscs,
} from "../../../shared/reversi/rules.ts";
import { ReversiPlayer, type ReversiState } from "../../../shared/reversi/schema.ts";
import { REVERSI_SNAPSHOT_VERSION, type ReversiClocks, type ReversiSnapshot } from "./reversi-snapshot.ts";

export type GameEndReason = "discs" | "time" | "forfeit";

export interface ReversiGameOptions {
  /** Each player's time for the whole game, in milliseconds. */
  readonly clockMs: number;
  /** Milliseconds of room time; never read from the wall clock. */
  readonly now: () => number;
  /** The second player is seated and black is to move. */
  readonly onStart?: () => void;
  readonly onEnd?: (winner: Color | typeof DRAW, reason: GameEndReason) => void;
}

export type MoveOutcome = { readonly ok: true } | { readonly ok: false; readonly code: ReversiErrorCode; readonly message: string };

const COLOR_NAME: Record<Color, string> = { [BLACK]: "black", [WHITE]: "white" };

export class ReversiGame {
  readonly state: ReversiState;
  private readonly o: ReversiGameOptions;
  private clocks: ReversiClocks;

  /** A new game in `state` (empty but for its defaults), or the game a snapshot holds. */
  constructor(state: ReversiState, options: ReversiGameOptions, snapshot?: ReversiSnapshot) {
    this.state = state;
    this.o = options;
    if (snapshot) {
      this.clocks = snapshot.clocks;
      this.load(snapshot);
    } else {
      this.clocks = { black: options.clockMs, white: options.clockMs, since: options.now() };
      state.board.clear();
      state.board.push(...initialBoard());
    }
  }

  get running(): boolean {
    return this.state.turn !== 0;
  }

  get over(): boolean {
    return this.state.winner !== 0;
  }

  /**
   * Gives a player the free colour (black first) and starts the game once both are taken.
   * Undefined when both colours are taken.
   */
  seat(sessionId: string, name: string): Color | undefined {
    if (this.over || this.state.players.has(sessionId)) return undefined;
    const taken = new Set<number>();
    this.state.players.forEach((p) => taken.add(p.color));
    const color = !taken.has(BLACK) ? BLACK : !taken.has(WHITE) ? WHITE : undefined;
    if (color === undefined) return undefined;
    this.state.players.set(sessionId, new ReversiPlayer({ name, color, clockMs: this.o.clockMs }));
    if (taken.size === 1) this.start();
    return color;
  }

  /**
   * A player is gone for good (left, or its seat hold expired): before the game it frees the
   * colour; during it, it loses; after it, it stays on the record.
   */
  leave(sessionId: string): void {
    const player = this.state.players.get(sessionId);
    if (!player) return;
    if (this.running) {
      this.update();
      if (this.running) this.end(other(player.color as Color), "forfeit");
    } else if (!this.over) {
      this.state.players.delete(sessionId);
    }
  }

  /** Plays `move` for the player if it is legal; otherwise changes nothing and says why. */
  move(sessionId: string, move: Move): MoveOutcome {
    // The clock first: a move that arrives after the flag fell is too late.
    this.update();
    const { state } = this;
    if (!this.running) {
      return refuse(ReversiErrorCode.GAME_NOT_RUNNING, this.over ? "the game is over" : "the game has not started: waiting for a second player");
    }
    const color = state.turn as Color;
    const player = state.players.get(sessionId);
    if (player?.color !== color) return refuse(ReversiErrorCode.NOT_YOUR_TURN, `it is ${COLOR_NAME[color]}'s turn`);
    const flips = flipsFor(state.board, color, move.x, move.y);
    if (flips.length === 0) {
      const why = state.board[indexOf(move.x, move.y)] !== 0 ? "is taken" : "turns no disc";
      return refuse(ReversiErrorCode.ILLEGAL_SQUARE, `(${move.x}, ${move.y}) ${why}`);
    }
    state.board[indexOf(move.x, move.y)] = color;
    for (const i of flips) state.board[i] = color;
    const next = nextTurn(state.board, color);
    if (next === 0) {
      this.end(winnerByDiscs(state.board), "discs");
    } else {
      const now = this.o.now();
      this.chargeUntil(now);
      state.turn = next;
      this.showClocks(now);
    }
    return { ok: true };
  }

  /**
   * Brings the clocks in the state up to room time and ends the game when the colour to move has
   * run out. Call it every so often (the room does, every 100 ms) so that clocks count down on
   * screen and a flag falls without waiting for a move.
   */
  update(): void {
    if (!this.running) return;
    const now = this.o.now();
    const color = this.state.turn as Color;
    if (this.timeLeft(color, now) <= 0) this.end(other(color), "time");
    else this.showClocks(now);
  }

  /** The whole game as plain JSON, taken between two calls: `new ReversiGame(state, options, snapshot)` carries on from it exactly. */
  snapshot(): ReversiSnapshot {
    const players: Record<string, ReversiSnapshot["players"][string]> = {};
    this.state.players.forEach((p, sessionId) => {
      players[sessionId] = { name: p.name, color: p.color as Color, clockMs: p.clockMs };
    });
    return {
      version: REVERSI_SNAPSHOT_VERSION,
      board: Array.from(this.state.board),
      turn: this.state.turn,
      winner: this.state.winner,
      players,
      clocks: { ...this.clocks },
      at: this.o.now(),
    };
  }

  private load(snapshot: ReversiSnapshot): void {
    const { state } = this;
    state.board.clear();
    state.board.push(...snapshot.board);
    state.turn = snapshot.turn;
    state.winner = snapshot.winner;
    state.players.clear();
    for (const [sessionId, p] of Object.entries(snapshot.players)) state.players.set(sessionId, new ReversiPlayer({ ...p }));
  }

  private start(): void {
    this.clocks = { black: this.o.clockMs, white: this.o.clockMs, since: this.o.now() };
    this.state.turn = BLACK;
    this.o.onStart?.();
  }

  private end(winner: Color | typeof DRAW, reason: GameEndReason): void {
    const now = this.o.now();
    this.chargeUntil(now);
    this.showClocks(now);
    this.state.turn = 0;
    this.state.winner = winner;
    this.o.onEnd?.(winner, reason);
  }

  /** Charges the colour to move for its time up to `now`, where the next turn (or the end) starts. */
  private chargeUntil(now: number): void {
    this.clocks = { black: Math.max(0, this.timeLeft(BLACK, now)), white: Math.max(0, this.timeLeft(WHITE, now)), since: now };
  }

  /** Time left for `color` at room time `now`: only the colour to move is running down. */
  private timeLeft(color: Color, now: number): number {
    const atTurnStart = color === BLACK ? this.clocks.black : this.clocks.white;
    return color === this.state.turn ? atTurnStart - (now - this.clocks.since) : atTurnStart;
  }

  private showClocks(now: number): void {
    this.state.players.forEach((p) => {
      p.clockMs = Math.max(0, Math.ceil(this.timeLeft(p.color as Color, now)));
    });
  }
}

function refuse(code: ReversiErrorCode, message: string): MoveOutcome {
  return { ok: false, code, message };
}
