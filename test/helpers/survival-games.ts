/**
 * The games the survival tests run, each as a match of two players through a cluster's gateway:
 * how to keep it changing, how to let what the players saw become durable, and what of it must
 * be the same after the room went down on one node and came back on another. The tests
 * themselves (test/durable-games.test.ts) are written once for every game.
 */
import type { Room } from "@colyseus/sdk";
import { expect } from "vitest";
import { type ArenaSession, joinArena, joinReversi } from "../../client/lib/node.ts";
import { waitFor } from "../../loadtest/processes.ts";
import { clockAt, ReversiBot } from "../../loadtest/reversi-bot.ts";
import { BLACK, WHITE } from "../../shared/reversi/rules.ts";

/** How far a clock may be from its value when the room went down, once the room is back (issue 10). */
export const CLOCK_TOLERANCE_MS = 250;

export interface Match {
  readonly roomId: string;
  /** Each player's SDK Room: a room that moves keeps these same objects. */
  readonly rooms: readonly Room<any, any>[];
  /** The node each player last had state from. */
  nodeIds(): string[];
  /** Every node each player had state from, in order. */
  nodesSeen(): string[][];
  /** Keeps the game changing: players move. */
  play(): void;
  /** Waits until what the players have seen is in a checkpoint (a tick game's players stop for it). */
  settle(): Promise<void>;
  /** Starts a new window: what the players see from now on is compared across the coming move. */
  mark(): void;
  /**
   * Asserts that the room came back from `from` with nothing the players saw lost: after a crash or
   * a takeover as of the last checkpoint, which `settle` made their last view; after a drain
   * exactly where it froze. `downAt` is performance.now() when the room stopped on `from`.
   */
  expectCarriedOver(from: string, downAt: number, how: "crash" | "drain"): void;
  /** Waits until the game has changed again on the node it is on now. */
  goesOn(): Promise<void>;
  leave(): Promise<void>;
}

export interface SurvivalGame {
  readonly name: string;
  /** Node settings the game's cluster runs with. */
  readonly env: Record<string, string>;
  /** Two players in one new room through `url`, both with state. */
  start(url: string): Promise<Match>;
}

function nodeTrail(room: Room<any, any>): string[] {
  const trail: string[] = [];
  room.onStateChange((state: { nodeId: string }) => {
    if (state.nodeId && trail.at(-1) !== state.nodeId) trail.push(state.nodeId);
  });
  return trail;
}

/** The last frame from `from` and the first from another node, of one player's window. */
function aroundMove<F extends { nodeId: string }>(frames: readonly F[], from: string): { before: F; after: F } {
  const before = frames.findLast((f) => f.nodeId === from);
  const after = frames.find((f) => f.nodeId !== from);
  if (!before || !after) throw new Error(`no frames on both sides of the move from ${from}: ${frames.map((f) => f.nodeId).join(",")}`);
  return { before, after };
}

interface ArenaFrame {
  readonly nodeId: string;
  readonly tick: number;
  readonly players: Record<string, { x: number; y: number; score: number }>;
}

const arena: SurvivalGame = {
  name: "arena",
  env: {},
  async start(url) {
    const ada = await joinArena({ url, name: "Ada" });
    const bob = await joinArena({ url, name: "Bob", roomId: ada.room.roomId });
    const sessions: ArenaSession[] = [ada, bob];
    const trails = sessions.map((s) => nodeTrail(s.room));
    const windows: ArenaFrame[][] = sessions.map(() => []);
    sessions.forEach((s, i) =>
      s.room.onStateChange((state) => {
        const players: ArenaFrame["players"] = {};
        state.players.forEach((p, id) => (players[id] = { x: p.x, y: p.y, score: p.score }));
        windows[i]!.push({ nodeId: state.nodeId, tick: state.tick, players });
      }),
    );
    await waitFor(() => sessions.every((s) => s.state?.players?.size === 2), 5000, () => "both arena players in both states");
    let drift: ReturnType<typeof setInterval> | undefined;
    return {
      roomId: ada.room.roomId,
      rooms: sessions.map((s) => s.room),
      nodeIds: () => sessions.map((s) => s.state.nodeId),
      nodesSeen: () => trails,
      play() {
        for (const s of sessions) s.run();
        drift = setInterval(() => {
          for (const s of sessions) {
            s.stick.x = Math.random() * 2 - 1;
            s.stick.y = Math.random() * 2 - 1;
          }
        }, 250);
      },
      async settle() {
        clearInterval(drift);
        for (const s of sessions) s.stick.x = s.stick.y = 0;
        await waitFor(() => sessions.every((s) => s.me!.vx === 0 && s.me!.vy === 0), 5000, () => "both at rest");
        // At rest, the next checkpoint (every CHECKPOINT_MS, 1000 ms by default, taken at one of ten slices) holds them where they stand.
        await new Promise((r) => setTimeout(r, 2500));
      },
      mark() {
        for (const w of windows) w.splice(0, w.length - 1);
      },
      expectCarriedOver(from, _downAt, how) {
        for (const w of windows) {
          const { before, after } = aroundMove(w, from);
          // A drain resumes at the tick it froze at; a rebuilt room at its checkpoint's, taken with the players at rest.
          if (how === "drain") expect(after.tick).toBe(before.tick);
          for (const [id, p] of Object.entries(before.players)) {
            expect(after.players[id]!.x).toBeCloseTo(p.x, 3);
            expect(after.players[id]!.y).toBeCloseTo(p.y, 3);
            expect(after.players[id]!.score).toBe(p.score);
          }
        }
      },
      async goesOn() {
        const ticks = sessions.map((s) => s.state.tick);
        await waitFor(() => sessions.every((s, i) => s.state.tick > ticks[i]! + 5), 5000, () => "the arena ticking again");
      },
      async leave() {
        clearInterval(drift);
        await Promise.all(sessions.map((s) => s.leave().catch(() => undefined)));
      },
    };
  },
};

/** Turns come quickly, so a crash often falls on a move, and a game still lasts some ten seconds. */
const REVERSI_THINK_MS = 150;

const reversi: SurvivalGame = {
  name: "reversi",
  // Long enough that no flag falls during a test.
  env: { REVERSI_CLOCK_MS: "600000" },
  async start(url) {
    const black = await joinReversi({ url, name: "Ada" });
    const white = await joinReversi({ url, name: "Bob", roomId: black.room.roomId });
    const bots = [black, white].map((s) => new ReversiBot(s, REVERSI_THINK_MS));
    const trails = bots.map((b) => nodeTrail(b.session.room));
    await waitFor(() => bots.every((b) => b.session.state?.turn === BLACK), 5000, () => "the game started in both views");
    return {
      roomId: black.room.roomId,
      rooms: bots.map((b) => b.session.room),
      nodeIds: () => bots.map((b) => b.session.state!.nodeId),
      nodesSeen: () => trails,
      play: () => bots.forEach((b) => b.play()),
      async settle() {
        // Every move and clock update is checkpointed before anyone sees it: the bots play on.
      },
      mark: () => bots.forEach((b) => b.clearFrames()),
      expectCarriedOver(from, downAt) {
        for (const b of bots) {
          expect([...b.lost]).toEqual([]);
          expect(b.badBoards).toBe(0);
          const { before, after } = aroundMove(b.frames, from);
          expect(after.discs).toBeGreaterThanOrEqual(before.discs);
          for (const color of [BLACK, WHITE] as const) {
            expect(Math.abs(after.clockMs[color] - clockAt(before, color, downAt))).toBeLessThanOrEqual(CLOCK_TOLERANCE_MS);
          }
        }
      },
      async goesOn() {
        const discs = bots[0]!.last!.discs;
        await waitFor(() => bots.every((b) => b.last!.discs > discs + 2 || b.last!.winner !== 0), 10_000, () => `moves played on the new node: ${bots.map((b) => JSON.stringify(b.last)).join(" ")}`);
      },
      async leave() {
        for (const b of bots) b.stop();
        await Promise.all(bots.map((b) => b.session.leave().catch(() => undefined)));
      },
    };
  },
};

/** Every game on the durable-room layer. */
export const SURVIVAL_GAMES: readonly SurvivalGame[] = [arena, reversi];
