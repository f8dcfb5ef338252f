/**
 * What a client must know beyond the schemas: join options, the statuses a join is refused with,
 * the warnings a room sends (`room.onError`) and the close codes it disconnects with
 * (`room.onLeave`); Reversi's own are in shared/reversi/protocol.ts. docs/protocol.md is the prose
 * version of these files, with every code in one table ("Codes").
 */
import { NAME_MAX_LENGTH } from "./constants.ts";

export interface JoinOptions {
  name: string;
}

/** Warnings sent with `client.error(code, message)`: the connection stays open. */
export const ErrorCode = {
  /** An input's x or y was non-finite or outside [-1, 1]; it was clamped. */
  INVALID_INPUT: 4422,
  /** More inputs than the tick rate allows arrived; the excess was dropped. */
  INPUT_FLOOD: 4429,
  /** A message type the room does not handle; it was ignored. */
  UNKNOWN_MESSAGE: 4404,
  /**
   * The connection sent more websocket frames (of any kind, pings included) than its budget
   * allows; the excess was dropped unprocessed. Kept up for a second, it is closed with this code.
   */
  FRAME_FLOOD: 4430,
} as const;

/**
 * Close codes for a client that kept abusing after warnings; the same numbers as the warnings
 * they escalate. Colyseus's own codes (4000 to 4010) and WebSocket's 1008 (a message split into
 * too many frames) and 1009 (frame too large) keep their usual meaning.
 */
export const CloseCode = {
  KICKED_INVALID_INPUT: ErrorCode.INVALID_INPUT,
  KICKED_INPUT_FLOOD: ErrorCode.INPUT_FLOOD,
  KICKED_UNKNOWN_MESSAGES: ErrorCode.UNKNOWN_MESSAGE,
  /** Stayed over the frame budget for a second after the FRAME_FLOOD warning. */
  FRAME_FLOOD: ErrorCode.FRAME_FLOOD,
  /**
   * A frame no honest SDK sends to this room: a message type the room does not use (unreliable
   * or timed input, and in the arena any `room.send`/`request`), an unknown protocol byte, a text
   * frame, or an input body that is not the room's input schema. Closed at once, without warning.
   * (415 as in HTTP's Unsupported Media Type; 4400 is Reversi's malformed-move warning.)
   */
  PROTOCOL_VIOLATION: 4415,
} as const;

/**
 * The HTTP statuses a join is refused with, in the answer to a matchmaking call (`POST
 * /matchmake/...`, which the SDK raises as `MatchMakeError(message, code)`) or before a websocket
 * upgrade's handshake (which the SDK sees as a dropped socket and retries). Each answer's body is
 * `{ code, error }`. docs/protocol.md ("Codes") says when each comes and what a client does.
 */
export const JoinErrorCode = {
  /** The join options break a rule; the message says which. */
  INVALID_OPTIONS: 400,
  /** A CORS preflight from a page whose origin is not in ALLOWED_ORIGINS. */
  ORIGIN_NOT_ALLOWED: 403,
  /** (gateway) A websocket for a room id that is not a live room, or a path that is no room's socket. */
  NOT_A_ROOM: 404,
  /** The request's headers or body did not arrive within HEADERS_TIMEOUT_MS or REQUEST_TIMEOUT_MS. */
  REQUEST_TIMEOUT: 408,
  /** `create` with a roomId that exists; a websocket reconnect whose seat's player is connected. */
  CONFLICT: 409,
  /** A body over MAX_BODY_BYTES. */
  BODY_TOO_LARGE: 413,
  /** Too many matchmaking calls (wait `Retry-After` seconds) or sockets from one address. */
  TOO_MANY_REQUESTS: 429,
  /** A failure the server did not mean; see INTERNAL_ERROR. */
  INTERNAL_ERROR: 500,
  /** Not now: a limit or a node's state; worth retrying shortly. */
  UNAVAILABLE: 503,
  /** Colyseus's: `joinById` or `reconnect` for a room that does not exist here, or is locked. */
  ROOM_NOT_FOUND: 522,
  /** Colyseus's: a reconnection token that takes no seat (expired, unknown, or its player is connected). */
  RECONNECT_REFUSED: 524,
} as const;

/**
 * What a client is told of a failure the server did not mean (a bug, a Redis error): in the
 * matchmaking HTTP answer (status and `code`) and in a websocket ERROR frame. The details go to
 * the server's log only.
 */
export const INTERNAL_ERROR = { code: JoinErrorCode.INTERNAL_ERROR, message: "internal error" } as const;

/** Largest websocket frame a client may send; a larger one closes its socket with 1009. */
export const MAX_MESSAGE_BYTES = 2048;

/**
 * A node's public websocket address: in its PUBLIC_URL, in the node record the gateway reads it
 * from, and in the gateway's answer to a client that follows its room, which checks it again.
 */
export const PUBLIC_URL_PATTERN = /^wss?:\/\/[^/\s?#@]+$/;

const ROOM_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Checks the optional `roomId` create option: a client may name the room it creates (to share the
 * name with friends); ids are unique across the cluster, so a second create with it is refused.
 */
export function parseRoomIdOption(raw: unknown): { ok: true; value: string | undefined } | { ok: false; error: string } {
  const roomId = raw !== null && typeof raw === "object" ? (raw as Record<string, unknown>).roomId : undefined;
  if (roomId === undefined) return { ok: true, value: undefined };
  if (typeof roomId !== "string" || !ROOM_ID.test(roomId)) {
    return { ok: false, error: "roomId must be 1 to 32 of A-Z a-z 0-9 _ -" };
  }
  return { ok: true, value: roomId };
}

// Letters, marks, numbers, punctuation, symbols and the plain space: no control or format characters.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]+$/u;

/** Checks join options; returns the clean options or a message saying what is wrong. */
export function parseJoinOptions(raw: unknown): { ok: true; value: JoinOptions } | { ok: false; error: string } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { ok: false, error: "join options must be an object like { name: \"Ada\" }" };
  }
  const name = (raw as Record<string, unknown>).name;
  if (typeof name !== "string") return { ok: false, error: "name is required and must be a string" };
  const trimmed = name.trim();
  const length = [...trimmed].length;
  if (length < 1 || length > NAME_MAX_LENGTH || !PRINTABLE.test(trimmed)) {
    return { ok: false, error: `name must be 1 to ${NAME_MAX_LENGTH} printable characters` };
  }
  return { ok: true, value: { name: trimmed } };
}
