/**
 * A Reversi player for tests and benchmarks: it plays a random legal move a little after each
 * turn comes to it, and keeps a ledger of what it saw. A disc once seen on a square never leaves
 * the board (it may only turn), so a square the ledger holds that a later state shows empty is a
 * move the room lost. Each frame's clocks are kept too, to compare them across a crash or a move.
 */
import { type ReversiSession } from "../client/lib/node.ts";
import { randomLegalMove } from "../shared/reversi/pick-move.ts";
import { type Color, SQUARES } from "../shared/reversi/rules.ts";

export interface ReversiFrame {
  /** performance.now() when the frame arrived. */
  readonly at: number;
  readonly nodeId: string;
  readonly turn: number;
  readonly winner: number;
  readonly discs: number;
  /** Time left, by colour, as the frame showed it. */
  readonly clockMs: Record<Color, number>;
}

export class ReversiBot {
  readonly session: ReversiSession;
  /** Squares this bot has seen a disc on. */
  readonly seen = new Set<number>();
  /** Squares seen with a disc that a later frame showed empty: moves lost. */
  readonly lost = new Set<number>();
  /** Frames whose board was not 64 squares: a state applied wrongly (a patch applied twice). */
  badBoards = 0;
  /** The frames of the current window (see `clearFrames`). */
  frames: ReversiFrame[] = [];
  private readonly thinkMs: number;
  private playing = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Discs on the board when this bot last sent a move: it sends one move per position. */
  private sentAt = -1;

  constructor(session: ReversiSession, thinkMs: number) {
    this.session = session;
    this.thinkMs = thinkMs;
    session.room.onStateChange(() => this.onFrame());
    // A move sent to a node that died before it answered may never have been played.
    session.room.onReconnect(() => (this.sentAt = -1));
    // A refused move (the room was paused while it moved) is tried again at the next frame.
    session.onError(() => (this.sentAt = -1));
  }

  get last(): ReversiFrame | undefined {
    return this.frames.at(-1);
  }

  /** Plays whenever it is this bot's turn, until `stop`. */
  play(): void {
    this.playing = true;
    this.onFrame();
  }

  stop(): void {
    this.playing = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Starts a new window of frames, opened by the last one of the previous window. */
  clearFrames(): void {
    this.frames = this.frames.slice(-1);
  }

  private onFrame(): void {
    const state = this.session.state;
    if (!state?.board?.length) return;
    if (state.board.length !== SQUARES) {
      this.badBoards++;
      return;
    }
    let discs = 0;
    for (let i = 0; i < SQUARES; i++) {
      if (state.board[i] !== 0) {
        discs++;
        this.seen.add(i);
      } else if (this.seen.has(i)) {
        this.lost.add(i);
      }
    }
    const clockMs = { 1: 0, 2: 0 } as Record<Color, number>;
    state.players?.forEach((p) => (clockMs[p.color as Color] = p.clockMs));
    this.frames.push({ at: performance.now(), nodeId: state.nodeId, turn: state.turn, winner: state.winner, discs, clockMs });
    if (this.playing && this.session.myTurn && this.sentAt !== discs && this.timer === undefined) {
      this.timer = setTimeout(() => this.think(), this.thinkMs);
    }
  }

  private think(): void {
    this.timer = undefined;
    if (!this.playing || !this.session.myTurn || !this.session.room.connection.isOpen) return;
    const board = this.session.board();
    const move = randomLegalMove(board, this.session.color as Color);
    if (!move) return;
    this.sentAt = board.filter((v) => v !== 0).length;
    this.session.move(move.x, move.y);
  }
}

/** A clock's value at `at` (performance.now()): the colour to move kept running after the frame was sent. */
export function clockAt(frame: ReversiFrame, color: Color, at: number): number {
  return frame.turn === color ? Math.max(0, frame.clockMs[color] - Math.max(0, at - frame.at)) : frame.clockMs[color];
}
