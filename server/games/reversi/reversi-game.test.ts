import { describe, expect, it } from "vitest";
import { randomLegalMove } from "../../../shared/reversi/pick-move.ts";
import { ReversiErrorCode } from "../../../shared/reversi/protocol.ts";
import { BLACK, type Color, countDiscs, EMPTY, indexOf, initialBoard, WHITE, winnerByDiscs } from "../../../shared/reversi/rules.ts";
import { ReversiState } from "../../../shared/reversi/schema.ts";
import { type GameEndReason, ReversiGame } from "./reversi-game.ts";
import { parseReversiSnapshot, type ReversiSnapshot, SnapshotError } from "./reversi-snapshot.ts";

/** A game on a hand-driven room clock, with its start and end recorded. */
function newGame(clockMs = 10_000, snapshot?: ReversiSnapshot, at = 0) {
  const time = { now: at };
  const events: string[] = [];
  const game = new ReversiGame(
    new ReversiState(),
    {
      clockMs,
      now: () => time.now,
      onStart: () => events.push("start"),
      onEnd: (winner: number, reason: GameEndReason) => events.push(`end ${winner} ${reason}`),
    },
    snapshot,
  );
  return { game, time, events, state: game.state };
}

function seated(clockMs = 10_000) {
  const g = newGame(clockMs);
  g.game.seat("a", "Ada");
  g.game.seat("b", "Bob");
  return g;
}

const clockOf = (state: ReversiState, sessionId: string) => state.players.get(sessionId)!.clockMs;

describe("reversi game", () => {
  it("seats black then white and starts once both are there", () => {
    const { game, state, events } = newGame();
    expect(Array.from(state.board)).toEqual(initialBoard());
    expect(game.seat("a", "Ada")).toBe(BLACK);
    expect(state.turn).toBe(0);
    expect(game.move("a", { x: 3, y: 2 })).toMatchObject({ ok: false, code: ReversiErrorCode.GAME_NOT_RUNNING });
    expect(game.seat("b", "Bob")).toBe(WHITE);
    expect(game.seat("c", "Cy")).toBeUndefined();
    expect(state.turn).toBe(BLACK);
    expect(state.winner).toBe(0);
    expect(state.players.get("b")).toMatchObject({ name: "Bob", color: WHITE, clockMs: 10_000 });
    expect(events).toEqual(["start"]);
  });

  it("frees the colour of a player who leaves before the game starts", () => {
    const { game, state } = newGame();
    game.seat("a", "Ada");
    game.leave("a");
    expect(state.players.size).toBe(0);
    expect(game.seat("b", "Bob")).toBe(BLACK);
  });

  it("refuses moves out of turn and on illegal squares, changing nothing", () => {
    const { game, state } = seated();
    const before = JSON.stringify(state.toJSON());
    expect(game.move("b", { x: 2, y: 4 })).toMatchObject({ ok: false, code: ReversiErrorCode.NOT_YOUR_TURN, message: "it is black's turn" });
    expect(game.move("a", { x: 0, y: 0 })).toMatchObject({ ok: false, code: ReversiErrorCode.ILLEGAL_SQUARE, message: "(0, 0) turns no disc" });
    expect(game.move("a", { x: 3, y: 3 })).toMatchObject({ ok: false, code: ReversiErrorCode.ILLEGAL_SQUARE, message: "(3, 3) is taken" });
    expect(game.move("nobody", { x: 3, y: 2 })).toMatchObject({ ok: false, code: ReversiErrorCode.NOT_YOUR_TURN });
    expect(JSON.stringify(state.toJSON())).toBe(before);
  });

  it("plays a move, flips, hands the turn over and charges the mover's clock only", () => {
    const { game, state, time } = seated();
    time.now = 1500;
    expect(game.move("a", { x: 3, y: 2 })).toEqual({ ok: true });
    expect(state.board[indexOf(3, 2)]).toBe(BLACK);
    expect(state.board[indexOf(3, 3)]).toBe(BLACK);
    expect(countDiscs(state.board)).toEqual({ black: 4, white: 1 });
    expect(state.turn).toBe(WHITE);
    expect(clockOf(state, "a")).toBe(8500);
    expect(clockOf(state, "b")).toBe(10_000);
    time.now = 2250;
    game.update();
    expect(clockOf(state, "a")).toBe(8500);
    expect(clockOf(state, "b")).toBe(9250);
  });

  it("counts the clock to move down on every update, between moves", () => {
    const { game, state, time } = seated();
    const seen: number[] = [];
    for (time.now = 0; time.now <= 1000; time.now += 100) {
      game.update();
      seen.push(clockOf(state, "a"));
    }
    expect(seen).toEqual([10_000, 9900, 9800, 9700, 9600, 9500, 9400, 9300, 9200, 9100, 9000]);
  });

  it("ends the game on time: the flag falls on update, and a late move is refused", () => {
    const { game, state, time, events } = seated(1000);
    time.now = 999;
    game.update();
    expect(state.turn).toBe(BLACK);
    time.now = 1000;
    game.update();
    expect(state.turn).toBe(0);
    expect(state.winner).toBe(WHITE);
    expect(clockOf(state, "a")).toBe(0);
    expect(clockOf(state, "b")).toBe(1000);
    expect(events).toEqual(["start", "end 2 time"]);

    const late = seated(1000);
    late.time.now = 1200;
    expect(late.game.move("a", { x: 3, y: 2 })).toMatchObject({ ok: false, code: ReversiErrorCode.GAME_NOT_RUNNING, message: "the game is over" });
    expect(late.state.winner).toBe(WHITE);
    expect(late.state.board[indexOf(3, 2)]).toBe(EMPTY);
  });

  it("gives the game to the other colour when a player leaves for good mid-game, and keeps both on the record", () => {
    const { game, state, time, events } = seated();
    time.now = 400;
    game.move("a", { x: 3, y: 2 });
    time.now = 1000;
    game.leave("b");
    expect(state.winner).toBe(BLACK);
    expect(state.turn).toBe(0);
    expect(clockOf(state, "b")).toBe(9400);
    expect(state.players.size).toBe(2);
    game.leave("a");
    expect(state.winner).toBe(BLACK);
    expect(state.players.size).toBe(2);
    expect(events).toEqual(["start", "end 1 forfeit"]);
  });

  it("passes a colour with no move automatically, and ends when neither can move", () => {
    // Two separate fights on rows 0 and 7, each white-black-empty, white to move.
    const board = new Array<number>(64).fill(EMPTY);
    for (const y of [0, 7]) {
      board[indexOf(0, y)] = WHITE;
      board[indexOf(1, y)] = BLACK;
    }
    const snapshot: ReversiSnapshot = {
      version: 2,
      board,
      turn: WHITE,
      winner: 0,
      players: { a: { name: "Ada", color: BLACK, clockMs: 5000 }, b: { name: "Bob", color: WHITE, clockMs: 5000 } },
      clocks: { black: 5000, white: 5000, since: 0 },
      at: 0,
    };
    const { game, state, events, time } = newGame(10_000, snapshot);
    time.now = 300;
    expect(game.move("b", { x: 2, y: 0 })).toEqual({ ok: true });
    // Black's only disc left sits at (1,7) with white behind it at the edge: black cannot move, white can.
    expect(state.turn).toBe(WHITE);
    expect(clockOf(state, "b")).toBe(4700);
    expect(game.move("a", { x: 2, y: 7 })).toMatchObject({ ok: false, code: ReversiErrorCode.NOT_YOUR_TURN });
    time.now = 500;
    game.update();
    expect(clockOf(state, "b")).toBe(4500);
    expect(game.move("b", { x: 2, y: 7 })).toEqual({ ok: true });
    expect(countDiscs(state.board)).toEqual({ black: 0, white: 6 });
    expect(state.turn).toBe(0);
    expect(state.winner).toBe(WHITE);
    expect(events).toEqual(["end 2 discs"]);
  });

  it("ends at a wipe-out with the winner by discs", () => {
    const { game, state, events } = seated();
    const moves = "e6 f4 e3 f6 g5 d6 e7 f5 c5".split(" ");
    moves.forEach((m, i) => {
      expect(game.move(i % 2 === 0 ? "a" : "b", { x: m.charCodeAt(0) - 97, y: Number(m[1]) - 1 })).toEqual({ ok: true });
    });
    expect(countDiscs(state.board)).toEqual({ black: 13, white: 0 });
    expect(state.turn).toBe(0);
    expect(state.winner).toBe(BLACK);
    expect(events).toEqual(["start", "end 1 discs"]);
    expect(game.move("b", { x: 0, y: 0 })).toMatchObject({ ok: false, code: ReversiErrorCode.GAME_NOT_RUNNING });
  });

  it("plays whole random games to a result that matches the board", () => {
    for (let n = 0; n < 20; n++) {
      const { game, state, time } = seated(600_000);
      const who: Record<number, string> = { [BLACK]: "a", [WHITE]: "b" };
      while (state.turn !== 0) {
        time.now += 37;
        const move = randomLegalMove(state.board, state.turn as Color)!;
        expect(game.move(who[state.turn]!, move)).toEqual({ ok: true });
      }
      expect(state.winner).toBe(winnerByDiscs(state.board));
      expect(clockOf(state, "a") + clockOf(state, "b")).toBe(2 * 600_000 - time.now);
    }
  });

  it("carries on identically after a snapshot taken mid-turn is restored elsewhere", () => {
    const original = seated(5000);
    const who: Record<number, string> = { [BLACK]: "a", [WHITE]: "b" };
    // A dozen moves in, then halfway through white's or black's thinking time.
    for (let i = 0; i < 12; i++) {
      original.time.now += 130;
      original.game.move(who[original.state.turn]!, randomLegalMove(original.state.board, original.state.turn as Color)!);
    }
    original.time.now += 55;
    original.game.update();
    const snapshot = parseReversiSnapshot(JSON.parse(JSON.stringify(original.game.snapshot())));
    // The restored room resumes at the snapshot's room time, however long it was down.
    const copy = newGame(5000, snapshot, snapshot.at);
    expect(copy.state.toJSON()).toEqual(original.state.toJSON());

    const random = () => 0.42;
    for (let step = 0; original.state.turn !== 0; step++) {
      for (const g of [original, copy]) {
        g.time.now += step % 3 === 0 ? 20 : 90;
        g.game.update();
        if (step % 2 === 0 && g.state.turn !== 0) g.game.move(who[g.state.turn]!, randomLegalMove(g.state.board, g.state.turn as Color, random)!);
        // A bad move on the way must change nothing in either.
        g.game.move("nobody", { x: 0, y: 0 });
      }
      expect(copy.state.toJSON()).toEqual(original.state.toJSON());
      expect(copy.game.snapshot()).toEqual(original.game.snapshot());
    }
    expect(copy.state.winner).not.toBe(0);
    expect(copy.events).toEqual(original.events.slice(1));
  });

  it("refuses a damaged snapshot with a reason", () => {
    const good = seated().game.snapshot();
    const bad: [string, unknown][] = [
      ["a string", "{}"],
      ["another version", { ...good, version: 3 }],
      ["a time before its turn began", { ...good, clocks: { ...good.clocks, since: 10 }, at: 5 }],
      ["a short board", { ...good, board: good.board.slice(1) }],
      ["a disc of colour 5", { ...good, board: [5, ...good.board.slice(1)] }],
      ["a turn and a winner", { ...good, winner: 1 }],
      ["two blacks", { ...good, players: { a: good.players.a, b: { ...good.players.b, color: BLACK } } }],
      ["a negative clock", { ...good, clocks: { ...good.clocks, white: -1 } }],
      ["a clock that is not a number", { ...good, clocks: { ...good.clocks, since: "0" } }],
    ];
    for (const [what, data] of bad) expect(() => parseReversiSnapshot(data), what).toThrow(SnapshotError);
    expect(parseReversiSnapshot(good)).toEqual(good);
  });

  it("reads a version 1 snapshot as taken at the start of its turn", () => {
    const { game, time } = seated();
    time.now = 700;
    game.move("a", { x: 2, y: 3 });
    time.now = 900;
    const { at: _at, ...v1 } = { ...game.snapshot(), version: 1 };
    expect(parseReversiSnapshot(v1)).toEqual({ ...game.snapshot(), at: 700 });
  });
});
