/**
 * Reversi's rules as pure functions over a board of 64 numbers (row-major, index `y * 8 + x`;
 * 0 empty, 1 black, 2 white). The server judges moves with them, the browser hints legal squares
 * with them, bots pick moves with them: one copy, so all three always agree.
 */

export const BOARD_SIZE = 8;
export const SQUARES = BOARD_SIZE * BOARD_SIZE;

export const EMPTY = 0;
export const BLACK = 1;
export const WHITE = 2;
/** `winner` when the discs are level. */
export const DRAW = 3;

export type Color = typeof BLACK | typeof WHITE;
export type Board = ArrayLike<number>;

/** The eight directions as (dx, dy) pairs. */
const DIRECTIONS: readonly (readonly [number, number])[] = [
  [-1, -1], [0, -1], [1, -1],
  [-1, 0], [1, 0],
  [-1, 1], [0, 1], [1, 1],
];

export const other = (color: Color): Color => (color === BLACK ? WHITE : BLACK);

export const indexOf = (x: number, y: number): number => y * BOARD_SIZE + x;

/** The standard opening: white on (3,3) and (4,4), black on (3,4) and (4,3). */
export function initialBoard(): number[] {
  const board = new Array<number>(SQUARES).fill(EMPTY);
  board[indexOf(3, 3)] = WHITE;
  board[indexOf(4, 4)] = WHITE;
  board[indexOf(3, 4)] = BLACK;
  board[indexOf(4, 3)] = BLACK;
  return board;
}

/**
 * The discs `color` would turn by playing (x, y): every run of the other colour that the new disc
 * and one of `color`'s closes, in all eight directions. Empty when the move is illegal (the square
 * is taken or closes no run).
 */
export function flipsFor(board: Board, color: Color, x: number, y: number): number[] {
  const flips: number[] = [];
  if (board[indexOf(x, y)] !== EMPTY) return flips;
  const opponent = other(color);
  for (const [dx, dy] of DIRECTIONS) {
    let cx = x + dx;
    let cy = y + dy;
    let run = 0;
    while (onBoard(cx, cy) && board[indexOf(cx, cy)] === opponent) {
      cx += dx;
      cy += dy;
      run++;
    }
    if (run === 0 || !onBoard(cx, cy) || board[indexOf(cx, cy)] !== color) continue;
    for (let i = 1; i <= run; i++) flips.push(indexOf(x + dx * i, y + dy * i));
  }
  return flips;
}

export function isLegal(board: Board, color: Color, x: number, y: number): boolean {
  return flipsFor(board, color, x, y).length > 0;
}

/** Indices of every square `color` may play, in board order. */
export function legalMoves(board: Board, color: Color): number[] {
  const moves: number[] = [];
  for (let i = 0; i < SQUARES; i++) {
    if (isLegal(board, color, i % BOARD_SIZE, Math.floor(i / BOARD_SIZE))) moves.push(i);
  }
  return moves;
}

export function hasLegalMove(board: Board, color: Color): boolean {
  for (let i = 0; i < SQUARES; i++) {
    if (isLegal(board, color, i % BOARD_SIZE, Math.floor(i / BOARD_SIZE))) return true;
  }
  return false;
}

/**
 * Who moves after `moved` has played: the other colour when it can, `moved` again when only it
 * can (the other passes), 0 when neither can and the game is over.
 */
export function nextTurn(board: Board, moved: Color): Color | 0 {
  if (hasLegalMove(board, other(moved))) return other(moved);
  if (hasLegalMove(board, moved)) return moved;
  return 0;
}

export function countDiscs(board: Board): { black: number; white: number } {
  let black = 0;
  let white = 0;
  for (let i = 0; i < SQUARES; i++) {
    if (board[i] === BLACK) black++;
    else if (board[i] === WHITE) white++;
  }
  return { black, white };
}

/** The winner of a finished game by disc count: BLACK, WHITE or DRAW. */
export function winnerByDiscs(board: Board): typeof BLACK | typeof WHITE | typeof DRAW {
  const { black, white } = countDiscs(board);
  return black > white ? BLACK : white > black ? WHITE : DRAW;
}

function onBoard(x: number, y: number): boolean {
  return x >= 0 && x < BOARD_SIZE && y >= 0 && y < BOARD_SIZE;
}
