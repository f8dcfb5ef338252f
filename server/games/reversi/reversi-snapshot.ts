/**
 * A Reversi game as plain JSON: the schema state and the exact clocks beside it. The durable-room
 * layer stores it in a checkpoint and hands it back after a crash or a move, possibly from Redis
 * written by an older or a damaged node, so it is checked field by field before a game trusts it.
 */
import { BLACK, SQUARES, WHITE } from "../../../shared/reversi/rules.ts";

/** 2 added `at`; a version 1 snapshot is read as one taken at the start of its turn. */
export const REVERSI_SNAPSHOT_VERSION = 2;

/**
 * Both clocks as they stood at `since` (milliseconds of room time, the start of the current turn),
 * unrounded: the colour to move has used `now - since` of its time since then. The schema's
 * `clockMs` is only this rounded up for display, so it never drifts from it.
 */
export interface ReversiClocks {
  readonly black: number;
  readonly white: number;
  readonly since: number;
}

export interface PlayerSnapshot {
  readonly name: string;
  readonly color: typeof BLACK | typeof WHITE;
  readonly clockMs: number;
}

export interface ReversiSnapshot {
  readonly version: typeof REVERSI_SNAPSHOT_VERSION;
  readonly board: readonly number[];
  readonly turn: number;
  readonly winner: number;
  /** Keyed by sessionId. */
  readonly players: Readonly<Record<string, PlayerSnapshot>>;
  readonly clocks: ReversiClocks;
  /** Room time when it was taken: the rebuilt room's time goes on from here, so the time it was down is charged to nobody. */
  readonly at: number;
}

export class SnapshotError extends Error {
  override name = "SnapshotError";
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isTime = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;
const isOneOf = (v: unknown, values: readonly number[]): boolean => typeof v === "number" && values.includes(v);

/**
 * Checks a snapshot read from outside this process, of this version or version 1 (which it
 * upgrades); throws SnapshotError saying what is wrong.
 */
export function parseReversiSnapshot(data: unknown): ReversiSnapshot {
  if (!isObject(data)) throw new SnapshotError("not an object");
  if (data.version !== REVERSI_SNAPSHOT_VERSION && data.version !== 1) throw new SnapshotError(`version ${JSON.stringify(data.version)} is neither 1 nor ${REVERSI_SNAPSHOT_VERSION}`);
  const { board, turn, winner, players, clocks } = data;
  if (!Array.isArray(board) || board.length !== SQUARES || !board.every((v) => isOneOf(v, [0, BLACK, WHITE]))) {
    throw new SnapshotError(`board is not ${SQUARES} squares of 0, 1 or 2`);
  }
  if (!isOneOf(turn, [0, BLACK, WHITE])) throw new SnapshotError("turn is not 0, 1 or 2");
  if (!isOneOf(winner, [0, BLACK, WHITE, 3])) throw new SnapshotError("winner is not 0, 1, 2 or 3");
  if (turn !== 0 && winner !== 0) throw new SnapshotError("a game with a winner has no turn");
  if (!isObject(players)) throw new SnapshotError("players is not an object");
  const colors = new Set<number>();
  for (const [sessionId, p] of Object.entries(players)) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(sessionId)) throw new SnapshotError("a player's session id is malformed");
    if (!isObject(p) || typeof p.name !== "string" || !isOneOf(p.color, [BLACK, WHITE]) || !(Number.isSafeInteger(p.clockMs) && (p.clockMs as number) >= 0)) {
      throw new SnapshotError(`player ${sessionId} is not { name, color: 1 or 2, clockMs }`);
    }
    if (colors.has(p.color as number)) throw new SnapshotError("two players share a colour");
    colors.add(p.color as number);
  }
  if (turn !== 0 && colors.size !== 2) throw new SnapshotError("a game under way has two players");
  if (!isObject(clocks) || !isTime(clocks.black) || !isTime(clocks.white) || !isTime(clocks.since)) {
    throw new SnapshotError("clocks is not { black, white, since } of times in milliseconds");
  }
  if (data.version === 1) return { ...(data as unknown as Omit<ReversiSnapshot, "version" | "at">), version: REVERSI_SNAPSHOT_VERSION, at: clocks.since };
  if (!isTime(data.at) || data.at < clocks.since) throw new SnapshotError("at is not a time in milliseconds since the turn started");
  return data as unknown as ReversiSnapshot;
}
