/**
 * Draws a Reversi game into the page's elements: the board with the squares the player may play
 * hinted and the last move marked, both seats with their names, disc counts and clocks, and one
 * line saying whose turn it is or how the game ended.
 */
import { ReversiErrorCode } from "../../shared/reversi/protocol.ts";
import { BLACK, BOARD_SIZE, type Color, countDiscs, DRAW, EMPTY, hasLegalMove, SQUARES, WHITE } from "../../shared/reversi/rules.ts";
import type { ReversiPlayer } from "../../shared/reversi/schema.ts";
import type { ReversiSession } from "../lib/reversi-client.ts";

const COLOR_NAME: Record<Color, string> = { [BLACK]: "Black", [WHITE]: "White" };
const REFUSAL: Record<number, string> = {
  [ReversiErrorCode.NOT_YOUR_TURN]: "Not your turn",
  [ReversiErrorCode.ILLEGAL_SQUARE]: "You cannot play there",
  [ReversiErrorCode.GAME_NOT_RUNNING]: "The game is not on",
  [ReversiErrorCode.MALFORMED_MOVE]: "The server did not understand that move",
  [ReversiErrorCode.UNKNOWN_MESSAGE]: "The server did not understand that message",
};
const TOAST_MS = 2500;

/** m:ss, with tenths in the last ten seconds. */
export function formatClock(ms: number): string {
  if (ms < 10_000) return `0:0${(Math.floor(ms / 100) / 10).toFixed(1)}`;
  const seconds = Math.ceil(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

export class ReversiView {
  private readonly cells: HTMLButtonElement[] = [];
  private readonly status: HTMLElement;
  private readonly toast: HTMLElement;
  private toastTimer: ReturnType<typeof setTimeout> | undefined;
  private previous: number[] = [];
  private lastMove = -1;
  private lastMover: Color | 0 = 0;

  constructor(doc: Document, onSquare: (x: number, y: number) => void) {
    const board = doc.getElementById("board")!;
    for (let i = 0; i < SQUARES; i++) {
      const x = i % BOARD_SIZE;
      const y = Math.floor(i / BOARD_SIZE);
      const cell = doc.createElement("button");
      cell.type = "button";
      cell.className = "cell";
      cell.dataset.x = String(x);
      cell.dataset.y = String(y);
      cell.setAttribute("aria-label", `${String.fromCharCode(97 + x)}${y + 1}`);
      cell.append(doc.createElement("span"));
      cell.addEventListener("click", () => onSquare(x, y));
      board.append(cell);
      this.cells.push(cell);
    }
    this.status = doc.getElementById("status")!;
    this.toast = doc.getElementById("toast")!;
  }

  render(session: ReversiSession): void {
    const state = session.state;
    if (!state?.players) return;
    const board = session.board();
    this.noteLastMove(board);
    const hints = new Set(session.legalMoves());
    for (let i = 0; i < SQUARES; i++) {
      const cell = this.cells[i]!;
      const disc = board[i] === BLACK ? "black" : board[i] === WHITE ? "white" : "";
      cell.firstElementChild!.className = disc ? `disc ${disc}` : "";
      cell.classList.toggle("legal", hints.has(i));
      cell.classList.toggle("last", i === this.lastMove);
    }
    const counts = countDiscs(board);
    for (const color of [BLACK, WHITE] as const) {
      const seat = document.getElementById(`seat-${color}`)!;
      const player = this.playerOf(session, color);
      seat.querySelector(".seat-name")!.textContent = player ? `${player.name}${player === session.me ? " (you)" : ""}` : "waiting…";
      seat.querySelector(".seat-discs")!.textContent = String(color === BLACK ? counts.black : counts.white);
      seat.querySelector(".seat-clock")!.textContent = player ? formatClock(player.clockMs) : "–";
      seat.classList.toggle("to-move", state.turn === color);
      seat.classList.toggle("low", !!player && player.clockMs < 10_000);
    }
    this.status.textContent = this.statusLine(session, board);
  }

  /** Shows a refusal for a moment. */
  showRefusal(code: number, message: string): void {
    this.toast.textContent = `${REFUSAL[code] ?? `Refused (${code})`}: ${message}`;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => (this.toast.textContent = ""), TOAST_MS);
  }

  private statusLine(session: ReversiSession, board: number[]): string {
    const state = session.state!;
    const nameOf = (color: Color) => (color === session.color ? "You" : (this.playerOf(session, color)?.name ?? COLOR_NAME[color]));
    if (state.winner === DRAW) {
      const { black, white } = countDiscs(board);
      return `Draw, ${black} to ${white}.`;
    }
    if (state.winner === BLACK || state.winner === WHITE) {
      const winner = state.winner as Color;
      const loser: Color = winner === BLACK ? WHITE : BLACK;
      const verb = winner === session.color ? "win" : "wins";
      if (this.playerOf(session, loser)?.clockMs === 0) return `${nameOf(winner)} ${verb} on time.`;
      if (!hasLegalMove(board, BLACK) && !hasLegalMove(board, WHITE)) {
        const { black, white } = countDiscs(board);
        return `${nameOf(winner)} ${verb}, ${Math.max(black, white)} to ${Math.min(black, white)}.`;
      }
      return `${nameOf(winner)} ${verb}: ${nameOf(loser) === "You" ? "you" : nameOf(loser)} left the game.`;
    }
    if (state.turn === 0) return "Waiting for an opponent…";
    const turn = state.turn as Color;
    const passed = this.lastMover === turn ? `${nameOf(turn === BLACK ? WHITE : BLACK)} had no move and passed. ` : "";
    return `${passed}${session.myTurn ? "Your turn." : `${nameOf(turn)} to move.`}`;
  }

  /** The square that was empty and is not any more: the move just played, and who played it. */
  private noteLastMove(board: number[]): void {
    if (this.previous.length === SQUARES) {
      const placed = board.findIndex((v, i) => v !== EMPTY && this.previous[i] === EMPTY);
      if (placed >= 0) {
        this.lastMove = placed;
        this.lastMover = board[placed] as Color;
      }
    }
    this.previous = board;
  }

  private playerOf(session: ReversiSession, color: Color): ReversiPlayer | undefined {
    let found: ReversiPlayer | undefined;
    session.state?.players?.forEach((p) => {
      if (p.color === color) found = p;
    });
    return found;
  }
}
