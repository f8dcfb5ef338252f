/**
 * Reversi over a real node process and real sockets: two headless clients play whole games with
 * legal moves, every kind of bad move is answered with its documented code while the game goes on,
 * and the clocks run down, flag and forfeit as docs/protocol.md says.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { joinReversi, type ReversiSession } from "../client/lib/node.ts";
import { type NodeProcess, startNodeProcess, waitFor } from "../loadtest/processes.ts";
import { randomLegalMove } from "../shared/reversi/pick-move.ts";
import { CloseCode, ErrorCode } from "../shared/protocol.ts";
import { REVERSI_MAX_FRAMES_PER_SECOND, ReversiErrorCode } from "../shared/reversi/protocol.ts";
import { BLACK, type Color, countDiscs, initialBoard, WHITE, winnerByDiscs } from "../shared/reversi/rules.ts";

const sessions: ReversiSession[] = [];

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.leave().catch(() => undefined)));
});

async function join(node: NodeProcess, name: string, roomId?: string): Promise<ReversiSession> {
  const session = await joinReversi({ url: node.url, name, ...(roomId ? { roomId } : {}) });
  sessions.push(session);
  await waitFor(() => session.color !== 0, 5000, () => `${name} seated in its own state`);
  return session;
}

/** Two players in one game, black to move in both views. */
async function pair(node: NodeProcess): Promise<{ black: ReversiSession; white: ReversiSession }> {
  const black = await join(node, "Ada");
  const white = await join(node, "Bob");
  expect(white.room.roomId).toBe(black.room.roomId);
  await waitFor(() => black.state?.turn === BLACK && white.state?.turn === BLACK, 5000, () => "the game started in both views");
  return { black, white };
}

/** Everything the server says to a session: errors and the close code. */
function listen(session: ReversiSession) {
  const heard = { errors: [] as { code: number; message: string }[], leftWith: undefined as number | undefined };
  session.onError((code, message) => heard.errors.push({ code, message }));
  session.room.onLeave((code) => (heard.leftWith = code));
  return heard;
}

describe("reversi over real sockets", () => {
  let node: NodeProcess;

  beforeAll(async () => {
    node = await startNodeProcess({ REVERSI_CLOCK_MS: "120000" });
  });

  afterAll(async () => {
    await node?.stop();
  });

  it("answers every bad move with its code, changes nothing, then two clients play a whole game with legal moves", async () => {
    const black = await join(node, "Ada");
    const heardBlack = listen(black);
    expect(black.color).toBe(BLACK);
    black.move(3, 2);
    await waitFor(() => heardBlack.errors.length === 1, 3000, () => "an answer to a move before the game");
    expect(heardBlack.errors[0]).toEqual({ code: ReversiErrorCode.GAME_NOT_RUNNING, message: "the game has not started: waiting for a second player" });

    const white = await join(node, "Bob");
    const heardWhite = listen(white);
    expect(white.room.roomId).toBe(black.room.roomId);
    expect(white.color).toBe(WHITE);
    await waitFor(() => black.state?.turn === BLACK && white.state?.turn === BLACK, 5000, () => "the game started in both views");
    expect(black.state!.players.get(white.sessionId)!.name).toBe("Bob");

    white.move(2, 4);
    await waitFor(() => heardWhite.errors.length === 1, 3000, () => "an answer to white's move out of turn");
    expect(heardWhite.errors[0]!.code).toBe(ReversiErrorCode.NOT_YOUR_TURN);

    const bad: [string, () => void, number][] = [
      ["a square that turns nothing", () => black.move(0, 0), ReversiErrorCode.ILLEGAL_SQUARE],
      ["a taken square", () => black.move(3, 3), ReversiErrorCode.ILLEGAL_SQUARE],
      ["a string coordinate", () => black.room.send("move", { x: "3", y: 2 }), ReversiErrorCode.MALFORMED_MOVE],
      ["a square off the board", () => black.move(8, 0), ReversiErrorCode.MALFORMED_MOVE],
      ["a fraction", () => black.move(2.5, 3), ReversiErrorCode.MALFORMED_MOVE],
      ["no payload", () => black.room.send("move"), ReversiErrorCode.MALFORMED_MOVE],
      ["an array", () => black.room.send("move", [3, 2]), ReversiErrorCode.MALFORMED_MOVE],
      ["an unknown message type", () => black.room.send("chat", "hello"), ReversiErrorCode.UNKNOWN_MESSAGE],
    ];
    for (const [what, send, code] of bad) {
      const before = heardBlack.errors.length;
      send();
      await waitFor(() => heardBlack.errors.length === before + 1, 3000, () => `an answer to ${what}`);
      expect(heardBlack.errors.at(-1)!.code, what).toBe(code);
    }
    expect(black.board()).toEqual(initialBoard());
    expect(white.board()).toEqual(initialBoard());
    expect(black.state!.turn).toBe(BLACK);

    // A third player is matched into a game of its own: this one has its two.
    const third = await join(node, "Cy");
    expect(third.room.roomId).not.toBe(black.room.roomId);
    await third.leave();

    const errorsBefore = heardBlack.errors.length + heardWhite.errors.length;
    let moves = 0;
    while (black.state!.winner === 0) {
      await waitFor(() => black.myTurn || white.myTurn || black.state!.winner !== 0, 5000, () => `someone to move after ${moves} moves`);
      const mover = black.myTurn ? black : white.myTurn ? white : undefined;
      if (!mover) continue;
      const move = randomLegalMove(mover.board(), mover.color as Color)!;
      mover.move(move.x, move.y);
      await waitFor(() => mover.board()[move.y * 8 + move.x] === mover.color, 5000, () => `move ${moves + 1} in the mover's view`);
      moves++;
    }
    await waitFor(() => white.state!.winner !== 0, 5000, () => "the result in white's view");
    expect(heardBlack.errors.length + heardWhite.errors.length).toBe(errorsBefore);
    const board = black.board();
    expect(white.board()).toEqual(board);
    const { black: b, white: w } = countDiscs(board);
    expect(b + w).toBe(4 + moves);
    expect(moves).toBeGreaterThan(10);
    expect(black.state!.winner).toBe(winnerByDiscs(board));
    expect(black.state!.turn).toBe(0);
    for (const p of [black.me!, white.me!]) expect(p.clockMs).toBeGreaterThan(0);

    // The finished game stays, with both players in it, and takes no more moves.
    const answered = heardBlack.errors.length;
    black.move(0, 0);
    await waitFor(() => heardBlack.errors.length === answered + 1, 3000, () => "an answer to a move after the end");
    expect(heardBlack.errors.at(-1)).toEqual({ code: ReversiErrorCode.GAME_NOT_RUNNING, message: "the game is over" });
    expect(black.room.connection.isOpen && white.room.connection.isOpen).toBe(true);
    expect(white.state!.players.size).toBe(2);
  });
});

describe("reversi clocks and departures", () => {
  let node: NodeProcess;

  beforeAll(async () => {
    node = await startNodeProcess({ REVERSI_CLOCK_MS: "4000", SEAT_HOLD_SECONDS: "1" });
  });

  afterAll(async () => {
    await node?.stop();
  });

  it("counts the clock to move down between moves and ends the game when it runs out", async () => {
    const { black, white } = await pair(node);
    const seen = new Set<number>();
    await waitFor(() => {
      seen.add(white.state!.players.get(black.sessionId)!.clockMs);
      return white.state!.winner !== 0;
    }, 8000, () => "black's flag to fall");
    expect(white.state!.winner).toBe(WHITE);
    expect(white.state!.turn).toBe(0);
    expect(white.state!.players.get(black.sessionId)!.clockMs).toBe(0);
    expect(white.me!.clockMs).toBe(4000);
    // Shown at the clock's own pace, not only at moves: many values on the way down.
    expect([...seen].filter((ms) => ms > 0 && ms < 4000).length).toBeGreaterThan(10);
  });

  it("gives the game to the other player when one leaves mid-game", async () => {
    const { black, white } = await pair(node);
    black.move(3, 2);
    await waitFor(() => white.myTurn, 3000, () => "white to move");
    await white.leave();
    await waitFor(() => black.state!.winner !== 0, 3000, () => "the result after white left");
    expect(black.state!.winner).toBe(BLACK);
    expect(black.state!.players.size).toBe(2);
  });

  it("gives the game to the other player when a dropped player's seat hold expires", async () => {
    const { black, white } = await pair(node);
    black.move(3, 2);
    await waitFor(() => white.myTurn && black.state!.turn === WHITE, 3000, () => "white to move");
    // A close that is not a leave, and an SDK that does not come back: the seat is held for
    // SEAT_HOLD_SECONDS (1 s), then the player is gone for good.
    black.room.reconnection.enabled = false;
    await black.room.leave(false);
    await waitFor(() => white.state!.winner !== 0, 4000, () => "the result after black's seat expired");
    expect(white.state!.winner).toBe(WHITE);
    // White's clock was still running: the game ended on black's absence, not on white's time.
    expect(white.me!.clockMs).toBeGreaterThan(0);
  });

  it("warns a client that floods past its frame budget, closes it with 4430, and its opponent wins", async () => {
    const { black, white } = await pair(node);
    const heard = listen(black);
    // A second's budget at once is taken: a burst of clicks is no flood.
    for (let i = 0; i < REVERSI_MAX_FRAMES_PER_SECOND - 2; i++) black.move(0, 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(heard.errors.map((e) => e.code)).not.toContain(ErrorCode.FRAME_FLOOD);
    expect(heard.leftWith).toBeUndefined();
    const flood = setInterval(() => {
      for (let i = 0; i < REVERSI_MAX_FRAMES_PER_SECOND; i++) black.move(0, 0);
    }, 50);
    try {
      await waitFor(() => heard.leftWith !== undefined, 3000, () => "the flooder closed");
    } finally {
      clearInterval(flood);
    }
    expect(heard.errors.map((e) => e.code)).toContain(ErrorCode.FRAME_FLOOD);
    expect(heard.leftWith).toBe(CloseCode.FRAME_FLOOD);
    await waitFor(() => white.state!.winner !== 0, 3000, () => "the result after the flooder was closed");
    expect(white.state!.winner).toBe(WHITE);
  });
});
