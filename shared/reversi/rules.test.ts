import { describe, expect, it } from "vitest";
import { randomLegalMove } from "./pick-move.ts";
import {
  BLACK, type Board, type Color, countDiscs, DRAW, EMPTY, flipsFor, indexOf, initialBoard, legalMoves, nextTurn, other, WHITE, winnerByDiscs,
} from "./rules.ts";

/**
 * A second, deliberately naive Reversi written another way: a grid of letters, and a move is legal
 * in a direction when the letters read from the square outwards match /^o+m/ (o the opponent's, m
 * the mover's). The real rules must agree with it on every position of many random games.
 */
const naive = {
  letter: (v: number) => (v === BLACK ? "b" : v === WHITE ? "w" : "."),
  grid(board: Board): string[][] {
    const rows: string[][] = [];
    for (let y = 0; y < 8; y++) {
      rows.push([]);
      for (let x = 0; x < 8; x++) rows[y]!.push(naive.letter(board[y * 8 + x]!));
    }
    return rows;
  },
  ray(grid: string[][], x: number, y: number, dx: number, dy: number): string {
    let out = "";
    for (let cx = x + dx, cy = y + dy; grid[cy]?.[cx] !== undefined; cx += dx, cy += dy) out += grid[cy]![cx];
    return out;
  },
  /** Squares turned by the move, as "x,y" strings, or undefined when illegal. */
  play(grid: string[][], me: string, x: number, y: number): string[] | undefined {
    if (grid[y]![x] !== ".") return undefined;
    const closes = me === "b" ? /^(w+)b/ : /^(b+)w/;
    const turned: string[] = [];
    for (const dy of [-1, 0, 1]) {
      for (const dx of [-1, 0, 1]) {
        if (dx === 0 && dy === 0) continue;
        const match = closes.exec(naive.ray(grid, x, y, dx, dy));
        if (match) for (let i = 1; i <= match[1]!.length; i++) turned.push(`${x + dx * i},${y + dy * i}`);
      }
    }
    return turned.length > 0 ? turned : undefined;
  },
  moves(grid: string[][], me: string): string[] {
    const out: string[] = [];
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) if (naive.play(grid, me, x, y)) out.push(`${x},${y}`);
    return out;
  },
};

/** A small seeded generator (mulberry32), so a failing game can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const asXY = (index: number) => `${index % 8},${Math.floor(index / 8)}`;
const toIndex = (xy: string) => {
  const [x, y] = xy.split(",").map(Number);
  return indexOf(x!, y!);
};

function play(board: number[], color: Color, x: number, y: number): void {
  const flips = flipsFor(board, color, x, y);
  expect(flips.length).toBeGreaterThan(0);
  board[indexOf(x, y)] = color;
  for (const i of flips) board[i] = color;
}

/** Plays a game given in Othello notation (a1 top-left: column letter = x, row number = y + 1). */
function playGame(moves: string): { board: number[]; turn: Color | 0 } {
  const board = initialBoard();
  let turn: Color | 0 = BLACK;
  for (const m of moves.split(" ")) {
    if (turn === 0) throw new Error(`move ${m} after the game ended`);
    play(board, turn, m.charCodeAt(0) - 97, Number(m[1]) - 1);
    turn = nextTurn(board, turn);
  }
  return { board, turn };
}

describe("reversi rules", () => {
  it("start from the standard opening with black's four moves", () => {
    const board = initialBoard();
    expect(board).toHaveLength(64);
    expect([board[indexOf(3, 3)], board[indexOf(4, 4)], board[indexOf(3, 4)], board[indexOf(4, 3)]]).toEqual([WHITE, WHITE, BLACK, BLACK]);
    expect(countDiscs(board)).toEqual({ black: 2, white: 2 });
    expect(legalMoves(board, BLACK).map(asXY).sort()).toEqual(["2,3", "3,2", "4,5", "5,4"]);
    expect(flipsFor(board, BLACK, 3, 3)).toEqual([]);
    expect(flipsFor(board, BLACK, 0, 0)).toEqual([]);
  });

  it("flip in all eight directions at once", () => {
    const board = new Array<number>(64).fill(EMPTY);
    for (const [dx, dy] of [[-1, -1], [0, -1], [1, -1], [-1, 0], [1, 0], [-1, 1], [0, 1], [1, 1]] as const) {
      board[indexOf(3 + dx, 3 + dy)] = WHITE;
      board[indexOf(3 + 2 * dx, 3 + 2 * dy)] = BLACK;
    }
    expect(flipsFor(board, BLACK, 3, 3).sort((a, b) => a - b)).toEqual([18, 19, 20, 26, 28, 34, 35, 36]);
    // A run open at the far end, or reaching the edge, turns nothing.
    board[indexOf(1, 1)] = EMPTY;
    expect(flipsFor(board, BLACK, 3, 3)).not.toContain(indexOf(2, 2));
  });

  it("agree with a naive implementation over 200 random games", () => {
    const random = seeded(20240611);
    const byIndex = (a: string, b: string) => toIndex(a) - toIndex(b);
    const disagreements: string[] = [];
    let positions = 0;
    let passes = 0;
    for (let game = 0; game < 200 && disagreements.length === 0; game++) {
      const board = initialBoard();
      let turn: Color | 0 = BLACK;
      while (turn !== 0) {
        const grid = naive.grid(board);
        const me = naive.letter(turn);
        const where = `game ${game}, position ${positions}`;
        const moves = legalMoves(board, turn).map(asXY).join(" ");
        const naiveMoves = naive.moves(grid, me).sort(byIndex).join(" ");
        if (moves !== naiveMoves) disagreements.push(`${where}: moves ${moves} but naive ${naiveMoves}`);
        const move = randomLegalMove(board, turn, random)!;
        const flips = flipsFor(board, turn, move.x, move.y).map(asXY).sort().join(" ");
        const naiveFlips = naive.play(grid, me, move.x, move.y)!.sort().join(" ");
        if (flips !== naiveFlips) disagreements.push(`${where}: flips ${flips} but naive ${naiveFlips}`);
        play(board, turn, move.x, move.y);
        const after = naive.grid(board);
        const naiveNext: Color | 0 = naive.moves(after, naive.letter(other(turn))).length > 0 ? other(turn) : naive.moves(after, me).length > 0 ? turn : 0;
        const next = nextTurn(board, turn);
        if (next !== naiveNext) disagreements.push(`${where}: next ${next} but naive ${naiveNext}`);
        if (next === turn) passes++;
        turn = next;
        positions++;
      }
      const letters = naive.grid(board).flat();
      const b = letters.filter((l) => l === "b").length;
      const w = letters.filter((l) => l === "w").length;
      if (winnerByDiscs(board) !== (b > w ? BLACK : w > b ? WHITE : DRAW)) disagreements.push(`game ${game}: winner`);
    }
    expect(disagreements).toEqual([]);
    // The games went deep enough to mean something, passes among them.
    expect(positions).toBeGreaterThan(200 * 50);
    expect(passes).toBeGreaterThan(0);
  });

  it("pass a colour with no legal move: the same colour moves again", () => {
    // White (0,0), black (1,0): black has no white run to close, white can close black's at (2,0).
    const board = new Array<number>(64).fill(EMPTY);
    board[indexOf(0, 0)] = WHITE;
    board[indexOf(1, 0)] = BLACK;
    expect(legalMoves(board, BLACK)).toEqual([]);
    expect(legalMoves(board, WHITE).map(asXY)).toEqual(["2,0"]);
    expect(nextTurn(board, WHITE)).toBe(WHITE);
    expect(nextTurn(board, BLACK)).toBe(WHITE);
    play(board, WHITE, 2, 0);
    expect(nextTurn(board, WHITE)).toBe(0);
  });

  it("end the game on a full board, by disc count, with 3 for a draw", () => {
    const full = Array.from({ length: 64 }, (_, i) => (i < 40 ? BLACK : WHITE));
    expect(nextTurn(full, BLACK)).toBe(0);
    expect(nextTurn(full, WHITE)).toBe(0);
    expect(winnerByDiscs(full)).toBe(BLACK);
    const level = Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? BLACK : WHITE));
    expect(nextTurn(level, WHITE)).toBe(0);
    expect(winnerByDiscs(level)).toBe(DRAW);
    expect(winnerByDiscs(Array.from({ length: 64 }, (_, i) => (i < 20 ? BLACK : WHITE)))).toBe(WHITE);
  });

  it("end the game at a wipe-out: the shortest game, nine moves, leaves white no disc", () => {
    const { board, turn } = playGame("e6 f4 e3 f6 g5 d6 e7 f5 c5");
    expect(countDiscs(board)).toEqual({ black: 13, white: 0 });
    expect(turn).toBe(0);
    expect(winnerByDiscs(board)).toBe(BLACK);
  });

  it("pick a random legal move, and none when there is none", () => {
    const board = initialBoard();
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const move = randomLegalMove(board, BLACK)!;
      expect(flipsFor(board, BLACK, move.x, move.y).length).toBeGreaterThan(0);
      seen.add(`${move.x},${move.y}`);
    }
    expect(seen.size).toBe(4);
    expect(randomLegalMove(new Array<number>(64).fill(BLACK), WHITE)).toBeUndefined();
  });
});
