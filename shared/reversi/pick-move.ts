/**
 * Move choice for bots and tests: any client that plays by itself picks with this.
 */
import { BOARD_SIZE, type Board, type Color, legalMoves } from "./rules.ts";
import type { Move } from "./protocol.ts";

/** A legal move for `color` chosen uniformly by `random` (in [0, 1)), or undefined when it has none. */
export function randomLegalMove(board: Board, color: Color, random: () => number = Math.random): Move | undefined {
  const moves = legalMoves(board, color);
  if (moves.length === 0) return undefined;
  const index = moves[Math.floor(random() * moves.length)]!;
  return { x: index % BOARD_SIZE, y: Math.floor(index / BOARD_SIZE) };
}
