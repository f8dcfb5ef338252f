/**
 * Reversi's public contract beyond its schema: the room name, the one message a player sends, the
 * error codes it may be answered with, and the check every move's payload goes through.
 * docs/protocol.md ("Reversi") is the prose version of this file.
 */
import { ErrorCode } from "../protocol.ts";
import { BOARD_SIZE } from "./rules.ts";

export const REVERSI_ROOM_NAME = "reversi";
export const REVERSI_PLAYERS = 2;
/** Each player's time for the whole game unless REVERSI_CLOCK_MS says otherwise. */
export const DEFAULT_REVERSI_CLOCK_MS = 300_000;
/** The message a player sends to play a disc: `room.send(MOVE_MESSAGE, { x, y })`. */
export const MOVE_MESSAGE = "move";
/**
 * Frames a client may send a second on average, pings included: its connection's frame budget
 * (docs/protocol.md, "Frames"), tighter than the arena's, which must carry an input every tick.
 * A person clicks a few times a second at most: the budget only stops a client that floods.
 */
export const REVERSI_MAX_FRAMES_PER_SECOND = 20;

/** Errors sent with `client.error(code, message)` to the sender of a refused message; nothing changed, the connection stays open. */
export const ReversiErrorCode = {
  /** The payload is not `{ x, y }` with whole numbers from 0 to 7. */
  MALFORMED_MOVE: 4400,
  /** A well-formed move from the colour that is not to move. */
  NOT_YOUR_TURN: 4403,
  /** The square is taken, or the disc would turn no other. */
  ILLEGAL_SQUARE: 4406,
  /** The game has not started (one player is waiting for another) or is over. */
  GAME_NOT_RUNNING: 4409,
  /** A message type other than `move`; the arena's code for the same thing. */
  UNKNOWN_MESSAGE: ErrorCode.UNKNOWN_MESSAGE,
} as const;
export type ReversiErrorCode = (typeof ReversiErrorCode)[keyof typeof ReversiErrorCode];

export interface Move {
  readonly x: number;
  readonly y: number;
}

const isCoordinate = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v < BOARD_SIZE;

/** Checks a `move` payload: an object whose `x` and `y` are whole numbers from 0 to 7; other keys are ignored. */
export function parseMove(raw: unknown): { ok: true; value: Move } | { ok: false; error: string } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { ok: false, error: "a move must be an object like { x: 2, y: 3 }" };
  }
  const { x, y } = raw as Record<string, unknown>;
  if (!isCoordinate(x) || !isCoordinate(y)) {
    return { ok: false, error: `x and y must be whole numbers from 0 to ${BOARD_SIZE - 1}` };
  }
  return { ok: true, value: { x, y } };
}
